"""The `nba-props` command: backfill prints rows and seconds per asset and records the run."""

import dagster as dg

from nba_props.cli import main
from nba_props.lib.publish import load_publish_config


def test_backfill_prints_rows_and_seconds_per_asset_and_records_one_run(nba_home, capsys):
    assert main(["backfill", "--start", "2024-10-22", "--end", "2024-10-24"]) == 0
    out = capsys.readouterr().out
    lines = {
        line.split()[0]: line.split() for line in out.splitlines() if line and not line.startswith(("asset", "wall"))
    }
    assert set(lines) == {
        "schedule",
        "box_scores",
        "prop_line_snapshots",
        "injury_report",
        "player_lines",
        "player_features",
        "predictions",
        "prediction_accuracy",
        "model_performance_daily",
        "pre_game_signal",
        "market_regime",
        "signal_tags",
        "signal_health_daily",
        "best_bets",
        "published_picks",
        "pick_accuracy",
        "steering_report",
        "publish",  # the publish assets' one step (config/publish.yaml)
    }
    for asset, figures in lines.items():
        if asset == "player_features":
            # Opening days of a league with no prior season: few players have 5 games yet.
            assert figures[3:] in (["ok"], ["warn:", "ready_share_above_floor"]), figures
        else:
            assert figures[3] == "ok", (asset, figures)
    assert int(lines["box_scores"][1]) > 0 and int(lines["player_features"][1]) > 0
    # the publish step's rows: a row per file of each asset, each of the 3 days
    config = load_publish_config()
    assert int(lines["publish"][1]) == 3 * sum(len(config.files_of(a)) for a in config.assets)
    # The run lands in the project-local DAGSTER_HOME, so `make ui` shows it.
    with dg.DagsterInstance.from_config(str(nba_home / "dagster_home")) as instance:
        runs = instance.get_runs()
        assert len(runs) == 1
        assert runs[0].tags["dagster/asset_partition_range_start"] == "2024-10-22"


def test_backfill_selection_runs_only_the_named_assets(nba_home, capsys):
    assert main(["backfill", "--start", "2024-10-22", "--end", "2024-10-22", "--select", "schedule"]) == 0
    out = capsys.readouterr().out
    assert "schedule" in out and "box_scores" not in out


def test_simulate_writes_the_raw_layout(tmp_path, capsys):
    assert main(["simulate", "--season", "2024-25", "--seed", "3", "--days", "2", "--out", str(tmp_path)]) == 0
    assert list((tmp_path / "box_scores").glob("player_logs_2024-25.csv"))
    assert list((tmp_path / "odds" / "the_odds_api_snapshots").glob("raw_*.csv"))
    assert list((tmp_path / "schedule").glob("*.json"))


def test_tables_lists_row_counts(nba_home, capsys):
    main(["backfill", "--start", "2024-10-22", "--end", "2024-10-22", "--select", "schedule"])
    capsys.readouterr()
    assert main(["tables"]) == 0
    assert "nba_props.schedule" in capsys.readouterr().out


def test_backfill_with_explicit_settings_uses_them_and_leaves_the_environment_alone(nba_home, tmp_path, sim_data_dir):
    import os
    from datetime import date

    from nba_props.cli import run_backfill
    from nba_props.io.warehouse import Warehouse
    from nba_props.settings import load_settings

    environment = dict(os.environ)
    other = load_settings(home=tmp_path / "other", provider="files", data_dir=sim_data_dir)
    summary = run_backfill(date(2024, 10, 22), date(2024, 10, 22), select=["schedule"], settings=other,
                           dagster_home=tmp_path / "other_dagster")  # fmt: skip
    assert set(summary) == {"schedule"} and not summary["schedule"].get("failed")
    assert dict(os.environ) == environment
    assert Warehouse(other.duckdb_path).row_counts()["schedule"] > 0
    assert not (nba_home / "warehouse.duckdb").exists()  # the environment's warehouse was not touched
    with dg.DagsterInstance.from_config(str(tmp_path / "other_dagster")) as instance:
        assert len(instance.get_runs()) == 1
        (record,) = instance.fetch_materializations(dg.AssetKey("schedule"), limit=1).records
        # the run's metadata records the settings it ran with, not the environment's
        assert record.asset_materialization.metadata["settings"].value["home"] == str(other.home)
    assert not (nba_home / "dagster_home").exists()
