"""Model health (lib/health.py) on constructed series: what counts, windows ending on the day,
state bands at their exact boundaries, transitions and the streak, staleness bands, the
challenger and crash rules, ROI at real prices, health_as_of, and the same rows whatever the
run's range (a one-day run equals the day of a backfill)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from nba_props.lib import health
from nba_props.lib.grading import wilson_interval
from nba_props.lib.health import (
    ACCURACY_CONTRACT,
    BLOCKED,
    DEGRADED,
    DEGRADING,
    FRESH,
    HEALTHY,
    INSUFFICIENT_DATA,
    NO_CHANGE,
    NO_MODEL,
    OVERDUE,
    RECOVERED,
    ROUTINE,
    URGENT,
    WATCH,
    load_health_config,
    model_performance,
)

CONFIG = load_health_config()
CHAMP = "champ"
D0 = date(2025, 11, 1)


def picks(day: date, family: str, wins: int, losses: int, **extra) -> list[dict]:
    """`wins` WIN and `losses` LOSS recommended OVER picks at edge 3.0 (exactly the floor)."""
    rows = []
    for i, result in enumerate([health.WIN] * wins + [health.LOSS] * losses):
        rows.append(
            {
                "game_date": day,
                "game_id": f"g{day:%m%d}",
                "player_lookup": f"p{i}",
                "model_id": f"{family}_m",
                "family": family,
                "predicted_points": 23.0,
                "actual_points": 25.0 if result == health.WIN else 15.0,
                "line": 20.0,
                "edge": 3.0,
                "direction": "OVER",
                "p_over": 0.6,
                "recommendation": "OVER",
                "quarantined": False,
                "price": -110,
                "result": result,
                **extra,
            }
        )
    return rows


def frame(rows: list[dict]) -> pl.DataFrame:
    full = [{name: row.get(name) for name in ACCURACY_CONTRACT.names()} for row in rows]
    return pl.DataFrame(full, schema=ACCURACY_CONTRACT)


def run(rows, start=D0, end=None, registry=None, families=(CHAMP,)) -> pl.DataFrame:
    return model_performance(
        frame(rows), registry, start=start, end=end or start, champion=CHAMP, families=families, config=CONFIG
    )


def one(out: pl.DataFrame, family: str = CHAMP, day: date = D0) -> dict:
    return out.filter((pl.col("family") == family) & (pl.col("game_date") == day)).row(0, named=True)


def test_config_windows_and_derived_history():
    assert CONFIG.windows == (7, 14, 30) and CONFIG.state_window == 7 and CONFIG.edge_floor == 3
    assert health.season_span_days() == 366
    assert CONFIG.history_days == 366 + 7  # season-to-date's span + the state window
    assert CONFIG.window_labels == ("7d", "14d", "30d", "season")


@pytest.mark.parametrize(
    "wins, n, state",
    [
        (131, 250, DEGRADING),  # exactly 52.4%: not below 52.4
        (130, 250, BLOCKED),  # 52.0%
        (11, 20, WATCH),  # exactly 55%
        (54, 100, DEGRADING),
        (29, 50, HEALTHY),  # exactly 58%
        (57, 100, WATCH),
        (4, 4, INSUFFICIENT_DATA),  # N 4 < 5
        (0, 5, BLOCKED),
    ],
)
def test_state_bands_at_their_boundaries(wins, n, state):
    assert health.state_of(wins / n, n, CONFIG) == state
    out = run(picks(D0, CHAMP, wins, n - wins))
    r = one(out)
    assert (r["state"], r["n_7d"], r["wins_7d"]) == (state, n, wins)


def test_what_counts_pushes_voids_pending_quarantine_pass_and_low_edge_excluded():
    rows = picks(D0, CHAMP, 3, 2)
    base = picks(D0, CHAMP, 1, 0)[0]
    rows += [
        {**base, "player_lookup": "push", "result": "PUSH"},
        {**base, "player_lookup": "void", "result": "VOID", "actual_points": None},
        {**base, "player_lookup": "pending", "result": None},
        {**base, "player_lookup": "quarantined", "quarantined": True},
        {**base, "player_lookup": "pass", "recommendation": "PASS"},
        {**base, "player_lookup": "edge", "edge": 2.999},
        {**base, "player_lookup": "noline", "recommendation": "NO_LINE", "line": None, "result": None},
    ]
    r = one(run(rows))
    assert (r["wins_day"], r["losses_day"], r["n_day"]) == (3, 2, 5)
    assert r["hr_day"] == pytest.approx(0.6)
    # MAE / bias: every non-quarantined prediction with an actual (PASS, low edge, push, no line included)
    assert r["n_mae_day"] == 10
    # Brier: non-quarantined decided rows (WIN/LOSS) whatever the recommendation
    assert r["n_brier_day"] == 7  # 5 picks + PASS + low edge


def test_windows_end_on_the_day_inclusive_and_season_to_date():
    rows = (
        picks(D0, CHAMP, 1, 0)
        + picks(D0 - timedelta(days=6), CHAMP, 2, 0)  # inside 7d
        + picks(D0 - timedelta(days=7), CHAMP, 0, 4)  # 8 days back: 14d only
        + picks(D0 - timedelta(days=29), CHAMP, 0, 8)  # 30d (2025-10-03: same season label)
        + picks(D0 + timedelta(days=1), CHAMP, 9, 9)  # after the day: never
        + picks(date(2025, 6, 10), CHAMP, 5, 5)  # the previous season: not season-to-date
    )
    r = one(run(rows))
    assert (r["wins_7d"], r["losses_7d"]) == (3, 0)
    assert (r["wins_14d"], r["losses_14d"]) == (3, 4)
    assert (r["wins_30d"], r["losses_30d"]) == (3, 12)
    assert (r["wins_season"], r["losses_season"]) == (3, 12)
    low, high = wilson_interval(3, 15)
    assert (r["hr_30d_low"], r["hr_30d_high"]) == (pytest.approx(low), pytest.approx(high))


def test_transitions_and_days_below_watch_on_a_series():
    # one day per date, each day alone in its 7-day window (days 8 apart), so the state is the day's
    days = [D0 + timedelta(days=8 * i) for i in range(6)]
    series = [(29, 21), (57, 43), (57, 43), (52, 48), (29, 21), (2, 1)]  # 58%, 57%, 57%, 52%, 58%, N 3
    rows = [row for day, (w, lost) in zip(days, series, strict=True) for row in picks(day, CHAMP, w, lost)]
    out = run(rows, start=days[0], end=days[-1] + timedelta(days=1)).filter(pl.col("game_date").is_in(days))
    got = out.select("state", "transition", "days_below_watch").rows()
    # between the series' days the window is empty (INSUFFICIENT_DATA): that breaks the comparison
    assert [g[0] for g in got] == [HEALTHY, WATCH, WATCH, BLOCKED, HEALTHY, INSUFFICIENT_DATA]
    assert all(g[1] == NO_CHANGE for g in got)
    # consecutive days: build them adjacent instead
    rows = []
    rows += picks(D0, CHAMP, 29, 21)
    rows += picks(D0 + timedelta(days=1), CHAMP, 0, 8)  # 29/58 = 50% on day 1 -> BLOCKED
    rows += picks(D0 + timedelta(days=2), CHAMP, 9, 0)  # 38/67 = 56.7% -> WATCH
    rows += picks(D0 + timedelta(days=3), CHAMP, 9, 0)  # 47/76 = 61.8% -> HEALTHY
    out = run(rows, start=D0, end=D0 + timedelta(days=3))
    got = out.select("previous_state", "state", "transition", "days_below_watch").rows()
    assert got == [
        (INSUFFICIENT_DATA, HEALTHY, NO_CHANGE, 0),
        (HEALTHY, BLOCKED, DEGRADED, 1),
        (BLOCKED, WATCH, RECOVERED, 2),
        (WATCH, HEALTHY, RECOVERED, 0),
    ]
    reasons = out.get_column("transition_reason").to_list()
    assert reasons[1] == "HEALTHY -> BLOCKED: 7d HR 50.0% < 52.4% (N 58)"
    assert reasons[3] == "WATCH -> HEALTHY: 7d HR 61.8% >= 58% (N 76)"
    # a recovery quotes the floor of the state reached: BLOCKED -> WATCH needs >= 55%, not 52.4%
    assert reasons[2] == "BLOCKED -> WATCH: 7d HR 56.7% >= 55% (N 67)"


def test_staleness_bands_from_the_registry():
    for days, band in [(0, FRESH), (6, FRESH), (7, ROUTINE), (10, ROUTINE), (11, OVERDUE), (14, OVERDUE),
                       (15, URGENT), (22, URGENT)]:  # fmt: skip
        assert health.staleness_of(days, CONFIG) == band
    registry = pl.DataFrame(
        {
            "week_start": [date(2025, 9, 1), date(2025, 10, 20), date(2025, 10, 27), date(2025, 11, 10)],
            "family": [CHAMP] * 4,
            "model_id": ["sept", "w1020", "w1027", "future"],
        }
    )
    out = run([], start=D0, end=date(2025, 11, 22), registry=registry)
    by_day = {r["game_date"]: r for r in out.iter_rows(named=True)}
    # newest week_start <= the day: 2025-10-27 for 11-01 .. 11-09; a later week never leaks back
    assert (by_day[D0]["model_id"], by_day[D0]["days_since_training"], by_day[D0]["staleness"]) == ("w1027", 5, FRESH)
    assert (by_day[date(2025, 11, 3)]["days_since_training"], by_day[date(2025, 11, 3)]["staleness"]) == (7, ROUTINE)
    assert by_day[date(2025, 11, 9)]["staleness"] == OVERDUE  # 13 days
    assert by_day[date(2025, 11, 10)]["model_id"] == "future" and by_day[date(2025, 11, 10)]["staleness"] == FRESH
    assert by_day[date(2025, 11, 22)]["days_since_training"] == 12
    # a model blocked by governance never served: the family's newest is the week before it
    blocked = registry.with_columns(lifecycle_state=pl.Series(["active", "active", "blocked", "active"]))
    out = run([], start=D0, end=date(2025, 11, 9), registry=blocked)
    assert (one(out, day=date(2025, 11, 9))["model_id"], one(out, day=date(2025, 11, 9))["days_since_training"]) == (
        "w1020",
        20,
    )
    assert one(out, day=date(2025, 11, 9))["staleness"] == URGENT
    gone = run([], start=date(2025, 10, 15), registry=registry.head(1))  # 44 days after 09-01: > 22 days back
    assert (one(gone, day=date(2025, 10, 15))["staleness"], one(gone, day=date(2025, 10, 15))["model_id"]) == (
        NO_MODEL,
        None,
    )


def test_challenger_rule_needs_five_points_and_n_30():
    rows = picks(D0, CHAMP, 55, 45)  # 55.0%
    rows += picks(D0, "close", 18, 12)  # 60.0%, N 30: exactly +5 points -> a challenger
    rows += picks(D0, "small", 20, 9)  # 69%, N 29 -> not enough picks
    rows += picks(D0, "weak", 59, 41)  # 59%: +4 points
    out = run(rows, families=(CHAMP, "close", "small", "weak"))
    signals = dict(out.select("family", "challenger").iter_rows())
    assert signals == {CHAMP: False, "close": True, "small": False, "weak": False}
    assert one(out, "close")["decay_signal"] == "CHALLENGER: 7d HR 60.0% vs champion 55.0% (+5.0 pts, N 30)"
    assert not out.get_column("market_crash").any()


def test_crash_needs_two_models_below_40_on_the_same_day():
    rows = picks(D0, CHAMP, 3, 7) + picks(D0, "b", 39, 61)  # 30%, 39%: two below 40 -> crash
    rows += picks(D0, "c", 2, 3)  # 40.0% exactly: not below
    rows += picks(D0 + timedelta(days=1), CHAMP, 1, 9) + picks(D0 + timedelta(days=1), "b", 1, 3)  # b: N 4 < 5
    rows += picks(D0 + timedelta(days=1), "c", 4, 6)
    out = run(rows, end=D0 + timedelta(days=1), families=(CHAMP, "b", "c"))
    crash = dict(out.group_by("game_date").agg(pl.col("market_crash").all()).iter_rows())
    assert crash == {D0: True, D0 + timedelta(days=1): False}
    assert one(out, "c")["decay_signal"] == (
        "CRASH: 2 models below 40% today (b, champ): market disruption, do not switch"
    )


def test_roi_at_real_prices_default_only_where_missing():
    rows = picks(D0, CHAMP, 1, 1)
    rows[0]["price"] = 150  # the win pays 1.5
    rows[1]["price"] = None  # the loss has no real price: -110 assumed, flagged
    r = one(run(rows))
    assert r["roi_day"] == pytest.approx((1.5 - 1.0) / 2)
    assert r["default_priced_day"] == 1
    rows = picks(D0, CHAMP, 1, 0)
    rows[0]["price"] = None
    assert one(run(rows))["roi_day"] == pytest.approx(100 / 110)


def test_health_as_of_is_the_previous_day():
    rows = picks(D0, CHAMP, 9, 1) + picks(D0 + timedelta(days=1), CHAMP, 0, 30)
    table = run(rows, end=D0 + timedelta(days=1))
    used = health.health_as_of(table, D0 + timedelta(days=1))
    assert used.get_column("game_date").to_list() == [D0]
    assert used.get_column("state").to_list() == [HEALTHY]  # not the same day's collapse
    assert table.filter(pl.col("game_date") == D0 + timedelta(days=1))["state"].item() == BLOCKED


def test_one_day_run_equals_that_day_of_a_backfill():
    rows = []
    for i in range(60):
        day = D0 - timedelta(days=30) + timedelta(days=i)
        rows += picks(day, CHAMP, (i * 7) % 6 + 1, (i * 5) % 5 + 1)
        rows += picks(day, "other", (i * 3) % 4, (i * 11) % 6)
    rows += picks(date(2025, 3, 1), "retired", 3, 3)  # only in the previous season's history
    registry = pl.DataFrame(
        {"week_start": [date(2025, 10, 13), date(2025, 10, 27)], "family": [CHAMP] * 2, "model_id": ["a", "b"]}
    )
    start, end = D0 - timedelta(days=20), D0 + timedelta(days=29)
    backfill = run(rows, start=start, end=end, registry=registry)
    assert backfill.get_column("game_date").n_unique() == 50
    for offset in (0, 7, 20, 49):
        day = start + timedelta(days=offset)
        single = run(rows, start=day, registry=registry)
        assert single.equals(backfill.filter(pl.col("game_date") == day)), day
    assert health.valid_rows(backfill, CONFIG).height == 0
    assert set(backfill.get_column("family")) == {CHAMP, "other", "retired"}  # retired: rows in its history


def test_states_markdown_and_champion_alert():
    out = run(picks(D0, CHAMP, 5, 5) + picks(D0, "b", 8, 2), families=(CHAMP, "b"))
    md = health.states_markdown(out, CONFIG)
    assert "| **champ** (champion) | BLOCKED | 50.0% | 10 |" in md and "| b | HEALTHY | 80.0% |" in md
    passed, message = health.champion_alert(out, D0)  # the day's champion (is_champion): the seed here
    assert not passed and message.startswith("champion champ BLOCKED on 2025-11-01")
    assert health.champion_alert(out.with_columns(is_champion=pl.col("family") == "b"), D0)[0]


def test_the_columns_read_are_in_the_registered_prediction_accuracy_table():
    """What model health reads exists, with the same dtypes, in the table the grading stage writes."""
    from nba_props.lib import tables

    registered = tables.TABLE_SCHEMAS["prediction_accuracy"]
    assert {n: registered[n] for n in health.USED_COLUMNS} == {n: ACCURACY_CONTRACT[n] for n in health.USED_COLUMNS}
