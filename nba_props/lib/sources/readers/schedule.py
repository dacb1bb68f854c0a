"""The schedule, from two real formats in `schedule/`:

- NBA CDN `scheduleleaguev2` JSON (`*.json`, `*.json.gz`): one object per game with gameId,
  gameStatus (1 scheduled / 2 live / 3 final), postponedStatus, gameStatusText,
  gameDateTimeUTC and homeTeam / awayTeam {teamTricode, score}.
- nba_api team-row CSVs `<season>_{regular_season,playin,playoffs}.csv` (SEASON_ID,
  TEAM_ABBREVIATION, TEAM_NAME, GAME_ID, GAME_DATE, MATCHUP, WL): two rows per game, no tip time.

When both describe a game the JSON wins. Final scores come from the JSON, else from
`team_games/team_games_<season>.csv`. `schedule/nba_schedule_games.csv` (season, game_date,
season_type, full team names, no game id, no result) is a different shape and deliberately
not read: everything it holds is in the two formats above.
"""

from __future__ import annotations

import gzip
import json
from datetime import date
from functools import lru_cache
from pathlib import Path

import polars as pl

from nba_props.lib import identity, schemas
from nba_props.lib.sources.base import Parsed
from nba_props.lib.sources.readers import _common as c
from nba_props.lib.sources.readers.team_games import designations as tg_designations
from nba_props.lib.sources.readers.team_games import files_for as tg_files
from nba_props.lib.sources.readers.team_games import read_team_games
from nba_props.seasons import label_for_start_year_expr, season_label_expr

ASSET = "schedule"
CSV_KINDS = ("regular_season", "playin", "playoffs")
CSV_REQUIRED = ("SEASON_ID", "TEAM_ABBREVIATION", "GAME_ID", "GAME_DATE", "MATCHUP", "WL")
SOURCE_JSON, SOURCE_CSV = "nba_cdn", "nba_stats"
STATUS_BY_CODE = {"1": "scheduled", "2": "live", "3": "final"}
POSTPONED_TEXTS = ("ppd", "postponed")
CANCELLED_TEXTS = ("cancelled", "canceled")
# The fields of a CDN game object that are read (and kept as `raw` when a game is quarantined).
JSON_SCHEMA = {
    "gameId": pl.Utf8,
    "gameStatus": pl.Utf8,
    "gameStatusText": pl.Utf8,
    "postponedStatus": pl.Utf8,
    "gameDateEst": pl.Utf8,
    "gameDateTimeUTC": pl.Utf8,
    "awayTeam": pl.Struct({"teamTricode": pl.Utf8, "score": pl.Utf8}),
    "homeTeam": pl.Struct({"teamTricode": pl.Utf8, "score": pl.Utf8}),
}


# ---------------------------------------------------------------------------------------------
# file selection


def json_files(data_dir: Path, seasons: set[str]) -> list[Path]:
    """JSON schedules; a name carrying a season label ("schedule_2024-25.json") outside the
    request is skipped unread, a name without one is read (it is small)."""
    folder = data_dir / "schedule"
    if not folder.is_dir():
        return []
    paths = sorted({*folder.glob("*.json"), *folder.glob("*.json.gz")})
    keep = []
    for path in paths:
        match = c.SEASON_IN_NAME.search(path.name)
        if match is None or match.group(1) in seasons:
            keep.append(path)
    return keep


def csv_files(data_dir: Path, seasons: set[str]) -> list[Path]:
    folder = data_dir / "schedule"
    return [p for s in sorted(seasons) for kind in CSV_KINDS if (p := folder / f"{s}_{kind}.csv").is_file()]


# ---------------------------------------------------------------------------------------------
# JSON


def _load_games(path: Path) -> list[dict]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        payload = json.load(handle)
    league = payload.get("leagueSchedule", payload) if isinstance(payload, dict) else None
    if not isinstance(league, dict) or not isinstance(league.get("gameDates"), list):
        raise ValueError("not an NBA CDN schedule (no leagueSchedule.gameDates)")
    # Flatten the per-date lists (a loop over ~230 dates, not over rows).
    return [game for day in league["gameDates"] for game in (day.get("games") or [])]


def read_json(paths: list[Path]) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    frames, unreadable = [], []
    for path in paths:
        try:
            games = _load_games(path)
            frame = (
                pl.from_dicts(games, schema=JSON_SCHEMA, strict=False) if games else pl.DataFrame(schema=JSON_SCHEMA)
            )
        except Exception as exc:  # noqa: BLE001 - reported as a quarantine row
            unreadable.append(c.unreadable_file(ASSET, path.name, exc))
            continue
        frames.append(
            frame.with_row_index(c.ROW_COL, offset=1).with_columns(
                pl.col(c.ROW_COL).cast(pl.Int64),
                pl.lit(path.name).alias(c.FILE_COL),
                pl.struct(list(JSON_SCHEMA)).struct.json_encode().alias(c.RAW_COL),
            )
        )
    frame = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
    return frame, unreadable


def parse_json_games(frame: pl.DataFrame) -> pl.DataFrame:
    text = c.clean(pl.col("gameStatusText")).str.to_lowercase()
    tip = c.parse_utc(pl.col("gameDateTimeUTC"))
    code = c.clean(pl.col("gameStatus"))
    frame = frame.with_columns(
        nba_game_id=c.nba_game_id(pl.col("gameId")),
        tip_time_utc=tip,
        game_date=pl.coalesce(c.et_date(tip), c.parse_date(pl.col("gameDateEst"))),
        away_raw=c.clean(pl.col("awayTeam").struct.field("teamTricode")),
        home_raw=c.clean(pl.col("homeTeam").struct.field("teamTricode")),
        status=(
            pl.when(c.clean(pl.col("postponedStatus")).str.to_uppercase() == "Y")
            .then(pl.lit("postponed"))
            .when(text.is_in(POSTPONED_TEXTS))
            .then(pl.lit("postponed"))
            .when(text.is_in(CANCELLED_TEXTS))
            .then(pl.lit("cancelled"))
            .otherwise(code.replace_strict(STATUS_BY_CODE, default=None, return_dtype=pl.Utf8))
        ),
        away_score_raw=pl.col("awayTeam").struct.field("score"),
        home_score_raw=pl.col("homeTeam").struct.field("score"),
    ).with_columns(
        away=identity.team_tricode_expr(pl.col("away_raw")),
        home=identity.team_tricode_expr(pl.col("home_raw")),
        away_points=pl.when(pl.col("status") == "final").then(c.to_int(pl.col("away_score_raw"))),
        home_points=pl.when(pl.col("status") == "final").then(c.to_int(pl.col("home_score_raw"))),
        season_type=c.season_type_expr(pl.col("nba_game_id").str.slice(2, 1)),
        season_year=pl.col("nba_game_id").str.slice(3, 2).cast(pl.Int32, strict=False) + 2000,
        source=pl.lit(SOURCE_JSON),
    )
    final = pl.col("status") == "final"
    rules = [
        (pl.col("game_date").is_null(), "unparseable_date"),
        (pl.col("nba_game_id").is_null(), "missing_game_id"),
        (pl.col("away").is_null(), c.reason_with_value("unknown_team", pl.col("away_raw"))),
        (pl.col("home").is_null(), c.reason_with_value("unknown_team", pl.col("home_raw"))),
        (pl.col("status").is_null(), c.reason_with_value("unknown_status", pl.col("gameStatus"))),
        (pl.col("season_type").is_null(), c.reason_with_value("unknown_season_type", pl.col("gameId"))),
        (final & c.is_unparsed(pl.col("away_score_raw"), pl.col("away_points")), "non_numeric_points"),
        (final & c.is_unparsed(pl.col("home_score_raw"), pl.col("home_points")), "non_numeric_points"),
        ((pl.col("away_points") < 0) | (pl.col("home_points") < 0), "negative_points"),
    ]
    return frame.with_columns(c.first_reason(rules))


# ---------------------------------------------------------------------------------------------
# team-row CSVs


def parse_csv_rows(frame: pl.DataFrame) -> pl.DataFrame:
    claims = c.matchup_claims(pl.col("MATCHUP"))
    nba_id = c.nba_game_id(pl.col("GAME_ID"))
    frame = frame.with_columns(
        nba_game_id=nba_id,
        game_date=c.parse_date(pl.col("GAME_DATE")),
        team=identity.team_tricode_expr(c.clean(pl.col("TEAM_ABBREVIATION"))),
        **claims,
        season_type=pl.coalesce(
            c.season_type_expr(nba_id.str.slice(2, 1)),
            c.season_type_expr(c.clean(pl.col("SEASON_ID")).str.slice(0, 1)),
        ),
        season_year=pl.coalesce(
            c.clean(pl.col("SEASON_ID")).str.slice(1, 4).cast(pl.Int32, strict=False),
            nba_id.str.slice(3, 2).cast(pl.Int32, strict=False) + 2000,
        ),
        has_result=c.clean(pl.col("WL")).is_not_null(),
    ).with_columns(
        away_claim=identity.team_tricode_expr(pl.col("away_raw")),
        home_claim=identity.team_tricode_expr(pl.col("home_raw")),
    )
    rules = [
        (pl.col("game_date").is_null(), "unparseable_date"),
        (pl.col("nba_game_id").is_null(), "missing_game_id"),
        *c.matchup_rules(),
        (pl.col("season_type").is_null(), c.reason_with_value("unknown_season_type", pl.col("GAME_ID"))),
    ]
    return frame.with_columns(c.first_reason(rules))


def collapse_team_rows(rows: pl.DataFrame, designations: pl.DataFrame | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two clean team rows -> one game row. Returns (games, rows with a conflict reason)."""
    rows = c.resolve_home_away(rows, designations)
    conflict = (pl.struct("game_date", "away", "home").n_unique().over("nba_game_id") > 1) | (
        pl.len().over("nba_game_id") > 2
    )
    rows = rows.with_columns(
        pl.when(conflict).then(pl.lit("conflicting_team_rows")).otherwise(pl.col(c.REASON_COL)).alias(c.REASON_COL)
    )
    good = rows.filter(pl.col(c.REASON_COL).is_null())
    games = good.group_by("nba_game_id").agg(
        pl.col("game_date").first(),
        pl.col("away").first(),
        pl.col("home").first(),
        pl.col("season_type").first(),
        pl.col("season_year").first(),
        pl.col("has_result").any(),
    )
    games = games.with_columns(
        status=pl.when(pl.col("has_result")).then(pl.lit("final")).otherwise(pl.lit("scheduled")),
        tip_time_utc=pl.lit(None, dtype=schemas.UTC_TS),
        source=pl.lit(SOURCE_CSV),
    )
    return games, rows.filter(pl.col(c.REASON_COL).is_not_null())


# ---------------------------------------------------------------------------------------------


def read_schedule(data_dir: Path, start: date, end: date) -> Parsed:
    """The games of [start, end]. Cached per range and version of the files read (path, mtime,
    size): sensors ask for the same few dates every tick and a schedule file holds a whole season."""
    c.check_range(start, end)
    seasons = c.seasons_in_range(start, end)
    files = [*json_files(data_dir, seasons), *csv_files(data_dir, seasons), *tg_files(data_dir, seasons)]
    signature = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    return _read_schedule(Path(data_dir), start, end, signature)


@lru_cache(maxsize=32)
def _read_schedule(data_dir: Path, start: date, end: date, _signature: tuple) -> Parsed:
    seasons = c.seasons_in_range(start, end)
    in_range = c.in_range_or_undated("game_date", start, end)
    quarantine: list[pl.DataFrame] = []
    skipped = {"superseded": 0}

    # JSON: the newest file (by name) wins when several describe one game.
    json_frame, unreadable = read_json(json_files(data_dir, seasons))
    quarantine += unreadable
    json_games = pl.DataFrame()
    if json_frame.height:
        parsed = parse_json_games(json_frame).filter(in_range)
        # exact repeats / conflicting copies of a game inside ONE file are quarantined ...
        within = c.mark_duplicates(parsed, key=[c.FILE_COL, "nba_game_id"], per_file=True)
        # ... while a game restated by a later file supersedes the earlier copy.
        good = within.filter(pl.col(c.REASON_COL).is_null())
        latest = good.sort(c.FILE_COL, c.ROW_COL).unique("nba_game_id", keep="last", maintain_order=True)
        skipped["superseded"] += good.height - latest.height
        latest = c.mark_duplicates(
            latest.with_columns(game_id=identity.game_id_expr(pl.col("game_date"), pl.col("away"), pl.col("home"))),
            key=["game_id"],
        )
        quarantine.append(c.quarantine_rows(within, ASSET))
        quarantine.append(c.quarantine_rows(latest, ASSET))
        json_games = latest.filter(pl.col(c.REASON_COL).is_null())

    # Team-row CSVs.
    read = c.read_csvs(csv_files(data_dir, seasons), CSV_REQUIRED, ASSET)
    quarantine += read.unreadable
    team_games, tg_unreadable = read_team_games(data_dir, seasons, ASSET)
    quarantine += tg_unreadable
    csv_games = pl.DataFrame()
    if read.frame.height:
        rows = parse_csv_rows(read.frame)
        rows = c.mark_duplicates(rows, key=["nba_game_id", "team"])
        rows = rows.with_columns(  # a game's rows share its date: keep games touching the range
            _keep=pl.col("game_date").is_between(start, end).any().over("nba_game_id")
        ).filter(pl.col("_keep") | pl.col("game_date").is_null())
        games, conflicts = collapse_team_rows(rows.filter(pl.col(c.REASON_COL).is_null()), tg_designations(team_games))
        quarantine.append(c.quarantine_rows(rows, ASSET))
        quarantine.append(c.quarantine_rows(conflicts, ASSET))
        games = games.with_columns(game_id=identity.game_id_expr(pl.col("game_date"), pl.col("away"), pl.col("home")))
        if json_games.height:  # the JSON describes these games better
            games = games.join(json_games.select("nba_game_id"), on="nba_game_id", how="anti").join(
                json_games.select("game_id"), on="game_id", how="anti"
            )
        csv_games = games.filter(pl.col("game_date").is_between(start, end))

    frames = [f for f in (json_games, csv_games) if f.height]
    if not frames:
        return Parsed(schemas.empty(schemas.SCHEDULE), c.combine_quarantine(quarantine, start, end), skipped)
    games = pl.concat([schemas.conform(f.with_columns(
        season=label_for_start_year_expr(pl.col("season_year")),
        game_id=identity.game_id_expr(pl.col("game_date"), pl.col("away"), pl.col("home")),
        away_team=pl.col("away"), home_team=pl.col("home"),
    ), schemas.SCHEDULE) for f in frames])  # fmt: skip
    games = games.with_columns(season=pl.coalesce("season", season_label_expr(pl.col("game_date"))))
    games = add_team_games_points(games, team_games)
    return Parsed(
        c.finish(games, schemas.SCHEDULE, schemas.SCHEDULE_KEY), c.combine_quarantine(quarantine, start, end), skipped
    )


def add_team_games_points(games: pl.DataFrame, team_games: pl.DataFrame) -> pl.DataFrame:
    """Final games without a score take each team's PTS from team_games."""
    if team_games.height == 0:
        return games
    points = team_games.select("nba_game_id", "team", "points")
    final = pl.col("status") == "final"
    return (
        games.join(
            points.rename({"team": "away_team", "points": "_away_pts"}), on=["nba_game_id", "away_team"], how="left"
        )
        .join(points.rename({"team": "home_team", "points": "_home_pts"}), on=["nba_game_id", "home_team"], how="left")
        .with_columns(
            away_points=pl.coalesce("away_points", pl.when(final).then(pl.col("_away_pts"))),
            home_points=pl.coalesce("home_points", pl.when(final).then(pl.col("_home_pts"))),
        )
        .drop("_away_pts", "_home_pts")
    )
