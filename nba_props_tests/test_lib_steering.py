"""The steering report's pure logic (lib/steering.py): the decision tree branch by branch with
its boundaries (56% / N 30 / 30 days exactly, crash precedence, the crash taken from
model_performance_daily's one rule), the best-bets record and the observe-mode outcomes on
hand-computed figures, schedule gaps, the markdown's sections and the files (atomic)."""

from datetime import UTC, date, datetime, time, timedelta

import polars as pl
import pytest

from nba_props.defs.health.steering import ALERTS_CUTOFF, write_report
from nba_props.io.artifacts import LocalArtifactStore
from nba_props.lib import health, steering
from nba_props.lib.alerts import ALERTS_SCHEMA
from nba_props.lib.automation import Deadline
from nba_props.lib.grading import ACCURACY_SCHEMA

HEALTH = health.load_health_config()
CONFIG = steering.load_steering_config().check_against(HEALTH)
PERF = health.performance_schema(HEALTH)
CHAMP, OTHER, THIRD = "v12", "v9_q43", "v12_mae"
DAY = date(2026, 1, 20)


def perf_row(family: str, state: str, hr: float | None = None, n: int = 40, *, crash: bool = False,
             day: date = DAY, staleness: str = "FRESH", days: int | None = 3, signal: str | None = None) -> dict:  # fmt: skip
    row = dict.fromkeys(PERF.names())
    row |= {"game_date": day, "family": family, "state": state, "hr_7d": hr, "n_7d": n, "market_crash": crash,
            "is_champion": family == CHAMP, "staleness": staleness, "days_since_training": days,
            "decay_signal": signal, "transition": "NO_CHANGE", "hr_season": hr, "wins_day": 0, "losses_day": 0}  # fmt: skip
    return row


def perf(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=PERF)


def rec(rows: pl.DataFrame, days: int | None = 5) -> steering.Recommendation:
    return steering.recommend(rows.to_dicts(), CHAMP, days, CONFIG)


# ------------------------------------------------------------------ the decision tree


def test_blocked_switches_to_a_healthy_challenger_at_exactly_56_pct_and_n_30():
    r = rec(perf(perf_row(CHAMP, "BLOCKED", 0.45), perf_row(OTHER, "HEALTHY", 0.56, 30)))
    assert (r.recommendation, r.switch_to) == ("SWITCH", OTHER)
    assert r.rule_path.startswith("market_crash: no > champion v12: BLOCKED")
    assert r.rule_path.endswith("> SWITCH")
    assert "challenger: v9_q43 (7d HR 56.0%, N 30" in r.rule_path


@pytest.mark.parametrize(
    "hr, n, state",
    [(0.5599, 30, "HEALTHY"), (0.56, 29, "HEALTHY"), (0.70, 60, "WATCH"), (None, 40, "HEALTHY")],
    ids=["hr-just-below-56", "n-29", "not-healthy", "no-hr"],
)
def test_blocked_without_a_qualifying_challenger_stays_blocked(hr, n, state):
    r = rec(perf(perf_row(CHAMP, "BLOCKED", 0.45), perf_row(OTHER, state, hr, n)), days=90)
    assert (r.recommendation, r.switch_to) == ("BLOCKED", None)  # BLOCKED never turns into RETRAIN
    assert "challenger: none" in r.rule_path


def test_the_best_challenger_is_chosen_and_the_champion_never_is():
    r = rec(perf(perf_row(CHAMP, "BLOCKED", 0.45, 100), perf_row(OTHER, "HEALTHY", 0.60, 30),
                 perf_row(THIRD, "HEALTHY", 0.62, 31)))  # fmt: skip
    assert r.switch_to == THIRD
    tie = rec(perf(perf_row(CHAMP, "DEGRADING", 0.53), perf_row(OTHER, "HEALTHY", 0.60, 40),
                   perf_row(THIRD, "HEALTHY", 0.60, 35)))  # fmt: skip
    assert tie.switch_to == OTHER  # same HR: the larger N


def test_degrading_switch_then_retrain_at_exactly_30_days_else_watch():
    challenger = perf_row(OTHER, "HEALTHY", 0.58, 30)
    assert rec(perf(perf_row(CHAMP, "DEGRADING", 0.53), challenger), days=45).recommendation == "SWITCH"
    alone = perf(perf_row(CHAMP, "DEGRADING", 0.53), perf_row(OTHER, "HEALTHY", 0.58, 29))
    assert rec(alone, days=30).recommendation == "RETRAIN"
    assert rec(alone, days=None).recommendation == "RETRAIN"  # no model in the last 30 days
    watch = rec(alone, days=29)
    assert watch.recommendation == "WATCH"
    assert watch.rule_path.endswith("stale: 29 days since training < 30 > WATCH")


def test_watch_is_watch_even_when_stale():
    assert rec(perf(perf_row(CHAMP, "WATCH", 0.56), perf_row(OTHER, "HEALTHY", 0.7, 90)), days=60).recommendation == (
        "WATCH"
    )


def test_healthy_retrain_at_exactly_30_days_else_all_clear():
    rows = perf(perf_row(CHAMP, "HEALTHY", 0.60))
    r = rec(rows, days=30)
    assert r.recommendation == "RETRAIN"
    assert r.rule_path.endswith("stale: 30 days since training >= 30 > RETRAIN")
    assert rec(rows, days=29).recommendation == "ALL CLEAR"


def test_insufficient_data_or_no_champion_row_is_watch_or_retrain_when_stale():
    assert rec(perf(perf_row(CHAMP, "INSUFFICIENT_DATA", None, 2)), days=3).recommendation == "WATCH"
    assert rec(perf(perf_row(OTHER, "HEALTHY", 0.7, 50)), days=3).recommendation == "WATCH"
    assert rec(perf(), days=None).recommendation == "RETRAIN"


@pytest.mark.parametrize("state", ["BLOCKED", "DEGRADING", "WATCH", "HEALTHY", "INSUFFICIENT_DATA"])
def test_a_market_crash_takes_precedence_over_every_state(state):
    rows = perf(perf_row(CHAMP, state, 0.30, crash=True, signal="CRASH: 2 models below 40% today (v12, v9_q43)"),
                perf_row(OTHER, "HEALTHY", 0.70, 50, crash=True))  # fmt: skip
    r = rec(rows, days=80)
    assert (r.recommendation, r.switch_to) == ("MARKET DISRUPTION", None)
    assert r.rule_path == "market_crash: yes > MARKET DISRUPTION"
    assert "CRASH: 2 models below 40%" in r.reason


def _accuracy(day: date, family: str, wins: int, n: int) -> list[dict]:
    return [
        dict.fromkeys(ACCURACY_SCHEMA.names())
        | {
            "game_date": day,
            "game_id": f"g{i}",
            "player_lookup": f"p{i}",
            "model_id": f"{family}_m",
            "family": family,
            "predicted_points": 25.0,
            "actual_points": 30.0 if i < wins else 10.0,
            "line": 20.5,
            "edge": 4.5,
            "direction": "OVER",
            "p_over": 0.6,
            "recommendation": "OVER",
            "quarantined": False,
            "price": -110,
            "result": "WIN" if i < wins else "LOSS",
        }  # fmt: skip
        for i in range(n)
    ]


def test_the_crash_is_model_performance_dailys_one_rule():
    """Two families below 40% over 5 picks the same day: model_performance_daily flags the crash
    (config/health.yaml crash), and the steering report reads that flag; with one pick fewer
    (n_day 4 < min_daily_n 5) there is no crash and no disruption."""
    for n, expected in ((5, "MARKET DISRUPTION"), (4, "WATCH")):
        rows = pl.DataFrame(_accuracy(DAY, CHAMP, 1, n) + _accuracy(DAY, OTHER, 1, n), schema=ACCURACY_SCHEMA)
        daily = health.model_performance(rows, None, start=DAY, end=DAY, champion=CHAMP, families=[CHAMP, OTHER],
                                         config=HEALTH)  # fmt: skip
        assert rec(daily, days=3).recommendation == expected


def test_stale_boundary_and_days_since_training_from_the_registry():
    registry = pl.DataFrame({"family": [CHAMP, CHAMP, OTHER], "week_start": [date(2025, 12, 15), date(2025, 12, 22),
                                                                             date(2026, 1, 19)]})  # fmt: skip
    days = steering.champion_days_since_training(registry, CHAMP, [date(2025, 12, 14), date(2026, 1, 20),
                                                                   date(2026, 1, 21)])  # fmt: skip
    assert days == {date(2025, 12, 14): None, date(2026, 1, 20): 29, date(2026, 1, 21): 30}
    assert [steering.is_stale(d, CONFIG) for d in (None, 29, 30)] == [True, False, True]


# ------------------------------------------------------------------ record and observe figures


def picks_frame(rows: list[tuple[date, str, float | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"game_date": d, "status": s, "result": r, "profit": p} for d, r, p, s in rows],
        schema={"game_date": pl.Date, "status": pl.Utf8, "result": pl.Utf8, "profit": pl.Float64},
    )


W, L = 100 / 110, -1.0
PICKS = picks_frame(
    [
        (DAY, "WIN", W, "published"), (DAY, "LOSS", L, "published"), (DAY, "PUSH", None, "published"),
        (DAY, "WIN", None, "published"),  # a DFS win: no price, no profit
        (DAY, "WIN", W, "withdrawn"),  # never a bet
        (DAY - timedelta(days=6), "WIN", W, "published"),  # the 7-day window's first day
        (DAY - timedelta(days=7), "LOSS", L, "published"),  # 14 days, not 7
        (DAY - timedelta(days=20), "WIN", 1.5, "published"),  # 30 days
        (DAY - timedelta(days=40), "LOSS", L, "published"),  # season only (2025-26)
        (date(2025, 6, 1), "WIN", W, "published"),  # the previous season: never
    ]
)  # fmt: skip


def test_record_windows_hand_computed():
    first = DAY - timedelta(days=CONFIG.history_days - 1)
    r = steering.record_figures(PICKS, first, DAY, CONFIG).filter(pl.col("game_date") == DAY).row(0, named=True)
    assert (r["wins"], r["losses"], r["pushes"], r["n"]) == (2, 1, 1, 3)
    assert r["roi"] == pytest.approx((W + L) / 2)  # priced decided picks only
    assert (r["wins_7d"], r["losses_7d"], r["hr_7d"]) == (3, 1, 0.75)
    assert r["roi_7d"] == pytest.approx((2 * W + L) / 3)
    assert (r["wins_14d"], r["losses_14d"]) == (3, 2)
    assert (r["wins_30d"], r["losses_30d"]) == (4, 2)
    assert r["roi_30d"] == pytest.approx((2 * W + 2 * L + 1.5) / 5)
    assert (r["wins_season"], r["losses_season"], r["n_season"]) == (4, 3, 7)


def test_observe_filters_graded_outcome_hand_computed():
    bb = pl.DataFrame(
        {
            "game_date": [DAY, DAY, DAY, DAY - timedelta(days=35)],
            "game_id": ["g1", "g2", "g3", "g4"],
            "player_lookup": ["a", "b", "c", "d"],
            "model_id": ["m", "m", "m", "m"],
            "selected": [True, False, True, True],
            "observed_by": [["affinity"], ["affinity", "familiar"], [], ["affinity"]],
            "health_gate_active": [False] * 4,
            "health_gate_reason": [None] * 4,
        }
    )
    acc = pl.DataFrame({"game_id": ["g1", "g2", "g3", "g4"], "player_lookup": ["a", "b", "c", "d"],
                        "model_id": ["m"] * 4, "result": ["WIN", "LOSS", "WIN", "LOSS"],
                        "price": [-110, 120, -110, None]}, schema_overrides={"price": pl.Int32})  # fmt: skip
    first = DAY - timedelta(days=CONFIG.history_days - 1)
    out = steering.observe_figures(bb, acc, first, DAY, CONFIG).filter(pl.col("game_date") == DAY).sort("filter")
    aff, fam = out.row(0, named=True), out.row(1, named=True)
    assert (aff["filter"], aff["flagged_30d"], aff["wins_30d"], aff["losses_30d"]) == ("affinity", 2, 1, 1)
    assert aff["roi_30d"] == pytest.approx((W - 1) / 2)
    assert (aff["selected_wins_30d"], aff["selected_losses_30d"]) == (1, 0)
    assert (aff["flagged_season"], aff["n_season"], aff["priced_season"]) == (3, 3, 2)  # g4 has no price
    assert (fam["filter"], fam["wins_30d"], fam["losses_30d"], fam["hr_30d"]) == ("familiar", 0, 1, 0.0)
    assert steering.observe_verdict(1, 19, CONFIG) == "too few"


def test_observe_verdict_boundary():
    assert steering.observe_verdict(10, 20, CONFIG) == "would have helped"  # 50% < 52.4%
    assert steering.observe_verdict(524, 1000, CONFIG) == "would have hurt"  # exactly the breakeven
    assert steering.observe_verdict(523, 1000, CONFIG) == "would have helped"


def test_schedule_gaps():
    played = {DAY - timedelta(days=3), DAY}
    assert steering.schedule_gaps(played, DAY, CONFIG) == (2, 1)  # two days off before, none tomorrow
    assert steering.schedule_gaps(played | {DAY + timedelta(days=1)}, DAY, CONFIG) == (2, None)
    assert steering.schedule_gaps(set(), DAY, CONFIG)[0] == CONFIG.schedule.look_behind_days


# ------------------------------------------------------------------ the whole report


NO_ALERTS = pl.DataFrame(schema=ALERTS_SCHEMA)


def regime_row(family: str, colours: tuple[str, str, str, str], line_state: str = "NORMAL") -> dict:
    keys = ("regime_colour", "compression_colour", "max_edge_colour", "edge_high_colour")
    return {"game_date": DAY, "family": family, **dict(zip(keys, colours, strict=True)), "line_state_short": line_state}


CHAMP_REGIME = regime_row(CHAMP, ("YELLOW", "GREEN", "YELLOW", "RED"))
# market_regime has a row per family: another family's must never show as the champion's
OTHER_REGIME = regime_row(OTHER, ("RED", "RED", "RED", "RED"), "LOOSE")


def inputs_for(performance: pl.DataFrame, picks: pl.DataFrame = PICKS, gate: bool = False,
               alerts: pl.DataFrame = NO_ALERTS, regime: list[dict] | None = None) -> steering.Inputs:  # fmt: skip
    bb = pl.DataFrame(
        {
            "game_date": [DAY],
            "game_id": ["g1"],
            "player_lookup": ["a"],
            "model_id": ["m"],
            "selected": [False],
            "observed_by": [["affinity"]],
            "health_gate_active": [gate],
            "health_gate_reason": ["champion v12 BLOCKED on 2026-01-19" if gate else None],
        }  # fmt: skip
    )
    acc = pl.DataFrame({"game_id": ["g1"], "player_lookup": ["a"], "model_id": ["m"], "result": ["LOSS"],
                        "price": [-110]}, schema_overrides={"price": pl.Int32})  # fmt: skip
    signal = pl.DataFrame({"game_date": [DAY, DAY], "name": ["high_edge", "combo_3way"], "kind": ["signal", "combo"],
                           "state": ["active", "active"], "status": ["HEALTHY", "DEGRADING"],
                           "regime": ["NORMAL", "COLD"], "hr_7d": [0.6, 0.4], "n_7d": [20, 10]})  # fmt: skip
    regime = pl.DataFrame([OTHER_REGIME, CHAMP_REGIME] if regime is None else regime)
    schedule = pl.DataFrame({"game_date": [DAY - timedelta(days=3), DAY], "status": ["final", "final"]})
    registry = pl.DataFrame({"family": [CHAMP], "week_start": [DAY - timedelta(days=8)]})
    return steering.Inputs(performance, signal, regime, picks, bb, acc, registry, schedule, alerts)


def build(
    inputs: steering.Inputs, config: steering.SteeringConfig = CONFIG
) -> tuple[pl.DataFrame, list[steering.Report]]:
    return steering.build_reports(inputs, DAY, DAY, champion=CHAMP, config=config, health_config=HEALTH,
                                  cutoff=ALERTS_CUTOFF)  # fmt: skip


def test_markdown_sections_and_record_figures():
    rows, [report] = build(inputs_for(perf(perf_row(CHAMP, "HEALTHY", 0.62), perf_row(OTHER, "WATCH", 0.56)),
                                      gate=True))  # fmt: skip
    md = report.markdown
    for section in ("# Steering report 2026-01-20", "**Recommendation: ALL CLEAR**", "Rule path: market_crash: no",
                    "## Model health", "## Signal health", "## Market regime", "## Best-bets record",
                    "### Per day (last 14 days)", "## Risk factors",
                    "## Observe-mode filters (would-have-blocked candidates, graded)", "## Open alerts",
                    "### Model health (business alerts)", "### Data faults"):  # fmt: skip
        assert section in md, section
    assert "Not covered" not in md and report.payload["gaps"] == []
    assert md.count("None open.") == 2 and report.open_alerts == 0
    assert "| 7 days | 3-1 | 75.0% | " in md
    assert "| 14 days | 3-2 | 60.0% |" in md
    assert "| 30 days | 4-2 | 66.7% |" in md
    assert "| season | 4-3 | 57.1% |" in md
    assert "| 2026-01-20 | 2-1 | 66.7% |" in md  # the per-day table, newest first
    assert "| 2026-01-14 | 1-0 | 100.0% |" in md
    assert md.count("\n| 2026-01-") == 14  # exactly the 14 days
    assert "| YELLOW | GREEN | YELLOW | RED | NORMAL |" in md
    assert "Status: DEGRADING 1, HEALTHY 1. Regime: COLD 1, NORMAL 1." in md
    assert "health gate closed: zero picks (champion v12 BLOCKED on 2026-01-19)" in md
    assert "schedule gap: first slate after 2 days without games" in md
    assert "| affinity | 1 | 0-1 | 0.0% |" in md
    r = rows.row(0, named=True)
    assert (r["recommendation"], r["recommendation_code"], r["bb_wins_7d"], r["bb_losses_7d"]) == ("ALL CLEAR", 0, 3, 1)
    assert r["health_gate_active"] and r["has_games"] and r["champion_days_since_training"] == 8
    assert report.payload["recommendation"] == "ALL CLEAR" and len(report.payload["record_daily"]) == 14
    assert steering.invalid_rows(rows, DAY, DAY).height == 0


def test_the_report_follows_the_champion_chosen_by_evidence_and_names_its_switch():
    """The day's champion is model_performance_daily's is_champion (here OTHER, not the seed
    CHAMP); a switch decided on the day (champion_transition SWITCH) is in the row, the risks and
    the report's champion line."""
    reason = "SWITCH v9_q43 -> v12_mae from 2026-01-21: v12_mae 60.0% over N 120 leads ..."
    choice = {"next_champion": THIRD, "champion_transition": "SWITCH", "champion_reason": reason}
    rows_ = [perf_row(CHAMP, "HEALTHY", 0.62) | {"is_champion": False} | choice,
             perf_row(OTHER, "BLOCKED", 0.45) | {"is_champion": True} | choice,
             perf_row(THIRD, "HEALTHY", 0.60) | choice]  # fmt: skip
    rows, [report] = build(inputs_for(perf(*rows_)))
    r = rows.row(0, named=True)
    assert (r["champion"], r["champion_state"], r["next_champion"], r["champion_switch"]) == (OTHER, "BLOCKED",
                                                                                            THIRD, True)  # fmt: skip
    assert r["champion_reason"] == reason and r["recommendation"] in ("SWITCH", "BLOCKED")
    assert f"champion switch (automatic, config/health.yaml champion_selection): {reason}" in r["risk_factors"]
    assert f"**Champion SWITCH for 2026-01-21: {THIRD}**: {reason}" in report.markdown
    assert f"**Champion of 2026-01-20: {OTHER}**" in report.markdown
    # the market regime section is the day's champion's row (OTHER's), not the seed's
    assert "| RED | RED | RED | RED | LOOSE |" in report.markdown
    assert "| YELLOW | GREEN | YELLOW | RED | NORMAL |" not in report.markdown
    # without rows: the seed, no switch, the seed's regime row
    rows, [report] = build(inputs_for(perf()))
    assert (rows["champion"][0], rows["champion_switch"][0]) == (CHAMP, False)
    assert "| YELLOW | GREEN | YELLOW | RED | NORMAL |" in report.markdown and "LOOSE" not in report.markdown
    # the champion without a regime row (no predictions that day): none shown, never another family's
    _, [report] = build(inputs_for(perf(*rows_), regime=[CHAMP_REGIME]))
    assert "No market_regime row (no slate for the champion on this date)." in report.markdown


def test_the_one_recommendation_check_fails_on_a_planted_fault():
    rows, _ = build(inputs_for(perf(perf_row(CHAMP, "HEALTHY", 0.62))))
    assert steering.invalid_rows(rows.with_columns(recommendation=pl.lit("PANIC")), DAY, DAY).height == 1
    assert steering.invalid_rows(pl.concat([rows, rows]), DAY, DAY).height == 1
    assert steering.invalid_rows(rows, DAY, DAY + timedelta(days=1)).height == 1  # a day without a row


def test_files_are_written_and_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    store = LocalArtifactStore(tmp_path)
    _, [old] = build(inputs_for(perf(perf_row(CHAMP, "HEALTHY", 0.62))))
    sizes = write_report(store, old)
    assert sizes == {"reports/steering/2026-01-20.md": len(old.markdown.encode()),
                     "reports/steering/2026-01-20.json": len(store.read_bytes("reports/steering/2026-01-20.json"))}  # fmt: skip
    assert store.read_bytes("reports/steering/2026-01-20.md").decode() == old.markdown
    assert store.read_json("reports/steering/2026-01-20.json")["recommendation"] == "ALL CLEAR"
    _, [new] = build(inputs_for(perf(perf_row(CHAMP, "BLOCKED", 0.40))))

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("nba_props.io.artifacts.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(store, new)
    assert store.read_bytes("reports/steering/2026-01-20.md").decode() == old.markdown  # the old file stays
    assert store.list("reports/") == ["reports/steering/2026-01-20.json", "reports/steering/2026-01-20.md"]
    assert not [p for p in (tmp_path / "reports" / "steering").iterdir() if p.name.endswith(".tmp")]


def test_config_windows_are_validated():
    with pytest.raises(ValueError, match="switch.window_days"):
        steering.SteeringConfig.model_validate(
            CONFIG.model_dump() | {"switch": CONFIG.switch.model_dump() | {"window_days": 10}}
        ).check_against(HEALTH)
    with pytest.raises(ValueError, match="switch.state"):
        steering.SteeringConfig.model_validate(CONFIG.model_dump() | {"switch": CONFIG.switch.model_dump()
                                                                       | {"state": "GREAT"}})  # fmt: skip
    assert CONFIG.history_days == health.season_span_days()


def test_empty_inputs_still_give_one_recommendation_per_day():
    """A new deployment (nothing graded, no model, no schedule): every day gets a row, RETRAIN (no
    champion model in the last 30 days), a zero record and no observe outcome."""
    empty = steering.Inputs(
        perf(),
        pl.DataFrame(
            schema={
                "game_date": pl.Date,
                "name": pl.Utf8,
                "kind": pl.Utf8,
                "state": pl.Utf8,
                "status": pl.Utf8,
                "regime": pl.Utf8,
            }
        ),  # fmt: skip
        pl.DataFrame(schema={c: pl.Date if c == "game_date" else pl.Utf8 for c in steering.REGIME_USED}),
        picks_frame([]),
        pl.DataFrame(
            schema={
                "game_date": pl.Date,
                "game_id": pl.Utf8,
                "player_lookup": pl.Utf8,
                "model_id": pl.Utf8,
                "selected": pl.Boolean,
                "observed_by": pl.List(pl.Utf8),
                "health_gate_active": pl.Boolean,
                "health_gate_reason": pl.Utf8,
            }
        ),  # fmt: skip
        pl.DataFrame(schema=ACCURACY_SCHEMA),
        pl.DataFrame(schema={"family": pl.Utf8, "week_start": pl.Date}),
        pl.DataFrame(schema={"game_date": pl.Date, "status": pl.Utf8}),
        NO_ALERTS,
    )
    rows, reports = steering.build_reports(empty, DAY, DAY + timedelta(days=2), champion=CHAMP, config=CONFIG,
                                           health_config=HEALTH, cutoff=ALERTS_CUTOFF)  # fmt: skip
    assert rows.get_column("recommendation").to_list() == ["RETRAIN"] * 3
    assert rows.get_column("bb_n_season").to_list() == [0, 0, 0]
    assert not rows.get_column("has_games").any()
    assert "No observe-mode filter flagged a candidate this season." in reports[0].markdown
    assert "- no games on this date" in reports[0].markdown
    assert steering.invalid_rows(rows, DAY, DAY + timedelta(days=2)).height == 0


def test_risk_factors_name_the_crash_stale_models_and_the_champion_below_watch():
    crash = "CRASH: 2 models below 40% today (v12, v9_q43)"
    rows, _ = build(inputs_for(perf(perf_row(CHAMP, "BLOCKED", 0.3, crash=True, signal=crash),
                                    perf_row(OTHER, "HEALTHY", 0.3, crash=True, staleness="URGENT", days=16))))  # fmt: skip
    r = rows.row(0, named=True)
    assert r["recommendation"] == "MARKET DISRUPTION" and r["market_crash"]
    assert r["risk_factors"] == [
        "schedule gap: first slate after 2 days without games (the rolling windows hold fewer game days)",
        "schedule gap: no games in the next 1 day(s) (or their schedule not ingested yet)",
        f"market crash: {crash}",
        "stale model v9_q43: URGENT (16 days since training)",
        "champion v12 BLOCKED",
    ]


# ------------------------------------------------------------------ open alerts as of the cutoff

# DAY's report is due 09:00 ET the next day (config/automation.yaml deadlines): 14:00 UTC in January
CUTOFF = datetime(2026, 1, 21, 14, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def alert(alert_id: str, raised: datetime, *, kind: str = "freshness", asset: str | None = "box_scores",
          partition: str | None = "2026-01-20", check: str | None = None, recovered: datetime | None = None) -> dict:  # fmt: skip
    return {"alert_id": alert_id, "raised_at": raised, "kind": kind, "asset": asset, "partition": partition,
            "check": check, "message": f"{alert_id} failed", "run_id": None,
            "status": "open" if recovered is None else "recovered", "recovered_at": recovered}  # fmt: skip


def alerts_frame(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=ALERTS_SCHEMA)


LOG = alerts_frame(
    alert("at_cutoff", CUTOFF),  # raised exactly at the cutoff: open
    alert("after_cutoff", CUTOFF + SECOND),  # raised a second later: not yet
    alert("recovered_at_cutoff", CUTOFF - timedelta(hours=5), recovered=CUTOFF),  # recovered by then
    alert(
        "recovered_later",
        CUTOFF - timedelta(hours=5),
        recovered=CUTOFF + SECOND,
        kind="check",
        asset="player_lines",
        check="unique_key",
    ),  # recovered after it: still open  # fmt: skip
    alert("later_partition", CUTOFF - timedelta(hours=6), partition="2026-01-21"),  # tomorrow's: not this report's
    alert("no_partition", CUTOFF - timedelta(hours=7), kind="run", asset="job:ingest_job", partition=None),
    alert("range", CUTOFF - timedelta(hours=8), kind="run", asset="job:backfill", partition="2026-01-19...2026-01-21"),
    alert(
        "champion",
        CUTOFF - timedelta(hours=9),
        kind="model_health",
        asset="model_performance_daily",
        check="champion_health",
    ),  # fmt: skip
)


def test_the_cutoff_is_the_reports_own_deadline():
    assert ALERTS_CUTOFF == steering.AlertsCutoff(time(9, 0), 1)
    assert ALERTS_CUTOFF.of(DAY) == CUTOFF
    assert ALERTS_CUTOFF.of(date(2026, 7, 1)) == datetime(2026, 7, 2, 13, 0, tzinfo=UTC)  # EDT
    today = Deadline(asset="x", partition="today", at=time(13, 0))
    assert steering.AlertsCutoff.from_deadline(today).of(DAY) == datetime(2026, 1, 20, 18, 0, tzinfo=UTC)


def test_open_alerts_at_the_cutoff_boundaries():
    day = steering.open_alerts(LOG, [DAY], ALERTS_CUTOFF)
    assert day.get_column("alert_id").to_list() == ["champion", "range", "no_partition", "recovered_later",
                                                    "at_cutoff"]  # fmt: skip
    assert day.filter("business").get_column("alert_id").to_list() == ["champion"]
    # the day before (its own cutoff 24 hours earlier): only what was raised by then, about <= that day
    before = steering.open_alerts(LOG, [DAY - timedelta(days=1)], ALERTS_CUTOFF)
    assert before.get_column("alert_id").to_list() == []
    both = steering.open_alerts(LOG, [DAY - timedelta(days=1), DAY], ALERTS_CUTOFF)
    assert both.equals(pl.concat([before, day]))


def test_alerts_in_the_report_risk_factors_markdown_and_json():
    rows, [report] = build(inputs_for(perf(perf_row(CHAMP, "HEALTHY", 0.62)), alerts=LOG))
    r = rows.row(0, named=True)
    assert r["risk_factors"][-2:] == [
        "1 open model-health alert as of 2026-01-21 09:00 ET: model_performance_daily 2026-01-20 model_health "
        "champion_health",
        "4 open data alerts as of 2026-01-21 09:00 ET: job:backfill 2026-01-19...2026-01-21 run, job:ingest_job run, "
        "player_lines 2026-01-20 unique_key, box_scores 2026-01-20 freshness",
    ]
    assert (report.open_alerts, report.open_model_health_alerts) == (5, 1)
    payload = report.payload["open_alerts"]
    assert payload["as_of"] == "2026-01-21T14:00:00+00:00" and payload["open"] == 5
    assert [i["alert_id"] for i in payload["model_health"]] == ["champion"]
    assert [i["alert_id"] for i in payload["data"]] == ["range", "no_partition", "recovered_later", "at_cutoff"]
    md = report.markdown
    business, data = md.split("### Model health (business alerts)")[1].split("### Data faults")
    assert "champion failed" in business and "box_scores" not in business
    assert "| 2026-01-21 14:00:00 UTC | freshness | box_scores | 2026-01-20 |  | at_cutoff failed |" in data
    assert "recovered_later failed" in data  # recovered after the cutoff: listed, its recovery not shown
    assert "14:00:01" not in md
    for absent in ("after_cutoff", "recovered_at_cutoff", "later_partition"):
        assert absent not in md
    # at most risk_items alerts named per line, the section lists all
    few = CONFIG.model_copy(update={"alerts": steering.AlertsRule(risk_items=2)})
    rows, [report] = build(inputs_for(perf(perf_row(CHAMP, "HEALTHY", 0.62)), alerts=LOG), few)
    assert rows.item(0, "risk_factors")[-1].endswith("job:ingest_job run (+2 more)")
    assert "at_cutoff failed" in report.markdown


def test_a_rerun_after_the_cutoff_lists_the_same_alerts():
    """The table as it was at the cutoff (rows raised by then, recoveries by then) and the same
    table days later (a recovery after the cutoff, new alerts, a later partition's): one report."""
    at_cutoff = LOG.filter(pl.col("raised_at") <= CUTOFF).with_columns(
        recovered_at=pl.when(pl.col("recovered_at") <= CUTOFF).then(pl.col("recovered_at")),
        status=pl.when(pl.col("recovered_at") <= CUTOFF).then(pl.lit("recovered")).otherwise(pl.lit("open")),
    )
    later = pl.concat([LOG.with_columns(status=pl.lit("recovered"), recovered_at=pl.lit(CUTOFF + timedelta(days=3))
                                        .cast(ALERTS_SCHEMA["recovered_at"]))
                       .filter(pl.col("alert_id") != "recovered_at_cutoff"),
                       LOG.filter(pl.col("alert_id") == "recovered_at_cutoff"),
                       alerts_frame(alert("next_week", CUTOFF + timedelta(days=7), partition="2026-01-19"))])  # fmt: skip
    _, [then] = build(inputs_for(perf(perf_row(CHAMP, "HEALTHY", 0.62)), alerts=at_cutoff))
    _, [now] = build(inputs_for(perf(perf_row(CHAMP, "HEALTHY", 0.62)), alerts=later))
    assert then.payload["open_alerts"]["open"] == 5
    ids = ["range", "no_partition", "recovered_later", "at_cutoff"]
    assert [i["alert_id"] for i in then.payload["open_alerts"]["data"]] == ids
    # the same report: the recoveries known only later are not shown
    assert now.markdown == then.markdown and now.payload == then.payload
