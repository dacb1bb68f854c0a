"""Player box scores from nba_api `LeagueGameLog` (player mode) CSVs: `box_scores/player_logs_<season>.csv`.

Columns are read by NAME: the 2025-26 export orders them differently, adds FANTASY_PTS /
VIDEO_AVAILABLE and drops SEASON_LABEL. This source lists only players who played, so every
row is `played=True`, with `starter` and `dnp_reason` unknown (NULL).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

import polars as pl

from nba_props.lib import identity, schemas
from nba_props.lib.sources.base import Parsed
from nba_props.lib.sources.readers import _common as c
from nba_props.lib.sources.readers.team_games import designations as tg_designations
from nba_props.lib.sources.readers.team_games import read_team_games
from nba_props.seasons import label_for_start_year_expr, season_label_expr

ASSET = "box_scores"
SOURCE = "nba_stats"
REQUIRED = (
    "SEASON_ID",
    "PLAYER_ID",
    "PLAYER_NAME",
    "TEAM_ABBREVIATION",
    "GAME_ID",
    "GAME_DATE",
    "MATCHUP",
    "MIN",
    "PTS",
)
# schema column -> source column, for the counting stats (optional in the file: missing -> NULL)
STATS = {
    "fgm": "FGM", "fga": "FGA", "fg3m": "FG3M", "fg3a": "FG3A", "ftm": "FTM", "fta": "FTA",
    "oreb": "OREB", "dreb": "DREB", "reb": "REB", "ast": "AST", "stl": "STL", "blk": "BLK",
    "tov": "TOV", "pf": "PF", "plus_minus": "PLUS_MINUS",
}  # fmt: skip


def files_for(data_dir: Path, start: date, end: date) -> list[Path]:
    folder = data_dir / "box_scores"
    return [p for s in sorted(c.seasons_in_range(start, end)) if (p := folder / f"player_logs_{s}.csv").is_file()]


def minutes_expr(raw: pl.Expr) -> pl.Expr:
    """Minutes as a float: "34", "34.5" or "MM:SS" ("34:30" -> 34.5)."""
    text = c.clean(raw)
    parts = text.str.split(":")
    clock = (
        parts.list.get(0, null_on_oob=True).cast(pl.Float64, strict=False)
        + parts.list.get(1, null_on_oob=True).cast(pl.Float64, strict=False) / 60.0
    )
    return pl.when(text.str.contains(":")).then(clock).otherwise(text.cast(pl.Float64, strict=False))


def resolve_games(rows: pl.DataFrame, data_dir: Path, start: date, end: date) -> pl.DataFrame:
    """Canonical away/home/game_id per row, agreeing with the schedule at neutral sites (the
    team_games file is read only when some game's rows contradict each other)."""
    designations = None
    if c.has_neutral_site_rows(rows):
        team_games, _ = read_team_games(data_dir, c.seasons_in_range(start, end), ASSET)
        designations = tg_designations(team_games)
    return c.resolve_home_away(rows, designations).with_columns(
        is_home=pl.col("team") == pl.col("home"),
        opponent=pl.when(pl.col("team") == pl.col("home")).then(pl.col("away")).otherwise(pl.col("home")),
        game_id=identity.game_id_expr(pl.col("game_date"), pl.col("away"), pl.col("home")),
    )


def read_box_scores(data_dir: Path, start: date, end: date) -> Parsed:
    c.check_range(start, end)

    def prepare(lazy: pl.LazyFrame, _name: str) -> pl.LazyFrame:
        # Parse the date first so predicate pushdown keeps only the requested days (and the
        # undated rows, which are quarantined).
        return lazy.with_columns(game_date=c.parse_date(pl.col("GAME_DATE"))).filter(
            c.in_range_or_undated("game_date", start, end)
        )

    read = c.read_csvs(files_for(data_dir, start, end), REQUIRED, ASSET, prepare=prepare)
    if read.frame.height == 0:
        return Parsed(schemas.empty(schemas.BOX_SCORES), c.combine_quarantine(read.unreadable, start, end))
    frame = read.frame
    for source in STATS.values():
        if source not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(source))
    claims = c.matchup_claims(pl.col("MATCHUP"))
    frame = frame.with_columns(
        team=identity.team_tricode_expr(c.clean(pl.col("TEAM_ABBREVIATION"))),
        **claims,
        player_name=c.clean(pl.col("PLAYER_NAME")),
        player_lookup=identity.player_lookup_expr(c.clean(pl.col("PLAYER_NAME"))),
        player_id=c.clean(pl.col("PLAYER_ID")).cast(pl.Int64, strict=False),
        minutes=minutes_expr(pl.col("MIN")),
        points=c.to_int(pl.col("PTS")),
        nba_game_id=c.nba_game_id(pl.col("GAME_ID")),
        season_year=c.clean(pl.col("SEASON_ID")).str.slice(1, 4).cast(pl.Int32, strict=False),
        **{name: c.to_int(pl.col(source)) for name, source in STATS.items()},
    ).with_columns(
        away_claim=identity.team_tricode_expr(pl.col("away_raw")),
        home_claim=identity.team_tricode_expr(pl.col("home_raw")),
    )
    rules = [
        (pl.col("game_date").is_null(), "unparseable_date"),
        *c.matchup_rules(),
        (pl.col("player_id").is_null(), c.reason_with_value("bad_player_id", pl.col("PLAYER_ID"))),
        (pl.col("player_lookup").fill_null("") == "", "empty_player_name"),
        (c.clean(pl.col("PTS")).is_null(), "missing_points"),
        (pl.col("points").is_null(), "non_numeric_points"),
        (pl.col("points") < 0, "negative_points"),
        (c.is_unparsed(pl.col("MIN"), pl.col("minutes")), "non_numeric_minutes"),
        (pl.col("minutes") < 0, "negative_minutes"),
        *[(c.is_unparsed(pl.col(src), pl.col(name)), f"non_numeric:{src}") for name, src in STATS.items()],
    ]
    frame = frame.with_columns(c.first_reason(rules))
    clean_rows = frame.filter(pl.col(c.REASON_COL).is_null())
    frame = pl.concat(
        [
            resolve_games(clean_rows, data_dir, start, end),
            frame.filter(pl.col(c.REASON_COL).is_not_null()),
        ],
        how="diagonal_relaxed",
    )
    frame = c.mark_duplicates(frame, key=schemas.BOX_SCORES_KEY)
    quarantine = c.quarantine_rows(frame, ASSET)
    good = frame.filter(pl.col(c.REASON_COL).is_null()).with_columns(
        season=pl.coalesce(label_for_start_year_expr(pl.col("season_year")), season_label_expr(pl.col("game_date"))),
        played=pl.lit(True),
        dnp_reason=pl.lit(None, dtype=pl.Utf8),
        starter=pl.lit(None, dtype=pl.Boolean),
        source=pl.lit(SOURCE),
    )
    rows = c.finish(good, schemas.BOX_SCORES, schemas.BOX_SCORES_KEY)
    return Parsed(rows, c.combine_quarantine([quarantine, *read.unreadable], start, end))


@lru_cache(maxsize=64)
def _games_of_file(path: str, _mtime_ns: int, _size: int) -> pl.DataFrame:
    """(game_date, nba_game_id) of every game a player-log file has rows for: two columns only, once
    per file version (a sensor asks every tick)."""
    return (
        pl.scan_csv(path, infer_schema=False)
        .select(game_date=c.parse_date(pl.col("GAME_DATE")), nba_game_id=c.nba_game_id(pl.col("GAME_ID")))
        .unique()
        .collect()
    )


def games_with_box_scores(data_dir: Path, start: date, end: date) -> pl.DataFrame:
    """(game_date, nba_game_id) of the games of [start, end] with player rows in the files."""
    c.check_range(start, end)
    frames = []
    for path in files_for(data_dir, start, end):
        stat = path.stat()
        frames.append(_games_of_file(str(path), stat.st_mtime_ns, stat.st_size))
    if not frames:
        return pl.DataFrame(schema={"game_date": pl.Date, "nba_game_id": pl.Utf8})
    return pl.concat(frames).filter(pl.col("game_date").is_between(start, end)).unique()
