"""evaluate() on a 10-row hand-made family frame (every figure computed by hand) and the
markdown report."""

from __future__ import annotations

from datetime import date

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
    ("g", 30.0, 24.5, None, 0.80, -110, -110, M_EVEN, "OVER", 5.5),  # VOID did_not_play
    ("h", 18.0, 18.5, 22.0, 0.48, -110, -110, M_EVEN, "UNDER", 0.5),  # LOSS
    ("i", 8.0, None, 10.0, None, None, None, None, None, None),  # no line: VOID no_line
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
        schema_overrides={"over_price": pl.Int32, "under_price": pl.Int32, "line": pl.Float64,
                          "actual_points": pl.Float64, "p_over": pl.Float64, "market_p_over": pl.Float64,
                          "edge": pl.Float64, "direction": pl.Utf8},  # fmt: skip
    )
    return grade(frame)


def test_the_hand_frame_grades_as_annotated():
    graded = _graded()
    assert graded["result"].to_list() == ["WIN", "LOSS", "WIN", "LOSS", "PUSH", "WIN", "VOID", "LOSS", "VOID", "WIN"]


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
    assert {k: hr["1"][k] for k in ("wins", "losses", "pushes", "voids")} == {"wins": 4, "losses": 2, "pushes": 0, "voids": 1}
    # the old view, every lined row with edge >= 1 whatever its recommendation, keeps e's push
    assert {k: report["hr_all_lined"]["1"][k] for k in ("wins", "losses", "pushes", "voids")} == {
        "wins": 4, "losses": 2, "pushes": 1, "voids": 1}  # fmt: skip
    assert hr["1"]["hr"] == pytest.approx(0.6667)
    low, high = wilson_interval(4, 6)
    assert (hr["1"]["ci_low"], hr["1"]["ci_high"]) == (round(low, 4), round(high, 4))
    # edge >= 3: a W, b L, c W, d L, g VOID, j W
    assert {k: hr["3"][k] for k in ("wins", "losses", "pushes", "voids")} == {"wins": 3, "losses": 2, "pushes": 0, "voids": 1}
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
    assert calibration["0.4-0.5"] == {"bin": "0.4-0.5", "low": 0.4, "high": 0.5, "n": 2, "mean_p": 0.465, "observed": 0.5}
    assert (calibration["0.7-0.8"]["n"], calibration["0.7-0.8"]["mean_p"], calibration["0.7-0.8"]["observed"]) == (2, 0.725, 1.0)
    assert (calibration["0.2-0.3"]["n"], calibration["0.2-0.3"]["observed"]) == (1, 1.0)
    assert (calibration["0.6-0.7"]["n"], calibration["0.6-0.7"]["observed"]) == (1, 0.0)
    assert calibration["0.9-1.0"] == {"bin": "0.9-1.0", "low": 0.9, "high": 1.0, "n": 0, "mean_p": None, "observed": None}


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
    assert empty["hr"]["3"] == {"wins": 0, "losses": 0, "pushes": 0, "voids": 0, "pending": 0, "hr": None,
                                "ci_low": None, "ci_high": None}
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
