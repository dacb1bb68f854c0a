"""Vegas feature block: the target's own line information and the player's record against past lines.

The line, opening line, move, book spread and prop line delta are the target's `player_lines`
columns (pre-game information). Over / under streaks grade the player's past chosen lines
(`line_history`, strictly before the date) against his box scores; `line_vs_season_avg` compares
the line with his season points mean (the season rule of the player-history block).

Every feature here is line-derived (contract `line_derived`): for a target without a chosen line
each one except `has_vegas_line` (a real 0) is NULL, i.e. defaulted, never computed - not even
from the player's past lines. The contract defaults them to NULL, so "no line" never reads like
"line equals average" (line_vs_season_avg = 0) or "books agree" (multi_book_line_std = 0).
"""

from __future__ import annotations

import polars as pl

from nba_props.lib.asof import join_strictly_before
from nba_props.lib.features.contract import load_contract
from nba_props.lib.features.inputs import KEY_COLUMNS, FeatureInputs
from nba_props.lib.features.player_history import (
    P,
    derived_source,
    feature_pair,
    of_players,
    played_rows,
    season_points,
    target_players,
)

LINES = "lines"
CALC = "calculated"
MIN_BOOKS_FOR_STD = load_contract().vegas.min_books_for_std  # config/features.yaml, section vegas

FEATURES = (
    "vegas_points_line",
    "vegas_opening_line",
    "vegas_line_move",
    "has_vegas_line",
    "multi_book_line_std",
    "prop_over_streak",
    "prop_under_streak",
    "line_vs_season_avg",
    "prop_line_delta",
)
_TARGET_LINE_COLUMNS = {
    "line": pl.Float64,
    "opening_line": pl.Float64,
    "line_move": pl.Float64,
    "n_books": pl.Int32,
    "multi_book_line_std": pl.Float64,
    "prop_line_delta": pl.Float64,
}


def graded_line_streaks(line_history: pl.DataFrame, box: pl.DataFrame) -> pl.DataFrame:
    """Per graded past game (a chosen line and a box-score row), sorted by date: the over and
    under streaks after that game. A push ends both; voids (no box row) are not graded."""
    lines = (
        line_history.filter(pl.col("line").is_not_null() & pl.col(P).is_not_null())
        .select("game_date", "game_id", P, "line")
        .unique(subset=["game_id", P], keep="first", maintain_order=True)
    )
    points = played_rows(box).select("game_id", P, pts=pl.col("points").cast(pl.Float64))
    graded = lines.join(points, on=["game_id", P], how="inner").sort(P, "game_date", "game_id")
    over = pl.col("pts") > pl.col("line")
    under = pl.col("pts") < pl.col("line")
    graded = graded.with_columns(_over=over, _under=under).with_columns(
        _run_o=(~pl.col("_over")).cast(pl.Int32).cum_sum().over(P),
        _run_u=(~pl.col("_under")).cast(pl.Int32).cum_sum().over(P),
    )
    return graded.with_columns(
        over_streak=pl.col("_over").cast(pl.Int32).cum_sum().over(P, "_run_o"),
        under_streak=pl.col("_under").cast(pl.Int32).cum_sum().over(P, "_run_u"),
    ).select(P, "game_date", "over_streak", "under_streak")


def vegas_features(inputs: FeatureInputs) -> pl.DataFrame:
    """One row per target key with the vegas features and their sources."""
    targets = inputs.targets
    t = targets.select(
        *KEY_COLUMNS,
        *[
            (pl.col(name) if name in targets.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in _TARGET_LINE_COLUMNS.items()
        ],
    ).sort("game_date", P)
    # Streaks are per player (`of_players`): only the targets' own lines and games matter.
    players = target_players(targets)
    streaks = graded_line_streaks(
        of_players(inputs.line_history, players), of_players(inputs.box_history, players)
    ).sort("game_date")
    t = join_strictly_before(t, streaks, left_on="game_date", right_on="game_date", by=P).join(
        season_points(targets, inputs.box_history), on=list(KEY_COLUMNS), how="left"
    )
    line = pl.col("line")
    has_line = line.is_not_null()
    move = pl.coalesce(pl.col("line_move"), line - pl.col("opening_line"))
    enough_books = pl.col("n_books").is_null() | (pl.col("n_books") >= MIN_BOOKS_FOR_STD)
    season_ok = pl.col("season_points_source").is_not_null()
    return t.select(
        *KEY_COLUMNS,
        *feature_pair("vegas_points_line", line, has_line, LINES),
        *feature_pair(
            "vegas_opening_line", pl.col("opening_line"), has_line & pl.col("opening_line").is_not_null(), LINES
        ),
        *feature_pair("vegas_line_move", move, has_line, LINES),
        *feature_pair("has_vegas_line", has_line.cast(pl.Float64), pl.lit(True), LINES),
        *feature_pair(
            "multi_book_line_std",
            pl.col("multi_book_line_std"),
            has_line & enough_books & pl.col("multi_book_line_std").is_not_null(),
            LINES,
        ),
        *feature_pair("prop_over_streak", pl.col("over_streak"), has_line & pl.col("over_streak").is_not_null(), CALC),
        *feature_pair(
            "prop_under_streak", pl.col("under_streak"), has_line & pl.col("under_streak").is_not_null(), CALC
        ),
        *feature_pair(
            "line_vs_season_avg",
            line - pl.col("season_points_mean"),
            has_line & season_ok,
            derived_source(pl.col("season_points_source")),
        ),
        *feature_pair(
            "prop_line_delta", pl.col("prop_line_delta"), has_line & pl.col("prop_line_delta").is_not_null(), LINES
        ),
    ).sort(*KEY_COLUMNS)
