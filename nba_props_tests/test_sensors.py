"""The sensors, evaluated with `build_sensor_context` on the small simulated league (seed 11, first 12
days from 2024-10-22) and a frozen clock. On 2024-10-25 (EDT, UTC-4): line snapshots at 10:00 and
17:00 ET, the injury report at 16:00 ET, tips from 19:00 ET to 22:00 ET (02:00 UTC); a game is final
2 h 45 after its tip and its box scores are published 3 h after it (config/sensors.yaml)."""

from __future__ import annotations

import json
import shutil
from datetime import date

import dagster as dg
import polars as pl
import pytest

from nba_props.defs.sensors.sensors import AFTER_GAMES, BEFORE_GAMES, games_final, lines_posted, weekly_training
from nba_props.lib import sensing
from nba_props.lib.automation import load_automation_config
from nba_props.resources import ClockResource, ProviderResource


def resources(data_dir, at: str, **provider) -> dict:
    return {
        "clock": ClockResource(frozen_at=at),
        "provider": ProviderResource(provider="files", data_dir=str(data_dir), **provider),
    }


def tick(sensor, data_dir, at: str, cursor: str | None = None, instance=None, **provider):
    context = dg.build_sensor_context(
        instance=instance or dg.DagsterInstance.ephemeral(),
        cursor=cursor,
        resources=resources(data_dir, at, **provider),
    )
    return sensor(context)


def names_of(run: dg.RunRequest) -> list[str]:
    """The ingest assets of a request (the pre-game chain left out)."""
    chain = {"player_lines", "player_features", "predictions"}
    return [k.to_user_string() for k in run.asset_selection if k.to_user_string() not in chain]


def requested(result) -> list[str]:
    return [] if isinstance(result, dg.SkipReason) else [r.partition_key for r in result.run_requests or []]


def cursor_of(result, previous: str | None) -> str | None:
    """The cursor the daemon would keep after this tick."""
    return previous if isinstance(result, dg.SkipReason) or result.cursor is None else result.cursor


# ---------------------------------------------------------------------------------------------
# lines_posted


def test_pre_game_chain_waits_for_the_weeks_model():
    blockers = {
        "player_lines": ["schedule"],
        "predictions": ["player_lines", "trained_models"],
        "signal": ["predictions"],  # waits on an asset left out: left out too
    }
    assets = ["player_lines", "player_features", "predictions", "signal"]
    assert sensing.pre_game_chain(assets, blockers, model_ready=True) == assets
    assert sensing.pre_game_chain(assets, blockers, model_ready=False) == ["player_lines", "player_features"]


def test_pre_game_chain_adds_the_post_game_assets_its_update_requests():
    blockers = {"predictions": ["trained_models"], "picks": ["predictions"]}
    assets = ["player_lines", "predictions", "picks"]
    followers = {"grading": ["box_scores"], "file": ["picks", "grading"], "health_file": ["grading"]}
    # the published file follows the picks in the posting's run; what grading requests does not
    assert sensing.pre_game_chain(assets, blockers, True, followers) == [*assets, "file"]
    # without the week's model the picks wait, and so does their file
    assert sensing.pre_game_chain(assets, blockers, False, followers) == ["player_lines"]


def test_lines_posted_adds_predictions_once_the_weeks_model_exists(sim_data_dir):
    with dg.instance_for_test() as instance:
        # 2024-10-25 is a Friday of the week keyed 2024-10-21
        instance.report_runless_asset_event(dg.AssetMaterialization("trained_models", partition="2024-10-21"))
        result = tick(lines_posted, sim_data_dir, "2024-10-25T10:05:00-04:00", instance=instance)
    names = [key.to_user_string() for key in result.run_requests[0].asset_selection]
    conditions = load_automation_config().conditions
    chain = list(conditions.pre_game_assets)
    assert chain[:3] == ["player_lines", "player_features", "predictions"]
    # then the files published from the day's picks (requested by published_picks' update)
    files = [name for name, triggers in conditions.post_game_assets.items() if "published_picks" in triggers]
    assert "best_bets_today_json" in files and "model_health_json" not in files
    assert names[-len(chain) - len(files) :] == chain + files


def test_lines_posted_requests_each_new_snapshot_once(sim_data_dir):
    before = tick(lines_posted, sim_data_dir, "2024-10-25T09:59:00-04:00")
    assert requested(before) == []  # the 10:00 ET snapshot does not exist yet
    cursor = cursor_of(before, None)
    assert json.loads(cursor) == {}

    opening = tick(lines_posted, sim_data_dir, "2024-10-25T10:05:00-04:00", cursor)
    assert requested(opening) == ["2024-10-25"]  # today's games only: tomorrow has no lines yet
    run = opening.run_requests[0]
    # the ingest and the day's pre-game chain in one run; no model for the week yet: no predictions
    chain = [dg.AssetKey("player_lines"), dg.AssetKey("player_features")]
    assert len(BEFORE_GAMES) == 6
    # the 10:00 snapshot brought lines only: the schedule and the snapshots are ingested, not injuries
    assert names_of(run) == ["schedule", "schedule_quarantine", "prop_line_snapshots", "prop_line_snapshots_quarantine"]
    assert run.asset_selection[4:] == chain
    assert run.tags == {"nba_props/launched_by": "sensor", "nba_props/sensor": "lines_posted"}
    cursor = cursor_of(opening, cursor)
    assert json.loads(cursor) == {"2024-10-25": ["2024-10-25T14:00:00+00:00"]}

    again = tick(lines_posted, sim_data_dir, "2024-10-25T11:00:00-04:00", cursor)
    assert requested(again) == [] and cursor_of(again, cursor) == cursor

    report = tick(lines_posted, sim_data_dir, "2024-10-25T16:30:00-04:00", cursor)  # the 16:00 injury report
    assert requested(report) == ["2024-10-25"]
    assert names_of(report.run_requests[0]) == [
        "schedule",
        "schedule_quarantine",
        "injury_report",
        "injury_report_quarantine",
    ]
    cursor = cursor_of(report, cursor)
    late = tick(lines_posted, sim_data_dir, "2024-10-25T17:05:00-04:00", cursor)  # the 17:00 snapshot
    assert requested(late) == ["2024-10-25"]
    assert "injury_report" not in names_of(late.run_requests[0])
    assert late.run_requests[0].run_key == "lines_posted:2024-10-25:2024-10-25T21:00:00+00:00"
    cursor = cursor_of(late, cursor)

    # restart: a new context with the saved cursor requests nothing new
    assert requested(tick(lines_posted, sim_data_dir, "2024-10-25T17:10:00-04:00", cursor)) == []


def test_lines_posted_burst_is_one_request_per_partition(sim_data_dir):
    """From scratch late in the day: two snapshots and a report of today -> one request."""
    result = tick(lines_posted, sim_data_dir, "2024-10-25T23:00:00-04:00")
    assert requested(result) == ["2024-10-25"]
    assert result.run_requests[0].run_key == "lines_posted:2024-10-25:2024-10-25T21:00:00+00:00"
    assert json.loads(result.cursor) == {
        "2024-10-25": ["2024-10-25T14:00:00+00:00", "2024-10-25T20:00:00+00:00", "2024-10-25T21:00:00+00:00"]
    }


def test_lines_posted_sees_a_late_file_with_an_older_stamp(tmp_path, sim_data_dir):
    """A DFS board is stamped 00:00 UTC of its file date whenever it is written: one that shows up
    after the 17:00 ET snapshot was seen is still new data for its date."""
    data = tmp_path / "league"
    shutil.copytree(sim_data_dir, data)
    at = "2024-10-25T23:00:00-04:00"
    cursor = cursor_of(tick(lines_posted, data, at), None)
    assert requested(tick(lines_posted, data, at, cursor)) == []
    board = data / "odds" / "dfs_lines" / "10_25_2024.csv"
    board.parent.mkdir(parents=True)
    board.write_text(
        "player,market,bookmaker,side,line,price,home_team,away_team,game_id,commence_time\n"
        "Kyle Washington,player_points,prizepicks,over,21.5,,Indiana Pacers,Cleveland Cavaliers,g1,"
        "2024-10-25T23:00:00Z\n"
    )
    late = tick(lines_posted, data, at, cursor)
    assert requested(late) == ["2024-10-25"]
    assert late.run_requests[0].run_key == "lines_posted:2024-10-25:2024-10-25T00:00:00+00:00"
    assert requested(tick(lines_posted, data, at, cursor_of(late, cursor))) == []


def test_lines_posted_requests_tomorrows_lines_once_tomorrow_is_a_partition(tmp_path, sim_data_dir):
    """A board for tomorrow posted today: tomorrow's partition does not exist before midnight ET
    (a request for it would fail), so it is requested right after midnight, not lost."""
    data = tmp_path / "league"
    shutil.copytree(sim_data_dir, data)
    board = data / "odds" / "dfs_lines" / "10_26_2024.csv"
    board.parent.mkdir(parents=True)
    board.write_text(
        "player,market,bookmaker,side,line,price,home_team,away_team,game_id,commence_time\n"
        "Kyle Washington,player_points,prizepicks,over,21.5,,Indiana Pacers,Cleveland Cavaliers,g1,"
        "2024-10-26T23:00:00Z\n"
    )
    evening = tick(lines_posted, data, "2024-10-25T23:00:00-04:00")
    assert "2024-10-26" not in requested(evening)
    after_midnight = tick(lines_posted, data, "2024-10-26T00:05:00-04:00", cursor_of(evening, None))
    assert "2024-10-26" in requested(after_midnight)


def test_lines_posted_provider_error_keeps_the_cursor(tmp_path, sim_data_dir):
    cursor = json.dumps({"2024-10-25": ["2024-10-25T14:00:00+00:00"]})
    missing = tick(lines_posted, tmp_path / "no-such-folder", "2024-10-25T17:05:00-04:00", cursor)
    assert isinstance(missing, dg.SkipReason) and "provider error" in missing.skip_message
    assert cursor_of(missing, cursor) == cursor
    # the same tick on the real folder would have requested: the error is what stopped it
    assert requested(tick(lines_posted, sim_data_dir, "2024-10-25T17:05:00-04:00", cursor)) == ["2024-10-25"]


# ---------------------------------------------------------------------------------------------
# games_final


def test_games_final_requests_a_date_after_its_last_box_scores(sim_data_dir):
    # 00:59 EDT on the 26th: 2024-10-23 and -24 are done, the 22:00 ET games of the 25th publish at 05:00 UTC
    first = tick(games_final, sim_data_dir, "2024-10-26T04:59:00+00:00")
    assert requested(first) == ["2024-10-23", "2024-10-24"]
    assert set(first.run_requests[0].asset_selection) == set(AFTER_GAMES)
    cursor = cursor_of(first, None)
    second = tick(games_final, sim_data_dir, "2024-10-26T05:00:00+00:00", cursor)
    assert requested(second) == ["2024-10-25"]
    cursor = cursor_of(second, cursor)
    assert sorted(json.loads(cursor)) == ["2024-10-23", "2024-10-24", "2024-10-25"]
    assert requested(tick(games_final, sim_data_dir, "2024-10-26T09:00:00+00:00", cursor)) == []  # restart
    # four days later the window (today - 3 days) has moved: old dates leave the cursor, nothing re-requested
    later = tick(games_final, sim_data_dir, "2024-10-29T16:00:00+00:00", cursor)
    assert requested(later) == ["2024-10-26", "2024-10-27", "2024-10-28"]
    assert "2024-10-25" not in json.loads(later.cursor)


def _set_postponed(data_dir, game_ids: set[str], postponed: bool) -> None:
    path = data_dir / "schedule" / "schedule_2024-25.json"
    payload = json.loads(path.read_text())
    for day in payload["leagueSchedule"]["gameDates"]:
        for game in day["games"]:
            if game["gameId"] in game_ids:
                game["postponedStatus"] = "Y" if postponed else "N"
    path.write_text(json.dumps(payload))


def test_games_final_ignores_postponed_games_and_rerequests_a_late_game(tmp_path, sim_data_dir):
    data = tmp_path / "league"
    shutil.copytree(sim_data_dir, data)
    late_games = {"0022400026", "0022400025"}  # LAL@LAC and SAS@GSW, the 22:00 ET tips of 2024-10-25
    _set_postponed(data, late_games, True)
    # 04:00 UTC: the 21:00 ET games (last of the playable ones) published; the postponed games do not block
    first = tick(games_final, data, "2024-10-26T04:00:00+00:00")
    assert "2024-10-25" in requested(first)
    cursor = cursor_of(first, None)
    assert len(json.loads(cursor)["2024-10-25"]) == 7
    # same data, no clock change in the answer: not twice
    assert requested(tick(games_final, data, "2024-10-26T05:30:00+00:00", cursor)) == []
    # without the postponement the date would still be waiting at 04:00 (the late games publish at 05:00)
    assert "2024-10-25" not in requested(tick(games_final, sim_data_dir, "2024-10-26T04:00:00+00:00"))
    # the feed corrects the two games (played, final): the set of final games changes -> requested again
    _set_postponed(data, late_games, False)
    again = tick(games_final, data, "2024-10-26T05:30:00+00:00", cursor)
    assert requested(again) == ["2024-10-25"]
    assert len(json.loads(again.cursor)["2024-10-25"]) == 9
    assert again.run_requests[0].run_key != first.run_requests[-1].run_key


def test_games_final_waits_for_withheld_box_scores(sim_data_dir):
    withheld = {"box_scores_withheld_until": {"2024-10-25": "2024-10-26T14:00:00+00:00"}}
    blocked = tick(games_final, sim_data_dir, "2024-10-26T13:00:00+00:00", **withheld)
    assert "2024-10-25" not in requested(blocked)
    cursor = cursor_of(blocked, None)
    assert requested(tick(games_final, sim_data_dir, "2024-10-26T14:00:00+00:00", cursor, **withheld)) == ["2024-10-25"]


def test_games_final_provider_error(tmp_path):
    result = tick(games_final, tmp_path / "missing", "2024-10-26T05:00:00+00:00", '{"2024-10-24": ["x"]}')
    assert isinstance(result, dg.SkipReason) and "provider error" in result.skip_message


def test_final_dates_pure():
    states = pl.DataFrame(
        {
            "game_date": [date(2025, 1, 6)] * 3 + [date(2025, 1, 7)],
            "game_id": ["a", "b", "c", "d"],
            "status": ["final", "postponed", "final", "live"],
            "box_score_available": [True, False, True, False],
        }
    )
    to_request, cursor = sensing.final_dates(states, {"2025-01-01": ["old"]})
    assert to_request == {date(2025, 1, 6): ["a", "c"]}
    assert cursor == {"2025-01-06": ["a", "c"]}  # dates outside the polled window are pruned
    assert sensing.final_dates(states, cursor) == ({}, cursor)
    suspended = states.with_columns(box_score_available=pl.Series([True, False, False, False]))
    assert sensing.final_dates(suspended, {})[0] == {}  # c final without box scores: wait


# ---------------------------------------------------------------------------------------------
# weekly_training (previous week of Monday 2024-10-28: game dates 2024-10-22 .. 2024-10-27)


def _materialize(instance: dg.DagsterInstance, asset: str, keys: list[str]) -> None:
    for key in keys:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=asset, partition=key))


PREVIOUS_WEEK = [f"2024-10-{d}" for d in range(22, 28)]


def test_weekly_training_after_last_weeks_box_scores(sim_data_dir):
    instance = dg.DagsterInstance.ephemeral()
    _materialize(instance, "box_scores", PREVIOUS_WEEK[:-1])
    waiting = tick(weekly_training, sim_data_dir, "2024-10-28T12:00:00-04:00", instance=instance)
    assert isinstance(waiting, dg.SkipReason) and "2024-10-27" in waiting.skip_message
    _materialize(instance, "box_scores", PREVIOUS_WEEK[-1:])
    ready = tick(weekly_training, sim_data_dir, "2024-10-28T12:00:00-04:00", instance=instance)
    assert requested(ready) == ["2024-10-28"]
    run = ready.run_requests[0]
    assert run.run_key == "weekly_training:2024-10-28" and run.tags["nba_props/sensor"] == "weekly_training"
    assert list(run.asset_selection) == [dg.AssetKey("trained_models")]
    # already requested (cursor) -> not again; already materialized -> not again even without the cursor
    assert requested(tick(weekly_training, sim_data_dir, "2024-10-29T09:00:00-04:00", ready.cursor, instance)) == []
    _materialize(instance, "trained_models", ["2024-10-28"])
    assert requested(tick(weekly_training, sim_data_dir, "2024-10-29T09:00:00-04:00", None, instance)) == []


def test_weekly_training_sunday_evening_is_still_last_week(sim_data_dir):
    instance = dg.DagsterInstance.ephemeral()
    _materialize(instance, "box_scores", PREVIOUS_WEEK)
    # 23:30 EDT on Sunday 10-27 is 03:30 UTC on Monday: the week is still the one of 2024-10-21
    sunday = tick(weekly_training, sim_data_dir, "2024-10-28T03:30:00+00:00", instance=instance)
    assert isinstance(sunday, dg.SkipReason) and sunday.skip_message == "no games in the previous week"
    monday = tick(weekly_training, sim_data_dir, "2024-10-28T04:00:00+00:00", instance=instance)  # 00:00 EDT
    assert requested(monday) == ["2024-10-28"]


def test_weekly_training_staleness(sim_data_dir):
    """Monday 2024-11-04: the simulation stops after 2024-11-02, so the games of 11-03 have no box
    scores; with last trained week 2024-10-21 (14 days > 10) the week is requested early."""
    instance = dg.DagsterInstance.ephemeral()
    _materialize(instance, "box_scores", [f"2024-10-{d}" for d in range(28, 32)] + ["2024-11-01", "2024-11-02"])
    _materialize(instance, "trained_models", ["2024-10-21"])
    stale = tick(weekly_training, sim_data_dir, "2024-11-04T08:00:00-05:00", instance=instance)
    assert requested(stale) == ["2024-11-04"]
    assert "more than 10 days" in stale.run_requests[0].tags["nba_props/reason"]
    _materialize(instance, "trained_models", ["2024-10-28"])  # 7 days old: not stale, keep waiting
    fresh = tick(weekly_training, sim_data_dir, "2024-11-04T08:00:00-05:00", instance=instance)
    assert isinstance(fresh, dg.SkipReason) and "2024-11-03" in fresh.skip_message


def test_weekly_training_provider_error(tmp_path):
    result = tick(weekly_training, tmp_path / "missing", "2024-10-28T12:00:00-04:00", '["2024-10-21"]')
    assert isinstance(result, dg.SkipReason) and "provider error" in result.skip_message


def test_sensors_are_running_by_default_with_config_intervals():
    config = sensing.load_sensor_config()
    for sensor, rules in (
        (lines_posted, config.lines_posted),
        (games_final, config.games_final),
        (weekly_training, config.weekly_training),
    ):
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.minimum_interval_seconds == rules.minimum_interval_seconds


def test_new_data_by_date_pure():
    from datetime import UTC, datetime

    def at(day: int, hour: int) -> datetime:
        return datetime(2024, 10, day, hour, tzinfo=UTC)

    snaps = pl.DataFrame({"game_date": [date(2024, 10, 25)] * 2, "captured_at": [at(25, 14), at(25, 21)]})
    reports = pl.DataFrame({"game_date": [date(2024, 10, 26)], "reported_at": [at(26, 20)]})
    window = (date(2024, 10, 25), date(2024, 10, 26))
    by_date, cursor = sensing.new_data_by_date(snaps, reports, {"2024-10-24": ["old"]}, *window)
    assert by_date == {date(2024, 10, 25): at(25, 21), date(2024, 10, 26): at(26, 20)}
    assert cursor == {  # the date before the window is pruned
        "2024-10-25": ["2024-10-25T14:00:00+00:00", "2024-10-25T21:00:00+00:00"],
        "2024-10-26": ["2024-10-26T20:00:00+00:00"],
    }
    assert sensing.new_data_by_date(snaps, reports, cursor, *window) == ({}, cursor)
    partly = {"2024-10-25": ["2024-10-25T21:00:00+00:00"]}
    assert sensing.new_data_by_date(snaps, reports, partly, *window)[0] == {
        date(2024, 10, 25): at(25, 14),  # older than the newest seen, but never seen
        date(2024, 10, 26): at(26, 20),
    }


def test_sensor_config_values_are_required(tmp_path):
    from pydantic import ValidationError

    shipped = (sensing.DEFAULT_CONFIG_PATH).read_text()
    missing = tmp_path / "sensors.yaml"
    missing.write_text(shipped.replace("  staleness_days: 10\n", ""))
    with pytest.raises(ValidationError, match="staleness_days"):
        sensing.load_sensor_config(missing)


def test_sensor_config_rejects_unknown_keys(tmp_path):
    from pydantic import ValidationError

    bad = tmp_path / "sensors.yaml"
    bad.write_text("lines_posted:\n  minimum_interval_secs: 60\n")
    with pytest.raises(ValidationError, match="minimum_interval_secs"):
        sensing.load_sensor_config(bad)


def test_lines_posted_skips_quietly_past_the_last_partition(sim_data_dir, monkeypatch):
    """A season-bounded range (NBA_PROPS_PARTITION_SEASONS=league ends 2025-04-13): the morning
    after, there is no date to poll; a skip, not a provider error."""
    from nba_props.defs.sensors import sensors

    monkeypatch.setattr(sensors, "_last_partition_day", lambda now: date(2024, 10, 24))
    result = tick(lines_posted, sim_data_dir, "2024-10-25T10:05:00-04:00")
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == "2024-10-25 is after the last partition 2024-10-24"
