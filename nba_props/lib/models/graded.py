"""Join predictions to what happened: actual points, game status and the chosen line's prices,
then grade with the shared rules (lib/grading.py). Input to the evaluation report."""

from __future__ import annotations

from datetime import date

import polars as pl

from nba_props.lib.evaluation import evaluate
from nba_props.lib.grading import grade


def graded_predictions(
    predictions: pl.DataFrame, box_scores: pl.DataFrame, lines: pl.DataFrame, schedule: pl.DataFrame
) -> pl.DataFrame:
    """One row per prediction (never fanned out): actual points are NULL for a player with no
    box-score row (a VOID, not a loss)."""
    actual = (
        box_scores.filter(pl.col("played"))
        .select("game_id", "player_lookup", actual_points=pl.col("points").cast(pl.Float64))
        .unique(["game_id", "player_lookup"])
    )
    prices = lines.select(
        "game_id", "player_lookup", "over_price", "under_price", market_p_over=pl.col("implied_over_prob")
    ).unique(["game_id", "player_lookup"])
    status = schedule.select("game_id", "status").unique("game_id")
    joined = (
        predictions.filter(~pl.col("quarantined"))
        .join(actual, on=["game_id", "player_lookup"], how="left")
        .join(prices, on=["game_id", "player_lookup"], how="left")
        .join(status.rename({"status": "game_status"}), on="game_id", how="left")
    )
    assert joined.height == predictions.filter(~pl.col("quarantined")).height, "grading must not fan out"
    return grade(joined)


def evaluation_report(graded: pl.DataFrame, *, champion: str, start: date, end: date) -> dict:
    families = {key[0]: evaluate(rows) for key, rows in graded.group_by("family")}
    return {
        "champion": champion,
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "families": dict(sorted(families.items())),
    }
