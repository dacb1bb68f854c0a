"""Team-game and player-game logs built once from box scores, with the cumulative sums the
team-context block looks up "as of" a date.

Definitions (the numbers are `TeamLogConfig` fields, section `team_logs` of config/features.yaml):

- team totals of a team-game = the sum of its players' rows (measured on 2021-22 .. 2024-25:
  summed player points equal official team points);
- plays = FGA + 0.44·FTA + TOV; possessions = plays − OREB;
- game minutes = the length of the game: team MIN sum / 5, snapped to regulation plus whole
  overtimes (48 + 5·k) because exported player minutes are rounded (a regulation game sums to
  239..241 team minutes). Pace is possessions per 48 game minutes;
- a team-game is *complete* when the opponent's rows are present too. Only complete games count
  in ratings, pace and win pct (a half-recorded game would credit points with no opponent);
  every recorded game counts for rest days.

Cumulative columns (`cum_*`) include the row's own game: a lookup for a target dated D must
take the last row strictly before D (`lib.asof.join_strictly_before`).
"""

from __future__ import annotations

import polars as pl

from nba_props.lib.features.contract import load_contract
from nba_props.lib.features.rules import TeamLogConfig
from nba_props.seasons import label_for_start_year_expr
from nba_props.seasons import season_label_expr as season_of_date  # the season label of a date column

# config/features.yaml, section team_logs
DEFAULT_LOG_CONFIG: TeamLogConfig = load_contract().team_logs

TEAM_SUMS = ("games", "wins", "pts", "opp_pts", "poss", "opp_poss", "game_minutes", "opp_plays")
LEAGUE_SUMS = ("plays", "game_minutes")
PLAYER_SEASON_SUMS = ("games", "points", "minutes", "plays", "team_plays", "team_game_minutes")


def previous_season(label: pl.Expr) -> pl.Expr:
    return label_for_start_year_expr(label.str.slice(0, 4).cast(pl.Int32) - 1)


def played_rows(box: pl.DataFrame) -> pl.DataFrame:
    """Rows of players who played (DNP rows are kept by some sources; they are not games)."""
    frame = box.filter(
        pl.col("played").fill_null(True) & pl.col("team").is_not_null() & pl.col("game_date").is_not_null()
    )
    return frame.with_columns(season=pl.coalesce(pl.col("season"), season_of_date(pl.col("game_date"))))


def _plays(fga: pl.Expr, fta: pl.Expr, tov: pl.Expr, cfg: TeamLogConfig) -> pl.Expr:
    return fga + cfg.fta_weight * fta + tov


def team_game_logs(box: pl.DataFrame, cfg: TeamLogConfig = DEFAULT_LOG_CONFIG) -> pl.DataFrame:
    """One row per (game_id, team): totals, possessions, game minutes, the opponent's totals, win.

    Columns: game_id, game_date, season, team, opponent, pts, fga, fta, oreb, tov, plays, poss,
    game_minutes, complete, opp_pts, opp_poss, opp_plays, win.
    """
    rows = played_rows(box)
    f64 = pl.Float64
    team = (
        rows.group_by("game_id", "team")
        .agg(
            pl.col("game_date").first(),
            pl.col("season").first(),
            pl.col("opponent").drop_nulls().first(),
            *[pl.col(c).cast(f64).sum().alias(c) for c in ("points", "fga", "fta", "oreb", "tov", "minutes")],
        )
        .rename({"points": "pts", "minutes": "minutes_sum"})
    )
    overtimes = (
        ((pl.col("minutes_sum") / cfg.players_on_court - cfg.regulation_minutes) / cfg.overtime_minutes)
        .round(0)
        .clip(lower_bound=0)
    )
    team = team.with_columns(
        plays=_plays(pl.col("fga"), pl.col("fta"), pl.col("tov"), cfg),
        game_minutes=cfg.regulation_minutes + cfg.overtime_minutes * overtimes.fill_null(0),
    ).with_columns(poss=pl.col("plays") - pl.col("oreb"))
    opp = team.select(
        "game_id",
        pl.col("team").alias("opponent"),
        pl.col("pts").alias("opp_pts"),
        pl.col("poss").alias("opp_poss"),
        pl.col("plays").alias("opp_plays"),
    )
    out = team.join(opp, on=["game_id", "opponent"], how="left")
    return out.with_columns(
        complete=pl.col("opp_pts").is_not_null(),
        win=(pl.col("pts") > pl.col("opp_pts")).cast(f64),
    ).sort("game_date", "game_id", "team")


def team_to_date(logs: pl.DataFrame) -> pl.DataFrame:
    """Complete team-games with season-to-date cumulative sums `cum_<TEAM_SUMS>` per (team, season)."""
    games = logs.filter(pl.col("complete")).with_columns(games=pl.lit(1.0), wins=pl.col("win"))
    return (
        games.sort("team", "season", "game_date", "game_id")
        .with_columns([pl.col(c).cum_sum().over("team", "season").alias(f"cum_{c}") for c in TEAM_SUMS])
        .select("team", "season", "game_date", *[f"cum_{c}" for c in TEAM_SUMS])
        .sort("game_date")
    )


def season_finals(to_date: pl.DataFrame, by: tuple[str, ...]) -> pl.DataFrame:
    """The last cumulative row of each (by..., season): the season's final values."""
    return to_date.sort("game_date").group_by(*by, "season").agg(pl.all().exclude("game_date").last())


def league_to_date(logs: pl.DataFrame) -> pl.DataFrame:
    """League totals over complete team-games, cumulative per season by date (`cum_plays`, `cum_game_minutes`)."""
    daily = (
        logs.filter(pl.col("complete"))
        .group_by("season", "game_date")
        .agg(pl.col("plays").sum(), pl.col("game_minutes").sum())
        .sort("season", "game_date")
    )
    return (
        daily.with_columns([pl.col(c).cum_sum().over("season").alias(f"cum_{c}") for c in LEAGUE_SUMS])
        .select("season", "game_date", *[f"cum_{c}" for c in LEAGUE_SUMS])
        .sort("game_date")
    )


def player_game_logs(
    box: pl.DataFrame,
    logs: pl.DataFrame,
    cfg: TeamLogConfig = DEFAULT_LOG_CONFIG,
    players: pl.Series | None = None,
) -> pl.DataFrame:
    """One row per (player_lookup, game) with the player's cumulative sums.

    - over his whole history (any season): `cum_games`, `cum_minutes`, `cum_b2b` (games played the
      day after his previous game), `last_game_date`, `recent_mpg` (mean minutes of this game and
      the previous `rolling_minutes_games - 1`);
    - per season: `season_cum_<PLAYER_SEASON_SUMS>` (team plays / game minutes of the games he played);
    - per opponent (any season): `opp_cum_games`, `opp_cum_points`; per opponent and season:
      `opp_season_cum_games`.
    A player with two rows on one date (two players sharing a lookup) keeps both; sums add up.
    With `players`, only their rows: every sum here is per player (team columns come from
    `logs`, built from every row), so other players' rows cannot change them.
    """
    if players is not None:  # row-wise, so it commutes with played_rows
        box = box.filter(pl.col("player_lookup").is_in(players.implode()))
    rows = played_rows(box).filter(pl.col("player_lookup").is_not_null())
    team_cols = logs.select(
        "game_id", "team", pl.col("plays").alias("team_plays"), pl.col("game_minutes").alias("team_game_minutes")
    )
    f64 = pl.Float64
    games = (
        rows.select(
            "player_lookup",
            "game_id",
            "game_date",
            "season",
            "team",
            "opponent",
            pl.col("points").cast(f64).alias("points"),
            pl.col("minutes").cast(f64).fill_null(0.0).alias("minutes"),
            _plays(pl.col("fga").cast(f64), pl.col("fta").cast(f64), pl.col("tov").cast(f64), cfg)
            .fill_null(0.0)
            .alias("plays"),
        )  # fmt: skip
        .join(team_cols, on=["game_id", "team"], how="left")
        .with_columns(games=pl.lit(1.0))
        .sort("player_lookup", "game_date", "game_id")
    )
    previous = pl.col("game_date").shift(1).over("player_lookup")
    games = games.with_columns(
        b2b=((pl.col("game_date") - previous).dt.total_days() == 1).cast(f64).fill_null(0.0),
        cum_games=pl.col("games").cum_sum().over("player_lookup"),
        cum_minutes=pl.col("minutes").cum_sum().over("player_lookup"),
        recent_mpg=pl.col("minutes").rolling_mean(cfg.rolling_minutes_games, min_samples=1).over("player_lookup"),
        last_game_date=pl.col("game_date"),
        **{
            f"season_cum_{c}": pl.col(c).fill_null(0.0).cum_sum().over("player_lookup", "season")
            for c in PLAYER_SEASON_SUMS
        },
    ).with_columns(cum_b2b=pl.col("b2b").cum_sum().over("player_lookup"))
    games = games.sort("player_lookup", "opponent", "game_date", "game_id").with_columns(
        opp_cum_games=pl.col("games").cum_sum().over("player_lookup", "opponent"),
        opp_cum_points=pl.col("points").fill_null(0.0).cum_sum().over("player_lookup", "opponent"),
        opp_season_cum_games=pl.col("games").cum_sum().over("player_lookup", "opponent", "season"),
    )
    return games.sort("game_date")
