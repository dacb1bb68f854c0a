"""Champion by evidence (lib/champion.py) on hand-built model_performance_daily rows: min N,
the margin, persistence in slate days, switching back, ineligible families (BLOCKED, disabled,
no model), the crash freeze, the season anchor, and - through lib/health.model_performance - the
same champion whatever the run's range (a one-day run equals the backfill's day)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from nba_props.lib import champion, health
from nba_props.lib.champion import KEEP, SEED, SWITCH, choose_champions
from nba_props.lib.health import ChampionSelection, load_health_config

BASE = load_health_config()
RULES = ChampionSelection(window="season", min_n=10, margin_points=3.0, persistence_slate_days=3,
                          ineligible_states=("BLOCKED",))  # fmt: skip
CONFIG = BASE.model_copy(update={"champion_selection": RULES})
A, B, C = "a", "b", "c"  # a is the seed
D0 = date(2025, 10, 1)  # the first day of the 2025-26 label: the scan's anchor


def day(i: int) -> date:
    return D0 + timedelta(days=i)


def rec(i: int, family: str, hr: float | None, n: int, *, state: str = "HEALTHY", model: str | None = "m",
        n_day: int = 1, crash: bool = False) -> dict:  # fmt: skip
    return {"game_date": day(i), "family": family, "state": state, "model_id": model, "n_day": n_day,
            "market_crash": crash, "hr_season": hr, "n_season": n}  # fmt: skip


def rows(records: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(
        records,
        schema={
            "game_date": pl.Date,
            "family": pl.Utf8,
            "state": pl.Utf8,
            "model_id": pl.Utf8,
            "n_day": pl.Int64,
            "market_crash": pl.Boolean,
            "hr_season": pl.Float64,
            "n_season": pl.Int64,
        },  # fmt: skip
    )


def choose(records: list[dict], families=(A, B, C)) -> pl.DataFrame:
    return choose_champions(rows(records), seed=A, families=list(families), config=CONFIG)


def champions(out: pl.DataFrame) -> dict[date, str]:
    return dict(out.select("game_date", "champion").iter_rows())


def series(days: int, a=(0.55, 40), b=(0.60, 40), **b_kw) -> list[dict]:
    """`days` evidence days: a and b with constant records (hr, n)."""
    return [r for i in range(days) for r in (rec(i, A, *a), rec(i, B, *b, **b_kw))]


def test_the_anchor_serves_the_seed_and_each_evidence_day_decides_the_next():
    out = choose(series(2, b=(0.55, 40)))
    assert out.get_column("game_date").to_list() == [day(0), day(1), day(2)]
    first = out.row(0, named=True)
    assert (first["champion"], first["transition"], first["evidence_date"]) == (A, SEED, None)
    assert out.get_column("transition").to_list()[1:] == [KEEP, KEEP]
    assert out.row(1, named=True)["evidence_date"] == day(0)


def test_min_n_not_met_no_switch():
    # b leads by 15 points for 5 slate days but has 9 picks < min_n 10
    out = choose(series(5, a=(0.55, 40), b=(0.70, 9)))
    assert set(champions(out).values()) == {A}
    assert "no eligible challenger leads" in out.row(-1, named=True)["reason"]


def test_a_lead_shorter_than_the_persistence_does_not_switch():
    # b leads by exactly the margin (58% vs 55%) on 2 slate days, then falls back
    recs = series(2, b=(0.58, 40)) + [rec(2, A, 0.55, 40), rec(2, B, 0.57, 40)]
    recs += [rec(3, A, 0.55, 40), rec(3, B, 0.58, 40)]  # leads again: the streak restarted at 1
    out = choose(recs)
    assert set(champions(out).values()) == {A}
    assert "for 1 slate day(s) through 2025-10-04, < 3 needed" in out.row(-1, named=True)["reason"]


def test_a_lead_for_the_persistence_switches_the_next_day_with_the_reason():
    recs = series(3, b=(0.58, 40)) + series(5, b=(0.58, 40))[6:]  # 5 days, b leads by 3.0 each
    out = choose(recs)
    got = champions(out)
    assert [got[day(i)] for i in range(6)] == [A, A, A, B, B, B]  # evidence 10-01..03: champion from 10-04
    switch = out.filter(pl.col("transition") == SWITCH).row(0, named=True)
    assert (switch["game_date"], switch["evidence_date"], switch["previous_champion"]) == (day(3), day(2), A)
    assert switch["reason"] == (
        "SWITCH a -> b from 2025-10-04: b 58.0% over N 40 leads a 55.0% over N 40 by +3.0 pts (>= 3) "
        "for 3 slate day(s) through 2025-10-03"
    )
    assert (switch["challenger_hr"], switch["challenger_n"], switch["lead_days"]) == (0.58, 40, 3)


def test_days_without_games_neither_count_nor_break_the_streak():
    recs = series(2, b=(0.60, 40))
    recs += [rec(2, A, 0.55, 40, n_day=0), rec(2, B, 0.60, 40, n_day=0)]  # no slate: streak stays at 2
    recs += [rec(3, A, 0.55, 40), rec(3, B, 0.60, 40)]  # third slate day
    got = champions(choose(recs))
    assert got[day(3)] == A and got[day(4)] == B


def test_switching_back_takes_the_same_rule():
    recs = series(3, b=(0.60, 40))  # b champion from day 3
    recs += [r for i in range(3, 5) for r in (rec(i, A, 0.64, 50), rec(i, B, 0.61, 50))]  # a leads by 3 for 2 days
    recs += [rec(5, A, 0.63, 55), rec(5, B, 0.61, 55)]  # by 2 only: the streak restarts
    recs += [r for i in range(6, 9) for r in (rec(i, A, 0.65, 60), rec(i, B, 0.61, 60))]  # then 3 days in a row
    out = choose(recs)
    got = champions(out)
    assert [got[day(i)] for i in range(10)] == [A, A, A, B, B, B, B, B, B, A]
    back = out.filter(pl.col("transition") == SWITCH).row(1, named=True)
    assert back["reason"].startswith("SWITCH b -> a from 2025-10-10: a 65.0% over N 60 leads b 61.0% over N 60")


def test_a_thin_incumbent_is_credited_break_even():
    # a has 5 picks at 80% (< min_n): credited max(80%, 52.4%) -> b at 70% does not lead
    assert set(champions(choose(series(4, a=(0.8, 5), b=(0.70, 40)))).values()) == {A}
    # a has 5 picks at 40%: credited 52.4% -> b at 55.4% leads by 3.0 and switches
    out = choose(series(3, a=(0.4, 5), b=(0.554, 40)))
    assert champions(out)[day(3)] == B
    assert "a credited 52.4% (N 5 < 10)" in out.row(-1, named=True)["reason"]


def test_blocked_disabled_or_modelless_families_are_never_chosen():
    # c leads by far but is BLOCKED on its last day; b is not enabled; d serves no model
    recs = [r for i in range(4) for r in (rec(i, A, 0.55, 40), rec(i, B, 0.9, 40), rec(i, "d", 0.9, 40, model=None),
                                         rec(i, C, 0.9, 40, state="BLOCKED" if i == 3 else "HEALTHY"))]  # fmt: skip
    got = champions(choose(recs, families=(A, C, "d")))
    assert B not in got.values() and "d" not in got.values()
    # c switched in after 3 slate days (10-01..03); BLOCKED on 10-04 it is replaced at once (below)
    assert got[day(3)] == C and got[day(4)] == A
    # a BLOCKED incumbent is replaced at once by the best eligible record with N >= min_n...
    recs = [rec(0, A, 0.45, 40, state="BLOCKED"), rec(0, B, 0.52, 40), rec(0, C, 0.56, 9)]
    out = choose(recs)
    assert champions(out)[day(1)] == B
    assert "a is ineligible (BLOCKED on 2025-10-01)" in out.row(-1, named=True)["reason"]
    # ... and kept (nothing to switch to) when no eligible family has N >= min_n
    out = choose([rec(0, A, 0.45, 40, state="BLOCKED"), rec(0, B, 0.9, 9), rec(0, C, 0.9, 40, state="BLOCKED")])
    assert champions(out)[day(1)] == A and out.row(-1, named=True)["transition"] == KEEP


def test_a_market_crash_freezes_the_choice():
    recs = series(2, b=(0.60, 40)) + [rec(2, A, 0.55, 40, crash=True), rec(2, B, 0.60, 40, crash=True)]
    out = choose(recs)
    assert champions(out)[day(3)] == A and "market crash" in out.row(-1, named=True)["reason"]
    got = champions(choose(recs + [rec(3, A, 0.55, 40), rec(3, B, 0.60, 40)]))
    assert got[day(4)] == B  # the streak stood still at 2 through the crash, then 3


def test_a_new_season_label_starts_from_the_seed():
    end = date(2026, 9, 30)  # the label's last day
    recs = [r for i in range(3) for r in (rec(i, A, 0.5, 40), rec(i, B, 0.6, 40))]
    recs += [dict(r, game_date=end) for r in recs[-2:]]
    out = choose(recs)
    assert champions(out)[day(3)] == B
    nxt = out.filter(pl.col("game_date") == end + timedelta(days=1)).row(0, named=True)
    assert (nxt["champion"], nxt["transition"]) == (A, SEED)


# ---------------------------------------------------------------------------------------------
# through model_performance: the stored columns and run-independence


def accuracy(day_: date, family: str, wins: int, losses: int) -> list[dict]:
    out = []
    for i, result in enumerate([health.WIN] * wins + [health.LOSS] * losses):
        out.append({"game_date": day_, "game_id": f"g{day_:%m%d}", "player_lookup": f"p{i}", "model_id": f"{family}_m",
                    "family": family, "predicted_points": 23.0, "actual_points": 25.0 if result == health.WIN else 15.0,
                    "line": 20.0, "edge": 3.0, "direction": "OVER", "p_over": 0.6, "recommendation": "OVER",
                    "quarantined": False, "price": -110, "result": result})  # fmt: skip
    return out


def performance(records, start: date, end: date) -> pl.DataFrame:
    acc = pl.DataFrame([{n: r.get(n) for n in health.ACCURACY_CONTRACT.names()} for r in records],
                       schema=health.ACCURACY_CONTRACT)  # fmt: skip
    weeks = [date(2025, 9, 29) + timedelta(weeks=k) for k in range(8)]
    registry = pl.DataFrame({"week_start": weeks * 2, "family": [A] * 8 + [B] * 8,
                             "model_id": [f"{f}_{w}" for f in (A, B) for w in weeks]})  # fmt: skip
    return health.model_performance(acc, registry, start=start, end=end, champion=A, families=[A, B], config=CONFIG)


def season_records() -> list[dict]:
    # opening night 10-21; a goes 6-4 a night (HEALTHY), b 8-2: b leads from the first night (N 10 >= 10)
    return [r for i in range(12) for r in accuracy(date(2025, 10, 21) + timedelta(days=i), A, 6, 4)
            + accuracy(date(2025, 10, 21) + timedelta(days=i), B, 8, 2)]  # fmt: skip


def test_the_rows_carry_the_choice_and_a_one_day_run_equals_the_backfill():
    records = season_records()
    start, end = date(2025, 10, 21), date(2025, 11, 1)
    backfill = performance(records, start, end)
    champ = dict(backfill.filter(pl.col("is_champion")).select("game_date", "family").iter_rows())
    # b leads on 10-21, 10-22, 10-23 (3 slate days): champion from 10-24
    assert champ[date(2025, 10, 23)] == A and champ[date(2025, 10, 24)] == B
    switch = backfill.filter(pl.col("champion_transition") == SWITCH)
    assert switch.get_column("game_date").unique().to_list() == [date(2025, 10, 23)]
    assert switch.get_column("next_champion").unique().to_list() == [B]
    assert switch.get_column("champion_reason")[0].startswith("SWITCH a -> b from 2025-10-24: b 80.0% over N 30")
    # the challenger signal and the alert follow the day's champion
    assert not backfill.filter(pl.col("is_champion")).get_column("challenger").any()
    for d in (date(2025, 10, 21), date(2025, 10, 23), date(2025, 10, 24), end):
        single = performance(records, d, d)
        assert single.equals(backfill.filter(pl.col("game_date") == d)), d
    # anything running on a day reads its champion from the rows of the day before
    got = champion.champions_for_days(backfill, [date(2025, 10, 24), date(2025, 10, 21)], seed=A)
    assert dict(got.iter_rows()) == {date(2025, 10, 21): A, date(2025, 10, 24): B}


def test_the_shipped_rules_are_valid_and_named():
    rules = BASE.champion_selection
    assert rules.window in BASE.window_labels and rules.min_n >= 1 and rules.persistence_slate_days >= 1
    assert set(rules.ineligible_states) <= set(health.STATES)


def test_the_decisions_are_the_ones_the_table_check_knows():
    assert champion.TRANSITIONS == health.CHAMPION_DECISIONS
    out = performance(season_records(), date(2025, 10, 21), date(2025, 10, 25))
    assert health.valid_rows(out, CONFIG).height == 0
    assert health.valid_rows(out.with_columns(champion_transition=pl.lit("MAYBE")), CONFIG).height == out.height
