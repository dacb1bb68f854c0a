from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from nba_props import seasons
from nba_props.seasons import Phase

ET = ZoneInfo("America/New_York")
UTC = UTC

OPENING_NIGHTS = {
    "2021-22": date(2021, 10, 19),
    "2022-23": date(2022, 10, 18),
    "2023-24": date(2023, 10, 24),
    "2024-25": date(2024, 10, 22),
    "2025-26": date(2025, 10, 21),
}
# Last regular-season day of each known season (league calendar).
REGULAR_SEASON_ENDS = {
    "2021-22": date(2022, 4, 10),
    "2022-23": date(2023, 4, 9),
    "2023-24": date(2024, 4, 14),
    "2024-25": date(2025, 4, 13),
    "2025-26": date(2026, 4, 12),
}


@pytest.mark.parametrize(("label", "day"), OPENING_NIGHTS.items())
def test_known_opening_nights(label, day):
    assert seasons.opening_night(label) == day
    assert seasons.KNOWN_OPENING_NIGHTS[label] == day


@pytest.mark.parametrize(("label", "day"), OPENING_NIGHTS.items())
def test_rule_reproduces_known_opening_nights(label, day):
    assert seasons.rule_opening_night(seasons.parse_label(label)) == day


@pytest.mark.parametrize("year", range(2026, 2041))
def test_rule_opening_night_is_a_tuesday_18_to_24_october(year):
    day = seasons.rule_opening_night(year)
    assert day.weekday() == 1
    assert day.month == 10 and 18 <= day.day <= 24
    label = seasons.label_for_start_year(year)
    assert seasons.opening_night(label) == day
    assert seasons.season_label(day) == label


@pytest.mark.parametrize(("label", "end"), REGULAR_SEASON_ENDS.items())
def test_regular_season_end_matches_league_calendar(label, end):
    s = seasons.season(label)
    assert s.regular_season_end == end
    assert end.weekday() == 6  # Sunday
    assert s.play_in_start == end + timedelta(days=2)  # Tuesday
    assert s.playoffs_start == end + timedelta(days=6)  # Saturday
    assert s.playoffs_end == date(seasons.parse_label(label) + 1, 6, 30)


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2024, 10, 1), "2024-25"),
        (date(2024, 9, 30), "2023-24"),
        (date(2025, 1, 15), "2024-25"),
        (date(2024, 12, 31), "2024-25"),
        (date(2025, 7, 15), "2024-25"),
        (date(1999, 11, 1), "1999-00"),
        (date(2099, 11, 1), "2099-00"),
    ],
)
def test_season_label(day, label):
    assert seasons.season_label(day) == label


def test_parse_label():
    assert seasons.parse_label("2024-25") == 2024
    assert seasons.parse_label("1999-00") == 1999
    for bad in ["2024", "2024-26", "24-25", "2024-2025", "abcd-ef", "", "2024_25", "2024-25-26"]:
        with pytest.raises(ValueError, match="2024-25"):
            seasons.parse_label(bad)


@pytest.mark.parametrize(
    ("day", "phase"),
    [
        (date(2024, 10, 21), Phase.OFF_SEASON),
        (date(2024, 10, 22), Phase.REGULAR),
        (date(2025, 4, 13), Phase.REGULAR),
        (date(2025, 4, 15), Phase.PLAY_IN),
        (date(2025, 4, 18), Phase.PLAY_IN),
        (date(2025, 4, 19), Phase.PLAYOFFS),
        (date(2025, 6, 22), Phase.PLAYOFFS),
        (date(2025, 6, 30), Phase.PLAYOFFS),
        (date(2025, 7, 1), Phase.OFF_SEASON),
        (date(2025, 7, 15), Phase.OFF_SEASON),
        (date(2025, 9, 30), Phase.OFF_SEASON),
        (date(2024, 2, 29), Phase.REGULAR),  # leap day
    ],
)
def test_phases_on_real_boundaries(day, phase):
    assert seasons.phase_of(day) == phase
    assert seasons.phase_of(day).value == phase.value


def test_leap_day_is_in_2023_24_regular_season():
    s = seasons.season_of(date(2024, 2, 29))
    assert s.label == "2023-24"
    assert s.contains(date(2024, 2, 29))
    assert s.phase(date(2024, 2, 29)) is Phase.REGULAR


def test_contains_and_start_year():
    s = seasons.season("2024-25")
    assert s.start_year == 2024
    assert s.contains(s.opening_night) and s.contains(s.playoffs_end)
    assert not s.contains(s.opening_night - timedelta(days=1))
    assert not s.contains(s.playoffs_end + timedelta(days=1))


def test_a_calendar_told_an_opening_night_overrides_rule_and_known_without_touching_the_default():
    rule_day = seasons.opening_night("2030-31")
    real = date(2030, 10, 29)
    assert real != rule_day
    calendar = seasons.DEFAULT_CALENDAR.with_opening_nights({"2030-31": real})
    assert calendar.opening_night("2030-31") == real
    assert calendar.season("2030-31").regular_season_end == real + timedelta(days=seasons.REGULAR_SEASON_DAYS)
    assert calendar.phase_of(rule_day) is Phase.OFF_SEASON
    assert calendar.phase_of(real) is Phase.REGULAR
    # a known season can be overridden as well; the default calendar never changes
    moved = calendar.with_opening_nights({"2024-25": date(2024, 10, 23)})
    assert moved.opening_night("2024-25") == date(2024, 10, 23)
    assert moved.opening_night("2030-31") == real
    assert calendar.opening_night("2024-25") == date(2024, 10, 22)
    assert seasons.opening_night("2024-25") == date(2024, 10, 22)
    assert seasons.opening_night("2030-31") == rule_day
    assert seasons.phase_of(rule_day) is Phase.REGULAR


def test_calendar_from_a_schedules_regular_season_dates_takes_each_seasons_first_date():
    days = [date(2030, 11, 2), date(2030, 10, 30), date(2031, 1, 5), date(2031, 10, 21), date(2031, 12, 1)]
    calendar = seasons.DEFAULT_CALENDAR.from_regular_season_dates(days)
    assert calendar.opening_night("2030-31") == date(2030, 10, 30)
    assert calendar.opening_night("2031-32") == date(2031, 10, 21)
    assert calendar.opening_night("2024-25") == date(2024, 10, 22)  # untouched seasons keep theirs


def test_calendar_rejects_an_opening_night_outside_its_season_or_a_bad_label():
    with pytest.raises(ValueError, match="not in season"):
        seasons.SeasonCalendar({"2030-31": date(2031, 10, 28)})
    with pytest.raises(ValueError):
        seasons.DEFAULT_CALENDAR.with_opening_nights({"2030": date(2030, 10, 28)})
    with pytest.raises(TypeError):
        seasons.DEFAULT_CALENDAR.opening_nights["2030-31"] = date(2030, 10, 29)  # read-only


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # DST ends 2024-11-03 (EDT -> EST): 19:30 EST = 00:30 UTC next day
        (datetime(2024, 11, 4, 0, 30, tzinfo=UTC), date(2024, 11, 3)),
        # DST starts 2025-03-09 (EST -> EDT): 19:30 EDT = 23:30 UTC same day
        (datetime(2025, 3, 9, 23, 30, tzinfo=UTC), date(2025, 3, 9)),
        # 01:30 EST on 2025-03-09 (before the 02:00 jump)
        (datetime(2025, 3, 9, 6, 30, tzinfo=UTC), date(2025, 3, 9)),
        # 01:30 EDT / 01:30 EST on 2024-11-03 (the repeated hour)
        (datetime(2024, 11, 3, 5, 30, tzinfo=UTC), date(2024, 11, 3)),
        (datetime(2024, 11, 3, 6, 30, tzinfo=UTC), date(2024, 11, 3)),
        # 22:30 EST tip = 03:30 UTC next day; 22:30 EDT = 02:30 UTC next day
        (datetime(2025, 1, 16, 3, 30, tzinfo=UTC), date(2025, 1, 15)),
        (datetime(2025, 4, 9, 2, 30, tzinfo=UTC), date(2025, 4, 8)),
        # just before / at midnight ET
        (datetime(2025, 1, 16, 4, 59, 59, tzinfo=UTC), date(2025, 1, 15)),
        (datetime(2025, 1, 16, 5, 0, tzinfo=UTC), date(2025, 1, 16)),
    ],
)
def test_game_date_of_utc_instants(instant, expected):
    assert seasons.game_date_of(instant) == expected


def test_dst_tip_times_round_trip():
    for day in (date(2024, 11, 3), date(2025, 3, 9)):
        for hour, minute in ((19, 30), (22, 30), (12, 0)):
            tip_et = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ET)
            tip_utc = tip_et.astimezone(UTC)
            assert seasons.game_date_of(tip_utc) == day
            assert seasons.game_date_of(tip_et) == day


def test_game_date_of_other_offsets():
    assert seasons.game_date_of(datetime(2025, 1, 16, 4, 0, tzinfo=timezone(timedelta(hours=1)))) == date(2025, 1, 15)


def test_game_date_of_rejects_naive():
    with pytest.raises(ValueError, match="timezone-aware"):
        seasons.game_date_of(datetime(2025, 1, 15, 19, 30))
    with pytest.raises(ValueError):
        seasons.today_et(datetime(2025, 1, 15, 19, 30))


def test_today_et_uses_new_york_date():
    assert seasons.today_et(datetime(2024, 11, 2, 3, 0, tzinfo=UTC)) == date(2024, 11, 1)
    assert seasons.today_et(datetime(2024, 11, 2, 4, 0, tzinfo=UTC)) == date(2024, 11, 2)
    assert isinstance(seasons.today_et(), date)


def test_seasons_between():
    assert seasons.seasons_between(date(2021, 10, 19), date(2025, 1, 15)) == [
        "2021-22",
        "2022-23",
        "2023-24",
        "2024-25",
    ]
    assert seasons.seasons_between(date(2025, 1, 1), date(2025, 3, 1)) == ["2024-25"]
    assert seasons.seasons_between(date(2025, 1, 1), date(2024, 1, 1)) == []


def test_expression_forms_agree_with_the_date_forms_on_every_day_of_two_years():
    import polars as pl

    days = [date(2023, 1, 1) + timedelta(days=i) for i in range(2 * 366)] + [date(1999, 11, 1), date(2099, 9, 30)]
    frame = pl.DataFrame({"day": days}).select(
        label=seasons.season_label_expr(pl.col("day")),
        start_year=seasons.season_start_year_expr(pl.col("day")),
        week=seasons.week_start_expr(pl.col("day")),
    )
    assert frame["label"].to_list() == [seasons.season_label(d) for d in days]
    assert frame["start_year"].dtype == pl.Int32
    assert frame["start_year"].to_list() == [seasons.season_start_year(d) for d in days]
    assert frame["week"].to_list() == [seasons.week_start(d) for d in days]
    years = pl.Series([1999, 2024, 2099])
    assert pl.select(seasons.label_for_start_year_expr(pl.lit(years))).to_series().to_list() == [
        "1999-00",
        "2024-25",
        "2099-00",
    ]


def test_week_start_and_week_starts():
    assert seasons.week_start(date(2025, 1, 13)) == date(2025, 1, 13)  # a Monday is its own week
    assert seasons.week_start(date(2025, 1, 19)) == date(2025, 1, 13)  # Sunday closes it
    assert seasons.week_start(date(2025, 1, 20)) == date(2025, 1, 20)
    assert seasons.week_starts(date(2025, 1, 15), date(2025, 1, 27)) == [
        date(2025, 1, 13),
        date(2025, 1, 20),
        date(2025, 1, 27),
    ]
    assert seasons.week_starts(date(2025, 1, 13), date(2025, 1, 19)) == [date(2025, 1, 13)]
    assert seasons.week_starts(date(2025, 1, 20), date(2025, 1, 19)) == []
