"""Lines vs box scores: which player-games with a points line have a box-score row.

The box-score source lists only players who played, so a line whose player has no box-score
row that ET day is a did-not-play (graded as a void, never a loss). Nothing is dropped: every
player-game with a line gets a status.
"""

from __future__ import annotations

import polars as pl

MATCH_STATUSES = ("matched", "did_not_play")
MATCH_KEY = ("game_date", "player_lookup")

MATCH_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "player_name": pl.Utf8,
        "n_lines": pl.UInt32,
        "match_status": pl.Utf8,
    }
)


def classify_unmatched_lines(lines: pl.DataFrame, box_scores: pl.DataFrame) -> pl.DataFrame:
    """One row per (game_date, player_lookup) that has a line, with `match_status`:
    "matched" when the player has a box-score row (played) that ET day, else "did_not_play".

    Joined on (game_date, player_lookup) rather than game_id, so a line filed under a
    differently-designated home team (neutral-site games) still finds its player.
    """
    if lines.height == 0:
        return pl.DataFrame(schema=MATCH_SCHEMA)
    player_games = (
        lines.sort("captured_at", "game_id", nulls_last=True)
        .group_by(list(MATCH_KEY), maintain_order=True)
        .agg(pl.col("game_id").first(), pl.col("player_name").first(), pl.len().alias("n_lines"))
    )
    played = box_scores
    if "played" in played.columns:
        played = played.filter(pl.col("played").fill_null(True))
    played = played.select(list(MATCH_KEY)).unique().with_columns(_played=pl.lit(True))
    return (
        player_games.join(played, on=list(MATCH_KEY), how="left")
        .with_columns(match_status=pl.when(pl.col("_played")).then(pl.lit("matched")).otherwise(pl.lit("did_not_play")))
        .select(list(MATCH_SCHEMA))
        .cast(dict(MATCH_SCHEMA))
        .sort(list(MATCH_KEY))
    )


def match_rate(classified: pl.DataFrame) -> float:
    """Share of player-games with a line that found a box-score row."""
    return float((classified.get_column("match_status") == "matched").mean() or 0.0) if classified.height else 0.0
