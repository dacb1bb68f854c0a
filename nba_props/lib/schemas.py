"""Declared schemas of the ingest tables: the contract between providers, assets and storage.

An empty partition is an empty frame with exactly these columns, never a column-less frame.
Each schema's `<NAME>_DOC` beside it describes every column (the UI's column schema shows it;
`tables.COLUMN_DESCRIPTIONS` checks that every column has one).
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
SCHEDULE_DOC = {
    "game_date": "Game date (America/New_York): the partition key.",
    "game_id": "Canonical game id YYYYMMDD_AWAY_HOME (the ET date and the two tricodes).",
    "nba_game_id": "The source's own game id when it has one (e.g. 0022400061), else NULL.",
    "season": "Season label of the game date, e.g. 2024-25 (the year it opens).",
    "season_type": f"One of {', '.join(SEASON_TYPES)}.",
    "away_team": "Away team tricode.",
    "home_team": "Home team tricode.",
    "tip_time_utc": "Scheduled tip-off instant (UTC); NULL when the source has none.",
    "status": f"Game status: one of {', '.join(SCHEDULE_STATUSES)}.",
    "away_points": "Away team's final score (NULL until final).",
    "home_points": "Home team's final score (NULL until final).",
    "source": "The provider feed the row came from.",
}

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
BOX_SCORES_DOC = {
    "game_date": "Game date (America/New_York): the partition key.",
    "game_id": "Canonical game id YYYYMMDD_AWAY_HOME.",
    "nba_game_id": "The source's own game id when it has one, else NULL.",
    "season": "Season label of the game date, e.g. 2024-25.",
    "player_id": "The league's numeric player id.",
    "player_name": "Player name as the source spells it.",
    "player_lookup": "Normalized player name (lower-case letters only): the join key with lines.",
    "team": "The player's team tricode in this game.",
    "opponent": "The opposing team's tricode.",
    "is_home": "True when the player's team is the home team.",
    "played": "False for a did-not-play row (kept when the source has it).",
    "dnp_reason": "Why the player did not play (source text); NULL when he played.",
    "starter": "True when the player started the game.",
    "minutes": "Minutes played (fractional).",
    "points": "Points scored: the target the models predict.",
    "fgm": "Field goals made.",
    "fga": "Field goals attempted.",
    "fg3m": "Three-pointers made.",
    "fg3a": "Three-pointers attempted.",
    "ftm": "Free throws made.",
    "fta": "Free throws attempted.",
    "oreb": "Offensive rebounds.",
    "dreb": "Defensive rebounds.",
    "reb": "Total rebounds.",
    "ast": "Assists.",
    "stl": "Steals.",
    "blk": "Blocks.",
    "tov": "Turnovers.",
    "pf": "Personal fouls.",
    "plus_minus": "Plus-minus while on court.",
    "source": "The provider feed the row came from.",
}

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
PROP_LINE_SNAPSHOTS_DOC = {
    "game_date": "Game date (America/New_York) of the game the line is for: the partition key.",
    "game_id": "Canonical game id YYYYMMDD_AWAY_HOME.",
    "event_id": "The source's event id (The Odds API hash, DFS game id).",
    "away_team": "Away team tricode.",
    "home_team": "Home team tricode.",
    "tip_time_utc": "Scheduled tip-off instant (UTC) per the line source.",
    "player_name": "Player name as the book spells it.",
    "player_lookup": "Normalized player name: the join key with box scores.",
    "market": "Market; always player_points after ingest.",
    "bookmaker": "The book or DFS site that posted the line.",
    "line": "The points line (over/under threshold); alternate-line ladders keep every rung.",
    "over_price": "American odds of the over; NULL when the source has no real price (DFS).",
    "under_price": "American odds of the under; NULL when the source has no real price (DFS).",
    "captured_at": "When the snapshot was captured (UTC); DFS boards: the board's file date.",
    "source": "the_odds_api or dfs.",
}

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
INJURY_REPORT_DOC = {
    "game_date": "Game date (America/New_York) the report is for: the partition key.",
    "player_lookup": "Normalized player name: the join key with lines and box scores.",
    "player_name": "Player name as the report spells it.",
    "team": "The player's team tricode.",
    "status": f"Injury status: one of {', '.join(INJURY_STATUSES)}.",
    "reported_at": "When this report was captured (UTC); downstream uses the newest before each tip.",
    "description": "The report's injury text.",
    "source": "The provider feed the row came from.",
}

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
QUARANTINE_DOC = {
    "game_date": "The row's game date; NULL when the date itself could not be parsed.",
    "asset": "The ingest source (asset) the row belongs to; each quarantine asset owns its own rows.",
    "source_file": "The file (or API capture) the row was read from.",
    "source_row": "The row's position in that file.",
    "reason": "Why the row could not be parsed.",
    "raw": "The offending row as JSON, so nothing is lost.",
}


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


LINE_DIAGNOSTICS = ("LINE_SOURCE", "NO_PROP_LINE", "LINE_SANITY_REJECT")
MARKET_TYPES = ("sportsbook", "dfs")

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
PLAYER_LINES_DOC = {
    "game_date": "Game date (America/New_York): the partition key.",
    "game_id": "Canonical game id YYYYMMDD_AWAY_HOME.",
    "player_lookup": "Normalized player name: with game_id, the row's key.",
    "player_name": "Player name.",
    "player_id": "League player id from box-score history; NULL for a player never seen.",
    "team": "The player's newest team before the date; NULL when unknown.",
    "opponent": "The opposing team's tricode.",
    "is_home": "True when the player's team is at home.",
    "game_status": "The game's schedule status on the date.",
    "tip_time_utc": "Scheduled tip-off instant (UTC).",
    "injury_status": "Status of the newest injury report before tip; NULL without one.",
    "expected_reason": "Why the player is a candidate: recent_appearance, has_line or both.",
    "has_line": "True when any book posted a points line for the player before tip.",
    "line": "The chosen line (book priority, newest snapshot before tip, ladder main line); NULL when none "
    "or rejected.",
    "line_book": "The book of the chosen line.",
    "market_type": f"{' or '.join(MARKET_TYPES)} (dfs: no prices) of the chosen line; NULL without one.",
    "line_captured_at": "When the chosen line was captured (UTC).",
    "over_price": "American odds of the over of the chosen line (NULL on DFS).",
    "under_price": "American odds of the under of the chosen line (NULL on DFS).",
    "implied_over_prob": "De-vigged probability of the over from the chosen line's prices.",
    "opening_line": "The chosen book's earliest sane line (its own line without an earlier snapshot).",
    "line_move": "Chosen line minus the opening line.",
    "n_books": "Number of books with a sane line (0 when none).",
    "multi_book_line_std": "Sample standard deviation of the books' sane lines (NULL under 2 books).",
    "consensus_line": "Median of the books' sane lines.",
    "prop_line_delta": "Consensus minus the consensus of the player's most recent earlier date with a sane line "
    "(within the lookback).",
    "line_diagnostic": f"One of {', '.join(LINE_DIAGNOSTICS)}: whether and why a line was chosen.",
    "diagnostic_detail": "LINE_SOURCE: the book; LINE_SANITY_REJECT: the reason and the book.",
    "rejected_line": "LINE_SANITY_REJECT: the highest-priority book's newest rejected line.",
}
