"""Model health and decay: one row per (game_date, model family) from graded predictions.

Input: rows shaped like `prediction_accuracy` (`ACCURACY_CONTRACT`, one row per graded
prediction) and the `trained_models` registry (week_start, family, model_id). Rules:
`config/health.yaml` (`HealthConfig`). Pure polars (no dagster).

What counts (`counted_picks`): graded RECOMMENDED picks (OVER/UNDER, not quarantined) with edge >=
`edge_floor` whose result is WIN or LOSS (pushes, voids and pending results are not counted).

Per (game_date X, family), every window ENDS on X (inclusive):
- rolling `windows` (7 / 14 / 30 calendar days: X-w+1 .. X) and season-to-date (the season of
  X, `seasons.season_label`, from its first day .. X): wins, losses, n, hr = wins / n and its
  Wilson 95% interval (`grading.wilson_interval`);
- the day itself: wins, losses, n, hr, ROI at each pick's own price (`grading.profit_expr`;
  `default_price` only where a pick has no real price, counted in `default_priced_day`); MAE
  and bias (predicted - actual) over every non-quarantined prediction with an actual; Brier of
  P(over) over the non-quarantined decided rows (result WIN/LOSS, any recommendation);
- state from the state window: INSUFFICIENT_DATA (n < min_n), BLOCKED / DEGRADING / WATCH /
  HEALTHY by the bands (strictly below a band's bound is that state; exactly 52.4% is
  DEGRADING, exactly 55% WATCH, exactly 58% HEALTHY);
- `days_below_watch`: consecutive days ending on X whose state is WATCH, DEGRADING or BLOCKED
  (the state-window HR below the watch bound); 0 when X is not;
- transition vs X-1's state (computed here from the history, never read from a previous
  run): DEGRADED (a worse band), RECOVERED (a better band), NO_CHANGE (same band, or a side is
  INSUFFICIENT_DATA) with a reason;
- days since training: the family's newest registry model with week_start <= X (a model is
  trained on the Monday of its week on data before it), banded FRESH / ROUTINE / OVERDUE /
  URGENT; NO_MODEL without a model in the last `staleness.lookback_days` days;
- decay signals: `challenger` (a non-champion beats the champion's state-window HR by >=
  `min_margin_points` points with n >= `min_n`) and `market_crash` (>= `min_models` families
  with a daily HR below `hr_below_pct` over >= `min_daily_n` picks: market disruption, do not
  switch), explained in `decay_signal`.

Same rows whatever the run: a day's row depends only on the accuracy rows of the
`history_days` days ending on it (the asset reads exactly that window); the streak is capped at
`streak_cap_days` (the days whose state that window determines), so a single-day run and a
season backfill write identical rows. Health used by anything on day X is the row of X - 1
(`health_as_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from nba_props import seasons
from nba_props.lib.config_files import CONFIG_DIR, load_config
from nba_props.lib.grading import ACCURACY_SCHEMA, LOSS, OVER, UNDER, WIN, profit_expr, wilson_interval
from nba_props.lib.models.registry import LifecycleState

HEALTH_CONFIG_PATH = CONFIG_DIR / "health.yaml"
TABLE = "model_performance_daily"
KEY = ("game_date", "family")
TOLERANCE = 1e-9  # float noise: an edge of exactly 3.0 counts, a hit rate of exactly 52.4% is not below 52.4

INSUFFICIENT_DATA, BLOCKED, DEGRADING, WATCH, HEALTHY = "INSUFFICIENT_DATA", "BLOCKED", "DEGRADING", "WATCH", "HEALTHY"
STATES = (INSUFFICIENT_DATA, BLOCKED, DEGRADING, WATCH, HEALTHY)
_RANK = {BLOCKED: 0, DEGRADING: 1, WATCH: 2, HEALTHY: 3}
_BY_RANK = {rank: state for state, rank in _RANK.items()}
BELOW_WATCH = (BLOCKED, DEGRADING, WATCH)
ALERT_STATES = (BLOCKED, DEGRADING)  # the champion in one of these: the champion_health check warns
DEGRADED, RECOVERED, NO_CHANGE = "DEGRADED", "RECOVERED", "NO_CHANGE"
TRANSITIONS = (DEGRADED, RECOVERED, NO_CHANGE)
FRESH, ROUTINE, OVERDUE, URGENT, NO_MODEL = "FRESH", "ROUTINE", "OVERDUE", "URGENT", "NO_MODEL"
STALENESS = (FRESH, ROUTINE, OVERDUE, URGENT, NO_MODEL)
SEASON_WINDOW = "season"
CHAMPION_DECISIONS = ("SEED", "KEEP", "SWITCH")  # lib/champion.py TRANSITIONS (it imports this module)


# ---------------------------------------------------------------------------------------------
# config


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bands(_Rules):
    """Percent bounds; strictly below a bound is that state."""

    blocked_below: float = Field(gt=0, lt=100)
    degrading_below: float = Field(gt=0, lt=100)
    watch_below: float = Field(gt=0, lt=100)

    @model_validator(mode="after")
    def _ordered(self) -> Bands:
        if not self.blocked_below < self.degrading_below < self.watch_below:
            raise ValueError("bands must be blocked_below < degrading_below < watch_below")
        return self


class Staleness(_Rules):
    routine_from: int = Field(ge=1)
    overdue_from: int = Field(ge=1)
    urgent_from: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Staleness:
        if not self.routine_from < self.overdue_from < self.urgent_from:
            raise ValueError("staleness must be routine_from < overdue_from < urgent_from")
        return self

    @property
    def lookback_days(self) -> int:
        """How far back a model is looked for: a week past URGENT (older: NO_MODEL)."""
        return self.urgent_from + 7


class ChallengerRule(_Rules):
    min_margin_points: float = Field(gt=0)
    min_n: int = Field(ge=1)


class CrashRule(_Rules):
    hr_below_pct: float = Field(gt=0, lt=100)
    min_models: int = Field(ge=2)
    min_daily_n: int = Field(ge=1)


class ChampionSelection(_Rules):
    """Champion by evidence (lib/champion.py): the record window, the minimum N, the margin a
    challenger must lead by, for how many slate days, and the states never chosen."""

    window: str
    min_n: int = Field(ge=1)
    margin_points: float = Field(ge=0)
    persistence_slate_days: int = Field(ge=1)
    ineligible_states: tuple[str, ...]

    @model_validator(mode="after")
    def _valid(self) -> ChampionSelection:
        unknown = sorted(set(self.ineligible_states) - set(STATES))
        if unknown:
            raise ValueError(f"champion_selection.ineligible_states: unknown states {unknown} (known: {STATES})")
        return self


class HealthConfig(_Rules):
    windows: tuple[int, ...] = Field(min_length=1)
    state_window: int = Field(ge=1)
    edge_floor: float = Field(ge=0)
    min_n: int = Field(ge=1)
    bands: Bands
    staleness: Staleness
    challenger: ChallengerRule
    crash: CrashRule
    default_price: int
    champion_selection: ChampionSelection

    @model_validator(mode="after")
    def _valid(self) -> HealthConfig:
        if any(w < 1 for w in self.windows) or list(self.windows) != sorted(set(self.windows)):
            raise ValueError(f"windows must be increasing positive day counts, got {self.windows}")
        if self.state_window not in self.windows:
            raise ValueError(f"state_window {self.state_window} must be one of windows {self.windows}")
        if abs(self.default_price) < 100:
            raise ValueError(f"default_price {self.default_price} is not an American price (|price| >= 100)")
        if self.champion_selection.window not in self.window_labels:
            raise ValueError(
                f"champion_selection.window {self.champion_selection.window!r} must be one of {self.window_labels}"
            )
        return self

    @property
    def history_days(self) -> int:
        """Calendar days of accuracy rows a day's row depends on (ending on the day): the longest
        window (a rolling one, or a season label's span for season-to-date) plus the state window,
        so that the state of every day of that span (the streak, the previous day) is exact."""
        return max(max(self.windows), season_span_days()) + self.state_window

    @property
    def input_days(self) -> int:
        """Calendar days of accuracy rows the asset reads, ending on the run's last day: the
        champion of a day is scanned from its season label's first day (up to a season label's
        span earlier), whose rows need their longest window exact too. >= history_days."""
        return max(self.history_days, season_span_days() + max(self.windows))

    @property
    def registry_days(self) -> int:
        """Days of trained_models weeks the asset reads: from the season label's first day, each
        day's newest model within the staleness lookback (`model_id`: a family serving a model)."""
        return season_span_days() + self.staleness.lookback_days + 1

    @property
    def streak_cap_days(self) -> int:
        """The most days `days_below_watch` counts: the days whose state `history_days` determines."""
        return self.history_days - self.state_window + 1

    @property
    def window_labels(self) -> tuple[str, ...]:
        return (*(f"{w}d" for w in self.windows), SEASON_WINDOW)

    @property
    def state_label(self) -> str:
        return f"{self.state_window}d"


def load_health_config(path: str | Path | None = None) -> HealthConfig:
    return load_config(HealthConfig, path or HEALTH_CONFIG_PATH)


def season_span_days() -> int:
    """The most calendar days one season label covers (from the 1st of `SEASON_START_MONTH` to
    the day before the next one's): 366 (a leap year). Season-to-date never reaches further."""
    month = seasons.SEASON_START_MONTH
    return max((date(year + 1, month, 1) - date(year, month, 1)).days for year in range(2000, 2004))


# ---------------------------------------------------------------------------------------------
# the input contract (prediction_accuracy, built by the grading stage) and the output table

# the graded predictions as the grading stage writes them (lib/grading.py: one definition)
ACCURACY_CONTRACT = ACCURACY_SCHEMA
# the columns read here (a table with more columns is fine)
USED_COLUMNS = (
    "game_date", "family", "predicted_points", "actual_points", "line", "edge", "p_over",
    "recommendation", "quarantined", "price", "result",
)  # fmt: skip


def performance_schema(config: HealthConfig) -> pl.Schema:
    columns: dict[str, pl.DataType] = {
        "game_date": pl.Date(),
        "family": pl.Utf8(),
        "is_champion": pl.Boolean(),
        "next_champion": pl.Utf8(),
        "champion_transition": pl.Utf8(),
        "champion_reason": pl.Utf8(),
        "model_id": pl.Utf8(),
        "model_week_start": pl.Date(),
        "days_since_training": pl.Int64(),
        "staleness": pl.Utf8(),
    }
    for label in config.window_labels:
        columns |= {
            f"wins_{label}": pl.Int64(),
            f"losses_{label}": pl.Int64(),
            f"n_{label}": pl.Int64(),
            f"hr_{label}": pl.Float64(),
            f"hr_{label}_low": pl.Float64(),
            f"hr_{label}_high": pl.Float64(),
        }
    columns |= {
        "wins_day": pl.Int64(),
        "losses_day": pl.Int64(),
        "n_day": pl.Int64(),
        "hr_day": pl.Float64(),
        "roi_day": pl.Float64(),
        "default_priced_day": pl.Int64(),
        "mae_day": pl.Float64(),
        "bias_day": pl.Float64(),
        "n_mae_day": pl.Int64(),
        "brier_day": pl.Float64(),
        "n_brier_day": pl.Int64(),
        "state": pl.Utf8(),
        "previous_state": pl.Utf8(),
        "transition": pl.Utf8(),
        "transition_reason": pl.Utf8(),
        "days_below_watch": pl.Int64(),
        "challenger": pl.Boolean(),
        "market_crash": pl.Boolean(),
        "decay_signal": pl.Utf8(),
    }
    return pl.Schema(columns)


def performance_docs(config: HealthConfig) -> dict[str, str]:
    floor = f"edge >= {config.edge_floor:g}"
    docs = {
        "game_date": "The partition's game date (ET); every window ends on it, inclusive.",
        "family": "The model family (config/models.yaml).",
        "is_champion": "True for the game date's champion: chosen by evidence from the records as of the day "
        "before (config/health.yaml champion_selection; each season label starts from models.yaml `champion`).",
        "next_champion": "The champion of game_date + 1, chosen from the records through game_date (what "
        "anything running on the next day reads); the same on every row of the day.",
        "champion_transition": "The decision for game_date + 1: SWITCH (the champion changes), KEEP, or SEED "
        "(a new season label starts from the configured champion).",
        "champion_reason": "Why, with the evidence: the families, their records (HR, N), the lead and its slate "
        "days, or why no switch.",
        "model_id": "The family's newest trained model with week_start <= game_date not blocked by governance "
        "(NULL: none in the lookback).",
        "model_week_start": "That model's week_start (the Monday it was trained, on data before it).",
        "days_since_training": "game_date - model_week_start, in days (NULL without a model).",
        "staleness": f"FRESH (< {config.staleness.routine_from} days), ROUTINE, OVERDUE (from "
        f"{config.staleness.overdue_from}), URGENT (from {config.staleness.urgent_from}) or NO_MODEL.",
    }
    for label in config.window_labels:
        span = "season to date (the season's first day .. game_date)" if label == SEASON_WINDOW else f"the {label}"
        docs |= {
            f"wins_{label}": f"WIN picks over {span}: recommended, not quarantined, {floor}.",
            f"losses_{label}": f"LOSS picks over {span} (pushes and voids not counted).",
            f"n_{label}": f"wins + losses over {span}.",
            f"hr_{label}": f"Hit rate wins / n over {span} (NULL when n = 0).",
            f"hr_{label}_low": f"Wilson 95% interval, low bound, of hr_{label}.",
            f"hr_{label}_high": f"Wilson 95% interval, high bound, of hr_{label}.",
        }
    docs |= {
        "wins_day": f"WIN picks of the day (recommended, not quarantined, {floor}).",
        "losses_day": "LOSS picks of the day.",
        "n_day": "wins_day + losses_day.",
        "hr_day": "The day's hit rate (NULL when n_day = 0).",
        "roi_day": f"Return per unit staked on the day's picks at each pick's own price "
        f"({config.default_price} where it has none); NULL without a pick.",
        "default_priced_day": f"The day's picks without a real price, priced at {config.default_price}.",
        "mae_day": "Mean |predicted - actual| over the day's non-quarantined predictions with an actual.",
        "bias_day": "Mean (predicted - actual) over the same rows.",
        "n_mae_day": "Rows of mae_day / bias_day.",
        "brier_day": "Mean (p_over - [actual > line])^2 over the day's non-quarantined decided rows (WIN/LOSS).",
        "n_brier_day": "Rows of brier_day.",
        "state": f"From the {config.state_label} window: INSUFFICIENT_DATA (n < {config.min_n}), BLOCKED "
        f"(< {config.bands.blocked_below:g}%), DEGRADING (< {config.bands.degrading_below:g}%), WATCH "
        f"(< {config.bands.watch_below:g}%) or HEALTHY.",
        "previous_state": "The state of game_date - 1 (computed from the same history).",
        "transition": "DEGRADED (worse band), RECOVERED (better band) or NO_CHANGE.",
        "transition_reason": "Why: the two states and the hit rate against the bound crossed.",
        "days_below_watch": f"Consecutive days ending on game_date in WATCH, DEGRADING or BLOCKED (capped at "
        f"{config.streak_cap_days}).",
        "challenger": f"A non-champion whose {config.state_label} HR beats the champion's by >= "
        f"{config.challenger.min_margin_points:g} points with n >= {config.challenger.min_n}.",
        "market_crash": f"True when at least {config.crash.min_models} families are below {config.crash.hr_below_pct:g}% on the day "
        f"(each n_day >= {config.crash.min_daily_n}): market disruption, do not switch models.",
        "decay_signal": "The challenger / crash signal explained; NULL when neither.",
    }
    return docs


# ---------------------------------------------------------------------------------------------
# rules


def counted_picks(accuracy: pl.DataFrame, config: HealthConfig) -> pl.DataFrame:
    """The picks that count: recommended (OVER/UNDER), not quarantined, edge >= the floor, WIN/LOSS."""
    return accuracy.filter(
        pl.col("recommendation").is_in([OVER, UNDER])
        & ~pl.col("quarantined").fill_null(False)
        & (pl.col("edge") >= config.edge_floor - TOLERANCE)
        & pl.col("result").is_in([WIN, LOSS])
    )


def state_of(hr: float | None, n: int, config: HealthConfig) -> str:
    """The state of a window's hit rate (a fraction) over n counted picks."""
    if n < config.min_n or hr is None:
        return INSUFFICIENT_DATA
    pct = hr * 100.0
    bands = config.bands
    if pct < bands.blocked_below - TOLERANCE:
        return BLOCKED
    if pct < bands.degrading_below - TOLERANCE:
        return DEGRADING
    if pct < bands.watch_below - TOLERANCE:
        return WATCH
    return HEALTHY


def state_expr(hr: pl.Expr, n: pl.Expr, config: HealthConfig) -> pl.Expr:
    """`state_of` as an expression."""
    pct, bands = hr * 100.0, config.bands
    return (
        pl.when((n < config.min_n) | hr.is_null())
        .then(pl.lit(INSUFFICIENT_DATA))
        .when(pct < bands.blocked_below - TOLERANCE)
        .then(pl.lit(BLOCKED))
        .when(pct < bands.degrading_below - TOLERANCE)
        .then(pl.lit(DEGRADING))
        .when(pct < bands.watch_below - TOLERANCE)
        .then(pl.lit(WATCH))
        .otherwise(pl.lit(HEALTHY))
    )


def staleness_of(days: int | None, config: HealthConfig) -> str:
    rules = config.staleness
    if days is None or days > rules.lookback_days:
        return NO_MODEL
    if days >= rules.urgent_from:
        return URGENT
    if days >= rules.overdue_from:
        return OVERDUE
    if days >= rules.routine_from:
        return ROUTINE
    return FRESH


def transition_of(previous: str | None, state: str) -> str:
    if previous is None or previous == INSUFFICIENT_DATA or state == INSUFFICIENT_DATA:
        return NO_CHANGE
    if _RANK[state] < _RANK[previous]:
        return DEGRADED
    if _RANK[state] > _RANK[previous]:
        return RECOVERED
    return NO_CHANGE


def _pct(hr: float | None) -> str:
    return "n/a" if hr is None else f"{hr * 100:.1f}%"


def _bound(state: str, config: HealthConfig) -> float | None:
    """The band bound a state sits below (None for HEALTHY / INSUFFICIENT_DATA)."""
    return {
        BLOCKED: config.bands.blocked_below,
        DEGRADING: config.bands.degrading_below,
        WATCH: config.bands.watch_below,
    }.get(state)


def transition_reason(previous: str | None, state: str, hr: float | None, n: int, config: HealthConfig) -> str:
    label, figures = config.state_label, f"{config.state_label} HR {_pct(hr)}, N {n}"
    if previous is None:
        return f"{state} ({figures}); no previous day"
    if state == INSUFFICIENT_DATA:
        return f"{previous} -> {state}: N {n} < {config.min_n} over {label}"
    if previous == INSUFFICIENT_DATA:
        return f"{previous} -> {state} ({figures}); nothing to compare"
    move = transition_of(previous, state)
    if move == DEGRADED:
        return f"{previous} -> {state}: {label} HR {_pct(hr)} < {_bound(state, config):g}% (N {n})"
    if move == RECOVERED:  # the floor of the state reached (HEALTHY: >= the watch bound)
        floor = _bound(_BY_RANK[_RANK[state] - 1], config)
        return f"{previous} -> {state}: {label} HR {_pct(hr)} >= {floor:g}% (N {n})"
    return f"{state} ({figures})"


# ---------------------------------------------------------------------------------------------
# the table


def _wilson(wins: int, n: int) -> tuple[float | None, float | None]:
    return wilson_interval(int(wins), int(n)) if n else (None, None)


def model_performance(
    accuracy: pl.DataFrame,
    registry: pl.DataFrame | None,
    *,
    start: date,
    end: date,
    champion: str,
    families: Iterable[str] = (),
    config: HealthConfig | None = None,
    choices: list[pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """The `model_performance_daily` rows of start .. end (see the module doc). `accuracy`:
    prediction_accuracy rows (at least `USED_COLUMNS`) of at least the `input_days` days
    ending on `end` (rows outside that span are ignored). `registry`: trained_models rows
    (week_start, family, model_id) of at least `registry_days`. `families`: those that always get
    a row (the configured ones, in config order: the families a champion may be chosen from);
    any other family gets one on a day with accuracy rows in its history. `champion`: the
    configured champion, the seed of each season label's champion scan (lib/champion.py): the
    rows are computed from the first day of start's season label so that the champion of every
    day is the same whatever the run's range. `choices`, when given, receives the per-day
    champion frame (`champion.SCHEMA`) of start .. end + 1."""
    from nba_props.lib import champion as champions  # the champion rules read these rows

    config = config or load_health_config()
    schema = performance_schema(config)
    if end < start:
        return pl.DataFrame(schema=schema)
    scan_start = min(start, champions.label_first_day(start))
    first = scan_start - timedelta(days=config.history_days - 1)
    rows = accuracy.select(USED_COLUMNS).filter(pl.col("game_date").is_between(first, end))
    grid = _grid(rows, families, first, end, config)
    if grid.height == 0:
        return pl.DataFrame(schema=schema)
    grid = _windows(grid, rows, config)
    grid = _states(grid, config)
    out = grid.filter(pl.col("game_date").is_between(scan_start, end))
    out = _day_figures(out, rows, config)
    out = _training(out, registry, config)
    out = _crash(out, config)
    eligible = list(dict.fromkeys(families)) or sorted(out.get_column("family").unique().to_list())
    chosen = champions.choose_champions(out, seed=champion, families=eligible, config=config)
    out = _signals(out.filter(pl.col("game_date").is_between(start, end)), chosen, champion, config)
    out = _intervals_and_reasons(out, config)
    if choices is not None:
        choices.append(chosen.filter(pl.col("game_date").is_between(start, end + timedelta(days=1))))
    return out.select(schema.names()).cast(dict(schema)).sort("game_date", "family")


def _grid(rows: pl.DataFrame, families: Iterable[str], first: date, end: date, config: HealthConfig) -> pl.DataFrame:
    """Every (family, day) of first .. end with the day's row count; kept for a configured
    family, or when the family has rows in the history of that day."""
    names = sorted(set(families) | set(rows.get_column("family").drop_nulls().unique().to_list()))
    if not names:
        return pl.DataFrame(schema={"family": pl.Utf8, "game_date": pl.Date})
    days = pl.DataFrame({"game_date": pl.date_range(first, end, "1d", eager=True)})
    grid = pl.DataFrame({"family": names}).join(days, how="cross")
    counts = rows.group_by("family", "game_date").agg(rows_day=pl.len())
    grid = (
        grid.join(counts, on=["family", "game_date"], how="left")
        .with_columns(pl.col("rows_day").fill_null(0))
        .sort("family", "game_date")
    )
    seen = pl.col("rows_day").rolling_sum(window_size=config.history_days, min_samples=1).over("family")
    keep = pl.col("family").is_in(sorted(set(families))) | (seen > 0)
    return grid.filter(keep).drop("rows_day")


def _windows(grid: pl.DataFrame, rows: pl.DataFrame, config: HealthConfig) -> pl.DataFrame:
    picks = counted_picks(rows, config)
    daily = picks.group_by("family", "game_date").agg(
        wins_day=(pl.col("result") == WIN).sum().cast(pl.Int64),
        losses_day=(pl.col("result") == LOSS).sum().cast(pl.Int64),
    )
    grid = (
        grid.join(daily, on=["family", "game_date"], how="left")
        .with_columns(pl.col("wins_day", "losses_day").fill_null(0))
        .sort("family", "game_date")
    )
    # the grid is dense (one row per calendar day) only when every day is kept; a family kept
    # for part of the span only has gaps, so windows are taken over dates, not rows
    exprs = []
    for window in config.windows:
        for side in ("wins", "losses"):
            exprs.append(
                pl.col(f"{side}_day")
                .rolling_sum_by("game_date", window_size=f"{window}d")
                .over("family")
                .alias(f"{side}_{window}d")
            )
    season = seasons.season_label_expr(pl.col("game_date"))
    exprs += [pl.col(f"{side}_day").cum_sum().over("family", season).alias(f"{side}_{SEASON_WINDOW}")
              for side in ("wins", "losses")]  # fmt: skip
    grid = grid.with_columns(exprs)
    return grid.with_columns(
        [(pl.col(f"wins_{lb}") + pl.col(f"losses_{lb}")).alias(f"n_{lb}") for lb in config.window_labels]
        + [pl.col("wins_day").add(pl.col("losses_day")).alias("n_day")]
    ).with_columns(
        [
            pl.when(pl.col(f"n_{lb}") > 0).then(pl.col(f"wins_{lb}") / pl.col(f"n_{lb}")).alias(f"hr_{lb}")
            for lb in (*config.window_labels, "day")
        ]
    )


def _states(grid: pl.DataFrame, config: HealthConfig) -> pl.DataFrame:
    label = config.state_label
    grid = grid.sort("family", "game_date").with_columns(
        state=state_expr(pl.col(f"hr_{label}"), pl.col(f"n_{label}"), config)
    )
    yesterday = pl.col("game_date") - pl.duration(days=1)
    previous = grid.select("family", game_date=pl.col("game_date") + pl.duration(days=1), previous_state="state")
    grid = grid.join(previous, on=["family", "game_date"], how="left")
    # a run of consecutive calendar days below watch: a new run starts on a day not below, or
    # after a gap in the family's days
    below = pl.col("state").is_in(BELOW_WATCH)
    gap = pl.col("game_date").shift(1).over("family") != yesterday
    breaks = (~below | gap.fill_null(True)).cast(pl.Int64).cum_sum().over("family")
    grid = grid.with_columns(_run=breaks).with_columns(
        days_below_watch=pl.when(below)
        .then(below.cast(pl.Int64).cum_sum().over("family", "_run"))
        .otherwise(0)
        .clip(upper_bound=config.streak_cap_days)
    )
    return grid.drop("_run")


def _day_figures(out: pl.DataFrame, rows: pl.DataFrame, config: HealthConfig) -> pl.DataFrame:
    days = out.select("family", "game_date").unique()
    live = rows.join(days, on=["family", "game_date"], how="semi").filter(~pl.col("quarantined").fill_null(False))
    errors = (
        live.filter(pl.col("actual_points").is_not_null() & pl.col("predicted_points").is_not_null())
        .with_columns(err=pl.col("predicted_points") - pl.col("actual_points"))
        .group_by("family", "game_date")
        .agg(mae_day=pl.col("err").abs().mean(), bias_day=pl.col("err").mean(), n_mae_day=pl.len().cast(pl.Int64))
    )
    brier = (
        live.filter(pl.col("result").is_in([WIN, LOSS]) & pl.col("p_over").is_not_null())
        .with_columns(hit=(pl.col("actual_points") > pl.col("line")).cast(pl.Float64))
        .group_by("family", "game_date")
        .agg(brier_day=((pl.col("p_over") - pl.col("hit")) ** 2).mean(), n_brier_day=pl.len().cast(pl.Int64))
    )
    picks = counted_picks(rows.join(days, on=["family", "game_date"], how="semi"), config)
    price = pl.col("price").cast(pl.Float64)
    money_frame = (
        picks.with_columns(_priced=price.is_not_nan() & (price.abs() >= 100))
        .with_columns(price=pl.when(pl.col("_priced")).then(price).otherwise(config.default_price))
        .group_by("family", "game_date")
        .agg(
            roi_day=profit_expr(pl.col("result"), pl.col("price")).mean(),
            default_priced_day=(~pl.col("_priced").fill_null(False)).sum().cast(pl.Int64),
        )
    )
    keys = ["family", "game_date"]
    return (
        out.join(errors, on=keys, how="left")
        .join(brier, on=keys, how="left")
        .join(money_frame, on=keys, how="left")
        .with_columns(pl.col("n_mae_day", "n_brier_day", "default_priced_day").fill_null(0))
    )


def _training(out: pl.DataFrame, registry: pl.DataFrame | None, config: HealthConfig) -> pl.DataFrame:
    if registry is not None and "lifecycle_state" in registry.columns:
        # a model blocked by governance never serves: the family's newest model is the one before it
        registry = registry.filter(pl.col("lifecycle_state").fill_null("") != LifecycleState.BLOCKED.value)
    models = (
        registry.select("family", "model_id", model_week_start="week_start")
        if registry is not None and registry.height
        else pl.DataFrame(schema={"family": pl.Utf8, "model_id": pl.Utf8, "model_week_start": pl.Date})
    )
    joined = out.sort("game_date").join_asof(
        models.sort("model_week_start"), left_on="game_date", right_on="model_week_start", by="family",
        strategy="backward", check_sortedness=False,
    )  # fmt: skip
    age = (pl.col("game_date") - pl.col("model_week_start")).dt.total_days()
    in_lookback = age <= config.staleness.lookback_days
    rules = config.staleness
    joined = joined.with_columns(
        model_id=pl.when(in_lookback).then(pl.col("model_id")),
        model_week_start=pl.when(in_lookback).then(pl.col("model_week_start")),
        days_since_training=pl.when(in_lookback).then(age),
    )
    days = pl.col("days_since_training")
    return joined.with_columns(
        staleness=pl.when(days.is_null())
        .then(pl.lit(NO_MODEL))
        .when(days >= rules.urgent_from)
        .then(pl.lit(URGENT))
        .when(days >= rules.overdue_from)
        .then(pl.lit(OVERDUE))
        .when(days >= rules.routine_from)
        .then(pl.lit(ROUTINE))
        .otherwise(pl.lit(FRESH))
    )


def _crash(out: pl.DataFrame, config: HealthConfig) -> pl.DataFrame:
    """market_crash (and the crashing families) per day: the champion choice reads it."""
    crash_rule = config.crash
    crashing = (pl.col("n_day") >= crash_rule.min_daily_n) & (
        pl.col("hr_day") * 100.0 < crash_rule.hr_below_pct - TOLERANCE
    )
    per_day = out.group_by("game_date").agg(crash_families=pl.col("family").filter(crashing).sort())
    return out.join(per_day, on="game_date", how="left").with_columns(
        market_crash=pl.col("crash_families").list.len() >= crash_rule.min_models
    )


def _signals(out: pl.DataFrame, chosen: pl.DataFrame, seed: str, config: HealthConfig) -> pl.DataFrame:
    """is_champion (the day's chosen champion), the next day's choice and the challenger signal."""
    label = config.state_label
    hr, n = pl.col(f"hr_{label}"), pl.col(f"n_{label}")
    of_day = chosen.select("game_date", _champion="champion")
    of_next = chosen.select(
        (pl.col("game_date") - pl.duration(days=1)).alias("game_date"),
        next_champion="champion",
        champion_transition="transition",
        champion_reason="reason",
    )
    out = (
        out.join(of_day, on="game_date", how="left")
        .join(of_next, on="game_date", how="left")
        .with_columns(pl.col("_champion").fill_null(pl.lit(seed)))
    )
    champ = out.filter(pl.col("family") == pl.col("_champion")).select("game_date", champion_hr=hr, champion_n=n)
    rule = config.challenger
    return (
        out.join(champ, on="game_date", how="left")
        .with_columns(
            is_champion=pl.col("family") == pl.col("_champion"),
            challenger=(pl.col("family") != pl.col("_champion"))
            & (n >= rule.min_n)
            & pl.col("champion_hr").is_not_null()
            & ((hr - pl.col("champion_hr")) * 100.0 >= rule.min_margin_points - TOLERANCE),
        )
        .with_columns(pl.col("challenger").fill_null(False))
        .drop("_champion")
    )


def _intervals_and_reasons(out: pl.DataFrame, config: HealthConfig) -> pl.DataFrame:
    label = config.state_label
    records = out.to_dicts()
    extra: dict[str, list] = {"transition": [], "transition_reason": [], "decay_signal": []}
    for lb in config.window_labels:
        extra[f"hr_{lb}_low"], extra[f"hr_{lb}_high"] = [], []
    for r in records:
        for lb in config.window_labels:
            low, high = _wilson(r[f"wins_{lb}"], r[f"n_{lb}"])
            extra[f"hr_{lb}_low"].append(low)
            extra[f"hr_{lb}_high"].append(high)
        extra["transition"].append(transition_of(r["previous_state"], r["state"]))
        extra["transition_reason"].append(
            transition_reason(r["previous_state"], r["state"], r[f"hr_{label}"], r[f"n_{label}"], config)
        )
        extra["decay_signal"].append(_decay_signal(r, config))
    return out.with_columns(pl.Series(name, values, dtype=pl.Float64 if name.startswith("hr_") else pl.Utf8)
                            for name, values in extra.items())  # fmt: skip


def _decay_signal(r: dict, config: HealthConfig) -> str | None:
    label = config.state_label
    parts = []
    if r["market_crash"]:
        names = ", ".join(r["crash_families"])
        parts.append(
            f"CRASH: {len(r['crash_families'])} models below {config.crash.hr_below_pct:g}% today ({names}): "
            "market disruption, do not switch"
        )
    if r["challenger"]:
        margin = (r[f"hr_{label}"] - r["champion_hr"]) * 100.0
        parts.append(
            f"CHALLENGER: {label} HR {_pct(r[f'hr_{label}'])} vs champion {_pct(r['champion_hr'])} "
            f"(+{margin:.1f} pts, N {r[f'n_{label}']})"
            + ("; ignored while the market crashes" if r["market_crash"] else "")  # fmt: skip
        )
    return "; ".join(parts) or None


# ---------------------------------------------------------------------------------------------
# reading health


def health_as_of(table: pl.DataFrame, day: date) -> pl.DataFrame:
    """The health anything running on `day` may use: the rows of day - 1 (a day's own row is
    only complete once its games are graded, so it is never used the same day)."""
    return table.filter(pl.col("game_date") == day - timedelta(days=1))


def champion_alert(rows: pl.DataFrame, day: date) -> tuple[bool, str]:
    """(passed, message) of the champion_health check on `day`: fails when the day's champion
    (`is_champion`: chosen by evidence) is BLOCKED or DEGRADING."""
    row = rows.filter((pl.col("game_date") == day) & pl.col("is_champion"))
    if row.height == 0:
        return True, f"no champion row on {day}"
    r = row.row(0, named=True)
    return r["state"] not in ALERT_STATES, (
        f"champion {r['family']} {r['state']} on {day}: {r['transition_reason']}"
        + (f"; next day: {r['champion_reason']}" if r["champion_transition"] == "SWITCH" else "")
    )


def states_markdown(rows: pl.DataFrame, config: HealthConfig) -> str:
    """The day's model states as a markdown table (one line per family)."""
    label = config.state_label
    lines = [
        f"| family | state | {label} HR | {label} N | season HR | MAE | transition | days trained | signal |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows.sort("family").iter_rows(named=True):
        name = f"**{r['family']}** (champion)" if r["is_champion"] else r["family"]
        mae = "" if r["mae_day"] is None else f"{r['mae_day']:.2f}"
        trained = "" if r["days_since_training"] is None else f"{r['days_since_training']} ({r['staleness']})"
        cells = [name, r["state"], _pct(r[f"hr_{label}"]), str(r[f"n_{label}"]), _pct(r[f"hr_{SEASON_WINDOW}"]), mae,
                 r["transition"], trained, r["decay_signal"] or ""]  # fmt: skip
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def season_start(end: date) -> date:
    """The first day a season timeline ending on `end` shows: opening night of end's season
    (or `end` itself before that season opens)."""
    return min(end, seasons.season_of(end).opening_night)


def state_rank_expr(state: pl.Expr) -> pl.Expr:
    """A state as a number that plots (BLOCKED 0 .. HEALTHY 3; INSUFFICIENT_DATA null)."""
    return state.replace_strict(_RANK, default=None, return_dtype=pl.Int64)


def timeline_markdown(rows: pl.DataFrame, family: str | None, config: HealthConfig) -> str:
    """One family's day-by-day health as a markdown table (newest first) from its first day with a
    counted pick of the season: the state, the state-window HR with N, season-to-date HR, and the
    transition with its reason when the state changed. `rows`: model_performance_daily rows.
    `family` None: each day's chosen champion (`is_champion`), named in a column, with the
    champion switches decided on the day."""
    label = config.state_label
    days = rows.filter(pl.col("family") == family) if family else rows.filter(pl.col("is_champion"))
    # from the first day with a counted pick of the season (the days before it say nothing)
    started = days.filter(pl.col(f"n_{SEASON_WINDOW}") > 0)
    if started.height:
        days = days.filter(pl.col("game_date") >= started.get_column("game_date").min())
    days = days.sort("game_date", descending=True)
    head = ["date"] + ([] if family else ["champion"]) + ["state", f"{label} HR", f"{label} N", "season HR",
                                                           "day W-L", "change"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in days.iter_rows(named=True):
        change = "" if r["transition"] == NO_CHANGE else f"{r['transition']}: {r['transition_reason']}"
        if not family and r["champion_transition"] == "SWITCH":
            change = "; ".join(c for c in (change, f"CHAMPION {r['champion_reason']}") if c)
        cells = [str(r["game_date"])] + ([] if family else [r["family"]]) + [
            r["state"], _pct(r[f"hr_{label}"]), str(r[f"n_{label}"]), _pct(r[f"hr_{SEASON_WINDOW}"]),
            f"{r['wins_day']}-{r['losses_day']}", change]  # fmt: skip
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def valid_rows(rows: pl.DataFrame, config: HealthConfig) -> pl.DataFrame:
    """Rows breaking the table's own arithmetic: n != wins + losses, hr outside [0, 1], a state
    outside STATES, a window shorter than the one before it counting more picks, or a missing /
    unknown champion decision."""
    bad = pl.lit(False)
    for lb in (*config.window_labels, "day"):
        bad = bad | (pl.col(f"n_{lb}") != pl.col(f"wins_{lb}") + pl.col(f"losses_{lb}"))
        bad = bad | (pl.col(f"hr_{lb}").is_not_null() & ~pl.col(f"hr_{lb}").is_between(0, 1))
    for shorter, longer in zip(config.windows, config.windows[1:], strict=False):
        bad = bad | (pl.col(f"n_{shorter}d") > pl.col(f"n_{longer}d"))
    bad = bad | ~pl.col("state").is_in(STATES) | ~pl.col("transition").is_in(TRANSITIONS)
    # the champion choice: a known decision, and a next champion exactly when there is one
    bad = bad | ~pl.col("champion_transition").is_in(CHAMPION_DECISIONS).fill_null(False)
    bad = bad | pl.col("next_champion").is_null()
    return rows.filter(bad)


__all__: Sequence[str] = (
    "ACCURACY_CONTRACT", "HealthConfig", "champion_alert", "counted_picks", "health_as_of", "load_health_config",
    "model_performance", "performance_docs", "performance_schema", "season_start", "state_of", "state_rank_expr",
    "staleness_of", "states_markdown", "timeline_markdown", "transition_of", "valid_rows",
)  # fmt: skip
