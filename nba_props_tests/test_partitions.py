from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from nba_props import partitions, seasons
from nba_props.partitions import (
    GAME_DATE_START,
    date_range_of,
    days_around,
    game_date_partitions,
    last_n_game_days,
    partition_dates,
    previous_n_game_days,
    training_week_partitions,
)

UTC = UTC
ET = ZoneInfo("America/New_York")
# 22:00 ET on 2025-01-15
FROZEN = datetime(2025, 1, 16, 3, 0, tzinfo=UTC)


def _upstream_keys(mapping, key, current_time=FROZEN, upstream=game_date_partitions):
    subset = game_date_partitions.subset_with_partition_keys([key])
    result = mapping.get_upstream_mapped_partitions_result_for_partitions(
        subset, game_date_partitions, upstream, current_time=current_time
    )
    return sorted(result.partitions_subset.get_partition_keys()), result


def test_exactly_one_daily_partitions_definition():
    dailies = [v for v in vars(partitions).values() if isinstance(v, dg.DailyPartitionsDefinition)]
    assert dailies == [game_date_partitions]
    assert game_date_partitions.timezone == "America/New_York"
    assert game_date_partitions.end_offset == 1


def test_start_derived_from_season_calendar():
    assert GAME_DATE_START == "2021-10-19"
    assert GAME_DATE_START == seasons.KNOWN_OPENING_NIGHTS["2021-22"].isoformat()


def test_game_date_keys_with_frozen_clock():
    keys = game_date_partitions.get_partition_keys(current_time=FROZEN)
    assert keys[0] == "2021-10-19"
    # 22:00 ET on the 15th: today's ET date is the last key, not the UTC date (16th)
    assert keys[-1] == "2025-01-15"
    assert keys[-1] == seasons.today_et(FROZEN).isoformat()
    assert len(keys) == (date(2025, 1, 15) - date(2021, 10, 19)).days + 1
    # one minute after midnight ET the new day becomes a key
    after_midnight = datetime(2025, 1, 16, 5, 1, tzinfo=UTC)
    assert game_date_partitions.get_partition_keys(current_time=after_midnight)[-1] == "2025-01-16"


def test_today_is_a_valid_key_on_dst_days_with_instance():
    with dg.instance_for_test() as instance:
        for now in (
            datetime(2024, 11, 3, 23, 59, tzinfo=ET),
            datetime(2025, 3, 9, 23, 59, tzinfo=ET),
            datetime(2025, 3, 9, 0, 1, tzinfo=ET),
            datetime(2024, 11, 3, 1, 30, tzinfo=ET, fold=1),  # the repeated hour
        ):
            with dg.partition_loading_context(effective_dt=now, dynamic_partitions_store=instance):
                last = game_date_partitions.get_last_partition_key()
            assert last == now.date().isoformat() == seasons.today_et(now).isoformat()


def test_dst_day_windows_are_whole_et_days():
    fall = game_date_partitions.time_window_for_partition_key("2024-11-03")
    spring = game_date_partitions.time_window_for_partition_key("2025-03-09")
    assert fall.end.timestamp() - fall.start.timestamp() == timedelta(hours=25).total_seconds()
    assert spring.end.timestamp() - spring.start.timestamp() == timedelta(hours=23).total_seconds()
    assert date_range_of(fall) == (date(2024, 11, 3), date(2024, 11, 3))
    assert date_range_of(spring) == (date(2025, 3, 9), date(2025, 3, 9))
    # a 19:30 ET tip on each DST day lies inside that day's window
    for window, day in ((fall, date(2024, 11, 3)), (spring, date(2025, 3, 9))):
        tip = datetime(day.year, day.month, day.day, 19, 30, tzinfo=ET).astimezone(UTC)
        assert window.start <= tip < window.end
        assert game_date_partitions.get_partition_key_for_timestamp(tip.timestamp()) == day.isoformat()


def test_weekly_keys_are_mondays():
    keys = training_week_partitions.get_partition_keys(current_time=FROZEN)
    assert training_week_partitions.timezone == "America/New_York"
    assert keys[0] == "2021-10-25"  # first Monday on or after opening night 2021-10-19
    assert all(date.fromisoformat(k).weekday() == 0 for k in keys)
    # the current (unfinished) week is a key, so its model can be trained on its Monday
    assert keys[-1] == "2025-01-13"
    window = training_week_partitions.time_window_for_partition_key("2025-01-13")
    assert date_range_of(window) == (date(2025, 1, 13), date(2025, 1, 19))
    assert window.start == datetime(2025, 1, 13, tzinfo=ET)


def test_last_n_game_days_includes_the_day():
    keys, result = _upstream_keys(last_n_game_days(7), "2025-01-15")
    assert keys == [f"2025-01-{d:02d}" for d in range(9, 16)]
    assert result.required_but_nonexistent_subset.is_empty
    keys, _ = _upstream_keys(last_n_game_days(1), "2025-01-15")
    assert keys == ["2025-01-15"]


def test_days_around_reads_behind_the_day_and_ahead_up_to_the_last_partition():
    keys, result = _upstream_keys(days_around(2, 1), "2025-01-10")
    assert keys == ["2025-01-08", "2025-01-09", "2025-01-10", "2025-01-11"]
    assert result.required_but_nonexistent_subset.is_empty
    # FROZEN is 2025-01-15 22:00 ET: the last partition is today's, 2025-01-15 (end_offset=1); the
    # days after it are left out, not an error
    keys, result = _upstream_keys(days_around(0, 2), "2025-01-15")
    assert keys == ["2025-01-15"]
    assert result.required_but_nonexistent_subset.is_empty
    with pytest.raises(ValueError):
        days_around(-1, 0)


def test_previous_n_game_days_excludes_the_day():
    keys, result = _upstream_keys(previous_n_game_days(3), "2025-01-15")
    assert keys == ["2025-01-12", "2025-01-13", "2025-01-14"]
    assert "2025-01-15" not in keys
    assert result.required_but_nonexistent_subset.is_empty
    later = datetime(2025, 6, 1, tzinfo=UTC)
    keys, _ = _upstream_keys(previous_n_game_days(1), "2025-03-10", later)  # across the DST jump
    assert keys == ["2025-03-09"]
    keys, _ = _upstream_keys(previous_n_game_days(2), "2024-11-04", later)  # across the fall-back day
    assert keys == ["2024-11-02", "2024-11-03"]
    keys, _ = _upstream_keys(previous_n_game_days(2), "2024-03-01")  # leap day
    assert keys == ["2024-02-28", "2024-02-29"]


def test_mappings_truncate_at_the_first_partition():
    keys, result = _upstream_keys(previous_n_game_days(30), "2021-10-19")
    assert keys == []  # no history before opening night: an empty first window, not an error
    assert result.required_but_nonexistent_subset.is_empty
    keys, _ = _upstream_keys(previous_n_game_days(30), "2021-10-21")
    assert keys == ["2021-10-19", "2021-10-20"]
    keys, _ = _upstream_keys(last_n_game_days(5), "2021-10-20")
    assert keys == ["2021-10-19", "2021-10-20"]


def test_mapping_offsets_and_validation():
    assert (previous_n_game_days(14).start_offset, previous_n_game_days(14).end_offset) == (-14, -1)
    assert (last_n_game_days(14).start_offset, last_n_game_days(14).end_offset) == (-13, 0)
    for bad in (0, -3):
        with pytest.raises(ValueError):
            last_n_game_days(bad)
        with pytest.raises(ValueError):
            previous_n_game_days(bad)


def test_mapping_downstream_direction():
    upstream = game_date_partitions.subset_with_partition_keys(["2025-01-10"])
    downstream = previous_n_game_days(3).get_downstream_partitions_for_partitions(
        upstream, game_date_partitions, game_date_partitions, current_time=FROZEN
    )
    assert sorted(downstream.get_partition_keys()) == ["2025-01-11", "2025-01-12", "2025-01-13"]


def test_partition_dates():
    assert partition_dates(date(2025, 1, 30), date(2025, 2, 2)) == [
        "2025-01-30",
        "2025-01-31",
        "2025-02-01",
        "2025-02-02",
    ]
    assert partition_dates(date(2024, 2, 28), date(2024, 3, 1)) == ["2024-02-28", "2024-02-29", "2024-03-01"]
    assert partition_dates(date(2025, 1, 2), date(2025, 1, 1)) == []
    keys = partition_dates(date(2021, 10, 19), date(2025, 1, 15))
    assert keys == game_date_partitions.get_partition_keys(current_time=FROZEN)
    with pytest.raises(ValueError, match="2021-10-19"):
        partition_dates(date(2021, 10, 18), date(2021, 10, 20))


def test_weekly_mapping_of_predictions_to_models_is_unchanged():
    mapping = dg.TimeWindowPartitionMapping()
    for day, week in (("2024-10-22", "2024-10-21"), ("2025-01-15", "2025-01-13"), ("2025-03-09", "2025-03-03")):
        result = mapping.get_upstream_mapped_partitions_result_for_partitions(
            game_date_partitions.subset_with_partition_keys([day]),
            game_date_partitions,
            training_week_partitions,
            current_time=FROZEN if day < "2025-01-16" else datetime(2025, 3, 10, tzinfo=UTC),
        )
        assert list(result.partitions_subset.get_partition_keys()) == [week], day


def test_date_range_of_ranges_and_keys():
    window = dg.TimeWindow(datetime(2025, 1, 10, tzinfo=ET), datetime(2025, 1, 16, tzinfo=ET))
    assert date_range_of(window) == (date(2025, 1, 10), date(2025, 1, 15))
    # the same window expressed in UTC gives the same ET dates
    utc_window = dg.TimeWindow(window.start.astimezone(UTC), window.end.astimezone(UTC))
    assert date_range_of(utc_window) == (date(2025, 1, 10), date(2025, 1, 15))
    assert date_range_of("2025-01-15") == (date(2025, 1, 15), date(2025, 1, 15))
    with pytest.raises(TypeError):
        date_range_of(42)
    with pytest.raises(ValueError):
        date_range_of(dg.TimeWindow(window.start, window.start))


def test_window_dates_is_the_one_conversion_and_allows_an_empty_window():
    window = dg.TimeWindow(datetime(2025, 1, 10, tzinfo=ET), datetime(2025, 1, 16, tzinfo=ET))
    assert partitions.window_dates(window) == date_range_of(window) == (date(2025, 1, 10), date(2025, 1, 15))
    # storage asks for the (empty) window before the first partition without an error
    assert partitions.window_dates(dg.TimeWindow(window.start, window.start)) == (date(2025, 1, 10), date(2025, 1, 9))


def test_date_range_of_asset_context():
    seen = {}

    @dg.asset(partitions_def=game_date_partitions)
    def probe(context: dg.AssetExecutionContext) -> None:
        seen["range"] = date_range_of(context)

    result = dg.materialize([probe], partition_key="2025-03-09")
    assert result.success
    assert seen["range"] == (date(2025, 3, 9), date(2025, 3, 9))


# -- season-bounded partition ranges (NBA_PROPS_PARTITION_SEASONS) ------------------------------


def test_partition_range_per_setting():
    sim = {"provider": "simulated", "sim_season": "2024-25"}
    assert partitions.partition_range("all", **sim) == (date(2021, 10, 19), None)
    # the simulated league: opening night .. its last regular-season day (the simulator plays no playoffs)
    assert partitions.partition_range("league", **sim) == (date(2024, 10, 22), date(2025, 4, 13))
    # real files: "league" means every season
    assert partitions.partition_range("league", provider="files", sim_season="2024-25") == (date(2021, 10, 19), None)
    assert partitions.partition_range("2023-24..2024-25", **sim) == (date(2023, 10, 24), date(2025, 6, 30))
    assert partitions.partition_range("2025-26", **sim) == (date(2025, 10, 21), date(2026, 6, 30))
    with pytest.raises(ValueError, match="after"):
        partitions.partition_range("2024-25..2023-24", **sim)


def test_partition_seasons_setting_is_validated():
    from nba_props.settings import SettingsError, load_settings

    assert load_settings(partition_seasons="2023-24..2024-25").partition_seasons == "2023-24..2024-25"
    with pytest.raises(SettingsError, match="NBA_PROPS_PARTITION_SEASONS"):
        load_settings(partition_seasons="2024")


def test_the_default_range_is_every_season_in_the_suite():
    assert partitions.FIRST_PARTITION_DAY == date(2021, 10, 19) and partitions.LAST_PARTITION_DAY is None
    assert partitions.is_partition_day(date(2026, 11, 28)) and not partitions.is_partition_day(date(2021, 10, 18))


def test_league_range_makes_the_simulated_season_the_whole_definition():
    """What `make demo` / `make ui` load: the simulated season is every partition, whatever today is."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json; from datetime import date; from nba_props import partitions as p; "
        "g, w = p.game_date_partitions, p.training_week_partitions; "
        "print(json.dumps([g.get_num_partitions(), g.get_first_partition_key(), g.get_last_partition_key(), "
        "w.get_first_partition_key(), w.get_last_partition_key(), p.is_partition_day(date(2025, 4, 14))]))"
    )
    env = {**os.environ, "NBA_PROPS_PARTITION_SEASONS": "league", "NBA_PROPS_PROVIDER": "simulated"}
    env.pop("NBA_PROPS_SIM_SEASON", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    days, first, last, first_week, last_week, after_end = json.loads(out.stdout.strip().splitlines()[-1])
    assert (days, first, last) == (174, "2024-10-22", "2025-04-13")  # 2026 today: still ends with the season
    assert (first_week, last_week) == ("2024-10-28", "2025-04-07")
    assert after_end is False
