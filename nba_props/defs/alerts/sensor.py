"""The `alerts` sensor: failed freshness checks, failed ERROR-severity blocking checks, failed
business checks (config/automation.yaml `alerts.business_checks`, e.g. the champion's
`champion_health`: kind `model_health`, whatever their severity) and failed runs become alerts
through the `alert_sink` resource, once per failure (cursor on event-log storage ids); a later pass of the same check+partition or a success of the same job+partition
records the recovery. The open alerts are shown on the `alerts` asset (group operations) as a
runless materialization whenever they change."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus as CheckStatus
from dagster_shared.serdes import deserialize_value

from nba_props import freshness
from nba_props.alerts import AlertSink
from nba_props.dagster_helpers import column_schema, labels
from nba_props.lib import alerts as lib_alerts
from nba_props.lib.alerts import Alert, Signal
from nba_props.lib.automation import load_automation_config

ALERTS_ASSET = "alerts"
ALERT_RULES = load_automation_config().alerts
BATCH = 1000
EventType = dg.DagsterEventType

alerts_asset = dg.AssetSpec(
    ALERTS_ASSET,
    group_name="operations",
    description="The open alerts (table nba_props.alerts holds every alert and recovery); updated by the "
    "alerts sensor whenever they change.",
    kinds={"duckdb"},
    **labels("operations", "on_event"),
    metadata={"dagster/column_schema": column_schema(ALERTS_ASSET, lib_alerts.ALERTS_SCHEMA, lib_alerts.ALERTS_DOC)},
)


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _run_partition(run: dg.DagsterRun) -> str | None:
    tags = run.tags
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    start, end = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    return f"{start}...{end}" if start else None


@dataclass(frozen=True)
class _Execution:
    """One row of Dagster's check-executions table; the evaluation event is decoded only when used."""

    id: int
    key: dg.AssetCheckKey
    run_id: str | None
    status: CheckStatus
    event_json: str | None
    partition: str | None

    @property
    def event(self) -> EventLogEntry | None:
        return deserialize_value(self.event_json, EventLogEntry) if self.event_json else None


def check_signals(
    instance: dg.DagsterInstance, check_keys: list[dg.AssetCheckKey], seen: dict[str, int], low: int = 0
) -> tuple[list[Signal], dict[str, int], int]:
    """Resolved check executions not handled yet: those with an id above `low` (everything at or
    below it is handled) and above the check's own entry in `seen`. Read in one query over the
    executions table of the instance (one id sequence for every check), not one per check.

    A planned execution of a run still going resolves later (its row keeps its id): that check's
    newer executions wait for it, and `low` stays below it so the next tick reads it again (one of
    a finished run never resolves: the run's own alert covers it). Returns the signals, the
    per-check ids handled above the new `low`, and the new `low`."""
    known = set(check_keys)
    seen = {name: last for name, last in seen.items() if last > low}
    runs = _RunCache(instance)  # a run backs many executions (a backfill: one per partition and check)
    signals, waiting, newest = [], {}, low
    for execution in _executions_since(instance.event_log_storage, low):
        newest = execution.id
        name = execution.key.to_user_string()
        if execution.key not in known or name in waiting or execution.id <= seen.get(name, 0):
            continue
        if execution.status == CheckStatus.PLANNED:
            if not runs.finished(execution.run_id):
                waiting[name] = execution.id
            continue
        seen[name] = execution.id
        if execution.status in (CheckStatus.SUCCEEDED, CheckStatus.FAILED):
            event = execution.event
            if event is not None:
                signal = _check_signal(runs, execution, event)
                if signal is not None:
                    signals.append(signal)
    low = min(waiting.values()) - 1 if waiting else newest
    return signals, {name: last for name, last in seen.items() if last > low}, low


def _executions_since(storage, low: int) -> list[_Execution]:
    """Every check execution with an id above `low`, oldest first, read in pages."""
    from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable as table
    from dagster._core.storage.sqlalchemy_compat import db_fetch_mappings, db_select

    columns = [table.c.id, table.c.asset_key, table.c.check_name, table.c.run_id, table.c.execution_status]
    columns += [table.c.evaluation_event, table.c.partition]
    out: list[_Execution] = []
    while True:
        query = db_select(columns).where(table.c.id > low).order_by(table.c.id.asc()).limit(BATCH)
        with storage.index_connection() as conn:
            rows = db_fetch_mappings(conn, query)
        for row in rows:
            key = dg.AssetCheckKey(dg.AssetKey.from_db_string(row["asset_key"]), row["check_name"])
            status = CheckStatus(row["execution_status"])
            out.append(_Execution(row["id"], key, row["run_id"], status, row["evaluation_event"], row["partition"]))
        if len(rows) < BATCH:
            return out
        low = rows[-1]["id"]


class _RunCache:
    """Runs looked up once per tick."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self._instance, self._runs = instance, {}

    def get(self, run_id: str) -> dg.DagsterRun | None:
        if run_id not in self._runs:
            self._runs[run_id] = self._instance.get_run_by_id(run_id)
        return self._runs[run_id]

    def finished(self, run_id: str) -> bool:
        run = self.get(run_id)
        return run is None or run.is_finished


def _check_signal(runs: _RunCache, record: _Execution, event: EventLogEntry) -> Signal | None:
    evaluation = event.dagster_event.asset_check_evaluation_data
    fresh = evaluation.check_name == freshness.CHECK_NAME
    business = ALERT_RULES.business_kind(evaluation.asset_key.to_user_string(), evaluation.check_name)
    if business is None and (evaluation.severity != dg.AssetCheckSeverity.ERROR or not (fresh or evaluation.blocking)):
        return None
    meta = evaluation.metadata.get("partition")  # the freshness checks name their date here
    partition = meta.value if meta is not None else (evaluation.partition or record.partition)
    if partition is None and record.run_id:  # a check of a partitioned asset inside its run
        run = runs.get(record.run_id)
        partition = None if run is None else _run_partition(run)
    verdict = "passed" if evaluation.passed else "failed"
    return Signal(
        business or ("freshness" if fresh else "check"),
        evaluation.asset_key.to_user_string(),
        partition,
        evaluation.check_name,
        not evaluation.passed,
        evaluation.description or f"check {evaluation.check_name} {verdict}",
        _ts(event.timestamp),
        record.run_id or None,
    )


def run_signals(instance: dg.DagsterInstance, event_type: EventType, after: int) -> tuple[list[Signal], int]:
    result = instance.fetch_run_status_changes(
        dg.RunStatusChangeRecordsFilter(event_type=event_type, after_storage_id=after), limit=BATCH, ascending=True
    )
    signals = []
    for record in result.records:
        after = max(after, record.storage_id)
        run = instance.get_run_by_id(record.run_id)
        if run is None:
            continue
        failed = event_type == EventType.RUN_FAILURE
        message = record.event_log_entry.message or ("run failed" if failed else "run succeeded")
        subject = f"job:{run.job_name}"
        signals.append(
            Signal("run", subject, _run_partition(run), None, failed, message, _ts(record.timestamp), run.run_id)
        )
    return signals, after


def _cursor(raw: str | None) -> dict:
    state = json.loads(raw) if raw else {}
    state = {"checks": {}, "failures": 0, "successes": 0, "open": {}, "pending": [], **state}
    # a cursor from before the single query (per-check ids only): below the lowest, all is handled
    state.setdefault("check_low", min(state["checks"].values(), default=0))
    return state


@dg.sensor(
    name="alerts",
    minimum_interval_seconds=ALERT_RULES.minimum_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Failed freshness checks, failed blocking checks, failed business checks (kind model_health) "
    "and failed runs -> alerts (log, table "
    "nba_props.alerts, optional webhook), once per failure; a later pass records the recovery.",
)
def alerts_sensor(context: dg.SensorEvaluationContext, alert_sink: AlertSink) -> dg.SkipReason:
    state = _cursor(context.cursor)
    instance = context.instance
    check_keys = sorted(context.repository_def.asset_graph.asset_check_keys, key=lambda k: k.to_user_string())
    checks, state["checks"], state["check_low"] = check_signals(
        instance, check_keys, state["checks"], state["check_low"]
    )
    failures, state["failures"] = run_signals(instance, EventType.RUN_FAILURE, state["failures"])
    successes, state["successes"] = run_signals(instance, EventType.RUN_SUCCESS, state["successes"])
    signals = sorted(checks + failures + successes, key=lambda s: s.at)
    open_alerts = {k: Alert.from_json(v) for k, v in state["open"].items()}
    changes = lib_alerts.transition(open_alerts, signals)
    open_alerts = lib_alerts.apply(open_alerts, changes)
    # log + webhook once, when the change happens (not again for a change the table already holds)
    alert_sink.notify(alert_sink.unannounced(changes))
    pending = [Alert.from_json(a) for a in state["pending"]] + changes
    # A run holding the DuckDB writer lock: keep the rows in the cursor and write them next tick.
    state["pending"] = [] if alert_sink.store(pending) else [a.to_json() for a in pending]
    state["open"] = {k: a.to_json() for k, a in open_alerts.items()}
    if changes:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                ALERTS_ASSET,
                metadata={
                    "open_alerts": len(open_alerts),
                    "raised": sum(a.status == "open" for a in changes),
                    "recovered": sum(a.status == "recovered" for a in changes),
                    "pending_writes": len(state["pending"]),
                    "alerts": dg.MetadataValue.md(lib_alerts.markdown(open_alerts.values())),
                },
            )
        )
    context.update_cursor(json.dumps(state, sort_keys=True))
    return dg.SkipReason(
        f"{len(signals)} signal(s), {len(changes)} change(s), {len(open_alerts)} open, {len(state['pending'])} pending"
    )
