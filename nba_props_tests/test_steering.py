"""`steering_report` materialized from stand-in upstream assets and hand-written warehouse tables
(the issue-11 tables of other branches are built here by hand against the shared contract): one
row per day, the recommendation of each day's champion state, the markdown in each partition's
metadata, the files in the artifact store, a one-day run equal to the range run and a rerun
leaving the table and the files unchanged."""

from datetime import date, timedelta

import dagster as dg
import polars as pl
import pytest

from nba_props.defs.health.steering import CHAMPION, steering_report
from nba_props.io.artifacts import ArtifactStoreResource, LocalArtifactStore
from nba_props.io.io_manager import DuckDBPolarsIOManager, WarehouseResource
from nba_props.io.warehouse import Warehouse
from nba_props.lib import tables
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
