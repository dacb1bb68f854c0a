"""The public best-bets files (lib/exports/best_bets_files.py): all.json and today.json built from a
hand-written picks frame whose records, streaks, day statuses and weeks are computed by hand; week
and month boundaries (a Sunday and the next Monday), season boundaries on the real calendar (an
October date never shows the previous season's picks; the play-in and the playoffs stay in the
season), a push is PUSH (never pending), round-trips, no admin-only field in any public schema,
today.json without results, and the size of a full season's all.json."""

import json
import time
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from nba_props import seasons
from nba_props.lib.exports import best_bets_files as bb
from nba_props.lib.exports.common import ADMIN_ONLY_FIELDS, PICKS_SCHEMA, Record, field_names, to_json_bytes

GEN = datetime(2025, 12, 3, 18, 0, tzinfo=UTC)
ALGO = "v12-test"
OPENING = seasons.opening_night("2025-26")  # Tuesday 2025-10-21


def row(day: date, rank: int, result: str | None, *, direction: str = "OVER", ultra: bool = False,
        line: float = 20.5, actual: float | None = None, player: str | None = None, edge: float = 3.0,
        angles: list[str] | None = None, tip: datetime | None = None, void_reason: str | None = None) -> dict:  # fmt: skip
    lookup = player or f"p{day.isoformat()}{rank}"
    if actual is None and result in ("WIN", "LOSS", "PUSH"):
        won = (result == "WIN") == (direction == "OVER")
        actual = line if result == "PUSH" else (line + 2 if won else line - 2)
    return {
        "game_date": day, "game_id": f"g{day.isoformat()}{rank}", "player_lookup": lookup,
        "player_name": lookup.title(), "team": "BOS", "opponent": "NYK", "tip_time_utc": tip,
        "model_id": "m1", "family": "v12", "direction": direction, "line": line, "edge": edge,
        "predicted_points": line + edge, "price": -110, "rank": rank, "ultra": ultra, "ultra_public": ultra,
        "angles": angles or [], "signals": ["s"], "status": "published",
        "published_at": datetime(day.year, day.month, day.day, 15, tzinfo=UTC),
        "actual_points": None if result == "VOID" else actual, "result": result,
        "void_reason": void_reason or ("DNP" if result == "VOID" else None), "profit": None,
    }  # fmt: skip


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=PICKS_SCHEMA).sort("game_date", "rank")


D = date  # brevity
OCT31, NOV24, NOV26, NOV28, NOV30 = D(2025, 10, 31), D(2025, 11, 24), D(2025, 11, 26), D(2025, 11, 28), D(2025, 11, 30)
DEC1, DEC2, DEC3, DEC4 = D(2025, 12, 1), D(2025, 12, 2), D(2025, 12, 3), D(2025, 12, 4)
TIP = datetime(2025, 12, 4, 0, 30, tzinfo=UTC)

# Two weeks (+ an October pick and picks outside the scope). Decided sequence (WIN / LOSS only):
# L | W W | L | W W W | W | L W | - | W  -> current W 2, best W 4 (Nov 28 .. Nov 30).
ROWS = [
    row(D(2025, 4, 10), 1, "WIN"),  # previous season: never counted
    row(OCT31, 1, "LOSS"),
    row(NOV24, 1, "WIN", ultra=True), row(NOV24, 2, "WIN", direction="UNDER"),  # sweep
    row(NOV26, 1, "LOSS"), row(NOV26, 2, "PUSH", direction="UNDER", ultra=True, line=20.0),  # miss
    row(NOV28, 1, "WIN"), row(NOV28, 2, "WIN"), row(NOV28, 3, "WIN", direction="UNDER", ultra=True),  # sweep
    row(NOV30, 1, "WIN"), row(NOV30, 2, "VOID"),  # sweep (Sunday)
    row(DEC1, 1, "LOSS", direction="UNDER", ultra=True), row(DEC1, 2, "WIN"),  # split (Monday)
    row(DEC2, 1, "VOID", void_reason="POSTPONED"), row(DEC2, 2, "PUSH", line=19.0),  # void
    row(DEC3, 2, None, edge=2.0), row(DEC3, 1, "WIN", ultra=True, edge=3.456, tip=TIP,
                                       angles=["a1", "a2", "a3", "a4"]),  # pending
    row(DEC4, 1, "LOSS"),  # after the day: never counted
]  # fmt: skip
PICKS = frame(ROWS)


def rec(w: int, l: int, p: int, pct: float | None) -> Record:  # noqa: E741
    return Record(wins=w, losses=l, pushes=p, total=w + l + p, pct=pct)


def build(day: date, picks: pl.DataFrame = PICKS) -> bb.BestBetsAll:
    return bb.build_all(picks, day, generated_at=GEN, algorithm_version=ALGO)


def build_today(day: date, picks: pl.DataFrame = PICKS) -> bb.BestBetsToday:
    return bb.build_today(picks, day, generated_at=GEN, algorithm_version=ALGO)


# ------------------------------------------------------------------------------- all.json


def test_all_records_and_counts_by_hand():
    m = build(DEC3)
    assert (m.date, m.season, m.generated_at, m.algorithm_version) == (DEC3, "2025-26", "2025-12-03T18:00:00Z", ALGO)
    # season: W 8 (Nov24 2, Nov28 3, Nov30 1, Dec1 1, Dec3 1), L 3, P 2 -> 8 / 11
    assert m.record.season == rec(8, 3, 2, 72.7)
    assert m.record.month == rec(2, 1, 1, 66.7)  # December: Dec1 L W, Dec2 V P, Dec3 W + pending
    assert m.record.week == rec(2, 1, 1, 66.7)  # week of Monday Dec 1
    # last 10 of L W W L P W W W W L W P W: P W W W W L W P W preceded by L
    assert m.record.last_10 == rec(6, 2, 2, 75.0)
    assert m.ultra_record.model_dump() == {**rec(3, 1, 1, 75.0).model_dump(), "over": rec(2, 0, 0, 100.0).model_dump(),
                                           "under": rec(1, 1, 1, 50.0).model_dump()}  # fmt: skip
    assert m.streak == bb.Streak(type="W", count=2)
    assert m.best_streak == bb.BestStreak(type="W", count=4, start=NOV28, end=NOV30)
    assert (m.total_picks, m.graded, m.voided, m.pushes) == (16, 15, 2, 2)


def test_all_today_picks():
    m = build(DEC3)
    assert [p.rank for p in m.today] == [1, 2]
    first, second = m.today
    assert first.result == "WIN" and first.actual == 22.5 and first.void_reason is None
    assert first.edge == 3.46 and first.angles == ["a1", "a2", "a3"] and first.stat == "PTS"
    assert first.game_time == "2025-12-04T00:30:00Z" and first.ultra_tier is True
    assert first.player == "P2025-12-031" and first.player_lookup == "p2025-12-031"
    assert second.result is None and second.actual is None and second.game_time is None and not second.ultra_tier


def test_weeks_and_day_statuses():
    m = build(DEC3)
    assert [(w.week_start, w.week_end) for w in m.weeks] == [
        (DEC1, D(2025, 12, 7)), (NOV24, NOV30), (D(2025, 10, 27), D(2025, 11, 2))]  # fmt: skip
    assert [w.record for w in m.weeks] == [rec(2, 1, 1, 66.7), rec(6, 1, 1, 85.7), rec(0, 1, 0, 0.0)]
    statuses = [[(d.date, d.status) for d in w.days] for w in m.weeks]
    assert statuses == [
        [(DEC3, "pending"), (DEC2, "void"), (DEC1, "split")],
        [(NOV30, "sweep"), (NOV28, "sweep"), (NOV26, "miss"), (NOV24, "sweep")],
        [(OCT31, "miss")],
    ]
    nov28 = m.weeks[1].days[1]
    assert [p.rank for p in nov28.picks] == [1, 2, 3] and nov28.record == rec(3, 0, 0, 100.0)
    dec2 = m.weeks[0].days[1]
    assert [(p.result, p.void_reason, p.actual) for p in dec2.picks] == [("VOID", "POSTPONED", None),
                                                                         ("PUSH", None, 19.0)]  # fmt: skip
    # the day's picks in `today` are the same as the newest day's
    assert m.weeks[0].days[0].picks == m.today


def test_week_and_month_boundary_sunday_then_monday():
    sunday, monday = build(NOV30), build(DEC1)
    # Sunday Nov 30: the week Nov 24 .. 30; the month November (Oct 31 is the season, not the month)
    assert sunday.record.week == rec(6, 1, 1, 85.7)
    assert sunday.record.month == rec(6, 1, 1, 85.7)
    assert sunday.record.season == rec(6, 2, 1, 75.0)
    assert sunday.today[0].result == "WIN" and [w.week_start for w in sunday.weeks] == [NOV24, D(2025, 10, 27)]
    # Monday Dec 1: a new week and a new month
    assert monday.record.week == rec(1, 1, 0, 50.0) == monday.record.month
    assert monday.record.season == rec(7, 3, 1, 70.0)
    assert [w.week_start for w in monday.weeks] == [DEC1, NOV24, D(2025, 10, 27)]
    assert monday.streak == bb.Streak(type="W", count=1)


def test_week_spanning_the_month_start():
    # Oct 31 (Fri) and Nov 1 (Sat): one week, two months
    picks = frame([row(OCT31, 1, "WIN"), row(D(2025, 11, 1), 1, "LOSS")])
    m = build(D(2025, 11, 1), picks)
    assert m.record.week == rec(1, 1, 0, 50.0)
    assert m.record.month == rec(0, 1, 0, 0.0)
    assert len(m.weeks) == 1 and [d.date for d in m.weeks[0].days] == [D(2025, 11, 1), OCT31]


def test_october_of_the_new_season_never_shows_the_previous_season():
    prev = seasons.season("2024-25")
    april = [row(prev.regular_season_end - timedelta(days=i), 1, "WIN") for i in range(3)]
    june = [row(prev.playoffs_start + timedelta(days=20), 1, "LOSS")]
    new = [row(OPENING, 1, "LOSS"), row(OPENING + timedelta(days=1), 1, "PUSH", line=20.0)]
    picks = frame(april + june + new)
    m = build(OPENING + timedelta(days=1), picks)
    assert m.season == "2025-26"
    assert m.total_picks == 2 and m.record.season == rec(0, 1, 1, 0.0)
    assert m.streak == bb.Streak(type="L", count=1) and m.best_streak == bb.BestStreak(type=None, count=0,
                                                                                        start=None, end=None)  # fmt: skip
    assert [d.date for w in m.weeks for d in w.days] == [OPENING + timedelta(days=1), OPENING]
    # an October day before opening night: the new season, nothing of the previous one
    pre = build(OPENING - timedelta(days=3), picks)
    assert (
        pre.season == "2025-26" and pre.total_picks == 0 and pre.weeks == [] and pre.record.season == rec(0, 0, 0, None)
    )
    assert build_today(OPENING - timedelta(days=3), picks).record.season == rec(0, 0, 0, None)


def test_play_in_and_playoffs_stay_in_the_season():
    s = seasons.season("2024-25")
    playoff_day = s.playoffs_start + timedelta(days=3)
    picks = frame([
        row(s.opening_night, 1, "WIN"), row(s.regular_season_end, 1, "WIN"), row(s.play_in_start, 1, "LOSS"),
        row(playoff_day, 1, "WIN"), row(playoff_day, 2, "WIN", direction="UNDER"),
    ])  # fmt: skip
    assert seasons.phase_of(playoff_day) == seasons.Phase.PLAYOFFS
    m = build(playoff_day, picks)
    assert m.season == "2024-25" and m.total_picks == 5
    assert m.record.season == rec(4, 1, 0, 80.0)
    assert m.streak == bb.Streak(type="W", count=2)
    assert m.best_streak == bb.BestStreak(type="W", count=2, start=playoff_day, end=playoff_day)  # tie: most recent
    t = build_today(playoff_day, picks)
    assert t.season == "2024-25" and t.record.season == rec(4, 1, 0, 80.0) and t.total == 2


def test_a_push_is_push_never_pending():
    day = NOV26
    picks = frame([row(day, 1, "PUSH", line=20.0)])
    m = build(day, picks)
    (pick,) = m.today
    assert pick.result == "PUSH" and pick.actual == 20.0
    assert m.weeks[0].days[0].status == "void"  # only a push: not pending, not a sweep
    assert m.record.season == rec(0, 0, 1, None) and m.pushes == 1 and m.graded == 1
    assert "pending" not in bb.all_json_table(json.loads(to_json_bytes(m)))


def test_streak_rules():
    def streaks(results):
        dates = [D(2025, 11, 1) + timedelta(days=i) for i in range(len(results))]
        cur, best = bb.streaks(dates, results)
        return (cur.type, cur.count), (best.count, best.start, best.end)

    d = lambda i: D(2025, 11, 1) + timedelta(days=i)  # noqa: E731
    assert streaks([]) == ((None, 0), (0, None, None))
    assert streaks(["PUSH", "VOID", None]) == ((None, 0), (0, None, None))
    assert streaks(["LOSS", "LOSS"]) == (("L", 2), (0, None, None))
    # PUSH / VOID / pending do not break a run
    assert streaks(["WIN", "PUSH", "WIN", "VOID", None, "WIN", "LOSS"]) == (("L", 1), (3, d(0), d(5)))
    # ties: the most recent
    assert streaks(["WIN", "WIN", "LOSS", "WIN", "WIN"]) == (("W", 2), (2, d(3), d(4)))
    assert streaks(["WIN", "WIN", "WIN", "LOSS", "WIN", "WIN"]) == (("W", 2), (3, d(0), d(2)))


def test_day_status_rules():
    assert bb.day_status(["WIN", None]) == "pending"
    assert bb.day_status(["PUSH", "VOID"]) == "void"
    assert bb.day_status(["WIN", "PUSH", "VOID"]) == "sweep"
    assert bb.day_status(["LOSS", "PUSH"]) == "miss"
    assert bb.day_status(["LOSS", "WIN"]) == "split"


def test_empty_days():
    m = build(D(2025, 11, 25))  # a day without picks inside the scope
    assert m.today == [] and m.total_picks == 3 and m.weeks[0].week_start == NOV24
    empty = build(DEC3, frame([]))
    assert empty.today == [] and empty.weeks == [] and empty.total_picks == 0
    assert empty.streak == bb.Streak(type=None, count=0) and empty.record.last_10 == rec(0, 0, 0, None)
    t = build_today(DEC3, frame([]))
    assert t.picks == [] and t.total == 0
    assert bb.today_markdown(t).count("No picks for 2025-12-03.") == 1
    assert "No picks for 2025-12-03." in bb.all_json_table(json.loads(to_json_bytes(empty)))


# ------------------------------------------------------------------------------- today.json


def test_today_json():
    t = build_today(DEC3)
    assert (t.date, t.season, t.generated_at, t.algorithm_version, t.total) == (DEC3, "2025-26",
                                                                                "2025-12-03T18:00:00Z", ALGO, 2)  # fmt: skip
    assert t.record.season == rec(8, 3, 2, 72.7)
    assert [p.rank for p in t.picks] == [1, 2] and t.picks[0].edge == 3.46 and t.picks[0].ultra_tier
    assert len(t.picks[0].angles) == 3


def test_today_json_never_carries_results():
    banned = {"actual", "result", "void_reason", "actual_points", "results"}
    assert not banned & set(field_names(bb.BestBetsToday))
    assert not banned & set(bb.TodayPick.model_fields)

    def keys(obj):
        if isinstance(obj, dict):
            for k, v in obj.items():
                yield k
                yield from keys(v)
        elif isinstance(obj, list):
            for v in obj:
                yield from keys(v)

    for day in (NOV26, DEC2, DEC3):  # graded days included
        payload = json.loads(to_json_bytes(build_today(day)))
        assert not banned & set(keys(payload))
        assert all(set(p) == set(bb.TodayPick.model_fields) for p in payload["picks"])


# ------------------------------------------------------------------------------- contracts


def test_public_schemas_have_no_admin_only_field():
    assert bb.PUBLIC_SCHEMAS == (bb.BestBetsAll, bb.BestBetsToday)
    for schema in bb.PUBLIC_SCHEMAS:
        names = set(field_names(schema))
        assert names and not names & ADMIN_ONLY_FIELDS, schema
    assert "ultra_tier" in set(field_names(bb.BestBetsAll))  # the walk reaches the nested picks


@pytest.mark.parametrize(
    "day", [OCT31, NOV24, NOV30, DEC1, DEC2, DEC3, DEC4, D(2025, 11, 25), OPENING - timedelta(days=1)]
)
def test_round_trip(day):
    for model in (build(day), build_today(day), build(day, frame([])), build_today(day, frame([]))):
        assert type(model).model_validate_json(to_json_bytes(model)) == model


def test_builders_are_deterministic_and_ignore_input_order():
    shuffled = PICKS.sample(fraction=1.0, shuffle=True, seed=7)
    assert to_json_bytes(build(DEC3, shuffled)) == to_json_bytes(build(DEC3))
    assert to_json_bytes(build_today(DEC3, shuffled)) == to_json_bytes(build_today(DEC3))


def test_full_season_size_under_500_kb():
    first = OPENING
    rows = [
        row(first + timedelta(days=i), r, ("WIN", "LOSS", "PUSH", "VOID")[(i + r) % 4 if (i + r) % 7 else 0],
            direction="OVER" if r == 1 else "UNDER", ultra=(i % 5 == 0), player=f"firstname_lastname_{i % 90}_{r}",
            angles=["hot_streak", "rest_advantage", "line_movement", "pace_up"],
            tip=datetime(2025, 10, 22, 0, 30, tzinfo=UTC) + timedelta(days=i))
        for i in range(170) for r in (1, 2)
    ]  # fmt: skip
    picks = frame(rows)
    last = first + timedelta(days=169)
    started = time.perf_counter()
    m = build(last, picks)
    elapsed = time.perf_counter() - started
    size = len(to_json_bytes(m))
    assert m.total_picks == 340 and sum(len(d.picks) for w in m.weeks for d in w.days) == 340
    assert size < 500_000, size
    assert 80_000 < size < 250_000, size  # the figure: ~340 picks at ~400 bytes (about 150 KB)
    assert elapsed < 1.0, elapsed


# ------------------------------------------------------------------------------- renderers


def test_today_markdown():
    text = bb.today_markdown(build_today(DEC3))
    lines = text.splitlines()
    assert "| rank | player | matchup | direction | line | edge | angles | ultra |" in lines
    assert "| 1 | P2025-12-031 | BOS vs NYK | OVER | 20.5 | 3.46 | a1 / a2 / a3 | yes |" in lines
    assert "| 2 | P2025-12-032 | BOS vs NYK | OVER | 20.5 | 2.00 |  |  |" in lines
    assert lines[-1] == "Season record: 8-3-2 (72.7%)"
    assert "WIN" not in text


def test_all_json_table():
    text = bb.all_json_table(json.loads(to_json_bytes(build(DEC3))))
    lines = text.splitlines()
    assert lines[0] == "Best bets 2025-12-03  season 2025-26"
    assert lines[1] == "Season 8-3-2 (72.7%)  Month 2-1-1 (66.7%)  Week 2-1-1 (66.7%)  Last 10 6-2-2 (75.0%)"
    header, first, second = lines[3:6]
    assert header.split() == ["rank", "player", "matchup", "dir", "line", "edge", "result", "ultra"]
    assert first.split() == ["1", "P2025-12-031", "BOS", "vs", "NYK", "OVER", "20.5", "3.46", "WIN", "(22.5)", "yes"]
    assert second.split() == ["2", "P2025-12-032", "BOS", "vs", "NYK", "OVER", "20.5", "2.00", "pending"]
    # aligned: every column starts at the same offset
    for column in ("player", "matchup", "result"):
        start = header.index(column)
        assert first[start - 1] == " " and first[start] != " " and second[start] != " "
    void_day = bb.all_json_table(json.loads(to_json_bytes(build(DEC2))))
    assert "VOID (POSTPONED)" in void_day and "PUSH (19)" in void_day


def test_regrading_a_day_changes_it():
    # the per-day cache is keyed on the rows: a pick graded later is not served stale
    before = build(DEC3)
    graded = PICKS.with_columns(
        pl.when((pl.col("game_date") == DEC3) & pl.col("result").is_null())
        .then(pl.lit("LOSS"))
        .otherwise(pl.col("result"))
        .alias("result"),
        pl.when((pl.col("game_date") == DEC3) & pl.col("result").is_null())
        .then(pl.lit(18.5))
        .otherwise(pl.col("actual_points"))
        .alias("actual_points"),
    )
    after = build(DEC3, graded)
    assert before.weeks[0].days[0].status == "pending" and after.weeks[0].days[0].status == "split"
    assert after.today[1].result == "LOSS" and after.streak == bb.Streak(type="L", count=1)
    assert build(DEC3) == before


def test_run_level_builders_equal_each_day_built_alone():
    """build_all_days / build_today_days (the assets: the picks shaped once for the run, each day a
    slice) give each day what that day built alone gives, from picks in any row order: across the
    season boundary (the previous season's April, October opening), a day without picks (Nov 25,
    Nov 29), a day without graded picks (Dec 3 pending) and a day after the last pick."""
    days = [D(2025, 4, 10), D(2025, 4, 11), OPENING, OCT31, NOV24, D(2025, 11, 25), NOV26, D(2025, 11, 29), DEC1,
            DEC2, DEC3, DEC4, D(2025, 12, 9)]  # fmt: skip
    shuffled = PICKS.sample(fraction=1.0, shuffle=True, seed=7)
    run_all = bb.build_all_days(PICKS, days, generated_at=GEN, algorithm_version=ALGO)
    run_today = bb.build_today_days(PICKS, days, generated_at=GEN, algorithm_version=ALGO)
    assert list(run_all) == days and list(run_today) == days
    for day in days:
        alone = PICKS.filter(pl.col("game_date") <= day)  # nothing after the day changes the day
        assert to_json_bytes(run_all[day]) == to_json_bytes(build(day, shuffled)) == to_json_bytes(build(day, alone))
        assert to_json_bytes(run_today[day]) == to_json_bytes(build_today(day, shuffled))
    assert run_all[D(2025, 4, 10)].season == "2024-25" and run_all[D(2025, 4, 10)].total_picks == 1
    assert run_all[OPENING].total_picks == 0 and run_all[D(2025, 11, 25)].today == []
    assert run_all[DEC4].total_picks == len(ROWS) - 1  # the April pick is the previous season's
