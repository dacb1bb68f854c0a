"""The `alerts` sensor: failed freshness checks, failed ERROR-severity blocking checks, failed
business checks (config/automation.yaml `alerts.business_checks`, e.g. the champion's
`champion_health`: kind `model_health`, whatever their severity) and failed runs become alerts
through the `alert_sink` resource, once per failure (cursor on event-log storage ids); a later pass of the same check+partition or a success of the same job+partition
records the recovery. The open alerts are shown on the `alerts` asset (group operations) as a
runless materialization whenever they change."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus as CheckStatus

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


def check_signals(
    instance: dg.DagsterInstance, check_keys: list[dg.AssetCheckKey], seen: dict[str, int]
) -> tuple[list[Signal], dict[str, int]]:
    """Resolved check executions newer than `seen` (per check: the last execution id handled).
    Per check key because SQLite's run-sharded event log has no global cursor for these events."""
    signals = []
    seen = dict(seen)
    storage = instance.event_log_storage
    runs = _RunCache(instance)  # a run backs many executions (a backfill: one per partition and check)
    # one query for the newest execution of every check; only the checks with something new are read
    latest = storage.get_latest_asset_check_execution_by_key(check_keys)
    for key in check_keys:
        name = key.to_user_string()
        last = seen.get(name, 0)
        if key not in latest or latest[key].id <= last:
            continue
        records = _executions_after(storage, key, last)
        planned = [r for r in records if r.id > last and r.status == CheckStatus.PLANNED]
        # a planned execution of a run still going resolves later: handle ids in order, wait for it
        # (one of a finished run never resolves: the run's own alert covers it)
        # a single-run backfill plans one execution per partition: ask once per run, not per record
        finished = {run_id: runs.finished(run_id) for run_id in {r.run_id for r in planned}}
        waiting = [r.id for r in planned if not finished[r.run_id]]
        newest = last
        for record in sorted(records, key=lambda r: r.id):
            if record.id <= last:
                continue
            if waiting and record.id >= min(waiting):
                break
            newest = record.id
            if record.status in (CheckStatus.SUCCEEDED, CheckStatus.FAILED) and record.event is not None:
                signal = _check_signal(runs, record)
                if signal is not None:
                    signals.append(signal)
        seen[name] = newest
    return signals, seen


def _executions_after(storage, key: dg.AssetCheckKey, last: int) -> list:
    """The check's executions newer than id `last` (and possibly a few older), newest first: pages
    grow x4 from 8 until one reaches `last`, so a steady tick reads a handful, not the history."""
    limit = 8
    while True:
        records = storage.get_asset_check_execution_history(key, limit=limit)
        if len(records) < limit or records[-1].id <= last or limit >= BATCH:
            return list(records)
        limit = min(limit * 4, BATCH)


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


def _check_signal(runs: _RunCache, record) -> Signal | None:
    evaluation = record.event.dagster_event.asset_check_evaluation_data
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
        _ts(record.event.timestamp),
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
    return {"checks": {}, "failures": 0, "successes": 0, "open": {}, "pending": [], **state}


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
    checks, state["checks"] = check_signals(instance, check_keys, state["checks"])
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
