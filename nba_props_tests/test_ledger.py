"""`published_picks` (the append-only ledger) and `pick_accuracy` materialized from hand-built
`best_bets` / `prediction_accuracy` tables with a frozen clock: the issue's scenarios (re-running
the date, the source model disabled, a backfill with changed config, a run failing half-way),
the blocking `append_only` check failing on a planted fault with nothing written, the warehouse's
partition replace rolling back as a whole, and the graded record of the picks."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
import pytest

from nba_props.defs.grading.picks import pick_accuracy
from nba_props.defs.picks.ledger import ASSET, published_picks
from nba_props.io.io_manager import DuckDBPolarsIOManager, WarehouseResource
from nba_props.io.warehouse import Warehouse
from nba_props.lib import ledger, tables
from nba_props.lib.grading import ACCURACY_SCHEMA
from nba_props.partitions import game_date_partitions
from nba_props.resources import ClockResource
from nba_props_tests.test_lib_ledger import bb

DAYS = [date(2025, 11, 3), date(2025, 11, 4), date(2025, 11, 5)]


def tip(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 30, tzinfo=UTC)  # 18:30 ET


def before(day: date) -> datetime:
    return tip(day) - timedelta(hours=4)


def after(day: date) -> datetime:
    return tip(day) + timedelta(days=1)


def stand_in(name: str) -> dg.AssetSpec:
    return dg.AssetSpec(name, partitions_def=game_date_partitions, metadata={"partition_expr": "game_date"})


# B's real best_bets table has more columns than the ledger reads: write whichever schema is declared
BEST_BETS_SCHEMA = tables.TABLE_SCHEMAS.get("best_bets", ledger.BEST_BETS_CONTRACT)
# best_bets and prediction_accuracy are hand-written tables here (stand-in specs)
ASSETS = [published_picks, pick_accuracy, stand_in("prediction_accuracy"), stand_in("best_bets")]


def write_best_bets(store: Warehouse, rows: list[dict], days=DAYS) -> None:
    frame = pl.DataFrame(rows, schema=ledger.BEST_BETS_CONTRACT)
    frame = frame.with_columns(
        pl.lit(None, dtype=t).alias(c) for c, t in BEST_BETS_SCHEMA.items() if c not in frame.columns
    ).select(pl.col(c).cast(t) for c, t in BEST_BETS_SCHEMA.items())
    store.replace_partitions("best_bets", frame, start=days[0], end=days[-1], declared=BEST_BETS_SCHEMA)


def slate(day: date, players=("a", "b", "c"), **overrides) -> list[dict]:
    """The day's candidates: every player selected (rank in order) unless overridden."""
    rows = []
    for rank, player in enumerate(players, start=1):
        rows.append(bb(player, day=day, tip=tip(day), rank=rank, **overrides.get(player, {})))
    return rows


def resources(database: str, now: datetime) -> dict:
    storage = WarehouseResource(database=database)
    return {
        "io_manager": DuckDBPolarsIOManager(storage=storage),
        "warehouse": storage,
        "clock": ClockResource(frozen_at=now.isoformat()),
    }


def materialize(database: str, now: datetime, first: date, last: date | None = None, select=(ASSET,), **kwargs):
    tags = {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": (last or first).isoformat(),
    }
    with dg.instance_for_test() as instance:
        return dg.materialize(
            ASSETS,
            resources=resources(database, now),
            instance=instance,
            selection=list(select),
            tags=tags,
            raise_on_error=False,
            **kwargs,
        )


def stored(database: str) -> pl.DataFrame:
    return Warehouse(database).load(ASSET, declared=tables.TABLE_SCHEMAS[ASSET]).sort("game_date", *ledger.KEY)


def statuses(frame: pl.DataFrame) -> dict[tuple[date, str], str]:
    return {(r["game_date"], r["player_lookup"]): r["status"] for r in frame.iter_rows(named=True)}


@pytest.fixture
def database(tmp_path) -> str:
    return str(tmp_path / "w.duckdb")


def test_first_publication_records_the_clock_the_run_and_per_partition_figures(database):
    store = Warehouse(database)
    day = DAYS[0]
    write_best_bets(store, slate(day, b={"selected": False, "rejected_by": "edge_floor"}))
    result = materialize(database, before(day), day)
    assert result.success
    rows = stored(database)
    assert statuses(rows) == {(day, "a"): "published", (day, "c"): "published"}
    assert set(rows["published_at"]) == {before(day)}
    assert set(rows["run_id"]) == {result.run_id}
    meta = result.asset_materializations_for_node(ASSET)[0].metadata
    assert meta["published"].value == 2 and meta["run_added"].value == 2 and meta["withdrawn"].value == 0


def test_rerunning_the_date_changes_nothing(database):
    store = Warehouse(database)
    day = DAYS[0]
    write_best_bets(store, slate(day))
    assert materialize(database, before(day), day).success
    once = stored(database)
    for now in (before(day) + timedelta(hours=1), after(day)):
        result = materialize(database, now, day)
        assert result.success
        assert stored(database).equals(once)
        assert result.asset_materializations_for_node(ASSET)[0].metadata["run_added"].value == 0


def test_disabling_the_source_model_withdraws_before_tip_and_keeps_after(database):
    store = Warehouse(database)
    day = DAYS[0]
    write_best_bets(store, slate(day))
    assert materialize(database, before(day), day).success
    # the source model of 'a' is disabled: its predictions vanish, so does its candidate row
    write_best_bets(store, [r for r in slate(day) if r["player_lookup"] != "a"], days=[day])
    assert materialize(database, after(day), day).success  # after the tip: stays published
    assert statuses(stored(database))[(day, "a")] == "published"
    assert materialize(database, before(day) + timedelta(hours=1), day).success  # before it: withdrawn
    row = stored(database).filter(pl.col("player_lookup") == "a").row(0, named=True)
    assert (row["status"], row["withdrawn_reason"]) == ("withdrawn", ledger.REASON_MISSING)
    assert row["withdrawn_at"] == before(day) + timedelta(hours=1)
    assert row["line"] == 20.5 and row["published_at"] == before(day)


def test_a_backfill_with_changed_config_after_the_games_loses_nothing_and_adds_late(database):
    store = Warehouse(database)
    first_rows = [r for d in DAYS[:2] for r in slate(d, players=("a", "b"))]
    write_best_bets(store, first_rows, days=DAYS)
    assert materialize(database, before(DAYS[0]), DAYS[0], DAYS[1]).success
    published = stored(database)
    # new filter config: 'a' rejected everywhere, 'd' selected instead, and day 3 never published
    changed = [
        r
        for d in DAYS
        for r in slate(
            d,
            players=("a", "b", "d"),
            a={"selected": False, "rejected_by": "new_filter"},
            b={"line": 24.5, "edge": 9.0},
        )  # fmt: skip
    ]
    write_best_bets(store, changed, days=DAYS)
    result = materialize(database, after(DAYS[-1]), DAYS[0], DAYS[-1])
    assert result.success
    rows = stored(database)
    assert statuses(rows) == {
        (DAYS[0], "a"): "published", (DAYS[0], "b"): "published", (DAYS[0], "d"): "late",
        (DAYS[1], "a"): "published", (DAYS[1], "b"): "published", (DAYS[1], "d"): "late",
        # a date's first publication counts even after its games (a first-time backfill)
        (DAYS[2], "b"): "published", (DAYS[2], "d"): "published",
    }  # fmt: skip
    kept = rows.join(published.select(*ledger.KEY), on=list(ledger.KEY), how="semi").sort("game_date", *ledger.KEY)
    assert kept.equals(published)  # the published line 20.5 of 'b' is not rewritten to 24.5
    per_day = {m.partition: m.metadata for m in result.asset_materializations_for_node(ASSET)}
    assert per_day[DAYS[0].isoformat()]["late"].value == 1
    assert per_day[DAYS[0].isoformat()]["run_refused_after_tip"].value == 1
    assert per_day[DAYS[2].isoformat()]["published"].value == 2


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_a_planted_merge_that_drops_a_row_fails_the_blocking_check_and_writes_nothing(database, monkeypatch):
    store = Warehouse(database)
    day = DAYS[0]
    write_best_bets(store, slate(day))
    assert materialize(database, before(day), day).success
    once = stored(database)
    real_merge = ledger.merge

    def dropping_merge(*args, **kwargs):
        rows, events = real_merge(*args, **kwargs)
        return rows.filter(pl.col("player_lookup") != "b"), events

    monkeypatch.setattr(ledger, "merge", dropping_merge)
    result = materialize(database, before(day) + timedelta(hours=1), day)
    assert not result.success
    assert _checks(result) == {"append_only": False}
    assert stored(database).equals(once)
    monkeypatch.setattr(ledger, "merge", real_merge)  # the fault removed: the next run passes
    result = materialize(database, before(day) + timedelta(hours=1), day)
    assert result.success and _checks(result) == {"unique_key": True, "append_only": True}


def test_a_run_failing_after_the_merge_leaves_the_ledger_unchanged(database, monkeypatch):
    from nba_props.defs.picks import ledger as ledger_asset

    store = Warehouse(database)
    day = DAYS[0]
    write_best_bets(store, slate(day, players=("a",)))
    assert materialize(database, before(day), day).success
    once = stored(database)
    write_best_bets(store, slate(day, players=("a", "b")), days=[day])

    def boom(*args, **kwargs):
        raise RuntimeError("crash after the merge")

    monkeypatch.setattr(ledger_asset, "partition_figures", boom)
    assert not materialize(database, before(day) + timedelta(hours=1), day).success
    assert stored(database).equals(once)
    monkeypatch.undo()
    assert materialize(database, before(day) + timedelta(hours=2), day).success
    rows = stored(database)
    assert rows.height == 2 and rows["player_lookup"].to_list() == ["a", "b"]  # nothing duplicated


def test_a_run_failing_inside_the_write_rolls_the_partition_back(database, monkeypatch):
    """The IO manager replaces the run's dates with DELETE + INSERT in ONE DuckDB transaction
    (`Warehouse.replace_partitions`): an error after the DELETE rolls the delete back."""
    store = Warehouse(database)
    write_best_bets(store, [r for d in DAYS for r in slate(d)])
    assert materialize(database, before(DAYS[0]), DAYS[0], DAYS[-1]).success
    once = stored(database)
    assert once.height == 9
    real_insert = Warehouse._insert

    def failing_insert(self, con, table, frame, columns):
        if table == ASSET:
            real_insert(self, con, table, frame.head(2), columns)  # part of the rows in, then the crash
            raise RuntimeError("disk full")
        return real_insert(self, con, table, frame, columns)

    monkeypatch.setattr(Warehouse, "_insert", failing_insert)
    write_best_bets(store, [r for d in DAYS for r in slate(d, players=("a", "b", "c", "d"))])
    assert not materialize(database, before(DAYS[0]) + timedelta(hours=1), DAYS[0], DAYS[-1]).success
    assert stored(database).equals(once)
    monkeypatch.undo()
    assert materialize(database, before(DAYS[0]) + timedelta(hours=1), DAYS[0], DAYS[-1]).success
    rows = stored(database)
    assert rows.height == 12 and rows.select(*ledger.KEY).is_unique().all()


def accuracy_rows(day: date, actuals: dict[str, float | None]) -> pl.DataFrame:
    base = {c: None for c in ACCURACY_SCHEMA.names()}
    rows = [
        base | {"game_date": day, "game_id": f"{day:%Y%m%d}_AAA_BBB", "player_lookup": p, "model_id":
                "catboost_v12_2025-11-03", "actual_points": a, "game_status": "final"}
        for p, a in actuals.items()
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=ACCURACY_SCHEMA)


def test_pick_accuracy_grades_the_ledger_and_counts_only_published_picks(database):
    store = Warehouse(database)
    day = DAYS[0]
    write_best_bets(store, slate(day, players=("a", "b")), days=[day])
    assert materialize(database, before(day), day).success
    # 'c' joins after the tip: late, graded but not counted
    write_best_bets(store, slate(day, players=("a", "b", "c")), days=[day])
    assert materialize(database, after(day), day).success
    store.replace_partitions(
        "prediction_accuracy", accuracy_rows(day, {"a": 25.0, "b": 18.0, "c": 30.0}), start=day, end=day,
        declared=ACCURACY_SCHEMA,
    )  # fmt: skip
    result = materialize(database, after(day), day, select=["pick_accuracy"])
    assert result.success
    rows = store.load("pick_accuracy", declared=tables.TABLE_SCHEMAS["pick_accuracy"]).sort("player_lookup")
    assert rows["result"].to_list() == ["WIN", "LOSS", "WIN"]  # OVER 20.5: 25 win, 18 loss, 30 win
    assert rows["counted"].to_list() == [True, True, False]
    meta = result.asset_materializations_for_node("pick_accuracy")[0].metadata
    assert (meta["wins"].value, meta["losses"].value, meta["not_counted"].value) == (1, 1, 1)
    assert meta["hit_rate"].value == 0.5
    assert meta["roi"].value == pytest.approx((100 / 110 - 1) / 2)
