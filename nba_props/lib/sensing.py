"""What the sensors decide, as pure functions of the polled frames and their cursor state (no
dagster import): which partitions to request and the new cursor. The rules and intervals live in
`config/sensors.yaml` (`SensorConfig`); the Dagster sensors (nba_props/defs/sensors/) only poll the
provider and the instance, call these, and turn the answer into run requests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from nba_props.lib.config_files import CONFIG_DIR, load_config
from nba_props.lib.sources.reveal import NOT_PLAYED, RevealRules

DEFAULT_CONFIG_PATH = CONFIG_DIR / "sensors.yaml"


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# No defaults: a value missing from the file fails at load instead of silently defaulting.


class LinesPostedRules(_Rule):
    minimum_interval_seconds: int = Field(ge=1)
    days_ahead: int = Field(ge=0)
    with_pre_game_chain: bool = True


class GamesFinalRules(_Rule):
    minimum_interval_seconds: int = Field(ge=1)
    lookback_days: int = Field(ge=0)


class WeeklyTrainingRules(_Rule):
    minimum_interval_seconds: int = Field(ge=1)
    staleness_days: int = Field(ge=1)


class SensorConfig(_Rule):
    reveal: RevealRules
    lines_posted: LinesPostedRules
    games_final: GamesFinalRules
    weekly_training: WeeklyTrainingRules


def load_sensor_config(path: str | Path | None = None) -> SensorConfig:
    """Read and validate a sensors YAML (default: the packaged `nba_props/config/sensors.yaml`)."""
    return load_config(SensorConfig, path if path is not None else DEFAULT_CONFIG_PATH)


# ---------------------------------------------------------------------------------------------
# lines_posted: new line snapshots / injury reports of today and tomorrow


def poll_window(today: date, days_before: int = 0, days_after: int = 0) -> tuple[date, date]:
    return today - timedelta(days=days_before), today + timedelta(days=days_after)


def parse_seen_cursor(cursor: str | None) -> dict[str, list[str]]:
    """{game date (ISO): the capture instants (ISO, UTC) of its snapshots and reports already seen}."""
    return json.loads(cursor) if cursor else {}


def new_data_by_date(
    snapshots: pl.DataFrame, reports: pl.DataFrame, seen: dict[str, list[str]], start: date, end: date
) -> tuple[dict[date, datetime], dict[str, list[str]]]:
    """({game date: its newest capture instant} of the dates of [start, end] with a snapshot
    (game_date, captured_at) or an injury report (game_date, reported_at) not seen before, the new
    cursor: the instants seen per date of [start, end]).

    One entry per date however many files arrived (a burst is one request), and nothing for data
    already seen, so a tick repeated on the same files (or after a restart with the saved cursor)
    requests nothing. The cursor keeps every instant seen per date, not only the newest: a file that
    shows up late with an older stamp (a DFS board is stamped 00:00 UTC of its date whenever it is
    written) is still new data."""
    instants = (
        pl.concat(
            [
                snapshots.select("game_date", at=pl.col("captured_at")),
                reports.select("game_date", at=pl.col("reported_at")),
            ]
        )
        .filter(pl.col("game_date").is_between(start, end))
        .unique()
        .sort("game_date", "at")
    )
    cursor = {day: list(ats) for day, ats in seen.items() if start <= date.fromisoformat(day) <= end}
    by_date: dict[date, datetime] = {}
    for day, at in instants.iter_rows():
        key, stamp = day.isoformat(), at.isoformat()
        if stamp not in cursor.get(key, []):
            cursor.setdefault(key, []).append(stamp)
            by_date[day] = max(at, by_date.get(day, at))
    return by_date, {day: sorted(ats) for day, ats in sorted(cursor.items())}


LINES, INJURIES = "prop_line_snapshots", "injury_report"


def arrived_sources(snapshots: pl.DataFrame, reports: pl.DataFrame, seen: dict[str, list[str]]) -> dict[date, set[str]]:
    """{game date: which feeds brought data not in `seen` (the cursor before this tick)}:
    prop_line_snapshots for a new snapshot instant, injury_report for a new report instant."""
    arrived: dict[date, set[str]] = {}
    for source, frame, column in ((LINES, snapshots, "captured_at"), (INJURIES, reports, "reported_at")):
        for day, at in frame.select("game_date", column).unique().iter_rows():
            if at.isoformat() not in seen.get(day.isoformat(), []):
                arrived.setdefault(day, set()).add(source)
    return arrived


# ---------------------------------------------------------------------------------------------
# games_final: dates whose playable games are final with box scores


def parse_final_games_cursor(cursor: str | None) -> dict[str, list[str]]:
    """{game date (ISO): the sorted final game ids last requested for it}."""
    return json.loads(cursor) if cursor else {}


def final_dates(
    states: pl.DataFrame, requested: dict[str, list[str]]
) -> tuple[dict[date, list[str]], dict[str, list[str]]]:
    """({date: its final game ids} to request, the new cursor) from `states` (game_date, game_id,
    status, box_score_available; the polled window).

    A date is ready when it has playable games (postponed / cancelled ones are ignored: they never
    block the rest of the date) and every one is final with its box scores available. It is
    requested again only when that set of games changes (a late game); the cursor keeps the dates
    of the window only."""
    window = {d.isoformat() for d in states.get_column("game_date").unique()}
    cursor = {day: ids for day, ids in requested.items() if day in window}
    to_request: dict[date, list[str]] = {}
    playable = states.filter(~pl.col("status").is_in(NOT_PLAYED))
    per_date = playable.group_by("game_date").agg(
        ready=((pl.col("status") == "final") & pl.col("box_score_available")).all(),
        game_ids=pl.col("game_id").sort(),
    )
    for day, ready, game_ids in per_date.sort("game_date").iter_rows():
        if ready and cursor.get(day.isoformat()) != list(game_ids):
            to_request[day] = list(game_ids)
            cursor[day.isoformat()] = list(game_ids)
    return to_request, dict(sorted(cursor.items()))


# ---------------------------------------------------------------------------------------------
# weekly_training: the current week's model once last week's box scores are in


def parse_weeks_cursor(cursor: str | None) -> list[str]:
    """The week keys (Mondays) already requested, oldest first."""
    return json.loads(cursor) if cursor else []


WEEKS_KEPT = 12  # requested weeks remembered (older weeks are long materialized)


def training_week_request(
    week: date,
    previous_week_game_dates: set[date],
    box_score_partitions: set[str],
    trained_weeks: set[str],
    requested_weeks: list[str],
    today: date,
    staleness_days: int,
) -> tuple[str | None, str]:
    """(the week key to request or None, why). `week` = the current Monday (ET); the previous week's
    dates with playable games come from the schedule; the partitions from the instance.

    Requested when the previous week had games and (a) every one of its game dates has box scores
    materialized, or (b) the newest trained week is more than `staleness_days` before today (early:
    last week's data is incomplete, the models are getting old). Never a week already trained or
    already requested. No games last week (off-season) -> nothing."""
    key = week.isoformat()
    if key in trained_weeks:
        return None, f"week {key} is already trained"
    if key in requested_weeks:
        return None, f"week {key} was already requested"
    if not previous_week_game_dates:
        return None, "no games in the previous week"
    missing = sorted(d for d in previous_week_game_dates if d.isoformat() not in box_score_partitions)
    if not missing:
        return key, "the previous week's box scores are all in"
    newest = max((date.fromisoformat(w) for w in trained_weeks), default=None)
    if newest is not None and (today - newest).days > staleness_days:
        return key, f"newest trained week {newest} is more than {staleness_days} days old"
    return None, f"box scores missing for {', '.join(d.isoformat() for d in missing)}"


def with_requested_week(requested_weeks: list[str], key: str) -> list[str]:
    return sorted({*requested_weeks, key})[-WEEKS_KEPT:]


MODEL_ASSET = "trained_models"


def pre_game_chain(
    pre_game_assets: Sequence[str],
    same_day_blockers: Mapping[str, Sequence[str]],
    model_ready: bool,
    followers: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """The pre-game assets a posting's run includes after its ingest, in order: all of them,
    except, while the week's model does not exist, those waiting on it (trained_models among their
    same-day blockers) and those waiting on an asset left out; the automation requests them later.
    Then the `followers` (a post-game asset -> the inputs whose update requests it) that one of the
    chain's assets requests: the files published from the day's picks, which the automation would
    otherwise request in a run of their own right after this one."""
    left_out = set() if model_ready else {MODEL_ASSET}
    chain = []
    for asset in pre_game_assets:
        if left_out & set(same_day_blockers.get(asset, ())):
            left_out.add(asset)
        else:
            chain.append(asset)
    built = set(chain)
    for asset, triggers in (followers or {}).items():
        if built & set(triggers) and not left_out & set(same_day_blockers.get(asset, ())):
            chain.append(asset)
    return chain
