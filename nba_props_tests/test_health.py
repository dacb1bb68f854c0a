"""`model_performance_daily` materialized from a hand-built `prediction_accuracy` table (the real
asset is built by the grading stage): per-partition metadata that plots, the day's states as
markdown, a backfill equal to one-day runs and a rerun leaving the table unchanged, and the
`champion_health` business check routed by the alerts sensor as kind `model_health` (opened,
then recovered)."""

import json
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from nba_props import definitions
from nba_props.alerts import AlertSink
from nba_props.automation import apply_automation
from nba_props.defs.alerts.sensor import alerts_sensor
from nba_props.defs.health.assets import FAMILIES, model_performance_daily
from nba_props.defs.health.assets import SEED as CHAMPION
from nba_props.io.io_manager import DuckDBPolarsIOManager, WarehouseResource
from nba_props.io.warehouse import Warehouse
from nba_props.lib import tables
from nba_props.lib.alerts import ALERTS_SCHEMA
from nba_props.lib.automation import load_automation_config
from nba_props.lib.health import ACCURACY_CONTRACT
from nba_props.partitions import game_date_partitions, training_week_partitions
from nba_props.resources import SettingsResource
from nba_props_tests.test_automation import TODAY, WEEK, YESTERDAY, Ticks, mat

ASSET = "model_performance_daily"
DAYS = [date(2025, 11, 3) + timedelta(days=i) for i in range(7)]  # Monday .. Sunday
OTHER = "v12_mae"
trained_models_spec = dg.AssetSpec(
    "trained_models", partitions_def=training_week_partitions, metadata={"partition_expr": "week_start"}
)


def accuracy_rows(champion_wins: int) -> pl.DataFrame:
    """Each day: the champion `champion_wins` of 10 picks, the other family 6 of 10; odd players
    have real prices, even ones none (DFS); plus one PASS and one quarantined row per family."""
    rows = []
    for day in DAYS:
        for family, wins in ((CHAMPION, champion_wins), (OTHER, 6)):
            for i in range(12):
                win = i < wins
                rows.append(
                    {
                        "game_date": day,
                        "game_id": f"g{day:%m%d}",
                        "player_lookup": f"p{i}",
                        "model_id": f"{family}_2025-11-03",
                        "family": family,
                        "predicted_points": 24.0,
                        "actual_points": 26.0 if win else 14.0,
                        "line": 20.5,
                        "market_type": "sportsbook" if i % 2 else "dfs",
                        "edge": 3.5,
                        "direction": "OVER",
                        "p_over": 0.62,
                        "confidence": 0.24,
                        "recommendation": "PASS" if i == 10 else "OVER",
                        "quarantined": i == 11,
                        "over_price": -115 if i % 2 else None,
                        "under_price": -105 if i % 2 else None,
                        "price": -115 if i % 2 else None,
                        "game_status": "final",
                        "result": "WIN" if win else "LOSS",
                        "abs_error": abs(24.0 - (26.0 if win else 14.0)),
                        "signed_error": 24.0 - (26.0 if win else 14.0),
                    }
                )
    return pl.DataFrame([{c: r.get(c) for c in ACCURACY_CONTRACT.names()} for r in rows], schema=ACCURACY_CONTRACT)


def write_inputs(database: str, champion_wins: int) -> None:
    store = Warehouse(database)
    store.replace_partitions(
        "prediction_accuracy", accuracy_rows(champion_wins), start=DAYS[0], end=DAYS[-1], declared=ACCURACY_CONTRACT
    )
    schema = tables.TABLE_SCHEMAS["trained_models"]
    registry = pl.DataFrame(
        {"week_start": [date(2025, 10, 27)] * 2, "model_id": ["c_1027", "o_1027"], "family": [CHAMPION, OTHER]}
    ).with_columns([pl.lit(None, dtype=dtype).alias(name) for name, dtype in schema.items()
                    if name not in ("week_start", "model_id", "family")]).select(schema.names())  # fmt: skip
    store.replace_partitions(
        "trained_models", registry, start=date(2025, 10, 27), end=date(2025, 10, 27), partition_column="week_start",
        declared=schema,
    )  # fmt: skip


# the graded predictions come from a hand-built table here (the real asset grades a predictions partition)
prediction_accuracy_table = dg.AssetSpec(
    "prediction_accuracy", partitions_def=game_date_partitions, metadata={"partition_expr": "game_date"}
)
ASSETS = [model_performance_daily, prediction_accuracy_table, trained_models_spec]


def resources(database: str) -> dict[str, object]:
    warehouse = WarehouseResource(database=database)
    return {
        "io_manager": DuckDBPolarsIOManager(storage=warehouse),
        "warehouse": warehouse,
        "settings": SettingsResource(public={}),
    }


def materialize(database: str, instance, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        resources=resources(database),
        instance=instance,
        selection=[ASSET],
        **kwargs,
    )


def backfill(database: str, instance) -> dg.ExecuteInProcessResult:
    tags = {
        "dagster/asset_partition_range_start": DAYS[0].isoformat(),
        "dagster/asset_partition_range_end": DAYS[-1].isoformat(),
    }
    return materialize(database, instance, tags=tags)


def stored(database: str) -> pl.DataFrame:
    return Warehouse(database).load(ASSET, declared=tables.TABLE_SCHEMAS[ASSET]).sort("game_date", "family")


def test_backfill_equals_one_day_runs_and_reruns_change_nothing(tmp_path):
    database = str(tmp_path / "w.duckdb")
    write_inputs(database, champion_wins=7)
    with dg.instance_for_test() as instance:
        result = backfill(database, instance)
        assert result.success
        first = stored(database)
        # every enabled family has a row every day (no rows: INSUFFICIENT_DATA)
        assert first.height == 7 * len(FAMILIES)
        assert set(first.get_column("family")) == set(FAMILIES)
        assert materialize(database, instance, partition_key="2025-11-05").success  # one day again
        assert backfill(database, instance).success  # the whole range again
        assert stored(database).equals(first)

        r = first.filter((pl.col("game_date") == DAYS[-1]) & (pl.col("family") == CHAMPION)).row(0, named=True)
        # 7 days x 10 counted picks (PASS and quarantined rows excluded), 7 wins a day
        assert (r["wins_7d"], r["losses_7d"], r["n_day"]) == (49, 21, 10)
        assert (r["state"], r["days_since_training"], r["staleness"]) == ("HEALTHY", 13, "OVERDUE")
        assert r["default_priced_day"] == 5  # the even players have no price: -110 assumed
        # each partition carries its own figures and the day's states as markdown
        events = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(ASSET)]
        assert len(events) == 7
        by_key = {e.partition: e.materialization.metadata for e in events}
        md = by_key["2025-11-03"]
        assert md["champion_n_7d"].value == 10 and md["champion_hr_7d"].value == 0.7
        assert md["champion_state"].value == "HEALTHY" and md[f"state_{OTHER}"].value == "HEALTHY"
        assert by_key["2025-11-09"]["champion_n_7d"].value == 70
        assert "| **v9_mae** (champion) | HEALTHY |" in md["model_states"].value
        assert md["champion_state_rank"].value == 3  # HEALTHY plots as 3 (BLOCKED 0)
        # the run's last day carries the champion's season timeline, newest first, from its first
        # day with a counted pick of the season (11-03; opening night 10-21 .. 11-02 say nothing)
        assert "champion_season_timeline" not in md
        timeline = by_key["2025-11-09"]["champion_season_timeline"].value.splitlines()
        assert len(timeline) == 2 + len(DAYS)
        # each day's chosen champion is named (no switch here: the seed all along)
        assert timeline[2].startswith(f"| 2025-11-09 | {CHAMPION} | HEALTHY | 70.0% | 70 |")
        assert timeline[-1].startswith(f"| 2025-11-03 | {CHAMPION} | HEALTHY | 70.0% | 10 |")
        assert md["champion"].value == CHAMPION and md["champion_switch"].value == 0
        assert [line for line in timeline if "RECOVERED" in line or "DEGRADED" in line] == []
        checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
        assert checks["champion_health"].passed and checks["unique_key"].passed and checks["counts_consistent"].passed


class Sensor:
    def __init__(self, instance, sink, database):
        self.instance, self.sink, self.cursor = instance, sink, None
        self.defs = dg.Definitions(assets=ASSETS, resources=resources(database))

    def tick(self) -> dict:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"alert_sink": self.sink}, definitions=self.defs
        )
        alerts_sensor(context)
        self.cursor = context.cursor
        return json.loads(self.cursor)


def test_champion_health_is_a_model_health_alert_then_recovers(tmp_path):
    rules = load_automation_config().alerts
    assert rules.business_kind(ASSET, "champion_health") == "model_health"
    assert rules.business_kind(ASSET, "unique_key") is None
    database = str(tmp_path / "w.duckdb")
    sink = AlertSink(database=str(tmp_path / "alerts.duckdb"))
    with dg.instance_for_test() as instance:
        sensor = Sensor(instance, sink, database)
        write_inputs(database, champion_wins=5)  # 50%: BLOCKED
        result = materialize(database, instance, partition_key="2025-11-09")
        assert result.success  # a WARN check: the run (and the data) are fine
        [check] = [c for c in result.get_asset_check_evaluations() if c.check_name == "champion_health"]
        assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
        assert check.description.startswith(f"champion {CHAMPION} BLOCKED on 2025-11-09")
        state = sensor.tick()
        assert len(state["open"]) == 1
        frame = Warehouse(sink.database).load("alerts", declared=ALERTS_SCHEMA, partition_column="raised_at")
        assert frame.select("kind", "asset", "partition", "check", "status").rows() == [
            ("model_health", ASSET, "2025-11-09", "champion_health", "open")
        ]
        assert "BLOCKED" in frame.get_column("message").item()
        write_inputs(database, champion_wins=7)  # the same day re-graded: HEALTHY
        assert materialize(database, instance, partition_key="2025-11-09").success
        state = sensor.tick()
        assert state["open"] == {}
        frame = Warehouse(sink.database).load("alerts", declared=ALERTS_SCHEMA, partition_column="raised_at")
        assert frame.select("kind", "status").rows() == [("model_health", "recovered")]


@pytest.fixture(scope="module")
def automated_defs(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NBA_PROPS_HOME", str(tmp_path_factory.mktemp("home")))
        yield apply_automation(dg.load_from_defs_folder(path_within_project=Path(definitions.__file__).parent))


def test_automation_follows_the_grading_not_the_new_day(automated_defs, tmp_path):
    """A post-game asset: the new day's partition alone requests nothing (nothing is graded at
    midnight); yesterday's grading landing requests yesterday (and today) through the lookback."""
    graph = automated_defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey(ASSET)).automation_condition is not None
    with dg.instance_for_test() as instance:
        _follow_the_grading(automated_defs, instance)


def _follow_the_grading(defs, instance):
    tick = Ticks(defs, instance)
    assert tick(23, 0, day=14) == {}  # bookkeeping
    mat(instance, "trained_models", WEEK)
    assert ASSET not in tick(23, 5, day=14)  # a new model is context, not a reason to run
    assert ASSET not in tick(0, 10, day=15)  # the 15th exists now: not requested for that alone
    mat(instance, "prediction_accuracy", YESTERDAY)  # the 14th's games graded overnight
    assert tick(7, 0, day=15)[ASSET] == {YESTERDAY, TODAY}
    assert ASSET not in tick(7, 5, day=15)  # handled
