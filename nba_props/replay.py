"""The replay clock: drive the graph with the project's own sensors and automation conditions, tick
by tick over simulated time, exactly as the daemon would, without waiting a season.

Each tick freezes the platform's clock (`ClockResource.frozen_at`) at a simulated instant. The
providers then reveal only what existed at that instant (line snapshots and injury reports captured
before it, box scores of games that had ended), every sensor is evaluated once with its saved
cursor, the runs it requests are launched (in this process, one after the other: DuckDB has one
writer), and the declarative automation is evaluated until it requests nothing more, as the daemon's
30-second cadence would within the hour. Every run is tagged `nba_props/launched_by=replay` with the
sensor or condition that asked for it, and runs with the clock of its tick, so its data is what the
daemon would have seen.

A fault can be planted: `withhold_box_scores={day: release}` keeps a date's box scores from the
provider until `release`, which must raise a freshness alert at the morning deadline and a recovery
once they land.
"""

from __future__ import annotations

import gc
import logging
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from nba_props import runs, seasons

TICK = timedelta(hours=1)
# The daemon evaluates conditions every ~30 s; within a tick the replay re-evaluates at that cadence
# until nothing more is requested (a cascade lines -> features -> predictions takes a few rounds).
AUTOMATION_CADENCE = timedelta(seconds=30)
MAX_AUTOMATION_ROUNDS = 12
# Sensors that only observe (they never request runs) go after the runs of their tick, so they see them.
OBSERVING_SENSORS = ("freshness_checks", "alerts")
REASON_TAG = "nba_props/reason"
CLOCK_TAG = "nba_props/clock"
SENSOR_NAME_TAG, AUTOMATION_CONDITION_TAG = "dagster/sensor_name", "dagster/from_automation_condition"
AUTOMATION_SENSOR = "automation"  # nba_props/defs/automation/conditions.py
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass(frozen=True)
class ReplayRun:
    at: datetime  # the simulated instant (UTC) of the tick that launched it
    reason: str  # "sensor:lines_posted", "automation", ...
    partition: str
    assets: tuple[str, ...]
    success: bool
    seconds: float
    run_id: str


@dataclass
class ReplayReport:
    start: date
    end: date
    runs: list[ReplayRun] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    ticks: int = 0
    wall_seconds: float = 0.0
    run_seconds: float = 0.0  # inside launched runs (asset compute plus the run's own Dagster work)
    # inside the runs' steps (asset compute, IO and the events a step writes); the rest of run_seconds
    # is the run's own Dagster work outside its steps (plan, create, start, finish)
    step_seconds: float = 0.0
    step_seconds_by_step: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    sensor_seconds: float = 0.0  # sensor ticks (the observing ones included)
    automation_seconds: float = 0.0  # condition evaluations

    @property
    def bookkeeping_seconds(self) -> float:
        """Sensor ticks, condition evaluations and the loop itself."""
        return self.wall_seconds - self.run_seconds

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def requested_by(self) -> dict[str, dict[str, int]]:
        """Per reason, how many runs each asset was in."""
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for run in self.runs:
            for asset in run.assets:
                counts[run.reason][asset] += 1
        return {reason: dict(sorted(assets.items())) for reason, assets in sorted(counts.items())}


def tick_instants(start: date, end: date, tick: timedelta = TICK, close_hour_et: int = 9) -> list[datetime]:
    """Ticks from `start` 00:00 ET through the morning after `end` (`close_hour_et`, after the box
    scores of `end` and the morning deadlines), in UTC; DST days have 23 or 25 hourly ticks."""
    first = datetime.combine(start, datetime.min.time(), tzinfo=seasons.GAME_TZ).astimezone(UTC)
    last = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=seasons.GAME_TZ).replace(
        hour=close_hour_et
    )
    last = last.astimezone(UTC)
    out, at = [], first
    while at <= last:
        out.append(at)
        at += tick
    return out


def tick_resources(base: Mapping[str, object], at: datetime) -> dict[str, object]:
    """`base` (the code location's resources, built once per replay) with the clock frozen at `at`."""
    return {**base, "clock": _rebuilt(base["clock"], frozen_at=at.isoformat())}


def _rebuilt(resource: dg.ConfigurableResource, **changes) -> dg.ConfigurableResource:
    # A new instance: pydantic's model_copy would leave the config Dagster reads unchanged.
    return type(resource)(**{**resource.model_dump(), **changes})


def run_config_at(resources: Mapping[str, object]) -> dict:
    """Run config giving a launched run the tick's clock and provider (with the planted fault). A
    resource's run config replaces its bound values, so each gets its whole config."""
    return {"resources": {key: {"config": resources[key].model_dump()} for key in ("clock", "provider")}}


Launch = Callable[..., tuple[bool, str]]


class Replay:
    """One replay over an instance and a warehouse (see the module docstring)."""

    def __init__(
        self,
        settings,
        instance: dg.DagsterInstance,
        *,
        withhold_box_scores: Mapping[date, datetime] | None = None,
        launch: Launch | None = None,
        log: Callable[[str], None] = print,
        speed: float = 0.0,
    ) -> None:
        from nba_props import definitions
        from nba_props.resources import build_resources

        self.settings = settings
        self.instance = instance
        self.defs = definitions.defs_with_settings(settings)
        self.withheld = {
            day.isoformat(): at.astimezone(UTC).isoformat() for day, at in (withhold_box_scores or {}).items()
        }
        self.log = log
        self.speed = speed  # simulated seconds per wall second; 0 = as fast as possible
        self._launch = launch or self._launch_run
        sensors = [s for s in self.defs.sensors if not isinstance(s, dg.AutomationConditionSensorDefinition)]
        self.requesting = [s for s in sensors if s.name not in OBSERVING_SENSORS]
        self.observing = sorted(
            (s for s in sensors if s.name in OBSERVING_SENSORS), key=lambda s: OBSERVING_SENSORS.index(s.name)
        )
        self.cursors: dict[str, str | None] = {s.name: None for s in sensors}
        self.automation_cursor = None
        self._graph = self.defs.resolve_asset_graph()
        # built once: only the clock changes from tick to tick (the planted fault is fixed per replay)
        self._resources = build_resources(settings)
        if self.withheld:
            self._resources["provider"] = _rebuilt(
                self._resources["provider"], box_scores_withheld_until=dict(self.withheld)
            )
        # the sensors' resources initialised once (config processed, env vars read), the clock per
        # tick: Dagster would process each resource's config on every tick (a sensor context took
        # ~10 ms with them, ~1.4 ms with these)
        needed = set().union(*(s.required_resource_keys for s in sensors)) - {"clock"}
        self._sensor_resources = {
            key: dg.ResourceDefinition.hardcoded_resource(self._resources[key].process_config_and_initialize())
            for key in sorted(needed)
        }
        self._alerts_seen: set[tuple[str, str]] = set()
        self._first_tick = True

    # -- one tick ---------------------------------------------------------------------------------

    def _sensor_requests(
        self, sensors: Iterable[dg.SensorDefinition], at: datetime, report: ReplayReport
    ) -> list[tuple[str, dg.RunRequest]]:
        started = time.perf_counter()
        clock = _rebuilt(self._resources["clock"], frozen_at=at.isoformat())
        resources = {**self._sensor_resources, "clock": dg.ResourceDefinition.hardcoded_resource(clock)}
        requests = []
        for sensor in sensors:
            with dg.build_sensor_context(
                instance=self.instance,
                cursor=self.cursors[sensor.name],
                definitions=self.defs,
                sensor_name=sensor.name,
                # only what the sensor uses: building every resource per tick would dominate the loop
                resources={key: resources[key] for key in sensor.required_resource_keys},
            ) as context:
                data = sensor.evaluate_tick(context)
            if data.cursor is not None:
                self.cursors[sensor.name] = data.cursor
            requests += [(f"sensor:{sensor.name}", request) for request in data.run_requests or []]
        report.sensor_seconds += time.perf_counter() - started
        return requests

    def _automation_requests(self, at: datetime, report: ReplayReport) -> list[tuple[str, dg.RunRequest]]:
        started = time.perf_counter()
        result = evaluate_conditions(self.defs, self.instance, self.automation_cursor, at)
        self.automation_cursor = result.cursor
        by_partition: dict[str | None, set[dg.AssetKey]] = defaultdict(set)
        for asset_result in result.results:
            key = asset_result.key
            if not isinstance(key, dg.AssetKey):
                continue
            for partition in result.get_requested_partitions(key):
                by_partition[partition].add(key)
        report.automation_seconds += time.perf_counter() - started
        # the tags the daemon's automation sensor puts on its runs, so the UI says who launched them
        tags = {SENSOR_NAME_TAG: AUTOMATION_SENSOR, AUTOMATION_CONDITION_TAG: "true"}
        return [
            ("automation", dg.RunRequest(asset_selection=sorted(keys), partition_key=partition, tags=tags))
            for partition, keys in sorted(by_partition.items(), key=lambda item: item[0] or "")
        ]

    def _run(self, reason: str, request: dg.RunRequest, at: datetime, report: ReplayReport) -> None:
        keys = list(request.asset_selection or [])
        graph = self._graph
        # the ingest steps are multi-assets that cannot be subset: a request names the step's assets
        keys = sorted(dg.AssetSelection.assets(*keys).required_multi_asset_neighbors().resolve(graph))
        tags = {
            **(request.tags or {}),
            REASON_TAG: reason,
            CLOCK_TAG: at.isoformat(),
        }
        started = time.perf_counter()
        success, run_id = self._launch(
            asset_selection=keys,
            partition_key=request.partition_key,
            tags=tags,
            run_config=run_config_at(tick_resources(self._resources, at)),
        )
        seconds = time.perf_counter() - started
        report.run_seconds += seconds
        for step, step_seconds in _step_seconds(self.instance, run_id).items():
            report.step_seconds += step_seconds
            report.step_seconds_by_step[step] += step_seconds
        run = ReplayRun(
            at=at,
            reason=reason,
            partition=request.partition_key or "",
            assets=tuple(k.to_user_string() for k in keys),
            success=success,
            seconds=round(seconds, 2),
            run_id=run_id,
        )
        report.runs.append(run)
        self.log(_run_line(run))

    def _launch_run(self, *, asset_selection, partition_key, tags, run_config) -> tuple[bool, str]:
        """A run like any other (code-location origin, `launched_by=replay`), in this process."""
        from nba_props.job_names import MAIN_JOB, TRAINING_JOB

        weekly = {dg.AssetKey("trained_models")}
        job_name = TRAINING_JOB if set(asset_selection) <= weekly else MAIN_JOB
        launched = runs.launch(
            self.instance,
            job_name,
            launched_by="replay",
            asset_selection=asset_selection,
            partition_key=partition_key,
            run_config={**run_config, **QUIET_LOGS},
            settings=self.settings,
            tags=tags,
            hold_warehouse=True,  # the replay is the warehouse's one writer while it runs
        )
        return launched.success, launched.run_id

    def tick(self, at: datetime, report: ReplayReport, evaluate_automation: bool) -> None:
        launched = False
        for reason, request in self._sensor_requests(self.requesting, at, report):
            self._run(reason, request, at, report)
            launched = True
        if launched or evaluate_automation:
            for round_ in range(MAX_AUTOMATION_ROUNDS):
                requests = self._automation_requests(at + round_ * AUTOMATION_CADENCE, report)
                if not requests:
                    break
                for reason, request in requests:
                    self._run(reason, request, at, report)
                    launched = True
        # The alerts sensor reads only the event log: after a tick without runs or freshness
        # results it can have nothing new, so the replay skips it there (the daemon would tick idle).
        freshness_cursor = self.cursors.get("freshness_checks")
        observing = self.observing
        for reason, request in self._sensor_requests(observing[:1], at, report):
            self._run(reason, request, at, report)
            launched = True
        if launched or self.cursors.get("freshness_checks") != freshness_cursor or self._first_tick:
            for reason, request in self._sensor_requests(observing[1:], at, report):
                self._run(reason, request, at, report)
            self._collect_alerts(at, report)
        self._first_tick = False

    def _collect_alerts(self, at: datetime, report: ReplayReport) -> None:
        """Alerts raised or recovered during this tick (the alerts table, read between runs: the
        replay's runs are sequential in this process, so the DuckDB file is free)."""
        from nba_props.io.warehouse import Warehouse
        from nba_props.lib.alerts import ALERTS_TABLE

        warehouse = Warehouse(self.settings.duckdb_path)
        if not warehouse.table_exists(ALERTS_TABLE):
            return
        for row in warehouse.load(ALERTS_TABLE).iter_rows(named=True):
            key = (row["alert_id"], row["status"])
            if key in self._alerts_seen:
                continue
            self._alerts_seen.add(key)
            event = {**row, "tick": at}
            report.alerts.append(event)
            self.log(_alert_line(event))

    def run(self, start: date, end: date, tick: timedelta = TICK) -> ReplayReport:
        # The replay is the warehouse's one writer: its sensors and runs share the file held open
        # (when paced, only during each tick's work, so a person's tools can read it in between).
        with runs.held_warehouse(self.settings) if self.speed == 0 else nullcontext(), fewer_collections():
            return self._run_ticks(start, end, tick)

    def _run_ticks(self, start: date, end: date, tick: timedelta) -> ReplayReport:
        report = ReplayReport(start=start, end=end)
        started = time.perf_counter()
        last_day = None
        for at in tick_instants(start, end, tick):
            day = seasons.game_date_of(at)
            if day != last_day:
                self.log(f"\n{day:%a %Y-%m-%d}")
            # A condition's answer changes only when something materialized or the latest time
            # window moved (midnight ET): other ticks skip the evaluation the daemon would repeat.
            with runs.held_warehouse(self.settings) if self.speed > 0 else nullcontext():
                self.tick(at, report, evaluate_automation=day != last_day)
            last_day = day
            report.ticks += 1
            if self.speed > 0:  # pace the clock so a person can watch the UI follow it
                due = started + report.ticks * tick.total_seconds() / self.speed
                time.sleep(max(0.0, due - time.perf_counter()))
        report.wall_seconds = time.perf_counter() - started
        return report


@contextmanager
def fewer_collections(young_threshold: int = 100_000) -> Iterator[None]:
    """Python's cyclic garbage collector, tuned for the replay's loop: the objects loaded so far
    (definitions, modules) frozen out of its scans, and the youngest generation collected after
    100,000 net allocations instead of 700. Dagster's event handling allocates heavily; with the
    defaults the collector ran ~2,100 times over two simulated days (~5% of the wall time),
    with these ~360 times (bench/replay.py; the issue 9 note). Restored on exit."""
    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(young_threshold, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def evaluate_conditions(
    defs: dg.Definitions, instance: dg.DagsterInstance, cursor, evaluation_time: datetime
) -> dg.EvaluateAutomationConditionsResult:
    """`dg.evaluate_automation_conditions` over every asset and check of `defs`, without its
    serialize-and-parse round trip of the cursor ("to simulate actual usage"): the daemon stores
    the cursor once per tick, the replay keeps the object. That round trip was a third of each
    evaluation (~0.2 s, the cursor holding every condition node's subsets)."""
    from dagster._core.definitions.asset_daemon_cursor import AssetDaemonCursor
    from dagster._core.definitions.declarative_automation.automation_condition_evaluator import (
        AutomationConditionEvaluator,
    )
    from dagster._core.definitions.partitions.context import partition_loading_context

    graph = defs.resolve_asset_graph()
    cursor = cursor or AssetDaemonCursor.empty()
    with warnings.catch_warnings():  # dagster's own beta parameter, on every evaluation: noise in the output
        warnings.simplefilter("ignore", dg.BetaWarning)
        selection = dg.AssetSelection.all(include_sources=True) | dg.AssetSelection.all_asset_checks()
    entities = {
        key
        for key in selection.resolve(graph) | selection.resolve_checks(graph)
        if graph.get(key).automation_condition is not None
    } | graph.automatable_asset_job_keys
    evaluator = AutomationConditionEvaluator(
        asset_graph=graph,
        instance=instance,
        entity_keys=entities,
        evaluation_time=evaluation_time,
        emit_backfills=False,
        logger=logging.getLogger("dagster.automation_condition_tester"),
        cursor=cursor,
        evaluation_id=cursor.evaluation_id,
    )
    results, requested = evaluator.evaluate()
    with partition_loading_context(effective_dt=evaluation_time, dynamic_partitions_store=instance) as context:
        new_cursor = cursor.with_updates(
            evaluation_timestamp=evaluation_time.timestamp(),
            newly_observe_requested_asset_keys=[],
            evaluation_id=cursor.evaluation_id + 1,
            condition_cursors=[result.get_new_cursor() for result in results],
            asset_graph=graph,
        )
        return dg.EvaluateAutomationConditionsResult(
            cursor=new_cursor, results=results, requested_subsets=requested, partition_loading_context=context
        )


def _step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Seconds inside each step of the run (asset compute, IO and the events the step writes)."""
    if not run_id:
        return {}
    return {
        s.step_key: s.end_time - s.start_time
        for s in instance.get_run_step_stats(run_id)
        if s.start_time is not None and s.end_time is not None
    }


def _run_line(run: ReplayRun) -> str:
    at = run.at.astimezone(seasons.GAME_TZ).strftime("%a %m-%d %H:%M ET")
    status = "ok" if run.success else "FAILED"
    assets = ", ".join(a for a in run.assets if not a.endswith("_quarantine"))
    return f"  {at}  {run.reason:<24} {run.partition:<11} {assets}  ({run.seconds:.1f} s, {status})"


def _alert_line(alert: Mapping) -> str:
    at = alert["tick"].astimezone(seasons.GAME_TZ).strftime("%a %m-%d %H:%M ET")
    verb = "ALERT    " if alert["status"] == "open" else "RECOVERED"
    where = " ".join(str(alert[k]) for k in ("asset", "partition", "check") if alert.get(k))
    what = "" if alert["status"] == "open" else "raised as: "
    return f"  {at}  {verb} {alert['kind']}: {where}: {what}{alert['message']}"


def print_report(report: ReplayReport, log: Callable[[str], None] = print) -> None:
    days = max(report.days, 1)
    log(f"\nreplay {report.start} .. {report.end}: {report.ticks} ticks, {len(report.runs)} runs, "
        f"{sum(not r.success for r in report.runs)} failed")  # fmt: skip
    log(f"  wall {report.wall_seconds:.1f} s = {report.wall_seconds / days:.1f} s per simulated day "
        f"(runs {report.run_seconds:.1f} s of which steps {report.step_seconds:.1f} s, "
        f"sensors/conditions/loop {report.bookkeeping_seconds:.1f} s: "
        f"sensors {report.sensor_seconds:.1f} s, conditions {report.automation_seconds:.1f} s)")  # fmt: skip
    log("  requested (runs per asset):")
    for reason, assets in report.requested_by().items():
        log(f"    {reason:<26} " + ", ".join(f"{a} {n}" for a, n in assets.items() if not a.endswith("_quarantine")))
    log(f"  alerts: {sum(a['status'] == 'open' for a in report.alerts)} raised, "
        f"{sum(a['status'] == 'recovered' for a in report.alerts)} recovered")  # fmt: skip
    for alert in report.alerts:
        log("  " + _alert_line(alert))
