"""The one season calendar: labels, opening nights, phases. No date literals elsewhere.

A season is labelled by the year it opens ("2024-25" opens in October 2024). Known opening
nights are listed; later seasons follow the league's pattern (the Tuesday between 18 and 24
October) until a loaded schedule registers the real date with `register_opening_night`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

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

_opening_overrides: dict[str, date] = {}


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


def season_label(day: date) -> str:
    """October or later belongs to the season opening that year; earlier months to the previous."""
    return label_for_start_year(day.year if day.month >= 10 else day.year - 1)


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


def rule_opening_night(year: int) -> date:
    """The Tuesday between 18 and 24 October (true for every season 2021-22 .. 2025-26)."""
    first_candidate = date(year, 10, 18)
    return first_candidate + timedelta(days=(1 - first_candidate.weekday()) % 7)


def opening_night(label: str) -> date:
    year = parse_label(label)
    return _opening_overrides.get(label) or KNOWN_OPENING_NIGHTS.get(label) or rule_opening_night(year)


def register_opening_night(label: str, day: date) -> None:
    """A loaded schedule knows better than the rule: record its first regular-season date."""
    parse_label(label)
    if season_label(day) != label:
        raise ValueError(f"{day} is not in season {label}")
    _opening_overrides[label] = day


def clear_opening_overrides() -> None:
    _opening_overrides.clear()


def season(label: str) -> Season:
    opening = opening_night(label)
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


def season_of(day: date) -> Season:
    return season(season_label(day))


def phase_of(day: date) -> Phase:
    return season_of(day).phase(day)


def game_date_of(instant: datetime) -> date:
    """The America/New_York calendar date of an aware instant (a 22:30 ET tip stays that day)."""
    if instant.tzinfo is None:
        raise ValueError("game_date_of needs a timezone-aware datetime (UTC tip times are aware)")
    return instant.astimezone(GAME_TZ).date()


def today_et(now: datetime | None = None) -> date:
    """'Today' is always the ET date, never the UTC one."""
    return game_date_of(now or datetime.now(tz=GAME_TZ))


def seasons_between(start: date, end: date) -> list[str]:
    first, last = parse_label(season_label(start)), parse_label(season_label(end))
    return [label_for_start_year(y) for y in range(first, last + 1)]
