"""`steering_report` materialized from stand-in upstream assets and hand-written warehouse tables
(the issue-11 tables of other branches are built here by hand against the shared contract): one
row per day, the recommendation of each day's champion state, the markdown in each partition's
metadata, the files in the artifact store, a one-day run equal to the range run and a rerun
leaving the table and the files unchanged; the alerts open as of each day's deadline from the
alert sink's table (none before any alert was raised)."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
import pytest

from nba_props.defs.alerts.sensor import alerts_asset
from nba_props.defs.health.steering import SEED as CHAMPION
from nba_props.defs.health.steering import steering_report
from nba_props.io.artifacts import ArtifactStoreResource, LocalArtifactStore
from nba_props.io.io_manager import DuckDBPolarsIOManager, WarehouseResource
from nba_props.io.warehouse import Warehouse
from nba_props.lib import tables
from nba_props.lib.alerts import ALERTS_SCHEMA, ALERTS_TABLE
from nba_props.partitions import game_date_partitions, training_week_partitions

ASSET = "steering_report"
OTHER = "challenger_family"
DAYS = [date(2026, 1, 19) + timedelta(days=i) for i in range(3)]  # Mon .. Wed
FIRST = DAYS[0] - timedelta(days=40)
DAILY_INPUTS = ("model_performance_daily", "signal_health_daily", "market_regime", "pick_accuracy", "best_bets",
                "prediction_accuracy", "schedule")  # fmt: skip
STATES = {DAYS[0]: ("HEALTHY", 0.62), DAYS[1]: ("BLOCKED", 0.45), DAYS[2]: ("DEGRADING", 0.53)}


def full(table: str, rows: list[dict]) -> pl.DataFrame:
    schema = tables.TABLE_SCHEMAS[table]
    return pl.DataFrame([dict.fromkeys(schema.names()) | r for r in rows], schema=schema)


def write_inputs(store: Warehouse) -> None:
    perf = []
    for day, (state, hr) in STATES.items():
        perf += [
            {"game_date": day, "family": CHAMPION, "state": state, "hr_7d": hr, "n_7d": 40, "market_crash": False,
             "is_champion": True, "staleness": "ROUTINE", "days_since_training": 8, "transition": "NO_CHANGE"},
            {"game_date": day, "family": OTHER, "state": "HEALTHY", "hr_7d": 0.61, "n_7d": 33 if day == DAYS[1] else 12,
             "market_crash": False, "is_champion": False, "staleness": "FRESH", "days_since_training": 1,
             "transition": "NO_CHANGE"},
        ]  # fmt: skip
    store.replace_partitions("model_performance_daily", full("model_performance_daily", perf), start=DAYS[0],
                             end=DAYS[-1], declared=tables.TABLE_SCHEMAS["model_performance_daily"])  # fmt: skip
    regime = full("market_regime", [{"game_date": d, "family": CHAMPION, "regime_colour": "GREEN",
                                     "compression_colour": "GREEN", "max_edge_colour": "GREEN",
                                     "edge_high_colour": "YELLOW", "line_state_short": "NORMAL"} for d in DAYS])  # fmt: skip
    store.replace_partitions("market_regime", regime, start=DAYS[0], end=DAYS[-1],
                             declared=tables.TABLE_SCHEMAS["market_regime"])  # fmt: skip
    # the issue-11 tables: the columns read, the others NULL
    signal = pl.DataFrame({"game_date": DAYS, "name": ["high_edge"] * 3, "kind": ["signal"] * 3,
                           "state": ["active"] * 3, "status": ["HEALTHY"] * 3, "regime": ["NORMAL"] * 3,
                           "hr_7d": [0.6] * 3, "n_7d": [25] * 3, "hr_season": [0.58] * 3, "n_season": [200] * 3})  # fmt: skip
    store.replace_partitions("signal_health_daily", full("signal_health_daily", signal.to_dicts()), start=DAYS[0],
                             end=DAYS[-1], declared=tables.TABLE_SCHEMAS["signal_health_daily"])  # fmt: skip
    # two picks a day from FIRST: a win at -110 and a loss
    pick_days = [FIRST + timedelta(days=i) for i in range((DAYS[-1] - FIRST).days + 1)]
    picks = pl.DataFrame(
        {
            "game_date": [d for d in pick_days for _ in range(2)],
            "game_id": [f"{d:%Y%m%d}_{k}" for d in pick_days for k in range(2)],
            "player_lookup": [f"p{k}" for _ in pick_days for k in range(2)],
            "status": ["published"] * 2 * len(pick_days),
            "result": ["WIN", "LOSS"] * len(pick_days),
            "profit": [100 / 110, -1.0] * len(pick_days),
        }
    )
    picks = full("pick_accuracy", picks.with_columns(counted=pl.lit(True)).to_dicts())
    store.replace_partitions("pick_accuracy", picks, start=FIRST, end=DAYS[-1],
                             declared=tables.TABLE_SCHEMAS["pick_accuracy"])  # fmt: skip
    bb = pl.DataFrame(
        {
            "game_date": DAYS,
            "game_id": ["g0", "g1", "g2"],
            "player_lookup": ["a", "b", "c"],
            "model_id": ["m"] * 3,
            "selected": [True, False, False],
            "observed_by": [["affinity"], [], ["affinity"]],
            "health_gate_active": [False, False, True],
            "health_gate_reason": [None, None, f"champion {CHAMPION} BLOCKED on {DAYS[1]}"],
        },  # fmt: skip
        schema_overrides={"observed_by": pl.List(pl.Utf8)},
    )
    store.replace_partitions("best_bets", full("best_bets", bb.to_dicts()), start=DAYS[0], end=DAYS[-1],
                             declared=tables.TABLE_SCHEMAS["best_bets"])  # fmt: skip
    accuracy = full("prediction_accuracy", [
        {"game_date": d, "game_id": g, "player_lookup": p, "model_id": "m", "family": CHAMPION, "result": r,
         "price": -110} for d, g, p, r in zip(DAYS, ["g0", "g1", "g2"], ["a", "b", "c"], ["LOSS", "WIN", "LOSS"],
                                              strict=True)])  # fmt: skip
    store.replace_partitions("prediction_accuracy", accuracy, start=DAYS[0], end=DAYS[-1],
                             declared=tables.TABLE_SCHEMAS["prediction_accuracy"])  # fmt: skip
    sched = full("schedule", [{"game_date": d, "game_id": f"{d:%Y%m%d}_AAA_BBB", "status": "final"}
                              for d in [DAYS[0] - timedelta(days=1), *DAYS]])  # fmt: skip
    store.replace_partitions("schedule", sched, start=DAYS[0] - timedelta(days=7), end=DAYS[-1] + timedelta(days=1),
                             declared=tables.TABLE_SCHEMAS["schedule"])  # fmt: skip
    registry = full("trained_models", [{"week_start": date(2026, 1, 12), "model_id": "c_0112", "family": CHAMPION}])
    store.replace_partitions("trained_models", registry, start=date(2026, 1, 12), end=date(2026, 1, 12),
                             partition_column="week_start", declared=tables.TABLE_SCHEMAS["trained_models"])  # fmt: skip


def stand_ins() -> list[dg.AssetSpec]:
    specs = [dg.AssetSpec(n, partitions_def=game_date_partitions, metadata={"partition_expr": "game_date"})
             for n in DAILY_INPUTS]  # fmt: skip
    specs.append(dg.AssetSpec("trained_models", partitions_def=training_week_partitions,
                              metadata={"partition_expr": "week_start"}))  # fmt: skip
    specs.append(alerts_asset)  # the real external spec (written by the alert sink, outside runs)
    return specs


@pytest.fixture
def env(tmp_path):
    database = str(tmp_path / "w.duckdb")
    storage = WarehouseResource(database=database)
    resources = {
        "io_manager": DuckDBPolarsIOManager(storage=storage),
        "warehouse": storage,
        "artifacts": ArtifactStoreResource(root=str(tmp_path / "artifacts")),
    }
    store = Warehouse(database)
    write_inputs(store)
    return store, resources, LocalArtifactStore(tmp_path / "artifacts")


def run(resources, first: date, last: date) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [steering_report, *stand_ins()], resources=resources, instance=instance, selection=[ASSET],
            tags={"dagster/asset_partition_range_start": first.isoformat(),
                  "dagster/asset_partition_range_end": last.isoformat()},
        )  # fmt: skip
        assert result.success
        return result


def stored(store: Warehouse) -> pl.DataFrame:
    return store.load(ASSET, declared=tables.TABLE_SCHEMAS[ASSET]).sort("game_date")


def test_steering_report_materializes_one_recommendation_per_day_and_its_files(env):
    store, resources, files = env
    result = run(resources, DAYS[0], DAYS[-1])
    rows = stored(store)
    assert rows.get_column("recommendation").to_list() == ["ALL CLEAR", "SWITCH", "WATCH"]
    assert rows.get_column("switch_to").to_list() == [None, OTHER, None]
    assert rows.get_column("champion_days_since_training").to_list() == [7, 8, 9]
    assert rows.get_column("health_gate_active").to_list() == [False, False, True]
    # the record: two picks a day (1-1) from FIRST on
    assert rows.get_column("bb_wins_7d").to_list() == [7, 7, 7]
    assert rows.get_column("bb_n_30d").to_list() == [60, 60, 60]
    assert rows.get_column("bb_wins_season").to_list() == [41, 42, 43]
    assert rows.get_column("bb_hr_14d").to_list() == [0.5, 0.5, 0.5]
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {"unique_key": True, "one_recommendation": True}
    by_partition = {e.materialization.partition: e.materialization.metadata
                    for e in result.get_asset_materialization_events()}  # fmt: skip
    meta = by_partition[DAYS[1].isoformat()]
    assert meta["recommendation"].value == "SWITCH" and meta["recommendation_code"].value == 3
    assert meta["bb_hr_7d"].value == 0.5 and meta["bb_n_7d"].value == 14
    assert "**Recommendation: SWITCH**" in meta["steering_report"].value
    md_path = f"reports/steering/{DAYS[1]}.md"
    assert meta["bytes/md"].value == len(files.read_bytes(md_path))
    assert files.read_bytes(md_path).decode() == rows.item(1, "markdown")
    assert files.read_json(f"reports/steering/{DAYS[2]}.json")["health_gate_active"] is True
    assert "| affinity | 2 | 0-2 | 0.0% |" in rows.item(2, "markdown")


def test_a_one_day_run_equals_the_range_run_and_a_rerun_changes_nothing(env):
    store, resources, files = env
    run(resources, DAYS[0], DAYS[-1])
    once = stored(store)
    contents = {p: files.read_bytes(p) for p in files.list("reports/")}
    assert len(contents) == 6
    run(resources, DAYS[1], DAYS[1])
    run(resources, DAYS[0], DAYS[-1])
    assert stored(store).equals(once)
    assert {p: files.read_bytes(p) for p in files.list("reports/")} == contents
    assert {p: files.read_bytes(p) for p in files.list("reports/")} == contents


def alert(alert_id: str, raised: datetime, partition: str | None, kind: str = "freshness",
          recovered: datetime | None = None) -> dict:  # fmt: skip
    return {"alert_id": alert_id, "raised_at": raised, "kind": kind, "asset": "box_scores", "partition": partition,
            "check": None, "message": f"{alert_id} late", "run_id": None,
            "status": "open" if recovered is None else "recovered", "recovered_at": recovered}  # fmt: skip


def test_open_alerts_as_of_each_days_deadline_and_none_before_any_alert(env):
    store, resources, files = env
    assert not store.table_exists(ALERTS_TABLE)  # no alert ever raised: an empty table, not a failure
    result = run(resources, DAYS[0], DAYS[-1])
    assert all("None open." in md for md in stored(store).get_column("markdown"))
    meta = {e.materialization.partition: e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert [meta[d.isoformat()]["open_alerts"].value for d in DAYS] == [0, 0, 0]

    # DAYS[1]'s report is due 09:00 ET on DAYS[2] (14:00 UTC in January)
    cutoff = datetime(DAYS[2].year, DAYS[2].month, DAYS[2].day, 14, tzinfo=UTC)
    log = pl.DataFrame(
        [
            alert("a", cutoff - timedelta(hours=20), DAYS[1].isoformat()),  # open through DAYS[1] and DAYS[2]
            alert("b", cutoff, DAYS[0].isoformat(), recovered=cutoff + timedelta(seconds=1)),  # open at DAYS[1]'s
            alert("c", cutoff + timedelta(seconds=1), None),  # after DAYS[1]'s cutoff: DAYS[2]'s only
            alert("d", cutoff - timedelta(hours=1), DAYS[2].isoformat(), kind="model_health"),  # DAYS[2]'s partition
        ],
        schema=ALERTS_SCHEMA,
    )
    store.replace_table(ALERTS_TABLE, log, declared=ALERTS_SCHEMA)
    result = run(resources, DAYS[0], DAYS[-1])
    meta = {e.materialization.partition: e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert [meta[d.isoformat()]["open_alerts"].value for d in DAYS] == [0, 2, 3]
    assert [meta[d.isoformat()]["open_model_health_alerts"].value for d in DAYS] == [0, 0, 1]
    rows = stored(store)
    assert rows.item(1, "risk_factors")[-1] == (
        "2 open data alerts as of 2026-01-21 09:00 ET: box_scores 2026-01-20 freshness, box_scores 2026-01-19 freshness"
    )
    day2 = files.read_json(f"reports/steering/{DAYS[2]}.json")["open_alerts"]
    assert [i["alert_id"] for i in day2["model_health"]] == ["d"]
    assert [i["alert_id"] for i in day2["data"]] == ["a", "c"]  # b recovered at DAYS[1]'s cutoff + 1 s
    # a later rerun (a recovered, e raised for an old day after every cutoff): the same reports
    once = stored(store)
    contents = {p: files.read_bytes(p) for p in files.list("reports/")}
    later = pl.concat([log.with_columns(recovered_at=pl.when(pl.col("alert_id") == "a").then(
        pl.lit(cutoff + timedelta(days=5))).otherwise(pl.col("recovered_at"))),
        pl.DataFrame([alert("e", cutoff + timedelta(days=6), DAYS[0].isoformat())], schema=ALERTS_SCHEMA)])  # fmt: skip
    store.replace_table(ALERTS_TABLE, later, declared=ALERTS_SCHEMA)
    run(resources, DAYS[0], DAYS[-1])
    assert stored(store).equals(once)
    assert {p: files.read_bytes(p) for p in files.list("reports/")} == contents
