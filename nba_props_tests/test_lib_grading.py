"""Grading rules (WIN / LOSS / PUSH / VOID and reasons), hit rate, Wilson interval, American
payouts and ROI: hand-computed values."""

from __future__ import annotations

import math

import polars as pl
import pytest

from nba_props.lib.grading import american_payout, grade, hit_rate, roi, side_wins, wilson_interval

CASES = [
    # direction, line, actual, game_status, result, void_reason
    ("OVER", 20.5, 25.0, "final", "WIN", None),
    ("OVER", 20.5, 18.0, "final", "LOSS", None),
    ("UNDER", 20.5, 18.0, "final", "WIN", None),
    ("UNDER", 20.5, 25.0, "final", "LOSS", None),
    ("OVER", 20.0, 20.0, "final", "PUSH", None),  # integer line, actual on it
    ("UNDER", 20.0, 20.0, "final", "PUSH", None),
    ("OVER", 20.0, 21.0, "final", "WIN", None),
    ("UNDER", 20.0, 19.0, "Final", "WIN", None),  # status case-insensitive
    ("OVER", 20.5, None, "final", "VOID", "DNP"),  # no box-score row
    ("UNDER", 20.5, None, None, None, None),  # status unknown: not known final, so pending (no DNP)
    ("OVER", 20.5, None, "postponed", "VOID", "POSTPONED"),
    ("UNDER", 20.5, 30.0, "cancelled", "VOID", "CANCELLED"),  # cancelled wins over a stray row
    (None, None, 12.0, "final", None, None),  # NO_LINE: no bet, no result (an error only)
    (None, 20.5, 12.0, "final", None, None),  # no side: no bet
    ("OVER", 20.5, None, "scheduled", None, None),  # not final yet: pending, not a DNP
    ("UNDER", 20.5, None, "live", None, None),
    # only a final game is a result: a live game's box-score row is a running score
    ("OVER", 20.5, 22.0, "live", None, None),  # would read as a WIN
    ("UNDER", 20.5, 22.0, "live", None, None),  # would read as a LOSS
    ("OVER", 20.0, 20.0, "live", None, None),  # would read as a PUSH
    ("OVER", 20.5, 22.0, None, None, None),  # status unknown: pending, not a WIN
    ("OVER", 20.5, 22.0, "scheduled", None, None),
    (None, None, None, "postponed", None, None),  # no bet on a postponed game: nothing to void
    ("UNDER", 20.5, None, "postponed", "VOID", "POSTPONED"),
]


def _frame(cases) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "direction": [c[0] for c in cases],
            "line": [c[1] for c in cases],
            "actual_points": [c[2] for c in cases],
            "game_status": [c[3] for c in cases],
        },
        schema={"direction": pl.Utf8, "line": pl.Float64, "actual_points": pl.Float64, "game_status": pl.Utf8},
    )


def test_grade_every_case():
    graded = grade(_frame(CASES))
    assert graded.height == len(CASES)
    assert graded.columns == ["direction", "line", "actual_points", "game_status", "result", "void_reason"]
    for case, result, reason in zip(CASES, graded["result"], graded["void_reason"], strict=True):
        assert (result, reason) == (case[4], case[5]), case


def test_grade_needs_the_game_status_and_takes_int_actuals():
    frame = _frame(CASES[:2] + CASES[8:9]).with_columns(pl.col("actual_points").cast(pl.Int32))
    graded = grade(frame)
    assert graded["result"].to_list() == ["WIN", "LOSS", "VOID"]
    assert graded["void_reason"].to_list() == [None, None, "DNP"]
    # only final games are graded, so a frame without statuses cannot be (it used to be graded as if final)
    with pytest.raises(KeyError, match="game_status"):
        grade(frame.drop("game_status"))
    with pytest.raises(KeyError):
        grade(frame.drop("line"))


def test_a_live_game_becomes_a_result_once_final():
    rows = _frame([("OVER", 20.5, 18.0, "live", None, None), ("OVER", 20.5, 18.0, "final", None, None)])
    graded = grade(rows)
    assert graded["result"].to_list() == [None, "LOSS"]  # pending while live, the loss only at final
    assert graded["void_reason"].to_list() == [None, None]


def test_hit_rate_and_wilson_interval():
    assert hit_rate(55, 45) == 0.55
    assert hit_rate(0, 0) is None
    # 55/100, z = 1.96: centre (0.55 + 1.96^2/200) / (1 + 1.96^2/100),
    # half-width 1.96 * sqrt(0.55*0.45/100 + 1.96^2/40000) / (1 + 1.96^2/100)
    z2 = 1.96**2
    centre = (0.55 + z2 / 200) / (1 + z2 / 100)
    half = 1.96 * math.sqrt(0.55 * 0.45 / 100 + z2 / 40000) / (1 + z2 / 100)
    low, high = wilson_interval(55, 100)
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert (low, high) == pytest.approx((0.452444, 0.643856), abs=1e-6)
    assert round(low, 3) == 0.452 and round(high, 3) == 0.644
    assert wilson_interval(0, 0) == (None, None)
    lo0, hi0 = wilson_interval(0, 10)
    assert lo0 == 0.0 and hi0 == pytest.approx(z2 / (10 + z2))  # p = 0: upper bound z^2 / (n + z^2)
    assert wilson_interval(10, 10)[1] == 1.0
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_american_payout():
    assert american_payout(-110) == pytest.approx(0.9091, abs=1e-4)
    assert american_payout(-110) == pytest.approx(100 / 110)
    assert american_payout(150) == 1.5
    assert american_payout(100) == 1.0 and american_payout(-100) == 1.0
    assert american_payout(-250) == 0.4
    for bad in (50, -99, 0, None, float("nan")):
        with pytest.raises(ValueError):
            american_payout(bad)


def test_roi_arithmetic():
    results = ["WIN", "LOSS", "PUSH", "VOID", "WIN", None, "WIN", "LOSS"]
    prices = [-110, -110, -110, -110, 150, -110, None, 50]  # last two: no / invalid price -> excluded
    # stakes: WIN -110, LOSS -110, WIN +150 -> profit 100/110 - 1 + 1.5 over 3 units
    assert roi(results, prices) == pytest.approx((100 / 110 - 1 + 1.5) / 3)
    assert roi(pl.Series(results), pl.Series(prices, dtype=pl.Int32)) == pytest.approx((100 / 110 - 1 + 1.5) / 3)
    assert roi(["WIN"] * 10 + ["LOSS"] * 11, [-110] * 21) == pytest.approx((10 * 100 / 110 - 11) / 21)
    assert roi(["PUSH", "VOID"], [-110, -110]) is None
    assert roi([], []) is None
    assert roi(["WIN"], [None]) is None


def test_side_wins_is_the_one_win_rule():
    frame = pl.DataFrame(
        {
            "direction": ["OVER", "OVER", "OVER", "UNDER", "UNDER", "UNDER", None, "PASS"],
            "actual": [21.0, 20.0, 19.0, 19.0, 20.0, 21.0, 30.0, 30.0],
            "line": [20.0] * 8,
        }
    )
    wins = frame.select(side_wins(pl.col("direction"), pl.col("actual"), pl.col("line")).fill_null(False))
    assert wins.to_series().to_list() == [True, False, False, True, False, False, False, False]
