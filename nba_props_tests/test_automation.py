"""Declarative automation on the project's REAL asset graph (conditions applied once in
definitions): evaluate_automation_conditions against an ephemeral instance with materializations
reported into it, on a frozen evaluation time."""

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.events import AssetMaterializationPlannedData, DagsterEvent, DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.test_utils import create_run_for_test

from nba_props import definitions
from nba_props.automation import apply_automation, condition_for
from nba_props.lib.automation import load_automation_config
from nba_props.lib.publish import load_publish_config
from nba_props.partitions import game_date_partitions

ET = ZoneInfo("America/New_York")
TODAY, YESTERDAY, WEEK = "2025-01-15", "2025-01-14", "2025-01-13"
PRE_GAME_CHAIN_INPUTS = ("schedule", "injury_report", "prop_line_snapshots")
CONDITIONS = load_automation_config().conditions
# the pre-game chain in its order (config): lines, features, predictions, then what reads them
PRE_GAME_CHAIN = CONDITIONS.pre_game_assets
AFTER_PREDICTIONS = PRE_GAME_CHAIN[PRE_GAME_CHAIN.index("predictions") + 1 :]
# the published files (config/publish.yaml): they follow the ledger and its grading
PUBLISH = frozenset(load_publish_config().assets)


def today(*assets: str, day: str = TODAY) -> dict[str, set[str]]:
    return {asset: {day} for asset in assets}


@pytest.fixture(scope="module")
def raw_defs(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBA_PROPS_HOME", str(tmp_path_factory.mktemp("home")))
        yield dg.load_from_defs_folder(path_within_project=Path(definitions.__file__).parent)


@pytest.fixture(scope="module")
def real_defs(raw_defs):
    return apply_automation(raw_defs)


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def mat(instance, asset, *keys):
    for key in keys:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset, partition=key))


class Ticks:
    """Successive evaluations carrying the cursor, as the automation sensor does."""

    def __init__(self, defs, instance, ignore: frozenset[str] = frozenset()):
        self.defs, self.instance, self.cursor, self.ignore = defs, instance, None, ignore

    def __call__(self, *at: int, day: int = 15, month: int = 1) -> dict[str, set[str]]:
        result = dg.evaluate_automation_conditions(
            defs=self.defs, instance=self.instance, evaluation_time=datetime(2025, month, day, *at, tzinfo=ET),
            cursor=self.cursor,
        )  # fmt: skip
        self.cursor = result.cursor
        return {
            key.to_user_string(): set(result.get_requested_partitions(key))
            for key in self.defs.resolve_asset_graph().get_all_asset_keys()
            if result.get_num_requested(key) and key.to_user_string() not in self.ignore
        }


# The pre-game tests watch the pre-game chain; prediction_accuracy (graded after the games,
# requested whenever predictions change) has its own test below.
AFTER_GAMES = frozenset(CONDITIONS.post_game_assets)


def todays_inputs(instance, day=TODAY):
    for asset in ("schedule", "injury_report", "prop_line_snapshots"):
        mat(instance, asset, day)
    mat(instance, "trained_models", WEEK)


def test_only_derived_daily_assets_carry_the_condition(real_defs):
    graph = real_defs.resolve_asset_graph()
    with_condition = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).automation_condition}
    assert with_condition == {
        "player_lines",
        "player_features",
        "predictions",
        "prediction_accuracy",
        "model_performance_daily",
        "pre_game_signal",
        "market_regime",
        "signal_tags",
        "best_bets",
        "signal_health_daily",
        "published_picks",
        "pick_accuracy",
        "steering_report",
        *PUBLISH,
    }
    # every materializable asset has a freshness policy except the hand-run report
    no_policy = {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if graph.get(k).is_materializable and graph.get(k).freshness_policy is None
    }
    assert no_policy == {"model_evaluation"}


def test_todays_predictions_follow_their_inputs_and_history_gaps_never_block(real_defs, instance):
    tick = Ticks(real_defs, instance, ignore=AFTER_GAMES)
    todays_inputs(instance)  # no box_scores / player_lines history at all: every history day missing
    assert tick(9, 0) == {}  # the first tick only starts the bookkeeping (as eager)
    mat(instance, "player_lines", TODAY)
    # lines updated -> features and predictions of today, in one request (predictions' blockers
    # player_lines/player_features/trained_models are present or requested in the same tick)
    assert tick(9, 5) == today("player_features", "predictions", *AFTER_PREDICTIONS)
    for asset in ("player_features", "predictions", *AFTER_PREDICTIONS):
        mat(instance, asset, TODAY)
    assert tick(9, 10) == {}  # handled: nothing twice
    mat(instance, "player_features", TODAY)
    assert tick(9, 15) == today("predictions", *AFTER_PREDICTIONS)
    for asset in ("predictions", *AFTER_PREDICTIONS):  # the requested run
        mat(instance, asset, TODAY)
    assert tick(9, 20) == {}
    mat(instance, "prop_line_snapshots", TODAY)  # a new line snapshot moves the whole chain
    assert tick(11, 0) == today(*PRE_GAME_CHAIN)
    # after-the-games assets wait for the day's box scores (grading), not for its predictions
    assert not AFTER_GAMES & set(Ticks(real_defs, instance)(11, 5))


@pytest.mark.parametrize(
    ("month", "day", "week"),
    [(1, 16, WEEK), (3, 9, "2025-03-03"), (11, 2, "2025-10-27")],  # DST starts 03-09, ends 11-02
)
def test_a_new_day_waits_for_its_schedule_then_runs(real_defs, instance, month, day, week):
    tick = Ticks(real_defs, instance, ignore=AFTER_GAMES)
    new, eve = f"2025-{month:02d}-{day:02d}", f"2025-{month:02d}-{day - 1:02d}"
    for asset in PRE_GAME_CHAIN_INPUTS + PRE_GAME_CHAIN:
        mat(instance, asset, eve)
    mat(instance, "trained_models", week)
    assert tick(23, 50, day=day - 1, month=month) == {}
    # the new ET date exists at midnight ET: newly missing, but its schedule is not ingested yet
    assert tick(0, 10, day=day, month=month) == {}
    assert tick(3, 30, day=day, month=month) == {}  # after the DST switch at 02:00: still waiting
    mat(instance, "schedule", new)
    assert tick(3, 40, day=day, month=month) == {asset: {new} for asset in PRE_GAME_CHAIN}


@dg.asset(partitions_def=game_date_partitions, deps=["box_scores"], group_name="grading")
def graded_outcomes() -> None:
    """Test-only: a later issue's asset reading same-day box scores; joins by default."""


def test_yesterdays_partition_updates_when_its_box_scores_land(raw_defs, instance):
    defs = apply_automation(dg.Definitions.merge(raw_defs, dg.Definitions(assets=[graded_outcomes])))
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey("graded_outcomes")).automation_condition is not None
    tick = Ticks(defs, instance)
    assert tick(6, 0, day=16) == {}
    mat(instance, "box_scores", TODAY)  # the 15th's games finished overnight
    requested = tick(6, 5, day=16)
    assert requested["graded_outcomes"] == {TODAY}  # yesterday, thanks to the lookback
    # planted fault: the same with a one-day window (plain eager's) never requests yesterday
    config = load_automation_config()
    short = config.model_copy(update={"conditions": config.conditions.model_copy(update={"lookback_days": 1})})
    defs_short = apply_automation(dg.Definitions.merge(raw_defs, dg.Definitions(assets=[graded_outcomes])), short)
    with dg.instance_for_test() as other:
        tick = Ticks(defs_short, other)
        assert tick(6, 0, day=16) == {}
        mat(other, "box_scores", TODAY)
        assert "graded_outcomes" not in tick(6, 5, day=16)


def test_a_pre_game_day_is_never_rebuilt_after_its_games(real_defs, instance):
    """Yesterday's schedule turning final (ingested with its box scores) must not rebuild
    yesterday's lines, features or predictions: they are what was known before the games."""
    tick = Ticks(real_defs, instance, ignore=AFTER_GAMES)
    todays_inputs(instance, YESTERDAY)
    for asset in PRE_GAME_CHAIN:
        mat(instance, asset, YESTERDAY)
    assert tick(23, 0, day=14) == {}
    mat(instance, "schedule", YESTERDAY)  # the games of the 14th are final
    mat(instance, "box_scores", YESTERDAY)
    # nothing of the pre-game chain (the after-the-games assets, ignored here, are tested below)
    assert tick(1, 30) == {}
    # a schedule update never moves a pre-game chain, not even today's (an early slate turning final
    # before midnight; a posting's run re-ingests the schedule and builds the chain itself) ...
    todays_inputs(instance, TODAY)
    for asset in PRE_GAME_CHAIN:
        mat(instance, asset, TODAY)
    assert tick(9, 0) == {}
    mat(instance, "schedule", TODAY)
    assert tick(9, 5) == {}
    # ... while a new line snapshot of the day does
    mat(instance, "prop_line_snapshots", TODAY)
    assert tick(9, 10) == {asset: {TODAY} for asset in PRE_GAME_CHAIN}


def test_prediction_accuracy_grades_yesterday_when_its_box_scores_land(real_defs, instance):
    """Graded when the day's box scores land (a post-game trigger), held back without the day's
    predictions (its same-day blocker), never on a pre-game rebuild of the predictions; yesterday's
    partition too (the lookback); health and regime follow the grading."""
    # (the files follow the ledger, which a pre-game update of the day requests: not looked at here)
    tick = Ticks(real_defs, instance, ignore=frozenset(PRE_GAME_CHAIN) | PUBLISH)
    todays_inputs(instance, YESTERDAY)
    assert tick(9, 0, day=14) == {}
    mat(instance, "predictions", YESTERDAY)  # the day's predictions (and their rebuilds): no grading yet
    assert tick(9, 5, day=14) == {}
    mat(instance, "predictions", YESTERDAY)
    assert tick(17, 0, day=14) == {}
    mat(instance, "schedule", YESTERDAY)  # the games of the 14th are final, their box scores land
    mat(instance, "box_scores", YESTERDAY)
    # yesterday (thanks to the lookback) graded; health and regime of yesterday and of today (whose
    # windows end today and include yesterday) in the same request
    both = {YESTERDAY, TODAY}
    # health, regime, signal health, then the steering report (after the health) ...; pick_accuracy
    # also waits for the day's ledger (none here)
    following: list[str] = []
    while added := [asset for asset, triggers in CONDITIONS.post_game_assets.items()
                    if asset not in following and asset not in CONDITIONS.same_day_blockers and asset not in PUBLISH
                    and set(triggers) <= {"prediction_accuracy", *following}]:  # fmt: skip
        following += added
    assert "steering_report" in following and "pick_accuracy" not in following
    assert tick(1, 30) == {"prediction_accuracy": {YESTERDAY}} | {asset: both for asset in following}
    mat(instance, "prediction_accuracy", YESTERDAY)
    for asset in following:
        for day in both:
            mat(instance, asset, day)
    assert tick(1, 35) == {}


def test_grading_waits_for_the_days_predictions(real_defs, instance):
    tick = Ticks(real_defs, instance, ignore=frozenset(PRE_GAME_CHAIN))
    todays_inputs(instance, YESTERDAY)
    assert tick(9, 0, day=14) == {}
    mat(instance, "box_scores", YESTERDAY)  # no predictions of the 14th: nothing to grade
    assert tick(9, 5, day=14) == {}


def start_run(instance, asset, key):
    run = create_run_for_test(
        instance, job_name="nba_props_daily", status=dg.DagsterRunStatus.STARTED, tags={"dagster/partition": key}
    )
    event = DagsterEvent(
        event_type_value=DagsterEventType.ASSET_MATERIALIZATION_PLANNED.value,
        job_name="nba_props_daily",
        event_specific_data=AssetMaterializationPlannedData(dg.AssetKey(asset), partition=key),
    )
    instance.store_event(
        EventLogEntry(
            error_info=None, level="debug", user_message="", run_id=run.run_id, timestamp=time.time(),
            dagster_event=event, job_name="nba_props_daily",
        )
    )  # fmt: skip
    return run


def test_nothing_is_requested_while_a_run_of_the_partition_is_in_progress(real_defs, instance):
    tick = Ticks(real_defs, instance, ignore=AFTER_GAMES)
    todays_inputs(instance)
    for asset in PRE_GAME_CHAIN:
        mat(instance, asset, TODAY)
    assert tick(9, 0) == {}
    run = start_run(instance, "predictions", TODAY)
    mat(instance, "player_features", TODAY)
    assert tick(9, 5) == {}  # predictions of today is being computed by that run
    instance.report_run_failed(run)  # the run ends (failed): the pending update is still owed
    assert tick(9, 10) == today("predictions", *AFTER_PREDICTIONS)


def test_nothing_after_a_failed_blocking_check_upstream(real_defs, instance):
    tick = Ticks(real_defs, instance)
    todays_inputs(instance)
    for asset in PRE_GAME_CHAIN:
        mat(instance, asset, TODAY)
    assert tick(9, 0) == {}
    mat(instance, "player_features", TODAY)
    record = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("player_features"), asset_partitions=[TODAY]), limit=1
    ).records[0]
    from dagster._core.definitions.asset_checks.asset_check_evaluation import (
        AssetCheckEvaluationTargetMaterializationData,
    )

    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey("player_features"), check_name="leak_free", passed=False, blocking=True,
            partition=TODAY,
            target_materialization_data=AssetCheckEvaluationTargetMaterializationData(
                storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
            ),
        )
    )  # fmt: skip
    assert tick(9, 5) == {}  # predictions would run on leaky features: held back


def test_a_blocker_read_through_a_history_window_is_refused(real_defs):
    config = load_automation_config()
    bad = config.model_copy(
        update={
            "conditions": config.conditions.model_copy(update={"same_day_blockers": {"player_lines": ["box_scores"]}})
        }
    )
    spec = next(s for s in real_defs.resolve_all_asset_specs() if s.key == dg.AssetKey("player_lines"))
    with pytest.raises(ValueError, match="history window"):
        condition_for(spec, bad)


def test_an_alerts_update_never_requests_the_steering_report(raw_defs, real_defs, instance):
    """steering_report reads the (unpartitioned, sensor-written) `alerts` asset, but its only
    post-game trigger is model_performance_daily: the alerts sensor's many updates request
    nothing; the day's health does."""
    graph = real_defs.resolve_asset_graph()
    assert dg.AssetKey("alerts") in graph.get(dg.AssetKey("steering_report")).parent_keys
    assert tuple(CONDITIONS.post_game_assets["steering_report"]) == ("model_performance_daily",)
    tick = Ticks(real_defs, instance, ignore=frozenset(PRE_GAME_CHAIN))
    todays_inputs(instance, YESTERDAY)
    assert tick(9, 0, day=14) == {}
    for minute in (0, 5):  # an alert raised, then recovered: two runless updates of `alerts`
        instance.report_runless_asset_event(dg.AssetMaterialization("alerts"))
        assert tick(8, minute) == {}
    mat(instance, "model_performance_daily", YESTERDAY)
    assert "steering_report" in tick(8, 10)
    # the planted fault: `alerts` as a trigger too, and the same alert update requests the report
    config = load_automation_config()
    posts = dict(config.conditions.post_game_assets) | {"steering_report": ["model_performance_daily", "alerts"]}
    bad = config.model_copy(update={"conditions": config.conditions.model_copy(update={"post_game_assets": posts})})
    with dg.instance_for_test() as other:
        tick = Ticks(apply_automation(raw_defs, bad), other, ignore=frozenset(PRE_GAME_CHAIN))
        todays_inputs(other, YESTERDAY)
        assert tick(9, 0, day=14) == {}
        other.report_runless_asset_event(dg.AssetMaterialization("alerts"))
        assert "steering_report" in tick(8, 0)


def test_the_replays_evaluation_requests_what_dagsters_does_tick_after_tick(real_defs, instance):
    """The replay evaluates without the tester's cursor round trip (nba_props.replay.evaluate_conditions):
    the same requests and the same cursor, tick after tick, as the data arrives."""
    from dagster_shared.serdes import serialize_value

    from nba_props.replay import evaluate_conditions

    graph = real_defs.resolve_asset_graph()

    def requested(result):
        return {
            key.to_user_string(): set(result.get_requested_partitions(key))
            for key in graph.get_all_asset_keys()
            if result.get_num_requested(key)
        }

    arrivals = {
        9: lambda: todays_inputs(instance),
        10: lambda: mat(instance, "player_lines", TODAY),
        11: lambda: mat(instance, "box_scores", YESTERDAY),
        12: lambda: None,
    }
    theirs = ours = None
    seen = []
    for hour, arrive in arrivals.items():
        arrive()
        at = datetime(2025, 1, 15, hour, tzinfo=ET)
        dagster_result = dg.evaluate_automation_conditions(defs=real_defs, instance=instance, evaluation_time=at, cursor=theirs)  # fmt: skip
        replay_result = evaluate_conditions(real_defs, instance, ours, at)
        assert requested(replay_result) == requested(dagster_result)
        assert serialize_value(replay_result.cursor) == serialize_value(dagster_result.cursor)
        theirs, ours = dagster_result.cursor, replay_result.cursor
        seen.append(requested(replay_result))
    assert any(seen) and seen[-1] == {}  # something was requested, and the last quiet tick asks nothing
