"""Partition-aware freshness: the deadlines before/after (DST days included), days without games,
and the freshness_checks sensor recording once per (asset, date) and the recovery."""

import json
from datetime import UTC, date, datetime, time, timedelta

import dagster as dg
import pytest

from nba_props import freshness as glue
from nba_props.defs.automation.freshness_checks import freshness_checks, partition_fresh
from nba_props.lib import freshness
from nba_props.lib.automation import Deadline, load_automation_config
from nba_props.resources import ClockResource, ProviderResource
from nba_props.seasons import game_date_of

DEADLINES = load_automation_config().deadlines

BOX = Deadline(asset="box_scores", partition="yesterday", at=time(8, 0))
PRED = Deadline(asset="predictions", partition="today", at=time(13, 0))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        # an ordinary winter day: 08:00 EST = 13:00 UTC
        (utc(2025, 1, 15, 12, 59), False),
        (utc(2025, 1, 15, 13, 0), True),
        # 2025-03-09, clocks spring forward at 02:00: 08:00 EDT = 12:00 UTC
        (utc(2025, 3, 9, 11, 59), False),
        (utc(2025, 3, 9, 12, 0), True),
        # 2025-11-02, clocks fall back at 02:00: 08:00 EST = 13:00 UTC
        (utc(2025, 11, 2, 12, 59), False),
        (utc(2025, 11, 2, 13, 0), True),
    ],
)
def test_box_scores_of_yesterday_by_eight_et(now, due):
    day = game_date_of(now) - timedelta(days=1)
    late = freshness.evaluate([BOX], now, game_dates=[day], materialized={})
    present = freshness.evaluate([BOX], now, game_dates=[day], materialized={"box_scores": [day.isoformat()]})
    if not due:
        assert late == [] and present == []
        return
    assert [(r.partition, r.passed) for r in late] == [(day.isoformat(), False)]
    assert late[0].reason == f"partition yesterday ({day}) by 08:00 ET: missing"
    assert [(r.partition, r.passed) for r in present] == [(day.isoformat(), True)]


def test_predictions_of_today_by_one_pm_and_the_et_date_not_the_utc_one():
    # 2025-11-02 18:30 UTC = 13:30 EST: due. 2025-11-03 00:30 UTC is still the 2nd in ET.
    for now in (utc(2025, 11, 2, 18, 30), utc(2025, 11, 3, 0, 30)):
        [result] = freshness.evaluate([PRED], now, [date(2025, 11, 2)], {"predictions": ["2025-11-01"]})
        assert (result.partition, result.passed) == ("2025-11-02", False)
        assert result.due_at == datetime(2025, 11, 2, 18, 0, tzinfo=UTC)
    assert freshness.evaluate([PRED], utc(2025, 11, 2, 17, 59), [date(2025, 11, 2)], {}) == []


def test_a_day_without_games_is_never_late():
    [result] = freshness.evaluate([PRED], utc(2024, 11, 28, 20, 0), game_dates=[date(2024, 11, 27)], materialized={})
    assert result.passed and result.reason == "no games on 2024-11-28: nothing due"


def test_recording_is_first_time_then_changes_only():
    fail = freshness.FreshnessResult("x", "2025-01-15", utc(2025, 1, 15, 13), False, "missing")
    ok = freshness.FreshnessResult("x", "2025-01-15", utc(2025, 1, 15, 13), True, "present")
    assert freshness.needs_recording(None, fail) and not freshness.needs_recording("fail", fail)
    assert freshness.needs_recording("fail", ok) and not freshness.needs_recording("pass", ok)


def check_events(instance) -> list[tuple[str, bool, str]]:
    records = instance.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION), ascending=True
    )
    out = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.asset_check_evaluation_data
        out.append((evaluation.asset_key.to_user_string(), evaluation.passed, evaluation.metadata["partition"].value))
    return out


def test_freshness_sensor_records_once_per_date_and_the_recovery(sim_data_dir):
    provider = ProviderResource(provider="files", data_dir=str(sim_data_dir))
    games = glue.game_dates(provider.get(), {date(2024, 11, 27), date(2024, 11, 28)})
    assert games == {date(2024, 11, 27)}  # Thanksgiving: no games in the simulated season
    with dg.instance_for_test() as instance:
        cursor = None

        def tick(now: datetime, source: ProviderResource = provider) -> None:
            nonlocal cursor
            context = dg.build_sensor_context(
                instance=instance, cursor=cursor,
                resources={"clock": ClockResource(frozen_at=now.isoformat()), "provider": source},
            )  # fmt: skip
            freshness_checks(context)
            cursor = context.cursor

        tick(utc(2024, 11, 27, 12, 0))  # 07:00 EST: nothing due yet
        assert check_events(instance) == []
        tick(utc(2024, 11, 27, 13, 5))  # box scores (and so the grading) of the 26th are late
        late_26 = [("box_scores", False, "2024-11-26"), ("prediction_accuracy", False, "2024-11-26")]
        assert sorted(check_events(instance)) == late_26
        tick(utc(2024, 11, 27, 13, 10))  # still late: not recorded again
        assert len(check_events(instance)) == 2
        before = cursor
        tick(utc(2024, 11, 27, 13, 12), ProviderResource(provider="files", data_dir=str(sim_data_dir / "gone")))
        assert (cursor, len(check_events(instance))) == (before, 2)  # provider error: logged, cursor kept
        instance.report_runless_asset_event(dg.AssetMaterialization("box_scores", partition="2024-11-26"))
        tick(utc(2024, 11, 27, 13, 15))  # the recovery
        assert check_events(instance)[-1] == ("box_scores", True, "2024-11-26")
        instance.report_runless_asset_event(dg.AssetMaterialization("prediction_accuracy", partition="2024-11-26"))
        tick(utc(2024, 11, 27, 13, 20))  # graded once the box scores landed
        assert check_events(instance)[-1] == ("prediction_accuracy", True, "2024-11-26")
        # the 28th has no games: today's deadlines pass (once), nothing is late
        tick(utc(2024, 11, 28, 19, 0))
        # every deadline once: yesterday's (the 27th had games) are late, today's pass
        assert sorted(check_events(instance)[4:]) == sorted(
            (d.asset, d.partition == "today", "2024-11-28" if d.partition == "today" else "2024-11-27")
            for d in DEADLINES
        )
        assert ("model_performance_daily", False, "2024-11-27") in check_events(instance)  # health by 08:30
        assert json.loads(cursor)["predictions|2024-11-28"] == "pass"


DEADLINE_ASSETS = tuple(d.asset for d in DEADLINES)


def test_partition_fresh_check_runs_from_the_ui_path(sim_data_dir):
    """The same evaluation executed as a check (what the UI's "Execute" does)."""
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization("predictions", partition="2024-11-27"))
        result = dg.materialize(
            [partition_fresh, *[dg.AssetSpec(a) for a in DEADLINE_ASSETS]],
            instance=instance,
            resources={
                "clock": ClockResource(frozen_at="2024-11-27T19:00:00+00:00"),
                "provider": ProviderResource(provider="files", data_dir=str(sim_data_dir)),
            },
            selection=dg.AssetSelection.checks(partition_fresh),
        )
        evaluations = {e.asset_key.to_user_string(): e.passed for e in result.get_asset_check_evaluations()}
        # on the 27th at 14:00 ET: only today's predictions exist; yesterday's and today's others are missing
        assert evaluations == {d.asset: d.asset == "predictions" for d in DEADLINES}
