"""`best_bets` materialized from hand-written stand-in tables (predictions, signal_tags,
player_lines, player_features, model_performance_daily, signal_health_daily, prediction_accuracy):
two days in one single-run backfill, the gate closing on the second (the champion BLOCKED the day
before), per-partition metadata that plots, the checks, and reruns leaving the table unchanged."""

from datetime import date, timedelta

import dagster as dg
import polars as pl

from nba_props.defs.picks.best_bets import ASSET, CONFIG, best_bets
from nba_props.defs.picks.best_bets import SEED as CHAMPION
from nba_props.io.io_manager import DuckDBPolarsIOManager, WarehouseResource
from nba_props.io.warehouse import Warehouse
from nba_props.lib import schemas, selection, tables
from nba_props.partitions import game_date_partitions
from nba_props_tests.test_selection import graded, lines_for, pred, tags_for

D1, D2 = date(2025, 12, 9), date(2025, 12, 10)


def spec(name: str) -> dg.AssetSpec:
    return dg.AssetSpec(name, partitions_def=game_date_partitions, metadata={"partition_expr": "game_date"})


UPSTREAM = ["predictions", "signal_tags", "player_lines", "player_features", "model_performance_daily",
            "signal_health_daily", "prediction_accuracy"]  # fmt: skip
ASSETS = [best_bets, *(spec(n) for n in UPSTREAM)]


def day_rows(day: date) -> list[dict]:
    g = f"{day:%Y%m%d}_AAA_BBB"
    return [
        pred("star", "v12_mae", 6.5, "OVER", day=day, game=g),  # ultra, selected
        pred("star", "v9_mae", 3.5, "OVER", day=day, game=g),  # the champion agrees (smaller edge)
        pred("role", "v9_mae", 5.2, "UNDER", day=day, game=g, line=18.5),  # non-v12 UNDER below 7: rejected
        pred("bench", "v12_noveg_mae", 5.0, "OVER", day=day, game=g, line=9.5),  # exactly the floor: selected, ultra
        pred("thin", "v12_mae", 4.0, "OVER", day=day, game=g),  # below the floor
    ]


def write(database: str, table: str, frame: pl.DataFrame, start: date, end: date) -> None:
    declared = tables.TABLE_SCHEMAS.get(table)
    if declared is not None:
        frame = schemas.conform(frame, declared, missing="null", extra="drop")
    Warehouse(database).replace_partitions(table, frame, start=start, end=end, declared=declared or frame.schema)


def write_inputs(database: str) -> None:
    rows = day_rows(D1) + day_rows(D2)
    preds = pl.DataFrame([{c: r[c] for c in tables.TABLE_SCHEMAS["predictions"] if c in r} for r in rows])
    write(database, "predictions", preds.with_columns(pl.lit(None, dtype=pl.Utf8).alias("quarantine_reason")), D1, D2)
    tags = tags_for(rows).join(pl.DataFrame({"game_id": [r["game_id"] for r in rows], "gd": [r["game_date"] for r in rows]}).unique(), on="game_id")  # fmt: skip
    write(database, "signal_tags", tags.rename({"gd": "game_date"}), D1, D2)
    lines = lines_for(rows).with_columns(pl.col("game_id").str.slice(0, 8).str.to_date("%Y%m%d").alias("game_date"))
    write(database, "player_lines", lines, D1, D2)
    keys = lines.select("game_date", "game_id", "player_lookup")
    write(database, "player_features", keys.with_columns(pl.lit(92.0).alias("feature_quality_score")), D1, D2)
    health = pl.DataFrame(
        {"game_date": [D1 - timedelta(days=1), D1], "family": [CHAMPION] * 2, "state": ["HEALTHY", "BLOCKED"]}
    )
    write(database, "model_performance_daily", health, D1 - timedelta(days=1), D1)
    signal_health = pl.DataFrame(
        {
            "game_date": [D1 - timedelta(days=1)],
            "name": ["high_edge"],
            "kind": ["signal"],
            "hr_season": [0.6],
            "n_season": [25],
        }  # fmt: skip
    )
    write(database, "signal_health_daily", signal_health, D1 - timedelta(days=1), D1 - timedelta(days=1))
    history = graded(20, 15, family="v12_mae", direction="OVER", edge=6.5, before=D1, tag="u")
    history += [r | {"game_date": D1} for r in graded(10, 10, family="v12_mae", direction="OVER", edge=6.5, tag="w")]
    acc = pl.DataFrame(history).with_columns(
        (pl.col("game_id") + "_x").alias("game_id"), pl.lit("final").alias("game_status")
    )
    write(database, "prediction_accuracy", acc, D1 - timedelta(days=40), D1)


def resources(database: str) -> dict[str, object]:
    warehouse = WarehouseResource(database=database)
    return {"io_manager": DuckDBPolarsIOManager(storage=warehouse), "warehouse": warehouse}


def materialize(database: str, instance, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(ASSETS, resources=resources(database), instance=instance, selection=[ASSET], **kwargs)


def stored(database: str) -> pl.DataFrame:
    return Warehouse(database).load(ASSET, declared=tables.TABLE_SCHEMAS[ASSET]).sort("game_date", "player_lookup")


def test_best_bets_materializes_two_days_with_the_gate_closing_and_reruns_change_nothing(tmp_path):
    database = str(tmp_path / "w.duckdb")
    write_inputs(database)
    tags = {"dagster/asset_partition_range_start": D1.isoformat(), "dagster/asset_partition_range_end": D2.isoformat()}
    with dg.instance_for_test() as instance:
        result = materialize(database, instance, tags=tags)
        assert result.success
        first = stored(database)
        assert first.height == 8  # 4 candidate player-games a day ("star" once)
        d1 = {r["player_lookup"]: r for r in first.filter(pl.col("game_date") == D1).iter_rows(named=True)}
        assert (d1["star"]["selected"], d1["star"]["rank"], d1["star"]["ultra_rule"]) == (True, 1, "v12_edge_6")
        assert d1["star"]["champion_edge"] == 3.5 and d1["star"]["signals"] == ["high_edge", "model_health"]
        assert d1["star"]["price"] == -110 and d1["role"]["price"] == -105
        assert (d1["bench"]["selected"], d1["bench"]["rank"], d1["bench"]["ultra_rule"]) == (True, 2, "v12_over_edge_5")
        assert d1["role"]["rejected_by"] == "under_edge_non_v12" and d1["thin"]["rejected_by"] == "edge_floor"
        # D1 sees 20 graded ultra OVER candidates before it (15 wins); D1's own grading only serves D2
        assert d1["star"]["angles"][0] == "Ultra (top edge): 75.0% live hit rate this season (N=20)"
        assert "high_edge: 60.0% this season (N=25)" in d1["star"]["angles"]
        assert d1["star"]["ultra_public"] is False  # 20 graded ultra OVERs < 50
        d2 = first.filter(pl.col("game_date") == D2)
        assert d2.get_column("health_gate_active").all() and not d2.get_column("selected").any()
        assert d2.get_column("health_gate_reason").unique().to_list() == [
            f"champion {CHAMPION} was BLOCKED on {D1}: no picks"
        ]
        d2_star = d2.filter(pl.col("player_lookup") == "star").row(0, named=True)
        assert d2_star["angles"][0] == "Ultra (top edge): 83.3% live hit rate this season (N=30)"

        events = {e.partition: e.materialization.metadata for e in result.get_asset_materialization_events()}
        m1, m2 = events[D1.isoformat()], events[D2.isoformat()]
        assert (m1["candidates"].value, m1["selected"].value, m1["ultra"].value, m1["health_gate"].value) == (
            4,
            2,
            2,
            0,
        )
        assert (m2["selected"].value, m2["health_gate"].value) == (0, 1)
        assert (m1["ultra_live_n"].value, m1["ultra_live_hr"].value, m1["ultra_over_public"].value) == (20, 0.75, 0)
        assert (m2["ultra_over_live_n"].value, m2["ultra_over_live_hr"].value) == (30, 25 / 30)
        assert m1["rejected_edge_floor"].value == 1 and m1["rejected_under_edge_non_v12"].value == 1
        assert m1["would_block_model_direction_affinity"].value == 0
        assert "| edge_floor | enforce | 1 | 1 |" in m1["filter_summary"].value
        assert "| model_direction_affinity | observe | 0 | 0 |" in m1["filter_summary"].value
        assert m1["picks"].value.splitlines()[2].startswith("| 1 | STAR | OVER | 20.5 | 6.50 | v12_mae | yes |")
        assert "BLOCKED" in m2["health_gate_reason"].value
        checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
        assert checks == {"unique_key": True, "ranks_contiguous": True, "gate_closed_no_picks": True,
                          "edge_floor_selected": True, "angles_quote_computed_figures": True}  # fmt: skip

        assert materialize(database, instance, partition_key=D1.isoformat()).success  # one day again
        assert stored(database).equals(first)
        assert materialize(database, instance, tags=tags).success  # the whole range again
        assert stored(database).equals(first)


def test_the_asset_reads_health_the_day_before_and_history_before_the_day():
    ins = best_bets.node_def.input_defs
    assert {i.name for i in ins} >= {"predictions", "signal_tags", "performance", "signal_health", "accuracy"}
    mappings = {dep.asset_key.to_user_string(): dep.partition_mapping for dep in best_bets.specs_by_key[
        dg.AssetKey(ASSET)].deps}  # fmt: skip
    assert (mappings["model_performance_daily"].start_offset, mappings["model_performance_daily"].end_offset) == (
        -1,
        -1,
    )
    assert (mappings["signal_health_daily"].start_offset, mappings["signal_health_daily"].end_offset) == (-1, -1)
    accuracy = mappings["prediction_accuracy"]
    assert accuracy.end_offset == -1 and -accuracy.start_offset >= 366  # a whole season before the day
    assert mappings["predictions"] is None or getattr(mappings["predictions"], "start_offset", 0) == 0
    assert CONFIG.filter("edge_floor").mode == selection.ENFORCE
