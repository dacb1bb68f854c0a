"""Evaluation of graded predictions, per model family: the bets the system would make, what it
left out, naive baselines on the same rows, and the markdown report.

What counts is set in `config/evaluation.yaml` (`EvaluationConfig`): hit-rate floors 1/3/5, the
ROI / OVER-UNDER floor 3, top-5 per day, baselines last5 / last10.

`evaluate(graded)` takes one family's graded rows (`grading.grade` output joined with prices):
game_date, game_id, player_lookup, predicted_points, line, edge, direction, p_over,
actual_points, result, over_price, under_price, market_p_over (de-vigged; derived from the two
prices when absent), recommendation, optionally quarantined and market_type. Quarantined rows are
dropped first (they are counted in `coverage`, never evaluated). It returns a JSON-safe dict
(floats rounded to 4 decimals, NULL -> None):

- `n`: evaluated rows; `n_lined`: rows with a line and an actual (the MAE rows)
- `mae` = mean |predicted_points - actual|, `line_mae` = mean |line - actual| on those rows;
  `mae_ratio` = mae / line_mae (< 1: the model is closer to the outcome than the line)
- **`hr`**: per floor e ("1", "3", "5"), the **recommended** picks (recommendation OVER/UNDER,
  i.e. edge >= the family's own edge_threshold) with edge >= e: wins, losses, pushes, voids,
  pending, hr = wins / (wins + losses), ci_low / ci_high (Wilson 95%). A floor below the family's
  threshold counts the same picks as the threshold.
- `hr_all_lined`: the old, looser view — every lined row with edge >= e whatever its
  recommendation (PASS rows included). Not the bets the system makes; kept for comparison.
- `roi_edge3` / `n_roi_edge3`: `grading.roi` of the recommended picks with edge >= `roi_edge` at
  the price of the pick's side, sportsbook-priced rows only; `n_roi_edge3` = the WIN/LOSS picks
  it is computed on. `roi_recommended` / `n_roi_recommended`: the same over every recommended pick.
- `top5_daily`: see `top_daily`.
- `brier` = mean (p_over - [actual > line])^2 over every decided row (result WIN/LOSS), all
  markets; `n_brier` rows. `market_brier`: the de-vigged market P(over) on the decided
  **sportsbook** rows with prices; `brier_priced` the model on exactly those rows, `n_market`
  their count. `markets` says which market every figure comes from and counts decided rows by
  market (`market_type` column when present; otherwise a row with both prices is sportsbook and
  a row without is `unpriced`, e.g. DFS).
- `calibration`: fixed-width P(over) bins over the decided rows (all markets): bin, n, mean_p,
  observed (share with actual > line)
- `by_direction`: recommended OVER and UNDER picks at edge >= `direction_edge`: n (= wins +
  losses), wins, losses, hr

Edges are compared with a 1e-9 tolerance (an edge of exactly 3.0 counts at the floor 3).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from nba_props.lib.asof import join_strictly_before
from nba_props.lib.config_files import CONFIG_DIR, load_config
from nba_props.lib.grading import LOSS, OVER, PUSH, UNDER, VOID, WIN, grade, hit_rate, roi, wilson_interval
from nba_props.lib.lines import devig_over_prob
from nba_props.lib.models.predict import DIRECTIONS, PASS
from nba_props.seasons import week_start_expr, week_starts

DEFAULT_CONFIG_PATH = CONFIG_DIR / "evaluation.yaml"
EDGE_TOLERANCE = 1e-9
DIGITS = 4
RECOMMENDED = DIRECTIONS  # a recommendation that takes a side (not PASS / NO_LINE)
SPORTSBOOK, DFS, UNPRICED = "sportsbook", "dfs", "unpriced"
SERVING_STATES = ("active", "champion")
BLOCK_REASON_KINDS = ("required_defaults", "out_of_range", "quality_tier")
MISSING_WEEK = "no trained_models row and no recorded skip reason (the week was not trained)"

OPTIONAL_COLUMNS = {
    "over_price": pl.Int32,
    "under_price": pl.Int32,
    "p_over": pl.Float64,
    "edge": pl.Float64,
    "direction": pl.Utf8,
    "result": pl.Utf8,
    "recommendation": pl.Utf8,
    "quarantined": pl.Boolean,
    "game_id": pl.Utf8,
    "player_lookup": pl.Utf8,
    "game_date": pl.Date,
}


class EvaluationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    edge_floors: tuple[float, ...] = Field(min_length=1)
    roi_edge: float = Field(gt=0)
    direction_edge: float = Field(gt=0)
    top_k: int = Field(ge=1)
    baseline_windows: dict[str, int] = Field(min_length=1)
    baseline_history_days: int = Field(ge=1)
    calibration_bins: int = Field(ge=2)


def load_evaluation_config(path: str | Path | None = None) -> EvaluationConfig:
    """`config/evaluation.yaml` (or `path`), validated; cached per path."""
    return load_config(EvaluationConfig, path or DEFAULT_CONFIG_PATH)


def _r(value: float | None, digits: int = DIGITS) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, digits)


def _key(floor: float) -> str:
    return f"{floor:g}"


def _with_optional(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.lit(None, dtype=dtype).alias(name) for name, dtype in OPTIONAL_COLUMNS.items() if name not in frame.columns
    )


def market_type_expr(columns: Iterable[str]) -> pl.Expr:
    """The row's market: the `market_type` column when present (NULL read as by prices), else
    `sportsbook` for a row with both prices and `unpriced` for one without."""
    by_prices = (
        pl.when(pl.col("over_price").is_not_null() & pl.col("under_price").is_not_null())
        .then(pl.lit(SPORTSBOOK))
        .otherwise(pl.lit(UNPRICED))
    )
    if "market_type" in columns:
        return pl.coalesce(pl.col("market_type").cast(pl.Utf8), by_prices)
    return by_prices


def _prepare(graded: pl.DataFrame) -> pl.DataFrame:
    for name in ("predicted_points", "line", "actual_points"):
        if name not in graded.columns:
            raise KeyError(f"evaluate() needs column {name!r}")
    frame = _with_optional(graded)
    if "market_p_over" not in frame.columns:
        frame = frame.with_columns(market_p_over=devig_over_prob(pl.col("over_price"), pl.col("under_price")))
    frame = frame.with_columns(_market=market_type_expr(graded.columns))
    frame = frame.filter(~pl.col("quarantined").fill_null(False))
    return frame.with_columns(
        pl.col("predicted_points", "line", "actual_points", "p_over", "edge", "market_p_over").cast(pl.Float64),
        # ROI only at real prices: a sportsbook row's price of the pick's side.
        _price=_sportsbook_side_price(),
    )


def _sportsbook_side_price() -> pl.Expr:
    """The price of the pick's side on a sportsbook row; NULL otherwise (DFS prices are placeholders)."""
    side_price = (
        pl.when(pl.col("direction") == OVER).then(pl.col("over_price"))
        .when(pl.col("direction") == UNDER).then(pl.col("under_price"))
    )  # fmt: skip
    return pl.when(pl.col("_market") == SPORTSBOOK).then(side_price)


def _counts(rows: pl.DataFrame) -> dict[str, int]:
    result = rows["result"]
    return {
        "wins": int((result == WIN).sum()),
        "losses": int((result == LOSS).sum()),
        "pushes": int((result == PUSH).sum()),
        "voids": int((result == VOID).sum()),
        "pending": int(result.is_null().sum()),
    }


def _hr_block(rows: pl.DataFrame) -> dict[str, Any]:
    counts = _counts(rows)
    low, high = wilson_interval(counts["wins"], counts["wins"] + counts["losses"])
    return {**counts, "hr": _r(hit_rate(counts["wins"], counts["losses"])), "ci_low": _r(low), "ci_high": _r(high)}


def _roi(rows: pl.DataFrame) -> tuple[float | None, int]:
    """(ROI, n): n = WIN/LOSS picks with a valid price (the stakes ROI is computed on)."""
    priced = rows.filter(pl.col("result").is_in([WIN, LOSS]) & (pl.col("_price").abs() >= 100))
    return (roi(priced["result"], priced["_price"]) if priced.height else None), priced.height


def _at_edge(frame: pl.DataFrame, floor: float, column: str = "edge") -> pl.DataFrame:
    return frame.filter(pl.col(column).is_not_null() & (pl.col(column) >= floor - EDGE_TOLERANCE))


def _recommended(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("recommendation").is_in(RECOMMENDED))


def top_daily(picks: pl.DataFrame, *, k: int, score: str = "edge") -> dict[str, Any]:
    """Each game date, the `k` picks with the largest `score` (ties broken by game_id, then
    player_lookup, ascending, so the choice never depends on the outcome): wins, losses, pushes,
    voids, pending, hr with its Wilson CI, ROI at real prices with its n, and the days (and days
    with fewer than k picks). `picks` needs game_date, game_id, player_lookup, `score`, result and
    `_price` (NULL unless a sportsbook price of the pick's side)."""
    chosen = (
        picks.filter(pl.col(score).is_not_null())
        .sort(["game_date", score, "game_id", "player_lookup"], descending=[False, True, False, False])
        .group_by("game_date", maintain_order=True)
        .head(k)
    )
    per_day = chosen.group_by("game_date").len()
    value, n_roi = _roi(chosen)
    return {
        "k": k,
        "days": per_day.height,
        "days_short": int((per_day["len"] < k).sum()) if per_day.height else 0,
        "picks": chosen.height,
        **_hr_block(chosen),
        "roi": _r(value),
        "n_roi": n_roi,
    }


def _brier(rows: pl.DataFrame, column: str) -> float | None:
    if rows.height == 0:
        return None
    return rows.select(((pl.col(column) - pl.col("_over")) ** 2).mean()).item()


def _calibration_table(decided: pl.DataFrame, bins: int) -> list[dict[str, Any]]:
    rows = decided.filter(pl.col("p_over").is_not_null()).with_columns(
        _bin=(pl.col("p_over") * bins).floor().clip(0, bins - 1).cast(pl.Int32)
    )
    grouped = rows.group_by("_bin").agg(n=pl.len(), mean_p=pl.col("p_over").mean(), observed=pl.col("_over").mean())
    stats = {r["_bin"]: r for r in grouped.to_dicts()}
    table = []
    for b in range(bins):
        s = stats.get(b)
        low, high = b / bins, (b + 1) / bins
        table.append({
            "bin": f"{low:.1f}-{high:.1f}",
            "low": low,
            "high": high,
            "n": int(s["n"]) if s else 0,
            "mean_p": _r(s["mean_p"]) if s else None,
            "observed": _r(s["observed"]) if s else None,
        })  # fmt: skip
    return table


def _mae(rows: pl.DataFrame, prediction: str) -> tuple[float | None, float | None, float | None]:
    """(mae, line_mae, ratio) on the rows with a line, an actual and the prediction."""
    pred, line, actual = pl.col(prediction), pl.col("line"), pl.col("actual_points")
    lined = rows.filter(line.is_not_null() & actual.is_not_null() & pred.is_not_null())
    if lined.height == 0:
        return None, None, None
    mae, line_mae = lined.select(
        (pred - actual).abs().mean().alias("_m"), (line - actual).abs().mean().alias("_l")
    ).row(0)
    return mae, line_mae, (mae / line_mae if line_mae else None)


def evaluate(
    graded: pl.DataFrame, *, config: EvaluationConfig | None = None, edge_floors: Iterable[float] | None = None
) -> dict[str, Any]:
    """The evaluation of one family's graded rows (see the module docstring for every figure)."""
    config = config or load_evaluation_config()
    floors = tuple(edge_floors) if edge_floors is not None else config.edge_floors
    frame = _prepare(graded)
    actual, line = pl.col("actual_points"), pl.col("line")

    mae, line_mae, ratio = _mae(frame, "predicted_points")
    n_lined = frame.filter(line.is_not_null() & actual.is_not_null() & pl.col("predicted_points").is_not_null()).height

    decided = frame.filter(pl.col("result").is_in([WIN, LOSS])).with_columns(_over=(actual > line).cast(pl.Float64))
    model_rows = decided.filter(pl.col("p_over").is_not_null())
    priced = model_rows.filter((pl.col("_market") == SPORTSBOOK) & pl.col("market_p_over").is_not_null())

    recommended = _recommended(frame)
    roi_edge, n_roi_edge = _roi(_at_edge(recommended, config.roi_edge))
    roi_all, n_roi_all = _roi(recommended)

    by_direction = {}
    for side in RECOMMENDED:
        rows = _at_edge(recommended, config.direction_edge).filter(pl.col("direction") == side)
        counts = _counts(rows)
        wins, losses = counts["wins"], counts["losses"]
        by_direction[side] = {"n": wins + losses, "wins": wins, "losses": losses, "hr": _r(hit_rate(wins, losses))}

    by_market = {str(k): int(v) for k, v in decided.group_by("_market").len().sort("_market").iter_rows()}
    return {
        "n": frame.height,
        "n_lined": n_lined,
        "mae": _r(mae),
        "line_mae": _r(line_mae),
        "mae_ratio": _r(ratio),
        "brier": _r(_brier(model_rows, "p_over")),
        "n_brier": model_rows.height,
        "market_brier": _r(_brier(priced, "market_p_over")),
        "brier_priced": _r(_brier(priced, "p_over")),
        "n_market": priced.height,
        "roi_edge3": _r(roi_edge),
        "n_roi_edge3": n_roi_edge,
        "roi_recommended": _r(roi_all),
        "n_roi_recommended": n_roi_all,
        "hr": {_key(f): _hr_block(_at_edge(recommended, float(f))) for f in floors},
        "hr_all_lined": {_key(f): _hr_block(_at_edge(frame, float(f))) for f in floors},
        "top5_daily": top_daily(recommended, k=config.top_k),
        "markets": {
            "decided_rows": by_market,
            "brier": "all decided rows (every market)",
            "market_brier": SPORTSBOOK,
            "roi": SPORTSBOOK,
            "calibration": "all decided rows (every market)",
        },
        "calibration": _calibration_table(decided, config.calibration_bins),
        "by_direction": by_direction,
    }


# ---------------------------------------------------------------------------------------------
# baselines


def rolling_points_means(rows: pl.DataFrame, box_scores: pl.DataFrame, windows: dict[str, int]) -> pl.DataFrame:
    """`rows` plus one column per window name: the player's mean points over his last N played
    games dated strictly before the row's game_date (fewer when he has fewer; NULL with none),
    plus `history_games` (played games before the date). One vectorised pass: cumulative sums
    per player, then an as-of join that excludes the same date."""
    played = (
        box_scores.filter(pl.col("played").fill_null(True) & pl.col("points").is_not_null())
        .select("player_lookup", _game_date=pl.col("game_date"), _points=pl.col("points").cast(pl.Float64))
        .group_by("player_lookup", "_game_date")  # one game a date; guards against duplicate rows
        .agg(pl.col("_points").first())
        .sort("player_lookup", "_game_date")
    )
    cum = pl.col("_points").cum_sum().over("player_lookup")
    count = pl.int_range(1, pl.len() + 1).over("player_lookup")
    stats = played.with_columns(_cum=cum, history_games=count.cast(pl.Int64))
    stats = stats.with_columns(
        [
            (
                (pl.col("_cum") - pl.col("_cum").shift(n).over("player_lookup").fill_null(0.0))
                / pl.min_horizontal(pl.col("history_games"), pl.lit(n))
            ).alias(name)
            for name, n in windows.items()
        ]  # fmt: skip
    ).select("player_lookup", "_game_date", "history_games", *windows)
    joined = join_strictly_before(rows, stats, left_on="game_date", right_on="_game_date", by="player_lookup")
    return joined.drop("_game_date").with_columns(pl.col("history_games").fill_null(0))


def _baseline_block(rows: pl.DataFrame, prediction: str, config: EvaluationConfig) -> dict[str, Any]:
    mae, line_mae, ratio = _mae(rows, prediction)
    pred, line = pl.col(prediction), pl.col("line")
    sided = rows.filter(pred.is_not_null()).with_columns(
        edge=(pred - line).abs(),
        direction=pl.when(pred > line).then(pl.lit(OVER)).when(pred < line).then(pl.lit(UNDER)),
    )
    sided = grade(sided.drop("result", "void_reason", strict=False)).filter(pl.col("direction").is_not_null())
    sided = sided.with_columns(_price=_sportsbook_side_price())
    picks = _at_edge(sided, float(min(config.edge_floors)))
    return {
        "n": rows.filter(pred.is_not_null()).height,
        "n_without_history": rows.filter(pred.is_null()).height,
        "mae": _r(mae),
        "line_mae": _r(line_mae),
        "mae_ratio": _r(ratio),
        "hr": {_key(f): _hr_block(_at_edge(sided, float(f))) for f in config.edge_floors},
        "top5_daily": top_daily(picks, k=config.top_k),
    }


def baselines(
    champion_graded: pl.DataFrame, box_scores: pl.DataFrame, *, config: EvaluationConfig | None = None
) -> dict[str, Any]:
    """Naive predictors on exactly the champion's decided rows (non-quarantined, result WIN or
    LOSS): `line` (prediction = the line: MAE only, ratio 1 by definition) and, per configured
    window, the player's mean points over his last N games before the date. A baseline takes the
    side of its prediction vs the line and "recommends" it when |pred - line| >= the floor;
    its `top5_daily` ranks its picks at the lowest floor by |pred - line|. `box_scores` must
    hold the history before the window (only rows dated before each game are used)."""
    config = config or load_evaluation_config()
    frame = _prepare(champion_graded)
    decided = frame.filter(pl.col("result").is_in([WIN, LOSS]))
    rows = rolling_points_means(decided, box_scores, config.baseline_windows)
    mae, line_mae, _ = _mae(rows, "line")
    model_mae, _, model_ratio = _mae(rows, "predicted_points")
    out: dict[str, Any] = {
        "rows": "the champion's decided rows (not quarantined, WIN or LOSS)",
        "n": rows.height,
        "champion": {"mae": _r(model_mae), "mae_ratio": _r(model_ratio)},
        "line": {"n": rows.height, "mae": _r(mae), "line_mae": _r(line_mae), "mae_ratio": 1.0 if line_mae else None},
    }
    for name in config.baseline_windows:
        out[name] = _baseline_block(rows, name, config)
    return out


# ---------------------------------------------------------------------------------------------
# coverage


def _failed_gates(governance: str | None) -> list[str]:
    try:
        gates = json.loads(governance or "{}")
    except (TypeError, ValueError):
        return []
    return sorted(name for name, gate in gates.items() if isinstance(gate, dict) and gate.get("status") == "failed")


def family_weeks(
    registry: pl.DataFrame, family: str, *, start: date, end: date, skipped: dict[str, str] | None = None
) -> dict[str, Any]:
    """Every week (Monday) touching [start, end] for one family, classified from the registry:
    serving (active / champion), blocked (failed gates named), not_serving (another state), or
    with no registry row: skipped (reason known from the training run, `skipped` keyed
    "YYYY-MM-DD/family") or missing (no row and no recorded reason). total = the sum of the parts."""
    skipped = skipped or {}
    rows = registry.filter(pl.col("family") == family) if registry.height else registry
    by_week = {r["week_start"]: r for r in rows.to_dicts()} if rows.height else {}
    out: dict[str, Any] = {"total": 0, "serving": [], "blocked": [], "not_serving": [], "skipped": [], "missing": []}
    for week in week_starts(start, end):
        out["total"] += 1
        row = by_week.get(week)
        if row is None:
            reason = skipped.get(f"{week}/{family}")
            if reason:
                out["skipped"].append({"week": week.isoformat(), "reason": reason})
            else:
                out["missing"].append({"week": week.isoformat(), "reason": MISSING_WEEK})
        elif row["lifecycle_state"] in SERVING_STATES:
            out["serving"].append({"week": week.isoformat(), "model_id": row["model_id"]})
        elif row["lifecycle_state"] == "blocked":
            out["blocked"].append({"week": week.isoformat(), "model_id": row["model_id"],
                                   "failed_gates": _failed_gates(row.get("governance"))})  # fmt: skip
        else:
            out["not_serving"].append({"week": week.isoformat(), "model_id": row["model_id"],
                                       "state": row["lifecycle_state"]})  # fmt: skip
    return out


def _primary_block_kind() -> pl.Expr:
    """The first listed kind of a block_reason ("required_defaults: ...; out_of_range: ...")."""
    return pl.col("block_reason").str.extract(r"^([a-z_]+):", 1).fill_null("unknown")


def coverage(
    features: pl.DataFrame, family_graded: pl.DataFrame, *, needs_line: bool, weeks: dict[str, Any]
) -> dict[str, Any]:
    """What one family predicted of the window's candidates, what it left out and why.

    `features`: the window's player_features rows (game_id, player_lookup, line,
    is_quality_ready, block_reason, game_date). `family_graded`: every prediction row of the
    family in the window, quarantined ones included, graded. `weeks`: `family_weeks(...)`.

    The arithmetic (each identity is checked by `coverage_identities`):
      candidates.total = candidates.with_line + candidates.without_line            (feature rows)
      for part in (with_line, without_line):
        part.total = blocked_by_quality + no_model + line_required + predicted + unaccounted
        (a ready row of a week without a serving model is `no_model`; a ready row without a line
        for a family that predicts lined rows only is `line_required`; `unaccounted` should be 0)
      blocked_by_reason sums to the blocked rows (each row under the first kind of its reason)
      predictions.total = quarantined + no_line + lined             (the family's prediction rows)
      predictions.total = with_line.predicted + without_line.predicted
      predictions.lined = recommended + passed
      recommended.total = wins + losses + pushes + voids + pending
      family_weeks.total = serving + blocked + not_serving + skipped + missing
    """
    serving_weeks = {w["week"] for w in weeks["serving"]}
    preds = _with_optional(family_graded)
    predicted_keys = preds.select("game_id", "player_lookup").unique().with_columns(_predicted=pl.lit(True))
    cand = features.join(predicted_keys, on=["game_id", "player_lookup"], how="left").with_columns(
        _predicted=pl.col("_predicted").fill_null(False),
        _lined=pl.col("line").is_not_null(),
        _ready=pl.col("is_quality_ready").fill_null(False),
        _week=week_start_expr(pl.col("game_date")).cast(pl.Utf8),
    )

    def part(rows: pl.DataFrame, lined: bool) -> dict[str, int]:
        ready = rows.filter(pl.col("_ready"))
        unpredicted = ready.filter(~pl.col("_predicted"))
        no_model = unpredicted.filter(~pl.col("_week").is_in(sorted(serving_weeks)))
        served = unpredicted.filter(pl.col("_week").is_in(sorted(serving_weeks)))
        line_required = served.height if (needs_line and not lined) else 0
        return {
            "total": rows.height,
            "blocked_by_quality": rows.height - ready.height,
            "no_model": no_model.height,
            "line_required": line_required,
            "predicted": ready.height - unpredicted.height,
            "unaccounted": served.height - line_required,
        }

    with_line, without_line = cand.filter(pl.col("_lined")), cand.filter(~pl.col("_lined"))
    blocked = cand.filter(~pl.col("_ready"))
    reasons = {kind: 0 for kind in BLOCK_REASON_KINDS}
    for kind, n in blocked.group_by(_primary_block_kind().alias("k")).len().iter_rows():
        reasons[str(kind)] = int(n)

    quarantined = preds.filter(pl.col("quarantined").fill_null(False))
    live = preds.filter(~pl.col("quarantined").fill_null(False))
    lined = live.filter(pl.col("line").is_not_null())
    recommended = _recommended(lined)
    return {
        "candidates": {"total": cand.height, "with_line": with_line.height, "without_line": without_line.height},
        "with_line": part(with_line, True),
        "without_line": part(without_line, False),
        "blocked_by_reason": reasons,
        "predictions": {
            "total": preds.height,
            "quarantined": quarantined.height,
            "no_line": live.filter(pl.col("line").is_null()).height,
            "lined": lined.height,
        },
        "lined_predictions": {
            "total": lined.height,
            "recommended": recommended.height,
            "passed": lined.filter(pl.col("recommendation") == PASS).height,
        },
        "recommended": {"total": recommended.height, **_counts(recommended)},
        "family_weeks": weeks,
    }


def coverage_identities(cov: dict[str, Any]) -> list[str]:
    """The identities of `coverage` that do NOT hold (empty list: the parts sum to the whole)."""
    broken = []

    def check(name: str, whole: int, parts: Iterable[int]) -> None:
        parts = list(parts)
        if whole != sum(parts):
            broken.append(f"{name}: {whole} != {' + '.join(map(str, parts))}")

    c = cov["candidates"]
    check("candidates", c["total"], [c["with_line"], c["without_line"]])
    for name in ("with_line", "without_line"):
        p = cov[name]
        parts = ("blocked_by_quality", "no_model", "line_required", "predicted", "unaccounted")
        check(name, p["total"], [p[k] for k in parts])
        if p["unaccounted"]:
            broken.append(f"{name}: {p['unaccounted']} quality-ready rows of serving weeks not predicted")
    check("blocked_by_reason", cov["with_line"]["blocked_by_quality"] + cov["without_line"]["blocked_by_quality"],
          cov["blocked_by_reason"].values())  # fmt: skip
    p = cov["predictions"]
    check("predictions", p["total"], [p["quarantined"], p["no_line"], p["lined"]])
    check("predictions_vs_candidates", p["total"], [cov["with_line"]["predicted"], cov["without_line"]["predicted"]])
    lp = cov["lined_predictions"]
    check("lined_predictions", lp["total"], [lp["recommended"], lp["passed"]])
    r = cov["recommended"]
    check("recommended", r["total"], [r[k] for k in ("wins", "losses", "pushes", "voids", "pending")])
    w = cov["family_weeks"]
    check("family_weeks", w["total"], [len(w[k]) for k in ("serving", "blocked", "not_serving", "skipped", "missing")])
    return broken


def why_no_predictions(cov: dict[str, Any]) -> str | None:
    """A plain reason when the family has no evaluated prediction in the window, else None."""
    if cov["predictions"]["total"] - cov["predictions"]["quarantined"] > 0:
        return None
    if cov["predictions"]["quarantined"]:
        return f"all {cov['predictions']['quarantined']} prediction rows quarantined"
    weeks = cov["family_weeks"]
    if not weeks["serving"]:
        parts = []
        if weeks["blocked"]:
            gates = sorted({g for w in weeks["blocked"] for g in w["failed_gates"]})
            parts.append(f"{len(weeks['blocked'])} week(s) blocked by governance ({', '.join(gates) or 'gates'})")
        if weeks["skipped"]:
            parts.append(f"{len(weeks['skipped'])} week(s) skipped ({weeks['skipped'][0]['reason']})")
        if weeks["missing"]:
            parts.append(f"{len(weeks['missing'])} week(s) without a trained model")
        if weeks["not_serving"]:
            parts.append(f"{len(weeks['not_serving'])} week(s) with a model not serving")
        return "no serving model: " + "; ".join(parts)
    if cov["candidates"]["total"] == 0:
        return "no candidates in the window"
    return "no quality-ready candidate it could predict"


# ---------------------------------------------------------------------------------------------
# the report


def evaluation_report(
    graded: pl.DataFrame,
    *,
    families: list[str],
    champion: str,
    start: date,
    end: date,
    features: pl.DataFrame | None = None,
    registry: pl.DataFrame | None = None,
    box_scores: pl.DataFrame | None = None,
    needs_line: dict[str, bool] | None = None,
    skipped: dict[str, str] | None = None,
    config: EvaluationConfig | None = None,
    champions: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """The report of every family in `families` (listed even with zero predictions, with `why`),
    each with `coverage` when `features` and `registry` are given, and `baselines` on the
    champion's decided rows when `box_scores` are given. `graded`: every prediction row of the
    window (quarantined included), graded, with a `family` column."""
    config = config or load_evaluation_config()
    empty = graded.clear()
    by_family = {key[0]: rows for key, rows in graded.group_by("family")} if graded.height else {}
    names = sorted(set(families) | set(by_family))
    out_families: dict[str, Any] = {}
    for family in names:
        rows = by_family.get(family, empty)
        figures = evaluate(rows, config=config)
        if features is not None and registry is not None:
            weeks = family_weeks(registry, family, start=start, end=end, skipped=skipped)
            cov = coverage(features, rows, needs_line=(needs_line or {}).get(family, False), weeks=weeks)
            cov["roi_n"] = figures["n_roi_edge3"]
            cov["broken_identities"] = coverage_identities(cov)
            figures["coverage"] = cov
            figures["why_no_predictions"] = why_no_predictions(cov)
        elif rows.height == 0:
            figures["why_no_predictions"] = "no prediction rows in the window"
        out_families[family] = figures
    report: dict[str, Any] = {
        "status": "ok",
        "champion": champion,
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "config": config.model_dump(mode="json"),
        "families": out_families,
    }
    if box_scores is not None:
        report["baselines"] = baselines(by_family.get(champion, empty), box_scores, config=config)
    if champions is not None:
        report["chosen_champion"] = chosen_champion(graded, champions, start=start, end=end, config=config)
    return report


def chosen_champion(
    graded: pl.DataFrame, champions: pl.DataFrame, *, start: date, end: date, config: EvaluationConfig
) -> dict[str, Any]:
    """The champion chosen by evidence each day (`champions`: game_date, champion, transition,
    reason - lib/champion.py) evaluated as ONE family: each day's rows of that day's champion
    (the picks best bets would have annotated as the champion's), with its days per family and
    the switches of the window. `report["champion"]` (the configured seed) keeps the comparisons."""
    days = champions.filter(pl.col("game_date").is_between(start, end))
    rows = graded.join(days.select("game_date", pl.col("champion").alias("_chosen")), on="game_date", how="inner")
    rows = rows.filter(pl.col("family") == pl.col("_chosen")).drop("_chosen")
    figures = evaluate(rows, config=config)
    switches = days.filter(pl.col("transition") == "SWITCH").sort("game_date")
    return {
        "days": {str(k): int(v) for k, v in days.group_by("champion").len().sort("champion").iter_rows()},
        "switches": [
            {
                "from_day": r["game_date"].isoformat(),
                "from": r["previous_champion"],
                "to": r["champion"],
                "reason": r["reason"],
            }
            for r in switches.iter_rows(named=True)
        ],  # fmt: skip
        "hr": figures["hr"],
        "top5_daily": figures["top5_daily"],
        "mae_ratio": figures["mae_ratio"],
        "roi_edge3": figures["roi_edge3"],
        "n_roi_edge3": figures["n_roi_edge3"],
    }


def chosen_champion_markdown(block: dict[str, Any]) -> list[str]:
    if not block:
        return []
    floors = sorted(block.get("hr") or {}, key=float)
    days = ", ".join(f"{f} {n}" for f, n in (block.get("days") or {}).items()) or "none"
    lines = ["## Champion by evidence (config/health.yaml champion_selection)", "",
             f"Days as champion: {days}. The figures below are each day's chosen champion's picks, pooled.", "",
             *_table(["MAE ratio", *(f"HR@{k} (N) [95% CI]" for k in floors), "ROI@3 (N)", "top-5 daily"],
                     [[_fmt(block.get("mae_ratio")), *(_hr_cell(block["hr"].get(k)) for k in floors),
                       _roi_cell(block.get("roi_edge3"), block.get("n_roi_edge3")),
                       _top_cell(block.get("top5_daily"))]]), ""]  # fmt: skip
    switches = block.get("switches") or []
    lines += [f"Switches: {len(switches)}", ""]
    lines += [f"- from {s['from_day']}: {s['from']} -> {s['to']}: {s['reason']}" for s in switches]
    return lines + ([""] if switches else [])


# ---------------------------------------------------------------------------------------------
# best bets: what the system would really have published


def best_bets_record(picks: pl.DataFrame, days: pl.DataFrame) -> dict[str, Any]:
    """The published best bets of a window, as a bettor would have seen them: the ledger's picks
    graded (`pick_accuracy`: status, counted, result, price, default_priced) and, per game date of
    the window with candidates (`best_bets` rows: game_date, health_gate_active), whether the
    champion's health gate closed the day. Counts only `counted` picks (published; withdrawn and
    late additions are listed as left out). ROI only over picks with a REAL price (DFS lines have
    none: their count is reported, never an assumed -110)."""
    counted = picks.filter(pl.col("counted"))
    block = _hr_block(counted)
    priced = counted.filter(pl.col("result").is_in([WIN, LOSS]) & ~pl.col("default_priced"))
    value = roi(priced["result"], priced["price"]) if priced.height else None
    slate = days.group_by("game_date").agg(pl.col("health_gate_active").any()) if days.height else days
    n_days = slate.height
    gate_days = int(slate["health_gate_active"].sum()) if n_days else 0
    per_day = counted.group_by("game_date").len()
    status = {str(k): int(v) for k, v in picks.group_by("status").len().iter_rows()} if picks.height else {}
    by_direction = {side: _hr_block(counted.filter(pl.col("direction") == side)) for side in (OVER, UNDER)}
    return {
        **block,
        "picks": counted.height,
        "roi": _r(value),
        "n_roi": priced.height,
        "unpriced_picks": int((counted["default_priced"]).sum()) if counted.height else 0,
        "days": n_days,
        "days_with_picks": per_day.height,
        "picks_per_day": _r(counted.height / n_days) if n_days else None,
        "health_gate_days": gate_days,
        "ultra": _hr_block(counted.filter(pl.col("ultra"))),
        "by_direction": by_direction,
        "left_out": {k: v for k, v in status.items() if k != "published"},
    }


def best_bets_markdown(record: dict[str, Any]) -> list[str]:
    """The best-bets section of the report."""
    if not record:
        return []
    lines = ["## Best bets (the published-picks ledger, graded)", ""]
    lines += _table(
        ["picks", "HR (N) [95% CI]", "pushes / voids / pending", "ROI (N priced)", "days", "picks per day",
         "gate closed"],
        [[str(record["picks"]), _hr_cell(record), f"{record['pushes']} / {record['voids']} / {record['pending']}",
          _roi_cell(record["roi"], record["n_roi"]), f"{record['days_with_picks']} of {record['days']}",
          _fmt(record["picks_per_day"], 2), str(record["health_gate_days"])]],
    )  # fmt: skip
    sides = [[side, _hr_cell(block)] for side, block in record["by_direction"].items()]
    lines += ["", *_table(["direction", "HR (N) [95% CI]"], [*sides, ["ultra", _hr_cell(record["ultra"])]])]
    left = ", ".join(f"{k} {v}" for k, v in sorted(record["left_out"].items())) or "none"
    lines += ["", f"Counted: picks with status `published` (shown before their games). Left out: {left}; "
              f"{record['unpriced_picks']} counted picks have no real price (DFS) and are outside the ROI.", ""]  # fmt: skip
    return lines


# ---------------------------------------------------------------------------------------------
# markdown


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def _hr_cell(block: dict[str, Any] | None) -> str:
    if not block:
        return "–"
    n = block["wins"] + block["losses"]
    if block["hr"] is None:
        return "– (0)"
    return f"{_pct(block['hr'])} ({n}) [{_pct(block['ci_low'])}–{_pct(block['ci_high'])}]"


def _roi_cell(value: float | None, n: int | None) -> str:
    return f"{_pct(value)} (N={n or 0})"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _top_cell(block: dict[str, Any] | None) -> str:
    if not block:
        return "–"
    cell = _hr_cell(block)
    return f"{cell}, {block['pushes']} push, ROI {_roi_cell(block.get('roi'), block.get('n_roi'))}"


def report_markdown(report: dict[str, Any]) -> str:
    """Markdown of `evaluation_report(...)`: the summary of every family (recommended picks),
    top-5 per day, baselines on the champion's rows, coverage, then the champion's calibration
    and OVER/UNDER tables. A report with status `failed` says so and nothing else."""
    if report.get("status") == "failed":
        return "\n".join(["# Model evaluation: FAILED", "", f"Failed steps: {', '.join(report.get('failed_steps') or [])}",
                          "No figures: a step failed, so nothing here would be a complete evaluation.", ""])  # fmt: skip
    families: dict[str, dict[str, Any]] = report.get("families") or {}
    champion = report.get("champion")
    window = report.get("window") or {}
    lines = ["# Model evaluation", ""]
    if window:
        start, end = window.get("start"), window.get("end")
        span = f"{start} .. {end}" if start or end else ""
        extra = ", ".join(f"{k}: {v}" for k, v in window.items() if k not in ("start", "end"))
        lines.append(f"Window: {span}" + (f" ({extra})" if extra else ""))
    lines += [f"Champion: `{champion}`" if champion else "Champion: –", ""]

    floors = sorted({k for fam in families.values() for k in (fam.get("hr") or {})}, key=float)
    header = ["family", "N", "MAE", "line MAE", "ratio", *(f"HR@{k} (N) [95% CI]" for k in floors),
              "ROI@3 (N)", "Brier", "market Brier (model on same rows)"]  # fmt: skip
    rows = []
    for family_id, fam in families.items():
        name = f"**{family_id}** (champion)" if family_id == champion else family_id
        market = _fmt(fam.get("market_brier"), 4)
        if fam.get("market_brier") is not None:
            market += f" ({_fmt(fam.get('brier_priced'), 4)}, N={fam.get('n_market', 0)})"
        rows.append([
            name, str(fam.get("n", 0)), _fmt(fam.get("mae")), _fmt(fam.get("line_mae")), _fmt(fam.get("mae_ratio")),
            *(_hr_cell((fam.get("hr") or {}).get(k)) for k in floors),
            _roi_cell(fam.get("roi_edge3"), fam.get("n_roi_edge3")), _fmt(fam.get("brier"), 4), market,
        ])  # fmt: skip
    lines += ["## Summary: recommended picks", "", *_table(header, rows), ""]
    lines += ["HR: wins / (wins + losses) of **recommended** picks (OVER/UNDER at the family's own edge threshold) "
              "with edge ≥ the floor; pushes, voids and pending excluded. ROI: recommended picks with edge ≥ 3 at the "
              "real price of the pick's side, 1 unit each, **sportsbook** rows only (N = priced WIN/LOSS picks). "
              "Brier: P(over) vs actual > line over every decided row (all markets); market Brier: de-vigged "
              "sportsbook prices, with the model's Brier on exactly those rows.", ""]  # fmt: skip

    lines += best_bets_markdown(report.get("best_bets") or {})
    lines += chosen_champion_markdown(report.get("chosen_champion") or {})

    top_rows = [[f"**{f}**" if f == champion else f, _top_cell(fam.get("top5_daily")),
                 str((fam.get("top5_daily") or {}).get("days", 0))] for f, fam in families.items()]  # fmt: skip
    baselines_block = report.get("baselines") or {}
    for name, block in baselines_block.items():
        if isinstance(block, dict) and "top5_daily" in block:
            top_rows.append([f"baseline `{name}`", _top_cell(block["top5_daily"]), str(block["top5_daily"]["days"])])
    lines += ["## Top 5 per day", "", *_table(["who", "HR (N) [95% CI], pushes, ROI (N)", "days"], top_rows), "",
              "Each game date, the 5 largest-edge recommended picks (ties: game id, player); a baseline's 5 largest "
              "|prediction − line| on the champion's decided rows.", ""]  # fmt: skip

    if baselines_block:
        b_rows = [["champion (same rows)", str(baselines_block.get("n", 0)), _fmt(baselines_block["champion"]["mae"]),
                   _fmt(baselines_block["champion"]["mae_ratio"]), *("" for _ in floors)]]  # fmt: skip
        for name, block in baselines_block.items():
            if not isinstance(block, dict) or "mae" not in block or name == "champion":
                continue
            b_rows.append([f"`{name}`", str(block.get("n", 0)), _fmt(block.get("mae")), _fmt(block.get("mae_ratio")),
                           *(_hr_cell((block.get("hr") or {}).get(k)) for k in floors)])  # fmt: skip
        lines += [f"## Baselines on the champion's decided rows (N={baselines_block.get('n', 0)})", "",
                  *_table(["baseline", "N", "MAE", "ratio", *(f"HR@{k} (N) [95% CI]" for k in floors)], b_rows), "",
                  "`line`: the line itself (MAE only); `lastN`: the player's mean points over his last N games "
                  "before the date, taking its side vs the line when |pred − line| ≥ the floor.", ""]  # fmt: skip

    cov_rows = []
    for family_id, fam in families.items():
        cov = fam.get("coverage")
        if not cov:
            continue
        wl, weeks = cov["with_line"], cov["family_weeks"]
        reasons = ", ".join(f"{k} {v}" for k, v in cov["blocked_by_reason"].items() if v) or "–"
        week_text = (f"{len(weeks['serving'])}/{weeks['total']} serving, {len(weeks['blocked'])} blocked, "
                     f"{len(weeks['skipped'])} skipped, {len(weeks['missing'])} missing")  # fmt: skip
        cov_rows.append([
            family_id, str(wl["total"]), str(wl["predicted"]), str(wl["blocked_by_quality"]), str(wl["no_model"]),
            reasons, str(cov["predictions"]["no_line"]), str(cov["predictions"]["quarantined"]),
            str(cov["recommended"]["total"]), week_text, fam.get("why_no_predictions") or "",
        ])  # fmt: skip
    if cov_rows:
        lines += ["## Coverage", "", *_table(
            ["family", "lined candidates", "predicted", "blocked (quality)", "no model", "blocked by reason (all rows)",
             "NO_LINE predictions", "quarantined rows", "recommended", "family-weeks", "why none"], cov_rows), "",
            "Lined candidates = predicted + blocked by quality + no serving model (+ unaccounted, 0). Quarantined rows "
            "are excluded from every figure above.", ""]  # fmt: skip

    fam = families.get(champion) if champion else None
    if fam is None or not fam.get("n"):
        lines += [f"The champion `{champion}` has no evaluated predictions in this window.", ""]
        return "\n".join(lines)
    cal_rows = [[c["bin"], str(c["n"]), _fmt(c["mean_p"]), _fmt(c["observed"])] for c in fam.get("calibration") or []]
    lines += [f"## Calibration of P(over): `{champion}` (all decided rows)", "",
              *_table(["P(over) bin", "N", "mean predicted", "observed over rate"], cal_rows), ""]  # fmt: skip
    dir_rows = [[side, str(d["n"]), str(d["wins"]), str(d["losses"]), _pct(d["hr"])]
                for side, d in (fam.get("by_direction") or {}).items()]  # fmt: skip
    lines += [f"## Recommended OVER vs UNDER at edge ≥ 3: `{champion}`", "",
              *_table(["direction", "N", "wins", "losses", "HR"], dir_rows), ""]  # fmt: skip
    return "\n".join(lines)
