"""Team box-score rows (`team_games/team_games_<season>.csv`, nba_api LeagueGameFinder): two rows
per game with the team's points. Not an asset of its own: the schedule takes final scores from
it when its own source has none, and every reader takes the designated home team of a
neutral-site game from it (its two rows carry the same "AWAY @ HOME" string)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from nba_props.lib import identity
from nba_props.lib.sources.readers import _common as c

REQUIRED = ("TEAM_ABBREVIATION", "GAME_ID", "GAME_DATE", "MATCHUP", "PTS")


def files_for(data_dir: Path, seasons: Iterable[str]) -> list[Path]:
    folder = data_dir / "team_games"
    return [p for s in sorted(seasons) if (p := folder / f"team_games_{s}.csv").is_file()]


def read_team_games(data_dir: Path, seasons: Iterable[str], asset: str) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """(nba_game_id, team, game_date, away, home, points) — one row per team-game — and the
    quarantine rows of unreadable files. A repeated team-game keeps the row with a result
    (2023-24 has a preseason NYK row twice, once with 0 points and no W/L)."""
    read = c.read_csvs(files_for(data_dir, seasons), REQUIRED, asset)
    if read.frame.height == 0:
        return pl.DataFrame(
            schema={"nba_game_id": pl.Utf8, "team": pl.Utf8, "game_date": pl.Date, "away": pl.Utf8,
                    "home": pl.Utf8, "points": pl.Int32}
        ), read.unreadable  # fmt: skip
    frame = read.frame
    if "WL" not in frame.columns:
        frame = frame.with_columns(WL=pl.lit(None, dtype=pl.Utf8))
    claims = c.matchup_claims(pl.col("MATCHUP"))
    frame = (
        frame.with_columns(
            nba_game_id=c.nba_game_id(pl.col("GAME_ID")),
            team=identity.team_tricode_expr(c.clean(pl.col("TEAM_ABBREVIATION"))),
            game_date=c.parse_date(pl.col("GAME_DATE")),
            away=identity.team_tricode_expr(claims["away_raw"]),
            home=identity.team_tricode_expr(claims["home_raw"]),
            points=c.to_int(pl.col("PTS")),
            _has_result=c.clean(pl.col("WL")).is_not_null(),
        )
        .filter(pl.col("team").is_not_null() & pl.col("nba_game_id").is_not_null())
        .sort(["nba_game_id", "team", "_has_result", "points"], descending=[False, False, True, True], nulls_last=True)
        .unique(["nba_game_id", "team"], keep="first", maintain_order=True)
    )
    return frame.select("nba_game_id", "team", "game_date", "away", "home", "points"), read.unreadable


def designations(team_games: pl.DataFrame) -> pl.DataFrame:
    """(game_date, away, home) of games whose team rows agree on one description."""
    valid = team_games.filter(
        pl.col("away").is_not_null() & pl.col("home").is_not_null() & pl.col("game_date").is_not_null()
    )
    return (
        valid.group_by("nba_game_id")
        .agg(
            pl.col("game_date").first(),
            pl.col("away").first(),
            pl.col("home").first(),
            n=pl.struct("away", "home").n_unique(),
        )  # fmt: skip
        .filter(pl.col("n") == 1)
        .select("game_date", "away", "home")
    )
