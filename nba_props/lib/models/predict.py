"""Per-model predictions for quality-ready players, and quarantine of poisoned model-days.

Row semantics (one row per game_id, player_lookup, model_id; `PREDICTIONS_SCHEMA`):
- `predicted_points`: the model's output clamped to [PREDICTION_MIN, PREDICTION_MAX] (models.yaml);
  every quality-ready row gets one, with or without a line.
- `line`: the chosen line of player_features (NULL without one). Every field below that needs
  a line is NULL without one: edge, direction, p_over, confidence.
- `edge` = |predicted_points - line| (absolute, >= 0); `direction` OVER when the prediction is
  above the line, UNDER when below; an exact tie (edge 0) takes the side of p_over (OVER when
  p_over >= 0.5).
- `p_over`: calibrated P(actual > line) from the family's `Calibration` (in (0, 1)).
- `confidence` = |2 * p_over - 1|: 0 for a coin flip, 1 for certainty, in [0, 1]; NULL without a
  line. It measures how far the calibrated probability is from 50/50, whichever the side.
- `recommendation`: NO_LINE without a line; OVER (UNDER) when edge >= the family's
  edge_threshold (with a 1e-9 tolerance for float noise) and direction OVER with p_over >= 0.5
  (UNDER with p_over <= 0.5); PASS otherwise (small edge, or the calibrated probability
  disagrees with the side of the point prediction).
- `quarantined` / `quarantine_reason`: False / NULL from `predict_rows`; set by
  `apply_quarantine` for the games of poisoned model-days (rows are kept, only marked).

Quarantine is a pre-game decision, so it may only use what was known before each game tipped:
for a game g of a model-day, the poison rule (`poisoned_dates`' thresholds) is evaluated on the
model-day's predictions whose chosen line was captured at or before g's tip (g's own lines
always are: lines are chosen before the tip). A late game's lines, posted after an early game
tipped, cannot quarantine the early game; the late game sees the whole slate posted by then.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import polars as pl

from nba_props.lib.grading import OVER, UNDER
from nba_props.lib.lines import MARKET_DFS, MARKET_SPORTSBOOK
from nba_props.lib.models.calibration import Calibration
from nba_props.lib.models.registry import QuarantineConfig, load_models_config

PREDICTIONS_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "model_id": pl.Utf8,
        "family": pl.Utf8,
        "predicted_points": pl.Float64,
        "line": pl.Float64,
        "market_type": pl.Utf8,  # sportsbook | dfs, copied from the feature row (NULL without a line)
        "edge": pl.Float64,
        "direction": pl.Utf8,
        "p_over": pl.Float64,
        "confidence": pl.Float64,
        "recommendation": pl.Utf8,
        "quarantined": pl.Boolean,
        "quarantine_reason": pl.Utf8,
    }
)
PREDICTIONS_KEY = ("game_id", "player_lookup", "model_id")
PREDICTIONS_DOC = {  # the column schema the UI shows (the module doc has the full semantics)
    "game_date": "Game date (America/New_York): the partition key.",
    "game_id": "Canonical game id YYYYMMDD_AWAY_HOME.",
    "player_lookup": "Normalized player name.",
    "model_id": "The registry model that predicted the row (its week's model of the family).",
    "family": "The model family (config/models.yaml).",
    "predicted_points": "The model's points prediction, clamped to the configured range.",
    "line": "The chosen line of player_features; NULL without one (so are edge, direction, p_over, confidence).",
    "market_type": "sportsbook or dfs of the line (NULL without one).",
    "edge": "|predicted_points - line|.",
    "direction": "OVER when the prediction is above the line, UNDER below (a tie follows p_over).",
    "p_over": "Calibrated probability that the player scores more than the line.",
    "confidence": "|2 * p_over - 1|: 0 for a coin flip, 1 for certainty.",
    "recommendation": "OVER / UNDER when the edge reaches the family's threshold and p_over agrees; PASS "
    "otherwise; NO_LINE without a line.",
    "quarantined": "True for the games of a poisoned model-day (rows kept, marked, not recommended).",
    "quarantine_reason": "Why the model-day was quarantined; NULL otherwise.",
}

PASS, NO_LINE = "PASS", "NO_LINE"  # the recommendations that are not a side (OVER / UNDER: grading)
DIRECTIONS = (OVER, UNDER)
RECOMMENDATIONS = (OVER, UNDER, PASS, NO_LINE)
LOSSES = ("RMSE", "MAE", "Quantile")
EDGE_TOLERANCE = 1e-9  # float noise, not a rule: an edge equal to the threshold counts

# The rules are config/models.yaml's `predictions` section (loaded once): the clamp, and the
# poisoned model-day thresholds the quarantine functions default to (DESIGN: a model whose
# predictions are >95% one direction). The pipeline passes the section's `basis` too.
_RULES = load_models_config().predictions
PREDICTION_MIN, PREDICTION_MAX = _RULES.min_points, _RULES.max_points

POISON_SCHEMA = pl.Schema({"game_date": pl.Date, "model_id": pl.Utf8, "reason": pl.Utf8})
GAME_POISON_SCHEMA = pl.Schema({"game_date": pl.Date, "model_id": pl.Utf8, "game_id": pl.Utf8, "reason": pl.Utf8})
# Per (game_id, player_lookup), from player_lines: when the chosen line was captured, and the tip.
QUARANTINE_TIMING = ("line_captured_at", "tip_time_utc")
_UTC = pl.Datetime("us", "UTC")
# A lined row with neither a capture time nor a tip counts as known from the start of the day; a
# game without a tip is decided on every row of its model-day (the whole slate, as before).
_START_OF_TIME = datetime(1970, 1, 1, tzinfo=UTC)
_END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)


def _model_feature_names(model: Any) -> list[str] | None:
    for attribute in ("feature_names_", "feature_names"):
        names = getattr(model, attribute, None)
        if names:
            return [str(n) for n in names]
    return None


def _check_model_features(model: Any, feature_names: list[str]) -> None:
    """A model that knows its feature names must agree with the registry's order (a silent
    column shuffle would be a wrong model, not an error). CatBoost's default names for a model
    fitted without names ("0", "1", ...) say nothing and are not checked."""
    names = _model_feature_names(model)
    if names is None or names == [str(i) for i in range(len(names))]:
        return
    if names != list(feature_names):
        raise ValueError(
            f"model feature names differ from the registry's: model {names[:5]}... vs {list(feature_names)[:5]}..."
        )


# A model input that is not a contract feature but derived from another column of the feature row
# (a family's `market_type_feature`): 1.0 when the row's chosen line is a DFS line, 0.0 for a
# sportsbook line. Pre-game: the chosen line's market is known when the line is posted.
MARKET_INPUT = "market_is_dfs"
_MARKET_VALUES = {MARKET_DFS: 1.0, MARKET_SPORTSBOOK: 0.0}
# derived input -> the feature-row column it is computed from
DERIVED_INPUTS = {MARKET_INPUT: "market_type"}


def input_columns(feature_names: Iterable[str]) -> list[str]:
    """The feature-row columns the model inputs `feature_names` read (a derived input reads its
    source column), in order, without repeats."""
    return list(dict.fromkeys(DERIVED_INPUTS.get(name, name) for name in feature_names))


def market_is_dfs(frame: pl.DataFrame, owner: str) -> pl.Series:
    """`MARKET_INPUT` of each row from its `market_type`: dfs 1.0, sportsbook 0.0. A row without
    a market type (no line, or an unknown value) is refused: the family needs one on every row."""
    market = frame.get_column("market_type").cast(pl.Utf8)
    bad = market.is_null() | ~market.is_in(list(_MARKET_VALUES))
    if bad.any():
        values = sorted({str(v) for v in market.filter(bad).unique().to_list()})
        raise ValueError(
            f"{owner} reads the line's market type ({MARKET_INPUT}); {int(bad.sum())} rows have none "
            f"(market_type {', '.join(values)})"
        )
    return market.replace_strict(_MARKET_VALUES, return_dtype=pl.Float64).alias(MARKET_INPUT)


def feature_matrix(frame: pl.DataFrame, feature_names: Iterable[str], owner: str = "model") -> np.ndarray:
    """The model input: `feature_names` in registry order, float64 (NULL -> NaN). The one place
    training and serving build it: a derived input (`MARKET_INPUT`) is computed here from its
    source column, and only here."""
    names = list(feature_names)
    missing = [c for c in input_columns(names) if c not in frame.columns]
    if missing:
        raise KeyError(f"{owner}: features lack columns {missing}")
    derived = [market_is_dfs(frame, owner)] if MARKET_INPUT in names else []
    return frame.with_columns(derived).select(pl.col(names).cast(pl.Float64)).to_numpy().astype(np.float64)


def line_start(frame: pl.DataFrame, owner: str) -> np.ndarray:
    """The start of a `baseline: line` model's trees: each row's line (float64). Every row must
    have one (such a family trains on and serves lined rows only)."""
    line = frame.get_column("line").cast(pl.Float64).fill_nan(None)
    if line.null_count():
        raise ValueError(f"{owner} starts from the line; {line.null_count()} rows have none")
    return line.to_numpy().astype(np.float64)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=PREDICTIONS_SCHEMA)


def predict_rows(
    features: pl.DataFrame,
    model: Any,
    feature_names: list[str],
    calibration: Calibration,
    *,
    model_id: str,
    family_id: str,
    loss: str,
    edge_threshold: float,
    game_dates: Iterable[date] | None = None,
    line_baseline: bool = False,
) -> pl.DataFrame:
    """`PREDICTIONS_SCHEMA` rows for the `is_quality_ready` rows of `features` (restricted to
    `game_dates` when given), sorted by (game_date, game_id, player_lookup).

    `features` needs game_date, game_id, player_lookup, is_quality_ready, line and the columns
    `feature_names` read (`input_columns`; NULL features reach the model as NaN, a derived input
    is built by `feature_matrix`). `loss` is validated and
    documents the family: a Quantile family's deliberate lean is absorbed by its calibration
    (residuals of its own tail), so P(over) stays honest whatever the loss. `line_baseline`: the
    model learned points - line (a `baseline: line` family): its output is added to the row's
    line, and every row must have one."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if not edge_threshold > 0:
        raise ValueError(f"edge_threshold must be > 0, got {edge_threshold}")
    required = ["game_date", "game_id", "player_lookup", "is_quality_ready", "line", *input_columns(feature_names)]
    missing = [c for c in required if c not in features.columns]
    if missing:
        raise KeyError(f"features lack columns {missing}")
    _check_model_features(model, list(feature_names))

    rows = features.filter(pl.col("is_quality_ready").fill_null(False))
    if game_dates is not None:
        rows = rows.filter(pl.col("game_date").is_in(list(game_dates)))
    if rows.height == 0:
        return _empty()
    duplicated = rows.group_by("game_id", "player_lookup").len().filter(pl.col("len") > 1)
    if duplicated.height:
        raise ValueError(f"features have {duplicated.height} duplicated (game_id, player_lookup) keys")

    matrix = feature_matrix(rows, feature_names, f"model {model_id}")
    raw = np.asarray(model.predict(matrix), dtype=np.float64).reshape(-1)
    if raw.size != rows.height:
        raise ValueError(f"model returned {raw.size} predictions for {rows.height} rows")
    if line_baseline:
        raw = raw + line_start(rows, f"model {model_id}")
    if np.isnan(raw).any():
        raise ValueError(f"model {model_id} returned {int(np.isnan(raw).sum())} NaN predictions")
    predicted = np.clip(raw, PREDICTION_MIN, PREDICTION_MAX)
    line = rows.get_column("line").cast(pl.Float64).fill_nan(None).to_numpy().astype(np.float64)
    p_over = calibration.p_over(predicted, line)

    pred_c, line_c, p_c = pl.col("predicted_points"), pl.col("line"), pl.col("p_over")
    edge = pl.col("edge")
    direction = (
        pl.when(line_c.is_null())
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(pred_c > line_c)
        .then(pl.lit(OVER))
        .when(pred_c < line_c)
        .then(pl.lit(UNDER))
        .when(p_c >= 0.5)
        .then(pl.lit(OVER))
        .otherwise(pl.lit(UNDER))
    )
    big_edge = edge >= edge_threshold - EDGE_TOLERANCE
    dir_c = pl.col("direction")
    recommendation = (
        pl.when(line_c.is_null())
        .then(pl.lit(NO_LINE))
        .when(big_edge & (dir_c == OVER) & (p_c >= 0.5))
        .then(pl.lit(OVER))
        .when(big_edge & (dir_c == UNDER) & (p_c <= 0.5))
        .then(pl.lit(UNDER))
        .otherwise(pl.lit(PASS))
    )
    market = pl.col("market_type") if "market_type" in rows.columns else pl.lit(None, dtype=pl.Utf8)
    out = (
        rows.select("game_date", "game_id", "player_lookup", market_type=market)
        .with_columns(
            model_id=pl.lit(model_id, dtype=pl.Utf8),
            family=pl.lit(family_id, dtype=pl.Utf8),
            predicted_points=pl.Series(predicted, dtype=pl.Float64),
            line=pl.Series(line, dtype=pl.Float64, nan_to_null=True),
            p_over=pl.Series(p_over, dtype=pl.Float64, nan_to_null=True),
        )
        .with_columns(edge=(pred_c - line_c).abs(), confidence=(2.0 * p_c - 1.0).abs().clip(0.0, 1.0))
        .with_columns(direction=direction)
        .with_columns(
            recommendation=recommendation,
            quarantined=pl.lit(False),
            quarantine_reason=pl.lit(None, dtype=pl.Utf8),
        )
    )
    return out.select([pl.col(n).cast(t) for n, t in PREDICTIONS_SCHEMA.items()]).sort(
        "game_date", "game_id", "player_lookup"
    )


# ---------------------------------------------------------------------------------------------
# quarantine


def _side_of(basis: str) -> pl.Expr:
    if basis not in ("recommendation", "direction"):
        raise ValueError(f"basis must be 'recommendation' or 'direction', got {basis!r}")
    line = pl.col("line")
    return pl.col(basis) if basis == "recommendation" else pl.when(line.is_not_null()).then(pl.col("direction"))


def _reason(rules: QuarantineConfig, basis: str) -> pl.Expr:
    """The poison reason ("; "-joined, NULL when none) over columns n_over, n_under, n_lined
    and bias (mean predicted - line)."""
    what = "picks" if basis == "recommendation" else "lined predictions"
    n_picks = pl.col("n_over") + pl.col("n_under")
    share = pl.max_horizontal("n_over", "n_under") / n_picks
    side = pl.when(pl.col("n_over") >= pl.col("n_under")).then(pl.lit(OVER)).otherwise(pl.lit(UNDER))
    one_direction = pl.when((n_picks >= rules.min_picks) & (share > rules.max_one_direction)).then(
        pl.format("one_direction: {}% {} of {} " + what, (share * 100).round(1), side, n_picks)
    )
    bias = pl.when((pl.col("n_lined") >= rules.min_lined) & (pl.col("bias").abs() > rules.max_mean_bias)).then(
        pl.format("mean_bias: {} points vs the line over {} rows", pl.col("bias").round(2), pl.col("n_lined"))
    )
    reason = pl.concat_str([one_direction, bias], separator="; ", ignore_nulls=True)
    return pl.when(reason != "").then(reason)


def poisoned_dates(
    predictions: pl.DataFrame,
    *,
    rules: QuarantineConfig | None = None,
    basis: str = "recommendation",
) -> pl.DataFrame:
    """Model-days (game_date, model_id) whose WHOLE slate looks poisoned, with the reason(s)
    ("; "-joined). An after-the-fact view; the quarantine itself uses `poisoned_games` (only
    lines posted before each game's tip). The rule:

    - `one_direction`: at least `min_picks` OVER/UNDER recommendations and more than
      `max_one_direction` of them on one side. With `basis="direction"` the sides counted are
      the `direction` of every row with a line instead (DESIGN's wording: "predictions >95% one
      direction"); use it for families with a deliberate lean (a 0.43-quantile family with a
      4-point edge threshold recommends UNDER only, by design, and would be quarantined daily
      on the recommendation basis);
    - `mean_bias`: at least `min_lined` rows with a line and |mean(predicted_points - line)|
      over them above `max_mean_bias` points (a systematically shifted model).

    `min_lined` (not in the DESIGN numbers) keeps a one-game slate with a handful of lines from
    being quarantined on noise; it defaults to the same 10 as `min_picks`."""
    side_of = _side_of(basis)
    if predictions.height == 0:
        return pl.DataFrame(schema=POISON_SCHEMA)
    pred, line = pl.col("predicted_points"), pl.col("line")
    stats = predictions.group_by("game_date", "model_id").agg(
        n_over=(side_of == OVER).sum(),
        n_under=(side_of == UNDER).sum(),
        n_lined=line.is_not_null().sum(),
        bias=(pred - line).mean(),
    )
    reason = _reason(rules or _RULES.quarantine, basis)
    return (
        stats.with_columns(reason=reason)
        .filter(pl.col("reason").is_not_null())
        .select([pl.col(n).cast(t) for n, t in POISON_SCHEMA.items()])
        .sort("game_date", "model_id")
    )


def _with_timing(predictions: pl.DataFrame, timing: pl.DataFrame | None) -> pl.DataFrame:
    missing = [c for c in QUARANTINE_TIMING if c not in predictions.columns]
    if not missing:
        return predictions
    if timing is None or any(c not in timing.columns for c in ("game_id", "player_lookup", *missing)):
        raise KeyError(
            f"quarantine needs {list(QUARANTINE_TIMING)} per (game_id, player_lookup): pass `timing` "
            f"(player_lines) with {missing}"
        )
    keys = ["game_id", "player_lookup"]
    timing = timing.select(*keys, *(pl.col(c).cast(_UTC) for c in missing)).unique(keys, keep="first")
    return predictions.join(timing, on=keys, how="left", maintain_order="left")


def poisoned_games(
    predictions: pl.DataFrame,
    timing: pl.DataFrame | None = None,
    *,
    rules: QuarantineConfig | None = None,
    basis: str = "recommendation",
) -> pl.DataFrame:
    """Games (game_date, model_id, game_id) to quarantine, with the reason: `poisoned_dates`'
    rule evaluated, for each game, on the predictions of its model-day whose line was captured
    at or before the game's tip (`line_captured_at <= tip_time_utc` of the game).

    `line_captured_at` and `tip_time_utc` come from the predictions when they have them, else
    from `timing` (game_id, player_lookup, line_captured_at, tip_time_utc; i.e. player_lines).
    A lined row without a capture time counts from its own game's tip; with neither, from the
    start of the day. A game without a tip is decided on its whole model-day. Computed with
    cumulative counts in capture order and an as-of join per game (no cross product)."""
    side_of = _side_of(basis)
    if predictions.height == 0:
        return pl.DataFrame(schema=GAME_POISON_SCHEMA)
    frame = _with_timing(predictions, timing)
    tip = pl.col("tip_time_utc").cast(_UTC)
    games = (
        frame.group_by("game_date", "model_id", "game_id")
        .agg(_tip=tip.max())
        .with_columns(pl.col("_tip").fill_null(pl.lit(_END_OF_TIME, dtype=_UTC)))
        .sort("_tip")
    )
    known = pl.coalesce(pl.col("line_captured_at").cast(_UTC), tip, pl.lit(_START_OF_TIME, dtype=_UTC))
    keys = ["game_date", "model_id"]
    cumulative = (
        frame.filter(pl.col("line").is_not_null())
        .group_by(*keys, _known=known)
        .agg(
            n_over=(side_of == OVER).sum(),
            n_under=(side_of == UNDER).sum(),
            n_lined=pl.len(),
            _diff=(pl.col("predicted_points") - pl.col("line")).sum(),
        )
        .sort(*keys, "_known")
        .with_columns(pl.col("n_over", "n_under", "n_lined", "_diff").cum_sum().over(keys))
        .sort("_known")
    )
    # both sides are sorted by their time globally, hence within every (game_date, model_id) group
    stats = games.join_asof(
        cumulative, left_on="_tip", right_on="_known", by=keys, strategy="backward", check_sortedness=False
    ).filter(pl.col("n_lined").is_not_null())
    reason = _reason(rules or _RULES.quarantine, basis)
    return (
        stats.with_columns(bias=pl.col("_diff") / pl.col("n_lined"))
        .with_columns(reason=reason)
        .filter(pl.col("reason").is_not_null())
        .with_columns(reason=pl.format("{} (lines posted by the tip)", pl.col("reason")))
        .select([pl.col(n).cast(t) for n, t in GAME_POISON_SCHEMA.items()])
        .sort("game_date", "model_id", "game_id")
    )


def apply_quarantine(
    predictions: pl.DataFrame,
    timing: pl.DataFrame | None = None,
    *,
    rules: QuarantineConfig | None = None,
    basis: str = "recommendation",
) -> pl.DataFrame:
    """Mark every row of a game that `poisoned_games` flags for its model quarantined (rows are
    kept) with the reason. Rows already quarantined stay so (their reason kept unless a new one
    is found). `timing`, `rules` (default: config/models.yaml's) and `basis` are passed to `poisoned_games`; the output has the
    input's columns."""
    if predictions.height == 0:
        return predictions
    poisoned = poisoned_games(predictions, timing, rules=rules, basis=basis).rename({"reason": "_poison"})
    order = predictions.columns
    return (
        predictions.join(
            poisoned, on=["game_date", "model_id", "game_id"], how="left", nulls_equal=True, maintain_order="left"
        )
        .with_columns(
            quarantined=pl.col("quarantined").fill_null(False) | pl.col("_poison").is_not_null(),
            quarantine_reason=pl.coalesce("_poison", "quarantine_reason"),
        )
        .select(order)
    )
