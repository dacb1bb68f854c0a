"""The admin files and the public model-health file (pure: polars in, pydantic models out).

- `signal-best-bets/{date}.json` (+ `latest.json`): `SignalBestBets` (`build_signal_best_bets`).
- `admin/dashboard.json`: `AdminDashboard` (`build_dashboard`).
- `admin/picks/{date}.json`: `AdminPicks` (`build_admin_picks`), rendered for the Dagster UI by
  `admin_picks_markdown`.
- `systems/model-health.json` (PUBLIC): `ModelHealthFile` (`build_model_health`): no admin-only
  field name (the family is `model`, never `family` / `model_id`).

Inputs (warehouse tables as polars frames, see `nba_props/lib/tables.py`): `candidates` = the
day's `best_bets` rows; `predictions` = the day's `predictions` rows of every model; `picks` =
`common.picks_frame` (published picks with grading); `performance` = `model_performance_daily`
rows; `signal_health` = `signal_health_daily` rows; `registry` = `trained_models` rows; `alerts`
= the `alerts` table. Every input may be wider than the day: each builder keeps what it needs.

As-of rules (documented choices):
- performance / signal health: per family / name the newest row with game_date <= day inside the
  day's season scope (pre-game on X the newest is X - 1; an older season's row is never shown).
- registry: per family the newest model with week_start <= day (any season: a model trained in the
  off-season serves opening night); days since training = day - week_start of that model.
- records of published picks (direction health, ultra records, the ultra gate): the picks of the
  season scope graded BEFORE the day (game_date < day).
- ultra gate: the graded ultra OVER published picks (W + L) before the day: open when
  n >= `ultra.public_over.min_n` and wins >= min_hr x n (exactly at N and HR is open).
- health gate: the candidates' own flag (`health_gate_active`); a day without candidates falls
  back to the champion's newest performance row before the day in a `health_gate.states` state.

`pipeline_summary.bottleneck`, the first that applies:
1. "no_models": no ENABLED family (config/models.yaml) has a prediction on the day;
2. "no_candidates": no best_bets row on the day;
3. "health_gate": the champion's health gate is active (every candidate unselected);
4. "edge_floor": no candidate's edge reaches the edge floor (an edge exactly AT the floor passes)
   and nothing was selected (with the edge_floor filter in observe mode picks may lie below it);
5. "filters_rejected_all": candidates at or above the floor, none selected;
6. None: there are picks.
`models_enabled` counts the enabled families that predicted the day.

`rejected_by` of an admin candidate row (a model's lined prediction): None when it is the
selected pick; for the player's candidate row (the best_bets row's model) the best_bets
`rejected_by` (a filter id), else "health_gate" when the gate was active, else "cap" (cut by a
daily / team / game cap); for any other model's row "quarantined", else "not recommended"
(PASS / NO_LINE), else "not the player's best candidate".
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
from pydantic import ConfigDict, Field
from typing_extensions import TypedDict

from nba_props.lib import signals as signals_lib
from nba_props.lib.exports.common import (
    Direction,
    Edge,
    Export,
    FiniteFloat,
    Pct,
    Record,
    record_of,
    season_scope,
    utc_iso,
)
from nba_props.lib.grading import LOSS, OVER, PUSH, UNDER, WIN
from nba_props.lib.health import BLOCKED, DEGRADING, HEALTHY, INSUFFICIENT_DATA, WATCH, HealthConfig, load_health_config
from nba_props.lib.models.registry import ModelsConfig, load_models_config
from nba_props.lib.selection import TOLERANCE, SelectionConfig, load_selection_config

EDGE_BINS: tuple[tuple[float, float | None], ...] = ((0.0, 3.0), (3.0, 5.0), (5.0, 7.0), (7.0, 10.0), (10.0, None))
DIRECTION_WINDOW_DAYS = 14
MAX_ANGLES = 5
BANNER_STATES = (BLOCKED, DEGRADING)
NO_DATA = "NO_DATA"  # a family without a performance row in the season scope
BLACKLIST_FILTER = "blacklist"
NOT_RECOMMENDED, QUARANTINED, NOT_BEST = "not recommended", "quarantined", "not the player's best candidate"
HEALTH_GATE, CAPPED = "health_gate", "cap"
BOTTLENECKS = ("no_models", "no_candidates", "health_gate", "edge_floor", "filters_rejected_all")


def _pct(hr: float | None) -> float | None:
    """A hit rate on [0, 1] as a percent with 1 decimal."""
    return None if hr is None else round(hr * 100.0, 1)


def _edge(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# ============================================================================ schemas


class AdminPick(Export):
    rank: int | None
    player: str | None
    player_lookup: str
    team: str | None
    opponent: str | None
    game_id: str
    game_time: str | None  # tip-off, ISO UTC
    direction: Direction
    line: FiniteFloat | None
    edge: Edge
    predicted_points: FiniteFloat | None
    model_id: str
    family: str
    feature_set: str | None
    price: int | None
    p_over: FiniteFloat | None
    confidence: FiniteFloat | None
    signals: list[str]
    angles: list[str] = Field(max_length=MAX_ANGLES)
    ultra: bool
    ultra_public: bool
    ultra_rule: str | None
    models_agreeing: int | None
    champion_edge: FiniteFloat | None
    consensus_votes: int | None
    quality: FiniteFloat | None


class HealthGateState(Export):
    active: bool
    reason: str | None


class FamilyHealth(Export):
    family: str
    champion: bool
    state: str
    hr_7d: Pct | None
    n_7d: int
    hr_14d: Pct | None
    n_14d: int


class SignalHealthRow(Export):
    name: str
    kind: str | None
    state: str | None
    status: str | None
    regime: str | None
    hr_7d: Pct | None
    n_7d: int
    hr_season: Pct | None
    n_season: int


class BlacklistedPlayer(Export):
    player: str | None
    player_lookup: str
    team: str | None
    enforced: bool  # rejected (enforce mode) or only observed


class DirectionRecords(Export):
    last_days: Record
    season: Record


class DirectionHealth(Export):
    window_days: int
    over: DirectionRecords
    under: DirectionRecords


class FilterSummaryRow(Export):
    id: str
    mode: str
    rejected: int = Field(ge=0)
    observed: int = Field(ge=0)


class EdgeBin(Export):
    low: FiniteFloat
    high: FiniteFloat | None  # None: no upper bound
    count: int = Field(ge=0)


class SignalCount(Export):
    signal: str
    candidates: int = Field(ge=0)


class UltraGate(Export):
    over_n: int = Field(ge=0)
    over_hr: Pct | None
    required_n: int
    required_hr: Pct
    open: bool


class SignalBestBets(Export):
    date: date
    season: str
    generated_at: str
    algorithm_version: str
    health_gate: HealthGateState
    picks: list[AdminPick]
    total: int
    model_health: list[FamilyHealth]
    signal_health: list[SignalHealthRow]
    blacklist: list[BlacklistedPlayer]
    direction_health: DirectionHealth
    filter_summary: list[FilterSummaryRow]
    edge_distribution: list[EdgeBin]
    signals_evaluated: list[SignalCount]
    ultra_gate: UltraGate


class DashboardModel(Export):
    family: str
    enabled: bool
    role: str
    description: str
    model_id: str | None
    state: str
    hr_7d: Pct | None
    n_7d: int
    hr_14d: Pct | None
    n_14d: int
    hr_30d: Pct | None
    n_30d: int
    days_since_training: int | None
    staleness: str | None
    train_start: date | None
    train_end: date | None
    eval_mae: FiniteFloat | None
    eval_hr: Pct | None  # hit rate at edge >= 3 on the evaluation (calibration) rows
    eval_n: int | None
    features: int | None
    loss: str | None


class PipelineSummary(Export):
    models_enabled: int = Field(ge=0)
    total_candidates: int = Field(ge=0)
    edge_5_plus: int = Field(ge=0)
    best_bets: int = Field(ge=0)
    ultra: int = Field(ge=0)
    max_edge: Edge | None
    bottleneck: str | None


class CandidatesSummary(Export):
    total: int = Field(ge=0)
    over: int = Field(ge=0)
    under: int = Field(ge=0)
    edge_3_plus: int = Field(ge=0)
    edge_5_plus: int = Field(ge=0)
    selected: int = Field(ge=0)
    rejected: int = Field(ge=0)


class PerModel(Export):
    model_id: str
    family: str
    predictions: int = Field(ge=0)
    recommended: int = Field(ge=0)  # OVER / UNDER, not quarantined
    lined: int = Field(ge=0)
    edge_3_plus: int = Field(ge=0)  # recommended at edge >= 3
    edge_5_plus: int = Field(ge=0)
    max_edge: Edge | None  # of the lined predictions
    chosen: int = Field(ge=0)  # rows that are the player's candidate
    selected: int = Field(ge=0)


class OpenAlert(Export):
    alert_id: str
    raised_at: str
    kind: str | None
    asset: str | None
    partition: str | None
    check: str | None
    message: str | None


class AdminDashboard(Export):
    date: date
    generated_at: str
    algorithm_version: str
    best_bets_model: str
    champion_state: str
    model_health: list[DashboardModel]
    signal_health: list[SignalHealthRow]
    picks: list[AdminPick]
    today_picks: list[AdminPick]
    pipeline_summary: PipelineSummary
    ultra_gate: UltraGate
    candidates_summary: CandidatesSummary
    per_model: list[PerModel]
    filter_summary: list[FilterSummaryRow]
    open_alerts: list[OpenAlert]


class AdminCandidate(TypedDict):
    """One lined prediction of the day (a TypedDict validated with the file: ~1000 a day, validated
    in pydantic's core without one Python model object each; extra keys are an error). The builder
    hands plain rows over; the writer's blocking check validates the encoded file."""

    __pydantic_config__ = ConfigDict(extra="forbid", allow_inf_nan=False)  # type: ignore[misc]

    player: str | None
    player_lookup: str
    game_id: str
    model_id: str
    family: str
    line: FiniteFloat
    edge: Edge | None
    direction: Direction | None
    recommendation: str | None
    quality: FiniteFloat | None
    chosen: bool  # this model's row is the player's candidate (the best_bets row)
    selected: bool
    rejected_by: str | None


class UltraRecords(Export):
    ultra: Record
    over: Record
    under: Record


class AdminPicks(Export):
    date: date
    generated_at: str
    algorithm_version: str
    candidates: list[AdminCandidate]
    picks: list[AdminPick]
    ultra: UltraRecords
    pipeline_summary: PipelineSummary


class PublicModelHealth(Export):
    model: str  # the family id
    champion: bool
    state: str
    description: str
    hr_7d: Pct | None
    hr_14d: Pct | None
    picks_7d: int = Field(ge=0)
    days_since_training: int | None
    banner: bool  # state BLOCKED or DEGRADING


class ModelHealthFile(Export):
    date: date
    generated_at: str
    models: list[PublicModelHealth]
    banner: bool  # the champion shows a banner


PUBLIC_SCHEMAS = (ModelHealthFile,)
ADMIN_SCHEMAS = (SignalBestBets, AdminDashboard, AdminPicks)


# ============================================================================ shared pieces


def _day(frame: pl.DataFrame, day: date) -> pl.DataFrame:
    """The day's rows (the frame itself when it holds only the day: the assets split a run's rows
    per day once)."""
    if "game_date" not in frame.columns:
        return frame
    dates = frame.get_column("game_date")
    if frame.height == 0 or (dates.null_count() == 0 and dates.min() == day and dates.max() == day):
        return frame
    return frame.filter(pl.col("game_date") == day)


class AsOf:
    """Per day of a run (and the day before each), the newest row per `key` with `date_col` <= the
    day (a tie on the date: the later row of the frame), as plain dicts: one pass over the frame for
    the whole run, so a day's health / registry rows cost a dict lookup, not a polars filter."""

    def __init__(self, frame: pl.DataFrame, key: str, days: Iterable[date], date_col: str = "game_date") -> None:
        self.key, self.date_col, self.columns = key, date_col, tuple(frame.columns)
        rows = frame.to_dicts()
        # stable: rows of one date keep the frame's order, so the later one overwrites
        ordered = sorted((r for r in rows if r[date_col] is not None), key=lambda r: r[date_col])
        wanted = sorted({d for day in days for d in (day, day - timedelta(days=1))})
        self._at: dict[date, dict[Any, dict[str, Any]]] = {}
        state: dict[Any, dict[str, Any]] = {}
        i = 0
        for day in wanted:
            while i < len(ordered) and ordered[i][date_col] <= day:
                state[ordered[i][key]] = ordered[i]
                i += 1
            self._at[day] = dict(state)

    @classmethod
    def of(cls, frame: pl.DataFrame | AsOf, key: str, day: date, date_col: str = "game_date") -> AsOf:
        """The run's AsOf, or one made for `day` from a frame (the per-day builders)."""
        return frame if isinstance(frame, AsOf) else cls(frame, key, [day], date_col)

    def newest(self, day: date, since: date | None = None) -> list[dict[str, Any]]:
        """Per key the newest row as of `day` (with `date_col` >= since), sorted by key."""
        snap = self._at[day]
        return [snap[k] for k in sorted(snap, key=str) if since is None or snap[k][self.date_col] >= since]


def _performance(performance: pl.DataFrame | AsOf, day: date) -> dict[str, dict[str, Any]]:
    _, first = season_scope(day)
    return {r["family"]: r for r in AsOf.of(performance, "family", day).newest(day, first)}


def day_champion(performance: pl.DataFrame | AsOf, day: date, seed: str) -> str:
    """The champion of `day` chosen by evidence: `next_champion` of the newest model_performance_daily
    row of the season before the day (lib/champion.py), the configured `seed` without one (of the
    families' newest rows before the day, those naming one; a tie on the date: the first family)."""
    history = AsOf.of(performance, "family", day)
    if "next_champion" not in history.columns:
        return seed
    _, first = season_scope(day)
    prev = [r for r in history.newest(day - timedelta(days=1), first) if r["next_champion"] is not None]
    if not prev:
        return seed
    newest = max(r["game_date"] for r in prev)
    return next(r["next_champion"] for r in prev if r["game_date"] == newest)


def _registry(registry: pl.DataFrame | AsOf, day: date) -> dict[str, dict[str, Any]]:
    return {r["family"]: r for r in AsOf.of(registry, "family", day, "week_start").newest(day)}


def _days_since(reg: dict[str, Any] | None, perf: dict[str, Any] | None, day: date) -> int | None:
    if reg is not None and reg.get("week_start") is not None:
        return (day - reg["week_start"]).days
    return None if perf is None else perf.get("days_since_training")


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def admin_picks_by_day(candidates: pl.DataFrame) -> dict[date | None, list[AdminPick]]:
    """Per game_date (None without the column) the selected candidates by rank with their full
    metadata: one filter and one row conversion for a whole run's candidates."""
    if candidates.height == 0:
        return {}
    by_day: dict[date | None, list[dict[str, Any]]] = {}
    for r in candidates.filter(pl.col("selected").fill_null(False)).iter_rows(named=True):
        by_day.setdefault(r.get("game_date"), []).append(r)
    return {day: [_admin_pick(r) for r in sorted(rows, key=_rank_order)] for day, rows in by_day.items()}


def _rank_order(r: dict[str, Any]) -> tuple:
    return (r["rank"] is None, r["rank"] or 0, r["game_id"], r["player_lookup"])


def _admin_pick(r: dict[str, Any]) -> AdminPick:
    return AdminPick(
        rank=r["rank"],
        player=r["player_name"],
        player_lookup=r["player_lookup"],
        team=r["team"],
        opponent=r["opponent"],
        game_id=r["game_id"],
        game_time=None if r["tip_time_utc"] is None else utc_iso(r["tip_time_utc"]),
        direction=r["direction"],
        line=r["line"],
        edge=_edge(r["edge"]),
        predicted_points=_round(r["predicted_points"], 2),
        model_id=r["model_id"],
        family=r["family"],
        feature_set=r["feature_set"],
        price=r["price"],
        p_over=_round(r["p_over"], 4),
        confidence=_round(r["confidence"], 4),
        signals=list(r["signals"] or []),
        angles=list(r["angles"] or [])[:MAX_ANGLES],
        ultra=bool(r["ultra"]),
        ultra_public=bool(r["ultra_public"]),
        ultra_rule=r["ultra_rule"],
        models_agreeing=r["models_agreeing"],
        champion_edge=_edge(r["champion_edge"]),
        consensus_votes=r["consensus_votes"],
        quality=_round(r["feature_quality_score"], 1),
    )  # fmt: skip


def _performance_before(performance: pl.DataFrame | AsOf, day: date, first: date) -> dict[str, dict[str, Any]]:
    return {r["family"]: r for r in AsOf.of(performance, "family", day).newest(day - timedelta(days=1), first)}


def health_gate_state(
    candidates: pl.DataFrame, performance: pl.DataFrame | AsOf, day: date, champion: str, selection: SelectionConfig
) -> HealthGateState:
    """The candidates' own gate flag; without candidates, the champion's newest row before the day."""
    if candidates.height:
        reasons = [
            reason
            for active, reason in zip(
                candidates["health_gate_active"].to_list(), candidates["health_gate_reason"].to_list(), strict=True
            )
            if active
        ]
        return HealthGateState(active=bool(reasons), reason=next((r for r in reasons if r), None))
    _, first = season_scope(day)
    prev = _performance_before(performance, day, first).get(champion)
    if prev is not None and prev["state"] in selection.health_gate.states:
        return HealthGateState(
            active=True, reason=f"champion {champion} was {prev['state']} on {prev['game_date']}: no picks"
        )
    return HealthGateState(active=False, reason=None)


def _record(wins: int, losses: int, pushes: int) -> Record:
    return record_of([WIN] * wins + [LOSS] * losses + [PUSH] * pushes)


# a group of published picks: a predicate on (game_date, direction, ultra) given the day
Group = Callable[[date, str | None, bool], bool]


class PickHistory:
    """The graded (WIN / LOSS / PUSH) published picks of a picks frame as plain rows (game_date,
    direction, ultra, result), made once for a run: each day's records are then a pass over a few
    hundred tuples (a polars filter and sums per day and group cost milliseconds each)."""

    def __init__(self, picks: pl.DataFrame) -> None:
        columns = (picks[c].to_list() for c in ("game_date", "direction", "ultra", "result"))
        self.rows = [
            (d, direction, bool(ultra), result)
            for d, direction, ultra, result in zip(*columns, strict=True)
            if d is not None and result in (WIN, LOSS, PUSH)
        ]

    @classmethod
    def of(cls, picks: pl.DataFrame | PickHistory) -> PickHistory:
        return picks if isinstance(picks, PickHistory) else cls(picks)


def pick_records(picks: pl.DataFrame | PickHistory, day: date, groups: dict[str, Group]) -> dict[str, Record]:
    """The record of each group of the published picks of the season scope graded before `day`."""
    _, first = season_scope(day)
    last = day - timedelta(days=1)
    counts = {name: {WIN: 0, LOSS: 0, PUSH: 0} for name in groups}
    for d, direction, ultra, result in PickHistory.of(picks).rows:
        if first <= d <= last:
            for name, member in groups.items():
                if member(d, direction, ultra):
                    counts[name][result] += 1
    return {name: _record(c[WIN], c[LOSS], c[PUSH]) for name, c in counts.items()}


def _is(direction: str) -> pl.Expr:
    return pl.col("direction") == direction


_ULTRA = pl.col("ultra").fill_null(False)


ULTRA_OVER = "ultra_over"


def _ultra(_d: date, _direction: str | None, ultra: bool) -> bool:
    return ultra


def _ultra_over(_d: date, direction: str | None, ultra: bool) -> bool:
    return ultra and direction == OVER


def _ultra_under(_d: date, direction: str | None, ultra: bool) -> bool:
    return ultra and direction == UNDER


def _gate_of(rec: Record, selection: SelectionConfig) -> UltraGate:
    po = selection.ultra.public_over
    n = rec.wins + rec.losses
    return UltraGate(
        over_n=n, over_hr=rec.pct, required_n=po.min_n, required_hr=round(po.min_hr * 100.0, 1),
        open=n >= po.min_n and rec.wins >= po.min_hr * n - TOLERANCE,
    )  # fmt: skip


def ultra_gate(picks: pl.DataFrame | PickHistory, day: date, selection: SelectionConfig) -> UltraGate:
    """The public ultra OVER gate over the graded ultra OVER published picks before the day."""
    return _gate_of(pick_records(picks, day, {ULTRA_OVER: _ultra_over})[ULTRA_OVER], selection)


def ultra_records(picks: pl.DataFrame | PickHistory, day: date) -> UltraRecords:
    """Live records of the ultra published picks graded before the day (all, OVER, UNDER)."""
    return UltraRecords(**pick_records(picks, day, {"ultra": _ultra, "over": _ultra_over, "under": _ultra_under}))


def _direction_groups(day: date, window_days: int) -> dict[str, Group]:
    since = day - timedelta(days=window_days)
    return {
        "over_recent": lambda d, direction, _u: direction == OVER and d >= since,
        "over": lambda _d, direction, _u: direction == OVER,
        "under_recent": lambda d, direction, _u: direction == UNDER and d >= since,
        "under": lambda _d, direction, _u: direction == UNDER,
    }


def _direction_of(r: dict[str, Record], window_days: int) -> DirectionHealth:
    return DirectionHealth(
        window_days=window_days,
        over=DirectionRecords(last_days=r["over_recent"], season=r["over"]),
        under=DirectionRecords(last_days=r["under_recent"], season=r["under"]),
    )


def direction_health(
    picks: pl.DataFrame | PickHistory, day: date, window_days: int = DIRECTION_WINDOW_DAYS
) -> DirectionHealth:
    """OVER / UNDER records of the published picks of the `window_days` days before the day and of
    the season before the day."""
    return _direction_of(pick_records(picks, day, _direction_groups(day, window_days)), window_days)


def filter_summary(candidates: pl.DataFrame, selection: SelectionConfig) -> list[FilterSummaryRow]:
    """Per filter in config order: candidates it rejected (first enforcing filter) and candidates
    it would have blocked in observe mode (`observed_by`)."""
    rejected = Counter(candidates["rejected_by"].to_list())
    observed = Counter(f for fs in candidates["observed_by"].to_list() for f in fs or ())
    return [
        FilterSummaryRow(id=f.id, mode=f.mode, rejected=rejected.get(f.id, 0), observed=observed.get(f.id, 0))
        for f in selection.filters
    ]


def signal_health_rows(signal_health: pl.DataFrame | AsOf, day: date) -> list[SignalHealthRow]:
    """Newest row (season scope, <= day) per active / shadow signal and combo, by kind and name."""
    _, first = season_scope(day)
    rows = AsOf.of(signal_health, "name", day).newest(day, first)
    return [
        SignalHealthRow(
            name=r["name"],
            kind=r["kind"],
            state=r["state"],
            status=r["status"],
            regime=r["regime"],
            hr_7d=_pct(r["hr_7d"]),
            n_7d=r["n_7d"] or 0,
            hr_season=_pct(r["hr_season"]),
            n_season=r["n_season"] or 0,
        )  # fmt: skip
        for r in sorted(rows, key=lambda r: (r["kind"] or "", r["name"]))
        if r["state"] in (signals_lib.ACTIVE, signals_lib.SHADOW, None)
    ]


def _enabled_families(models: ModelsConfig) -> list[str]:
    return [f.id for f in models.families if f.enabled]


def _count_exprs(selection: SelectionConfig) -> list[pl.Expr]:
    edge, sel = pl.col("edge"), pl.col("selected").fill_null(False)
    return [
        pl.len().alias("total"),
        _is(OVER).sum().alias("over"),
        _is(UNDER).sum().alias("under"),
        (edge >= 3.0 - TOLERANCE).sum().alias("edge_3_plus"),
        (edge >= 5.0 - TOLERANCE).sum().alias("edge_5_plus"),
        (edge >= selection.edge_floor - TOLERANCE).sum().alias("above_floor"),
        sel.sum().alias("selected"),
        (sel & _ULTRA).sum().alias("ultra"),
        pl.col("rejected_by").is_not_null().sum().alias("rejected"),
        pl.col("health_gate_active").fill_null(False).any().alias("gate"),
        edge.max().alias("max_edge"),
    ]


@dataclass(frozen=True)
class DayFigures:
    """What the admin builders derive from a day's candidates and predictions: its admin picks, its
    candidate counts, its per-model summary and the families that predicted it. `day_figures`
    computes them for a whole run at once (one group_by on game_date), a day's builder reads its
    own."""

    picks: list[AdminPick]
    counts: dict[str, Any]
    per_model: list[PerModel]
    predicted: frozenset[str]


def day_figures(
    candidates: pl.DataFrame, predictions: pl.DataFrame | None, days: Sequence[date], selection: SelectionConfig
) -> dict[date, DayFigures]:
    """Each day's `DayFigures` from a run's candidates (best_bets rows) and predictions (None: no
    per-model figures), both with game_date."""
    exprs = _count_exprs(selection)
    empty = candidates.clear().select(exprs).row(0, named=True)
    counts = {r["game_date"]: r for r in candidates.group_by("game_date").agg(exprs).iter_rows(named=True)}
    for r in counts.values():
        r.pop("game_date")
    picks = admin_picks_by_day(candidates)
    models = per_model_by_day(predictions, candidates) if predictions is not None else {}
    return {
        # the per-model rows cover every prediction row: their families are the ones that predicted
        day: DayFigures(
            picks=picks.get(day, []),
            counts=counts.get(day, empty),
            per_model=models.get(day, []),
            predicted=frozenset(m.family for m in models.get(day, ())),
        )  # fmt: skip
        for day in days
    }


def pipeline_summary(
    candidates: pl.DataFrame, predictions: pl.DataFrame, day: date, models: ModelsConfig, selection: SelectionConfig
) -> PipelineSummary:
    """The day's funnel and its bottleneck (the module docstring gives the order)."""
    return _pipeline(day_figures(_day(candidates, day), _day(predictions, day), [day], selection)[day], models)


def _pipeline(figures: DayFigures, models: ModelsConfig) -> PipelineSummary:
    models_enabled = len([f for f in _enabled_families(models) if f in figures.predicted])
    c = figures.counts
    if models_enabled == 0:
        bottleneck: str | None = "no_models"
    elif c["total"] == 0:
        bottleneck = "no_candidates"
    elif c["gate"]:
        bottleneck = "health_gate"
    elif c["above_floor"] == 0 and c["selected"] == 0:  # (an observe-mode edge floor may let picks below it)
        bottleneck = "edge_floor"
    elif c["selected"] == 0:
        bottleneck = "filters_rejected_all"
    else:
        bottleneck = None
    return PipelineSummary(
        models_enabled=models_enabled, total_candidates=c["total"], edge_5_plus=c["edge_5_plus"],
        best_bets=c["selected"], ultra=c["ultra"], max_edge=_edge(c["max_edge"]), bottleneck=bottleneck,
    )  # fmt: skip


def _configs(models: ModelsConfig | None, selection: SelectionConfig | None) -> tuple[ModelsConfig, SelectionConfig]:
    """The given configs, or the project's config files."""
    return models or load_models_config(), selection or load_selection_config()


# ============================================================================ signal-best-bets


def build_signal_best_bets(
    candidates: pl.DataFrame,
    picks: pl.DataFrame | PickHistory,
    performance: pl.DataFrame | AsOf,
    signal_health: pl.DataFrame | AsOf,
    day: date,
    *,
    generated_at: datetime,
    algorithm_version: str,
    models: ModelsConfig | None = None,
    selection: SelectionConfig | None = None,
    signal_registry: signals_lib.SignalRegistry | None = None,
    direction_window_days: int = DIRECTION_WINDOW_DAYS,
    figures: DayFigures | None = None,
) -> SignalBestBets:
    """`figures`: the day's `DayFigures` when the caller computed a whole run's (else from the day's
    candidates)."""
    models, selection = _configs(models, selection)
    signal_registry = signal_registry or signals_lib.load_signal_registry()
    cands = _day(candidates, day)
    season, _ = season_scope(day)
    performance = AsOf.of(performance, "family", day)
    perf = _performance(performance, day)
    picks_today = (figures or day_figures(cands, None, [day], selection)[day]).picks
    champion = day_champion(performance, day, models.champion)

    model_health = []
    for f in models.families:
        if not f.enabled:
            continue
        r = perf.get(f.id) or {}
        model_health.append(
            FamilyHealth(
                family=f.id,
                champion=f.id == champion,
                state=r.get("state") or NO_DATA,
                hr_7d=_pct(r.get("hr_7d")),
                n_7d=r.get("n_7d") or 0,
                hr_14d=_pct(r.get("hr_14d")),
                n_14d=r.get("n_14d") or 0,
            )  # fmt: skip
        )

    flagged = sorted(
        (lookup, name, team, rejected == BLACKLIST_FILTER)
        for lookup, name, team, rejected, observed in zip(
            *(cands[c].to_list() for c in ("player_lookup", "player_name", "team", "rejected_by", "observed_by")),
            strict=True,
        )
        if rejected == BLACKLIST_FILTER or BLACKLIST_FILTER in (observed or ())
    )
    blacklist = [
        BlacklistedPlayer(player=name, player_lookup=lookup, team=team, enforced=enforced)
        for lookup, name, team, enforced in flagged
    ]

    edges = [e for e in cands["edge"].to_list() if e is not None]
    bins = [
        EdgeBin(
            low=lo,
            high=hi,
            count=sum(1 for e in edges if e >= lo - TOLERANCE and (hi is None or e < hi - TOLERANCE)),
        )
        for lo, hi in EDGE_BINS
    ]
    carried = Counter(s for ss in cands["signals"].to_list() for s in ss or ())
    evaluated = [SignalCount(signal=s, candidates=carried.get(s, 0)) for s in signal_registry.active]
    # the direction records and the ultra gate in one pass over the picks
    history = pick_records(picks, day, {**_direction_groups(day, direction_window_days), ULTRA_OVER: _ultra_over})

    return SignalBestBets(
        date=day, season=season, generated_at=utc_iso(generated_at), algorithm_version=algorithm_version,
        health_gate=health_gate_state(cands, performance, day, champion, selection), picks=picks_today,
        total=len(picks_today), model_health=model_health, signal_health=signal_health_rows(signal_health, day),
        blacklist=blacklist, direction_health=_direction_of(history, direction_window_days),
        filter_summary=filter_summary(cands, selection), edge_distribution=bins, signals_evaluated=evaluated,
        ultra_gate=_gate_of(history[ULTRA_OVER], selection),
    )  # fmt: skip


# ============================================================================ admin dashboard


def _metrics(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and value == value and abs(value) != float("inf") else None


def open_alerts(alerts: pl.DataFrame, generated_at: datetime) -> list[OpenAlert]:
    """Alerts open at `generated_at`: raised at or before it and not recovered by then."""
    if alerts.height == 0:
        return []
    at = generated_at
    raised, recovered, ids = (alerts[c].to_list() for c in ("raised_at", "recovered_at", "alert_id"))
    keep = sorted(
        (i for i in range(alerts.height) if raised[i] <= at and (recovered[i] is None or recovered[i] > at)),
        key=lambda i: (raised[i], ids[i]),
    )
    rows = alerts[keep].iter_rows(named=True) if keep else []
    return [
        OpenAlert(
            alert_id=r["alert_id"],
            raised_at=utc_iso(r["raised_at"]),
            kind=r["kind"],
            asset=r["asset"],
            partition=r["partition"],
            check=r["check"],
            message=r["message"],
        )  # fmt: skip
        for r in rows
    ]


def per_model_by_day(predictions: pl.DataFrame, candidates: pl.DataFrame) -> dict[date, list[PerModel]]:
    """Per game_date, per model with predictions on the day (one polars pass for a whole run)."""
    if predictions.height == 0:
        return {}
    rec = pl.col("recommendation").is_in([OVER, UNDER]) & ~pl.col("quarantined").fill_null(False)
    lined_rec = rec & pl.col("line").is_not_null() & pl.col("edge").is_not_null()
    stats = predictions.group_by("game_date", "model_id", "family").agg(
        pl.len().alias("predictions"),
        rec.sum().alias("recommended"),
        pl.col("line").is_not_null().sum().alias("lined"),
        (lined_rec & (pl.col("edge") >= 3.0 - TOLERANCE)).sum().alias("edge_3_plus"),
        (lined_rec & (pl.col("edge") >= 5.0 - TOLERANCE)).sum().alias("edge_5_plus"),
        pl.col("edge").filter(pl.col("line").is_not_null()).max().alias("max_edge"),
    )
    keys = list(zip(candidates["game_date"].to_list(), candidates["model_id"].to_list(), strict=True))
    chosen = Counter(keys)
    selected = Counter(k for k, s in zip(keys, candidates["selected"].to_list(), strict=True) if s)
    out: dict[date, list[PerModel]] = {}
    for r in sorted(stats.iter_rows(named=True), key=lambda r: (r["family"], r["model_id"])):
        key = (r["game_date"], r["model_id"])
        out.setdefault(r["game_date"], []).append(
            PerModel(
                model_id=r["model_id"],
                family=r["family"],
                predictions=r["predictions"],
                recommended=r["recommended"],
                lined=r["lined"],
                edge_3_plus=r["edge_3_plus"],
                edge_5_plus=r["edge_5_plus"],
                max_edge=_edge(r["max_edge"]),
                chosen=chosen.get(key, 0),
                selected=selected.get(key, 0),
            )  # fmt: skip
        )
    return out


def build_dashboard(
    candidates: pl.DataFrame,
    predictions: pl.DataFrame,
    picks: pl.DataFrame | PickHistory,
    performance: pl.DataFrame | AsOf,
    signal_health: pl.DataFrame | AsOf,
    registry: pl.DataFrame | AsOf,
    alerts: pl.DataFrame,
    day: date,
    *,
    generated_at: datetime,
    algorithm_version: str,
    models: ModelsConfig | None = None,
    selection: SelectionConfig | None = None,
    figures: DayFigures | None = None,
) -> AdminDashboard:
    """`figures`: the day's `DayFigures` when the caller computed a whole run's."""
    models, selection = _configs(models, selection)
    cands, preds = _day(candidates, day), _day(predictions, day)
    performance = AsOf.of(performance, "family", day)
    perf, reg = _performance(performance, day), _registry(registry, day)

    model_health = []
    for f in models.families:
        p, r = perf.get(f.id), reg.get(f.id)
        pr, rr = p or {}, r or {}
        metrics = _metrics(rr.get("metrics"))
        eval_hr = _finite(metrics.get("hr_edge3"))
        eval_n = metrics.get("n_edge3")
        model_health.append(
            DashboardModel(
                family=f.id,
                enabled=f.enabled,
                role=f.role,
                description=f.description,
                model_id=rr.get("model_id") or pr.get("model_id"),
                state=pr.get("state") or NO_DATA,
                hr_7d=_pct(pr.get("hr_7d")),
                n_7d=pr.get("n_7d") or 0,
                hr_14d=_pct(pr.get("hr_14d")),
                n_14d=pr.get("n_14d") or 0,
                hr_30d=_pct(pr.get("hr_30d")),
                n_30d=pr.get("n_30d") or 0,
                days_since_training=_days_since(r, p, day),
                staleness=pr.get("staleness"),
                train_start=rr.get("train_start"),
                train_end=rr.get("train_end"),
                eval_mae=None if _finite(metrics.get("mae")) is None else round(metrics["mae"], 3),
                eval_hr=_pct(eval_hr),
                eval_n=eval_n if isinstance(eval_n, int) else None,
                features=None if rr.get("features") is None else len(rr["features"]),
                loss=rr.get("loss") or str(f.loss),
            )  # fmt: skip
        )

    figures = figures or day_figures(cands, preds, [day], selection)[day]
    admin_picks, counts = figures.picks, figures.counts
    summary = CandidatesSummary(**{k: counts[k] for k in CandidatesSummary.model_fields})
    champion_family = day_champion(performance, day, models.champion)
    champion = perf.get(champion_family) or {}
    return AdminDashboard(
        date=day, generated_at=utc_iso(generated_at), algorithm_version=algorithm_version,
        best_bets_model=champion_family, champion_state=champion.get("state") or NO_DATA, model_health=model_health,
        signal_health=signal_health_rows(signal_health, day), picks=admin_picks, today_picks=list(admin_picks),
        pipeline_summary=_pipeline(figures, models),
        ultra_gate=ultra_gate(picks, day, selection), candidates_summary=summary, per_model=figures.per_model,
        filter_summary=filter_summary(cands, selection), open_alerts=open_alerts(alerts, generated_at),
    )  # fmt: skip


# ============================================================================ admin picks


def admin_candidates(predictions: pl.DataFrame, candidates: pl.DataFrame, *, keep_date: bool = False) -> pl.DataFrame:
    """Every lined prediction with its player, quality, chosen / selected flags and rejected_by, by
    game, player and model (one polars pass; the module docstring gives the rejected_by rules).
    A whole run's days at once: `keep_date` keeps `game_date` first (split it per day after)."""
    cand = candidates.select(
        "game_id", "player_lookup", pl.col("player_name").alias("player"),
        pl.col("feature_quality_score").round(1).alias("quality"), pl.col("model_id").alias("_cand_model"),
        pl.col("selected").fill_null(False).alias("_selected"), pl.col("rejected_by").alias("_rejected"),
        pl.col("health_gate_active").fill_null(False).alias("_gate"),
    )  # fmt: skip
    rows = (
        predictions.select("game_date", "game_id", "player_lookup", "model_id", "family", "line", "edge", "direction",
                           "recommendation", "quarantined")
        .filter(pl.col("line").is_not_null())
        .sort("game_date", "game_id", "player_lookup", "model_id")
        .join(cand, on=["game_id", "player_lookup"], how="left", maintain_order="left")
    )  # fmt: skip
    chosen = (pl.col("model_id") == pl.col("_cand_model")).fill_null(False)
    selected = chosen & pl.col("_selected")
    rejected = (
        pl.when(selected).then(None)
        .when(chosen & pl.col("_rejected").is_not_null()).then(pl.col("_rejected"))
        .when(chosen & pl.col("_gate")).then(pl.lit(HEALTH_GATE))
        .when(chosen).then(pl.lit(CAPPED))
        .when(pl.col("quarantined").fill_null(False)).then(pl.lit(QUARANTINED))
        .when(~pl.col("recommendation").is_in([OVER, UNDER]).fill_null(True)).then(pl.lit(NOT_RECOMMENDED))
        .otherwise(pl.lit(NOT_BEST))
    )  # fmt: skip
    return rows.select(
        *(["game_date"] if keep_date else []),
        "player", "player_lookup", "game_id", "model_id", "family", "line", pl.col("edge").round(2), "direction",
        "recommendation", "quality", chosen.alias("chosen"), selected.alias("selected"),
        rejected.cast(pl.Utf8).alias("rejected_by"),
    )  # fmt: skip


def build_admin_picks(
    candidates: pl.DataFrame,
    predictions: pl.DataFrame,
    picks: pl.DataFrame | PickHistory,
    day: date,
    **kwargs: Any,
) -> AdminPicks:
    """The day's AdminPicks with its candidate rows as dicts (`admin_picks_head`'s two parts in
    one model)."""
    head, rows = admin_picks_head(candidates, predictions, picks, day, **kwargs)
    # plain dicts, NOT validated here: the writer's blocking schema check validates the file
    return head.model_copy(update={"candidates": rows.to_dicts()})


def admin_picks_head(
    candidates: pl.DataFrame,
    predictions: pl.DataFrame,
    picks: pl.DataFrame | PickHistory,
    day: date,
    *,
    generated_at: datetime,
    algorithm_version: str,
    models: ModelsConfig | None = None,
    selection: SelectionConfig | None = None,
    candidate_rows: pl.DataFrame | None = None,
    figures: DayFigures | None = None,
) -> tuple[AdminPicks, pl.DataFrame]:
    """The day's AdminPicks without its ~1000 candidate rows (validated as usual) and those rows
    as a frame in `AdminCandidate` order, for `common.to_json_bytes(model, {"candidates": rows})`.
    `candidate_rows`: the day's `admin_candidates` when the caller computed a whole run's at once
    (game_date dropped), `figures` its `DayFigures`; computed here from the day's frames
    otherwise."""
    models, selection = _configs(models, selection)
    cands, preds = _day(candidates, day), _day(predictions, day)
    figures = figures or day_figures(cands, preds, [day], selection)[day]
    if candidate_rows is None:
        candidate_rows = admin_candidates(preds, cands)
    head = AdminPicks.model_validate(
        {
            "date": day,
            "generated_at": utc_iso(generated_at),
            "algorithm_version": algorithm_version,
            "candidates": [],
            "picks": figures.picks,
            "ultra": ultra_records(picks, day),
            "pipeline_summary": _pipeline(figures, models),
        }
    )
    return head, candidate_rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def admin_picks_markdown(model: AdminPicks, players_shown: int = 5) -> str:
    """The day for the Dagster UI: the picks, the player's candidates that were rejected grouped
    by the filter (or reason) that rejected them, and the pipeline bottleneck."""
    ps = model.pipeline_summary
    parts = [f"### Picks {model.date.isoformat()} ({len(model.picks)})"]
    if model.picks:
        parts.append(
            _table(
                ["rank", "player", "direction", "line", "edge", "angles", "ultra"],
                [
                    [
                        p.rank,
                        p.player or p.player_lookup,
                        p.direction,
                        p.line,
                        p.edge,
                        "; ".join(p.angles),
                        "yes" if p.ultra else "",
                    ]
                    for p in model.picks
                ],  # fmt: skip
            )
        )
    else:
        parts.append("No picks.")
    groups: dict[str, list[str]] = {}
    for c in model.candidates:
        if c["chosen"] and not c["selected"] and c["rejected_by"] is not None:
            groups.setdefault(c["rejected_by"], []).append(c["player"] or c["player_lookup"])
    parts.append("### Rejected candidates")
    if groups:
        ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        parts.append(
            _table(
                ["filter", "count", "players"],
                [
                    [
                        name,
                        len(players),
                        ", ".join(sorted(players)[:players_shown]) + (" ..." if len(players) > players_shown else ""),
                    ]
                    for name, players in ordered
                ],  # fmt: skip
            )
        )
    else:
        parts.append("None.")
    parts.append(
        f"**Bottleneck:** {ps.bottleneck or 'none (there are picks)'} - {ps.models_enabled} models, "
        f"{ps.total_candidates} candidates, {ps.edge_5_plus} at edge 5+, {ps.best_bets} picks, {ps.ultra} ultra"
    )
    return "\n\n".join(parts) + "\n"


# ============================================================================ public model health


def state_descriptions(health: HealthConfig) -> dict[str, str]:
    """One sentence per state, with the bands of config/health.yaml."""
    b, w = health.bands, health.state_window
    return {
        HEALTHY: f"Hitting {b.watch_below:g}% or better over the last {w} days.",
        WATCH: f"Hitting {b.degrading_below:g}% to {b.watch_below:g}% over the last {w} days: watched.",
        DEGRADING: f"Hitting {b.blocked_below:g}% to {b.degrading_below:g}% over the last {w} days: below target.",
        BLOCKED: f"Hitting below {b.blocked_below:g}% over the last {w} days: no picks while the champion is here.",
        INSUFFICIENT_DATA: f"Fewer than {health.min_n} graded picks over the last {w} days.",
        NO_DATA: "No graded history yet this season.",
    }


def build_model_health(
    performance: pl.DataFrame | AsOf,
    registry: pl.DataFrame | AsOf,
    day: date,
    *,
    generated_at: datetime,
    algorithm_version: str = "",
    models: ModelsConfig | None = None,
    health: HealthConfig | None = None,
) -> ModelHealthFile:
    """Public: per enabled family (config order) its state, description, HR 7 / 14, picks 7d,
    days since training and banner (BLOCKED or DEGRADING). `algorithm_version` is accepted for a
    uniform builder signature; the public file does not carry it."""
    models, health = models or load_models_config(), health or load_health_config()
    descriptions = state_descriptions(health)
    performance = AsOf.of(performance, "family", day)
    perf, reg = _performance(performance, day), _registry(registry, day)
    champion = day_champion(performance, day, models.champion)
    rows = []
    for f in models.families:
        if not f.enabled:
            continue
        p = perf.get(f.id)
        pr = p or {}
        state = pr.get("state") or NO_DATA
        rows.append(
            PublicModelHealth(
                model=f.id,
                champion=f.id == champion,
                state=state,
                description=descriptions.get(state, f"State {state}."),
                hr_7d=_pct(pr.get("hr_7d")),
                hr_14d=_pct(pr.get("hr_14d")),
                picks_7d=pr.get("n_7d") or 0,
                days_since_training=_days_since(reg.get(f.id), p, day),
                banner=state in BANNER_STATES,
            )  # fmt: skip
        )
    return ModelHealthFile(
        date=day, generated_at=utc_iso(generated_at), models=rows, banner=any(m.banner for m in rows if m.champion)
    )
