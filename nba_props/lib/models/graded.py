"""Join predictions to what happened: actual points, game status and the chosen line's prices,
then grade with the shared rules (lib/grading.py). The one grading path: `accuracy_rows` builds
the `prediction_accuracy` table from it, and the evaluation report and the demo's realized
summary read that table (`summarize_graded`, `with_market_p_over`)."""

from __future__ import annotations

from typing import Any

import polars as pl

from nba_props.lib.evaluation import EvaluationConfig, evaluate, load_evaluation_config
from nba_props.lib.grading import ACCURACY_SCHEMA, FINAL, OVER, UNDER, grade, graded_at_expr
from nba_props.lib.sources.reveal import RevealRules

SUMMARY_KEYS = ("n", "n_lined", "mae", "mae_ratio", "hr", "roi_edge3", "n_roi_edge3", "top5_daily")


def graded_predictions(
    predictions: pl.DataFrame,
    box_scores: pl.DataFrame,
    lines: pl.DataFrame | None = None,
    schedule: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every prediction row graded, one row per prediction (never fanned out); quarantined rows
    are kept and marked (the evaluation drops them, the coverage counts them). Actual points are
    NULL for a player with no box-score row (a VOID, not a loss). Prices (and `market_type` when
    the lines carry it and the predictions do not) come from `lines`; `game_status` from
    `schedule` (unknown when not given)."""
    actual = (
        box_scores.filter(pl.col("played"))
        .select("game_id", "player_lookup", actual_points=pl.col("points").cast(pl.Float64))
        .unique(["game_id", "player_lookup"])
    )
    # the game's box scores are in (any row, played or not): only then is a missing player a DNP
    games_in = box_scores.select("game_id").unique().with_columns(game_has_box_scores=pl.lit(True))
    joined = predictions.join(actual, on=["game_id", "player_lookup"], how="left").join(
        games_in, on="game_id", how="left"
    )
    joined = joined.with_columns(pl.col("game_has_box_scores").fill_null(False))
    if lines is not None:
        extra = ["market_type"] if "market_type" in lines.columns and "market_type" not in predictions.columns else []
        prices = lines.select(
            "game_id", "player_lookup", "over_price", "under_price", *extra, market_p_over=pl.col("implied_over_prob")
        ).unique(["game_id", "player_lookup"])
        joined = joined.join(prices, on=["game_id", "player_lookup"], how="left")
    if schedule is not None:
        extra = [c for c in ("tip_time_utc",) if c in schedule.columns and c not in joined.columns]
        status = schedule.select("game_id", *extra, game_status=pl.col("status")).unique("game_id")
        joined = joined.join(status, on="game_id", how="left")
    elif "game_status" not in joined.columns:
        joined = joined.with_columns(game_status=pl.lit(None, dtype=pl.Utf8))  # unknown: not a final result
    assert joined.height == predictions.height, "grading must not fan out"
    return grade(joined)


def accuracy_rows(
    predictions: pl.DataFrame,
    box_scores: pl.DataFrame,
    schedule: pl.DataFrame,
    lines: pl.DataFrame | None,
    rules: RevealRules,
) -> pl.DataFrame:
    """The `prediction_accuracy` rows (`grading.ACCURACY_SCHEMA`, in that column order): one per
    prediction row, graded by `graded_predictions` (the prediction's own line, edge, direction
    and recommendation), with errors (also for NO_LINE rows), the price of the pick's side on a
    sportsbook line, and `graded_at` from the reveal rules (deterministic)."""
    if "tip_time_utc" not in schedule.columns:
        schedule = schedule.with_columns(tip_time_utc=pl.lit(None, dtype=ACCURACY_SCHEMA["graded_at"]))
    graded = graded_predictions(predictions, box_scores, lines, schedule)
    for name in ("over_price", "under_price"):
        if name not in graded.columns:
            graded = graded.with_columns(pl.lit(None, dtype=pl.Int32).alias(name))
    market = pl.coalesce(
        pl.col("market_type").cast(pl.Utf8),
        pl.when(pl.col("over_price").is_not_null() & pl.col("under_price").is_not_null()).then(pl.lit("sportsbook")),
    )
    side_price = (
        pl.when(pl.col("direction") == OVER).then(pl.col("over_price"))
        .when(pl.col("direction") == UNDER).then(pl.col("under_price"))
    )  # fmt: skip
    # a live game's box-score row is a running score: no actual before the game is final
    final = pl.col("game_status").cast(pl.Utf8).str.to_lowercase() == FINAL
    graded = graded.with_columns(actual_points=pl.when(final.fill_null(False)).then(pl.col("actual_points")))
    actual = pl.col("actual_points")
    rows = graded.with_columns(
        price=pl.when((market == "sportsbook") & pl.col("line").is_not_null()).then(side_price),
        abs_error=(pl.col("predicted_points") - actual).abs(),
        signed_error=pl.col("predicted_points") - actual,
        graded_at=graded_at_expr(rules),
    )
    return rows.select(pl.col(name).cast(dtype) for name, dtype in ACCURACY_SCHEMA.items())


def with_market_p_over(accuracy: pl.DataFrame, lines: pl.DataFrame | None) -> pl.DataFrame:
    """`accuracy` plus the line's de-vigged `market_p_over` (player_lines `implied_over_prob`):
    a market figure the evaluation compares against, not part of the grade."""
    if lines is None or "implied_over_prob" not in lines.columns:
        return accuracy
    market = lines.select("game_id", "player_lookup", market_p_over=pl.col("implied_over_prob")).unique(
        ["game_id", "player_lookup"]
    )
    out = accuracy.join(market, on=["game_id", "player_lookup"], how="left", maintain_order="left")
    assert out.height == accuracy.height, "the market join must not fan out"
    return out


def summarize_graded(graded: pl.DataFrame, *, config: EvaluationConfig | None = None) -> dict[str, dict[str, Any]]:
    """Per family, the evaluation's own figures of graded rows (`prediction_accuracy` or
    `graded_predictions`): n, mae, mae_ratio, hr, roi_edge3 + n, top5_daily. Families with no
    graded result yet are left out."""
    config = config or load_evaluation_config()
    summary: dict[str, dict[str, Any]] = {}
    if graded.height == 0:
        return summary
    for (family,), rows in graded.group_by("family"):
        figures = evaluate(rows, config=config)
        if figures["n_lined"] == 0 and not any(b["wins"] + b["losses"] for b in figures["hr"].values()):
            continue
        summary[str(family)] = {key: figures[key] for key in SUMMARY_KEYS}
    return summary


def realized_summary(
    predictions: pl.DataFrame,
    box_scores: pl.DataFrame,
    lines: pl.DataFrame | None = None,
    schedule: pl.DataFrame | None = None,
    *,
    config: EvaluationConfig | None = None,
) -> dict[str, dict[str, Any]]:
    """Per family, the evaluation's own figures (quarantined rows excluded, recommended picks at
    each floor, ROI at real prices): n, mae, mae_ratio, hr, roi_edge3 + n, top5_daily. Families
    with no graded result yet are left out."""
    if predictions.height == 0 or box_scores.height == 0:
        return {}
    graded = graded_predictions(predictions, box_scores, lines, schedule)
    return summarize_graded(graded, config=config)
