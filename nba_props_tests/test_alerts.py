"""Alerts: one alert per failure across ticks, the recovery, failed runs and failed blocking
checks from real runs, the warehouse table (kept pending while a run holds the DuckDB lock),
and the webhook against a local HTTP server."""

import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from nba_props import freshness
from nba_props.alerts import AlertSink
from nba_props.defs.alerts.sensor import alerts_sensor
from nba_props.io.warehouse import Warehouse
from nba_props.lib import alerts as lib_alerts
from nba_props.lib.alerts import ALERTS_SCHEMA, Signal
from nba_props.lib.automation import load_automation_config
from nba_props.partitions import game_date_partitions

T0 = datetime(2025, 1, 16, 13, 5, tzinfo=UTC)


def sig(failed: bool, minute: int, partition="2025-01-15") -> Signal:
    return Signal("freshness", "box_scores", partition, "partition_fresh", failed, "late", T0.replace(minute=minute))


def test_transition_one_alert_per_failure_then_recovery():
    changes = lib_alerts.transition({}, [sig(True, 5), sig(True, 6), sig(True, 7, "2025-01-14")])
    assert [(a.partition, a.status) for a in changes] == [("2025-01-15", "open"), ("2025-01-14", "open")]
    open_alerts = lib_alerts.apply({}, changes)
    assert lib_alerts.transition(open_alerts, [sig(True, 8)]) == []  # still failing: nothing new
    [recovered] = lib_alerts.transition(open_alerts, [sig(False, 9)])
    assert (recovered.alert_id, recovered.status, recovered.recovered_at) == (
        changes[0].alert_id, "recovered", T0.replace(minute=9)
    )  # fmt: skip
    assert lib_alerts.transition({}, [sig(False, 9)]) == []  # a pass with nothing open


def report_fresh(instance, passed: bool, partition="2025-01-15"):
    result = freshness.FreshnessResult("box_scores", partition, T0, passed, "present" if passed else "missing")
    instance.report_runless_asset_event(freshness.check_evaluation(result))


@dg.asset_check(asset="box_scores", name=freshness.CHECK_NAME)
def box_scores_fresh() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)  # evaluated by the freshness sensor, never run here


CHECKED = dg.Definitions(assets=[dg.AssetSpec("box_scores")], asset_checks=[box_scores_fresh])


class Sensor:
    def __init__(self, instance, sink, defs=CHECKED):
        self.instance, self.sink, self.cursor, self.defs = instance, sink, None, defs

    def tick(self) -> dict:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"alert_sink": self.sink}, definitions=self.defs
        )
        alerts_sensor(context)
        self.cursor = context.cursor
        return json.loads(self.cursor)


def table(sink) -> list[tuple]:
    frame = Warehouse(sink.database).load("alerts", declared=ALERTS_SCHEMA, partition_column="raised_at")
    return sorted(frame.select("kind", "asset", "partition", "check", "status").iter_rows())


def test_alerts_sensor_freshness_once_then_recovered(tmp_path):
    sink = AlertSink(database=str(tmp_path / "w.duckdb"))
    with dg.instance_for_test() as instance:
        sensor = Sensor(instance, sink)
        report_fresh(instance, passed=False)
        state = sensor.tick()
        assert len(state["open"]) == 1
        assert table(sink) == [("freshness", "box_scores", "2025-01-15", "partition_fresh", "open")]
        report_fresh(instance, passed=False)  # evaluated again, still failing
        sensor.tick()
        sensor.tick()
        assert len(table(sink)) == 1  # one alert per failure, across ticks
        report_fresh(instance, passed=True)
        state = sensor.tick()
        assert state["open"] == {} and state["pending"] == []
        assert table(sink) == [("freshness", "box_scores", "2025-01-15", "partition_fresh", "recovered")]
        # the alerts asset shows the open alerts whenever they change (twice here)
        mats = instance.fetch_materializations(dg.AssetKey("alerts"), limit=10).records
        assert len(mats) == 2
        md = mats[0].asset_materialization.metadata  # newest first: after the recovery
        assert (md["open_alerts"].value, md["recovered"].value) == (0, 1)


@dg.asset(partitions_def=game_date_partitions, check_specs=[dg.AssetCheckSpec("sane", asset="flaky", blocking=True)])
def flaky(context: dg.AssetExecutionContext, config: dg.PermissiveConfig):
    mode = config.model_dump().get("mode")
    if mode == "crash":
        raise RuntimeError("provider exploded")
    yield dg.Output(1)
    yield dg.AssetCheckResult(check_name="sane", passed=mode != "bad")


def run(instance, mode: str) -> bool:
    return dg.materialize(
        [flaky], instance=instance, partition_key="2025-01-15", raise_on_error=False,
        run_config={"ops": {"flaky": {"config": {"mode": mode}}}},
    ).success  # fmt: skip


def test_failed_runs_and_blocking_checks_alert_and_recover(tmp_path):
    sink = AlertSink(database=str(tmp_path / "w.duckdb"))
    with dg.instance_for_test() as instance:
        sensor = Sensor(instance, sink, dg.Definitions(assets=[flaky]))
        assert not run(instance, "crash")
        sensor.tick()
        assert table(sink) == [("run", "job:__ephemeral_asset_job__", "2025-01-15", None, "open")]
        assert not run(instance, "bad")  # a failed blocking check (its step fails the run too)
        sensor.tick()
        assert table(sink) == [
            ("check", "flaky", "2025-01-15", "sane", "open"),
            ("run", "job:__ephemeral_asset_job__", "2025-01-15", None, "open"),  # still the first run alert
        ]
        assert run(instance, "ok")
        state = sensor.tick()
        assert state["open"] == {}
        assert [row[-1] for row in table(sink)] == ["recovered", "recovered"]


def _planned_then_resolved(instance, run_id: str, passed: bool | None):
    """A `sane` check of `flaky` in run `run_id`: planned (passed None) or its evaluation."""
    from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluationPlanned
    from dagster._core.events import DagsterEvent, DagsterEventType

    if passed is None:
        data = AssetCheckEvaluationPlanned(asset_key=dg.AssetKey("flaky"), check_name="sane")
        kind = DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
    else:
        data = dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey("flaky"), check_name="sane", passed=passed, metadata={},
            severity=dg.AssetCheckSeverity.ERROR, blocking=True,
        )  # fmt: skip
        kind = DagsterEventType.ASSET_CHECK_EVALUATION
    event = DagsterEvent(event_type_value=kind.value, job_name="j", event_specific_data=data)
    instance.report_dagster_event(event, run_id=run_id)


def test_a_check_planned_in_a_running_run_waits_without_holding_back_the_others(tmp_path):
    """All checks are read in one query from a low-water mark: a check still planned in a run
    that is going holds the mark below it (read again next tick) while newer executions of
    other checks are handled now, and once only."""
    sink = AlertSink(database=str(tmp_path / "w.duckdb"))
    defs = dg.Definitions(assets=[flaky, dg.AssetSpec("box_scores")], asset_checks=[box_scores_fresh])
    with dg.instance_for_test() as instance:
        sensor = Sensor(instance, sink, defs)
        run = instance.add_run(
            dg.DagsterRun(job_name="j", run_id="r1", status=dg.DagsterRunStatus.STARTED, tags={"dagster/partition": "2025-01-14"})
        )  # fmt: skip
        _planned_then_resolved(instance, run.run_id, passed=None)
        report_fresh(instance, passed=False)  # newer than the planned check
        state = sensor.tick()
        assert table(sink) == [("freshness", "box_scores", "2025-01-15", "partition_fresh", "open")]
        planned_id = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("flaky"), "sane")]
        )[dg.AssetCheckKey(dg.AssetKey("flaky"), "sane")].id
        assert state["check_low"] == planned_id - 1  # the planned row is read again next tick
        assert sensor.tick()["check_low"] == planned_id - 1
        assert len(table(sink)) == 1  # the freshness failure was not announced twice
        _planned_then_resolved(instance, run.run_id, passed=False)  # the run's check resolves
        state = sensor.tick()
        assert table(sink) == [
            ("check", "flaky", "2025-01-14", "sane", "open"),
            ("freshness", "box_scores", "2025-01-15", "partition_fresh", "open"),
        ]
        assert state["check_low"] > planned_id and state["checks"] == {}


def test_alerts_stay_pending_while_a_run_holds_the_warehouse(tmp_path):
    database = tmp_path / "w.duckdb"
    Warehouse(database).replace_table("alerts", lib_alerts.to_frame([]), declared=ALERTS_SCHEMA)
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,sys,time; c=duckdb.connect({str(database)!r}); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        sink = AlertSink(database=str(database))
        with dg.instance_for_test() as instance:
            sensor = Sensor(instance, sink)
            report_fresh(instance, passed=False)
            state = sensor.tick()
            assert len(state["pending"]) == 1  # not lost: kept in the cursor
            holder.kill()
            holder.wait()
            state = sensor.tick()
            assert state["pending"] == []
            assert table(sink) == [("freshness", "box_scores", "2025-01-15", "partition_fresh", "open")]
    finally:
        holder.kill()


class Hook(BaseHTTPRequestHandler):
    script: list[str] = []  # per request: "ok", "500" or "slow"
    bodies: list[dict] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        action = self.script.pop(0) if self.script else "ok"
        if action == "slow":
            time.sleep(0.6)
        Hook.bodies.append(body)
        self.send_response(500 if action == "500" else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Hook.script, Hook.bodies = [], []
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts"
    server.shutdown()


def fast_rules(attempts=3):
    base = load_automation_config().alerts
    return base.model_copy(
        update={"webhook_attempts": attempts, "webhook_timeout_seconds": 0.3, "webhook_backoff_seconds": 0.01}
    )


def test_webhook_success_retry_and_timeout(hook, tmp_path):
    sink = AlertSink(database=str(tmp_path / "w.duckdb"), webhook_url=hook)
    alert = lib_alerts.new_alert(sig(True, 5))
    assert sink.post(alert, fast_rules())
    assert Hook.bodies[-1]["alert_id"] == alert.alert_id and Hook.bodies[-1]["check"] == "partition_fresh"
    Hook.script = ["500", "ok"]  # a 500 then success
    assert sink.post(alert, fast_rules())
    assert len(Hook.bodies) == 3
    Hook.script = ["slow", "slow"]  # every attempt times out
    assert not sink.post(alert, fast_rules(attempts=2))
    Hook.script = ["slow", "ok"]  # a timeout, then success
    assert sink.post(alert, fast_rules())


def test_send_logs_posts_and_stores(hook, tmp_path):
    sink = AlertSink(database=str(tmp_path / "w.duckdb"), webhook_url=hook)
    alert = sink.send("other", "a run waited 20 min for the duckdb pool", asset="predictions", partition="2025-01-15")
    assert Hook.bodies[-1]["message"] == "a run waited 20 min for the duckdb pool"
    assert table(sink) == [("other", "predictions", "2025-01-15", None, "open")]
    assert alert.status == "open"


def test_webhook_url_is_a_secret_bound_from_the_environment(tmp_path, monkeypatch):
    from nba_props.resources import build_resources
    from nba_props.settings import load_settings

    url = "http://127.0.0.1:9/hook?token=s3cret"
    monkeypatch.setenv("NBA_PROPS_ALERT_WEBHOOK_URL", url)
    settings = load_settings(home=tmp_path)
    assert settings.public_dict()["alert_webhook_url"] == "set" and "s3cret" not in repr(settings)
    sink = build_resources(settings)["alert_sink"]
    # bound as an EnvVar: the UI shows the variable's name, the resource resolves the value at run time
    assert sink.webhook_url == dg.EnvVar("NBA_PROPS_ALERT_WEBHOOK_URL")


def test_a_sensor_restarted_without_its_cursor_does_not_announce_old_alerts_again(hook, tmp_path):
    """The daemon's sensor state can be lost (a new DAGSTER_HOME, a reset cursor): it re-derives the
    history, and the table, which holds every alert, keeps the webhook from firing twice."""
    sink = AlertSink(database=str(tmp_path / "w.duckdb"), webhook_url=hook)
    with dg.instance_for_test() as instance:
        report_fresh(instance, passed=False)
        Sensor(instance, sink).tick()
        report_fresh(instance, passed=True)
        first = Sensor(instance, sink)
        first.tick()
        first.tick()
        assert [b["status"] for b in Hook.bodies] == ["open", "recovered"]
        Sensor(instance, sink).tick()  # a fresh cursor: the same failure and recovery again
        assert [b["status"] for b in Hook.bodies] == ["open", "recovered"]
        assert table(sink) == [("freshness", "box_scores", "2025-01-15", "partition_fresh", "recovered")]
