"""The project's Dagster instance (nba_props/dagster_storage.py): Dagster's SQLite storage with
engines kept. Runs behave as on Dagster's own storage, the files are the same (a plain Dagster
instance reads them), and engines are built once per database, not once per statement."""

from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage

from nba_props import dagster_storage

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "nba_props" / "dagster_instance.yaml"


@dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="numbers")])
def numbers():
    yield dg.Output([1, 2, 3], metadata={"dagster/row_count": 3})
    yield dg.AssetCheckResult(passed=True)


@dg.asset
def total(numbers: list[int]) -> int:
    return sum(numbers)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "dagster.yaml").write_text(TEMPLATE.read_text())
    return tmp_path


def test_the_template_selects_the_engine_caching_storage(home):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance, dagster_storage.NbaPropsInstance)
        assert isinstance(instance.event_log_storage, dagster_storage.CachedEngineSqliteEventLogStorage)
        assert isinstance(instance.run_storage, dagster_storage.CachedEngineSqliteRunStorage)
        # Dagster's default layout under the home: history/runs.db, history/runs/<shard>.db
        assert (home / "history" / "runs.db").exists()
        assert (home / "history" / "runs" / "index.db").exists()


def test_runs_checks_and_reads_work_and_engines_are_built_once_per_database(home):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        events = instance.event_log_storage
        for _ in range(3):
            assert dg.materialize([numbers, total], instance=instance).success
        runs = instance.get_runs()
        assert len(runs) == 3 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        written = sum(len(instance.all_logs(r.run_id)) for r in runs)
        assert written > 3 * 20  # every event of every run stored and read back
        # index shard + one shard per run (Dagster built one engine per statement: hundreds)
        assert events.engines.created <= 1 + len(runs)
        # each run's shard is a copy of one empty shard Dagster initialised (not ~0.1 s of alembic a run)
        assert events.shards_from_template == len(runs)
        assert not list((home / "history" / "runs").glob("*.new"))  # no staging file left
        assert events.has_table("asset_check_executions") and "asset_check_executions" in events._tables_present
        assert not events.has_table("no_such_table")
        assert (
            events.has_asset_key_col("cached_status_data") and "cached_status_data" in events._asset_key_columns_present
        )
        assert not events.has_asset_key_col("no_such_column")
        assert instance.run_storage.engines.created == 1
        latest = instance.get_latest_materialization_event(dg.AssetKey("numbers"))
        assert latest.asset_materialization.metadata["dagster/row_count"].value == 3
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("numbers"), "positive")]
        )
        assert len(check) == 1
        # a pooled connection may be reused by another thread (Dagster's event watchers, the webserver)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=4) as pool:
            counts = list(pool.map(lambda r: len(instance.all_logs(r.run_id)), runs * 4))
        assert sum(counts) == 4 * written
    # the files are Dagster's own: a plain SQLite instance on the same folder reads the same runs
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(home)) as plain:
        assert type(plain.event_log_storage) is SqliteEventLogStorage
        assert type(plain.run_storage) is SqliteRunStorage
        assert {r.run_id for r in plain.get_runs()} == {r.run_id for r in runs}
        assert plain.get_latest_materialization_event(dg.AssetKey("total")) is not None


def test_a_shard_created_meanwhile_by_another_process_is_kept(home):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        events = instance.event_log_storage
        # another process (the webserver reading a new run's logs) initialised the shard first
        other = SqliteEventLogStorage(str(home / "history" / "runs"))
        with other.run_connection("run-x"):
            pass
        assert not events._new_shard_from_template("run-x")
        assert events._new_shard_from_template("run-y")
        with events.run_connection("run-y") as conn:  # the copy is a complete, stamped shard
            assert conn.exec_driver_sql("SELECT count(*) FROM event_logs").scalar() == 0
        assert other.get_logs_for_run("run-y") == []


def test_the_engine_cache_evicts_the_least_recently_used(tmp_path):
    cache = dagster_storage.EngineCache(size=2)
    urls = [f"sqlite:///{tmp_path / name}.db" for name in "abc"]
    a = cache.get(urls[0])
    cache.get(urls[1])
    assert cache.get(urls[0]) is a  # reused, and now the most recent
    cache.get(urls[2])  # evicts urls[1]
    assert cache.created == 3
    assert cache.get(urls[0]) is a
    cache.get(urls[1])
    assert cache.created == 4


DAYS = dg.DailyPartitionsDefinition(start_date="2025-01-01")


@dg.asset(partitions_def=DAYS, check_specs=[dg.AssetCheckSpec(n, asset="daily") for n in ("positive", "small")])
def daily(context: dg.AssetExecutionContext):
    return dg.MaterializeResult(
        metadata={"day": context.partition_key},
        check_results=[dg.AssetCheckResult(check_name=n, passed=True) for n in ("positive", "small")],
    )


def _newest(storage, partition: str, plain: bool = False):
    records_filter = dg.AssetRecordsFilter(asset_key=dg.AssetKey("daily"), asset_partitions=[partition])
    fetch = SqliteEventLogStorage.fetch_materializations if plain else type(storage).fetch_materializations
    result = fetch(storage, records_filter, limit=1)
    return (
        [(r.storage_id, r.event_log_entry.run_id, r.event_log_entry.timestamp) for r in result.records],
        result.cursor,
        result.has_more,
    )


def test_the_newest_materialization_of_a_partition_is_dagsters_answer_from_one_query(home):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        events = instance.event_log_storage
        for day in ("2025-01-01", "2025-01-01", "2025-01-02"):
            assert dg.materialize([daily], instance=instance, partition_key=day).success
        # every check's target lookup (at least one per check: 2 checks x 3 runs) was answered here
        assert events.newest_of_partition_answers >= 6
        evaluations = [
            e.get_dagster_event().asset_check_evaluation_data.target_materialization_data
            for r in instance.get_runs()
            for e in instance.all_logs(r.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        ]
        materializations = {
            (e.run_id, e.storage_id)
            for e in instance.fetch_materializations(dg.AssetKey("daily"), limit=10).records
        }  # fmt: skip
        assert {(t.run_id, t.storage_id) for t in evaluations} == materializations
        for day in ("2025-01-01", "2025-01-02", "2025-01-03"):  # the last: never materialized
            assert _newest(events, day) == _newest(events, day, plain=True)
        # another process's storage (nothing remembered): the same answers, parsed once, then by id
        other = dagster_storage.CachedEngineSqliteEventLogStorage(str(home / "history" / "runs"))
        for _ in range(2):
            assert _newest(other, "2025-01-01") == _newest(events, "2025-01-01")
        assert other.newest_of_partition_answers == 2
        # a wiped asset: Dagster's rules (no record), never a remembered one
        instance.wipe_assets([dg.AssetKey("daily")])
        assert _newest(events, "2025-01-01") == _newest(events, "2025-01-01", plain=True)
        assert _newest(events, "2025-01-01")[0] == []
