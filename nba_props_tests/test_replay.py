"""The replay end to end on a small simulated league: three days driven only by the sensors and the
automation conditions, hour by hour, with one day's box scores withheld until noon the next day.

Set-up: the trained league of conftest (ingested and featured through a Monday, its models trained), the
Monday predicted (as `make demo` does before its replay). The replay must then ingest lines during the day, have
predictions before the first tip, ingest box scores after the games, never rebuild a day after its
games, raise a freshness alert for the withheld day at the 08:00 ET deadline and recover when they land.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import dagster as dg
import polars as pl
import pytest

from nba_props import seasons
from nba_props.lib.automation import load_automation_config
from nba_props_tests.conftest import TRAINED_WEEK as WEEK

# Tuesday .. Thursday (Thanksgiving: no games, so nothing is due the next morning)
REPLAY = (WEEK + timedelta(days=1), WEEK + timedelta(days=3))


@pytest.fixture(scope="module")
def replayed(trained_league, tmp_path_factory):
    """The trained league (conftest) with the week's Monday predicted, then the replay; the first
    day with games has its box scores withheld until noon the next day."""
    import shutil

    home = tmp_path_factory.mktemp("replay") / "home"
    shutil.copytree(trained_league.home, home)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NBA_PROPS_HOME", str(home))
        env.setenv("NBA_PROPS_PROVIDER", "files")
        env.setenv("NBA_PROPS_DATA_DIR", str(trained_league.sim))
        env.delenv("DAGSTER_HOME", raising=False)
        from nba_props.cli import run_backfill, run_replay
        from nba_props.lib.sources.files import FilesProvider

        summary = run_backfill(WEEK, WEEK, select=["predictions"])
        assert not any(f.get("failed") for f in summary.values()), summary
        games = FilesProvider(trained_league.sim).game_states(*REPLAY, None)
        played = games.filter(pl.col("status") == "final")
        withheld = played.get_column("game_date").min()
        release = datetime.combine(withheld + timedelta(days=1), time(12), tzinfo=seasons.GAME_TZ)
        report = run_replay(*REPLAY, withhold_box_scores={withheld: release})
        yield report, played, withheld, release, home


def _et(instant: datetime) -> datetime:
    return instant.astimezone(seasons.GAME_TZ)


def test_every_run_succeeds_and_is_tagged_as_the_replays(replayed):
    report, *_, home = replayed
    assert report.runs and all(run.success for run in report.runs)
    with dg.DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        for run in report.runs:
            tags = instance.get_run_by_id(run.run_id).tags
            assert tags["nba_props/launched_by"] == "replay"
            assert tags["nba_props/reason"] == run.reason
            assert tags["nba_props/clock"] == run.at.isoformat()


def test_lines_in_the_day_predictions_before_the_first_tip_box_scores_after_the_games(replayed):
    report, played, withheld, release, _ = replayed
    for day, games in played.group_by("game_date"):
        (day,) = day
        first_tip = games.get_column("tip_time_utc").min()
        last_tip = games.get_column("tip_time_utc").max()
        lines = [r for r in report.runs if r.reason == "sensor:lines_posted" and r.partition == day.isoformat()]
        assert lines and all(_et(r.at).date() == day and r.at < first_tip for r in lines), day
        predicted = [r for r in report.runs if "predictions" in r.assets and r.partition == day.isoformat()]
        assert predicted and min(r.at for r in predicted) < first_tip, day
        # a day's pre-game chain is never rebuilt once its games have started
        assert all(r.at < first_tip for r in predicted), day
        boxes = [r for r in report.runs if "box_scores" in r.assets and r.partition == day.isoformat()]
        assert len(boxes) == 1, day  # once: the same final games are never requested twice
        # the provider publishes box scores 3 h after a tip (config/sensors.yaml)
        assert boxes[0].at >= last_tip + timedelta(hours=3), day
        if day == withheld:
            assert boxes[0].at >= release


def test_the_withheld_day_raises_a_freshness_alert_at_the_deadline_and_recovers(replayed):
    report, _, withheld, release, _ = replayed
    alerts = report.alerts
    fresh = [a for a in alerts if a["kind"] == "freshness" and a["partition"] == withheld.isoformat()]
    raised = [a for a in fresh if a["status"] == "open"]
    recovered = [a for a in fresh if a["status"] == "recovered"]
    deadline = datetime.combine(withheld + timedelta(days=1), time(8), tzinfo=seasons.GAME_TZ)
    # the box scores late, and with them the day's grading (graded when its box scores land): both due
    # yesterday by 08:00 ET, raised at that tick, recovered once the box scores are released
    # (and the day's graded picks, graded with its predictions, due by 08:30)
    late = {"box_scores", "prediction_accuracy", "pick_accuracy"}
    assert sorted(a["asset"] for a in raised) == sorted(late)
    # each at the first hourly tick from its own deadline (08:00; the graded picks 08:30)
    due = {d.asset: datetime.combine(withheld + timedelta(days=1), d.at, tzinfo=seasons.GAME_TZ)
           for d in load_automation_config().deadlines}  # fmt: skip
    assert due["box_scores"] == deadline
    assert all(due[a["asset"]] <= a["tick"] < due[a["asset"]] + timedelta(hours=1) for a in raised)
    assert sorted(a["asset"] for a in recovered) == sorted(late)
    assert all(a["tick"] >= release for a in recovered)
    # nothing else was late or broken (business alerts on the champion's health are not faults)
    faults = [a for a in alerts if a["kind"] != "model_health"]
    assert {(a["asset"], a["partition"]) for a in faults} == {(asset, withheld.isoformat()) for asset in late}
    assert {a["asset"] for a in alerts if a["kind"] == "model_health"} <= {"model_performance_daily"}


def test_the_replay_publishes_each_days_best_bets_before_its_games(replayed):
    """The posting runs build the day's signals, best bets and ledger before the first tip; every
    selected pick is in the ledger, published (never late) before its game."""
    import duckdb

    report, played, _, _, home = replayed
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    for day in sorted(set(played.get_column("game_date").to_list())):
        first_tip = min(played.filter(pl.col("game_date") == day).get_column("tip_time_utc"))
        built = [r for r in report.runs if "best_bets" in r.assets and r.partition == day.isoformat()]
        assert built and all(r.at < first_tip for r in built), day  # never rebuilt once its games started
        candidates = con.execute("SELECT count(*) FROM nba_props.best_bets WHERE game_date = ?", [day]).fetchall()
        assert candidates[0][0] > 0, day
    selected = con.sql("SELECT game_id, player_lookup FROM nba_props.best_bets WHERE selected ORDER BY ALL").fetchall()
    ledger = con.sql(
        "SELECT game_id, player_lookup FROM nba_props.published_picks WHERE status = 'published' ORDER BY ALL"
    ).fetchall()
    assert selected == ledger
    late = con.sql("SELECT count(*) FROM nba_props.published_picks WHERE published_at >= tip_time_utc").fetchall()
    assert late == [(0,)]


def test_the_replay_writes_every_published_file_for_every_day_with_games(replayed):
    """The automation builds the published files (config/publish.yaml) with each day's picks and
    again when its grading lands: every dated file of every day with games exists, all.json holds
    the newest day and carries the graded results of the days before it."""
    import json

    from nba_props.lib.publish import load_publish_config

    report, played, _, _, home = replayed
    config = load_publish_config()
    root = home / "artifacts"
    days = sorted(set(played.get_column("game_date").to_list()))
    for day in days:
        for asset, files in config.assets.items():
            for rule in files.files:
                if not rule.current:
                    assert (root / config.relpath(rule, day)).is_file(), (asset, day)
        built = [r for r in report.runs if "best_bets_all_json" in r.assets and r.partition == day.isoformat()]
        assert built, day
    for asset, files in config.assets.items():
        for rule in files.files:
            if rule.current:
                assert (root / config.relpath(rule, days[-1])).is_file(), asset
    all_json = json.loads((root / config.prefix / "best-bets" / "all.json").read_text())
    assert all_json["date"] >= days[-1].isoformat()
    shown = {d["date"]: d for w in all_json["weeks"] for d in w["days"]}
    # the first day was graded by the end of the replay (its box scores landed the next noon)
    assert days[0].isoformat() not in shown or shown[days[0].isoformat()]["status"] != "pending"


def test_the_replays_collector_tuning_is_restored_on_exit():
    import gc

    from nba_props.replay import fewer_collections

    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections(young_threshold=12_345):
        assert gc.get_threshold() == (12_345, *before[1:]) and gc.get_freeze_count() > 0
        raise RuntimeError("a failing replay")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
