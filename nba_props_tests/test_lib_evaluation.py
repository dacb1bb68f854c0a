"""evaluate() on a 10-row hand-made family frame (every figure computed by hand) and the
markdown report."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from nba_props.lib.evaluation import evaluate, report_markdown
from nba_props.lib.grading import grade, wilson_interval

M_EVEN, M_FAV_OVER, M_FAV_UNDER, M_PLUS = 0.5, 12 / 23, 11 / 23, 60 / 137
# -110/-110 -> 0.5; -120/+100 -> (120/220) / (120/220 + 1/2) = 12/23; +100/-120 -> 11/23;
# +120/-140 -> (100/220) / (100/220 + 140/240) = 60/137
ROWS = [
    # player, pred, line, actual, p_over, over_price, under_price, market, direction, edge
    ("a", 25.0, 20.5, 24.0, 0.70, -110, -110, M_EVEN, "OVER", 4.5),  # WIN
    ("b", 24.0, 20.5, 18.0, 0.65, -120, 100, M_FAV_OVER, "OVER", 3.5),  # LOSS
    ("c", 15.0, 18.5, 12.0, 0.35, 100, -120, M_FAV_UNDER, "UNDER", 3.5),  # WIN
    ("d", 12.0, 17.5, 20.0, 0.25, None, None, None, "UNDER", 5.5),  # LOSS, no prices
    ("e", 21.0, 20.0, 20.0, 0.55, -110, -110, M_EVEN, "OVER", 1.0),  # PUSH (integer line)
    ("f", 10.0, 11.5, 9.0, 0.45, -110, -110, M_EVEN, "UNDER", 1.5),  # WIN
    ("g", 30.0, 24.5, None, 0.80, -110, -110, M_EVEN, "OVER", 5.5),  # VOID DNP
    ("h", 18.0, 18.5, 22.0, 0.48, -110, -110, M_EVEN, "UNDER", 0.5),  # LOSS
    ("i", 8.0, None, 10.0, None, None, None, None, None, None),  # no line: no bet (result NULL)
    ("j", 27.0, 21.5, 29.0, 0.75, 120, -140, M_PLUS, "OVER", 5.5),  # WIN
]


def _graded() -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "game_date": [date(2025, 1, 6)] * len(ROWS),
            "player_lookup": [r[0] for r in ROWS],
            "predicted_points": [r[1] for r in ROWS],
            "line": [r[2] for r in ROWS],
            "actual_points": [r[3] for r in ROWS],
            "p_over": [r[4] for r in ROWS],
            "over_price": [r[5] for r in ROWS],
            "under_price": [r[6] for r in ROWS],
            "market_p_over": [r[7] for r in ROWS],
            "direction": [r[8] for r in ROWS],
            "edge": [r[9] for r in ROWS],
            "recommendation": ["OVER", "OVER", "UNDER", "UNDER", "PASS", "UNDER", "OVER", "PASS", "NO_LINE", "OVER"],
            "game_status": ["final"] * len(ROWS),
        },
        schema_overrides={
            "over_price": pl.Int32,
            "under_price": pl.Int32,
            "line": pl.Float64,
            "actual_points": pl.Float64,
            "p_over": pl.Float64,
            "market_p_over": pl.Float64,
            "edge": pl.Float64,
            "direction": pl.Utf8,
        },  # fmt: skip
    )
    return grade(frame)


def test_the_hand_frame_grades_as_annotated():
    graded = _graded()
    assert graded["result"].to_list() == ["WIN", "LOSS", "WIN", "LOSS", "PUSH", "WIN", "VOID", "LOSS", None, "WIN"]


def test_evaluate_numbers_by_hand():
    report = evaluate(_graded())
    assert report["n"] == 10 and report["n_lined"] == 8
    # |pred - actual| over the 8 rows with a line and an actual: 1+6+3+8+1+1+4+2 = 26
    assert report["mae"] == 3.25
    # |line - actual|: 3.5+2.5+6.5+2.5+0+2.5+3.5+7.5 = 28.5
    assert report["line_mae"] == pytest.approx(28.5 / 8)
    assert report["mae_ratio"] == pytest.approx(round(3.25 / 3.5625, 4))
    # decided rows a b c d f h j, over = 1 0 0 1 0 1 1
    model_sq = [(0.70 - 1) ** 2, 0.65**2, 0.35**2, (0.25 - 1) ** 2, 0.45**2, (0.48 - 1) ** 2, (0.75 - 1) ** 2]
    assert report["n_brier"] == 7
    assert report["brier"] == pytest.approx(round(sum(model_sq) / 7, 4))
    # market: the same outcomes on the priced decided rows a b c f h j (d has no prices)
    market_sq = [(M_EVEN - 1) ** 2, M_FAV_OVER**2, M_FAV_UNDER**2, M_EVEN**2, (M_EVEN - 1) ** 2, (M_PLUS - 1) ** 2]
    assert report["n_market"] == 6
    assert report["market_brier"] == pytest.approx(round(sum(market_sq) / 6, 4))
    priced_model = [s for s, r in zip(model_sq, "abcdfhj", strict=True) if r != "d"]
    assert report["brier_priced"] == pytest.approx(round(sum(priced_model) / 6, 4))
    # edge >= 3 picks: a WIN @-110 (OVER), b LOSS @-120, c WIN @-120 (UNDER side), d no price,
    # g VOID, j WIN @+120 -> (100/110 - 1 + 100/120 + 1.2) / 4
    assert report["roi_edge3"] == pytest.approx(round((100 / 110 - 1 + 100 / 120 + 1.2) / 4, 4))
    assert report["n_roi_edge3"] == 4

    hr = report["hr"]
    assert list(hr) == ["1", "3", "5"]
    # recommended picks (OVER/UNDER) with edge >= 1: a W, b L, c W, d L, f W, g VOID, j W; e (a PUSH at
    # edge 1.0) is a PASS, not a bet, so it is not counted
    assert {k: hr["1"][k] for k in ("wins", "losses", "pushes", "voids")} == {
        "wins": 4,
        "losses": 2,
        "pushes": 0,
        "voids": 1,
    }
    # the old view, every lined row with edge >= 1 whatever its recommendation, keeps e's push
    assert {k: report["hr_all_lined"]["1"][k] for k in ("wins", "losses", "pushes", "voids")} == {
        "wins": 4, "losses": 2, "pushes": 1, "voids": 1}  # fmt: skip
    assert hr["1"]["hr"] == pytest.approx(0.6667)
    low, high = wilson_interval(4, 6)
    assert (hr["1"]["ci_low"], hr["1"]["ci_high"]) == (round(low, 4), round(high, 4))
    # edge >= 3: a W, b L, c W, d L, g VOID, j W
    assert {k: hr["3"][k] for k in ("wins", "losses", "pushes", "voids")} == {
        "wins": 3,
        "losses": 2,
        "pushes": 0,
        "voids": 1,
    }
    assert hr["3"]["hr"] == 0.6
    # edge >= 5: d L, g VOID, j W
    assert {k: hr["5"][k] for k in ("wins", "losses", "pushes", "voids", "hr")} == {
        "wins": 1, "losses": 1, "pushes": 0, "voids": 1, "hr": 0.5}  # fmt: skip

    assert report["by_direction"] == {
        "OVER": {"n": 3, "wins": 2, "losses": 1, "hr": 0.6667},  # a W, b L, j W (g void)
        "UNDER": {"n": 2, "wins": 1, "losses": 1, "hr": 0.5},  # c W, d L
    }

    calibration = {row["bin"]: row for row in report["calibration"]}
    assert len(report["calibration"]) == 10 and sum(r["n"] for r in report["calibration"]) == 7
    assert calibration["0.4-0.5"] == {
        "bin": "0.4-0.5",
        "low": 0.4,
        "high": 0.5,
        "n": 2,
        "mean_p": 0.465,
        "observed": 0.5,
    }
    assert (calibration["0.7-0.8"]["n"], calibration["0.7-0.8"]["mean_p"], calibration["0.7-0.8"]["observed"]) == (
        2,
        0.725,
        1.0,
    )
    assert (calibration["0.2-0.3"]["n"], calibration["0.2-0.3"]["observed"]) == (1, 1.0)
    assert (calibration["0.6-0.7"]["n"], calibration["0.6-0.7"]["observed"]) == (1, 0.0)
    assert calibration["0.9-1.0"] == {
        "bin": "0.9-1.0",
        "low": 0.9,
        "high": 1.0,
        "n": 0,
        "mean_p": None,
        "observed": None,
    }


def test_market_probability_is_derived_from_prices_when_absent():
    with_column = evaluate(_graded())
    derived = evaluate(_graded().drop("market_p_over"))
    assert derived["market_brier"] == with_column["market_brier"]


def test_evaluate_without_prices_or_rows():
    bare = evaluate(_graded().drop("over_price", "under_price", "market_p_over"))
    assert bare["market_brier"] is None and bare["roi_edge3"] is None and bare["n_market"] == 0
    assert bare["mae"] == 3.25
    empty = evaluate(_graded().clear())
    assert empty["n"] == 0 and empty["mae"] is None and empty["mae_ratio"] is None and empty["brier"] is None
    assert empty["hr"]["3"] == {
        "wins": 0,
        "losses": 0,
        "pushes": 0,
        "voids": 0,
        "pending": 0,
        "hr": None,
        "ci_low": None,
        "ci_high": None,
    }
    import json

    json.dumps(empty)  # JSON-safe
    json.dumps(evaluate(_graded()))


def test_report_markdown_has_every_family_and_the_champion_tables():
    full = evaluate(_graded())
    no_prices = evaluate(_graded().drop("over_price", "under_price", "market_p_over"))
    report = {
        "champion": "v9_mae",
        "window": {"start": "2025-01-06", "end": "2025-01-12"},
        "families": {"v12_noveg_q43": no_prices, "v9_mae": full, "v12_mae": full},
    }
    md = report_markdown(report)
    for family in report["families"]:
        assert f"| {family} " in md or f"**{family}**" in md
    assert "**v9_mae** (champion)" in md
    assert "2025-01-06 .. 2025-01-12" in md
    assert "HR@3 (N) [95% CI]" in md and "66.7% (6)" in md  # HR@1: 4 of 6
    assert "## Calibration of P(over): `v9_mae`" in md and "| 0.4-0.5 | 2 | 0.465 | 0.500 |" in md
    assert "## Recommended OVER vs UNDER at edge ≥ 3: `v9_mae`" in md and "| OVER | 3 | 2 | 1 | 66.7% |" in md
    summary = md.split("## Summary")[1].split("##")[0]
    assert len([line for line in summary.splitlines() if line.startswith("| ") and "family" not in line]) == 3

    missing = report_markdown({**report, "champion": "gone"})
    assert "`gone` has no evaluated predictions" in missing and "v12_mae" in missing


# ---------------------------------------------------------------------------------------------
# recommended picks only, market of each figure


def _frame(rows: list[tuple], *, day: date = date(2025, 1, 6)) -> pl.DataFrame:
    """rows: (player, pred, line, actual, p_over, over_price, under_price, direction, edge,
    recommendation, market_type[, game_date])"""
    return grade(
        pl.DataFrame(
            {
                "game_date": [r[11] if len(r) > 11 else day for r in rows],
                "game_id": ["g1"] * len(rows),
                "player_lookup": [r[0] for r in rows],
                "predicted_points": [r[1] for r in rows],
                "line": [r[2] for r in rows],
                "actual_points": [r[3] for r in rows],
                "p_over": [r[4] for r in rows],
                "over_price": [r[5] for r in rows],
                "under_price": [r[6] for r in rows],
                "direction": [r[7] for r in rows],
                "edge": [r[8] for r in rows],
                "recommendation": [r[9] for r in rows],
                "market_type": [r[10] for r in rows],
                "game_status": ["final"] * len(rows),
            },
            schema_overrides={
                "over_price": pl.Int32,
                "under_price": pl.Int32,
                "line": pl.Float64,
                "edge": pl.Float64,
                "actual_points": pl.Float64,
                "p_over": pl.Float64,
                "predicted_points": pl.Float64,
            },  # fmt: skip
        )
    )


RECOMMENDED_ROWS = [
    ("r1", 24.0, 20.0, 25.0, 0.60, -110, -110, "OVER", 4.0, "OVER", "sportsbook"),  # WIN
    # edge 4 OVER but the calibrated probability disagrees: PASS, not a bet (a LOSS)
    ("r2", 24.0, 20.0, 15.0, 0.45, -110, -110, "OVER", 4.0, "PASS", "sportsbook"),
    ("r3", 20.5, 20.0, 25.0, 0.52, -110, -110, "OVER", 0.5, "PASS", "sportsbook"),  # small edge PASS (a WIN)
    ("r4", 17.0, 20.0, 22.0, 0.40, -110, -110, "UNDER", 3.0, "UNDER", "sportsbook"),  # LOSS
    ("r5", 26.0, 20.0, 30.0, 0.70, 150, -180, "OVER", 6.0, "OVER", "sportsbook"),  # WIN at +150
    # a DFS row: counted in hit rates, never in ROI or the market Brier (placeholder prices)
    ("r6", 25.0, 20.0, 21.0, 0.65, -110, -110, "OVER", 5.0, "OVER", "dfs"),  # WIN
]


def test_hit_rates_and_roi_count_recommended_picks_only():
    report = evaluate(_frame(RECOMMENDED_ROWS))
    # recommended at edge >= 3: r1 W, r4 L, r5 W, r6 W (r2 is a PASS)
    assert {k: report["hr"]["3"][k] for k in ("wins", "losses", "pushes", "hr")} == {
        "wins": 3, "losses": 1, "pushes": 0, "hr": 0.75}  # fmt: skip
    # the old view counted r2 as a loss
    assert {k: report["hr_all_lined"]["3"][k] for k in ("wins", "losses", "hr")} == {"wins": 3, "losses": 2, "hr": 0.6}
    # edge >= 1 adds nothing (r3 is a PASS); edge >= 5: r5 W, r6 W
    assert (report["hr"]["1"]["wins"], report["hr"]["1"]["losses"]) == (3, 1)
    assert (report["hr"]["5"]["wins"], report["hr"]["5"]["losses"]) == (2, 0)
    # ROI at real (sportsbook) prices: r1 +100/110, r4 -1, r5 +1.5 over 3 stakes (r6 is DFS, r2 a PASS)
    assert report["n_roi_edge3"] == 3
    assert report["roi_edge3"] == pytest.approx(round((100 / 110 - 1 + 1.5) / 3, 4))
    assert (report["roi_recommended"], report["n_roi_recommended"]) == (report["roi_edge3"], 3)
    # the market Brier uses sportsbook rows only (r1..r5), the model Brier every decided row
    assert (report["n_market"], report["n_brier"]) == (5, 6)
    assert report["markets"]["decided_rows"] == {"dfs": 1, "sportsbook": 5}
    assert report["markets"]["market_brier"] == "sportsbook" and report["markets"]["roi"] == "sportsbook"
    assert report["by_direction"]["OVER"] == {"n": 3, "wins": 3, "losses": 0, "hr": 1.0}
    assert report["by_direction"]["UNDER"] == {"n": 1, "wins": 0, "losses": 1, "hr": 0.0}


def test_without_a_market_type_column_rows_with_both_prices_are_sportsbook():
    frame = (
        _frame(RECOMMENDED_ROWS)
        .drop("market_type")
        .with_columns(
            over_price=pl.when(pl.col("player_lookup") == "r6").then(None).otherwise(pl.col("over_price")),
            under_price=pl.when(pl.col("player_lookup") == "r6").then(None).otherwise(pl.col("under_price")),
        )
    )
    report = evaluate(frame)
    assert report["markets"]["decided_rows"] == {"sportsbook": 5, "unpriced": 1}
    assert report["n_roi_edge3"] == 3 and report["n_market"] == 5


def test_quarantined_rows_are_never_evaluated():
    frame = _frame(RECOMMENDED_ROWS).with_columns(quarantined=pl.col("player_lookup") == "r1")
    report = evaluate(frame)
    assert report["n"] == 5
    assert (report["hr"]["3"]["wins"], report["hr"]["3"]["losses"]) == (2, 1)


# ---------------------------------------------------------------------------------------------
# top5_daily


D1, D2 = date(2025, 1, 6), date(2025, 1, 7)


def _pick(
    player: str, edge: float, actual: float, day: date, *, game: str = "g1", price: int | None = -110, rec: str = "OVER"
) -> dict:
    line = 20.0
    pred = line + edge if rec == "OVER" else line - edge
    return {"game_date": day, "game_id": game, "player_lookup": player, "predicted_points": pred, "line": line,
            "actual_points": actual, "p_over": 0.6 if rec == "OVER" else 0.4, "over_price": price,
            "under_price": price, "direction": rec, "edge": edge, "recommendation": rec, "game_status": "final"}  # fmt: skip


def test_top5_daily_takes_the_five_largest_edges_per_day_with_ties_pushes_and_short_days():
    picks = [
        # day 1: seven picks; the 5th and 6th largest edges tie at 3.0 -> game id, then player decide
        _pick("a", 6.0, 25.0, D1),  # WIN
        _pick("b", 5.0, 15.0, D1),  # LOSS
        _pick("c", 5.0, 22.0, D1, price=150),  # WIN at +150
        _pick("d", 4.0, 21.0, D1),  # WIN
        _pick("f", 3.0, 10.0, D1, game="g0"),  # LOSS: in (game g0 sorts before g1)
        _pick("e", 3.0, 30.0, D1),  # WIN: out (6th)
        _pick("g", 2.0, 30.0, D1),  # WIN: out
        # day 2: two picks only, one a push (integer line, actual == line)
        _pick("h", 4.0, 20.0, D2),  # PUSH
        _pick("i", 3.5, 19.0, D2, rec="UNDER", price=None),  # WIN, no price
        # a PASS with the largest edge of day 2 is not a pick
        {**_pick("j", 9.0, 10.0, D2), "recommendation": "PASS"},
    ]
    frame = grade(pl.DataFrame(picks, schema_overrides={"over_price": pl.Int32, "under_price": pl.Int32}))
    top = evaluate(frame)["top5_daily"]
    # chosen: a W, b L, c W, d W, f L | h PUSH, i W
    assert {k: top[k] for k in ("k", "days", "days_short", "picks", "wins", "losses", "pushes", "voids")} == {
        "k": 5, "days": 2, "days_short": 1, "picks": 7, "wins": 4, "losses": 2, "pushes": 1, "voids": 0}  # fmt: skip
    assert top["hr"] == pytest.approx(round(4 / 6, 4))
    low, high = wilson_interval(4, 6)
    assert (top["ci_low"], top["ci_high"]) == (round(low, 4), round(high, 4))
    # ROI on the priced WIN/LOSS picks: a +100/110, b -1, c +1.5, d +100/110, f -1 (i has no price)
    assert top["n_roi"] == 5
    assert top["roi"] == pytest.approx(round((2 * 100 / 110 + 1.5 - 2) / 5, 4))


# ---------------------------------------------------------------------------------------------
# baselines


def _box(rows: list[tuple]) -> pl.DataFrame:
    """(player, game_date, points[, played])"""
    return pl.DataFrame(
        {
            "player_lookup": [r[0] for r in rows],
            "game_date": [r[1] for r in rows],
            "points": [r[2] for r in rows],
            "played": [r[3] if len(r) > 3 else True for r in rows],
        },  # fmt: skip
        schema_overrides={"points": pl.Int32},
    )


def test_last5_last10_use_only_games_strictly_before_the_date():
    from nba_props.lib.evaluation import rolling_points_means

    days = [date(2025, 1, d) for d in range(1, 13)]
    points = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 500]  # the 500 is the same-day game
    box = _box([("p", d, pts) for d, pts in zip(days, points, strict=True)]
               + [("q", days[0], 8), ("q", days[2], 12), ("q", days[5], 99, False)])  # fmt: skip
    rows = pl.DataFrame({"game_date": [days[11], days[11], days[11], days[3]],
                         "player_lookup": ["p", "q", "nobody", "p"]})  # fmt: skip
    out = {(r["player_lookup"], r["game_date"]): r for r in
           rolling_points_means(rows, box, {"last5": 5, "last10": 10}).to_dicts()}  # fmt: skip
    p = out[("p", days[11])]
    assert p["last5"] == pytest.approx((70 + 80 + 90 + 100 + 110) / 5)  # not 500
    assert p["last10"] == pytest.approx(sum(points[1:11]) / 10)
    assert p["history_games"] == 11
    q = out[("q", days[11])]  # two played games; the DNP row does not count
    assert (q["last5"], q["last10"], q["history_games"]) == (10.0, 10.0, 2)
    early = out[("p", days[3])]  # games of Jan 1-3 only
    assert (early["last5"], early["history_games"]) == (20.0, 3)
    nobody = out[("nobody", days[11])]
    assert nobody["last5"] is None and nobody["history_games"] == 0


def test_baselines_on_the_champions_decided_rows():
    from nba_props.lib.evaluation import baselines

    day = date(2025, 1, 10)
    box = _box([("a", date(2025, 1, d), pts) for d, pts in ((1, 30), (3, 30), (5, 30), (7, 30), (9, 30))]
               + [("b", date(2025, 1, d), pts) for d, pts in ((2, 10), (4, 10), (6, 10), (8, 10), (9, 10))]
               + [("c", date(2025, 1, 2), 18), ("c", day, 40)])  # fmt: skip
    champion = _frame(
        [
            # player, pred, line, actual, p_over, prices, direction, edge, recommendation, market
            (
                "a",
                26.0,
                24.5,
                28.0,
                0.6,
                -110,
                -110,
                "OVER",
                1.5,
                "OVER",
                "sportsbook",
            ),  # WIN; last5 30 -> OVER, edge 5.5 WIN
            (
                "b",
                14.0,
                12.5,
                9.0,
                0.6,
                -110,
                -110,
                "OVER",
                1.5,
                "OVER",
                "sportsbook",
            ),  # LOSS; last5 10 -> UNDER 2.5 WIN
            (
                "c",
                20.0,
                19.5,
                17.0,
                0.55,
                120,
                -140,
                "OVER",
                0.5,
                "PASS",
                "sportsbook",
            ),  # LOSS; last5 18 -> UNDER 1.5 WIN
            ("d", 15.0, 15.0, 15.0, 0.5, -110, -110, "OVER", 0.0, "PASS", "sportsbook"),  # PUSH: not a decided row
        ],
        day=day,
    )
    out = baselines(champion, box)
    assert out["n"] == 3
    # line: |24.5-28| + |12.5-9| + |19.5-17| = 3.5 + 3.5 + 2.5
    assert out["line"]["mae"] == pytest.approx(round(9.5 / 3, 4)) and out["line"]["mae_ratio"] == 1.0
    # champion on the same rows: 2 + 5 + 3 = 10
    assert out["champion"]["mae"] == pytest.approx(round(10 / 3, 4))
    last5 = out["last5"]
    # |30-28| + |10-9| + |18-17| = 4 (c's same-day 40 is not history)
    assert last5["mae"] == pytest.approx(round(4 / 3, 4))
    assert last5["mae_ratio"] == pytest.approx(round(4 / 9.5, 4))
    assert {k: last5["hr"]["1"][k] for k in ("wins", "losses", "hr")} == {"wins": 3, "losses": 0, "hr": 1.0}
    assert {k: last5["hr"]["3"][k] for k in ("wins", "losses")} == {"wins": 1, "losses": 0}  # a only (5.5)
    assert last5["hr"]["5"]["wins"] == 1
    top = last5["top5_daily"]
    assert (top["picks"], top["wins"], top["losses"]) == (3, 3, 0)
    # at real prices: a OVER -110, b UNDER -110, c UNDER -140
    assert top["n_roi"] == 3 and top["roi"] == pytest.approx(round((2 * 100 / 110 + 100 / 140) / 3, 4))
    assert out["last10"]["mae"] == last5["mae"]  # fewer than 10 games: the same mean


# ---------------------------------------------------------------------------------------------
# coverage


W1, W2 = date(2025, 1, 6), date(2025, 1, 13)  # two Mondays


def _features(rows: list[tuple]) -> pl.DataFrame:
    """(player, game_date, line, ready, block_reason)"""
    return pl.DataFrame(
        {
            "game_date": [r[1] for r in rows],
            "game_id": [f"{r[1]:%Y%m%d}_X_Y" for r in rows],
            "player_lookup": [r[0] for r in rows],
            "line": [r[2] for r in rows],
            "is_quality_ready": [r[3] for r in rows],
            "block_reason": [r[4] for r in rows],
        },  # fmt: skip
        schema_overrides={"line": pl.Float64, "block_reason": pl.Utf8},
    )


def _registry(rows: list[tuple]) -> pl.DataFrame:
    """(family, week_start, lifecycle_state, governance JSON)"""
    return pl.DataFrame(
        {
            "week_start": [r[1] for r in rows],
            "model_id": [f"m_{r[0]}_{r[1]}" for r in rows],
            "family": [r[0] for r in rows],
            "lifecycle_state": [r[2] for r in rows],
            "governance": [r[3] for r in rows],
        },  # fmt: skip
        schema_overrides={"governance": pl.Utf8},
    )


def _predictions(features: pl.DataFrame, family: str, keys: dict[str, tuple]) -> pl.DataFrame:
    """keys: player -> (recommendation, quarantined, actual); edge 4 OVER on lined rows."""
    rows = features.filter(pl.col("player_lookup").is_in(list(keys)))
    recs = [keys[p] for p in rows["player_lookup"]]
    frame = (
        rows.select("game_date", "game_id", "player_lookup", "line")
        .with_columns(
            family=pl.lit(family),
            predicted_points=pl.col("line").fill_null(15.0) + 4.0,
            recommendation=pl.Series([r[0] for r in recs]),
            quarantined=pl.Series([r[1] for r in recs]),
            actual_points=pl.Series([r[2] for r in recs], dtype=pl.Float64),
            p_over=pl.when(pl.col("line").is_not_null()).then(0.6),
            game_status=pl.lit("final"),
            over_price=pl.lit(-110, dtype=pl.Int32),
            under_price=pl.lit(-110, dtype=pl.Int32),
        )
        .with_columns(
            edge=(pl.col("predicted_points") - pl.col("line")).abs(),
            direction=pl.when(pl.col("line").is_not_null()).then(pl.lit("OVER")),
        )
    )
    return grade(frame)


def test_coverage_parts_sum_to_the_whole_and_name_every_exclusion():
    from nba_props.lib.evaluation import coverage, coverage_identities, family_weeks

    mon, tue = W1, W1 + timedelta(days=1)
    next_mon = W2
    features = _features(
        [
            # week 1 (a serving model)
            ("a", mon, 20.5, True, None),  # lined, predicted, OVER WIN
            ("b", mon, 18.5, True, None),  # lined, predicted, OVER LOSS
            ("c", mon, 15.5, True, None),  # lined, predicted, PASS
            ("d", tue, 12.5, True, None),  # lined, predicted, quarantined
            ("e", tue, 10.5, False, "required_defaults: points_avg_last_5; quality_tier: bronze (60.0)"),  # blocked
            ("f", tue, None, True, None),  # no line, predicted: NO_LINE
            ("g", tue, None, False, "quality_tier: poor (40.0)"),  # no line, blocked
            ("h", tue, 22.5, True, None),  # lined, predicted, OVER, did not play: VOID
            # week 2 (the family's model is blocked)
            ("i", next_mon, 19.5, True, None),  # lined, ready, no model
            ("j", next_mon, None, True, None),  # unlined, ready, no model
            ("k", next_mon, 14.5, False, "out_of_range: usage_rate"),  # lined, blocked
        ]
    )
    preds = _predictions(features, "fam", {
        "a": ("OVER", False, 30.0), "b": ("OVER", False, 10.0), "c": ("PASS", False, 20.0),
        "d": ("OVER", True, 30.0), "f": ("NO_LINE", False, 20.0), "h": ("OVER", False, None),
    })  # fmt: skip
    registry = _registry(
        [
            ("fam", W1, "active", "{}"),
            ("fam", W2, "blocked", '{"hr_edge3": {"status": "failed"}, "bias": {"status": "passed"}}'),
        ]
    )
    weeks = family_weeks(registry, "fam", start=W1, end=W2 + timedelta(days=6))
    cov = coverage(features, preds, needs_line=False, weeks=weeks)

    assert cov["candidates"] == {"total": 11, "with_line": 8, "without_line": 3}
    assert cov["with_line"] == {"total": 8, "blocked_by_quality": 2, "no_model": 1, "line_required": 0,
                                "predicted": 5, "unaccounted": 0}  # fmt: skip
    assert cov["without_line"] == {"total": 3, "blocked_by_quality": 1, "no_model": 1, "line_required": 0,
                                   "predicted": 1, "unaccounted": 0}  # fmt: skip
    # each blocked row under the first kind of its reason: e required_defaults, g quality_tier, k out_of_range
    assert cov["blocked_by_reason"] == {"required_defaults": 1, "out_of_range": 1, "quality_tier": 1}
    assert cov["predictions"] == {"total": 6, "quarantined": 1, "no_line": 1, "lined": 4}
    assert cov["lined_predictions"] == {"total": 4, "recommended": 3, "passed": 1}
    assert cov["recommended"] == {"total": 3, "wins": 1, "losses": 1, "pushes": 0, "voids": 1, "pending": 0}
    assert weeks["total"] == 2
    assert weeks["serving"] == [{"week": "2025-01-06", "model_id": "m_fam_2025-01-06"}]
    assert weeks["blocked"] == [{"week": "2025-01-13", "model_id": "m_fam_2025-01-13", "failed_gates": ["hr_edge3"]}]
    assert coverage_identities(cov) == []

    # a family that predicts lined rows only: the ready unlined row of the serving week is `line_required`
    lined_only = coverage(features, preds.filter(pl.col("line").is_not_null()), needs_line=True, weeks=weeks)
    assert lined_only["without_line"] == {"total": 3, "blocked_by_quality": 1, "no_model": 1, "line_required": 1,
                                          "predicted": 0, "unaccounted": 0}  # fmt: skip
    assert coverage_identities(lined_only) == []

    # a ready row of a serving week that a family which predicts everything skipped is not explained away
    missing_f = coverage(features, preds.filter(pl.col("player_lookup") != "f"), needs_line=False, weeks=weeks)
    assert missing_f["without_line"]["unaccounted"] == 1
    assert any("not predicted" in b for b in coverage_identities(missing_f))
    # a prediction for a row that is not a candidate breaks predictions = predicted candidates
    stray = pl.concat([preds, preds.filter(pl.col("player_lookup") == "a").with_columns(game_id=pl.lit("elsewhere"))])
    assert any(b.startswith("predictions_vs_candidates") for b in coverage_identities(
        coverage(features, stray, needs_line=False, weeks=weeks)))  # fmt: skip


def test_family_weeks_skipped_and_missing():
    from nba_props.lib.evaluation import family_weeks

    registry = _registry([("other", W1, "active", "{}")])
    weeks = family_weeks(
        registry,
        "fam",
        start=W1 + timedelta(days=2),
        end=W2,
        skipped={"2025-01-06/fam": "812 training rows before 2025-01-06 < min_train_rows 2000"},
    )
    assert weeks["total"] == 2 and weeks["serving"] == [] and weeks["blocked"] == []
    assert weeks["skipped"] == [
        {"week": "2025-01-06", "reason": "812 training rows before 2025-01-06 < min_train_rows 2000"}
    ]
    assert [w["week"] for w in weeks["missing"]] == ["2025-01-13"]


def test_report_lists_a_family_without_predictions_with_why():
    from nba_props.lib.evaluation import evaluation_report

    features = _features([("a", W1, 20.5, True, None), ("b", W1, 18.5, True, None)])
    preds = _predictions(features, "fam", {"a": ("OVER", False, 30.0), "b": ("OVER", False, 10.0)})
    registry = _registry(
        [("fam", W1, "champion", "{}"), ("dead", W1, "blocked", '{"mae_vs_line": {"status": "failed"}}')]
    )
    box = _box([("a", W1 - timedelta(days=2), 25), ("b", W1 - timedelta(days=2), 12)])
    report = evaluation_report(preds, families=["fam", "dead"], champion="fam", start=W1, end=W1 + timedelta(days=6),
                               features=features, registry=registry, box_scores=box)  # fmt: skip
    assert list(report["families"]) == ["dead", "fam"] and report["status"] == "ok"
    dead = report["families"]["dead"]
    assert dead["n"] == 0 and dead["coverage"]["with_line"]["no_model"] == 2
    assert dead["why_no_predictions"] == "no serving model: 1 week(s) blocked by governance (mae_vs_line)"
    assert report["families"]["fam"]["why_no_predictions"] is None
    assert report["families"]["fam"]["coverage"]["roi_n"] == 2
    assert all(not fam["coverage"]["broken_identities"] for fam in report["families"].values())
    assert report["baselines"]["n"] == 2 and report["baselines"]["last5"]["n"] == 2
    md = report_markdown(report)
    assert "## Coverage" in md and "## Baselines on the champion's decided rows (N=2)" in md
    assert "baseline `last5`" in md and "## Top 5 per day" in md
    import json

    json.dumps(report)


def test_failed_report_has_no_figures():
    md = report_markdown({"status": "failed", "failed_steps": ["[1/5] ingest"]})
    assert md.startswith("# Model evaluation: FAILED") and "[1/5] ingest" in md and "HR@" not in md


# ---------------------------------------------------------------------------------------------
# the demo's realized summary: the same grading and evaluation code


def test_realized_summary_is_the_evaluation_of_non_quarantined_recommended_picks():
    from nba_props.lib.models.graded import graded_predictions, realized_summary

    day = date(2025, 1, 6)

    def pred(player: str, model: str, pred_pts: float, rec: str, quarantined: bool = False) -> dict:
        line = 20.5
        return {"game_date": day, "game_id": "g1" if player != "z" else "g2", "player_lookup": player,
                "model_id": model, "family": model.split("@")[0], "predicted_points": pred_pts, "line": line,
                "edge": abs(pred_pts - line), "direction": "OVER" if pred_pts > line else "UNDER", "p_over": 0.6 if pred_pts > line else 0.4,
                "confidence": 0.2, "recommendation": rec, "quarantined": quarantined,
                "quarantine_reason": "one_direction" if quarantined else None}  # fmt: skip

    predictions = pl.DataFrame(
        [
            pred("a", "fam@1", 25.0, "OVER"),  # actual 30: WIN
            pred("b", "fam@1", 25.0, "PASS"),  # actual 10: a LOSS the old summary counted, not a pick
            pred("c", "fam@1", 16.0, "UNDER"),  # actual 12: WIN
            pred("z", "fam@1", 26.0, "OVER"),  # game g2 postponed: VOID
            pred("a", "bad@1", 10.0, "UNDER", quarantined=True),  # quarantined: never evaluated
            pred("b", "bad@1", 10.0, "UNDER", quarantined=True),
            pred("c", "bad@1", 10.0, "UNDER"),  # actual 12: a WIN (edge 10.5)
        ]
    )
    box = pl.DataFrame({"game_id": ["g1"] * 3, "player_lookup": ["a", "b", "c"], "played": [True] * 3,
                        "points": [30, 10, 12], "game_date": [day] * 3}, schema_overrides={"points": pl.Int32})  # fmt: skip
    schedule = pl.DataFrame({"game_id": ["g1", "g2"], "status": ["final", "postponed"]})
    lines = pl.DataFrame({"game_id": ["g1"] * 3, "player_lookup": ["a", "b", "c"], "over_price": [-110, -110, 120],
                          "under_price": [-110, -110, -140], "implied_over_prob": [0.5, 0.5, 60 / 137]},
                         schema_overrides={"over_price": pl.Int32, "under_price": pl.Int32})  # fmt: skip
    summary = realized_summary(predictions, box, lines, schedule)
    fam, bad = summary["fam"], summary["bad"]
    assert fam["n"] == 4 and fam["n_lined"] == 3  # z has no result
    assert {k: fam["hr"]["1"][k] for k in ("wins", "losses", "voids")} == {"wins": 2, "losses": 0, "voids": 1}
    # a WIN at -110, c UNDER WIN at -140
    assert (fam["n_roi_edge3"], fam["roi_edge3"]) == (2, pytest.approx(round((100 / 110 + 100 / 140) / 2, 4)))
    assert fam["mae"] == pytest.approx(round((5 + 15 + 4) / 3, 4))
    assert bad["n"] == 1 and (bad["hr"]["5"]["wins"], bad["hr"]["5"]["losses"]) == (1, 0)  # a, b quarantined
    # identical to the report's own figures
    graded = graded_predictions(predictions, box, lines, schedule)
    assert fam["hr"] == evaluate(graded.filter(pl.col("family") == "fam"))["hr"]


def test_best_bets_record_counts_only_published_picks_and_real_prices():
    from nba_props.lib.evaluation import best_bets_markdown, best_bets_record

    d1, d2, d3 = date(2025, 11, 1), date(2025, 11, 2), date(2025, 11, 3)
    picks = pl.DataFrame(
        {
            "game_date": [d1, d1, d1, d2, d2, d2],
            "status": ["published", "published", "withdrawn", "published", "late", "published"],
            "counted": [True, True, False, True, False, True],
            "direction": ["OVER", "UNDER", "OVER", "UNDER", "OVER", "OVER"],
            "ultra": [True, False, False, False, False, True],
            "result": ["WIN", "LOSS", "WIN", "WIN", "WIN", "PUSH"],
            "price": [150, -110, -110, None, -110, -110],
            "default_priced": [False, False, False, True, False, False],
        }
    )
    days = pl.DataFrame({"game_date": [d1, d2, d3, d3], "health_gate_active": [False, False, True, True]})
    r = best_bets_record(picks, days)
    # counted: 4 picks (2 W, 1 L, 1 P); the withdrawn and the late one are left out
    assert (r["picks"], r["wins"], r["losses"], r["pushes"]) == (4, 2, 1, 1)
    assert r["hr"] == pytest.approx(2 / 3, abs=1e-4)
    # ROI over real prices only: +1.5 (WIN at +150) and -1 (LOSS); the DFS win is outside it
    assert (r["roi"], r["n_roi"], r["unpriced_picks"]) == (pytest.approx(0.25), 2, 1)
    assert (r["days"], r["days_with_picks"], r["health_gate_days"]) == (3, 2, 1)
    assert r["picks_per_day"] == pytest.approx(4 / 3, abs=1e-4)
    assert r["left_out"] == {"late": 1, "withdrawn": 1}
    assert (r["ultra"]["wins"], r["ultra"]["pushes"]) == (1, 1)
    assert (r["by_direction"]["UNDER"]["wins"], r["by_direction"]["UNDER"]["losses"]) == (1, 1)
    text = "\n".join(best_bets_markdown(r))
    assert "66.7% (3)" in text and "late 1, withdrawn 1" in text


def test_the_champion_chosen_by_evidence_is_evaluated_day_by_day():
    """Each day's rows of that day's chosen champion, pooled: a on day 1 (r1 W, r4 L), b on day 2
    (r5 W); the configured champion keeps naming the report's comparisons."""
    from nba_props.lib.evaluation import chosen_champion_markdown, evaluation_report

    d1, d2 = date(2025, 1, 6), date(2025, 1, 7)
    a = _frame([RECOMMENDED_ROWS[0], RECOMMENDED_ROWS[3]], day=d1)
    a2 = _frame([RECOMMENDED_ROWS[4]], day=d2)  # a's day-2 win: not the champion that day
    b = _frame([RECOMMENDED_ROWS[5]], day=d1)  # b's day-1 win: not the champion that day
    b2 = _frame([RECOMMENDED_ROWS[4]], day=d2)
    graded = pl.concat([a.with_columns(family=pl.lit("a")), a2.with_columns(family=pl.lit("a")),
                        b.with_columns(family=pl.lit("b")), b2.with_columns(family=pl.lit("b"))])  # fmt: skip
    champions = pl.DataFrame({"game_date": [d1, d2], "champion": ["a", "b"], "previous_champion": [None, "a"],
                              "transition": ["SEED", "SWITCH"], "reason": ["seed", "SWITCH a -> b ..."]})  # fmt: skip
    report = evaluation_report(graded, families=["a", "b"], champion="a", start=d1, end=d2, champions=champions)
    block = report["chosen_champion"]
    assert report["champion"] == "a" and block["days"] == {"a": 1, "b": 1}
    assert (block["hr"]["3"]["wins"], block["hr"]["3"]["losses"]) == (2, 1)
    assert block["switches"] == [{"from_day": "2025-01-07", "from": "a", "to": "b", "reason": "SWITCH a -> b ..."}]
    md = "\n".join(chosen_champion_markdown(block))
    assert "Days as champion: a 1, b 1." in md and "- from 2025-01-07: a -> b: SWITCH a -> b ..." in md
