"""Who is expected to play on a game date: the candidate set of `player_lines`.

For a target date D (every D of a range at once, one polars pass, no per-date loop):

- **recent appearance**: the player's newest team (the team of his latest box row dated
  D - window .. D - 1; traded players follow it) is scheduled on D, he played for that team in
  that window (a box row with played=True), and D's injury report, as known before his game's
  tip, does not list him "out" (`lib/injuries.py`: the newest report captured before the tip;
  a report captured after tip never counts for that game);
- **has line**: every player with a points line (sane or not) on D, in the line's game, whatever
  the injury report says. A player with a line on D is expected in his line's game only (a line
  for another game than his newest team's means the books know of a move the box scores do not).

Box rows dated D or later are never used for D (the history may include them). The newest team
and player id of an appearing player come from the same window; a player with a line takes his
team from his newest box row of the longer `team_lookback_days` window (opening night: last
season's team; a player back from a long absence: the team he left), so the output for D depends
only on box rows of [D - team_lookback_days, D - 1] and a range computed at once equals the
concatenation of its single days.

`team` / `opponent` / `is_home` are the newest team joined to D's game. For a line-only player the
line's game names the two teams (known before the game): his newest team is used when it is one
of them; they are NULL when he has no box row in the lookback (a rookie) or his newest team is
not in the line's game (moved: the books know a trade the box scores do not). The line sources
(Odds API, DFS boards) do not name a player's own team, so there is no further fallback.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from nba_props.lib.asof import join_strictly_before
from nba_props.lib.injuries import reports_before_tip

PLAYER_GAME = ["game_date", "game_id", "player_lookup"]
RECENT_APPEARANCE, HAS_LINE, BOTH = "recent_appearance", "has_line", "both"
OUT_STATUS = "out"

# Columns of `line_players` (one row per game and player with a line on a target date).
LINE_PLAYER_COLUMNS = (*PLAYER_GAME, "player_name", "away_team", "home_team", "tip_time_utc")
EXPECTED_COLUMNS = (
    *PLAYER_GAME, "player_name", "player_id", "team", "opponent", "is_home", "game_status",
    "tip_time_utc", "injury_status", "expected_reason", "has_line",
)  # fmt: skip


def _days_before(column: str, days: int) -> pl.Expr:
    return pl.col(column).dt.offset_by(f"-{days}d")


def target_games(schedule: pl.LazyFrame, start: date, end: date) -> pl.LazyFrame:
    """Schedule rows of [start, end], one per game_id."""
    return (
        schedule.filter(pl.col("game_date").is_between(start, end) & pl.col("game_id").is_not_null())
        .sort("game_id", "game_date")
        .unique("game_id", keep="first", maintain_order=True)
    )


def _team_games(games: pl.LazyFrame) -> pl.LazyFrame:
    side = ["game_date", "game_id"]
    away = games.select(*side, team="away_team", opponent="home_team", is_home=pl.lit(False))
    home = games.select(*side, team="home_team", opponent="away_team", is_home=pl.lit(True))
    return pl.concat([away, home]).filter(pl.col("team").is_not_null())


def _newest_box_rows(box: pl.LazyFrame, dates: pl.LazyFrame, window_days: int) -> pl.LazyFrame:
    """(game_date, player_lookup) -> the player's latest box row dated D - window .. D - 1."""
    grid = box.select("player_lookup").unique().join(dates, how="cross")
    return _newest_rows_of(grid, box, window_days)


def _newest_rows_of(keys: pl.LazyFrame, box: pl.LazyFrame, window_days: int) -> pl.LazyFrame:
    """Per (game_date, player_lookup) of `keys`: the player's latest box row dated D - window .. D - 1
    (player_id, player_name, team); keys without one are dropped."""
    rows = (
        box.sort("player_lookup", "game_date", "game_id", "player_id")
        .unique(["player_lookup", "game_date"], keep="last", maintain_order=True)
        .select("player_lookup", "player_id", "player_name", "team", box_date="game_date")
    )
    return (
        join_strictly_before(
            keys.select("game_date", "player_lookup").unique(),
            rows,
            left_on="game_date",
            right_on="box_date",
            by="player_lookup",
        )  # fmt: skip
        .filter(pl.col("box_date") >= _days_before("game_date", window_days))
        .drop("box_date")
    )


def _recent_appearances(box: pl.LazyFrame, newest: pl.LazyFrame, window_days: int) -> pl.LazyFrame:
    """Newest-team rows of players who played for that team in D - window .. D - 1."""
    played = (
        box.filter(pl.col("played").fill_null(False) & pl.col("team").is_not_null())
        .select("player_lookup", "team", last_played="game_date")
        .unique()
    )
    return (
        join_strictly_before(
            newest.filter(pl.col("team").is_not_null()),
            played,
            left_on="game_date",
            right_on="last_played",
            by=["player_lookup", "team"],
        )  # fmt: skip
        .filter(pl.col("last_played") >= _days_before("game_date", window_days))
        .drop("last_played")
    )


def _report_before_tip(report: pl.LazyFrame, rows: pl.LazyFrame) -> pl.LazyFrame:
    """(PLAYER_GAME, injury_status): per candidate row, the newest report captured before its tip."""
    return reports_before_tip(report, rows, key=PLAYER_GAME, by=["game_date", "player_lookup"]).select(
        *PLAYER_GAME, "injury_status"
    )


def expected_players_lazy(
    schedule: pl.LazyFrame,
    box_history: pl.LazyFrame,
    injuries: pl.LazyFrame,
    line_players: pl.LazyFrame,
    *,
    start: date,
    end: date,
    window_days: int,
    team_lookback_days: int | None = None,
    as_of: datetime | None = None,
) -> pl.LazyFrame:
    """EXPECTED_COLUMNS for every target date of [start, end] (inputs in the ingest schemas).

    `team_lookback_days` (default: `window_days`): how far back a player with a line may take his
    newest team from; box_history must cover [start - max(window_days, team_lookback_days), end]."""
    lookback = max(window_days, team_lookback_days or window_days)
    games = target_games(schedule, start, end)
    line_players = line_players.filter(pl.col("game_date").is_between(start, end)).select(LINE_PLAYER_COLUMNS)
    dates = pl.concat([games.select("game_date"), line_players.select("game_date")]).unique()
    known = box_history.filter(pl.col("player_lookup").is_not_null())
    box = known.filter(pl.col("game_date").is_between(start - timedelta(days=window_days), end, closed="left"))
    long_box = known.filter(pl.col("game_date").is_between(start - timedelta(days=lookback), end, closed="left"))
    if as_of is not None:  # a report published after as_of was not known yet
        injuries = injuries.filter(pl.col("reported_at").is_null() | (pl.col("reported_at") <= as_of))
    report = injuries.filter(pl.col("game_date").is_between(start, end) & pl.col("player_lookup").is_not_null()).select(
        "game_date", "player_lookup", "reported_at", injury_status=pl.col("status").str.to_lowercase()
    )
    newest = _newest_box_rows(box, dates, window_days)

    appear = _recent_appearances(box, newest, window_days).join(
        _team_games(games), on=["game_date", "team"], how="inner"
    )
    appear = appear.join(
        _report_before_tip(
            report, appear.join(games.select("game_id", "tip_time_utc"), on="game_id", how="left")
        ).filter(pl.col("injury_status") == OUT_STATUS),
        on=PLAYER_GAME,
        how="anti",
    )
    # A player with a line on D is expected in his line's game(s) only.
    appear = pl.concat(
        [
            appear.join(line_players, on=["game_date", "player_lookup"], how="anti"),
            appear.join(line_players, on=PLAYER_GAME, how="semi"),
        ]
    ).with_columns(_appeared=pl.lit(True))

    box_team, away, home = pl.col("_box_team"), pl.col("_away"), pl.col("_home")
    # The newest row of the lookback is the window's newest row whenever the window has one.
    line_newest = _newest_rows_of(line_players, long_box, lookback)
    lines = (
        line_players.join(
            line_newest.select("game_date", "player_lookup", "player_id", _box_name="player_name", _box_team="team"),
            on=["game_date", "player_lookup"],
            how="left",
        )
        .join(games.select("game_id", _s_away="away_team", _s_home="home_team"), on="game_id", how="left")
        .with_columns(_away=pl.coalesce("_s_away", "away_team"), _home=pl.coalesce("_s_home", "home_team"))
        .select(
            *PLAYER_GAME,
            "player_id",
            _line_name="player_name",
            _box_name="_box_name",
            _line_tip="tip_time_utc",
            team=pl.when((box_team == away) | (box_team == home)).then(box_team),
            opponent=pl.when(box_team == home).then(away).when(box_team == away).then(home),
            is_home=pl.when(box_team == home).then(True).when(box_team == away).then(False),
            _has_line=pl.lit(True),
        )
    )
    appeared, has_line = pl.col("_appeared").fill_null(False), pl.col("_has_line").fill_null(False)
    merged = appear.join(lines, on=PLAYER_GAME, how="full", coalesce=True, suffix="_l")
    merged = merged.join(
        games.select("game_id", game_status="status", _s_tip="tip_time_utc"), on="game_id", how="left"
    ).with_columns(_tip=pl.coalesce("_s_tip", "_line_tip"))
    return merged.join(
        _report_before_tip(report, merged.rename({"_tip": "tip_time_utc"})), on=PLAYER_GAME, how="left"
    ).select(
        *PLAYER_GAME,
        player_name=pl.coalesce("player_name", "_box_name", "_line_name"),
        player_id=pl.coalesce("player_id", "player_id_l"),
        team=pl.coalesce("team", "team_l"),
        opponent=pl.coalesce("opponent", "opponent_l"),
        is_home=pl.coalesce("is_home", "is_home_l"),
        game_status=pl.col("game_status"),
        tip_time_utc=pl.col("_tip"),
        injury_status=pl.col("injury_status"),
        expected_reason=pl.when(appeared & has_line)
        .then(pl.lit(BOTH))
        .when(has_line)
        .then(pl.lit(HAS_LINE))
        .otherwise(pl.lit(RECENT_APPEARANCE)),
        has_line=has_line,
    )


def expected_players(
    schedule: pl.DataFrame,
    box_history: pl.DataFrame,
    injuries: pl.DataFrame,
    line_players: pl.DataFrame,
    *,
    start: date,
    end: date,
    window_days: int = 30,
    team_lookback_days: int | None = None,
    as_of: datetime | None = None,
) -> pl.DataFrame:
    """Eager wrapper of `expected_players_lazy`, sorted by (game_date, game_id, player_lookup)."""
    return (
        expected_players_lazy(
            schedule.lazy(),
            box_history.lazy(),
            injuries.lazy(),
            line_players.lazy(),
            start=start,
            end=end,
            window_days=window_days,
            team_lookback_days=team_lookback_days,
            as_of=as_of,
        )  # fmt: skip
        .sort(PLAYER_GAME)
        .collect()
    )
