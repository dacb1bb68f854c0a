"""Shared pieces of the file readers: file selection, robust parsing, quarantine building.

Every reader follows the same shape: read the relevant files as all-string frames with a
`_file` / `_row` (1-based data row) column each, compute one `_reason` column (the first rule a
row breaks, NULL when clean), split clean rows from quarantined ones, then shape the clean rows.
All of it is vectorised polars; Python only loops over files, never over rows.
"""

from __future__ import annotations

import re
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from nba_props.lib import schemas
from nba_props.seasons import GAME_TZ, seasons_between

ET = str(GAME_TZ)
FILE_COL, ROW_COL, REASON_COL, RAW_COL = "_file", "_row", "_reason", "_raw"
# Season labels that appear in file names ("player_logs_2024-25.csv").
SEASON_IN_NAME = re.compile(r"(\d{4}-\d{2})")


# ---------------------------------------------------------------------------------------------
# file selection


def seasons_in_range(start: date, end: date) -> set[str]:
    return set(seasons_between(start, end))


@dataclass(frozen=True)
class DatedFile:
    path: Path
    stamp: datetime | None  # UTC instant (midnight for a bare date) parsed from the name; None = no date

    @property
    def day(self) -> date | None:
        return self.stamp.date() if self.stamp else None


# A folder's listing is kept while the folder's mtime stays the same (a file added, removed or
# renamed changes it). A listing taken within RACY_SECONDS of that mtime is not kept: the clock
# behind mtimes is coarse (a few ms), so a file added just after the listing could leave it equal.
RACY_SECONDS = 2.0
_LISTINGS: dict[tuple, tuple[int, tuple[DatedFile, ...]]] = {}


def dated_files(folder: Path, glob: str, pattern: re.Pattern[str], fmt: str) -> tuple[DatedFile, ...]:
    """Files in `folder` matching `glob`, with the timestamp their name carries (UTC). The sensors
    ask every tick, the folders hold a file per capture: an unchanged folder is not listed again."""
    try:
        status = folder.stat()
    except (FileNotFoundError, NotADirectoryError):
        return ()
    if not stat.S_ISDIR(status.st_mode):
        return ()
    mtime_ns = status.st_mtime_ns
    key = (str(folder), glob, pattern.pattern, fmt)
    known = _LISTINGS.get(key)
    if known is not None and known[0] == mtime_ns:
        return known[1]
    found = []
    for path in sorted(folder.glob(glob)):
        match = pattern.search(path.name)
        stamp = None
        if match:
            try:
                stamp = datetime.strptime(match.group(1), fmt).replace(tzinfo=UTC)
            except ValueError:
                stamp = None
        found.append(DatedFile(path, stamp))
    listing = tuple(found)
    if time.time() - mtime_ns / 1e9 > RACY_SECONDS:
        _LISTINGS[key] = (mtime_ns, listing)
    return listing


def et_date_of(stamp: datetime | None) -> date | None:
    return stamp.astimezone(GAME_TZ).date() if stamp is not None else None


def within_days(day: date | None, start: date, end: date, before: int, after: int) -> bool:
    return day is not None and start - timedelta(days=before) <= day <= end + timedelta(days=after)


# ---------------------------------------------------------------------------------------------
# reading


@dataclass
class RawRead:
    """All-string rows of the files read (with `_file`, `_row`, `_raw`), plus the files that
    could not be read."""

    frame: pl.DataFrame
    unreadable: list[pl.DataFrame] = field(default_factory=list)  # quarantine frames


def read_csvs(
    paths: Iterable[Path],
    required: Sequence[str],
    asset: str,
    *,
    prepare: Callable[[pl.LazyFrame, str], pl.LazyFrame] | None = None,
) -> RawRead:
    """Read CSVs as strings by column NAME (column order may differ between files).

    `prepare(lazy_frame, file_name)` may add parsed columns and filter (predicate pushdown keeps
    big season files cheap). A file that cannot be read, or lacks a required column, becomes
    one `unreadable_file` quarantine row and the others are still read.
    """
    frames, unreadable = [], []
    for path in paths:
        name = path.name
        try:
            lazy = pl.scan_csv(path, infer_schema=False, raise_if_empty=True)
            header = list(lazy.collect_schema().names())
            missing = [c for c in required if c not in header]
            if missing:
                raise ValueError(f"missing columns {missing}")
            lazy = lazy.with_row_index(ROW_COL, offset=1).with_columns(
                pl.col(ROW_COL).cast(pl.Int64), pl.lit(name).alias(FILE_COL)
            )
            if prepare is not None:
                lazy = prepare(lazy, name)
            # The untouched source row, as JSON: what a quarantine row shows and what "exact
            # duplicate" compares. Parsing may then overwrite source columns freely.
            lazy = lazy.with_columns(pl.struct(header).struct.json_encode().alias(RAW_COL))
            frame = lazy.collect()
        except Exception as exc:  # noqa: BLE001 - any unreadable file is reported, never fatal
            unreadable.append(unreadable_file(asset, name, exc))
            continue
        frames.append(frame)
    frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    return RawRead(frame, unreadable)


def unreadable_file(asset: str, file_name: str, error: Exception | str, game_date: date | None = None) -> pl.DataFrame:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return pl.DataFrame(
        {
            "game_date": [game_date],
            "asset": [asset],
            "source_file": [file_name],
            "source_row": [None],
            "reason": [f"unreadable_file: {message[:200]}"],
            "raw": [None],
        },
        schema=schemas.QUARANTINE,
    )


# ---------------------------------------------------------------------------------------------
# parsing expressions (all null-safe: an unparseable value becomes NULL, rules decide what that means)


def clean(expr: pl.Expr) -> pl.Expr:
    """Strip whitespace; empty strings become NULL."""
    text = expr.cast(pl.Utf8).str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text)


def to_float(expr: pl.Expr) -> pl.Expr:
    return clean(expr).cast(pl.Float64, strict=False)


def to_int(expr: pl.Expr, dtype: pl.DataType = pl.Int32) -> pl.Expr:
    """Integers written as "12" or "12.0" (nba_api writes some counts as floats)."""
    return to_float(expr).round(0).cast(dtype, strict=False)


def is_unparsed(raw: pl.Expr, parsed: pl.Expr) -> pl.Expr:
    """A value is present but did not parse."""
    return clean(raw).is_not_null() & parsed.is_null()


def parse_date(expr: pl.Expr) -> pl.Expr:
    """ISO dates ("2024-10-28", also with a time part), nba_api "OCT 28, 2024" and "10/28/2024"."""
    text = clean(expr)
    return pl.coalesce(
        text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
        text.str.to_date("%b %d, %Y", strict=False),
        text.str.to_date("%m/%d/%Y", strict=False),
    )


def parse_utc(expr: pl.Expr) -> pl.Expr:
    """ISO-8601 instants: "Z" or an offset; a naive value is read as UTC."""
    text = clean(expr)
    aware = text.str.replace(r"Z$", "+00:00").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_zone="UTC")
    naive = pl.coalesce(
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False),
        text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False),
    ).dt.replace_time_zone("UTC")
    return pl.coalesce(aware, naive).cast(schemas.UTC_TS)


def et_date(instant: pl.Expr) -> pl.Expr:
    """The America/New_York calendar date of a UTC instant (a 22:30 ET tip stays on its day)."""
    return instant.dt.convert_time_zone(ET).dt.date()


def nba_game_id(expr: pl.Expr) -> pl.Expr:
    """NBA ids are 10 characters ("0022400061"); some exports lose the leading zeros."""
    text = clean(expr)
    return pl.when(text.str.contains(r"^\d{1,10}$")).then(text.str.zfill(10)).otherwise(text)


SEASON_TYPE_BY_DIGIT = {
    "1": "preseason",
    "2": "regular",
    "3": "all_star",
    "4": "playoffs",
    "5": "play_in",
    "6": "cup_final",
}


def season_type_expr(digit: pl.Expr) -> pl.Expr:
    return digit.replace_strict(SEASON_TYPE_BY_DIGIT, default=None, return_dtype=pl.Utf8)


# ---------------------------------------------------------------------------------------------
# rules and quarantine


def first_reason(rules: Sequence[tuple[pl.Expr, pl.Expr | str]]) -> pl.Expr:
    """The first broken rule's reason (conditions are NULL-safe), else NULL."""
    if not rules:
        return pl.lit(None, dtype=pl.Utf8).alias(REASON_COL)
    chain = None
    for condition, reason in rules:
        reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
        condition = condition.fill_null(False)
        chain = pl.when(condition).then(reason_expr) if chain is None else chain.when(condition).then(reason_expr)
    return chain.otherwise(pl.lit(None, dtype=pl.Utf8)).alias(REASON_COL)


def matchup_rules() -> list[tuple[pl.Expr, pl.Expr]]:
    """Quarantine rules shared by every nba_api team-row source (MATCHUP "AAA @ BBB" / "AAA vs. BBB"):
    expects columns team, away_raw, home_raw, away_claim, home_claim."""
    return [
        (pl.col("team").is_null(), reason_with_value("unknown_team", pl.col("TEAM_ABBREVIATION"))),
        (pl.col("away_raw").is_null(), reason_with_value("unparseable_matchup", pl.col("MATCHUP"))),
        (pl.col("away_claim").is_null(), reason_with_value("unknown_team", pl.col("away_raw"))),
        (pl.col("home_claim").is_null(), reason_with_value("unknown_team", pl.col("home_raw"))),
        (
            (pl.col("team") != pl.col("away_claim")) & (pl.col("team") != pl.col("home_claim")),
            reason_with_value("team_not_in_matchup", pl.col("MATCHUP")),
        ),
    ]


def reason_with_value(prefix: str, value: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(prefix + ":"), value.cast(pl.Utf8).fill_null("")])


def mark_duplicates(frame: pl.DataFrame, key: Sequence[str] | None = None, *, per_file: bool = False) -> pl.DataFrame:
    """Among still-clean rows: an exact repeat of a source row (same `_raw`; within one file
    when `per_file`) -> "duplicate"; a different row with the same key -> "duplicate_key".
    The first occurrence (file order, row order) is kept."""
    if frame.height == 0:
        return frame
    frame = frame.sort(FILE_COL, ROW_COL)
    clean_row = pl.col(REASON_COL).is_null()
    same = [FILE_COL, RAW_COL] if per_file else [RAW_COL]
    frame = frame.with_columns(
        pl.when(clean_row & ~pl.struct(same).is_first_distinct().over(clean_row))
        .then(pl.lit("duplicate"))
        .otherwise(pl.col(REASON_COL))
        .alias(REASON_COL)
    )
    if key:
        clean_row = pl.col(REASON_COL).is_null()
        frame = frame.with_columns(
            pl.when(clean_row & ~pl.struct(list(key)).is_first_distinct().over(clean_row))
            .then(pl.lit("duplicate_key"))
            .otherwise(pl.col(REASON_COL))
            .alias(REASON_COL)
        )
    return frame


def quarantine_rows(frame: pl.DataFrame, asset: str, date_col: str = "game_date") -> pl.DataFrame:
    """Rows with a reason, as QUARANTINE rows (`raw` = the source row as JSON)."""
    if frame.height == 0 or REASON_COL not in frame.columns:
        return schemas.empty(schemas.QUARANTINE)
    bad = frame.filter(pl.col(REASON_COL).is_not_null())
    return schemas.conform(
        bad.select(
            (pl.col(date_col) if date_col in bad.columns else pl.lit(None)).cast(pl.Date).alias("game_date"),
            pl.lit(asset).alias("asset"),
            pl.col(FILE_COL).alias("source_file"),
            pl.col(ROW_COL).cast(pl.Int64).alias("source_row"),
            pl.col(REASON_COL).alias("reason"),
            pl.col(RAW_COL).alias("raw"),
        ),
        schemas.QUARANTINE,
    )


def combine_quarantine(parts: Iterable[pl.DataFrame], start: date, end: date) -> pl.DataFrame:
    """All quarantine rows of the request: those dated in [start, end] and the undated ones
    (an unparseable date, an unreadable file) — the latter are reported by every read that
    touches their file, since no partition owns them."""
    parts = [schemas.conform(p, schemas.QUARANTINE) for p in parts if p.height]
    if not parts:
        return schemas.empty(schemas.QUARANTINE)
    frame = pl.concat(parts)
    in_range = pl.col("game_date").is_null() | pl.col("game_date").is_between(start, end)
    return frame.filter(in_range).sort("asset", "source_file", "source_row", nulls_last=False)


def in_range_or_undated(column: str, start: date, end: date) -> pl.Expr:
    return pl.col(column).is_null() | pl.col(column).is_between(start, end)


def finish(frame: pl.DataFrame, schema: pl.Schema, key: Sequence[str]) -> pl.DataFrame:
    if frame.height == 0:
        return schemas.empty(schema)
    return schemas.conform(frame, schema).sort(list(key))


def check_range(start: date, end: date) -> None:
    if start > end:
        raise ValueError(f"empty date range: start {start} is after end {end}")


# ---------------------------------------------------------------------------------------------
# team-row matchups ("DAL vs. UTA" / "CHI @ MEM")

MATCHUP_RE = r"^\s*([A-Za-z]{2,4})\s+(vs\.?|@)\s+([A-Za-z]{2,4})\s*$"


def matchup_claims(matchup: pl.Expr) -> dict[str, pl.Expr]:
    """Raw away / home of the game a MATCHUP string describes: "A vs. B" = B at A, "A @ B" = A at B."""
    groups = clean(matchup).str.extract_groups(MATCHUP_RE)
    left, right = groups.struct.field("1"), groups.struct.field("3")
    left_is_home = groups.struct.field("2").str.starts_with("vs")
    return {
        "away_raw": pl.when(left_is_home).then(right).otherwise(left),
        "home_raw": pl.when(left_is_home).then(left).otherwise(right),
    }


def _pair(a: pl.Expr, h: pl.Expr) -> dict[str, pl.Expr]:
    return {"_lo": pl.when(a <= h).then(a).otherwise(h), "_hi": pl.when(a <= h).then(h).otherwise(a)}


def has_neutral_site_rows(frame: pl.DataFrame) -> bool:
    """Whether some game's team rows disagree on who is at home (see `resolve_home_away`)."""
    if frame.height == 0:
        return False
    a, h = pl.col("away_claim"), pl.col("home_claim")
    return bool(
        frame.with_columns(**_pair(a, h))
        .select((pl.struct(a, h).n_unique().over("game_date", "_lo", "_hi") > 1).any())
        .item()
    )


def resolve_home_away(frame: pl.DataFrame, designations: pl.DataFrame | None = None) -> pl.DataFrame:
    """One away/home per game from its team rows (`away_claim`, `home_claim`, `game_date`).

    Normally the rows agree ("DAL vs. UTA" and "UTA @ DAL"; or both rows carrying the same
    string). At neutral sites (Mexico City, Paris, Berlin, London, the NBA Cup in Las Vegas)
    nba_api writes "A @ B" on one row and "B @ A" on the other: the designated home team is then
    taken from `designations` (game_date, away, home — e.g. team_games rows, which carry one
    string for both teams) and, failing that, the alphabetically first tricode is the away side.
    Every reader applies the same rule, so the canonical game id agrees across sources.
    """
    a, h = pl.col("away_claim"), pl.col("home_claim")
    frame = frame.with_columns(**_pair(a, h))
    group = ["game_date", "_lo", "_hi"]
    agree = pl.struct(a, h).n_unique().over(group) == 1
    frame = frame.with_columns(_agree=agree)
    if designations is not None and designations.height:
        lookup = designations.select(
            "game_date",
            **_pair(pl.col("away"), pl.col("home")),
            _d_away=pl.col("away"),
            _d_home=pl.col("home"),
        ).unique(group, keep="first")
        frame = frame.join(lookup, on=group, how="left")
    else:
        frame = frame.with_columns(_d_away=pl.lit(None, dtype=pl.Utf8), _d_home=pl.lit(None, dtype=pl.Utf8))
    return frame.with_columns(
        away=pl.when(pl.col("_agree")).then(a).otherwise(pl.coalesce("_d_away", "_lo")),
        home=pl.when(pl.col("_agree")).then(h).otherwise(pl.coalesce("_d_home", "_hi")),
    ).drop("_lo", "_hi", "_agree", "_d_away", "_d_home")
