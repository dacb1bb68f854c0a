"""Grading rules shared by every grading asset: WIN / LOSS / PUSH / VOID with a reason, hit
rates with Wilson intervals, American-odds payouts and ROI. The one grading implementation:
`prediction_accuracy` (defs/grading), the evaluation report and the demo summary all use it.

`grade` decides, in this order (first match wins):
1. no line, or no side (`direction` not OVER / UNDER)  -> result NULL, reason NULL: nothing was
   bet (a NO_LINE prediction still gets its error, `accuracy_rows`)
2. game postponed / cancelled (`game_status`)         -> VOID, "POSTPONED" / "CANCELLED"
3. game not final (scheduled, live, or status unknown) -> result NULL (pending), reason NULL:
   only a final game is a result; a box-score row of a live game is a running score
4. no played box-score row (`actual_points` NULL)     -> VOID, "DNP" once the game's box scores
   are in (`game_has_box_scores`, when the frame has it); while a final game has no box-score
   row at all the row stays pending (the box scores are late, not every player a DNP)
5. actual == line (only possible on integer lines)    -> PUSH
6. OVER wins when actual > line, UNDER when actual < line; otherwise LOSS.

The line graded is the prediction's own (the one it was made with), never a later one.
A NULL result is "pending" (or "no bet"): a grading asset re-run after the game is final grades it.
A postponed game keeps its date (VOID there); its make-up is a new game (new date, new game_id)
whose own predictions are graded on the make-up's date.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import polars as pl

from nba_props.lib.sources.reveal import RevealRules, tip_expr

WIN, LOSS, PUSH, VOID = "WIN", "LOSS", "PUSH", "VOID"
OVER, UNDER = "OVER", "UNDER"
RESULTS = (WIN, LOSS, PUSH, VOID)
DNP, POSTPONED, CANCELLED = "DNP", "POSTPONED", "CANCELLED"
DID_NOT_PLAY, GAME_POSTPONED, GAME_CANCELLED = DNP, POSTPONED, CANCELLED  # older names, same values
VOID_REASONS = (DNP, POSTPONED, CANCELLED)
FINAL = "final"  # the only status whose games are graded (scheduled / live / unknown: pending)
NOT_PLAYED_STATUSES = {"postponed": POSTPONED, "cancelled": CANCELLED}


UTC_US = pl.Datetime(time_unit="us", time_zone="UTC")
ACCURACY_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "model_id": pl.Utf8,
        "family": pl.Utf8,
        "predicted_points": pl.Float64,
        "actual_points": pl.Float64,
        "line": pl.Float64,
        "market_type": pl.Utf8,
        "edge": pl.Float64,
        "direction": pl.Utf8,
        "p_over": pl.Float64,
        "confidence": pl.Float64,
        "recommendation": pl.Utf8,
        "quarantined": pl.Boolean,
        "over_price": pl.Int32,
        "under_price": pl.Int32,
        "price": pl.Int32,
        "game_status": pl.Utf8,
        "result": pl.Utf8,
        "void_reason": pl.Utf8,
        "abs_error": pl.Float64,
        "signed_error": pl.Float64,
        "graded_at": UTC_US,
    }
)
ACCURACY_KEY = ("game_id", "player_lookup", "model_id")
ACCURACY_DOC = {
    "game_date": "Game date (America/New_York): the partition key.",
    "game_id": "Canonical game id YYYYMMDD_AWAY_HOME (a make-up of a postponed game is a new id on its new date).",
    "player_lookup": "Normalized player name.",
    "model_id": "The registry model that made the prediction.",
    "family": "The model family (config/models.yaml).",
    "predicted_points": "The prediction's points.",
    "actual_points": "Points scored (played box-score row); NULL without one or while the game is not final.",
    "line": "The line the prediction was made with (a later move does not count); NULL: NO_LINE.",
    "market_type": "sportsbook or dfs of the prediction's line (NULL without one).",
    "edge": "|predicted_points - line| at prediction time.",
    "direction": "OVER / UNDER side of the prediction (NULL without a line).",
    "p_over": "The prediction's calibrated P(actual > line).",
    "confidence": "The prediction's |2 * p_over - 1|.",
    "recommendation": "OVER / UNDER / PASS / NO_LINE as predicted.",
    "quarantined": "The prediction's model-day game was quarantined (kept, never evaluated).",
    "over_price": "American odds of the over (player_lines); NULL without a price.",
    "under_price": "American odds of the under (player_lines); NULL without a price.",
    "price": "American odds of the prediction's direction on a sportsbook line; NULL without a real price "
    "(DFS placeholders, no line, no prices).",
    "game_status": "Schedule status: scheduled / live / final / postponed / cancelled (NULL: not on the schedule).",
    "result": "WIN / LOSS / PUSH / VOID; NULL = pending (game not final or its box scores not in) or no bet (no line).",
    "void_reason": "DNP (game final, no played box-score row) / POSTPONED / CANCELLED; NULL unless VOID.",
    "abs_error": "|predicted_points - actual_points|; NULL without an actual.",
    "signed_error": "predicted_points - actual_points; NULL without an actual.",
    "graded_at": "When the outcome became known by the provider reveal rules (box scores: tip + delay; "
    "postponed / cancelled: the scheduled tip); NULL while pending. Deterministic, never the wall clock.",
}


def side_wins(direction: pl.Expr, actual: pl.Expr, line: pl.Expr) -> pl.Expr:
    """The pick's side won: OVER with actual > line, UNDER with actual < line. A push (actual ==
    line), a NULL and any other direction are not wins; callers decide what else counts."""
    return ((direction == OVER) & (actual > line)) | ((direction == UNDER) & (actual < line))


def result_expr(with_box_score_flag: bool = False) -> tuple[pl.Expr, pl.Expr]:
    """(result, void_reason) expressions over columns direction, line, actual_points, game_status
    (and `game_has_box_scores` when `with_box_score_flag`)."""
    status = pl.col("game_status").cast(pl.Utf8).str.to_lowercase()
    direction = pl.col("direction").cast(pl.Utf8).str.to_uppercase()
    line, actual = pl.col("line").cast(pl.Float64), pl.col("actual_points").cast(pl.Float64)
    no_bet = line.is_null() | direction.is_null() | ~direction.is_in([OVER, UNDER])
    box_in = pl.col("game_has_box_scores").fill_null(False) if with_box_score_flag else pl.lit(True)
    void_reason = (
        pl.when(no_bet)
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(status == "postponed")
        .then(pl.lit(POSTPONED))
        .when(status == "cancelled")
        .then(pl.lit(CANCELLED))
        .when(actual.is_null() & (status == FINAL) & box_in)
        .then(pl.lit(DNP))
    )
    result = (
        pl.when(no_bet)
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(void_reason.is_not_null())
        .then(pl.lit(VOID))
        .when((status.fill_null("") != FINAL) | actual.is_null())
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(actual == line)
        .then(pl.lit(PUSH))
        .when(side_wins(direction, actual, line))
        .then(pl.lit(WIN))
        .otherwise(pl.lit(LOSS))
    )
    return result, void_reason


def grade(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` plus `result` (WIN / LOSS / PUSH / VOID, NULL while the game is pending or without
    a bet) and `void_reason` (NULL unless VOID). Needs direction, line, actual_points and
    game_status (only a final game is graded, so a frame without statuses cannot be); uses
    `game_has_box_scores` when present. Row count and order are unchanged."""
    missing = [c for c in ("direction", "line", "actual_points", "game_status") if c not in frame.columns]
    if missing:
        raise KeyError(f"grade() needs columns {missing}")
    result, void_reason = result_expr("game_has_box_scores" in frame.columns)
    return frame.with_columns(result=result, void_reason=void_reason.cast(pl.Utf8))


def settled_expr(with_box_score_flag: bool = True) -> pl.Expr:
    """The row's outcome is known: its game is postponed / cancelled, or final with its box
    scores in (a NO_LINE row then has its error, a bet its result)."""
    status = pl.col("game_status").cast(pl.Utf8).str.to_lowercase()
    box_in = pl.col("game_has_box_scores").fill_null(False) if with_box_score_flag else pl.lit(True)
    return status.is_in(list(NOT_PLAYED_STATUSES)).fill_null(False) | ((status == FINAL) & box_in).fill_null(False)


def graded_at_expr(rules: RevealRules) -> pl.Expr:
    """When the row's outcome became known, by the provider's reveal rules (config/sensors.yaml
    `reveal:`), deterministic from the schedule: a played game's box scores are published at tip
    + `box_score_delay_minutes` (a game without a tip time tips at `unknown_tip_et`); a postponed
    or cancelled game is known not to be played by its scheduled tip. NULL while pending. Needs
    game_date, tip_time_utc, game_status, game_has_box_scores, result, line."""
    status = pl.col("game_status").cast(pl.Utf8).str.to_lowercase()
    tip = tip_expr(rules)
    known = (pl.col("result").is_not_null() | settled_expr()).fill_null(False)
    at = (
        pl.when(status.is_in(list(NOT_PLAYED_STATUSES)))
        .then(tip)
        .otherwise(tip + pl.duration(minutes=rules.box_score_delay_minutes))
    )
    return pl.when(known).then(at)


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


def profit_expr(result: pl.Expr, price: pl.Expr) -> pl.Expr:
    """Per pick, the profit of 1 unit staked at its own American price (the column form of
    `american_payout`): a WIN earns the payout, a LOSS -1; null when the pick is not money at
    risk (PUSH, VOID, pending) or has no valid price (|price| < 100, NaN or missing)."""
    p = price.cast(pl.Float64)
    valid = p.is_not_nan() & (p.abs() >= 100)
    payout = pl.when(p >= 100).then(p / 100.0).otherwise(100.0 / -p)
    return (
        pl.when(valid & (result == WIN))
        .then(payout)
        .when(valid & (result == LOSS))
        .then(pl.lit(-1.0))
        .otherwise(pl.lit(None, dtype=pl.Float64))
    )


def roi(results: Sequence[str | None] | pl.Series, prices: Sequence[float | int | None] | pl.Series) -> float | None:
    """Return on stakes of 1 unit per graded pick at the pick's own price: total profit /
    number of WIN + LOSS picks. A WIN earns `american_payout(price)`, a LOSS -1. A PUSH returns
    its stake (profit 0) and, as it was refunded, is not counted as money at risk; VOID and
    pending (NULL) results are excluded, and so is any pick without a valid price.
    None when no WIN/LOSS pick has a price."""
    frame = pl.DataFrame(
        {"result": _as_list(results), "price": _as_list(prices)},
        schema={"result": pl.Utf8, "price": pl.Float64},
        strict=False,
    )
    return frame.select(profit_expr(pl.col("result"), pl.col("price")).mean()).item()


def _as_list(values: Iterable) -> list:
    return values.to_list() if isinstance(values, pl.Series) else list(values)


# ---- the audits of a graded table (prediction_accuracy's checks)


def ungraded(rows: pl.DataFrame) -> pl.DataFrame:
    """Predictions of FINAL games with a line and a side but no result, with the reason."""
    status = pl.col("game_status").str.to_lowercase()
    return rows.filter(
        (status == FINAL) & pl.col("line").is_not_null() & pl.col("direction").is_in([OVER, UNDER])
        & pl.col("result").is_null()
    ).select(
        *ACCURACY_KEY,
        "game_date",
        reason=pl.when(pl.col("graded_at").is_null())
        .then(pl.lit("the game is final but none of its box scores are in"))
        .otherwise(pl.lit("graded_at without a result (rule gap)")),
    )  # fmt: skip


def invalid_values(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows breaking the table's own semantics: a result outside WIN/LOSS/PUSH/VOID, a void
    reason without a VOID (or a VOID without one), a decided row without an actual, a result
    without graded_at."""
    return rows.filter(
        (pl.col("result").is_not_null() & ~pl.col("result").is_in(RESULTS))
        | ((pl.col("result").fill_null("") == VOID) != pl.col("void_reason").is_not_null())
        | (pl.col("void_reason").is_not_null() & ~pl.col("void_reason").is_in(VOID_REASONS))
        | (pl.col("result").is_in([WIN, LOSS, PUSH]) & pl.col("actual_points").is_null())
        | (pl.col("result").is_not_null() & pl.col("graded_at").is_null())
    )


def unmatched_rows(predictions: pl.DataFrame, graded: pl.DataFrame, key: Sequence[str]) -> pl.DataFrame:
    """Keys of predictions without a graded row ("not graded") and graded rows without a
    prediction ("not predicted"): empty when the table has exactly one row per prediction."""
    predicted, rows = predictions.select(key), graded.select(key)
    return pl.concat(
        [
            predicted.join(rows, on=list(key), how="anti").with_columns(problem=pl.lit("not graded")),
            rows.join(predicted, on=list(key), how="anti").with_columns(problem=pl.lit("not predicted")),
        ]
    )
