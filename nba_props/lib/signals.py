"""Signals: the registry (`config/signals.yaml`), the day's tags (`signal_tags`), the combo
registry and signal health (`signal_health_daily`). Pure polars (no dagster).

Tags. A candidate is a prediction with recommendation OVER/UNDER, not quarantined, with a line,
joined to the same day's `player_features` and `player_lines` (`candidate_frame`: pre-game
information only; a feature whose `<name>__source` is "default" is read as NULL; a contract
column the feature table lacks is NULL). Each active and shadow signal is ONE polars expression
over that frame (its own condition AND its direction AND the conditions of the signals it
`requires`), all evaluated in one `with_columns` pass (`signal_tags`); a condition reading NULL
does not fire. Confidence is on [0, 1]: a registry parameter named "*confidence*" outside
[0, 1] is a load error and an input confidence outside [0, 1] raises. `model_health` fires on
every candidate; its detail is the family's `model_performance_daily` state as of X - 1.

Combos. A candidate carrying every signal of a combo (`registry.combos`) is a combo unit.
`anti_pattern_hits` / `anti_pattern_hits_expr` name the ANTI_PATTERN combos a candidate's tags
complete (the best-bets filter reads them).

Health. One counted unit = one (game, player, direction, signal) with a WIN or LOSS result: the
tagged prediction's result (the line and the actual are the player's, so every model tagging
the same player-game on the same side has the same result). Five serving models tagging one
player-game count ONCE: the signal's hit rate measures the signal's condition on player-games,
not how many models happened to serve that day (counting per model would weight days by the
number of models and overstate N, narrowing the interval). The same for a combo. Per day X
(every window ends on X, inclusive): wins / losses / n / hr over the configured rolling windows
and season to date, the season's Wilson 95% interval, divergence = hr_<regime window> -
hr_season in points, regime HOT (>= hot_from_points) / COLD (<= cold_from_points) / NORMAL
(also NORMAL below regime_min_n in either window), status DEGRADING (COLD and model-dependent),
WATCH (COLD), HEALTHY. Removed (or unknown) signals never get a row, whatever the tag history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from nba_props import seasons
from nba_props.lib.config_files import CONFIG_DIR, load_config
from nba_props.lib.grading import LOSS, OVER, UNDER, WIN
from nba_props.lib.health import load_health_config, season_span_days

SIGNALS_CONFIG_PATH = CONFIG_DIR / "signals.yaml"
TAGS_TABLE, HEALTH_TABLE = "signal_tags", "signal_health_daily"
TOLERANCE = 1e-9  # float noise: a value exactly at a bound is at the bound
ACTIVE, SHADOW, REMOVED = "active", "shadow", "removed"
ANY = "ANY"
SYNERGISTIC, ANTI_PATTERN = "SYNERGISTIC", "ANTI_PATTERN"
HOT, NORMAL, COLD = "HOT", "NORMAL", "COLD"
HEALTHY, WATCH, DEGRADING = "HEALTHY", "WATCH", "DEGRADING"
KIND_SIGNAL, KIND_COMBO = "signal", "combo"
SEASON_WINDOW = "season"
MODEL_HEALTH = "model_health"
NO_HEALTH_ROW = "no health row"
RECOMMENDED = (OVER, UNDER)
UNIT_KEY = ("game_date", "game_id", "player_lookup", "direction", "name")  # one counted unit
WILSON_Z = 1.96  # as grading.wilson_interval

# ---------------------------------------------------------------------------------------------
# the inputs a condition may read: candidate columns, from player_features and from player_lines

FEATURE_INPUTS = (
    "minutes_avg_last_3", "minutes_avg_season", "minutes_prev_game", "starter_share_last_5",
    "fg3a_per_game_season", "fg3_pct_season", "fg3_pct_last_3", "fg3_pct_std_season", "days_rest",
    "team_days_rest", "opponent_days_rest", "is_big_man", "points_std_last_10", "points_avg_last_10",
    "prop_over_streak", "line_vs_season_avg", "points_slope_last_10", "points_zscore_last_5",
)  # fmt: skip
LINE_INPUTS = pl.Schema(
    {
        "is_home": pl.Boolean,
        "n_books": pl.Int32,
        "multi_book_line_std": pl.Float64,
        "prop_line_delta": pl.Float64,
        "line_move": pl.Float64,
    }
)
PREDICTION_COLUMNS = (
    "game_date", "game_id", "player_lookup", "model_id", "family", "line", "edge", "direction", "confidence",
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# the conditions (one per signal tag: the parameters it needs, and its expression + detail)


def _ge(x: pl.Expr, bound: float) -> pl.Expr:
    return x >= bound - TOLERANCE


def _le(x: pl.Expr, bound: float) -> pl.Expr:
    return x <= bound + TOLERANCE


def _lt(x: pl.Expr, bound: float) -> pl.Expr:
    return x < bound - TOLERANCE


def _num(x: pl.Expr, decimals: int = 2) -> pl.Expr:
    return x.cast(pl.Float64).round(decimals).cast(pl.Utf8)


def _txt(*parts: str | pl.Expr) -> pl.Expr:
    return pl.concat_str([p if isinstance(p, pl.Expr) else pl.lit(p) for p in parts])


E, C, LINE = pl.col("edge"), pl.col("confidence"), pl.col("line")
Condition = tuple[pl.Expr, pl.Expr]  # (fires, detail)


def _model_health(p: Mapping[str, float]) -> Condition:
    return pl.lit(True), pl.col("_health_detail")


def _high_edge(p: Mapping[str, float]) -> Condition:
    return _ge(E, p["min_edge"]), _txt("edge ", _num(E), f" >= {p['min_edge']:g}")


def _edge_spread_optimal(p: Mapping[str, float]) -> Condition:
    low, high = p["excluded_confidence_low"], p["excluded_confidence_high"]
    in_band = _ge(C, low) & _le(C, high)
    fires = _ge(E, p["min_edge"]) & _ge(C, p["min_confidence"]) & ~in_band
    detail = _txt(
        "edge ", _num(E), f" >= {p['min_edge']:g}; confidence ", _num(C, 3),
        f" >= {p['min_confidence']:g}, not in [{low:g}, {high:g}]",
    )  # fmt: skip
    return fires, detail


def _combo_he_ms(p: Mapping[str, float]) -> Condition:
    surge = pl.col("minutes_avg_last_3") - pl.col("minutes_avg_season")
    fires = _ge(E, p["min_edge"]) & _ge(surge, p["min_minutes_surge"])
    detail = _txt(
        "edge ", _num(E), f" >= {p['min_edge']:g}; minutes last 3 ", _num(pl.col("minutes_avg_last_3"), 1),
        " - season ", _num(pl.col("minutes_avg_season"), 1), " = ", _num(surge, 1), f" >= {p['min_minutes_surge']:g}",
    )  # fmt: skip
    return fires, detail


def _combo_3way(p: Mapping[str, float]) -> Condition:  # everything is in its `requires`
    return pl.lit(True), pl.lit("combo_he_ms and edge_spread_optimal")


def _bench_under(p: Mapping[str, float]) -> Condition:
    share = pl.col("starter_share_last_5")
    bound = p["starter_share_below"]
    return _lt(share, bound), _txt("starter share last 5 ", _num(share), f" < {bound:g}")


def _3pt_bounce(p: Mapping[str, float]) -> Condition:
    fg3a, last3 = pl.col("fg3a_per_game_season"), pl.col("fg3_pct_last_3")
    floor = pl.col("fg3_pct_season") - p["std_multiplier"] * pl.col("fg3_pct_std_season")
    fires = _ge(fg3a, p["min_fg3a"]) & (last3 < floor - TOLERANCE)
    detail = _txt(
        "3PA/game ", _num(fg3a, 1), f" >= {p['min_fg3a']:g}; 3P% last 3 ", _num(last3, 3), " < season ",
        _num(pl.col("fg3_pct_season"), 3), f" - {p['std_multiplier']:g} x std ", _num(pl.col("fg3_pct_std_season"), 3),
    )  # fmt: skip
    return fires, detail


def _b2b_fatigue_under(p: Mapping[str, float]) -> Condition:
    rest, mpg = pl.col("days_rest"), pl.col("minutes_avg_season")
    fires = _le(rest, p["max_days_rest"]) & _ge(mpg, p["min_minutes_season"])
    detail = _txt(
        "days rest ", _num(rest, 0), f" <= {p['max_days_rest']:g}; season mpg ", _num(mpg, 1),
        f" >= {p['min_minutes_season']:g}",
    )  # fmt: skip
    return fires, detail


def _rest_advantage_2d(p: Mapping[str, float]) -> Condition:
    own, opp = pl.col("team_days_rest"), pl.col("opponent_days_rest")
    fires = _ge(own, p["min_team_rest"]) & _le(opp, p["max_opponent_rest"])
    detail = _txt(
        "team rest ", _num(own, 0), f" >= {p['min_team_rest']:g}; opponent rest ", _num(opp, 0),
        f" <= {p['max_opponent_rest']:g}",
    )  # fmt: skip
    return fires, detail


def _prop_line_drop_over(p: Mapping[str, float]) -> Condition:
    delta = pl.col("prop_line_delta")
    return _le(delta, p["max_line_delta"]), _txt("line delta ", _num(delta, 1), f" <= {p['max_line_delta']:g}")


def _book_disagreement(p: Mapping[str, float]) -> Condition:
    std, books = pl.col("multi_book_line_std"), pl.col("n_books")
    fires = _ge(std, p["min_line_std"]) & _ge(books.cast(pl.Float64), p["min_books"])
    detail = _txt(
        "line std ", _num(std), f" >= {p['min_line_std']:g} over ", books.cast(pl.Utf8),
        f" books (>= {p['min_books']:g})",
    )  # fmt: skip
    return fires, detail


def _blowout_recovery(p: Mapping[str, float]) -> Condition:
    drop = pl.col("minutes_avg_season") - pl.col("minutes_prev_game")
    fires = (pl.col("is_big_man") == 0) & _ge(drop, p["min_minutes_drop"])
    detail = _txt(
        "not a big man; season mpg ", _num(pl.col("minutes_avg_season"), 1), " - previous game ",
        _num(pl.col("minutes_prev_game"), 1), " = ", _num(drop, 1), f" >= {p['min_minutes_drop']:g}",
    )  # fmt: skip
    return fires, detail


def _line_rising_over(p: Mapping[str, float]) -> Condition:
    move = pl.col("line_move")
    return _ge(move, p["min_line_move"]), _txt("line move ", _num(move, 1), f" >= {p['min_line_move']:g}")


def _home_under(p: Mapping[str, float]) -> Condition:
    return pl.col("is_home"), pl.lit("home")


def _elite_line_under(p: Mapping[str, float]) -> Condition:
    return _ge(LINE, p["min_line"]), _txt("line ", _num(LINE, 1), f" >= {p['min_line']:g}")


def _volatile_starter_under(p: Mapping[str, float]) -> Condition:
    share, std = pl.col("starter_share_last_5"), pl.col("points_std_last_10")
    fires = _ge(share, p["min_starter_share"]) & _ge(std, p["min_points_std"])
    detail = _txt(
        "starter share ", _num(share), f" >= {p['min_starter_share']:g}; points std last 10 ", _num(std, 1),
        f" >= {p['min_points_std']:g}",
    )  # fmt: skip
    return fires, detail


def _over_streak_reversion_under(p: Mapping[str, float]) -> Condition:
    streak = pl.col("prop_over_streak")
    return _ge(streak, p["min_over_streak"]), _txt("over streak ", _num(streak, 0), f" >= {p['min_over_streak']:g}")


def _consistent_scorer_over(p: Mapping[str, float]) -> Condition:
    std, avg = pl.col("points_std_last_10"), pl.col("points_avg_last_10")
    fires = _le(std, p["max_points_std"]) & _ge(avg - LINE, p["min_avg_over_line"])
    detail = _txt(
        "points std last 10 ", _num(std, 1), f" <= {p['max_points_std']:g}; avg last 10 ", _num(avg, 1),
        " - line ", _num(LINE, 1), f" >= {p['min_avg_over_line']:g}",
    )  # fmt: skip
    return fires, detail


def _minutes_load_over(p: Mapping[str, float]) -> Condition:
    mins = pl.col("minutes_avg_last_3")
    return _ge(mins, p["min_minutes_last_3"]), _txt("minutes last 3 ", _num(mins, 1),
                                                    f" >= {p['min_minutes_last_3']:g}")  # fmt: skip


def _high_line_under(p: Mapping[str, float]) -> Condition:
    gap = pl.col("line_vs_season_avg")
    bound = p["min_line_over_season"]
    return _ge(gap, bound), _txt("line - season avg ", _num(gap, 1), f" >= {bound:g}")


def _downtrend_under(p: Mapping[str, float]) -> Condition:
    slope = pl.col("points_slope_last_10")
    return _le(slope, p["max_slope"]), _txt("points slope last 10 ", _num(slope), f" <= {p['max_slope']:g}")


def _mean_reversion_under(p: Mapping[str, float]) -> Condition:
    z = pl.col("points_zscore_last_5")
    return _ge(z, p["min_zscore"]), _txt("points z-score last 5 ", _num(z), f" >= {p['min_zscore']:g}")


# tag -> (its parameter names, its condition). A registry signal (not removed) must be here with
# exactly these parameters.
CONDITIONS: Mapping[str, tuple[tuple[str, ...], Callable[[Mapping[str, float]], Condition]]] = {
    MODEL_HEALTH: ((), _model_health),
    "high_edge": (("min_edge",), _high_edge),
    "edge_spread_optimal": (
        ("min_edge", "min_confidence", "excluded_confidence_low", "excluded_confidence_high"),
        _edge_spread_optimal,
    ),
    "combo_he_ms": (("min_edge", "min_minutes_surge"), _combo_he_ms),
    "combo_3way": ((), _combo_3way),
    "bench_under": (("starter_share_below",), _bench_under),
    "3pt_bounce": (("min_fg3a", "std_multiplier"), _3pt_bounce),
    "b2b_fatigue_under": (("max_days_rest", "min_minutes_season"), _b2b_fatigue_under),
    "rest_advantage_2d": (("min_team_rest", "max_opponent_rest"), _rest_advantage_2d),
    "prop_line_drop_over": (("max_line_delta",), _prop_line_drop_over),
    "book_disagreement": (("min_line_std", "min_books"), _book_disagreement),
    "blowout_recovery": (("min_minutes_drop",), _blowout_recovery),
    "line_rising_over": (("min_line_move",), _line_rising_over),
    "home_under": ((), _home_under),
    "elite_line_under": (("min_line",), _elite_line_under),
    "volatile_starter_under": (("min_starter_share", "min_points_std"), _volatile_starter_under),
    "over_streak_reversion_under": (("min_over_streak",), _over_streak_reversion_under),
    "consistent_scorer_over": (("max_points_std", "min_avg_over_line"), _consistent_scorer_over),
    "minutes_load_over": (("min_minutes_last_3",), _minutes_load_over),
    "high_line_under": (("min_line_over_season",), _high_line_under),
    "downtrend_under": (("max_slope",), _downtrend_under),
    "mean_reversion_under": (("min_zscore",), _mean_reversion_under),
}
UNIT_SCALE_WORDS = ("confidence", "share")  # parameters with these words are on [0, 1]


# ---------------------------------------------------------------------------------------------
# the registry


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignalSpec(_Rules):
    tag: str = Field(min_length=1)
    description: str = Field(min_length=1)
    direction: Literal["OVER", "UNDER", "ANY"]
    state: Literal["active", "shadow", "removed"]
    model_dependent: bool
    parameters: dict[str, float] = Field(default_factory=dict)
    requires: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _unit_scale(self) -> SignalSpec:
        for name, value in self.parameters.items():
            if any(word in name for word in UNIT_SCALE_WORDS) and not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"signal {self.tag}: parameter {name} = {value:g} is not on [0, 1] (confidence and shares are "
                    "fractions: 0.70, not 70)"
                )
        return self


class ComboSpec(_Rules):
    id: str = Field(min_length=1)
    signals: tuple[str, ...] = Field(min_length=2)
    kind: Literal["SYNERGISTIC", "ANTI_PATTERN"]
    description: str = Field(min_length=1)


class HealthRules(_Rules):
    windows: tuple[int, ...] = Field(min_length=1)
    regime_window: int = Field(ge=1)
    hot_from_points: float = Field(gt=0)
    cold_from_points: float = Field(lt=0)
    regime_min_n: int = Field(ge=1)

    @model_validator(mode="after")
    def _valid(self) -> HealthRules:
        if any(w < 1 for w in self.windows) or list(self.windows) != sorted(set(self.windows)):
            raise ValueError(f"windows must be increasing positive day counts, got {self.windows}")
        if self.regime_window not in self.windows:
            raise ValueError(f"regime_window {self.regime_window} must be one of windows {self.windows}")
        return self

    @property
    def window_labels(self) -> tuple[str, ...]:
        return (*(f"{w}d" for w in self.windows), SEASON_WINDOW)

    @property
    def regime_label(self) -> str:
        return f"{self.regime_window}d"

    @property
    def history_days(self) -> int:
        """Calendar days of tags / graded rows a day's row depends on (ending on the day): the
        longest rolling window or a season label's span (season to date)."""
        return max(max(self.windows), season_span_days())


class SignalRegistry(_Rules):
    signals: tuple[SignalSpec, ...] = Field(min_length=1)
    combos: tuple[ComboSpec, ...] = ()
    health: HealthRules

    @model_validator(mode="after")
    def _valid(self) -> SignalRegistry:
        tags = [s.tag for s in self.signals]
        if len(tags) != len(set(tags)):
            raise ValueError(f"duplicate signal tags: {sorted({t for t in tags if tags.count(t) > 1})}")
        if MODEL_HEALTH not in self.tracked:
            raise ValueError(f"{MODEL_HEALTH} must be active or shadow (it tags every candidate)")
        for spec in self.signals:
            if spec.state == REMOVED:
                continue
            if spec.tag not in CONDITIONS:
                raise ValueError(f"signal {spec.tag}: no condition in lib/signals.py CONDITIONS")
            needed = set(CONDITIONS[spec.tag][0])
            if set(spec.parameters) != needed:
                raise ValueError(
                    f"signal {spec.tag}: parameters {sorted(spec.parameters)} != the condition's {sorted(needed)}"
                )
            for other in spec.requires:
                if other not in self.tracked or other == spec.tag:
                    raise ValueError(f"signal {spec.tag} requires {other}: not an active / shadow signal")
        self._check_acyclic()
        ids = [c.id for c in self.combos]
        if len(ids) != len(set(ids)) or set(ids) & set(tags):
            raise ValueError("combo ids must be unique and differ from signal tags")
        for combo in self.combos:
            unknown = [s for s in combo.signals if s not in self.tracked]
            if unknown or len(set(combo.signals)) != len(combo.signals):
                raise ValueError(f"combo {combo.id}: {unknown or combo.signals} not distinct active / shadow signals")
        return self

    def _check_acyclic(self) -> None:
        by_tag = self.by_tag

        def visit(tag: str, path: tuple[str, ...]) -> None:
            if tag in path:
                raise ValueError(f"signal requires form a cycle: {' -> '.join((*path, tag))}")
            for other in by_tag[tag].requires:
                visit(other, (*path, tag))

        for tag in self.tracked:
            visit(tag, ())

    @property
    def by_tag(self) -> dict[str, SignalSpec]:
        return {s.tag: s for s in self.signals}

    def _names(self, state: str) -> tuple[str, ...]:
        return tuple(s.tag for s in self.signals if s.state == state)

    @property
    def active(self) -> tuple[str, ...]:
        return self._names(ACTIVE)

    @property
    def shadow(self) -> tuple[str, ...]:
        return self._names(SHADOW)

    @property
    def removed(self) -> tuple[str, ...]:
        return self._names(REMOVED)

    @property
    def tracked(self) -> tuple[str, ...]:
        """Active and shadow signals: the ones evaluated, tagged and tracked."""
        return tuple(s.tag for s in self.signals if s.state != REMOVED)

    @property
    def anti_patterns(self) -> tuple[ComboSpec, ...]:
        return tuple(c for c in self.combos if c.kind == ANTI_PATTERN)

    def combo_state(self, combo: ComboSpec) -> str:
        """active when every signal of the combo is active, else shadow."""
        return ACTIVE if all(self.by_tag[s].state == ACTIVE for s in combo.signals) else SHADOW

    def combo_model_dependent(self, combo: ComboSpec) -> bool:
        return any(self.by_tag[s].model_dependent for s in combo.signals)


def load_signal_registry(path: str | Path | None = None) -> SignalRegistry:
    return load_config(SignalRegistry, path or SIGNALS_CONFIG_PATH)


def anti_pattern_hits(signals: Iterable[str], registry: SignalRegistry | None = None) -> list[str]:
    """The ids of the ANTI_PATTERN combos whose every signal is in `signals` (a candidate's tags:
    pass active and shadow tags, a combo may name a shadow signal), in registry order."""
    registry = registry or load_signal_registry()
    present = set(signals)
    return [c.id for c in registry.anti_patterns if set(c.signals) <= present]


def anti_pattern_hits_expr(signals: pl.Expr, registry: SignalRegistry | None = None) -> pl.Expr:
    """`anti_pattern_hits` over a List(Utf8) column: a List(Utf8) of the completed anti-pattern ids."""
    registry = registry or load_signal_registry()
    hits = [
        pl.when(pl.all_horizontal([signals.list.contains(s) for s in c.signals])).then(pl.lit(c.id))
        for c in registry.anti_patterns
    ]
    if not hits:
        return pl.lit([], dtype=pl.List(pl.Utf8))
    return pl.concat_list(hits).list.drop_nulls()


# ---------------------------------------------------------------------------------------------
# signal_tags

TAGS_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "model_id": pl.Utf8,
        "family": pl.Utf8,
        "signal": pl.Utf8,
        "state": pl.Utf8,
        "model_dependent": pl.Boolean,
        "direction": pl.Utf8,
        "edge": pl.Float64,
        "confidence": pl.Float64,
        "detail": pl.Utf8,
    }
)
TAGS_KEY = ("game_id", "player_lookup", "model_id", "signal")
TAGS_DOC = {
    "game_date": "Game date (America/New_York): the partition key.",
    "game_id": "Canonical game id YYYYMMDD_AWAY_HOME.",
    "player_lookup": "Normalized player name.",
    "model_id": "The model of the tagged candidate prediction.",
    "family": "That model's family.",
    "signal": "The signal tag (config/signals.yaml); active or shadow, never a removed one.",
    "state": "The signal's registry state: active (counted for picks) or shadow (recorded only).",
    "model_dependent": "True when the signal reads the model's own output (edge, confidence, health).",
    "direction": "The candidate's direction (OVER / UNDER).",
    "edge": "The candidate's edge (|predicted - line|, points).",
    "confidence": "The candidate's confidence |2 p_over - 1|, on [0, 1].",
    "detail": "The values that qualified the candidate, against the thresholds (e.g. 'edge 5.4 >= 5').",
}


def _empty_lines() -> pl.DataFrame:
    return pl.DataFrame(schema={"game_id": pl.Utf8, "player_lookup": pl.Utf8, **LINE_INPUTS})


def candidate_frame(
    predictions: pl.DataFrame, features: pl.DataFrame | None, lines: pl.DataFrame | None
) -> pl.DataFrame:
    """The candidates (recommended OVER/UNDER, not quarantined, with a line) with the inputs the
    conditions read: `FEATURE_INPUTS` from player_features (NULL where the source is "default" or
    the table lacks the column) and `LINE_INPUTS` from player_lines, joined on (game_id,
    player_lookup) of the same day."""
    keys = ["game_id", "player_lookup"]
    candidates = predictions.filter(
        pl.col("recommendation").is_in(RECOMMENDED)
        & ~pl.col("quarantined").fill_null(False)
        & pl.col("line").is_not_null()
    ).select(PREDICTION_COLUMNS)
    features = features if features is not None else pl.DataFrame(schema={k: pl.Utf8 for k in keys})
    values = []
    for name in FEATURE_INPUTS:
        if name not in features.columns:
            values.append(pl.lit(None, dtype=pl.Float64).alias(name))
            continue
        value = pl.col(name).cast(pl.Float64)
        source = f"{name}__source"
        if source in features.columns:
            value = pl.when(pl.col(source) != "default").then(value)
        values.append(value.alias(name))
    feature_rows = features.select(*keys, *values).unique(keys, keep="first")
    lines = lines if lines is not None and lines.height else _empty_lines()
    line_rows = lines.select(
        *keys, *[pl.col(c).cast(t) if c in lines.columns else pl.lit(None, dtype=t).alias(c)
                 for c, t in LINE_INPUTS.items()]
    ).unique(keys, keep="first")  # fmt: skip
    return candidates.join(feature_rows, on=keys, how="left").join(line_rows, on=keys, how="left")


def check_confidence(candidates: pl.DataFrame) -> None:
    """Raise when a candidate's confidence is off the [0, 1] scale (a 0-100 column, say)."""
    bad = candidates.filter(pl.col("confidence").is_not_null() & ~pl.col("confidence").is_between(0.0, 1.0))
    if bad.height:
        sample = bad.select("game_id", "player_lookup", "model_id", "confidence").head(3).rows()
        raise ValueError(f"{bad.height} candidate(s) with confidence outside [0, 1] (it is a fraction): {sample}")


def _direction_ok(direction: str) -> pl.Expr:
    return pl.lit(True) if direction == ANY else pl.col("direction") == direction


def signal_expressions(registry: SignalRegistry) -> dict[str, tuple[pl.Expr, pl.Expr]]:
    """Per active / shadow signal: (fires, detail) — its own condition AND its direction AND the
    full conditions of the signals it requires; NULL reads as not firing."""
    by_tag = registry.by_tag

    def own(tag: str) -> tuple[pl.Expr, pl.Expr]:
        spec = by_tag[tag]
        fires, detail = CONDITIONS[tag][1](spec.parameters)
        return _direction_ok(spec.direction) & fires, detail

    def full(tag: str) -> pl.Expr:
        fires = own(tag)[0]
        for other in by_tag[tag].requires:
            fires = fires & full(other)
        return fires

    out = {}
    for tag in registry.tracked:
        detail = own(tag)[1]
        if by_tag[tag].requires:
            detail = pl.concat_str([own(o)[1] for o in by_tag[tag].requires], separator="; ")
        out[tag] = (full(tag).fill_null(False), detail)
    return out


def health_detail(candidates: pl.DataFrame, health_rows: pl.DataFrame | None) -> pl.DataFrame:
    """`_health_detail` per candidate: its family's model_performance_daily state of X - 1 with the
    state window's HR / N, or "no health row"."""
    label = load_health_config().state_label
    hr, n = f"hr_{label}", f"n_{label}"
    if health_rows is None or health_rows.height == 0 or "state" not in health_rows.columns:
        return candidates.with_columns(_health_detail=pl.lit(NO_HEALTH_ROW))
    prior = health_rows.select(
        "family",
        game_date=pl.col("game_date") + pl.duration(days=1),
        _health_detail=_txt(
            pl.col("family"),
            " ",
            pl.col("state"),
            " on ",
            pl.col("game_date").cast(pl.Utf8),
            f" ({label} HR ",
            pl.when(pl.col(hr).is_not_null()).then(_num(pl.col(hr) * 100, 1) + "%").otherwise(pl.lit("n/a")),
            ", N ",
            pl.col(n).cast(pl.Utf8),
            ")",
        ),  # fmt: skip
    ).unique(["family", "game_date"], keep="first")
    return candidates.join(prior, on=["family", "game_date"], how="left").with_columns(
        pl.col("_health_detail").fill_null(NO_HEALTH_ROW)
    )


def signal_tags(
    predictions: pl.DataFrame,
    features: pl.DataFrame | None,
    lines: pl.DataFrame | None,
    health_rows: pl.DataFrame | None = None,
    registry: SignalRegistry | None = None,
) -> pl.DataFrame:
    """The `signal_tags` rows (TAGS_SCHEMA) of the predictions' days: one per (candidate, signal
    that fires). `health_rows`: model_performance_daily rows of the days before (X - 1 is read)."""
    registry = registry or load_signal_registry()
    candidates = candidate_frame(predictions, features, lines)
    check_confidence(candidates)
    candidates = health_detail(candidates, health_rows)
    expressions = signal_expressions(registry)
    evaluated = candidates.with_columns(  # every signal in one pass
        [fires.alias(f"_fires_{tag}") for tag, (fires, _) in expressions.items()]
        + [detail.alias(f"_detail_{tag}") for tag, (_, detail) in expressions.items()]
    )
    by_tag = registry.by_tag
    parts = [
        evaluated.filter(pl.col(f"_fires_{tag}")).select(
            "game_date",
            "game_id",
            "player_lookup",
            "model_id",
            "family",
            signal=pl.lit(tag),
            state=pl.lit(by_tag[tag].state),
            model_dependent=pl.lit(by_tag[tag].model_dependent),
            direction="direction",
            edge="edge",
            confidence="confidence",
            detail=pl.col(f"_detail_{tag}"),
        )  # fmt: skip
        for tag in expressions
    ]
    rows = pl.concat(parts, how="vertical") if parts else pl.DataFrame(schema=TAGS_SCHEMA)
    return rows.select(TAGS_SCHEMA.names()).cast(dict(TAGS_SCHEMA)).sort(TAGS_KEY)


def invalid_tags(rows: pl.DataFrame, registry: SignalRegistry | None = None) -> pl.DataFrame:
    """Tags naming a removed or unknown signal, or whose state disagrees with the registry."""
    registry = registry or load_signal_registry()
    states = {s.tag: s.state for s in registry.signals if s.state != REMOVED}
    expected = pl.col("signal").replace_strict(states, default=None, return_dtype=pl.Utf8)
    return rows.filter(expected.is_null() | (expected != pl.col("state")))


def off_scale_confidence(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.filter(pl.col("confidence").is_null() | ~pl.col("confidence").is_between(0.0, 1.0))


def tags_markdown(rows: pl.DataFrame, registry: SignalRegistry) -> str:
    """The day's tag counts per signal (candidates tagged, players, OVER / UNDER), active first."""
    counts = (
        rows.group_by("signal")
        .agg(
            tags=pl.len(),
            players=pl.col("player_lookup").n_unique(),
            over=(pl.col("direction") == OVER).sum(),
            under=(pl.col("direction") == UNDER).sum(),
        )
        .to_dicts()
    )
    by_signal = {c["signal"]: c for c in counts}
    lines = ["| signal | state | tags | players | OVER | UNDER |", "|---|---|---|---|---|---|"]
    for spec in registry.signals:
        if spec.state == REMOVED:
            continue
        c = by_signal.get(spec.tag, {"tags": 0, "players": 0, "over": 0, "under": 0})
        lines.append(f"| {spec.tag} | {spec.state} | {c['tags']} | {c['players']} | {c['over']} | {c['under']} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# signal_health_daily


def health_schema(rules: HealthRules) -> pl.Schema:
    columns: dict[str, pl.DataType] = {
        "game_date": pl.Date(),
        "name": pl.Utf8(),
        "kind": pl.Utf8(),
        "state": pl.Utf8(),
        "model_dependent": pl.Boolean(),
    }
    for label in rules.window_labels:
        columns |= {f"wins_{label}": pl.Int64(), f"losses_{label}": pl.Int64(), f"n_{label}": pl.Int64(),
                    f"hr_{label}": pl.Float64()}  # fmt: skip
    columns |= {
        "hr_season_low": pl.Float64(),
        "hr_season_high": pl.Float64(),
        "divergence_points": pl.Float64(),
        "regime": pl.Utf8(),
        "status": pl.Utf8(),
    }
    return pl.Schema(columns)


HEALTH_KEY = ("game_date", "name")


def health_docs(rules: HealthRules) -> dict[str, str]:
    unit = "one unit = one (game, player, direction, signal or combo) with a WIN / LOSS result"
    docs = {
        "game_date": "The partition's game date (ET); every window ends on it, inclusive (after its games).",
        "name": "The signal tag (kind signal) or combo id (kind combo) of config/signals.yaml.",
        "kind": "signal or combo.",
        "state": "active or shadow (a combo: active when all its signals are).",
        "model_dependent": "The signal reads the model's output (a combo: any of its signals does).",
    }
    for label in rules.window_labels:
        span = "season to date" if label == SEASON_WINDOW else f"the {label} ending on game_date"
        docs |= {
            f"wins_{label}": f"WIN units over {span} ({unit}).",
            f"losses_{label}": f"LOSS units over {span}.",
            f"n_{label}": f"wins + losses over {span}.",
            f"hr_{label}": f"Hit rate wins / n over {span} (NULL when n = 0).",
        }
    docs |= {
        "hr_season_low": "Wilson 95% interval of hr_season, low bound.",
        "hr_season_high": "Wilson 95% interval of hr_season, high bound.",
        "divergence_points": f"(hr_{rules.regime_label} - hr_season) x 100, percentage points.",
        "regime": f"HOT (divergence >= {rules.hot_from_points:g}), COLD (<= {rules.cold_from_points:g}) or NORMAL "
        f"(also when n_{rules.regime_label} or n_season < {rules.regime_min_n}).",
        "status": "DEGRADING (COLD and model-dependent), WATCH (COLD otherwise) or HEALTHY.",
    }
    return docs


def _graded_units(tags: pl.DataFrame, accuracy: pl.DataFrame, name_column: str) -> pl.DataFrame:
    """One row per counted unit (UNIT_KEY) with its result: the tagged predictions' WIN / LOSS
    results, collapsed over models (deterministically: the lowest model_id's)."""
    results = accuracy.select("game_id", "player_lookup", "model_id", "result").filter(
        pl.col("result").is_in([WIN, LOSS])
    )
    return (
        tags.rename({name_column: "name"})
        .join(results, on=["game_id", "player_lookup", "model_id"], how="inner")
        .sort("model_id")
        .group_by(UNIT_KEY, maintain_order=True)
        .agg(pl.col("result").first())
    )


def combo_units(tags: pl.DataFrame, registry: SignalRegistry) -> pl.DataFrame:
    """Per candidate prediction (game_id, player_lookup, model_id) carrying every signal of a
    combo: one row with `combo` = its id (and the candidate's game_date, direction)."""
    keys = ["game_date", "game_id", "player_lookup", "model_id", "direction"]
    if not registry.combos or tags.height == 0:
        return pl.DataFrame(schema={**{k: tags.schema[k] for k in keys}, "combo": pl.Utf8})
    grouped = tags.group_by(keys).agg(pl.col("signal"))
    parts = [
        grouped.filter(pl.all_horizontal([pl.col("signal").list.contains(s) for s in c.signals])).select(
            *keys, combo=pl.lit(c.id)
        )
        for c in registry.combos
    ]
    return pl.concat(parts)


def _wilson_expr(wins: pl.Expr, n: pl.Expr, z: float = WILSON_Z) -> tuple[pl.Expr, pl.Expr]:
    """grading.wilson_interval as expressions (NULL when n = 0)."""
    nf = n.cast(pl.Float64)
    p = wins.cast(pl.Float64) / nf
    z2 = z * z
    denominator = 1.0 + z2 / nf
    centre = (p + z2 / (2 * nf)) / denominator
    margin = z * (p * (1.0 - p) / nf + z2 / (4 * nf * nf)).sqrt() / denominator
    valid = n > 0
    return (
        pl.when(valid).then((centre - margin).clip(lower_bound=0.0)),
        pl.when(valid).then((centre + margin).clip(upper_bound=1.0)),
    )


def _names_frame(registry: SignalRegistry) -> pl.DataFrame:
    rows = [
        {"name": s.tag, "kind": KIND_SIGNAL, "state": s.state, "model_dependent": s.model_dependent}
        for s in registry.signals
        if s.state != REMOVED
    ]
    rows += [
        {"name": c.id, "kind": KIND_COMBO, "state": registry.combo_state(c),
         "model_dependent": registry.combo_model_dependent(c)}
        for c in registry.combos
    ]  # fmt: skip
    return pl.DataFrame(
        rows, schema={"name": pl.Utf8, "kind": pl.Utf8, "state": pl.Utf8, "model_dependent": pl.Boolean}
    )


def signal_health(
    tags: pl.DataFrame,
    accuracy: pl.DataFrame,
    *,
    start: date,
    end: date,
    registry: SignalRegistry | None = None,
) -> pl.DataFrame:
    """The `signal_health_daily` rows of start .. end (module doc). `tags`: signal_tags rows and
    `accuracy`: prediction_accuracy rows, each of at least the `health.history_days` days ending
    on `end` (older rows are ignored). Every active / shadow signal and every combo gets a row
    each day; tags of removed or unknown signals are ignored."""
    registry = registry or load_signal_registry()
    rules = registry.health
    schema = health_schema(rules)
    if end < start:
        return pl.DataFrame(schema=schema)
    first = start - timedelta(days=rules.history_days - 1)
    tags = tags.filter(pl.col("game_date").is_between(first, end) & pl.col("signal").is_in(registry.tracked))
    accuracy = accuracy.filter(pl.col("game_date").is_between(first, end))
    units = pl.concat(
        [
            _graded_units(tags.select(*UNIT_KEY[:-2], "model_id", "direction", "signal"), accuracy, "signal"),
            _graded_units(combo_units(tags, registry), accuracy, "combo"),
        ]
    )
    daily = units.group_by("name", "game_date").agg(
        wins_day=(pl.col("result") == WIN).sum().cast(pl.Int64),
        losses_day=(pl.col("result") == LOSS).sum().cast(pl.Int64),
    )
    names = _names_frame(registry)
    days = pl.DataFrame({"game_date": pl.date_range(first, end, "1d", eager=True)})
    grid = (
        names.join(days, how="cross")
        .join(daily, on=["name", "game_date"], how="left")
        .with_columns(pl.col("wins_day", "losses_day").fill_null(0))
        .sort("name", "game_date")
    )
    exprs = [
        pl.col(f"{side}_day").rolling_sum_by("game_date", window_size=f"{w}d").over("name").alias(f"{side}_{w}d")
        for w in rules.windows
        for side in ("wins", "losses")
    ]
    season = seasons.season_label_expr(pl.col("game_date"))
    exprs += [pl.col(f"{side}_day").cum_sum().over("name", season).alias(f"{side}_{SEASON_WINDOW}")
              for side in ("wins", "losses")]  # fmt: skip
    grid = grid.with_columns(exprs).filter(pl.col("game_date").is_between(start, end))
    labels = rules.window_labels
    grid = grid.with_columns([(pl.col(f"wins_{lb}") + pl.col(f"losses_{lb}")).alias(f"n_{lb}") for lb in labels])
    grid = grid.with_columns(
        [pl.when(pl.col(f"n_{lb}") > 0).then(pl.col(f"wins_{lb}") / pl.col(f"n_{lb}")).alias(f"hr_{lb}")
         for lb in labels]
    )  # fmt: skip
    low, high = _wilson_expr(pl.col(f"wins_{SEASON_WINDOW}"), pl.col(f"n_{SEASON_WINDOW}"))
    regime_label = rules.regime_label
    divergence = (pl.col(f"hr_{regime_label}") - pl.col(f"hr_{SEASON_WINDOW}")) * 100.0
    grid = grid.with_columns(hr_season_low=low, hr_season_high=high, divergence_points=divergence)
    enough = (pl.col(f"n_{regime_label}") >= rules.regime_min_n) & (pl.col(f"n_{SEASON_WINDOW}") >= rules.regime_min_n)
    div = pl.col("divergence_points")
    grid = grid.with_columns(
        regime=pl.when(~enough | div.is_null())
        .then(pl.lit(NORMAL))
        .when(div >= rules.hot_from_points - TOLERANCE)
        .then(pl.lit(HOT))
        .when(div <= rules.cold_from_points + TOLERANCE)
        .then(pl.lit(COLD))
        .otherwise(pl.lit(NORMAL))
    ).with_columns(
        status=pl.when((pl.col("regime") == COLD) & pl.col("model_dependent"))
        .then(pl.lit(DEGRADING))
        .when(pl.col("regime") == COLD)
        .then(pl.lit(WATCH))
        .otherwise(pl.lit(HEALTHY))
    )
    return grid.select(schema.names()).cast(dict(schema)).sort("game_date", "kind", "name")


def invalid_health_rows(rows: pl.DataFrame, registry: SignalRegistry) -> pl.DataFrame:
    """Rows breaking the table's own rules: a name outside the registry (a removed signal: a
    ghost), n != wins + losses, a hit rate off [0, 1], unknown regime / status."""
    known = [*registry.tracked, *(c.id for c in registry.combos)]
    bad = ~pl.col("name").is_in(known) | ~pl.col("regime").is_in((HOT, NORMAL, COLD))
    bad = bad | ~pl.col("status").is_in((HEALTHY, WATCH, DEGRADING))
    for lb in registry.health.window_labels:
        bad = bad | (pl.col(f"n_{lb}") != pl.col(f"wins_{lb}") + pl.col(f"losses_{lb}"))
        bad = bad | (pl.col(f"hr_{lb}").is_not_null() & ~pl.col(f"hr_{lb}").is_between(0, 1))
    return rows.filter(bad)


def _pct(hr: float | None) -> str:
    return "n/a" if hr is None else f"{hr * 100:.1f}%"


def health_markdown(rows: pl.DataFrame, rules: HealthRules) -> str:
    """The day's signal and combo health as a markdown table."""
    r7 = rules.regime_label
    lines = [
        f"| name | kind | state | {r7} HR (N) | season HR (N) | season 95% CI | divergence | regime | status |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows.sort("kind", "state", "name", descending=[True, False, False]).iter_rows(named=True):
        ci = "" if r["hr_season_low"] is None else f"{_pct(r['hr_season_low'])} - {_pct(r['hr_season_high'])}"
        div = "" if r["divergence_points"] is None else f"{r['divergence_points']:+.1f}"
        cells = [r["name"], r["kind"], r["state"], f"{_pct(r[f'hr_{r7}'])} ({r[f'n_{r7}']})",
                 f"{_pct(r['hr_season'])} ({r['n_season']})", ci, div, r["regime"], r["status"]]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


__all__: Sequence[str] = (
    "CONDITIONS", "HEALTH_KEY", "SignalRegistry", "TAGS_KEY", "TAGS_SCHEMA", "anti_pattern_hits",
    "anti_pattern_hits_expr", "candidate_frame", "combo_units", "health_docs", "health_schema", "invalid_health_rows",
    "invalid_tags", "load_signal_registry", "signal_expressions", "signal_health", "signal_tags",
)  # fmt: skip
