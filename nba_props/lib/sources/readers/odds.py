"""Player-points prop lines from two real formats under `odds/`:

- The Odds API snapshots `the_odds_api_snapshots/raw_YYYYMMDD_HHMMSS.csv`
  (event_id, player, market, line, bookmaker, game "Away Full Name @ Home Full Name",
  game_time UTC, over_odds, under_odds as American-odds floats). ASSUMPTION: the file-name
  timestamp is the capture instant in UTC (the files carry no capture time; the real ones are
  stamped 17:00, i.e. 13:00 ET, hours before the first tip).
- DFS boards `dfs_lines/MM_DD_YYYY.csv` (PrizePicks / Underdog: player, market, bookmaker, side,
  line, price, home_team, away_team, game_id, commence_time). Over and Under rows become one
  row per (player, book, line); `price` is a placeholder, so both prices are NULL.
  Capture time: the boards carry none, and the same game appears on two or three consecutive
  boards with lines that moved in between. Each board is one snapshot, stamped
  `captured_at` = the file's date at `DFS_CAPTURE_TIME_UTC` (00:00 UTC = 19:00/20:00 ET the
  evening before). ASSUMPTION, measured on the 84 real 2024-25 boards: the file date is the UTC
  date of the capture - every board lists only games tipping at or after that instant (one
  listing, a 2025-01-05 game "starting" 23:40:53 UTC on the 01_06 board, is the exception) - so
  a board dated the game day (and a board dated the day after an evening game, as the boards
  from 12_31_2024 on are) is pre-tip, and the newest board supersedes older ones in
  `player_lines`. The order of the boards is exact; the instant is a lower bound.
  Within one board a player sometimes has a second, one-sided line (Over only, e.g. 0.5 or a
  discounted 18.5 beside LeBron's 23.5): a promotional line, not the board's line. When the
  same (board, player, book) also has a two-sided line, the one-sided lines are dropped and
  counted in `skipped["one_sided_alternate"]`.

Only market == "player_points" is kept; other markets are counted in `skipped["other_market"]`.
Which files are read for [start, end]: names dated within [start - 1 day, end + 1 day] (The Odds
API) and [start - 2 days, end + 1 day] (DFS boards, measured: they list games up to two days
ahead); rows are then kept by their own ET game date.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from functools import lru_cache
from pathlib import Path

import polars as pl

from nba_props.lib import identity, schemas
from nba_props.lib.sources.base import Parsed
from nba_props.lib.sources.readers import _common as c
from nba_props.lib.sources.reveal import check_as_of

ASSET = "prop_line_snapshots"
MARKET = "player_points"
LINE_PARSE_RANGE = (0.0, 100.0)  # exclusive low, inclusive high: anything else is not a points line
ODDS_API_DIR, DFS_DIR = "the_odds_api_snapshots", "dfs_lines"
ODDS_API_RE, ODDS_API_FMT = re.compile(r"^raw_(\d{8}_\d{6})\.csv$"), "%Y%m%d_%H%M%S"
DFS_RE, DFS_FMT = re.compile(r"^(\d{2}_\d{2}_\d{4})\.csv$"), "%m_%d_%Y"
ODDS_API_DAYS, DFS_DAYS = (1, 1), (2, 1)  # (days before start, days after end) of file names read
ODDS_API_REQUIRED = (
    "event_id",
    "player",
    "market",
    "line",
    "bookmaker",
    "game",
    "game_time",
    "over_odds",
    "under_odds",
)
DFS_REQUIRED = ("player", "market", "bookmaker", "side", "line", "home_team", "away_team", "game_id", "commence_time")
SIDES = ("over", "under")
DFS_CAPTURE_TIME_UTC = time(0, 0)  # a board's captured_at: its file date at this UTC time (see above)
KEY = list(schemas.PROP_LINE_SNAPSHOTS_KEY)


def _select(folder: Path, pattern: re.Pattern[str], fmt: str, start: date, end: date,
            days: tuple[int, int]) -> tuple[list[c.DatedFile], list[pl.DataFrame]]:  # fmt: skip
    chosen, unreadable = [], []
    for dated in c.dated_files(folder, "*.csv", pattern, fmt):
        if dated.stamp is None:
            unreadable.append(c.unreadable_file(ASSET, dated.path.name, "file name carries no date"))
        elif c.within_days(dated.day, start, end, *days):
            chosen.append(dated)
    return chosen, unreadable


def _common_rules() -> list[tuple[pl.Expr, pl.Expr | str]]:
    low, high = LINE_PARSE_RANGE
    return [
        (pl.col("game_date").is_null(), "unparseable_date"),
        (pl.col("away_team").is_null(), c.reason_with_value("unknown_team", pl.col("away_raw"))),
        (pl.col("home_team").is_null(), c.reason_with_value("unknown_team", pl.col("home_raw"))),
        (pl.col("player_lookup").fill_null("") == "", "empty_player_name"),
        (pl.col("bookmaker").is_null(), "missing_bookmaker"),
        (c.clean(pl.col("_line_raw")).is_null(), "missing_line"),
        (pl.col("line").is_null(), "non_numeric_line"),
        ((pl.col("line") <= low) | (pl.col("line") > high), "line_out_of_range"),
    ]


def _parsed_common(player: str, bookmaker: str, line: str) -> dict[str, pl.Expr]:
    return {
        "player_name": c.clean(pl.col(player)),
        "player_lookup": identity.player_lookup_expr(c.clean(pl.col(player))),
        "bookmaker": c.clean(pl.col(bookmaker)).str.to_lowercase(),
        "line": c.to_float(pl.col(line)),
        "away_team": identity.team_tricode_expr(pl.col("away_raw")),
        "home_team": identity.team_tricode_expr(pl.col("home_raw")),
        "market": pl.lit(MARKET),
    }


def _split_markets(frame: pl.DataFrame, start: date, end: date) -> tuple[pl.DataFrame, int]:
    """Rows of the requested days (and undated ones), points market only; other markets counted."""
    frame = frame.filter(c.in_range_or_undated("game_date", start, end))
    is_points = c.clean(pl.col("market")) == MARKET
    return frame.filter(is_points.fill_null(False)), frame.filter(~is_points.fill_null(False)).height


def read_odds_api(data_dir: Path, start: date, end: date, as_of: datetime | None):
    """(clean rows, quarantine parts, skipped counts) of The Odds API snapshots."""
    chosen, quarantine = _select(data_dir / "odds" / ODDS_API_DIR, ODDS_API_RE, ODDS_API_FMT, start, end, ODDS_API_DAYS)
    if as_of is not None:  # a snapshot taken after `as_of` did not exist yet
        chosen = [f for f in chosen if f.stamp <= as_of]
    stamps = {f.path.name: f.stamp for f in chosen}
    read = c.read_csvs([f.path for f in chosen], ODDS_API_REQUIRED, ASSET)
    quarantine += read.unreadable
    if read.frame.height == 0:
        return None, quarantine, {"other_market": 0}
    teams = c.clean(pl.col("game")).str.split_exact(" @ ", 1)
    tip = c.parse_utc(pl.col("game_time"))
    frame = read.frame.with_columns(tip_time_utc=tip, game_date=c.et_date(tip))
    frame, other = _split_markets(frame, start, end)
    frame = frame.with_columns(
        away_raw=c.clean(teams.struct.field("field_0")),
        home_raw=c.clean(teams.struct.field("field_1")),
        _line_raw=pl.col("line"),
    ).with_columns(
        **_parsed_common("player", "bookmaker", "line"),
        event_id=c.clean(pl.col("event_id")),
        captured_at=pl.col(c.FILE_COL).replace_strict(stamps, return_dtype=schemas.UTC_TS),
        over_price=c.to_int(pl.col("over_odds")),
        under_price=c.to_int(pl.col("under_odds")),
        source=pl.lit("the_odds_api"),
    )
    rules = [
        (
            pl.col("game_date").is_not_null() & pl.col("home_raw").is_null(),
            c.reason_with_value("unparseable_game", pl.col("game")),
        ),
        *_common_rules(),
        (c.is_unparsed(pl.col("over_odds"), pl.col("over_price")), "non_numeric_price"),
        (c.is_unparsed(pl.col("under_odds"), pl.col("under_price")), "non_numeric_price"),
    ]
    frame = frame.with_columns(c.first_reason(rules)).with_columns(
        game_id=identity.game_id_expr(pl.col("game_date"), pl.col("away_team"), pl.col("home_team"))
    )
    # The same row in two snapshots is two observations; only a repeat inside one file is a duplicate.
    frame = c.mark_duplicates(frame, key=KEY, per_file=True)
    quarantine.append(c.quarantine_rows(frame, ASSET))
    return frame.filter(pl.col(c.REASON_COL).is_null()), quarantine, {"other_market": other}


def read_dfs(data_dir: Path, start: date, end: date, as_of: datetime | None):
    """(clean rows, quarantine parts, skipped counts) of the DFS boards, one row per line and board."""
    chosen, quarantine = _select(data_dir / "odds" / DFS_DIR, DFS_RE, DFS_FMT, start, end, DFS_DAYS)
    stamps = {f.path.name: datetime.combine(f.day, DFS_CAPTURE_TIME_UTC, tzinfo=UTC) for f in chosen}
    read = c.read_csvs([f.path for f in sorted(chosen, key=lambda f: f.stamp)], DFS_REQUIRED, ASSET)
    quarantine += read.unreadable
    skipped = {"other_market": 0, "one_sided_alternate": 0, "after_as_of": 0}
    if read.frame.height == 0:
        return None, quarantine, skipped
    tip = c.parse_utc(pl.col("commence_time"))
    captured = pl.col(c.FILE_COL).replace_strict(stamps, return_dtype=schemas.UTC_TS)
    frame = read.frame.with_columns(tip_time_utc=tip, captured_at=captured, game_date=c.et_date(tip))
    frame, skipped["other_market"] = _split_markets(frame, start, end)
    if as_of is not None:  # a board captured after `as_of` did not exist yet
        late = (pl.col("captured_at") > as_of).fill_null(False)
        skipped["after_as_of"] = frame.filter(late).height
        frame = frame.filter(~late)
    frame = frame.with_columns(
        away_raw=c.clean(pl.col("away_team")),
        home_raw=c.clean(pl.col("home_team")),
        _line_raw=pl.col("line"),
        _side_raw=pl.col("side"),
    ).with_columns(
        **_parsed_common("player", "bookmaker", "line"),
        event_id=c.clean(pl.col("game_id")),
        side=c.clean(pl.col("side")).str.to_lowercase(),
        source=pl.lit("dfs"),
    )
    rules = [
        *_common_rules(),
        (~pl.col("side").is_in(SIDES), c.reason_with_value("unknown_side", c.clean(pl.col("_side_raw")))),
    ]
    frame = frame.with_columns(c.first_reason(rules)).with_columns(
        game_id=identity.game_id_expr(pl.col("game_date"), pl.col("away_team"), pl.col("home_team"))
    )
    # Within a file: an exact repeat is a duplicate; a second Over (or Under) for the same line
    # with different content is a key duplicate. Over + Under then become one row. The key
    # holds captured_at, i.e. the board: the same line on two boards is two observations.
    frame = c.mark_duplicates(frame, key=[*KEY, "side"], per_file=True)
    quarantine.append(c.quarantine_rows(frame, ASSET))
    good = frame.filter(pl.col(c.REASON_COL).is_null()).sort("captured_at", c.FILE_COL, c.ROW_COL)
    lines = good.group_by(KEY, maintain_order=True).agg(
        pl.all().exclude(KEY).first(), _two_sided=pl.col("side").n_unique() == len(SIDES)
    )
    board_player = ["game_id", "player_lookup", "bookmaker", "captured_at"]
    promo = ~pl.col("_two_sided") & pl.col("_two_sided").any().over(board_player)
    skipped["one_sided_alternate"] = lines.filter(promo).height
    return (
        lines.filter(~promo)
        .drop("_two_sided")
        .with_columns(over_price=pl.lit(None, dtype=pl.Int32), under_price=pl.lit(None, dtype=pl.Int32)),
        quarantine,
        skipped,
    )


def read_prop_lines(data_dir: Path, start: date, end: date, as_of: datetime | None = None) -> Parsed:
    c.check_range(start, end)
    as_of = check_as_of(as_of)
    api_rows, api_q, api_skipped = read_odds_api(data_dir, start, end, as_of)
    dfs_rows, dfs_q, dfs_skipped = read_dfs(data_dir, start, end, as_of)
    skipped = {
        "other_market": api_skipped["other_market"] + dfs_skipped["other_market"],
        "one_sided_alternate": dfs_skipped["one_sided_alternate"],
        "after_as_of": dfs_skipped["after_as_of"],
    }
    frames = [
        schemas.conform(f.filter(pl.col("game_date").is_between(start, end)), schemas.PROP_LINE_SNAPSHOTS)
        for f in (api_rows, dfs_rows)
        if f is not None and f.height
    ]
    rows = pl.concat(frames) if frames else schemas.empty(schemas.PROP_LINE_SNAPSHOTS)
    return Parsed(
        c.finish(rows, schemas.PROP_LINE_SNAPSHOTS, KEY), c.combine_quarantine([*api_q, *dfs_q], start, end), skipped
    )


# ---------------------------------------------------------------------------------------------
# polling (sensors): which snapshots exist for which game dates, without parsing the lines


@lru_cache(maxsize=4096)
def _file_game_dates(path: str, column: str, _mtime_ns: int, _size: int) -> tuple[date, ...]:
    """ET game dates a snapshot file lists (its tip column only; cached per file version, since a
    sensor asks about the same files every tick). An unreadable file lists none: the ingest
    quarantines it."""
    try:
        tips = pl.scan_csv(path, infer_schema=False).select(c.et_date(c.parse_utc(pl.col(column)))).collect()
    except Exception:  # noqa: BLE001 - the ingest reports it
        return ()
    return tuple(sorted(tips.to_series().drop_nulls().unique()))


SNAPSHOT_TIMES = pl.Schema({"game_date": pl.Date, "captured_at": schemas.UTC_TS, "source": pl.Utf8})


def snapshot_times(data_dir: Path, start: date, end: date, as_of: datetime | None = None) -> pl.DataFrame:
    """(game_date, captured_at, source): one row per snapshot captured by `as_of` that lists games of
    a date in [start, end]. Files are chosen by name (the windows `read_prop_lines` uses) and only
    their tip column is read, once per file version."""
    c.check_range(start, end)
    found = []
    sources = (
        (ODDS_API_DIR, ODDS_API_RE, ODDS_API_FMT, ODDS_API_DAYS, "game_time", "the_odds_api"),
        (DFS_DIR, DFS_RE, DFS_FMT, DFS_DAYS, "commence_time", "dfs"),
    )
    for folder, pattern, fmt, days, column, source in sources:
        chosen, _ = _select(data_dir / "odds" / folder, pattern, fmt, start, end, days)
        for dated in chosen:
            captured = dated.stamp if source != "dfs" else datetime.combine(dated.day, DFS_CAPTURE_TIME_UTC, tzinfo=UTC)
            if as_of is not None and captured > as_of:
                continue
            stat = dated.path.stat()
            for day in _file_game_dates(str(dated.path), column, stat.st_mtime_ns, stat.st_size):
                if start <= day <= end:
                    found.append((day, captured, source))
    return pl.DataFrame(found, schema=SNAPSHOT_TIMES, orient="row").unique().sort("game_date", "captured_at", "source")
