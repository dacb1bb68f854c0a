"""Sensors on data arriving: lines posted, games final, the weekly model. No cron anywhere.

Each sensor polls the provider (cheap polling helpers, as of the clock) and, for `weekly_training`,
the instance; the decisions are the pure functions of `nba_props.lib.sensing`; the intervals and
rules come from config/sensors.yaml. A posting's run also builds that day's pre-game chain
(lines -> features -> predictions -> picks, and the files published from them: `with_pre_game_chain`);
everything else downstream is requested
by declarative automation, not here. A provider error is logged and skips the tick with the cursor kept (nothing requested).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import dagster as dg

from nba_props.lib import sensing
from nba_props.lib.automation import load_automation_config
from nba_props.partitions import is_game_season_day, is_partition_day, partition_key
from nba_props.resources import ClockResource, ProviderResource
from nba_props.seasons import game_date_of, week_start

CONFIG = sensing.load_sensor_config()
LAUNCHED_BY_TAG, SENSOR_TAG = "nba_props/launched_by", "nba_props/sensor"


def _with_quarantine(*sources: str) -> list[dg.AssetKey]:
    """Ingest steps are multi-assets with a `<source>_quarantine` output, not subsettable: both keys."""
    return [dg.AssetKey(name) for source in sources for name in (source, f"{source}_quarantine")]


BEFORE_GAMES = _with_quarantine("schedule", "injury_report", "prop_line_snapshots")
_CONDITIONS = load_automation_config().conditions
# everything a posting's run can build after its ingest: the whole chain (the week's model ready)
# and the files published from it (lib/sensing.pre_game_chain, the one rule for both)
PRE_GAME = [
    dg.AssetKey(name)
    for name in sensing.pre_game_chain(
        _CONDITIONS.pre_game_assets, _CONDITIONS.same_day_blockers, True, _CONDITIONS.post_game_assets
    )
]
AFTER_GAMES = _with_quarantine("schedule", "box_scores")
TRAINING = [dg.AssetKey("trained_models")]


def _last_partition_day(now) -> date:
    from dagster._core.definitions.partitions.context import partition_loading_context

    from nba_props.partitions import game_date_partitions

    with partition_loading_context(effective_dt=now):
        return date.fromisoformat(game_date_partitions.get_last_partition_key())


def _tags(sensor_name: str) -> dict[str, str]:
    return {LAUNCHED_BY_TAG: "sensor", SENSOR_TAG: sensor_name}


def _provider_error(context: dg.SensorEvaluationContext, exc: Exception) -> dg.SkipReason:
    context.log.warning(f"provider error, nothing requested, cursor kept: {type(exc).__name__}: {exc}")
    return dg.SkipReason(f"provider error: {type(exc).__name__}: {exc}")


@dg.sensor(
    name="lines_posted",
    description="New line snapshots or injury reports for today or tomorrow (ET) -> that date's before-the-games "
    "ingest (schedule and whichever of injury_report / prop_line_snapshots brought data) and its pre-game chain (player_lines, player_features, "
    "predictions and picks once the week's model exists, then the files published from the picks), one run. "
    "Cursor: the capture instants seen per date.",
    asset_selection=BEFORE_GAMES + PRE_GAME,
    minimum_interval_seconds=CONFIG.lines_posted.minimum_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def lines_posted(
    context: dg.SensorEvaluationContext, clock: ClockResource, provider: ProviderResource
) -> dg.SensorResult | dg.SkipReason:
    today = game_date_of(clock.now())
    start, end = sensing.poll_window(today, days_after=CONFIG.lines_posted.days_ahead)
    # Only dates that are partitions now: tomorrow's key exists from midnight ET (end_offset=1), and
    # a date left out here keeps its snapshots unseen, so they are requested once it exists.
    end = min(end, _last_partition_day(clock.now()))
    if end < start:  # past the configured partition range (NBA_PROPS_PARTITION_SEASONS): nothing to poll
        return dg.SkipReason(f"{start} is after the last partition {end}")
    try:
        source, as_of = provider.get(), clock.as_of()
        snapshots = source.line_snapshot_times(start, end, as_of)
        reports = source.injury_report_times(start, end, as_of)
    except Exception as exc:  # noqa: BLE001 - any provider failure skips the tick
        return _provider_error(context, exc)
    seen = sensing.parse_seen_cursor(context.cursor)
    by_date, cursor = sensing.new_data_by_date(snapshots, reports, seen, start, end)
    arrived = sensing.arrived_sources(snapshots, reports, seen)
    if not by_date:
        return dg.SensorResult(
            skip_reason=f"no new snapshot or injury report for {start} .. {end}", cursor=json.dumps(cursor)
        )
    requests = [
        dg.RunRequest(
            partition_key=partition_key(day),
            asset_selection=_ingest(arrived.get(day, set())) + _pre_game_chain(context.instance, day),
            run_key=f"lines_posted:{partition_key(day)}:{at.isoformat()}",
            tags=_tags("lines_posted"),
        )
        for day, at in sorted(by_date.items())
        if is_game_season_day(day)  # an off-season day (pre-season lines) is no partition
    ]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor))


def _ingest(sources: set[str]) -> list[dg.AssetKey]:
    """The schedule (tips and statuses move all day) and the feeds that brought new data: an
    injury report alone does not re-ingest the unchanged line snapshots, nor the reverse."""
    return _with_quarantine("schedule", *(s for s in (sensing.INJURIES, sensing.LINES) if s in sources))


def _pre_game_chain(instance: dg.DagsterInstance, day: date) -> list[dg.AssetKey]:
    """The day's pre-game assets to build in the posting's run (none when configured off)."""
    if not CONFIG.lines_posted.with_pre_game_chain:
        return []
    week = partition_key(week_start(day))
    model = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(sensing.MODEL_ASSET), asset_partitions=[week]), limit=1
    )
    names = sensing.pre_game_chain(
        _CONDITIONS.pre_game_assets, _CONDITIONS.same_day_blockers, bool(model.records), _CONDITIONS.post_game_assets
    )
    return [dg.AssetKey(name) for name in names]


@dg.sensor(
    name="games_final",
    description="A game date whose playable games are final with box scores available (postponed / cancelled "
    "games ignored) -> schedule + box_scores of that date; again when its set of final games changes.",
    asset_selection=AFTER_GAMES,
    minimum_interval_seconds=CONFIG.games_final.minimum_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def games_final(
    context: dg.SensorEvaluationContext, clock: ClockResource, provider: ProviderResource
) -> dg.SensorResult | dg.SkipReason:
    start, end = sensing.poll_window(game_date_of(clock.now()), days_before=CONFIG.games_final.lookback_days)
    try:
        states = provider.get().game_states(start, end, clock.as_of())
    except Exception as exc:  # noqa: BLE001 - any provider failure skips the tick
        return _provider_error(context, exc)
    to_request, cursor = sensing.final_dates(states, sensing.parse_final_games_cursor(context.cursor))
    requests = [
        dg.RunRequest(
            partition_key=partition_key(day),
            asset_selection=AFTER_GAMES,
            # the run key names the set of final games: a late game is a new key, a repeat is deduped
            run_key=f"games_final:{partition_key(day)}:{len(game_ids)}:{hash_ids(game_ids)}",
            tags=_tags("games_final"),
        )
        for day, game_ids in sorted(to_request.items())
        # an off-season day (pre-season games) or a day outside the configured seasons is no partition
        if is_game_season_day(day) and is_partition_day(day)
    ]
    if not requests:
        return dg.SensorResult(skip_reason=f"no newly final game date in {start} .. {end}", cursor=json.dumps(cursor))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor))


def hash_ids(game_ids: list[str]) -> str:
    return hashlib.sha1(",".join(game_ids).encode()).hexdigest()[:12]


@dg.sensor(
    name="weekly_training",
    description="The current week's trained_models (key = Monday ET) once the box scores of every game date of "
    "the previous week are materialized; early when the newest trained week is older than staleness_days.",
    asset_selection=TRAINING,
    minimum_interval_seconds=CONFIG.weekly_training.minimum_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def weekly_training(
    context: dg.SensorEvaluationContext, clock: ClockResource, provider: ProviderResource
) -> dg.SensorResult | dg.SkipReason:
    today = game_date_of(clock.now())
    week = week_start(today)
    if not is_partition_day(week):
        return dg.SkipReason(f"week {week} is not a training partition (outside NBA_PROPS_PARTITION_SEASONS)")
    previous = (week - timedelta(days=7), week - timedelta(days=1))
    try:
        states = provider.get().game_states(*previous, clock.as_of())
    except Exception as exc:  # noqa: BLE001 - any provider failure skips the tick
        return _provider_error(context, exc)
    game_dates = set(states.filter(~states["status"].is_in(sensing.NOT_PLAYED)).get_column("game_date"))
    instance = context.instance
    requested = sensing.parse_weeks_cursor(context.cursor)
    key, why = sensing.training_week_request(
        week,
        game_dates,
        set(instance.get_materialized_partitions(dg.AssetKey("box_scores"))),
        set(instance.get_materialized_partitions(dg.AssetKey("trained_models"))),
        requested,
        today,
        CONFIG.weekly_training.staleness_days,
    )
    if key is None:
        return dg.SkipReason(why)
    context.log.info(f"requesting trained_models {key}: {why}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                partition_key=key,
                asset_selection=TRAINING,
                run_key=f"weekly_training:{key}",
                tags={**_tags("weekly_training"), "nba_props/reason": why},
            )
        ],
        cursor=json.dumps(sensing.with_requested_week(requested, key)),
    )
