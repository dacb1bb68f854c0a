"""The one season calendar: labels, opening nights, phases, weeks. No date literals elsewhere.

A season is labelled by the year it opens ("2024-25" opens in October 2024). A `SeasonCalendar`
knows the opening nights: the listed ones, later seasons by the league's pattern (the Tuesday
between 18 and 24 October), and any a loaded schedule tells it
(`SeasonCalendar.with_opening_nights` / `from_regular_season_dates` return a new calendar; nothing
is registered globally). The module functions use `DEFAULT_CALENDAR`; code that knows better
takes a calendar and passes it on explicitly.

The season of a date and the week (Monday) of a date are each decided by one rule here, in two
forms: for a Python `date` and as a polars expression over a date column (`*_expr`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

import polars as pl

GAME_TZ = ZoneInfo("America/New_York")

KNOWN_OPENING_NIGHTS: dict[str, date] = {
    "2021-22": date(2021, 10, 19),
    "2022-23": date(2022, 10, 18),
    "2023-24": date(2023, 10, 24),
    "2024-25": date(2024, 10, 22),
    "2025-26": date(2025, 10, 21),
}
# Measured on 2021-22 .. 2025-26: the regular season ends on the Sunday 173 days after the
# opening Tuesday, the play-in runs Tuesday to Friday after it, the playoffs start Saturday.
REGULAR_SEASON_DAYS = 173
PLAY_IN_START_OFFSET = 2
PLAYOFFS_START_OFFSET = 6
PLAYOFFS_LAST_MONTH_DAY = (6, 30)  # the record window closes at the end of June
# A date in this month or later belongs to the season opening that calendar year; earlier
# months to the season that opened the year before (no season opens before October).
SEASON_START_MONTH = 10


class Phase(StrEnum):
    REGULAR = "regular"
    PLAY_IN = "play_in"
    PLAYOFFS = "playoffs"
    OFF_SEASON = "off_season"


@dataclass(frozen=True)
class Season:
    label: str
    opening_night: date
    regular_season_end: date
    play_in_start: date
    playoffs_start: date
    playoffs_end: date

    @property
    def start_year(self) -> int:
        return int(self.label[:4])

    def contains(self, day: date) -> bool:
        return self.opening_night <= day <= self.playoffs_end

    def phase(self, day: date) -> Phase:
        if day < self.opening_night or day > self.playoffs_end:
            return Phase.OFF_SEASON
        if day <= self.regular_season_end:
            return Phase.REGULAR
        if day < self.playoffs_start:
            return Phase.PLAY_IN
        return Phase.PLAYOFFS


def label_for_start_year(year: int) -> str:
    return f"{year}-{(year + 1) % 100:02d}"


def season_start_year(day: date) -> int:
    """October or later belongs to the season opening that year; earlier months to the previous."""
    return day.year if day.month >= SEASON_START_MONTH else day.year - 1


def season_label(day: date) -> str:
    return label_for_start_year(season_start_year(day))


def season_start_year_expr(day: pl.Expr) -> pl.Expr:
    """`season_start_year` of a date column (Int32)."""
    year = day.dt.year()
    return pl.when(day.dt.month() >= SEASON_START_MONTH).then(year).otherwise(year - 1).cast(pl.Int32)


def label_for_start_year_expr(start_year: pl.Expr) -> pl.Expr:
    """`label_for_start_year` of an integer column: 2024 -> "2024-25"."""
    year = start_year.cast(pl.Int32)
    return pl.concat_str([year.cast(pl.Utf8), pl.lit("-"), ((year + 1) % 100).cast(pl.Utf8).str.zfill(2)])


def season_label_expr(day: pl.Expr) -> pl.Expr:
    """`season_label` of a date column."""
    return label_for_start_year_expr(season_start_year_expr(day))


def parse_label(label: str) -> int:
    """Start year of a label like "2024-25"; raises ValueError on anything else."""
    try:
        start, end = label.split("-")
        year = int(start)
    except ValueError as exc:
        raise ValueError(f"season label must look like '2024-25', got {label!r}") from exc
    if len(start) != 4 or len(end) != 2 or (year + 1) % 100 != int(end):
        raise ValueError(f"season label must look like '2024-25', got {label!r}")
    return year


RULE_FIRST_CANDIDATE_MONTH_DAY = (10, 18)  # rule_opening_night: the Tuesday between 18 and 24 October


def rule_opening_night(year: int) -> date:
    """The Tuesday between 18 and 24 October (true for every season 2021-22 .. 2025-26)."""
    first_candidate = date(year, *RULE_FIRST_CANDIDATE_MONTH_DAY)
    return first_candidate + timedelta(days=(1 - first_candidate.weekday()) % 7)


@dataclass(frozen=True)
class SeasonCalendar:
    """Opening nights by season label (the known ones unless told otherwise); every other season
    follows `rule_opening_night`. Immutable: `with_opening_nights` returns a new calendar."""

    opening_nights: Mapping[str, date] = field(default_factory=lambda: MappingProxyType(dict(KNOWN_OPENING_NIGHTS)))

    def __post_init__(self) -> None:
        for label, day in self.opening_nights.items():
            parse_label(label)
            if season_label(day) != label:
                raise ValueError(f"{day} is not in season {label}")
        object.__setattr__(self, "opening_nights", MappingProxyType(dict(self.opening_nights)))

    def with_opening_nights(self, opening_nights: Mapping[str, date]) -> SeasonCalendar:
        """This calendar with these seasons' opening nights replaced (e.g. from a loaded schedule)."""
        return SeasonCalendar({**self.opening_nights, **opening_nights})

    def from_regular_season_dates(self, days: Iterable[date]) -> SeasonCalendar:
        """This calendar with each season's first regular-season game date of `days` as its opening night."""
        first: dict[str, date] = {}
        for day in days:
            label = season_label(day)
            first[label] = min(day, first.get(label, day))
        return self.with_opening_nights(first)

    def opening_night(self, label: str) -> date:
        year = parse_label(label)
        return self.opening_nights.get(label) or rule_opening_night(year)

    def season(self, label: str) -> Season:
        opening = self.opening_night(label)
        regular_end = opening + timedelta(days=REGULAR_SEASON_DAYS)
        month, day = PLAYOFFS_LAST_MONTH_DAY
        return Season(
            label=label,
            opening_night=opening,
            regular_season_end=regular_end,
            play_in_start=regular_end + timedelta(days=PLAY_IN_START_OFFSET),
            playoffs_start=regular_end + timedelta(days=PLAYOFFS_START_OFFSET),
            playoffs_end=date(parse_label(label) + 1, month, day),
        )

    def season_of(self, day: date) -> Season:
        return self.season(season_label(day))

    def phase_of(self, day: date) -> Phase:
        return self.season_of(day).phase(day)


DEFAULT_CALENDAR = SeasonCalendar()


def opening_night(label: str) -> date:
    return DEFAULT_CALENDAR.opening_night(label)


def season(label: str) -> Season:
    return DEFAULT_CALENDAR.season(label)


def season_of(day: date) -> Season:
    return DEFAULT_CALENDAR.season_of(day)


def phase_of(day: date) -> Phase:
    return DEFAULT_CALENDAR.phase_of(day)


def game_date_of(instant: datetime) -> date:
    """The America/New_York calendar date of an aware instant (a 22:30 ET tip stays that day)."""
    if instant.tzinfo is None:
        raise ValueError("game_date_of needs a timezone-aware datetime (UTC tip times are aware)")
    return instant.astimezone(GAME_TZ).date()


def today_et(now: datetime | None = None) -> date:
    """'Today' is always the ET date, never the UTC one."""
    return game_date_of(now or datetime.now(tz=GAME_TZ))


def seasons_between(start: date, end: date) -> list[str]:
    first, last = season_start_year(start), season_start_year(end)
    return [label_for_start_year(y) for y in range(first, last + 1)]


# ---------------------------------------------------------------------------------------------
# weeks: a training week starts on Monday (ET game dates); its models see only earlier games


def week_start(day: date) -> date:
    """The Monday of `day`'s week (the day itself on a Monday)."""
    return day - timedelta(days=day.weekday())


def week_starts(start: date, end: date) -> list[date]:
    """The Mondays of every week touching [start, end]: week_start(start) .. week_start(end)."""
    first = week_start(start)
    return [first + timedelta(days=7 * i) for i in range((end - first).days // 7 + 1)]


def week_start_expr(day: pl.Expr) -> pl.Expr:
    """`week_start` of a date column (polars weekdays run Monday = 1 .. Sunday = 7)."""
    return day - pl.duration(days=day.dt.weekday() - 1)
