"""Declared schemas of the ingest tables: the contract between providers, assets and storage.

An empty partition is an empty frame with exactly these columns, never a column-less frame.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")

SCHEDULE_STATUSES = ("scheduled", "live", "final", "postponed", "cancelled")
SEASON_TYPES = ("preseason", "regular", "all_star", "playoffs", "play_in", "cup_final")
INJURY_STATUSES = ("available", "probable", "questionable", "doubtful", "out")

SCHEDULE = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,  # canonical: YYYYMMDD_AWAY_HOME
        "nba_game_id": pl.Utf8,  # source id when the source has one ("0022400061")
        "season": pl.Utf8,
        "season_type": pl.Utf8,
        "away_team": pl.Utf8,
        "home_team": pl.Utf8,
        "tip_time_utc": UTC_TS,
        "status": pl.Utf8,
        "away_points": pl.Int32,
        "home_points": pl.Int32,
        "source": pl.Utf8,
    }
)
SCHEDULE_KEY = ("game_id",)

BOX_SCORES = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "nba_game_id": pl.Utf8,
        "season": pl.Utf8,
        "player_id": pl.Int64,
        "player_name": pl.Utf8,
        "player_lookup": pl.Utf8,
        "team": pl.Utf8,
        "opponent": pl.Utf8,
        "is_home": pl.Boolean,
        "played": pl.Boolean,  # False for did-not-play rows (kept when the source has them)
        "dnp_reason": pl.Utf8,
        "starter": pl.Boolean,
        "minutes": pl.Float64,
        "points": pl.Int32,
        "fgm": pl.Int32,
        "fga": pl.Int32,
        "fg3m": pl.Int32,
        "fg3a": pl.Int32,
        "ftm": pl.Int32,
        "fta": pl.Int32,
        "oreb": pl.Int32,
        "dreb": pl.Int32,
        "reb": pl.Int32,
        "ast": pl.Int32,
        "stl": pl.Int32,
        "blk": pl.Int32,
        "tov": pl.Int32,
        "pf": pl.Int32,
        "plus_minus": pl.Int32,
        "source": pl.Utf8,
    }
)
BOX_SCORES_KEY = ("game_id", "player_id")

PROP_LINE_SNAPSHOTS = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "event_id": pl.Utf8,  # the source's event id (The Odds API hash, DFS game id)
        "away_team": pl.Utf8,
        "home_team": pl.Utf8,
        "tip_time_utc": UTC_TS,
        "player_name": pl.Utf8,
        "player_lookup": pl.Utf8,
        "market": pl.Utf8,  # always "player_points" after ingest
        "bookmaker": pl.Utf8,
        "line": pl.Float64,
        "over_price": pl.Int32,  # American odds; NULL when the source has no real price (DFS)
        "under_price": pl.Int32,
        "captured_at": UTC_TS,  # DFS boards: the board's file date (their order), see readers/odds.py
        "source": pl.Utf8,  # the_odds_api | dfs
    }
)
PROP_LINE_SNAPSHOTS_KEY = ("game_id", "player_lookup", "bookmaker", "line", "captured_at")

INJURY_REPORT = pl.Schema(
    {
        "game_date": pl.Date,
        "player_lookup": pl.Utf8,
        "player_name": pl.Utf8,
        "team": pl.Utf8,
        "status": pl.Utf8,
        "reported_at": UTC_TS,
        "description": pl.Utf8,
        "source": pl.Utf8,
    }
)
INJURY_REPORT_KEY = (
    "game_date",
    "player_lookup",
    "reported_at",
)  # every report of the day; cut per game tip downstream

QUARANTINE = pl.Schema(
    {
        "game_date": pl.Date,  # NULL when the row's date itself could not be parsed
        "asset": pl.Utf8,
        "source_file": pl.Utf8,
        "source_row": pl.Int64,
        "reason": pl.Utf8,
        "raw": pl.Utf8,  # the offending row as JSON, so nothing is lost
    }
)


def empty(schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def conform(
    frame: pl.DataFrame,
    schema: pl.Schema,
    *,
    missing: Literal["null", "error"] = "null",
    extra: Literal["drop", "error"] = "drop",
    what: str = "frame",
    hint: str = "",
) -> pl.DataFrame:
    """Exactly the declared columns, in declared order, cast (strictly) to the declared dtypes.

    Inside `lib` a frame is built up to its schema: a missing column becomes NULL and anything
    else is dropped (the defaults). At a storage boundary a missing (`missing="error"`) or
    unexpected (`extra="error"`) column is a ValueError naming `what`, never a silent NULL."""
    lacking = [name for name in schema.names() if name not in frame.columns]
    unexpected = [name for name in frame.columns if name not in schema]
    if (missing == "error" and lacking) or (extra == "error" and unexpected):
        raise ValueError(
            f"{what}: columns do not match the declared schema (missing {lacking}, unexpected {unexpected})"
            + (f"; {hint}" if hint else "")
        )
    columns = [
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    ]
    return frame.select(columns)


# One row per (game, player) with a points line or expected to play: the candidate set.
PLAYER_LINES = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "player_name": pl.Utf8,
        "player_id": pl.Int64,  # from box-score history; NULL for a player never seen
        "team": pl.Utf8,  # newest team before the date; NULL when unknown
        "opponent": pl.Utf8,
        "is_home": pl.Boolean,
        "game_status": pl.Utf8,
        "tip_time_utc": UTC_TS,
        "injury_status": pl.Utf8,
        "expected_reason": pl.Utf8,  # recent_appearance | has_line | both
        "has_line": pl.Boolean,
        "line": pl.Float64,  # the chosen line; NULL when none / rejected
        "line_book": pl.Utf8,
        "market_type": pl.Utf8,  # sportsbook (priced) | dfs (no prices); NULL without a chosen line
        "line_captured_at": UTC_TS,
        "over_price": pl.Int32,
        "under_price": pl.Int32,
        "implied_over_prob": pl.Float64,  # de-vigged
        "opening_line": pl.Float64,
        "line_move": pl.Float64,
        "n_books": pl.Int32,
        "multi_book_line_std": pl.Float64,
        "consensus_line": pl.Float64,
        "prop_line_delta": pl.Float64,
        "line_diagnostic": pl.Utf8,  # LINE_SOURCE | NO_PROP_LINE | LINE_SANITY_REJECT
        "diagnostic_detail": pl.Utf8,
        "rejected_line": pl.Float64,
    }
)
PLAYER_LINES_KEY = ("game_id", "player_lookup")
LINE_DIAGNOSTICS = ("LINE_SOURCE", "NO_PROP_LINE", "LINE_SANITY_REJECT")
MARKET_TYPES = ("sportsbook", "dfs")
