"""The DuckDB polars IO manager through dagster's real machinery (in-process runs, temp DuckDB)."""

# No `from __future__ import annotations` here: dagster checks the `context` annotation by
# identity, and a string annotation is refused.

from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType

import dagster as dg
import duckdb
import polars as pl
import pytest
from dagster import AssetExecutionContext

from nba_props.io.io_manager import DuckDBPolarsIOManager, WarehouseResource
from nba_props.io.warehouse import Warehouse
from nba_props.lib import schemas, tables
from nba_props.partitions import game_date_partitions, history_input, previous_n_game_days, window_dates

TZ = "America/New_York"
DAILY = dg.DailyPartitionsDefinition(start_date="2024-10-20", timezone=TZ)
WEEKLY = dg.WeeklyPartitionsDefinition(start_date="2024-10-20", timezone=TZ)  # weeks start Sunday
RANGE_TAGS = {"dagster/asset_partition_range_start": "2024-10-21", "dagster/asset_partition_range_end": "2024-10-23"}

POINTS = pl.Schema({"game_date": pl.Date, "player_id": pl.Int64, "points": pl.Int32})
SEEN: dict[str, pl.DataFrame] = {}  # what downstream assets received, for the assertions
INSTANCE: dg.DagsterInstance | None = None  # set by the module fixture below


def points_of(day: date) -> list[tuple]:
    """Two players a day; points = day of month * 10 + player (hand-checkable sums)."""
    return [(day, player, day.day * 10 + player) for player in (1, 2)]


def days_of(context: AssetExecutionContext) -> list[date]:
    start, end = window_dates(context.partition_time_window)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def daily_points(context: AssetExecutionContext) -> pl.DataFrame:
    rows = [row for day in days_of(context) for row in points_of(day)]
    return pl.DataFrame(rows, schema=POINTS, orient="row")


@dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def doubled(daily_points: pl.DataFrame) -> pl.DataFrame:
    SEEN["doubled"] = daily_points
    return daily_points.with_columns(points=pl.col("points") * 2)


@dg.asset(
    partitions_def=DAILY,
    ins={"daily_points": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-2, end_offset=0))},
)
def last_three_days(context: AssetExecutionContext, daily_points: pl.DataFrame) -> pl.DataFrame:
    SEEN["last_three_days"] = daily_points
    day = days_of(context)[0]
    return pl.DataFrame({"game_date": [day], "rows": [daily_points.height], "points": [daily_points["points"].sum()]})


@dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def box_scores(context: AssetExecutionContext) -> pl.DataFrame:
    """Declared in tables.TABLE_SCHEMAS: partial columns are conformed by the asset itself."""
    days = days_of(context)
    partial = pl.DataFrame(
        {
            "game_date": days,
            "game_id": [f"{d:%Y%m%d}_NYK_BOS" for d in days],
            "player_id": [1] * len(days),
            "points": [d.day for d in days],
        }
    )
    return schemas.conform(partial, schemas.BOX_SCORES)


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={
        "box_scores": dg.AssetIn(
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
            )
        )
    },
)
def previous_day_box(box_scores: pl.DataFrame) -> None:
    SEEN["previous_day_box"] = box_scores


@dg.asset(backfill_policy=dg.BackfillPolicy.single_run())
def season_summary(daily_points: pl.DataFrame) -> pl.DataFrame:
    SEEN["season_summary"] = daily_points
    return daily_points.group_by("player_id").agg(games=pl.len(), points=pl.col("points").sum()).sort("player_id")


@dg.asset(partitions_def=WEEKLY)
def weekly_points(context: AssetExecutionContext, daily_points: pl.DataFrame) -> pl.DataFrame:
    SEEN["weekly_points"] = daily_points
    return daily_points.group_by("game_date").agg(points=pl.col("points").sum()).sort("game_date")


@dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def lazy_reader(daily_points: pl.LazyFrame) -> pl.LazyFrame:
    SEEN["lazy_reader"] = daily_points
    return daily_points.select("game_date", total=pl.col("points").sum())


@dg.asset(partitions_def=WEEKLY, metadata={"partition_expr": "week_start"})
def weekly_model(context: AssetExecutionContext) -> pl.DataFrame:
    """A weekly table keyed by the week's first day instead of game_date."""
    week_start = days_of(context)[0]
    return pl.DataFrame({"week_start": [week_start], "model_id": [f"m_{week_start:%Y%m%d}"]})


@dg.asset(partitions_def=WEEKLY)
def weekly_model_reader(weekly_model: pl.DataFrame) -> None:
    SEEN["weekly_model_reader"] = weekly_model


@dg.asset(partitions_def=DAILY)
def box_scores_with_typo(context: AssetExecutionContext) -> pl.DataFrame:
    return pl.DataFrame({"game_date": [date(2024, 10, 21)], "pointz": [1]})


@pytest.fixture
def database(tmp_path) -> str:
    SEEN.clear()
    return str(tmp_path / "warehouse.duckdb")


@pytest.fixture(scope="module", autouse=True)
def instance():
    """One ephemeral instance for the module (run storage only; the tables live in DuckDB)."""
    global INSTANCE
    with dg.DagsterInstance.ephemeral() as INSTANCE:
        yield INSTANCE


def run(assets: list, database: str, **kwargs) -> dg.ExecuteInProcessResult:
    warehouse = WarehouseResource(database=database)
    resources = {"io_manager": DuckDBPolarsIOManager(storage=warehouse), "warehouse": warehouse}
    return dg.materialize(assets, resources=resources, instance=INSTANCE, **kwargs)


def stored(database: str, table: str, declared: pl.Schema | None = None) -> list[tuple]:
    return Warehouse(database).load(table, declared=declared).rows()


def materialization_metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, object]:
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)]
    assert len(events) == 1
    return {k: v.value for k, v in events[0].materialization.metadata.items()}


def test_one_partition_replaced_and_read_downstream_idempotently(database):
    day = date(2024, 10, 22)
    for _ in range(2):  # a rerun replaces the partition: no duplicates
        result = run([daily_points, doubled], database, partition_key="2024-10-22")
        assert result.success
    assert stored(database, "daily_points") == [(day, 1, 221), (day, 2, 222)]
    assert stored(database, "doubled") == [(day, 1, 442), (day, 2, 444)]
    assert SEEN["doubled"].schema == POINTS and SEEN["doubled"].height == 2
    meta = materialization_metadata(result, "doubled")
    assert meta["dagster/row_count"] == 2
    assert meta["table"] == "nba_props.doubled"
    assert meta["partition_window"] == "2024-10-22 .. 2024-10-22"

    # the neighbour partition is untouched by another day's run
    run([daily_points], database, partition_key="2024-10-21")
    assert [r[0] for r in stored(database, "daily_points")] == [date(2024, 10, 21)] * 2 + [day] * 2


def test_single_run_backfill_of_a_key_range(database):
    result = run([daily_points, doubled], database, tags=RANGE_TAGS)
    assert result.success
    expected = [row for d in (21, 22, 23) for row in points_of(date(2024, 10, d))]
    assert stored(database, "daily_points") == expected
    assert SEEN["doubled"].rows() == expected  # the downstream read the whole range
    assert stored(database, "doubled") == [(d, p, 2 * v) for d, p, v in expected]
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("daily_points")]
    assert sorted(e.partition for e in events) == ["2024-10-21", "2024-10-22", "2024-10-23"]
    metas = {e.materialization.metadata["partition_window"].value for e in events}
    assert metas == {"2024-10-21 .. 2024-10-23"}

    # re-running one day inside the range replaces exactly that day
    run([daily_points], database, partition_key="2024-10-22")
    assert stored(database, "daily_points") == expected


def test_last_n_days_mapping_reads_the_window(database):
    run([daily_points], database, tags=RANGE_TAGS)
    result = run([daily_points, last_three_days], database, partition_key="2024-10-23", selection=[last_three_days])
    assert result.success
    got = SEEN["last_three_days"]
    assert got["game_date"].to_list() == [date(2024, 10, d) for d in (21, 21, 22, 22, 23, 23)]
    # 211 + 212 + 221 + 222 + 231 + 232
    assert stored(database, "last_three_days") == [(date(2024, 10, 23), 6, 1329)]

    # near the start the window is truncated to what exists (20 and 21); 20 was never
    # materialized, so only 21's rows come back
    run([daily_points, last_three_days], database, partition_key="2024-10-21", selection=[last_three_days])
    assert SEEN["last_three_days"]["points"].to_list() == [211, 212]


def test_declared_schema_conforms_outputs_and_types_empty_windows(database):
    # first partition: the previous day does not exist -> typed empty frame with declared columns
    result = run([box_scores, previous_day_box], database, partition_key="2024-10-20")
    assert result.success
    first = SEEN["previous_day_box"]
    assert first.height == 0 and first.schema == schemas.BOX_SCORES
    assert not Warehouse(database).table_exists("previous_day_box")  # a None output writes nothing

    # a day whose previous day was never materialized: empty window of an existing table
    run([box_scores, previous_day_box], database, partition_key="2024-10-25")
    assert SEEN["previous_day_box"].height == 0 and SEEN["previous_day_box"].schema == schemas.BOX_SCORES

    run([box_scores, previous_day_box], database, partition_key="2024-10-26")
    got = SEEN["previous_day_box"]
    assert got.schema == schemas.BOX_SCORES
    assert got.select("game_date", "game_id", "player_id", "points").rows() == [
        (date(2024, 10, 25), "20241025_NYK_BOS", 1, 25)
    ]
    with duckdb.connect(database, read_only=True) as con:
        stored_type = (
            con.sql(
                "SELECT data_type FROM information_schema.columns WHERE table_name = 'box_scores' AND column_name = 'points'"
            )
            .pl()
            .item()
        )
    assert stored_type == "INTEGER"


def test_output_not_matching_the_declared_schema_fails_loudly(database, monkeypatch):
    monkeypatch.setattr(
        tables, "TABLE_SCHEMAS", MappingProxyType({**tables.TABLE_SCHEMAS, "box_scores_with_typo": POINTS})
    )
    with pytest.raises(ValueError, match=r"missing \['player_id', 'points'\], unexpected \['pointz'\]"):
        run([box_scores_with_typo], database, partition_key="2024-10-21")
    assert not Warehouse(database).table_exists("box_scores_with_typo")


def test_unpartitioned_downstream_reads_the_whole_table(database):
    run([daily_points], database, tags=RANGE_TAGS)
    run([daily_points], database, partition_key="2024-10-25")
    # a row dated before the first partition: only a whole-table read sees it
    Warehouse(database).replace_partitions(
        "daily_points",
        pl.DataFrame([(date(2024, 10, 1), 1, 1000)], schema=POINTS, orient="row"),
        start=date(2024, 10, 1),
        end=date(2024, 10, 1),
    )
    result = run([daily_points, season_summary], database, selection=[season_summary])
    assert result.success
    assert SEEN["season_summary"].height == 9
    assert SEEN["season_summary"]["game_date"].to_list()[:2] == [date(2024, 10, 1), date(2024, 10, 21)]
    # player 1: 1000 + 211 + 221 + 231 + 251; player 2: 212 + 222 + 232 + 252
    assert stored(database, "season_summary") == [(1, 5, 1914), (2, 4, 918)]
    assert materialization_metadata(result, "season_summary")["partition_window"] == "whole table"

    # an unpartitioned output replaces the whole table on every run
    run([daily_points], database, partition_key="2024-10-26")
    run([daily_points, season_summary], database, selection=[season_summary])
    assert stored(database, "season_summary") == [(1, 6, 1914 + 261), (2, 5, 918 + 262)]


def test_weekly_window_reads_and_replaces_its_seven_days(database):
    week = [date(2024, 10, 27) + timedelta(days=i) for i in range(7)]
    run(
        [daily_points],
        database,
        tags={"dagster/asset_partition_range_start": "2024-10-26", "dagster/asset_partition_range_end": "2024-11-03"},
    )
    result = run([daily_points, weekly_points], database, partition_key="2024-10-27", selection=[weekly_points])
    assert result.success
    assert sorted(set(SEEN["weekly_points"]["game_date"].to_list())) == week
    assert stored(database, "weekly_points") == [(d, 2 * d.day * 10 + 3) for d in week]
    assert materialization_metadata(result, "weekly_points")["partition_window"] == "2024-10-27 .. 2024-11-02"


def test_partition_expr_metadata_names_the_window_column(database):
    for _ in range(2):
        result = run([weekly_model, weekly_model_reader], database, partition_key="2024-10-27")
        assert result.success
    run([weekly_model], database, partition_key="2024-11-03")
    assert stored(database, "weekly_model") == [(date(2024, 10, 27), "m_20241027"), (date(2024, 11, 3), "m_20241103")]
    assert SEEN["weekly_model_reader"].rows() == [(date(2024, 10, 27), "m_20241027")]


def test_lazy_frame_inputs_and_outputs(database):
    result = run([daily_points, lazy_reader], database, partition_key="2024-10-24")
    assert result.success
    assert isinstance(SEEN["lazy_reader"], pl.LazyFrame)
    assert stored(database, "lazy_reader") == [(date(2024, 10, 24), 241 + 242)] * 2


# Two assets sharing one table through `table` + `table_scope` metadata (as the ingest quarantines do).
SCOPED = pl.Schema({"game_date": pl.Date, "source": pl.Utf8, "n": pl.Int64})


def _scoped_asset(source: str, n: int):
    @dg.asset(
        name=f"{source}_notes",
        partitions_def=DAILY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        metadata={"table": "shared_notes", "table_scope": {"source": source}},
    )
    def notes(context: AssetExecutionContext) -> pl.DataFrame:
        return pl.DataFrame([(day, source, n) for day in days_of(context)], schema=SCOPED, orient="row")

    return notes


a_notes, b_notes = _scoped_asset("a", 1), _scoped_asset("b", 2)


@dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def a_notes_seen(a_notes: pl.DataFrame) -> None:
    SEEN["a_notes"] = a_notes


def test_assets_sharing_a_table_write_and_read_only_their_scope(database):
    run([a_notes, b_notes], database, tags=RANGE_TAGS)
    run([a_notes], database, partition_key="2024-10-22")  # rewrites only a's rows of that day
    rows = stored(database, "shared_notes")
    assert sorted(rows) == sorted([(date(2024, 10, d), s, n) for d in (21, 22, 23) for s, n in (("a", 1), ("b", 2))])
    assert not Warehouse(database).table_exists("a_notes")
    run([a_notes, b_notes, a_notes_seen], database, partition_key="2024-10-23", selection=[a_notes_seen])
    assert SEEN["a_notes"].rows() == [(date(2024, 10, 23), "a", 1)]


@dg.asset(partitions_def=game_date_partitions, backfill_policy=dg.BackfillPolicy.single_run())
def season_points(context: AssetExecutionContext) -> pl.DataFrame:
    days = [date.fromisoformat(key) for key in context.partition_keys]
    return pl.DataFrame([row for day in days for row in points_of(day)], schema=POINTS, orient="row")


@dg.asset(partitions_def=game_date_partitions, ins={"history": history_input("season_points", previous_n_game_days(3))})
def three_calendar_days(history: pl.DataFrame) -> None:
    SEEN["three_calendar_days"] = history


@dg.asset(
    partitions_def=game_date_partitions,
    ins={"history": dg.AssetIn("season_points", partition_mapping=previous_n_game_days(3))},
)
def three_partitions(history: pl.DataFrame) -> None:
    SEEN["three_partitions"] = history


EVENT_LOG = pl.Schema({"event_id": pl.Utf8, "raised_at": pl.Datetime("us", "UTC"), "partition": pl.Utf8})
# an unpartitioned table written outside any run (e.g. the alerts sensor's `alerts`): an external spec
event_log = dg.AssetSpec("event_log")


@dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def daily_event_reader(event_log: pl.DataFrame) -> None:
    SEEN.setdefault("daily_event_reader", []).append(event_log)


def test_a_partitioned_asset_reads_an_unpartitioned_upstream_whole_and_empty_when_never_written(database, monkeypatch):
    monkeypatch.setattr(tables, "TABLE_SCHEMAS", MappingProxyType({**tables.TABLE_SCHEMAS, "event_log": EVENT_LOG}))
    # never written (no event yet): an empty frame with the declared columns, not an error
    assert run([event_log, daily_event_reader], database, selection=[daily_event_reader], tags=RANGE_TAGS).success
    (seen,) = SEEN.pop("daily_event_reader")
    assert seen.height == 0 and seen.schema == EVENT_LOG
    assert not Warehouse(database).table_exists("event_log")
    # written: the whole table (every row, whatever its partition), once for the run's whole range
    rows = pl.DataFrame({"event_id": ["a", "b"], "raised_at": [datetime(2024, 10, 20, 12, tzinfo=UTC)] * 2,
                         "partition": ["2024-10-01", None]}, schema=EVENT_LOG)  # fmt: skip
    Warehouse(database).replace_table("event_log", rows, declared=EVENT_LOG)
    assert run([event_log, daily_event_reader], database, selection=[daily_event_reader], tags=RANGE_TAGS).success
    (seen,) = SEEN.pop("daily_event_reader")
    assert seen.sort("event_id").equals(rows)


def test_an_unregistered_unpartitioned_upstream_never_written_fails_loudly(database):
    with pytest.raises(LookupError, match="event_log does not exist"):
        run([event_log, daily_event_reader], database, selection=[daily_event_reader], partition_key="2024-10-21")
