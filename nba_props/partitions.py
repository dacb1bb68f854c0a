"""Partitions: THE one game-date definition (America/New_York), training weeks, mappings.

Every daily asset uses `game_date_partitions`. Partition keys are ET game dates
("2025-01-15"); `end_offset=1` makes today's ET date a valid key (games are predicted before they are played).
History inputs use `previous_n_game_days(n)`, which ends the day *before* the partition, so a
feature can never see its own day; `history_input` makes the IO manager read them as calendar days.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from dagster import (
    AssetIn,
    BetaWarning,
    DailyPartitionsDefinition,
    TimeWindow,
    TimeWindowPartitionMapping,
    WeeklyPartitionsDefinition,
)

from nba_props import seasons
from nba_props.settings import load_settings

GAME_TZ_NAME = "America/New_York"
FIRST_SEASON = "2021-22"
DATE_FMT = "%Y-%m-%d"
ALL_SEASONS, LEAGUE_SEASONS = "all", "league"


def partition_range(spec: str, *, provider: str, sim_season: str) -> tuple[date, date | None]:
    """First and last partition day (inclusive; None = open-ended: today's ET date + 1) of
    `NBA_PROPS_PARTITION_SEASONS`: "all" = every season from FIRST_SEASON on; "league" = the
    simulated league's one season (opening night .. its last regular-season day: the simulator
    plays no playoffs) when the provider is simulated, else "all"; "2024-25" or "2023-24..2024-25"
    = those seasons, opening night .. the last one's playoffs. A season-bounded range lets a
    complete season read as filled in the UI (an off-season is only the days between seasons)."""
    if spec == LEAGUE_SEASONS:
        if provider != "simulated":
            return partition_range(ALL_SEASONS, provider=provider, sim_season=sim_season)
        season = seasons.season(sim_season)
        return season.opening_night, season.regular_season_end
    if spec == ALL_SEASONS:
        return seasons.opening_night(FIRST_SEASON), None
    first, _, last = spec.partition("..")
    last = last or first
    if seasons.parse_label(first) > seasons.parse_label(last):
        raise ValueError(f"partition seasons {spec!r}: {first} is after {last}")
    return seasons.opening_night(first), seasons.season(last).playoffs_end


def _configured_range() -> tuple[date, date | None]:
    settings = load_settings()
    return partition_range(settings.partition_seasons, provider=settings.provider, sim_season=settings.sim_season)


# Read once, when the code location loads (a partitions definition is part of every asset's spec).
FIRST_PARTITION_DAY, LAST_PARTITION_DAY = _configured_range()
GAME_DATE_START: str = FIRST_PARTITION_DAY.isoformat()  # "2021-10-19" for "all"
_END_DATE = None if LAST_PARTITION_DAY is None else (LAST_PARTITION_DAY + timedelta(days=1)).isoformat()

# Off-season days stay partitions. Dagster's `exclusions` could drop them (a season would then read
# as a share of in-season days only), but measured here (dagster 1.13.27) every partition mapping
# over an excluded range walks the exclusions: a 640-day history mapping went from ~1 ms to ~0.35 s
# (dates) or ~1 s (cron strings), a one-date lines+features+predictions run from ~6 s to 7-9 s, and
# each evaluation of the automation sensor from ~0.2 s to 7-12 s. Season bounds (above) cost nothing:
# a one-season deployment (the demo's simulated league) reads 100% once its season is in.


def is_game_season_day(day: date, calendar: seasons.SeasonCalendar = seasons.DEFAULT_CALENDAR) -> bool:
    """True when `day` lies in a season (opening night .. last playoff day): a partition's day."""
    return calendar.season_of(day).contains(day)


def is_partition_day(day: date) -> bool:
    """True when `day` lies in the configured partition range (whatever today is)."""
    return FIRST_PARTITION_DAY <= day and (LAST_PARTITION_DAY is None or day <= LAST_PARTITION_DAY)


game_date_partitions = DailyPartitionsDefinition(
    start_date=GAME_DATE_START,
    end_date=_END_DATE,
    timezone=GAME_TZ_NAME,
    end_offset=1,
    fmt=DATE_FMT,
)

# Weeks start Monday 00:00 ET (dagster's day_offset counts from Sunday = 0). The first key is
# the first Monday on or after GAME_DATE_START. A week's model is trained on games before its
# Monday, so the current (unfinished) week must already be a key: end_offset=1.
training_week_partitions = WeeklyPartitionsDefinition(
    start_date=GAME_DATE_START,
    end_date=_END_DATE,
    timezone=GAME_TZ_NAME,
    day_offset=1,
    end_offset=1,
    fmt=DATE_FMT,
)


def _window_mapping(start_offset: int, end_offset: int, allow_nonexistent: bool) -> TimeWindowPartitionMapping:
    with warnings.catch_warnings():  # allow_nonexistent_upstream_partitions is "beta" in 1.13
        warnings.simplefilter("ignore", BetaWarning)
        return TimeWindowPartitionMapping(
            start_offset=start_offset,
            end_offset=end_offset,
            allow_nonexistent_upstream_partitions=allow_nonexistent,
        )


def last_n_game_days(n: int, *, allow_nonexistent: bool = True) -> TimeWindowPartitionMapping:
    """The partition's day and the n-1 days before it (n days, inclusive of the day itself).

    Near the first partition the window is truncated to the days that exist instead of failing.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return _window_mapping(-(n - 1), 0, allow_nonexistent)


def previous_n_game_days(n: int, *, allow_nonexistent: bool = True) -> TimeWindowPartitionMapping:
    """The n days strictly before the partition (leak-free history): [day - n, day - 1].

    For the first partition the window is empty (no history yet) rather than an error.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return _window_mapping(-n, -1, allow_nonexistent)


def days_around(before: int, after: int, *, allow_nonexistent: bool = True) -> TimeWindowPartitionMapping:
    """The `before` days before the partition, the day itself and the `after` days after it:
    [day - before, day + after]. Days after the last existing partition are left out."""
    if before < 0 or after < 0:
        raise ValueError(f"before and after must be >= 0, got {before}, {after}")
    return _window_mapping(-before, after, allow_nonexistent)


# Input metadata: the calendar days (offsets from the run's first and last date) a history input
# means. A mapping's offsets count partitions; the IO manager reads exactly these calendar days, so
# what an asset reads would not change if partitions ever skipped days (exclusions).
CALENDAR_WINDOW = "calendar_window_days"
# An input's metadata key naming the only columns it reads of a wide table (the IO manager selects them).
INPUT_COLUMNS = "columns"


def history_input(asset: str, mapping: TimeWindowPartitionMapping, columns: Sequence[str] | None = None) -> AssetIn:
    """An input over `last_n_game_days` / `previous_n_game_days` of `asset`, read as calendar days
    (only `columns` of it when given)."""
    metadata: dict[str, object] = {CALENDAR_WINDOW: [mapping.start_offset, mapping.end_offset]}
    if columns is not None:
        metadata[INPUT_COLUMNS] = list(columns)
    return AssetIn(asset, partition_mapping=mapping, metadata=metadata)


def partition_key(day: date) -> str:
    return day.strftime(DATE_FMT)


def partition_dates(start: date, end: date) -> list[str]:
    """Game-date partition keys from start to end, both inclusive (empty when end < start)."""
    first = date.fromisoformat(GAME_DATE_START)
    if start < first:
        raise ValueError(f"{start} is before the first game-date partition {GAME_DATE_START}")
    return [partition_key(start + timedelta(days=i)) for i in range((end - start).days + 1)]


def window_dates(window: TimeWindow) -> tuple[date, date]:
    """Inclusive first and last ET game dates of an end-exclusive time window (last < first: an
    empty window). [2024-10-21 00:00 ET, 2024-10-24 00:00 ET) -> (2024-10-21, 2024-10-23); the
    instants are read in ET whatever timezone the window carries."""
    first = window.start.astimezone(seasons.GAME_TZ).date()
    last = (window.end - timedelta(microseconds=1)).astimezone(seasons.GAME_TZ).date()
    return first, last


def _as_window(context_or_window: Any) -> TimeWindow:
    if isinstance(context_or_window, TimeWindow):
        return context_or_window
    window = getattr(context_or_window, "partition_time_window", None)
    if isinstance(window, TimeWindow):
        return window
    raise TypeError(
        "date_range_of needs a dagster TimeWindow, a context with a time-window partition "
        f"(partition_time_window), or a partition key; got {type(context_or_window).__name__}"
    )


def date_range_of(context_or_window: Any) -> tuple[date, date]:
    """Inclusive (first, last) ET game dates of a time window, a partitioned context, or a key.

    Dagster windows are end-exclusive and tz-aware: the window of "2025-01-15" is
    [2025-01-15 00:00 ET, 2025-01-16 00:00 ET), i.e. (2025-01-15, 2025-01-15) here. A backfill
    run over a key range gives the whole range.
    """
    if isinstance(context_or_window, str):
        day = datetime.strptime(context_or_window, DATE_FMT).date()
        return day, day
    window = _as_window(context_or_window)
    first, last = window_dates(window)
    if last < first:
        raise ValueError(f"empty time window {window}")
    return first, last
