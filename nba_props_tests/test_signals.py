"""`signal_tags` and `signal_health_daily` materialized from hand-written warehouse tables
(predictions, player_features, player_lines, model_performance_daily, prediction_accuracy as
stand-in upstream specs): the rows by hand, per-partition metadata that plots, the checks, a
backfill equal to one-day runs and reruns leaving both tables unchanged."""

from datetime import date, timedelta

import dagster as dg
import polars as pl

from nba_props.defs.health.signals import signal_health_daily
from nba_props.defs.picks.signals import signal_tags
from nba_props.io.io_manager import DuckDBPolarsIOManager, WarehouseResource
from nba_props.io.warehouse import Warehouse
from nba_props.lib import tables
from nba_props.lib.schemas import conform
from nba_props.lib.signals import load_signal_registry
from nba_props.partitions import game_date_partitions

DAYS = [date(2025, 11, 3) + timedelta(days=i) for i in range(5)]
MODELS = {"m_v9": "v9_mae", "m_v12": "v12_mae"}
UPSTREAM = ("predictions", "player_features", "player_lines", "model_performance_daily", "prediction_accuracy")
SPECS = [
    dg.AssetSpec(name, partitions_def=game_date_partitions, metadata={"partition_expr": "game_date"})
    for name in UPSTREAM
]
ASSETS = [signal_tags, signal_health_daily, *SPECS]
TARGETS = ["signal_tags", "signal_health_daily"]

# per player: direction, edge, confidence, recommendation, is_home, books, line std
PLAYERS = {
    "p0": ("OVER", 6.0, 0.75, "OVER", False, 6, 2.0),  # high_edge, edge_spread_optimal, book_disagreement
    "p1": ("UNDER", 3.5, 0.30, "UNDER", True, 3, 0.5),  # home_under (shadow)
    "p2": ("OVER", 7.0, 0.80, "PASS", False, 3, 0.5),  # not a candidate
    "p3": ("OVER", 5.0, 0.89, "OVER", False, 3, 0.5),  # high_edge only (0.89 is in the excluded band)
}


def result_of(player: str, i: int) -> str:
    return {"p0": "WIN", "p1": "LOSS", "p2": "WIN", "p3": "WIN" if i % 2 == 0 else "LOSS"}[player]


def write_inputs(database: str) -> None:
    store = Warehouse(database)
    preds, feats, lines, perf, acc = [], [], [], [], []
    for i, day in enumerate(DAYS):
        game = f"{day:%Y%m%d}_AAA_BBB"
        for player, (direction, edge, confidence, recommendation, home, books, std) in PLAYERS.items():
            key = {"game_date": day, "game_id": game, "player_lookup": player}
            for model, family in MODELS.items():
                p_over = 0.5 + confidence / 2 if direction == "OVER" else 0.5 - confidence / 2
                pred = {**key, "model_id": model, "family": family, "predicted_points": 20.5 + edge, "line": 20.5,
                        "market_type": "sportsbook", "edge": edge, "direction": direction, "p_over": p_over,
                        "confidence": confidence, "recommendation": recommendation, "quarantined": False}  # fmt: skip
                preds.append(pred)
                acc.append({**pred, "result": result_of(player, i), "game_status": "final", "price": -110})
            feats.append({**key, "days_rest": 2.0, "days_rest__source": "schedule"})
            lines.append({**key, "is_home": home, "n_books": books, "multi_book_line_std": std, "line": 20.5})
        perf.append({"game_date": day - timedelta(days=1), "family": "v9_mae", "state": "HEALTHY", "hr_7d": 0.6,
                     "n_7d": 40})  # fmt: skip
    first, last = DAYS[0] - timedelta(days=1), DAYS[-1]
    for table, rows in (("predictions", preds), ("player_features", feats), ("player_lines", lines),
                        ("model_performance_daily", perf), ("prediction_accuracy", acc)):  # fmt: skip
        schema = tables.TABLE_SCHEMAS[table]
        store.replace_partitions(table, conform(pl.DataFrame(rows), schema), start=first, end=last, declared=schema)


def resources(database: str) -> dict[str, object]:
    warehouse = WarehouseResource(database=database)
    return {"io_manager": DuckDBPolarsIOManager(storage=warehouse), "warehouse": warehouse}


def materialize(database: str, instance, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(ASSETS, resources=resources(database), instance=instance, selection=TARGETS, **kwargs)


def backfill(database: str, instance) -> dg.ExecuteInProcessResult:
    tags = {
        "dagster/asset_partition_range_start": DAYS[0].isoformat(),
        "dagster/asset_partition_range_end": DAYS[-1].isoformat(),
    }
    return materialize(database, instance, tags=tags)


def stored(database: str, table: str) -> pl.DataFrame:
    return Warehouse(database).load(table, declared=tables.TABLE_SCHEMAS[table]).sort(tables.TABLE_KEYS[table])


def test_signal_assets_backfill_metadata_checks_and_reruns(tmp_path):
    database = str(tmp_path / "w.duckdb")
    write_inputs(database)
    with dg.instance_for_test() as instance:
        result = backfill(database, instance)
        assert result.success
        tags, health = stored(database, "signal_tags"), stored(database, "signal_health_daily")
        assert materialize(database, instance, partition_key=DAYS[2].isoformat()).success  # one day again
        assert backfill(database, instance).success  # the whole range again
        assert stored(database, "signal_tags").equals(tags)
        assert stored(database, "signal_health_daily").equals(health)

    # the tags by hand: per model and day p0 4 tags, p1 2, p3 2 (p2 is a PASS)
    per_player = tags.filter(pl.col("game_date") == DAYS[0]).group_by("player_lookup").agg(pl.col("signal").unique())
    signals_of = {p: set(s) for p, s in per_player.iter_rows()}
    assert signals_of == {
        "p0": {"model_health", "high_edge", "edge_spread_optimal", "book_disagreement"},
        "p1": {"model_health", "home_under"},
        "p3": {"model_health", "high_edge"},
    }
    assert tags.height == 5 * 2 * 8
    detail = tags.filter((pl.col("signal") == "model_health") & (pl.col("model_id") == "m_v9")).get_column("detail")
    assert set(detail) == {f"v9_mae HEALTHY on {d - timedelta(days=1)} (7d HR 60.0%, N 40)" for d in DAYS}
    assert set(tags.filter(pl.col("family") == "v12_mae", pl.col("signal") == "model_health").get_column("detail")) == {
        "no health row"
    }

    # health on the last day, units counted once over the two models
    last = {r["name"]: r for r in health.filter(pl.col("game_date") == DAYS[-1]).iter_rows(named=True)}
    assert "home_under" in last and last["home_under"]["state"] == "shadow"
    assert (last["high_edge"]["wins_7d"], last["high_edge"]["losses_7d"]) == (8, 2)  # p0 5-0, p3 3-2
    assert (last["model_health"]["wins_season"], last["model_health"]["losses_season"]) == (8, 7)
    assert (last["home_under"]["wins_7d"], last["home_under"]["losses_7d"]) == (0, 5)
    assert (last["high_edge_split_books"]["kind"], last["high_edge_split_books"]["n_7d"]) == ("combo", 5)
    assert last["high_edge"]["hr_7d"] == 0.8

    # per-partition metadata: numbers that plot and the day's markdown tables
    events = {e.partition: e.materialization.metadata for e in result.get_asset_materialization_events()
              if e.asset_key == dg.AssetKey("signal_tags")}  # fmt: skip
    assert len(events) == 5
    md = events[DAYS[0].isoformat()]
    assert (md["tags_high_edge"].value, md["candidates"].value, md["shadow_tags"].value) == (4, 6, 2)
    assert "| high_edge | active | 4 | 2 | 4 | 0 |" in md["signal_counts"].value
    health_events = {e.partition: e.materialization.metadata for e in result.get_asset_materialization_events()
                     if e.asset_key == dg.AssetKey("signal_health_daily")}  # fmt: skip
    hmd = health_events[DAYS[-1].isoformat()]
    assert hmd["n_7d_high_edge"].value == 10 and hmd["hr_7d_high_edge"].value == 0.8
    assert "| high_edge | signal | active | 80.0% (10) |" in hmd["signal_health"].value
    checks = {(c.asset_key.path[-1], c.check_name): c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {
        ("signal_tags", "unique_key"): True,
        ("signal_tags", "registered_signals"): True,
        ("signal_tags", "confidence_scale"): True,
        ("signal_health_daily", "unique_key"): True,
        ("signal_health_daily", "counts_consistent"): True,
    }


def test_windows_are_derived_from_the_config():
    # model health: the day before only (as of X - 1); signal health: the windows' and a season's reach
    health = signal_tags.get_partition_mapping(dg.AssetKey("model_performance_daily"))
    assert (health.start_offset, health.end_offset) == (-1, -1)
    rules = load_signal_registry().health
    assert rules.history_days == max(max(rules.windows), 366) == 366
    for upstream in ("signal_tags", "prediction_accuracy"):
        mapping = signal_health_daily.get_partition_mapping(dg.AssetKey(upstream))
        assert (mapping.start_offset, mapping.end_offset) == (-(rules.history_days - 1), 0)
