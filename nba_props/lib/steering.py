"""The daily steering report: ONE recommendation per game date, after its games, with the
figures behind it. Pure polars (no dagster); rules in `config/steering.yaml` (`SteeringConfig`).

Inputs for a day X (all known once X's games are graded):
- `model_performance_daily` of X (lib/health.py): every family's state, windows, staleness,
  `market_crash` (the ONE crash rule, config/health.yaml `crash`);
- `signal_health_daily` of X (the signal registry's health), `market_regime` of X (colours: the
  row of X's champion, the family the report is about; the table has one row per family);
- `pick_accuracy` (the ledger's graded picks) of the season up to X: the best-bets record;
- `best_bets` and `prediction_accuracy` of the season up to X: the observe-mode filters'
  would-have-blocked candidates (`observed_by`) and their graded outcome; X's health gate;
- `trained_models` of the `retrain.stale_days` days ending on X: the champion's days since
  training (exact up to that many days; none in that window is stale);
- `schedule` of X - look_behind .. X + look_ahead: days without games around X;
- `alerts` (the alert sink's table `nba_props.alerts`, unpartitioned: one row per alert, upserted
  on recovery): the alerts OPEN AS OF X's cutoff (`AlertsCutoff`: the report's own deadline,
  config/automation.yaml `deadlines`, e.g. 09:00 ET on X + 1): raised_at <= cutoff and
  (recovered_at NULL or > cutoff), about a partition <= X or none. Only the timestamps are read
  (never `status`, which is "now"), so a rerun of X after its cutoff lists the same alerts; a run
  BEFORE the cutoff cannot know the alerts raised between the run and the cutoff. Business alerts
  (`lib.automation.BUSINESS_KINDS`: model_health) are listed apart from data faults.

The decision tree (`recommend`), in order:
  market_crash on X                        -> MARKET DISRUPTION (before anything else)
  champion BLOCKED                          -> SWITCH to a qualifying challenger, else BLOCKED
  champion DEGRADING                        -> SWITCH, else RETRAIN when stale, else WATCH
  champion WATCH                            -> WATCH
  champion HEALTHY                          -> RETRAIN when stale, else ALL CLEAR
  champion INSUFFICIENT_DATA (or no row)    -> RETRAIN when stale, else WATCH
A qualifying challenger: a non-champion family in `switch.state` (HEALTHY) with hit rate >=
`switch.min_hr_pct` over n >= `switch.min_n` in the `switch.window_days` window (exactly 56% and
exactly 30 qualify). Stale: days since training >= `retrain.stale_days` (exactly 30 is stale).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from nba_props import seasons
from nba_props.lib import health
from nba_props.lib.alerts import ALERTS_SCHEMA
from nba_props.lib.automation import BUSINESS_KINDS, Deadline
from nba_props.lib.config_files import CONFIG_DIR, load_config
from nba_props.lib.grading import LOSS, PUSH, WIN, profit_expr

STEERING_CONFIG_PATH = CONFIG_DIR / "steering.yaml"
TABLE = "steering_report"
KEY = ("game_date",)
TOLERANCE = health.TOLERANCE
REPORT_DIR = "reports/steering"

ALL_CLEAR, WATCH, RETRAIN, SWITCH, BLOCKED, MARKET_DISRUPTION = (
    "ALL CLEAR", "WATCH", "RETRAIN", "SWITCH", "BLOCKED", "MARKET DISRUPTION",
)  # fmt: skip
# the allowed set, by severity: the code is the index (a number that plots)
RECOMMENDATIONS = (ALL_CLEAR, WATCH, RETRAIN, SWITCH, BLOCKED, MARKET_DISRUPTION)
SEASON = health.SEASON_WINDOW
NOT_PLAYED = ("postponed", "cancelled")
# one day's rows of a table as dicts: the report is rendered per day, and per-day polars calls on
# frames of a few rows cost more than the work (a season's run made thousands of them)
Rows = Sequence[Mapping[str, Any]]


# ---------------------------------------------------------------------------------------------
# config


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SwitchRule(_Rules):
    state: str
    window_days: int = Field(ge=1)
    min_hr_pct: float = Field(gt=0, lt=100)
    min_n: int = Field(ge=1)

    @model_validator(mode="after")
    def _known_state(self) -> SwitchRule:
        if self.state not in health.STATES:
            raise ValueError(f"switch.state {self.state!r} is not one of {health.STATES}")
        return self


class RetrainRule(_Rules):
    stale_days: int = Field(ge=1)


def _windows_ok(windows: tuple[int, ...], what: str) -> None:
    if not windows or any(w < 1 for w in windows) or list(windows) != sorted(set(windows)):
        raise ValueError(f"{what} must be increasing positive day counts, got {windows}")


class RecordRule(_Rules):
    windows: tuple[int, ...]
    daily_days: int = Field(ge=1)
    counted_statuses: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _valid(self) -> RecordRule:
        _windows_ok(self.windows, "record.windows")
        return self


class ObserveRule(_Rules):
    windows: tuple[int, ...]
    breakeven_pct: float = Field(gt=0, lt=100)
    min_n: int = Field(ge=1)

    @model_validator(mode="after")
    def _valid(self) -> ObserveRule:
        _windows_ok(self.windows, "observe.windows")
        return self


class ScheduleRule(_Rules):
    look_behind_days: int = Field(ge=1)
    look_ahead_days: int = Field(ge=0)
    min_gap_days: int = Field(ge=1)

    @model_validator(mode="after")
    def _valid(self) -> ScheduleRule:
        if self.min_gap_days > self.look_behind_days:
            raise ValueError("schedule.min_gap_days cannot exceed look_behind_days (the gap would never be seen)")
        return self


class RiskRule(_Rules):
    stale_staleness: tuple[str, ...]

    @model_validator(mode="after")
    def _known(self) -> RiskRule:
        unknown = set(self.stale_staleness) - set(health.STALENESS)
        if unknown:
            raise ValueError(f"risk.stale_staleness: unknown {sorted(unknown)} (known {health.STALENESS})")
        return self


class AlertsRule(_Rules):
    risk_items: int = Field(ge=1)


class SteeringConfig(_Rules):
    switch: SwitchRule
    retrain: RetrainRule
    record: RecordRule
    observe: ObserveRule
    schedule: ScheduleRule
    risk: RiskRule
    alerts: AlertsRule

    def check_against(self, health_config: health.HealthConfig) -> SteeringConfig:
        """The switch window must be a window model_performance_daily computes."""
        if self.switch.window_days not in health_config.windows:
            raise ValueError(
                f"switch.window_days {self.switch.window_days} is not a model_performance_daily window "
                f"{health_config.windows} (config/health.yaml)"
            )
        return self

    @property
    def switch_label(self) -> str:
        return f"{self.switch.window_days}d"

    @property
    def history_days(self) -> int:
        """Calendar days of pick / best-bets / accuracy history a day's report reads (ending on
        it): the longest record, per-day or observe window, or a season label's span (season to
        date)."""
        longest = max(*self.record.windows, self.record.daily_days, *self.observe.windows)
        return max(longest, health.season_span_days())

    @property
    def record_labels(self) -> tuple[str, ...]:
        return (*(f"{w}d" for w in self.record.windows), SEASON)

    @property
    def observe_labels(self) -> tuple[str, ...]:
        return (*(f"{w}d" for w in self.observe.windows), SEASON)


def load_steering_config(path: str | Path | None = None) -> SteeringConfig:
    return load_config(SteeringConfig, path or STEERING_CONFIG_PATH)


# ---------------------------------------------------------------------------------------------
# input contracts: the columns read here (a table with more columns is fine)

PERFORMANCE_USED = ("game_date", "family", "state", "staleness", "days_since_training", "market_crash",
                    "decay_signal")  # fmt: skip
PICKS_USED = ("game_date", "status", "result", "profit")
BEST_BETS_USED = ("game_date", "game_id", "player_lookup", "model_id", "selected", "observed_by",
                  "health_gate_active", "health_gate_reason")  # fmt: skip
ACCURACY_USED = ("game_id", "player_lookup", "model_id", "result", "price")
SIGNAL_HEALTH_USED = ("game_date", "name", "kind", "state", "status", "regime")
SIGNAL_HEALTH_FIGURES = ("hr_7d", "n_7d", "hr_season", "n_season")  # shown when present
REGIME_USED = ("game_date", "family", "regime_colour", "compression_colour", "max_edge_colour", "edge_high_colour",
               "line_state_short")  # fmt: skip
SCHEDULE_USED = ("game_date", "status")
REGISTRY_USED = ("family", "week_start")
ALERTS_USED = ("alert_id", "raised_at", "kind", "asset", "partition", "check", "message", "recovered_at")


# ---------------------------------------------------------------------------------------------
# the decision tree


@dataclass(frozen=True)
class Recommendation:
    recommendation: str
    reason: str
    rule_path: str
    switch_to: str | None = None

    @property
    def code(self) -> int:
        return RECOMMENDATIONS.index(self.recommendation)


def _pct(hr: float | None) -> str:
    return "n/a" if hr is None else f"{hr * 100:.1f}%"


def qualifying_challengers(day_rows: Rows, champion: str, config: SteeringConfig) -> list[Mapping[str, Any]]:
    """The non-champion families of one day's model_performance_daily rows that a BLOCKED /
    DEGRADING champion may be switched to, best first (HR, then N, then name)."""
    label, rule = config.switch_label, config.switch
    hr, n = f"hr_{label}", f"n_{label}"
    qualifying = [
        r for r in day_rows
        if r["family"] != champion and r["state"] == rule.state and r[hr] is not None
        and r[hr] * 100.0 >= rule.min_hr_pct - TOLERANCE and (r[n] or 0) >= rule.min_n
    ]  # fmt: skip
    # best first: HR, then N (both descending), then the name
    return sorted(qualifying, key=lambda r: (-r[hr], -(r[n] or 0), r["family"]))


def is_stale(days_since_training: int | None, config: SteeringConfig) -> bool:
    """Stale from `stale_days` on (exactly that many IS stale); None = no model in the window read."""
    return days_since_training is None or days_since_training >= config.retrain.stale_days


def recommend(day_rows: Rows, champion: str, days_since_training: int | None, config: SteeringConfig) -> Recommendation:
    """ONE recommendation for a day from its model_performance_daily rows (every family, as dicts)
    and the champion's days since training (None: no model in the last `stale_days` days)."""
    label, rule = config.switch_label, config.switch
    stale_days = config.retrain.stale_days
    crash = [r for r in day_rows if r["market_crash"]]
    if crash:
        signal = [r["decay_signal"] for r in crash if r["decay_signal"] is not None]
        why = signal[0] if signal else "models below the crash rule's hit rate the same day"
        return Recommendation(MARKET_DISRUPTION, f"Market disruption, do not switch models: {why}",
                              "market_crash: yes > MARKET DISRUPTION")  # fmt: skip
    path = ["market_crash: no"]
    r = _champion_row(day_rows, champion)
    if r:
        state = r["state"]
        figures = f"{label} HR {_pct(r.get(f'hr_{label}'))}, N {r.get(f'n_{label}')}"
    else:
        state, figures = health.INSUFFICIENT_DATA, "no health row"
    path.append(f"champion {champion}: {state} ({figures})")
    stale_text = (
        f"no {champion} model in the last {stale_days} days"
        if days_since_training is None
        else f"{days_since_training} days since training"
    )
    stale = is_stale(days_since_training, config)

    def staleness_step() -> str:
        return f"stale: {stale_text} {'>=' if stale else '<'} {stale_days}"

    def done(recommendation: str, reason: str, switch_to: str | None = None) -> Recommendation:
        return Recommendation(recommendation, reason, " > ".join([*path, recommendation]), switch_to)

    if state in (health.BLOCKED, health.DEGRADING):
        challengers = qualifying_challengers(day_rows, champion, config)
        bar = f"{rule.state} with {label} HR >= {rule.min_hr_pct:g}% and N >= {rule.min_n}"
        if challengers:
            c = challengers[0]
            path.append(f"challenger: {c['family']} ({label} HR {_pct(c[f'hr_{label}'])}, N {c[f'n_{label}']}; {bar})")
            return done(
                SWITCH,
                f"Champion {champion} is {state} ({figures}); switch to {c['family']}, {rule.state} at "
                f"{label} HR {_pct(c[f'hr_{label}'])} over N {c[f'n_{label}']}.",
                c["family"],
            )
        path.append(f"challenger: none ({bar})")
        if state == health.BLOCKED:
            return done(BLOCKED, f"Champion {champion} is BLOCKED ({figures}) and no challenger qualifies ({bar}).")
        path.append(staleness_step())
        if stale:
            return done(RETRAIN, f"Champion {champion} is DEGRADING ({figures}), no challenger qualifies, and "
                                 f"{stale_text} (>= {stale_days}): retrain.")  # fmt: skip
        return done(WATCH, f"Champion {champion} is DEGRADING ({figures}); no challenger qualifies and the model "
                           f"is not stale ({stale_text}): watch.")  # fmt: skip
    if state == health.WATCH:
        return done(WATCH, f"Champion {champion} is in WATCH ({figures}).")
    path.append(staleness_step())
    if stale:
        return done(RETRAIN, f"Champion {champion} is {state} ({figures}) and {stale_text} (>= {stale_days}): retrain.")
    if state == health.HEALTHY:
        return done(ALL_CLEAR, f"Champion {champion} is HEALTHY ({figures}) and fresh ({stale_text}).")
    return done(WATCH, f"Champion {champion} has too few graded picks to judge ({figures}); watch.")


def _champion_row(day_rows: Rows, champion: str) -> Mapping[str, Any]:
    """The champion's row of a day ({} when it has none)."""
    return next((r for r in day_rows if r["family"] == champion), {})


def champion_days_since_training(registry: pl.DataFrame, champion: str, days: Sequence[date]) -> dict[date, int | None]:
    """Per day, days since the champion's newest registry model with week_start <= the day."""
    starts = sorted(
        registry.filter(pl.col("family") == champion).get_column("week_start").drop_nulls().unique().to_list()
    )
    out: dict[date, int | None] = {}
    for day in days:
        known = [s for s in starts if s <= day]
        out[day] = (day - known[-1]).days if known else None
    return out


# ---------------------------------------------------------------------------------------------
# rolling sums over calendar days (the record and the observe outcomes)


def _window_sums(
    daily: pl.DataFrame, by: Sequence[str], values: Sequence[str], first: date, end: date,
    windows: Sequence[int],
) -> pl.DataFrame:  # fmt: skip
    """`daily` (one row per group and game_date with `values`) on a dense calendar first .. end
    per group, with `<value>_<w>d` (the w days ending on the day) and `<value>_season` (the
    season label's days up to the day; needs first <= the season's first day)."""
    groups = daily.select(by).unique() if by else pl.DataFrame({"_all": [0]})
    keys = list(by) or ["_all"]
    if not by:
        daily = daily.with_columns(_all=pl.lit(0))
    calendar = pl.DataFrame({"game_date": pl.date_range(first, end, "1d", eager=True)})
    grid = (
        groups.join(calendar, how="cross")
        .join(daily.filter(pl.col("game_date").is_between(first, end)), on=[*keys, "game_date"], how="left")
        .with_columns(pl.col(v).fill_null(0) for v in values)
        .sort(*keys, "game_date")
    )
    exprs = [
        pl.col(v).rolling_sum(window_size=w, min_samples=1).over(keys).alias(f"{v}_{w}d")
        for w in windows
        for v in values
    ]
    label = seasons.season_label_expr(pl.col("game_date"))
    exprs += [pl.col(v).cum_sum().over([*keys, label]).alias(f"{v}_{SEASON}") for v in values]
    out = grid.with_columns(exprs)
    return out.drop("_all") if not by else out


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den)


def record_figures(picks: pl.DataFrame, first: date, end: date, config: SteeringConfig) -> pl.DataFrame:
    """The best-bets record per calendar day first .. end: the day's wins / losses / pushes /
    n / hr / roi and the same over each record window and season to date. `picks`:
    pick_accuracy rows (at least `PICKS_USED`); only `counted_statuses` count; ROI = profit /
    priced decided picks (at the picks' own prices: a DFS pick without a price has no profit)."""
    counted = picks.filter(pl.col("status").is_in(config.record.counted_statuses))
    daily = counted.group_by("game_date").agg(
        wins=(pl.col("result") == WIN).sum().cast(pl.Int64),
        losses=(pl.col("result") == LOSS).sum().cast(pl.Int64),
        pushes=(pl.col("result") == PUSH).sum().cast(pl.Int64),
        profit=pl.col("profit").filter(pl.col("result").is_in([WIN, LOSS])).sum().cast(pl.Float64),
        priced=(pl.col("result").is_in([WIN, LOSS]) & pl.col("profit").is_not_null()).sum().cast(pl.Int64),
    )
    values = ("wins", "losses", "pushes", "profit", "priced")
    grid = _window_sums(daily, (), values, first, end, config.record.windows)
    exprs = []
    for lb in ("", *(f"_{x}" for x in config.record_labels)):
        n = pl.col(f"wins{lb}") + pl.col(f"losses{lb}")
        exprs += [n.alias(f"n{lb}"), _ratio(pl.col(f"wins{lb}"), n).alias(f"hr{lb}"),
                  _ratio(pl.col(f"profit{lb}"), pl.col(f"priced{lb}")).alias(f"roi{lb}")]  # fmt: skip
    return grid.with_columns(exprs)


def observe_figures(
    best_bets: pl.DataFrame, accuracy: pl.DataFrame, first: date, end: date, config: SteeringConfig
) -> pl.DataFrame:
    """Per observe-mode filter and calendar day first .. end: its would-have-blocked candidates
    (`best_bets.observed_by`) graded from prediction_accuracy (the candidate's own model row):
    flagged, wins, losses, profit, priced, and the selected ones' wins / losses, per observe
    window and season to date."""
    flagged = (
        best_bets.select(BEST_BETS_USED)
        .filter(pl.col("game_date").is_between(first, end) & (pl.col("observed_by").list.len() > 0))
        .explode("observed_by")
        .rename({"observed_by": "filter"})
        .join(accuracy.select(ACCURACY_USED), on=["game_id", "player_lookup", "model_id"], how="left")
        .with_columns(
            decided=pl.col("result").is_in([WIN, LOSS]).fill_null(False),
            pick_profit=profit_expr(pl.col("result"), pl.col("price")),
        )
    )
    selected = pl.col("selected").fill_null(False)
    daily = flagged.group_by("filter", "game_date").agg(
        flagged=pl.len().cast(pl.Int64),
        wins=(pl.col("result") == WIN).sum().cast(pl.Int64),
        losses=(pl.col("result") == LOSS).sum().cast(pl.Int64),
        profit=pl.col("pick_profit").sum().cast(pl.Float64),
        priced=pl.col("pick_profit").is_not_null().sum().cast(pl.Int64),
        selected_wins=((pl.col("result") == WIN) & selected).sum().cast(pl.Int64),
        selected_losses=((pl.col("result") == LOSS) & selected).sum().cast(pl.Int64),
    )
    values = ("flagged", "wins", "losses", "profit", "priced", "selected_wins", "selected_losses")
    if daily.height == 0:
        return pl.DataFrame(schema={"filter": pl.Utf8, "game_date": pl.Date})
    grid = _window_sums(daily, ("filter",), values, first, end, config.observe.windows)
    exprs = []
    for lb in (f"_{x}" for x in config.observe_labels):
        n = pl.col(f"wins{lb}") + pl.col(f"losses{lb}")
        exprs += [n.alias(f"n{lb}"), _ratio(pl.col(f"wins{lb}"), n).alias(f"hr{lb}"),
                  _ratio(pl.col(f"profit{lb}"), pl.col(f"priced{lb}")).alias(f"roi{lb}")]  # fmt: skip
    return grid.with_columns(exprs)


def observe_verdict(wins: int, n: int, config: SteeringConfig) -> str:
    rule = config.observe
    if n < rule.min_n:
        return "too few"
    return "would have helped" if wins / n * 100.0 < rule.breakeven_pct - TOLERANCE else "would have hurt"


# ---------------------------------------------------------------------------------------------
# schedule gaps


def game_days(schedule: pl.DataFrame) -> set[date]:
    """Days with at least one game that is not postponed / cancelled."""
    played = schedule.filter(~pl.col("status").is_in(NOT_PLAYED).fill_null(False))
    return set(played.get_column("game_date").unique().to_list())


def schedule_gaps(days_with_games: set[date], day: date, config: SteeringConfig) -> tuple[int, int | None]:
    """(days without games right before `day` within look_behind_days, days without games ahead:
    the number of days read ahead when none of them has games, else None; None also when nothing
    is read ahead)."""
    rule = config.schedule
    behind = 0
    for k in range(1, rule.look_behind_days + 1):
        if day - timedelta(days=k) in days_with_games:
            break
        behind += 1
    ahead_days = [day + timedelta(days=k) for k in range(1, rule.look_ahead_days + 1)]
    ahead = len(ahead_days) if ahead_days and not any(d in days_with_games for d in ahead_days) else None
    return behind, ahead


# ---------------------------------------------------------------------------------------------
# open alerts


@dataclass(frozen=True)
class AlertsCutoff:
    """The instant a day's open alerts are taken at: `at` (ET) on the day + `days_after`."""

    at: time
    days_after: int

    @classmethod
    def from_deadline(cls, deadline: Deadline) -> AlertsCutoff:
        """The report's own deadline (config/automation.yaml `deadlines`): partition `yesterday`
        due at `at` = `at` on X + 1; `today` = `at` on X."""
        return cls(deadline.at, 1 if deadline.partition == "yesterday" else 0)

    def of(self, day: date) -> datetime:
        """The cutoff of `day` in UTC (zoneinfo: the right offset on DST days)."""
        return datetime.combine(day + timedelta(days=self.days_after), self.at, tzinfo=seasons.GAME_TZ).astimezone(UTC)

    def describe(self) -> str:
        when = (
            "the next day"
            if self.days_after == 1
            else f"{self.days_after} days later"
            if self.days_after
            else "the day"
        )
        return f"{self.at:%H:%M} ET {when}, the report's deadline in config/automation.yaml deadlines"


def open_alerts(alerts: pl.DataFrame, days: Sequence[date], cutoff: AlertsCutoff) -> pl.DataFrame:
    """Per day of `days` (column `game_date`), the alerts open as of its cutoff: raised_at <=
    cutoff and (recovered_at NULL or > cutoff), about a partition <= the day (a range
    `start...end` by its start) or none / not a date. Only timestamps are read (never `status`),
    so the rows of a day never change once its cutoff has passed. Sorted by day, raised_at, id."""
    cutoffs = pl.DataFrame(
        {"game_date": list(days), "cutoff": [cutoff.of(d) for d in days]},
        schema={"game_date": pl.Date, "cutoff": ALERTS_SCHEMA["raised_at"]},
    )
    rows = alerts.select(ALERTS_USED).with_columns(
        partition_date=pl.col("partition").str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    )
    return (
        cutoffs.join(rows, how="cross")
        .filter(
            (pl.col("raised_at") <= pl.col("cutoff"))
            & (pl.col("recovered_at").is_null() | (pl.col("recovered_at") > pl.col("cutoff")))
            & (pl.col("partition_date").is_null() | (pl.col("partition_date") <= pl.col("game_date")))
        )
        .drop("partition_date")
        .with_columns(business=pl.col("kind").is_in(BUSINESS_KINDS))
        .sort("game_date", "raised_at", "alert_id")
    )


def alert_label(row: Mapping[str, Any]) -> str:
    """'box_scores 2025-11-02 freshness', 'model_performance_daily 2025-11-02 champion_health'."""
    parts = [row["asset"], row["partition"], None if row["kind"] == "check" else row["kind"], row["check"]]
    return " ".join(str(p) for p in parts if p)


def alert_risks(day_alerts: Rows, cutoff: datetime, config: SteeringConfig) -> list[str]:
    """At most two lines: the open model-health (business) alerts, then the open data alerts."""
    out = []
    at = _et(cutoff)
    for business, what in ((True, "model-health"), (False, "data")):
        rows = [r for r in day_alerts if r["business"] == business]
        if not rows:
            continue
        shown = [alert_label(r) for r in rows[: config.alerts.risk_items]]
        more = f" (+{len(rows) - len(shown)} more)" if len(rows) > len(shown) else ""
        plural = "" if len(rows) == 1 else "s"
        out.append(f"{len(rows)} open {what} alert{plural} as of {at}: {', '.join(shown)}{more}")
    return out


def _et(instant: datetime) -> str:
    return f"{instant.astimezone(seasons.GAME_TZ):%Y-%m-%d %H:%M} ET"


def _utc(instant: datetime) -> str:
    return f"{instant.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _alert_items(day_alerts: Rows, business: bool) -> list[dict[str, Any]]:
    """The listed alerts without their recovery: every one was open at the cutoff, and a recovery
    known only later must not change a rerun's report."""
    return [
        {"alert_id": r["alert_id"], "raised_at": _utc(r["raised_at"]), "kind": r["kind"], "asset": r["asset"],
         "partition": r["partition"], "check": r["check"], "message": r["message"]}
        for r in day_alerts if r["business"] == business
    ]  # fmt: skip


def _alerts_section(cutoff: datetime, rule: str, model_health: list[dict], data: list[dict]) -> list[str]:
    out = [f"Open as of {_et(cutoff)} ({rule}). Raised by then and not recovered by then (a recovery after "
           "it is not shown: a rerun gives the same list), about this date's partition, an earlier one or none.", ""]  # fmt: skip
    for title, items in (("Model health (business alerts)", model_health), ("Data faults", data)):
        out += [f"### {title}", ""]
        if items:
            out += [_table(["raised", "kind", "asset", "partition", "check", "message"],
                           [[i["raised_at"], i["kind"], i["asset"], i["partition"], i["check"], i["message"]]
                            for i in items])]  # fmt: skip
        else:
            out += ["None open."]
        out += [""]
    return out


# ---------------------------------------------------------------------------------------------
# the table


def report_schema(config: SteeringConfig, health_config: health.HealthConfig) -> pl.Schema:
    label = health_config.state_label
    columns: dict[str, pl.DataType] = {
        "game_date": pl.Date(),
        "recommendation": pl.Utf8(),
        "recommendation_code": pl.Int64(),
        "reason": pl.Utf8(),
        "rule_path": pl.Utf8(),
        "switch_to": pl.Utf8(),
        "champion": pl.Utf8(),
        "next_champion": pl.Utf8(),
        "champion_switch": pl.Boolean(),
        "champion_reason": pl.Utf8(),
        "champion_state": pl.Utf8(),
        f"champion_hr_{label}": pl.Float64(),
        f"champion_n_{label}": pl.Int64(),
        "champion_days_since_training": pl.Int64(),
        "market_crash": pl.Boolean(),
        "health_gate_active": pl.Boolean(),
        "has_games": pl.Boolean(),
        "risk_factors": pl.List(pl.Utf8()),
    }
    for lb in config.record_labels:
        columns |= {
            f"bb_wins_{lb}": pl.Int64(),
            f"bb_losses_{lb}": pl.Int64(),
            f"bb_n_{lb}": pl.Int64(),
            f"bb_hr_{lb}": pl.Float64(),
            f"bb_roi_{lb}": pl.Float64(),
        }
    columns |= {"report_path": pl.Utf8(), "markdown": pl.Utf8()}
    return pl.Schema(columns)


def report_docs(config: SteeringConfig, health_config: health.HealthConfig) -> dict[str, str]:
    label = health_config.state_label
    rule, stale = config.switch, config.retrain.stale_days
    docs = {
        "game_date": "The partition's game date (ET): the report after its games.",
        "recommendation": f"ONE of {', '.join(RECOMMENDATIONS)} (config/steering.yaml decision tree).",
        "recommendation_code": "The recommendation as a number that plots: "
        + ", ".join(f"{r} {i}" for i, r in enumerate(RECOMMENDATIONS))
        + ".",
        "reason": "Why, in one sentence with the figures.",
        "rule_path": "The decision tree's path to the recommendation, step by step (' > ').",
        "switch_to": f"The family to switch to (a non-champion {rule.state}, {rule.window_days}-day HR at least "
        f"{rule.min_hr_pct:g}% over N at least {rule.min_n}); NULL unless SWITCH.",
        "champion": "The day's champion family (model_performance_daily is_champion: chosen by evidence as of the "
        "day before, config/health.yaml champion_selection; the configured champion without rows).",
        "next_champion": "The champion chosen for the next day from the records through this day.",
        "champion_switch": "True on an automatic champion switch decided on this day (the steering SWITCH made "
        "automatic), effective the next day (next_champion).",
        "champion_reason": "The choice's reason with its evidence (records, lead, slate days); NULL without rows.",
        "champion_state": "The champion's model_performance_daily state on the day (INSUFFICIENT_DATA: no row).",
        f"champion_hr_{label}": f"The champion's {label} hit rate (model_performance_daily).",
        f"champion_n_{label}": f"The champion's {label} counted picks.",
        "champion_days_since_training": f"Days since the champion's newest model's week_start; NULL when there is "
        f"none in the last {stale} days (stale).",
        "market_crash": "model_performance_daily's cross-model crash on the day (config/health.yaml crash rule).",
        "health_gate_active": "best_bets' champion health gate was closed on the day (zero picks).",
        "has_games": "The day's schedule has at least one game that is not postponed or cancelled.",
        "risk_factors": "Risks of the day in words: schedule gaps, stale models, crash, health gate, champion "
        "below watch, open alerts (model-health and data, as of the report's deadline).",
        "report_path": "The report's markdown in the artifact store (the JSON beside it, .json).",
        "markdown": "The whole report as markdown (also in the materialization metadata).",
    }
    for lb in config.record_labels:
        span = "season to date" if lb == SEASON else f"the {lb} ending on game_date"
        docs |= {
            f"bb_wins_{lb}": f"Best bets (the ledger's graded picks) won over {span}.",
            f"bb_losses_{lb}": f"Best bets lost over {span} (pushes and voids not counted).",
            f"bb_n_{lb}": f"bb_wins + bb_losses over {span}.",
            f"bb_hr_{lb}": f"Best-bets hit rate over {span} (NULL without a decided pick).",
            f"bb_roi_{lb}": f"Best-bets return per unit over {span} at the picks' own prices (priced picks only).",
        }
    return docs


# ---------------------------------------------------------------------------------------------
# building the reports


@dataclass(frozen=True)
class Inputs:
    performance: pl.DataFrame
    signal_health: pl.DataFrame
    regime: pl.DataFrame
    picks: pl.DataFrame
    best_bets: pl.DataFrame
    accuracy: pl.DataFrame
    registry: pl.DataFrame
    schedule: pl.DataFrame
    alerts: pl.DataFrame  # the whole alerts table (ALERTS_SCHEMA; empty before any alert)


@dataclass(frozen=True)
class Report:
    day: date
    recommendation: Recommendation
    markdown: str
    payload: dict[str, Any]
    open_alerts: int = 0
    open_model_health_alerts: int = 0


def report_path(day: date, ext: str) -> str:
    return f"{REPORT_DIR}/{day.isoformat()}.{ext}"


def build_reports(
    inputs: Inputs, start: date, end: date, *, champion: str, config: SteeringConfig,
    health_config: health.HealthConfig, cutoff: AlertsCutoff,
) -> tuple[pl.DataFrame, list[Report]]:  # fmt: skip
    """The table rows of start .. end (one per day) and each day's report (open alerts as of
    each day's `cutoff`)."""
    first = start - timedelta(days=config.history_days - 1)
    record = record_figures(inputs.picks.select(PICKS_USED), first, end, config)
    observe = observe_figures(inputs.best_bets, inputs.accuracy, first, end, config)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    registry = inputs.registry.select(REGISTRY_USED)
    trained_of: dict[str, dict[date, int | None]] = {}  # per champion family (the day's, chosen by evidence)
    with_games = game_days(inputs.schedule.select(SCHEDULE_USED))
    gate = (
        inputs.best_bets.filter(pl.col("health_gate_active").fill_null(False))
        .group_by("game_date")
        .agg(pl.col("health_gate_reason").drop_nulls().first())
    )
    gates = dict(gate.iter_rows())
    label = health_config.state_label
    # split once by day (a season's run: no per-day filtering of the whole frames)
    in_run = pl.col("game_date").is_between(start, end)
    perf_of = _by_day(inputs.performance.filter(in_run))
    signal_of = _rows_by_day(inputs.signal_health.filter(in_run).sort("kind", "name"))
    regime_of = _rows_by_day(inputs.regime.filter(in_run))
    record_of = {r["game_date"]: r for r in record.iter_rows(named=True)}
    observe_of = _observe_items(observe.filter(in_run), config)
    alerts_of = _rows_by_day(open_alerts(inputs.alerts, days, cutoff))
    rows, reports = [], []
    for day in days:
        perf_frame = perf_of.get(day, inputs.performance.clear())
        perf = perf_frame.to_dicts()
        # the day's champion (model_performance_daily is_champion: chosen by evidence as of the
        # day before); `champion`, the configured seed, when the day has no rows
        day_champion = next((r["family"] for r in perf if r.get("is_champion")), champion)
        if day_champion not in trained_of:
            trained_of[day_champion] = champion_days_since_training(registry, day_champion, days)
        trained = trained_of[day_champion]
        choice = next((r for r in perf if r.get("champion_transition")), {})
        rec = recommend(perf, day_champion, trained[day], config)
        c = _champion_row(perf, day_champion)
        rec_row = record_of[day]
        daily = _daily_record(record_of, day, config)
        items = observe_of.get(day, [])
        day_alerts, day_cutoff = alerts_of.get(day, []), cutoff.of(day)
        risks = risk_factors(day, perf, day_champion, trained[day], with_games, gates, config)
        if choice.get("champion_transition") == "SWITCH":
            risks.append(
                f"champion switch (automatic, config/health.yaml champion_selection): {choice['champion_reason']}"
            )
        risks += alert_risks(day_alerts, day_cutoff, config)
        alert_items = {"as_of": day_cutoff.isoformat(), "rule": cutoff.describe(), "open": len(day_alerts),
                       "model_health": _alert_items(day_alerts, True), "data": _alert_items(day_alerts, False)}  # fmt: skip
        # market_regime has a row per family: the report's is the day's champion's
        regime_rows = [r for r in regime_of.get(day, []) if r["family"] == day_champion]
        sections = _Sections(perf_frame, signal_of.get(day, []), regime_rows, rec_row, daily, items,
                             _alerts_section(day_cutoff, cutoff.describe(), alert_items["model_health"],
                                             alert_items["data"]))  # fmt: skip
        md = render_markdown(day, rec, sections, risks, day in with_games, config, health_config,
                             champion_line=_champion_line(day, day_champion, choice))  # fmt: skip
        row = {
            "game_date": day,
            "recommendation": rec.recommendation,
            "recommendation_code": rec.code,
            "reason": rec.reason,
            "rule_path": rec.rule_path,
            "switch_to": rec.switch_to,
            "champion": day_champion,
            "next_champion": choice.get("next_champion") or day_champion,
            "champion_switch": choice.get("champion_transition") == "SWITCH",
            "champion_reason": choice.get("champion_reason"),
            "champion_state": c.get("state", health.INSUFFICIENT_DATA),
            f"champion_hr_{label}": c.get(f"hr_{label}"),
            f"champion_n_{label}": c.get(f"n_{label}"),
            "champion_days_since_training": trained[day],
            "market_crash": any(r["market_crash"] for r in perf),
            "health_gate_active": day in gates,
            "has_games": day in with_games,
            "risk_factors": risks,
            "report_path": report_path(day, "md"),
            "markdown": md,
        }
        for lb in config.record_labels:
            for figure in ("wins", "losses", "n", "hr", "roi"):
                row[f"bb_{figure}_{lb}"] = rec_row[f"{figure}_{lb}"]
        rows.append(row)
        payload = {k: v for k, v in row.items() if k != "markdown"}
        payload |= {
            "game_date": day.isoformat(),
            "record_daily": daily,
            "observe_filters": items,
            "open_alerts": alert_items,
            "gaps": [],
        }
        business = len(alert_items["model_health"])
        reports.append(Report(day, rec, md, payload, len(day_alerts), business))
    schema = report_schema(config, health_config)
    table = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    return table, reports


def risk_factors(
    day: date, perf: Rows, champion: str, days_since_training: int | None, with_games: set[date],
    gates: Mapping[date, str | None], config: SteeringConfig,
) -> list[str]:  # fmt: skip
    risks = []
    behind, ahead = schedule_gaps(with_games, day, config)
    if day in with_games and behind >= config.schedule.min_gap_days:
        risks.append(f"schedule gap: first slate after {behind} days without games (the rolling windows hold "
                     "fewer game days)")  # fmt: skip
    if ahead is not None and ahead >= min(config.schedule.min_gap_days, config.schedule.look_ahead_days):
        risks.append(f"schedule gap: no games in the next {ahead} day(s) (or their schedule not ingested yet)")
    crash = [r for r in perf if r["market_crash"]]
    if crash:
        signal = next((r["decay_signal"] for r in crash if r["decay_signal"] is not None), None)
        risks.append("market crash: " + (signal or "crash rule"))
    if day in gates:
        risks.append(f"health gate closed: zero picks ({gates[day] or 'champion blocked'})")
    if is_stale(days_since_training, config):
        text = "no model" if days_since_training is None else f"{days_since_training} days"
        risks.append(f"stale champion {champion}: {text} since training (>= {config.retrain.stale_days})")
    stale = sorted((r for r in perf if r["staleness"] in config.risk.stale_staleness), key=lambda r: r["family"])
    for r in stale:
        since = "none" if r["days_since_training"] is None else f"{r['days_since_training']} days"
        risks.append(f"stale model {r['family']}: {r['staleness']} ({since} since training)")
    champ = _champion_row(perf, champion)
    if champ and champ["state"] in health.BELOW_WATCH:
        risks.append(f"champion {champion} {champ['state']}")
    return risks


# ---------------------------------------------------------------------------------------------
# rendering


def _cell(value: Any) -> str:
    return "" if value is None else str(value).replace("|", "/")


def _table(header: Sequence[str], body: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in body]
    return "\n".join(lines)


def _roi(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.1f}%"


def _by_day(frame: pl.DataFrame) -> dict[date, pl.DataFrame]:
    return {key[0]: part for key, part in frame.partition_by("game_date", as_dict=True).items()}


def _rows_by_day(frame: pl.DataFrame) -> dict[date, list[dict[str, Any]]]:
    """The frame's rows as dicts per game_date, in the frame's order."""
    out: dict[date, list[dict[str, Any]]] = {}
    for r in frame.iter_rows(named=True):
        out.setdefault(r["game_date"], []).append(r)
    return out


def _daily_record(record_of: Mapping[date, dict], day: date, config: SteeringConfig) -> list[dict[str, Any]]:
    """The per-day record of the last `daily_days` days ending on `day`, newest first."""
    out = []
    for k in range(config.record.daily_days):
        r = record_of.get(day - timedelta(days=k))
        if r is not None:
            out.append({"game_date": r["game_date"].isoformat(),
                        **{f: r[f] for f in ("wins", "losses", "pushes", "n", "hr", "roi")}})  # fmt: skip
    return out


def _observe_items(observe: pl.DataFrame, config: SteeringConfig) -> dict[date, list[dict[str, Any]]]:
    """Per day, the observe-mode filters that flagged a candidate this season (by name) with their
    window figures and verdict."""
    out: dict[date, list[dict[str, Any]]] = {}
    if observe.height == 0:
        return out
    for r in observe.sort("game_date", "filter").iter_rows(named=True):
        if r[f"flagged_{SEASON}"] == 0:
            continue
        item = {"filter": r["filter"]}
        for lb in config.observe_labels:
            item |= {f"{k}_{lb}": r[f"{k}_{lb}"] for k in ("flagged", "wins", "losses", "n", "hr", "roi",
                                                           "selected_wins", "selected_losses")}  # fmt: skip
        item["verdict"] = observe_verdict(r[f"wins_{SEASON}"], r[f"n_{SEASON}"], config)
        out.setdefault(r["game_date"], []).append(item)
    return out


@dataclass(frozen=True)
class _Sections:
    """A day's pieces of the report."""

    perf: pl.DataFrame
    signal: Rows  # sorted by kind, name
    regime: Rows
    record: dict[str, Any]
    daily: list[dict[str, Any]]
    observe: list[dict[str, Any]]
    alerts: list[str]  # the open-alerts section's markdown lines


def _champion_line(day: date, champion: str, choice: Mapping[str, Any]) -> str:
    """The champion of the day and the automatic choice for the next one (config/health.yaml
    champion_selection), with its reason."""
    head = f"**Champion of {day.isoformat()}: {champion}** (chosen by evidence as of the day before)."
    if not choice:
        return head
    nxt = day + timedelta(days=1)
    if choice["champion_transition"] == "SWITCH":
        return (
            f"{head} **Champion SWITCH for {nxt.isoformat()}: {choice['next_champion']}**: {choice['champion_reason']}"
        )
    return f"{head} Next day ({nxt.isoformat()}): {choice['next_champion']}: {choice['champion_reason']}"


def render_markdown(
    day: date, rec: Recommendation, parts: _Sections, risks: Sequence[str], has_games: bool, config: SteeringConfig,
    health_config: health.HealthConfig, champion_line: str = "",
) -> str:  # fmt: skip
    out = [
        f"# Steering report {day.isoformat()}",
        "",
        f"**Recommendation: {rec.recommendation}**: {rec.reason}",
        "",
        f"Rule path: {rec.rule_path}",
        "",
        *([champion_line, ""] if champion_line else []),
        "## Model health",
        "",
        health.states_markdown(parts.perf, health_config) if parts.perf.height else "No model_performance_daily rows.",
        "",
        "## Signal health",
        "",
        _signal_section(parts.signal),
        "",
        "## Market regime",
        "",
        _regime_section(parts.regime),
        "",
        "## Best-bets record",
        "",
    ]
    r = parts.record
    body = []
    for lb in config.record_labels:
        name = "season" if lb == SEASON else lb.replace("d", " days")
        body.append([name, f"{r[f'wins_{lb}']}-{r[f'losses_{lb}']}", _pct(r[f"hr_{lb}"]), _roi(r[f"roi_{lb}"]),
                     r[f"pushes_{lb}"], r[f"priced_{lb}"]])  # fmt: skip
    out += [_table(["window", "W-L", "HR", "ROI", "pushes", "priced"], body), ""]
    out += [f"### Per day (last {config.record.daily_days} days)", ""]
    out += [_table(["date", "W-L", "HR", "ROI", "pushes"],
                   [[d["game_date"], f"{d['wins']}-{d['losses']}", _pct(d["hr"]), _roi(d["roi"]), d["pushes"]]
                    for d in parts.daily]), ""]  # fmt: skip
    out += ["## Risk factors", ""]
    out += [f"- {risk}" for risk in risks] or ["- none"]
    if not has_games:
        out += ["- no games on this date"]
    out += ["", "## Open alerts", "", *parts.alerts]
    out += ["", "## Observe-mode filters (would-have-blocked candidates, graded)", ""]
    items = parts.observe
    if items:
        header = ["filter"]
        for lb in config.observe_labels:
            header += [f"flagged {lb}", f"W-L {lb}", f"HR {lb}", f"ROI {lb}", f"selected W-L {lb}"]
        header.append("verdict")
        body = []
        for item in items:
            row = [item["filter"]]
            for lb in config.observe_labels:
                row += [item[f"flagged_{lb}"], f"{item[f'wins_{lb}']}-{item[f'losses_{lb}']}", _pct(item[f"hr_{lb}"]),
                        _roi(item[f"roi_{lb}"]), f"{item[f'selected_wins_{lb}']}-{item[f'selected_losses_{lb}']}"]  # fmt: skip
            row.append(item["verdict"])
            body.append(row)
        out += [_table(header, body)]
        out += ["", f"Verdict: season HR below {config.observe.breakeven_pct:g}% over N >= {config.observe.min_n} "
                    "would have helped."]  # fmt: skip
    else:
        out += ["No observe-mode filter flagged a candidate this season."]
    return "\n".join(out) + "\n"


def _counts(rows: Rows, column: str) -> str:
    """'A 2, B 1': the rows per value of `column`, by value (NULL last)."""
    counts = Counter(r[column] for r in rows)
    return ", ".join(f"{v} {counts[v]}" for v in sorted(counts, key=lambda v: (v is None, v or "")))


def _signal_section(rows: Rows) -> str:
    """`rows`: the day's signal_health_daily rows, sorted by kind and name."""
    if not rows:
        return "No signal_health_daily rows."
    summary, regimes = _counts(rows, "status"), _counts(rows, "regime")
    figures = [c for c in SIGNAL_HEALTH_FIGURES if c in rows[0]]
    body = [[r["name"], r["kind"], r["state"], *(_pct(r[c]) if c.startswith("hr") else r[c] for c in figures),
             r["regime"], r["status"]] for r in rows]  # fmt: skip
    return (f"Status: {summary}. Regime: {regimes}.\n\n"
            + _table(["name", "kind", "state", *figures, "regime", "status"], body))  # fmt: skip


def _regime_section(rows: Rows) -> str:
    if not rows:
        return "No market_regime row (no slate for the champion on this date)."
    r = rows[0]
    return _table(["regime", "compression", "max edge", "edge supply", "line state"],
                  [[r["regime_colour"], r["compression_colour"], r["max_edge_colour"], r["edge_high_colour"],
                    r["line_state_short"]]])  # fmt: skip


# ---------------------------------------------------------------------------------------------
# checks and files


def invalid_rows(rows: pl.DataFrame, start: date, end: date) -> pl.DataFrame:
    """Days of start .. end without exactly one row, or with a recommendation outside the set."""
    days = pl.DataFrame({"game_date": pl.date_range(start, end, "1d", eager=True)})
    counts = rows.group_by("game_date").agg(rows=pl.len(), recommendation=pl.col("recommendation").first())
    joined = days.join(counts, on="game_date", how="full", coalesce=True).with_columns(pl.col("rows").fill_null(0))
    return joined.filter((pl.col("rows") != 1) | ~pl.col("recommendation").is_in(RECOMMENDATIONS).fill_null(False))


def report_files(report: Report, dumps: Callable[[Any], str]) -> dict[str, bytes]:
    """The two files of a day, rendered before anything is written: {relative path: bytes} of
    the markdown and the JSON (`dumps`: the artifact store's one JSON encoding)."""
    return {
        report_path(report.day, "md"): report.markdown.encode("utf-8"),
        report_path(report.day, "json"): (dumps(report.payload) + "\n").encode("utf-8"),
    }


__all__: Sequence[str] = (
    "AlertsCutoff", "Inputs", "RECOMMENDATIONS", "Recommendation", "Report", "SteeringConfig", "alert_risks",
    "build_reports", "open_alerts",
    "champion_days_since_training", "invalid_rows", "is_stale", "load_steering_config", "observe_figures",
    "qualifying_challengers", "recommend", "record_figures", "report_docs", "report_files", "report_schema",
    "schedule_gaps",
)  # fmt: skip
