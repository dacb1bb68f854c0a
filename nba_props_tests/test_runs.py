"""The project's own runs: recorded with the code location's origin, recovered after a crash, and
waiting for the DuckDB pool without burning a core."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

from nba_props import cli, runs
from nba_props.io.warehouse import Warehouse
from nba_props.lib.runs_config import RunsConfig
from nba_props.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
SCHEDULE = [dg.AssetKey("schedule")]


def _instance(tmp_path: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(cli._dagster_home(load_settings(), tmp_path / "dagster_home")))


@dg.op
def _noop():
    pass


@dg.job
def _holder_job():
    _noop()


def _run_holding_the_pool(instance: dg.DagsterInstance, tags: dict[str, str]) -> str:
    """A STARTED run (of `tags`' process) holding the only `duckdb` slot, as a run killed mid-step leaves it."""
    run = instance.create_run_for_job(_holder_job, status=DagsterRunStatus.STARTED, tags=tags)
    instance.event_log_storage.initialize_concurrency_limit_to_default("duckdb")
    assert instance.event_log_storage.claim_concurrency_slot("duckdb", run.run_id, "box_scores").is_claimed
    return run.run_id


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _holders(instance: dg.DagsterInstance) -> set[str]:
    return instance.event_log_storage.get_concurrency_info("duckdb").active_run_ids


def test_the_launchers_location_is_the_workspace_location():
    (location,) = yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"]
    assert location["python_module"] == {"module_name": runs.DEFINITIONS_MODULE, "location_name": runs.LOCATION_NAME}


def test_a_launched_run_carries_the_code_location_origin_and_its_launcher(nba_home, tmp_path):
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    with _instance(tmp_path) as instance:
        launched = runs.launch(
            instance,
            "nba_props_daily",
            launched_by="replay",
            asset_selection=SCHEDULE,
            partition_key="2024-10-22",
            run_config={"resources": {"clock": {"config": {"frozen_at": "2024-10-22T16:00:00+00:00"}}}},
        )
        assert launched.success
        run = instance.get_run_by_id(launched.run_id)
        # the UI's parentPipelineSnapshotId (a subset run's lineage), compared with the loaded job's
        parent_snapshot_id = instance.get_job_snapshot(run.job_snapshot_id).lineage_snapshot.parent_snapshot_id
        # the label the UI filters a location's runs by (stored as a run tag)
        by_location = instance.get_runs(filters=RunsFilter(tags={".dagster/repository": "__repository__@nba_props"}))
        assert [r.run_id for r in by_location] == [launched.run_id]
    origin = run.remote_job_origin.repository_origin
    # what the UI matches a run to: location + repository name, and the job's snapshot id
    assert (origin.code_location_origin.location_name, origin.repository_name) == ("nba_props", "__repository__")
    assert run.job_code_origin.repository_origin.code_pointer.module == "nba_props.definitions"
    fresh = ReconstructableRepository.for_module("nba_props.definitions", "defs").get_definition()
    assert parent_snapshot_id == fresh.get_job("nba_props_daily").get_job_snapshot_id()
    # the step's own quarantine asset came along (one step materializes both)
    assert run.asset_selection == {dg.AssetKey("schedule"), dg.AssetKey("schedule_quarantine")}
    assert run.tags["nba_props/launched_by"] == "replay"
    assert run.tags["dagster/partition"] == "2024-10-22"
    assert run.tags["nba_props/pid"] == str(os.getpid())
    assert run.run_config["resources"]["clock"]["config"]["frozen_at"] == "2024-10-22T16:00:00+00:00"
    with pytest.raises(ValueError, match="launched_by"):
        runs.launch(instance, "nba_props_daily", launched_by="someone")


def test_process_liveness_is_decided_only_for_this_hosts_recorded_processes():
    import socket

    mine = runs.process_tags()
    assert runs._process_alive(mine) is True
    assert runs._process_alive({**mine, runs.PID_TAG: str(_dead_pid())}) is False
    # the same pid started at another time is another process (pid reuse)
    assert runs._process_alive({**mine, runs.PROCESS_START_TAG: "1"}) is False
    assert runs._process_alive({**mine, runs.HOST_TAG: socket.gethostname() + "-other"}) is None
    assert runs._process_alive({}) is None  # a run of the webserver / daemon: run monitoring's


def test_a_blocked_launch_sleeps_then_gives_up_and_never_touches_a_live_holder(nba_home, tmp_path, caplog):
    config = RunsConfig.model_validate({"pool_wait": {"initial_poll_seconds": 0.05, "max_poll_seconds": 0.2,
                                                      "limit_seconds": 1.5}})  # fmt: skip
    with _instance(tmp_path) as instance:
        holder = _run_holding_the_pool(instance, runs.process_tags())  # this very process: alive
        runs.code_location()  # loaded before timing the wait
        cpu = time.process_time()
        started = time.monotonic()
        with pytest.raises(runs.PoolWaitTimeout) as raised:
            runs.launch(instance, "nba_props_daily", launched_by="cli", asset_selection=SCHEDULE,
                        partition_key="2024-10-22", config=config)  # fmt: skip
        wall, cpu = time.monotonic() - started, time.process_time() - cpu
        wait = raised.value.wait
        assert wait.timed_out and wait.blocked_pools == ("duckdb",) and wait.holders == (holder,)
        assert 1.5 <= wall < 4 and wait.polls >= 5
        assert cpu < 0.5 * wall, f"the wait burnt {cpu:.2f} s of CPU in {wall:.2f} s"
        assert any(r.levelname == "ERROR" and "gave up" in r.getMessage() for r in caplog.records)
        assert instance.get_run_by_id(holder).status == DagsterRunStatus.STARTED
        assert _holders(instance) == {holder}
        assert len(instance.get_runs()) == 1  # nothing launched
    # ... and the timeout raised an alert (log, table nba_props.alerts)
    from nba_props.io.warehouse import Warehouse
    from nba_props.settings import load_settings

    alerts = Warehouse(load_settings().duckdb_path).load("alerts")
    assert alerts.select("kind", "asset", "partition", "status").rows() == [
        ("pool_wait", "job:nba_props_daily", "2024-10-22", "open")
    ]


def test_a_launch_blocked_by_a_crashed_run_recovers_it_and_proceeds(nba_home, tmp_path):
    with _instance(tmp_path) as instance:
        holder = _run_holding_the_pool(instance, {**runs.process_tags(), runs.PID_TAG: str(_dead_pid())})
        launched = runs.launch(instance, "nba_props_daily", launched_by="cli", asset_selection=SCHEDULE,
                               partition_key="2024-10-22")  # fmt: skip
        assert launched.success and launched.pool_wait.recovered == (holder,)
        failed = instance.get_run_by_id(holder)
        assert failed.status == DagsterRunStatus.FAILURE
        (event,) = instance.all_logs(holder, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert "is gone" in event.message
        assert _holders(instance) == set()


# The child: the CLI backfill of box scores, with a planted slow write (rows inserted in the open
# transaction, then a marker file and a long sleep before COMMIT) so it can be killed mid-write.
CHILD = """
import sys, time
from datetime import date
from pathlib import Path
from nba_props.io.warehouse import Warehouse
from nba_props import cli

insert = Warehouse._insert
def slow_insert(self, con, table, frame, columns):
    written = insert(self, con, table, frame, columns)
    if table == "box_scores":
        Path(sys.argv[1]).write_text("inserted, not committed")
        time.sleep(120)
    return written
Warehouse._insert = slow_insert
cli.run_backfill(date(2024, 10, 22), date(2024, 10, 24), select=["box_scores"], dagster_home=Path(sys.argv[2]))
"""


def _box_scores_per_date(home: Path) -> dict[date, int]:
    frame = Warehouse(home / "warehouse.duckdb").load("box_scores")
    return dict(frame.group_by("game_date").len().iter_rows())


def test_a_run_killed_mid_write_is_recovered_and_its_partitions_are_whole(nba_home, tmp_path):
    dagster_home = tmp_path / "dagster_home"
    # before the crash: two days ingested
    cli.run_backfill(date(2024, 10, 22), date(2024, 10, 23), select=["box_scores"], dagster_home=dagster_home)
    before = _box_scores_per_date(nba_home)
    assert set(before) == {date(2024, 10, 22), date(2024, 10, 23)} and min(before.values()) > 0

    marker = tmp_path / "writing"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(marker), str(dagster_home)],
                             env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None and time.monotonic() < deadline, "the child never reached the write"
            time.sleep(0.1)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        (killed,) = [run for run in instance.get_runs() if run.tags[runs.PID_TAG] == str(child.pid)]
        assert killed.status == DagsterRunStatus.STARTED and _holders(instance) == {killed.run_id}
        # the rows the killed run inserted were never committed: exactly the pre-crash rows
        assert _box_scores_per_date(nba_home) == before

        recovered = runs.recover_orphaned_runs(instance)
        assert [(r.run_id, r.status_before, r.freed_slots) for r in recovered] == [(killed.run_id, "STARTED", True)]
        assert instance.get_run_by_id(killed.run_id).status == DagsterRunStatus.FAILURE
        assert _holders(instance) == set()
        assert runs.recover_orphaned_runs(instance) == []  # once

    summary = cli.run_backfill(date(2024, 10, 22), date(2024, 10, 24), select=["box_scores"], dagster_home=dagster_home)
    assert not summary["box_scores"].get("failed")
    after = _box_scores_per_date(nba_home)
    assert {day: after[day] for day in before} == before and after[date(2024, 10, 24)] > 0


def test_runs_config_rejects_a_backoff_that_shrinks():
    with pytest.raises(ValueError, match="max_poll_seconds"):
        RunsConfig.model_validate({"pool_wait": {"initial_poll_seconds": 2, "max_poll_seconds": 1}})
    polls = RunsConfig().pool_wait.polls()
    assert [next(polls) for _ in range(7)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]


def test_the_config_file_matches_the_models_defaults():
    from nba_props.lib.runs_config import load_runs_config

    assert load_runs_config() == RunsConfig()


def test_the_orphaned_runs_sensor_recovers_a_crashed_cli_run_for_the_daemon(nba_home, tmp_path):
    from nba_props.defs.runs.sensors import orphaned_runs

    assert orphaned_runs.default_status == dg.DefaultSensorStatus.RUNNING
    with _instance(tmp_path) as instance:
        live = _run_holding_the_pool(instance, runs.process_tags())
        instance.event_log_storage.free_concurrency_slots_for_run(live)
        dead = _run_holding_the_pool(instance, {**runs.process_tags(), runs.PID_TAG: str(_dead_pid())})
        daemons = instance.create_run_for_job(_holder_job, status=DagsterRunStatus.STARTED).run_id  # no process tags
        result = orphaned_runs(dg.build_sensor_context(instance=instance))
        assert dead in result.skip_message and live not in result.skip_message
        statuses = {run_id: instance.get_run_by_id(run_id).status for run_id in (live, dead, daemons)}
        assert statuses == {live: DagsterRunStatus.STARTED, dead: DagsterRunStatus.FAILURE,
                            daemons: DagsterRunStatus.STARTED}  # fmt: skip
        assert _holders(instance) == set()
        assert orphaned_runs(dg.build_sensor_context(instance=instance)).skip_message == "no orphaned runs"


def test_the_sensor_recovers_a_daemon_run_whose_worker_was_killed_and_the_cli_leaves_it(nba_home, tmp_path):
    from dagster._core.events import EngineEventData

    from nba_props.defs.runs.sensors import orphaned_runs

    origin = runs.code_location().remote_job_origin("_holder_job")
    with _instance(tmp_path) as instance:
        worker_runs = {}
        for name, pid in (("killed", _dead_pid()), ("alive", os.getpid())):
            run = instance.create_run_for_job(_holder_job, status=DagsterRunStatus.STARTED, remote_job_origin=origin)
            # what `dagster api execute_run` (the default launcher's run worker) logs first
            instance.report_engine_event(f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid))
            worker_runs[name] = run.run_id
        assert runs.recover_orphaned_runs(instance) == []  # the CLI does not judge the daemon's workers
        result = orphaned_runs(dg.build_sensor_context(instance=instance))
        assert worker_runs["killed"] in result.skip_message
        assert instance.get_run_by_id(worker_runs["killed"]).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(worker_runs["alive"]).status == DagsterRunStatus.STARTED
        (event,) = instance.all_logs(worker_runs["killed"], of_type=dg.DagsterEventType.RUN_FAILURE)
        assert "run worker" in event.message and "is gone" in event.message
