"""Grading rules shared by every grading asset: WIN / LOSS / PUSH / VOID with a reason, hit
rates with Wilson intervals, American-odds payouts and ROI.

`grade` decides, in this order (first match wins):
1. game postponed / cancelled (`game_status`)         -> VOID, "game_postponed" / "game_cancelled"
2. no line                                            -> VOID, "no_line"
3. a line but no direction                            -> VOID, "no_direction"
4. game not final (scheduled, live, or status unknown) -> result NULL (pending), reason NULL:
   only a final game is a result; a box-score row of a live game is a running score
5. no box-score row (`actual_points` NULL)            -> VOID, "did_not_play"
6. actual == line (only possible on integer lines)    -> PUSH
7. OVER wins when actual > line, UNDER when actual < line; otherwise LOSS.

A NULL result is "pending": a grading asset re-run after the game is final grades it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import polars as pl

WIN, LOSS, PUSH, VOID = "WIN", "LOSS", "PUSH", "VOID"
OVER, UNDER = "OVER", "UNDER"
RESULTS = (WIN, LOSS, PUSH, VOID)
DID_NOT_PLAY, GAME_POSTPONED, GAME_CANCELLED = "did_not_play", "game_postponed", "game_cancelled"
NO_LINE, NO_DIRECTION = "no_line", "no_direction"
VOID_REASONS = (DID_NOT_PLAY, GAME_POSTPONED, GAME_CANCELLED, NO_LINE, NO_DIRECTION)
FINAL = "final"  # the only status whose games are graded (scheduled / live / unknown: pending)


def side_wins(direction: pl.Expr, actual: pl.Expr, line: pl.Expr) -> pl.Expr:
    """The pick's side won: OVER with actual > line, UNDER with actual < line. A push (actual ==
    line), a NULL and any other direction are not wins; callers decide what else counts."""
    return ((direction == OVER) & (actual > line)) | ((direction == UNDER) & (actual < line))


def result_expr() -> tuple[pl.Expr, pl.Expr]:
    """(result, void_reason) expressions over columns direction, line, actual_points, game_status."""
    status = pl.col("game_status").cast(pl.Utf8).str.to_lowercase()
    direction = pl.col("direction").cast(pl.Utf8).str.to_uppercase()
    line, actual = pl.col("line").cast(pl.Float64), pl.col("actual_points").cast(pl.Float64)
    void_reason = (
        pl.when(status == "postponed")
        .then(pl.lit(GAME_POSTPONED))
        .when(status == "cancelled")
        .then(pl.lit(GAME_CANCELLED))
        .when(line.is_null())
        .then(pl.lit(NO_LINE))
        .when(direction.is_null() | ~direction.is_in([OVER, UNDER]))
        .then(pl.lit(NO_DIRECTION))
        .when(actual.is_null() & (status == FINAL))
        .then(pl.lit(DID_NOT_PLAY))
    )
    result = (
        pl.when(void_reason.is_not_null())
        .then(pl.lit(VOID))
        .when(status.fill_null("") != FINAL)
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(actual == line)
        .then(pl.lit(PUSH))
        .when(side_wins(direction, actual, line))
        .then(pl.lit(WIN))
        .otherwise(pl.lit(LOSS))
    )
    return result, void_reason


def grade(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` plus `result` (WIN / LOSS / PUSH / VOID, NULL while the game is pending) and
    `void_reason` (NULL unless VOID). Needs direction, line, actual_points and game_status
    (only a final game is graded, so a frame without statuses cannot be). Row count and order
    are unchanged."""
    missing = [c for c in ("direction", "line", "actual_points", "game_status") if c not in frame.columns]
    if missing:
        raise KeyError(f"grade() needs columns {missing}")
    result, void_reason = result_expr()
    return frame.with_columns(result=result, void_reason=void_reason.cast(pl.Utf8))


# ---------------------------------------------------------------------------------------------
# rates and money


def hit_rate(wins: int, losses: int) -> float | None:
    """wins / (wins + losses); None when there is no decided pick."""
    n = wins + losses
    return wins / n if n > 0 else None


def wilson_interval(wins: int, n: int, z: float = 1.96) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion wins / n; (None, None) when n == 0."""
    if n <= 0:
        return None, None
    if not 0 <= wins <= n:
        raise ValueError(f"wins ({wins}) must be in [0, n={n}]")
    p = wins / n
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    margin = z * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


def american_payout(price: float | int) -> float:
    """Profit per 1 unit staked on a win at American odds: -110 -> 100/110 = 0.9091,
    +150 -> 1.5. |price| < 100 is not a valid American price (ValueError)."""
    if price is None or (isinstance(price, float) and math.isnan(price)):
        raise ValueError("price is missing")
    price = float(price)
    if price >= 100:
        return price / 100.0
    if price <= -100:
        return 100.0 / -price
    raise ValueError(f"{price} is not a valid American price (|price| must be >= 100)")


def _valid_price(price: float | int | None) -> bool:
    return price is not None and not (isinstance(price, float) and math.isnan(price)) and abs(float(price)) >= 100


def roi(results: Sequence[str | None] | pl.Series, prices: Sequence[float | int | None] | pl.Series) -> float | None:
    """Return on stakes of 1 unit per graded pick at the pick's own price: total profit /
    number of WIN + LOSS picks. A WIN earns `american_payout(price)`, a LOSS -1. A PUSH returns
    its stake (profit 0) and, as it was refunded, is not counted as money at risk; VOID and
    pending (NULL) results are excluded, and so is any pick without a valid price.
    None when no WIN/LOSS pick has a price."""
    profit, stakes = 0.0, 0
    for result, price in zip(_as_list(results), _as_list(prices), strict=True):
        if result not in (WIN, LOSS) or not _valid_price(price):
            continue
        stakes += 1
        profit += american_payout(price) if result == WIN else -1.0
    return profit / stakes if stakes else None


def _as_list(values: Iterable) -> list:
    return values.to_list() if isinstance(values, pl.Series) else list(values)
