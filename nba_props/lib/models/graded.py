"""Join predictions to what happened: actual points, game status and the chosen line's prices,
then grade with the shared rules (lib/grading.py). The one grading path of the evaluation
report and the demo's realized summary."""

from __future__ import annotations

from typing import Any

import polars as pl

from nba_props.lib.evaluation import EvaluationConfig, evaluate, load_evaluation_config
from nba_props.lib.grading import grade

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
    joined = predictions.join(actual, on=["game_id", "player_lookup"], how="left")
    if lines is not None:
        extra = ["market_type"] if "market_type" in lines.columns and "market_type" not in predictions.columns else []
        prices = lines.select(
            "game_id", "player_lookup", "over_price", "under_price", *extra, market_p_over=pl.col("implied_over_prob")
        ).unique(["game_id", "player_lookup"])
        joined = joined.join(prices, on=["game_id", "player_lookup"], how="left")
    if schedule is not None:
        status = schedule.select("game_id", game_status=pl.col("status")).unique("game_id")
        joined = joined.join(status, on="game_id", how="left")
    elif "game_status" not in joined.columns:
        joined = joined.with_columns(game_status=pl.lit(None, dtype=pl.Utf8))  # unknown: not a final result
    assert joined.height == predictions.height, "grading must not fan out"
    return grade(joined)


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
    config = config or load_evaluation_config()
    graded = graded_predictions(predictions, box_scores, lines, schedule)
    summary: dict[str, dict[str, Any]] = {}
    for (family,), rows in graded.group_by("family"):
        figures = evaluate(rows, config=config)
        if figures["n_lined"] == 0 and not any(b["wins"] + b["losses"] for b in figures["hr"].values()):
            continue
        summary[str(family)] = {key: figures[key] for key in SUMMARY_KEYS}
    return summary
