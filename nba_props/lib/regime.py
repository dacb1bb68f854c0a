"""Market regime (after the games) and the pre-game signal (before them): pure polars, no dagster.

Rules in `config/regime.yaml` (`RegimeConfig`).

**market_regime** (`market_regime(accuracy, champion, start, end, config)`): one row per game date
of [start, end] and model family, for each family with at least one prediction row in
`prediction_accuracy` on that date (the family's "slate day"); every family's figures are its own
(its windows, its slate days), computed in one pass grouped by family. `is_champion` marks the
row of the day's champion: chosen by evidence (`champion` = lib/champion.py `champions_for_days`:
model_performance_daily's `next_champion` of the day before, the configured champion without
one), or one family for every day. A day whose champion has no prediction row has no champion
row. Figures are over the family's RECOMMENDED predictions (recommendation OVER / UNDER and not
quarantined):

- the day: `picks`, `max_edge` (0.0 on a slate day without a pick: no edge was on offer, which is
  exactly what a compressed market looks like), `picks_edge_low` / `picks_edge_high` (edge >= the
  two floors, 1e-9 tolerance).
- windows of `short` / `medium` / `long` CALENDAR days ending ON the date (inclusive). A day
  without games (no prediction row of the family) is not a day of any mean: means of daily figures
  divide by `slate_days_*` (the days with games in the window), never by the calendar days. A slate
  day without a pick counts, with max edge 0 and no edge-5+ pick.
  `avg_max_edge_short|long` = mean daily max edge; `compression` = short / long (NULL when the long
  mean is 0 or NULL); `edge_high_per_day_short|long` = edge-5+ picks / slate days.
- `residual_bias_short` = mean(predicted - actual) over the window's picks with an actual and no
  void (row-weighted, pooled over the window).
- `line_mae_short|medium` = mean |line - actual| and `model_mae_*` = mean |predicted - actual| over
  the window's DECIDED picks (result WIN / LOSS; pooled, row-weighted); `mae_gap_*` = model - line
  (< 0: the model was closer to the outcome than the line where it bet). `line_state_*` TIGHT /
  NORMAL / LOOSE by `line_mae`.
- colours GREEN / YELLOW / RED (NO_DATA when the figure is NULL) of `compression`,
  `avg_max_edge_short` and `edge_high_per_day_short`; `regime_colour` = the worst of the three
  (NO_DATA only when all three are).
- best-bet metrics (`market_regime.best_bets`), from `pick_accuracy` (the ledger's COUNTED picks,
  decided WIN / LOSS only): `best_bets_hr` with its N over the `hit_rate` window (3 calendar days
  ending on the date), the OVER and UNDER hit rates over the `direction` window (14 days) and
  their `best_bets_divergence` in points (OVER - UNDER). Their own colours
  (`best_bets_hr_colour`, `best_bets_divergence_colour`; NO_DATA below `min_decided` picks), kept
  OUT of `regime_colour` (the family's edge supply, unchanged). They are the day's (the ledger's
  picks, whatever family they came from): the same on every family's row of a date.

**pre_game_signal** (`pre_game_signal(predictions, schedule, config)`): per date and model_id with
at least `min_lined_predictions` lined predictions (line not NULL; quarantined rows included: they
are part of what the market offered). `slate_games` = the date's schedule games that are not
postponed / cancelled. `high_edge` = lined predictions with edge >= `high_edge`; `pct_over` /
`pct_under` = 100 * OVER (UNDER) / lined; skew, volume and the daily signal by the config rules
(strict inequalities: exactly 25% OVER is not UNDER_HEAVY; exactly 40% is not OVER_HEAVY; exactly
45% is not YELLOW; a slate of exactly 4 games IS RED), with a one-line explanation.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from nba_props.lib.champion import champions_for_days
from nba_props.lib.config_files import CONFIG_DIR, load_config
from nba_props.lib.grading import ACCURACY_SCHEMA

DEFAULT_CONFIG_PATH = CONFIG_DIR / "regime.yaml"
EDGE_TOLERANCE = 1e-9
GREEN, YELLOW, RED, NO_DATA = "GREEN", "YELLOW", "RED", "NO_DATA"
COLOURS = (GREEN, YELLOW, RED, NO_DATA)
TIGHT, NORMAL, LOOSE = "TIGHT", "NORMAL", "LOOSE"
UNDER_HEAVY, OVER_HEAVY, BALANCED = "UNDER_HEAVY", "OVER_HEAVY", "BALANCED"
LOW, HIGH = "LOW", "HIGH"  # volume: LOW / NORMAL / HIGH
RECOMMENDED = ("OVER", "UNDER")
DECIDED = ("WIN", "LOSS")
NOT_PLAYED = ("postponed", "cancelled")


# ----------------------------------------------------------------------------- config


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Frozen):
    """GREEN at or above `green_at_least`, RED below `red_below`, YELLOW between."""

    green_at_least: float
    red_below: float

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.red_below > self.green_at_least:
            raise ValueError(f"red_below {self.red_below} is above green_at_least {self.green_at_least}")
        return self


class Windows(_Frozen):
    short: int = Field(ge=1)
    medium: int = Field(ge=1)
    long: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Windows:
        if not self.short <= self.medium <= self.long:
            raise ValueError("windows must satisfy short <= medium <= long")
        return self


class EdgeFloors(_Frozen):
    low: float = Field(gt=0)
    high: float = Field(gt=0)


class LineMaeBands(_Frozen):
    tight_below: float = Field(gt=0)
    loose_above: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> LineMaeBands:
        if self.tight_below > self.loose_above:
            raise ValueError("line_mae: tight_below must not exceed loose_above")
        return self


class BestBetWindows(_Frozen):
    hit_rate: int = Field(ge=1)
    direction: int = Field(ge=1)


class DivergenceBand(_Frozen):
    """|OVER HR - UNDER HR| in points: GREEN below `yellow_at_least`, RED at or above `red_at_least`."""

    yellow_at_least: float = Field(ge=0)
    red_at_least: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> DivergenceBand:
        if self.yellow_at_least > self.red_at_least:
            raise ValueError("divergence: yellow_at_least must not exceed red_at_least")
        return self


class BestBetMetrics(_Frozen):
    windows: BestBetWindows
    min_decided: int = Field(ge=1)
    hit_rate: Band
    divergence: DivergenceBand

    @property
    def history_days(self) -> int:
        """Calendar days of pick_accuracy the asset reads, the partition's day included."""
        return max(self.windows.hit_rate, self.windows.direction)


class MarketRegimeConfig(_Frozen):
    windows: Windows
    edge_floors: EdgeFloors
    compression: Band
    max_edge: Band
    edge_high_per_day: Band
    line_mae: LineMaeBands
    best_bets: BestBetMetrics

    @property
    def history_days(self) -> int:
        """Calendar days the asset reads, the partition's day included: the longest window."""
        return max(self.windows.short, self.windows.medium, self.windows.long, self.best_bets.history_days)


class Skew(_Frozen):
    under_heavy_below_pct: float = Field(ge=0, le=100)
    over_heavy_above_pct: float = Field(ge=0, le=100)


class Volume(_Frozen):
    low_below: int = Field(ge=0)
    high_above: int = Field(ge=0)


class SignalRules(_Frozen):
    red_max_games: int = Field(ge=0)
    red_over_below_pct: float = Field(ge=0, le=100)
    yellow_high_edge_below: int = Field(ge=0)
    yellow_over_above_pct: float = Field(ge=0, le=100)


class PreGameSignalConfig(_Frozen):
    min_lined_predictions: int = Field(ge=1)
    high_edge: float = Field(gt=0)
    skew: Skew
    volume: Volume
    signal: SignalRules


class RegimeConfig(_Frozen):
    market_regime: MarketRegimeConfig
    pre_game_signal: PreGameSignalConfig


def load_regime_config(path: str | Path | None = None) -> RegimeConfig:
    """`config/regime.yaml` (or `path`), validated; cached per path."""
    return load_config(RegimeConfig, path or DEFAULT_CONFIG_PATH)


# ----------------------------------------------------------------------------- tables

# What market_regime reads: the graded predictions as the grading stage writes them (one definition)
PREDICTION_ACCURACY_CONTRACT = ACCURACY_SCHEMA

MARKET_REGIME_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date,
        "family": pl.Utf8,
        "is_champion": pl.Boolean,
        "picks": pl.Int64,
        "max_edge": pl.Float64,
        "picks_edge_low": pl.Int64,
        "picks_edge_high": pl.Int64,
        "slate_days_short": pl.Int64,
        "slate_days_long": pl.Int64,
        "avg_max_edge_short": pl.Float64,
        "avg_max_edge_long": pl.Float64,
        "compression": pl.Float64,
        "edge_high_per_day_short": pl.Float64,
        "edge_high_per_day_long": pl.Float64,
        "residual_bias_short": pl.Float64,
        "n_bias_short": pl.Int64,
        "line_mae_short": pl.Float64,
        "model_mae_short": pl.Float64,
        "mae_gap_short": pl.Float64,
        "n_decided_short": pl.Int64,
        "line_state_short": pl.Utf8,
        "line_mae_medium": pl.Float64,
        "model_mae_medium": pl.Float64,
        "mae_gap_medium": pl.Float64,
        "n_decided_medium": pl.Int64,
        "line_state_medium": pl.Utf8,
        "compression_colour": pl.Utf8,
        "max_edge_colour": pl.Utf8,
        "edge_high_colour": pl.Utf8,
        "regime_colour": pl.Utf8,
        "best_bets_wins": pl.Int64,
        "best_bets_n": pl.Int64,
        "best_bets_hr": pl.Float64,
        "best_bets_over_n": pl.Int64,
        "best_bets_over_hr": pl.Float64,
        "best_bets_under_n": pl.Int64,
        "best_bets_under_hr": pl.Float64,
        "best_bets_divergence": pl.Float64,
        "best_bets_hr_colour": pl.Utf8,
        "best_bets_divergence_colour": pl.Utf8,
    }
)
MARKET_REGIME_KEY = ("game_date", "family")


def market_regime_doc(config: MarketRegimeConfig) -> dict[str, str]:
    w, f = config.windows, config.edge_floors
    slate = " A day without games (no prediction of the family) is not counted; a day with games and no pick counts."
    return {
        "game_date": "Game date (America/New_York): the partition key. Only dates on which the family has "
        "predictions (days with games) get a row; every window ends on this date (inclusive).",
        "family": "The model family measured (every family with predictions on the date gets its own row).",
        "is_champion": "True on the row of the date's champion, chosen by evidence: model_performance_daily's "
        "next_champion of the day before (config/health.yaml champion_selection), the configured champion of "
        "config/models.yaml without one. Read the champion's regime with is_champion; a date whose champion has "
        "no predictions has no such row.",
        "picks": "The day's recommended predictions (OVER / UNDER, not quarantined).",
        "max_edge": "The day's largest edge among its picks; 0 when the day has games but no pick.",
        "picks_edge_low": f"The day's picks with edge >= {f.low:g}.",
        "picks_edge_high": f"The day's picks with edge >= {f.high:g}.",
        "slate_days_short": f"Days with games in the {w.short} calendar days ending on the date: the divisor of "
        "the short window's daily means.",
        "slate_days_long": f"Days with games in the {w.long} calendar days ending on the date: the divisor of "
        "the long window's daily means.",
        "avg_max_edge_short": f"Mean daily max edge over the days with games of the last {w.short} calendar days."
        + slate,
        "avg_max_edge_long": f"Mean daily max edge over the days with games of the last {w.long} calendar days."
        + slate,
        "compression": f"avg_max_edge_short / avg_max_edge_long ({w.short} vs {w.long} days; < 1: edges "
        "shrinking). NULL when the long mean is 0 or NULL.",
        "edge_high_per_day_short": f"Picks with edge >= {f.high:g} per day with games, last {w.short} days." + slate,
        "edge_high_per_day_long": f"Picks with edge >= {f.high:g} per day with games, last {w.long} days." + slate,
        "residual_bias_short": f"Mean predicted - actual over the picks with an actual (voids excluded) of the "
        f"last {w.short} days, pooled over rows (> 0: over-predicting). NULL without such a pick.",
        "n_bias_short": "The picks residual_bias_short is computed on.",
        "line_mae_short": f"Mean |line - actual| over the decided (WIN / LOSS) picks of the last {w.short} days, "
        "pooled over rows. NULL without a decided pick.",
        "model_mae_short": "Mean |predicted - actual| over the same decided picks as line_mae_short.",
        "mae_gap_short": "model_mae_short - line_mae_short (< 0: the model was closer than the line).",
        "n_decided_short": "The decided picks of the short window.",
        "line_state_short": f"TIGHT (line MAE < {config.line_mae.tight_below:g}) / LOOSE "
        f"(> {config.line_mae.loose_above:g}) / NORMAL; NO_DATA when NULL.",
        "line_mae_medium": f"Mean |line - actual| over the decided picks of the last {w.medium} days.",
        "model_mae_medium": "Mean |predicted - actual| over the same decided picks as line_mae_medium.",
        "mae_gap_medium": "model_mae_medium - line_mae_medium.",
        "n_decided_medium": "The decided picks of the medium window.",
        "line_state_medium": "TIGHT / NORMAL / LOOSE of line_mae_medium; NO_DATA when NULL.",
        "compression_colour": f"GREEN (>= {config.compression.green_at_least:g}) / RED "
        f"(< {config.compression.red_below:g}) / YELLOW; NO_DATA when NULL.",
        "max_edge_colour": f"avg_max_edge_short: GREEN (>= {config.max_edge.green_at_least:g}) / RED "
        f"(< {config.max_edge.red_below:g}) / YELLOW; NO_DATA when NULL.",
        "edge_high_colour": f"edge_high_per_day_short: GREEN (>= {config.edge_high_per_day.green_at_least:g}) / "
        f"RED (< {config.edge_high_per_day.red_below:g}) / YELLOW; NO_DATA when NULL.",
        "regime_colour": "The worst of the three colours (RED > YELLOW > GREEN); NO_DATA only when all are. The "
        "best-bet colours are separate (not part of it).",
        **best_bets_doc(config.best_bets),
    }


def best_bets_doc(config: BestBetMetrics) -> dict[str, str]:
    w, m = config.windows, config.min_decided
    picks = "counted best bets (pick_accuracy: ledger status published) decided WIN / LOSS"
    return {
        "best_bets_wins": f"Wins of the {picks} in the {w.hit_rate} calendar days ending on the date.",
        "best_bets_n": f"The {picks} in the {w.hit_rate} calendar days ending on the date (the HR's N).",
        "best_bets_hr": f"{w.hit_rate}-day best-bet hit rate: best_bets_wins / best_bets_n; NULL without a decided pick.",
        "best_bets_over_n": f"OVER {picks} in the {w.direction} calendar days ending on the date.",
        "best_bets_over_hr": f"{w.direction}-day hit rate of the OVER best bets; NULL without one.",
        "best_bets_under_n": f"UNDER {picks} in the {w.direction} calendar days ending on the date.",
        "best_bets_under_hr": f"{w.direction}-day hit rate of the UNDER best bets; NULL without one.",
        "best_bets_divergence": "100 * (best_bets_over_hr - best_bets_under_hr), in points (> 0: OVER doing better); "
        "NULL unless both sides have a decided pick.",
        "best_bets_hr_colour": f"best_bets_hr: GREEN (>= {config.hit_rate.green_at_least:g}) / RED "
        f"(< {config.hit_rate.red_below:g}) / YELLOW; NO_DATA with fewer than {m} decided picks.",
        "best_bets_divergence_colour": f"|best_bets_divergence|: GREEN (< {config.divergence.yellow_at_least:g} "
        f"points) / YELLOW / RED (>= {config.divergence.red_at_least:g}); NO_DATA unless each side has >= {m} "
        "decided picks.",
    }


PRE_GAME_SIGNAL_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date,
        "model_id": pl.Utf8,
        "family": pl.Utf8,
        "slate_games": pl.Int64,
        "lined_predictions": pl.Int64,
        "high_edge": pl.Int64,
        "over": pl.Int64,
        "under": pl.Int64,
        "pct_over": pl.Float64,
        "pct_under": pl.Float64,
        "skew": pl.Utf8,
        "volume": pl.Utf8,
        "signal": pl.Utf8,
        "explanation": pl.Utf8,
    }
)
PRE_GAME_SIGNAL_KEY = ("game_date", "model_id")


def pre_game_signal_doc(config: PreGameSignalConfig) -> dict[str, str]:
    s, v, r = config.skew, config.volume, config.signal
    return {
        "game_date": "Game date (America/New_York): the partition key; computed before the games from that "
        "date's predictions and schedule only.",
        "model_id": f"The model (registry id) with at least {config.min_lined_predictions} lined predictions.",
        "family": "The model's family.",
        "slate_games": "The date's scheduled games, postponed / cancelled ones excluded.",
        "lined_predictions": "The model's predictions with a line (quarantined ones included).",
        "high_edge": f"Lined predictions with edge >= {config.high_edge:g}.",
        "over": "Lined predictions on the OVER side.",
        "under": "Lined predictions on the UNDER side.",
        "pct_over": "100 * over / lined_predictions.",
        "pct_under": "100 * under / lined_predictions.",
        "skew": f"UNDER_HEAVY (pct_over < {s.under_heavy_below_pct:g}) / OVER_HEAVY (> {s.over_heavy_above_pct:g}) "
        "/ BALANCED.",
        "volume": f"LOW (high_edge < {v.low_below}) / HIGH (> {v.high_above}) / NORMAL.",
        "signal": f"RED (slate <= {r.red_max_games} games or pct_over < {r.red_over_below_pct:g}) / YELLOW "
        f"(high_edge < {r.yellow_high_edge_below} or pct_over > {r.yellow_over_above_pct:g}) / GREEN.",
        "explanation": "One line: the signal and the rules that set it, with the figures.",
    }


# ----------------------------------------------------------------------------- market regime


def band_colour(value: pl.Expr, band: Band) -> pl.Expr:
    return (
        pl.when(value.is_null() | value.is_nan())
        .then(pl.lit(NO_DATA))
        .when(value >= band.green_at_least)
        .then(pl.lit(GREEN))
        .when(value < band.red_below)
        .then(pl.lit(RED))
        .otherwise(pl.lit(YELLOW))
    )


def line_state(value: pl.Expr, bands: LineMaeBands) -> pl.Expr:
    return (
        pl.when(value.is_null())
        .then(pl.lit(NO_DATA))
        .when(value < bands.tight_below)
        .then(pl.lit(TIGHT))
        .when(value > bands.loose_above)
        .then(pl.lit(LOOSE))
        .otherwise(pl.lit(NORMAL))
    )


def worst_colour(*colours: pl.Expr) -> pl.Expr:
    rank = {NO_DATA: 0, GREEN: 1, YELLOW: 2, RED: 3}
    ranked = [c.replace_strict(rank, return_dtype=pl.Int8) for c in colours]
    worst = pl.max_horizontal(ranked)
    return worst.replace_strict({v: k for k, v in rank.items()}, return_dtype=pl.Utf8)


def daily_figures(accuracy: pl.DataFrame, config: MarketRegimeConfig) -> pl.DataFrame:
    """Per (family, game date) with a row of the family: the day's figures and the sums the windows pool."""
    floors = config.edge_floors
    picked = pl.col("recommendation").is_in(RECOMMENDED) & ~pl.col("quarantined").fill_null(False)
    edge = pl.col("edge")
    with_actual = picked & pl.col("actual_points").is_not_null() & pl.col("void_reason").is_null()
    with_actual = with_actual & pl.col("result").ne_missing("VOID")
    decided = picked & pl.col("result").is_in(DECIDED) & pl.col("line").is_not_null()
    decided = decided & pl.col("actual_points").is_not_null()
    return (
        accuracy.filter(pl.col("family").is_not_null())
        .group_by("family", "game_date")
        .agg(
            picks=picked.sum().cast(pl.Int64),
            max_edge=edge.filter(picked).max().fill_null(0.0).cast(pl.Float64),
            picks_edge_low=(picked & (edge >= floors.low - EDGE_TOLERANCE)).sum().cast(pl.Int64),
            picks_edge_high=(picked & (edge >= floors.high - EDGE_TOLERANCE)).sum().cast(pl.Int64),
            bias_sum=(pl.col("predicted_points") - pl.col("actual_points")).filter(with_actual).sum(),
            bias_n=with_actual.sum().cast(pl.Int64),
            line_abs_sum=(pl.col("line") - pl.col("actual_points")).abs().filter(decided).sum(),
            model_abs_sum=(pl.col("predicted_points") - pl.col("actual_points")).abs().filter(decided).sum(),
            decided_n=decided.sum().cast(pl.Int64),
        )
        .with_columns(slate=pl.lit(1, dtype=pl.Int64))
        .sort("family", "game_date")
    )


def _ratio(num: str, den: str) -> pl.Expr:
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).otherwise(None)


PICK_ACCURACY_CONTRACT = pl.Schema(
    {"game_date": pl.Date, "direction": pl.Utf8, "counted": pl.Boolean, "result": pl.Utf8}
)  # what the best-bet metrics read of pick_accuracy
BB_SUMS = ("bb_w", "bb_n", "bb_over_w", "bb_over_n", "bb_under_w", "bb_under_n")


def best_bet_daily(picks: pl.DataFrame | None) -> pl.DataFrame:
    """Per game date: wins / decided of the counted best bets, overall and per side."""
    schema = {"game_date": pl.Date, **{c: pl.Int64 for c in BB_SUMS}}
    if picks is None or picks.height == 0:
        return pl.DataFrame(schema=schema)
    decided = picks.filter(pl.col("counted").fill_null(False) & pl.col("result").is_in(DECIDED))
    win = pl.col("result") == "WIN"
    over, under = pl.col("direction") == "OVER", pl.col("direction") == "UNDER"
    return (
        decided.group_by("game_date")
        .agg(
            bb_w=win.sum(),
            bb_n=pl.len(),
            bb_over_w=(win & over).sum(),
            bb_over_n=over.sum(),
            bb_under_w=(win & under).sum(),
            bb_under_n=under.sum(),
        )
        .select(pl.col(c).cast(t) for c, t in schema.items())
    )


def _best_bet_columns(frame: pl.DataFrame, config: BestBetMetrics) -> pl.DataFrame:
    w, m = config.windows, config.min_decided

    def rolled(column: str, days: int) -> pl.Expr:
        return pl.col(column).rolling_sum(window_size=days, min_samples=1)

    frame = frame.with_columns(
        best_bets_wins=rolled("bb_w", w.hit_rate),
        best_bets_n=rolled("bb_n", w.hit_rate),
        _over_w=rolled("bb_over_w", w.direction),
        best_bets_over_n=rolled("bb_over_n", w.direction),
        _under_w=rolled("bb_under_w", w.direction),
        best_bets_under_n=rolled("bb_under_n", w.direction),
    ).with_columns(
        best_bets_hr=_ratio("best_bets_wins", "best_bets_n"),
        best_bets_over_hr=_ratio("_over_w", "best_bets_over_n"),
        best_bets_under_hr=_ratio("_under_w", "best_bets_under_n"),
    )
    divergence = pl.col("best_bets_divergence").abs()
    d = config.divergence
    return frame.with_columns(
        best_bets_divergence=100.0 * (pl.col("best_bets_over_hr") - pl.col("best_bets_under_hr"))
    ).with_columns(
        best_bets_hr_colour=pl.when(pl.col("best_bets_n") < m)
        .then(pl.lit(NO_DATA))
        .otherwise(band_colour(pl.col("best_bets_hr"), config.hit_rate)),
        best_bets_divergence_colour=pl.when(
            (pl.col("best_bets_over_n") < m) | (pl.col("best_bets_under_n") < m) | divergence.is_null()
        )
        .then(pl.lit(NO_DATA))
        .when(divergence >= d.red_at_least)
        .then(pl.lit(RED))
        .when(divergence >= d.yellow_at_least)
        .then(pl.lit(YELLOW))
        .otherwise(pl.lit(GREEN)),
    )


def market_regime(
    accuracy: pl.DataFrame,
    champion: str | pl.DataFrame,
    start: date,
    end: date,
    config: MarketRegimeConfig,
    picks: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The `market_regime` rows of [start, end] (see the module doc): every family's. `accuracy`
    holds prediction_accuracy rows; only those dated within the longest window before each date
    are used (rows outside [start - (long - 1), end] are ignored). `champion`: the days' champions
    (a frame game_date, champion: lib/champion.py `champions_for_days`) or one family for every day;
    it sets `is_champion`. `picks` (pick_accuracy rows, optional) gives the best-bet metrics (NULL /
    NO_DATA without)."""
    w = config.windows
    first = start - timedelta(days=config.history_days - 1)
    if isinstance(champion, str):  # one family every day: the seed path of the one helper (no evidence)
        champion = champions_for_days(pl.DataFrame(), pl.date_range(start, end, "1d", eager=True).to_list(), champion)
    rows = accuracy.filter(pl.col("game_date").is_between(first, end))
    daily = daily_figures(rows, config)
    calendar = pl.DataFrame({"game_date": pl.date_range(first, end, "1d", eager=True)})
    # the best-bet metrics are the day's (the ledger's picks): rolled once over the calendar
    best_bets = _best_bet_columns(
        calendar.join(best_bet_daily(picks), on="game_date", how="left").with_columns(pl.col(BB_SUMS).fill_null(0)),
        config.best_bets,
    ).drop(BB_SUMS)
    sums = ("slate", "max_edge", "picks_edge_high", "bias_sum", "bias_n", "line_abs_sum", "model_abs_sum", "decided_n")
    # every family x every calendar day (dense: a row-count rolling window is a calendar window)
    grid = daily.select("family").unique().join(calendar, how="cross")
    frame = (
        grid.join(daily, on=["family", "game_date"], how="left")
        .with_columns(pl.col(c).fill_null(0) for c in sums)
        .sort("family", "game_date")
    )  # a day without games adds nothing to any sum (its max_edge is 0, its slate flag 0)

    def rolled(column: str, days: int, name: str) -> pl.Expr:
        return pl.col(column).rolling_sum(window_size=days, min_samples=1).over("family").alias(name)

    frame = frame.with_columns(
        rolled("slate", w.short, "slate_days_short"),
        rolled("slate", w.long, "slate_days_long"),
        rolled("max_edge", w.short, "max_edge_sum_short"),
        rolled("max_edge", w.long, "max_edge_sum_long"),
        rolled("picks_edge_high", w.short, "edge_high_sum_short"),
        rolled("picks_edge_high", w.long, "edge_high_sum_long"),
        rolled("bias_sum", w.short, "bias_sum_short"),
        rolled("bias_n", w.short, "n_bias_short"),
        rolled("line_abs_sum", w.short, "line_abs_short"),
        rolled("model_abs_sum", w.short, "model_abs_short"),
        rolled("decided_n", w.short, "n_decided_short"),
        rolled("line_abs_sum", w.medium, "line_abs_medium"),
        rolled("model_abs_sum", w.medium, "model_abs_medium"),
        rolled("decided_n", w.medium, "n_decided_medium"),
    ).with_columns(
        avg_max_edge_short=_ratio("max_edge_sum_short", "slate_days_short"),
        avg_max_edge_long=_ratio("max_edge_sum_long", "slate_days_long"),
        edge_high_per_day_short=_ratio("edge_high_sum_short", "slate_days_short"),
        edge_high_per_day_long=_ratio("edge_high_sum_long", "slate_days_long"),
        residual_bias_short=_ratio("bias_sum_short", "n_bias_short"),
        line_mae_short=_ratio("line_abs_short", "n_decided_short"),
        model_mae_short=_ratio("model_abs_short", "n_decided_short"),
        line_mae_medium=_ratio("line_abs_medium", "n_decided_medium"),
        model_mae_medium=_ratio("model_abs_medium", "n_decided_medium"),
    )
    frame = frame.with_columns(
        compression=pl.when(pl.col("avg_max_edge_long") > 0)
        .then(pl.col("avg_max_edge_short") / pl.col("avg_max_edge_long"))
        .otherwise(None),
        mae_gap_short=pl.col("model_mae_short") - pl.col("line_mae_short"),
        mae_gap_medium=pl.col("model_mae_medium") - pl.col("line_mae_medium"),
        line_state_short=line_state(pl.col("line_mae_short"), config.line_mae),
        line_state_medium=line_state(pl.col("line_mae_medium"), config.line_mae),
        max_edge_colour=band_colour(pl.col("avg_max_edge_short"), config.max_edge),
        edge_high_colour=band_colour(pl.col("edge_high_per_day_short"), config.edge_high_per_day),
    ).with_columns(compression_colour=band_colour(pl.col("compression"), config.compression))
    frame = frame.with_columns(
        regime_colour=worst_colour(pl.col("compression_colour"), pl.col("max_edge_colour"), pl.col("edge_high_colour"))
    )
    day_champion = champion.select(
        pl.col("game_date").cast(pl.Date), pl.col("champion").cast(pl.Utf8).alias("_champion")
    )
    out = (
        frame.filter(pl.col("game_date").is_between(start, end) & (pl.col("slate") == 1))
        .join(best_bets, on="game_date", how="left")
        .join(day_champion, on="game_date", how="left")
        .with_columns(is_champion=(pl.col("family") == pl.col("_champion")).fill_null(False))
    )
    return out.select(pl.col(name).cast(dtype) for name, dtype in MARKET_REGIME_SCHEMA.items()).sort(
        "game_date", "family"
    )


# ----------------------------------------------------------------------------- pre-game signal


def slate_games(schedule: pl.DataFrame) -> pl.DataFrame:
    """game_date -> slate_games: distinct games not postponed / cancelled."""
    played = schedule.filter(~pl.col("status").is_in(NOT_PLAYED).fill_null(False))
    return played.group_by("game_date").agg(slate_games=pl.col("game_id").n_unique().cast(pl.Int64))


def _explain(row: dict, config: PreGameSignalConfig) -> tuple[str, str]:
    r = config.signal
    games, pct, high = row["slate_games"], row["pct_over"], row["high_edge"]
    red, yellow = [], []
    if games <= r.red_max_games:
        red.append(f"{games}-game slate (<= {r.red_max_games})")
    if pct < r.red_over_below_pct:
        red.append(f"{pct:.1f}% OVER (< {r.red_over_below_pct:g}%)")
    if high < r.yellow_high_edge_below:
        yellow.append(f"{high} high-edge (< {r.yellow_high_edge_below})")
    if pct > r.yellow_over_above_pct:
        yellow.append(f"{pct:.1f}% OVER (> {r.yellow_over_above_pct:g}%)")
    if red:
        return RED, f"RED: {'; '.join(red)}"
    if yellow:
        return YELLOW, f"YELLOW: {'; '.join(yellow)}"
    return GREEN, f"GREEN: {games}-game slate, {high} high-edge, {pct:.1f}% OVER"


def pre_game_signal(predictions: pl.DataFrame, schedule: pl.DataFrame, config: PreGameSignalConfig) -> pl.DataFrame:
    """The `pre_game_signal` rows (see the module doc): one per date and model with enough lines."""
    lined = predictions.filter(pl.col("line").is_not_null())
    per_model = (
        lined.group_by("game_date", "model_id")
        .agg(
            family=pl.col("family").first(),
            lined_predictions=pl.len().cast(pl.Int64),
            high_edge=(pl.col("edge") >= config.high_edge - EDGE_TOLERANCE).sum().cast(pl.Int64),
            over=(pl.col("direction") == "OVER").sum().cast(pl.Int64),
            under=(pl.col("direction") == "UNDER").sum().cast(pl.Int64),
        )
        .filter(pl.col("lined_predictions") >= config.min_lined_predictions)
        .join(slate_games(schedule), on="game_date", how="left")
        .with_columns(
            slate_games=pl.col("slate_games").fill_null(0),
            pct_over=100.0 * pl.col("over") / pl.col("lined_predictions"),
            pct_under=100.0 * pl.col("under") / pl.col("lined_predictions"),
        )
    )
    s, v = config.skew, config.volume
    per_model = per_model.with_columns(
        skew=pl.when(pl.col("pct_over") < s.under_heavy_below_pct)
        .then(pl.lit(UNDER_HEAVY))
        .when(pl.col("pct_over") > s.over_heavy_above_pct)
        .then(pl.lit(OVER_HEAVY))
        .otherwise(pl.lit(BALANCED)),
        volume=pl.when(pl.col("high_edge") < v.low_below)
        .then(pl.lit(LOW))
        .when(pl.col("high_edge") > v.high_above)
        .then(pl.lit(HIGH))
        .otherwise(pl.lit(NORMAL)),
    )
    explained = [_explain(row, config) for row in per_model.iter_rows(named=True)]
    per_model = per_model.with_columns(
        signal=pl.Series([e[0] for e in explained], dtype=pl.Utf8),
        explanation=pl.Series([e[1] for e in explained], dtype=pl.Utf8),
    )
    return per_model.select(pl.col(n).cast(t) for n, t in PRE_GAME_SIGNAL_SCHEMA.items()).sort("game_date", "model_id")
