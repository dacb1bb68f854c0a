"""Partitions: THE one game-date definition (America/New_York), training weeks, mappings.

Every daily asset uses `game_date_partitions`. Partition keys are ET game dates
("2025-01-15") of the seasons (off-season days are excluded, derived from the season calendar);
`end_offset=1` makes today's ET date a valid key (games are predicted before they are played).
History inputs use `previous_n_game_days(n)`, which ends the day *before* the partition, so a
feature can never see its own day; `history_input` makes the IO manager read them as calendar days.
"""

from __future__ import annotations

import warnings
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

GAME_TZ_NAME = "America/New_York"
FIRST_SEASON = "2021-22"
GAME_DATE_START: str = seasons.KNOWN_OPENING_NIGHTS[FIRST_SEASON].isoformat()  # "2021-10-19"
DATE_FMT = "%Y-%m-%d"

# Off-season days (after a season's last playoff day, before the next opening night) are not
# partitions: nothing is played there. They are listed as dates for the calendar's seasons and
# FUTURE_SEASONS more (opening nights by the calendar's rule); later seasons get every day (a few
# off-season days too many, never a game day too few). The partition range still starts with the
# first season (2021-22), so one season alone reads about one fifth filled.
FUTURE_SEASONS = 10


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def off_season_exclusions(calendar: seasons.SeasonCalendar = seasons.DEFAULT_CALENDAR) -> list[str | datetime]:
    """Exclusions of the game-date partitions: every off-season day of the calendar (see above)."""
    month, day = seasons.PLAYOFFS_LAST_MONTH_DAY
    first_label = FIRST_SEASON
    last_year = max(seasons.parse_label(label) for label in calendar.opening_nights) + FUTURE_SEASONS
    earliest = min(
        [seasons.RULE_FIRST_CANDIDATE_MONTH_DAY] + [(d.month, d.day) for d in calendar.opening_nights.values()]
    )
    year = seasons.parse_label(first_label)
    after_playoffs = date(year, month, day) + timedelta(days=1)
    before_opening = date(year, *earliest) - timedelta(days=1)
    # Dates, not cron strings: Dagster checks a cron exclusion by iterating the cron for every
    # window it walks (a 640-day history mapping cost ~1 s; the listed dates ~0.35 s).
    exclusions: list[str | datetime] = [
        datetime(y, d.month, d.day, tzinfo=seasons.GAME_TZ)
        for y in range(year, last_year + 1)
        for d in _days(
            date(y, after_playoffs.month, after_playoffs.day), date(y, before_opening.month, before_opening.day)
        )
    ]
    for start_year in range(year + 1, last_year + 1):
        opening = calendar.opening_night(seasons.label_for_start_year(start_year))
        day_ = date(start_year, *earliest)
        while day_ < opening:
            exclusions.append(datetime(day_.year, day_.month, day_.day, tzinfo=seasons.GAME_TZ))
            day_ += timedelta(days=1)
    return exclusions


def is_game_season_day(day: date, calendar: seasons.SeasonCalendar = seasons.DEFAULT_CALENDAR) -> bool:
    """True when `day` lies in a season (opening night .. last playoff day): a partition's day."""
    return calendar.season_of(day).contains(day)


game_date_partitions = DailyPartitionsDefinition(
    start_date=GAME_DATE_START,
    timezone=GAME_TZ_NAME,
    end_offset=1,
    fmt=DATE_FMT,
    exclusions=off_season_exclusions(),
)

# Weeks start Monday 00:00 ET (dagster's day_offset counts from Sunday = 0). The first key is
# the first Monday on or after GAME_DATE_START. A week's model is trained on games before its
# Monday, so the current (unfinished) week must already be a key: end_offset=1.
training_week_partitions = WeeklyPartitionsDefinition(
    start_date=GAME_DATE_START,
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


# Input metadata: the calendar days (offsets from the run's first and last date) a history input
# means. The mapping's offsets count partitions, and over an off-season N partitions reach further
# back than N days; the IO manager reads exactly these calendar days (a subset of the mapped
# partitions' window), so what an asset reads does not depend on the exclusions.
CALENDAR_WINDOW = "calendar_window_days"


def history_input(asset: str, mapping: TimeWindowPartitionMapping) -> AssetIn:
    """An input over `last_n_game_days` / `previous_n_game_days` of `asset`, read as calendar days."""
    return AssetIn(
        asset, partition_mapping=mapping, metadata={CALENDAR_WINDOW: [mapping.start_offset, mapping.end_offset]}
    )


def partition_key(day: date) -> str:
    return day.strftime(DATE_FMT)


def partition_dates(start: date, end: date) -> list[str]:
    """Game-date partition keys from start to end, both inclusive (empty when end < start):
    the in-season days (off-season days are no partitions)."""
    first = date.fromisoformat(GAME_DATE_START)
    if start < first:
        raise ValueError(f"{start} is before the first game-date partition {GAME_DATE_START}")
    days = (start + timedelta(days=i) for i in range((end - start).days + 1))
    return [partition_key(day) for day in days if is_game_season_day(day)]


def key_range_within(start: date, end: date) -> tuple[str, str] | None:
    """The first and last partition keys inside [start, end] (a calendar range may begin or end
    in an off-season); None when it holds no partition."""
    keys = partition_dates(max(start, date.fromisoformat(GAME_DATE_START)), end)
    return (keys[0], keys[-1]) if keys else None


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
