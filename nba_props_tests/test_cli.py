"""The `nba-props` command: backfill prints rows and seconds per asset and records the run."""


import dagster as dg

from nba_props.cli import main


def test_backfill_prints_rows_and_seconds_per_asset_and_records_one_run(nba_home, capsys):
    assert main(["backfill", "--start", "2024-10-22", "--end", "2024-10-24"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line and not line.startswith(("asset", "wall"))}
    assert set(lines) == {
        "schedule", "box_scores", "prop_line_snapshots", "injury_report", "player_lines", "player_features",
        "predictions",
    }
    for asset, figures in lines.items():
        if asset == "player_features":
            # Opening days of a league with no prior season: few players have 5 games yet.
            assert figures[3:] in (["ok"], ["warn:", "ready_share_above_floor"]), figures
        else:
            assert figures[3] == "ok", (asset, figures)
    assert int(lines["box_scores"][1]) > 0 and int(lines["player_features"][1]) > 0
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
