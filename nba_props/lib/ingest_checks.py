"""Data-quality rules for the ingest tables: plain functions over frames.

Each returns the offending rows (empty frame = pass), so a check can report counts and a
sample without the asset knowing the rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def duplicate_keys(frame: pl.DataFrame, key: Sequence[str]) -> pl.DataFrame:
    """Key values that occur more than once, with their count."""
    return (
        frame.group_by(list(key)).len(name="n").filter(pl.col("n") > 1).sort(list(key))
        if frame.height
        else pl.DataFrame(schema={**{k: frame.schema[k] for k in key}, "n": pl.UInt32})
    )


def negative_values(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    return frame.filter(pl.any_horizontal([pl.col(c) < 0 for c in columns]))


def lines_out_of_range(lines: pl.DataFrame, low: float, high: float) -> pl.DataFrame:
    """Lines that are NULL or outside [low, high] (config/lines.yaml `ingest_range`)."""
    return lines.filter(pl.col("line").is_null() | (pl.col("line") < low) | (pl.col("line") > high))


def games_missing_from_schedule(box_scores: pl.DataFrame, schedule: pl.DataFrame) -> pl.DataFrame:
    """Box-score games with no schedule row (a join key problem or a missing schedule)."""
    played = box_scores.select("game_date", "game_id").unique()
    return played.join(schedule.select("game_id"), on="game_id", how="anti").sort("game_id")


def team_points_mismatches(box_scores: pl.DataFrame, schedule: pl.DataFrame) -> pl.DataFrame:
    """Team-games where summed player points differ from the schedule's team score.

    Only games whose source carries a score are compared (final games with points).
    """
    team_scores = pl.concat(
        [
            schedule.select("game_id", team=pl.col("home_team"), team_points=pl.col("home_points")),
            schedule.select("game_id", team=pl.col("away_team"), team_points=pl.col("away_points")),
        ]
    ).filter(pl.col("team_points").is_not_null())
    summed = box_scores.filter(pl.col("played")).group_by("game_id", "team").agg(player_points=pl.col("points").sum())
    return (
        summed.join(team_scores, on=["game_id", "team"], how="inner")
        .filter(pl.col("player_points") != pl.col("team_points"))
        .sort("game_id", "team")
    )


def final_games_without_box_scores(box_scores: pl.DataFrame, schedule: pl.DataFrame) -> pl.DataFrame:
    """Final games that have no player rows: the box-score source is behind the schedule."""
    finals = schedule.filter(pl.col("status") == "final").select("game_date", "game_id")
    return finals.join(box_scores.select("game_id").unique(), on="game_id", how="anti").sort("game_id")
