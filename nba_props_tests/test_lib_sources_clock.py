"""The provider reveals data as of a clock (results after the games end, box scores after their
publication delay, withheld dates), and its cheap polling helpers. Simulated league (seed 11, first
12 days from 2024-10-22): on 2024-10-25 the games tip 23:00 UTC (CLE@IND), 23:30 (ATL@PHI, SAC@WAS),
00:00 / 01:00 (+1 day) and 02:00 (LAL@LAC, SAS@GSW); rules: final at tip + 2 h 45, box scores at
tip + 3 h (config/sensors.yaml)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
import pytest

from nba_props.lib.sensing import load_sensor_config
from nba_props.lib.sources.files import FilesProvider
from nba_props.resources import ProviderResource
from nba_props_tests.conftest import shared_data_or_skip

DAY = date(2024, 10, 25)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def provider(sim_data_dir) -> FilesProvider:
    return FilesProvider(sim_data_dir)


def test_config_numbers_are_the_rules_used():
    rules = load_sensor_config().reveal
    assert (rules.game_duration_minutes, rules.box_score_delay_minutes) == (165, 180)
    assert rules.unknown_tip_et.isoformat() == "22:30:00"


def test_schedule_as_of_hides_results_of_games_not_yet_over(provider):
    everything = provider.schedule(DAY, DAY).rows
    assert everything.height == 9 and set(everything["status"]) == {"final"}
    status = dict(
        provider.schedule(DAY, DAY, as_of=utc(2024, 10, 26, 2, 0)).rows.select("game_id", "status").iter_rows()
    )
    assert status["20241025_CLE_IND"] == "final"  # 23:00 + 2:45 = 01:45 <= 02:00
    assert status["20241025_ATL_PHI"] == "live"  # 23:30 + 2:45 = 02:15 > 02:00, tipped
    assert status["20241025_LAL_LAC"] == "live"  # tips exactly at 02:00
    before = provider.schedule(DAY, DAY, as_of=utc(2024, 10, 25, 22, 59))
    assert set(before.rows["status"]) == {"scheduled"}
    assert before.rows["away_points"].null_count() == 9 and before.skipped["result_not_yet_known"] == 9
    after = provider.schedule(DAY, DAY, as_of=utc(2024, 10, 26, 4, 45)).rows  # last final at 02:00 + 2:45
    assert after.equals(everything)


def test_box_scores_as_of_publication_delay(provider):
    everything = provider.box_scores(DAY, DAY).rows
    cle_ind = everything.filter(pl.col("game_id") == "20241025_CLE_IND").height
    assert everything.height == 186 and cle_ind > 0
    early = provider.box_scores(DAY, DAY, as_of=utc(2024, 10, 26, 2, 0))  # CLE@IND published 23:00 + 3:00
    assert set(early.rows["game_id"]) == {"20241025_CLE_IND"} and early.rows.height == cle_ind
    assert early.skipped["not_yet_published"] == 186 - cle_ind
    assert provider.box_scores(DAY, DAY, as_of=utc(2024, 10, 26, 1, 59)).rows.height == 0
    assert provider.box_scores(DAY, DAY, as_of=utc(2024, 10, 26, 5, 0)).rows.equals(everything)


def test_withheld_box_scores_until_an_instant(sim_data_dir):
    resource = ProviderResource(
        provider="files",
        data_dir=str(sim_data_dir),
        box_scores_withheld_until={"2024-10-25": "2024-10-26T14:00:00+00:00"},
    )
    withheld = resource.get()
    assert withheld.box_scores_withheld_until == {DAY: utc(2024, 10, 26, 14, 0)}
    late = withheld.box_scores(DAY, DAY, as_of=utc(2024, 10, 26, 13, 59))
    assert late.rows.height == 0 and late.skipped["not_yet_published"] == 186
    assert withheld.box_scores(DAY, DAY, as_of=utc(2024, 10, 26, 14, 0)).rows.height == 186
    assert withheld.box_scores(DAY, DAY).rows.height == 186  # no clock: no limit
    # other dates are not affected, and the schedule still says final
    assert withheld.box_scores(date(2024, 10, 24), date(2024, 10, 24), as_of=utc(2024, 10, 26, 5, 0)).rows.height > 0
    states = withheld.game_states(DAY, DAY, as_of=utc(2024, 10, 26, 13, 0))
    assert set(states["status"]) == {"final"} and not states["box_score_available"].any()
    assert withheld.game_states(DAY, DAY, as_of=utc(2024, 10, 26, 14, 0))["box_score_available"].all()


def test_game_states_follow_the_clock(provider):
    states = provider.game_states(DAY, DAY, as_of=utc(2024, 10, 26, 2, 0))
    assert states.columns == ["game_date", "game_id", "status", "tip_time_utc", "box_score_available"]
    available = set(states.filter("box_score_available")["game_id"])
    assert available == {"20241025_CLE_IND"}
    # a game of the window the simulation has not played (after its 12 days) is scheduled, no box scores
    future = provider.game_states(date(2024, 11, 3), date(2024, 11, 3))
    assert future.height > 0 and set(future["status"]) == {"scheduled"} and not future["box_score_available"].any()


def test_line_snapshot_and_report_times(provider):
    times = provider.line_snapshot_times(DAY, date(2024, 10, 26), as_of=utc(2024, 10, 25, 15, 0))
    assert times.rows() == [(DAY, utc(2024, 10, 25, 14, 0), "the_odds_api")]  # 10:00 ET, today's games only
    later = provider.line_snapshot_times(DAY, date(2024, 10, 26), as_of=utc(2024, 10, 26, 15, 0))
    assert later.select("game_date", "captured_at").rows() == [
        (DAY, utc(2024, 10, 25, 14, 0)),
        (DAY, utc(2024, 10, 25, 21, 0)),  # 17:00 ET
        (date(2024, 10, 26), utc(2024, 10, 26, 14, 0)),
    ]
    reports = provider.injury_report_times(DAY, DAY)
    assert reports.rows() == [(DAY, utc(2024, 10, 25, 20, 0))]  # 16:00 ET
    assert provider.injury_report_times(DAY, DAY, as_of=utc(2024, 10, 25, 19, 59)).height == 0


def test_as_of_must_be_aware(provider):
    with pytest.raises(ValueError, match="timezone-aware"):
        provider.schedule(DAY, DAY, as_of=datetime(2024, 10, 26, 2, 0))


def test_real_game_states_on_a_known_date():
    """2025-01-15: 11 games in the nba_api schedule CSV (no tip time: assumed 22:30 ET = 03:30 UTC in
    January), all final with box scores in player_logs_2024-25.csv."""
    real = FilesProvider(
        shared_data_or_skip("schedule/2024-25_regular_season.csv", "box_scores/player_logs_2024-25.csv")
    )
    day = date(2025, 1, 15)
    states = real.game_states(day, day)
    assert states.height == 11 and set(states["status"]) == {"final"} and states["box_score_available"].all()
    assert "20250115_NYK_PHI" in set(states["game_id"])
    evening = real.game_states(day, day, as_of=utc(2025, 1, 16, 3, 0))
    assert set(evening["status"]) == {"scheduled"} and not evening["box_score_available"].any()
    ended = real.game_states(day, day, as_of=utc(2025, 1, 16, 6, 15))  # 03:30 + 2:45
    assert set(ended["status"]) == {"final"} and not ended["box_score_available"].any()
    assert real.game_states(day, day, as_of=utc(2025, 1, 16, 6, 30))["box_score_available"].all()


def test_ingest_assets_read_as_of_the_clock(nba_home, monkeypatch):
    """The ingest steps pass `clock.as_of()` to the provider: frozen at 02:00 UTC on 2024-10-26, the
    2024-10-25 run stores only CLE@IND's box scores, and the schedule knows only that game's result."""
    from nba_props import definitions
    from nba_props.io.warehouse import Warehouse
    from nba_props.lib import schemas
    from nba_props.settings import load_settings

    monkeypatch.setenv("NBA_PROPS_CLOCK", "2024-10-26T02:00:00+00:00")
    job = definitions.defs().resolve_job_def("nba_props_daily")
    selection = dg.AssetSelection.assets("schedule", "box_scores").required_multi_asset_neighbors()
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance,
            partition_key=DAY.isoformat(),
            asset_selection=list(selection.resolve(job.asset_layer.asset_graph)),
        )
    assert result.success
    warehouse = Warehouse(load_settings().duckdb_path)
    box = warehouse.load("box_scores", start=DAY, end=DAY, declared=schemas.BOX_SCORES)
    assert set(box["game_id"]) == {"20241025_CLE_IND"}
    schedule = warehouse.load("schedule", start=DAY, end=DAY, declared=schemas.SCHEDULE)
    assert schedule.filter(pl.col("status") == "final")["game_id"].to_list() == ["20241025_CLE_IND"]
    (materialization,) = [
        m for m in result.asset_materializations_for_node("box_scores") if m.asset_key == dg.AssetKey("box_scores")
    ]
    assert materialization.metadata["run_skipped_not_yet_published"].value == 186 - box.height


def test_quarantined_box_rows_show_once_their_date_publishes(tmp_path, sim_data_dir):
    import shutil

    data = tmp_path / "league"
    shutil.copytree(sim_data_dir, data)
    (box_csv,) = (data / "box_scores").glob("player_logs_*.csv")
    header, first = (line.split(",") for line in box_csv.read_text().splitlines()[:2])
    row = dict(zip(header, first, strict=True)) | {"PLAYER_NAME": "Broken Row", "GAME_DATE": "2024-10-25", "PTS": "x"}
    with box_csv.open("a") as handle:
        handle.write(",".join(row[c] for c in header) + "\n")
    provider = FilesProvider(data)
    assert provider.box_scores(DAY, DAY).quarantine.height == 1
    assert provider.box_scores(DAY, DAY, as_of=utc(2024, 10, 26, 1, 59)).quarantine.height == 0
    assert provider.box_scores(DAY, DAY, as_of=utc(2024, 10, 26, 2, 0)).quarantine.height == 1


@pytest.mark.parametrize(
    ("day", "assumed_tip_utc"),
    [
        (date(2025, 3, 9), utc(2025, 3, 10, 2, 30)),  # clocks went forward that morning: 22:30 EDT = UTC-4
        (date(2025, 11, 2), utc(2025, 11, 3, 3, 30)),  # clocks went back that morning: 22:30 EST = UTC-5
        (date(2025, 3, 8), utc(2025, 3, 9, 3, 30)),  # the evening before the change is still EST
    ],
)
def test_assumed_tip_on_dst_days(day, assumed_tip_utc):
    from nba_props.lib import schemas
    from nba_props.lib.sources.reveal import box_scores_available_at_expr, schedule_as_of, tip_expr

    rules = load_sensor_config().reveal
    games = pl.DataFrame(
        {"game_date": [day], "tip_time_utc": [None], "status": ["final"], "away_points": [100], "home_points": [99]},
        schema_overrides={"tip_time_utc": schemas.UTC_TS, "away_points": pl.Int32, "home_points": pl.Int32},
    )
    assert games.select(tip_expr(rules)).item() == assumed_tip_utc
    published = games.select(box_scores_available_at_expr(rules, {})).item()
    assert (published - assumed_tip_utc).total_seconds() == 3 * 3600
    live = schedule_as_of(games, assumed_tip_utc, rules)
    assert live.row(0, named=True)["status"] == "live" and live.row(0, named=True)["away_points"] is None
    ended = assumed_tip_utc + timedelta(hours=2, minutes=45)
    assert schedule_as_of(games, ended - timedelta(seconds=1), rules)["status"].item() == "live"
    assert schedule_as_of(games, ended, rules)["status"].item() == "final"
