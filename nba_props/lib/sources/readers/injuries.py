"""Injury reports from balldontlie-shaped JSON: `injuries/injuries_YYYYMMDD_HHMMSS.json`
(`data[]`: player {first_name, last_name, team_id (balldontlie team id)}, status, description,
return_date).

The file-name timestamp (UTC) is `reported_at`; the report belongs to the ET date of that
instant. Every report of the day is kept, one row per (game_date, player_lookup, reported_at)
(files captured after `as_of` are not read): which one counts for a game depends on that game's
tip, so consumers take the newest report captured before it (`nba_props.lib.injuries`). Keeping
only the day's newest report would let a report captured after tip (a player ruled out in-game)
leak into that game's features and expected players. (Per player, not per file: a payload may be
one page of several, so a player missing from a newer file is not taken as recovered.)
No `injuries/` folder -> an empty frame with the schema (the source is optional).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import polars as pl

from nba_props.lib import identity, schemas
from nba_props.lib.sources.base import Parsed
from nba_props.lib.sources.readers import _common as c
from nba_props.lib.sources.reveal import check_as_of

ASSET = "injury_report"
SOURCE = "balldontlie"
FILE_RE, FILE_FMT = re.compile(r"^injuries_(\d{8}_\d{6})\.json$"), "%Y%m%d_%H%M%S"
# balldontlie / NBA status wording (lower-cased) -> the declared statuses.
STATUS_MAP = {
    "available": "available",
    "active": "available",
    "probable": "probable",
    "questionable": "questionable",
    "day-to-day": "questionable",
    "day to day": "questionable",
    "gtd": "questionable",
    "game time decision": "questionable",
    "doubtful": "doubtful",
    "out": "out",
    "out for season": "out",
    "out indefinitely": "out",
    "suspended": "out",
    "inactive": "out",
}
RECORD_SCHEMA = {
    "player": pl.Struct({"first_name": pl.Utf8, "last_name": pl.Utf8, "team_id": pl.Utf8}),
    "status": pl.Utf8,
    "description": pl.Utf8,
    "return_date": pl.Utf8,
}


def _read(chosen: list[c.DatedFile]) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    frames, unreadable = [], []
    for dated in chosen:
        try:
            payload = json.loads(dated.path.read_text(encoding="utf-8"))
            records = payload.get("data") if isinstance(payload, dict) else None
            if not isinstance(records, list):
                raise ValueError("not a balldontlie payload (no data list)")
            frame = (
                pl.from_dicts(records, schema=RECORD_SCHEMA, strict=False)
                if records
                else pl.DataFrame(schema=RECORD_SCHEMA)
            )
        except Exception as exc:  # noqa: BLE001 - reported as a quarantine row
            unreadable.append(c.unreadable_file(ASSET, dated.path.name, exc, c.et_date_of(dated.stamp)))
            continue
        frames.append(
            frame.with_row_index(c.ROW_COL, offset=1).with_columns(
                pl.col(c.ROW_COL).cast(pl.Int64),
                pl.lit(dated.path.name).alias(c.FILE_COL),
                pl.lit(dated.stamp, dtype=schemas.UTC_TS).alias("reported_at"),
                pl.struct(list(RECORD_SCHEMA)).struct.json_encode().alias(c.RAW_COL),
            )
        )
    return (pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()), unreadable


def read_injuries(data_dir: Path, start: date, end: date, as_of: datetime | None = None) -> Parsed:
    c.check_range(start, end)
    as_of = check_as_of(as_of)
    skipped: dict[str, int] = {}
    folder = data_dir / "injuries"
    chosen, quarantine = [], []
    for dated in c.dated_files(folder, "*.json", FILE_RE, FILE_FMT):
        if dated.stamp is None:
            quarantine.append(c.unreadable_file(ASSET, dated.path.name, "file name carries no timestamp"))
        # the UTC date of an ET evening report is the next day: read names up to end + 1
        elif c.within_days(dated.day, start, end, 0, 1) and (as_of is None or dated.stamp <= as_of):
            chosen.append(dated)
    frame, unreadable = _read(chosen)
    quarantine += unreadable
    if frame.height == 0:
        return Parsed(schemas.empty(schemas.INJURY_REPORT), c.combine_quarantine(quarantine, start, end), skipped)
    player = pl.col("player")
    name = pl.concat_str(
        [
            c.clean(player.struct.field("first_name")).fill_null(""),
            c.clean(player.struct.field("last_name")).fill_null(""),
        ],
        separator=" ",
    ).str.strip_chars()
    team_id = c.clean(player.struct.field("team_id"))
    status_raw = c.clean(pl.col("status"))
    frame = frame.with_columns(
        game_date=c.et_date(pl.col("reported_at")),
        player_name=pl.when(name.str.len_chars() > 0).then(name),
        player_lookup=identity.player_lookup_expr(name),
        team=team_id.cast(pl.Int64, strict=False).replace_strict(
            {t.balldontlie_id: t.tricode for t in identity.TEAMS}, default=None, return_dtype=pl.Utf8
        ),
        status_raw=status_raw,
        status=status_raw.str.to_lowercase().replace_strict(STATUS_MAP, default=None, return_dtype=pl.Utf8),
        description=c.clean(pl.col("description")),
        source=pl.lit(SOURCE),
    ).filter(pl.col("game_date").is_between(start, end))
    rules = [
        (pl.col("player_lookup").fill_null("") == "", "empty_player_name"),
        (pl.col("team").is_null(), c.reason_with_value("unknown_team", team_id)),
        (pl.col("status").is_null(), c.reason_with_value("unknown_status", pl.col("status_raw"))),
    ]
    frame = c.mark_duplicates(
        frame.with_columns(c.first_reason(rules)), key=[c.FILE_COL, "player_lookup"], per_file=True
    )
    quarantine.append(c.quarantine_rows(frame, ASSET))
    good = frame.filter(pl.col(c.REASON_COL).is_null())
    return Parsed(
        c.finish(good, schemas.INJURY_REPORT, schemas.INJURY_REPORT_KEY),
        c.combine_quarantine(quarantine, start, end),
        skipped,
    )


REPORT_TIMES = pl.Schema({"game_date": pl.Date, "reported_at": schemas.UTC_TS})


def report_times(data_dir: Path, start: date, end: date, as_of: datetime | None = None) -> pl.DataFrame:
    """(game_date, reported_at) of every report captured by `as_of` for a date in [start, end], from
    the file names alone (a report belongs to the ET date of its capture, as in `read_injuries`)."""
    c.check_range(start, end)
    as_of = check_as_of(as_of)
    found = [
        (day, dated.stamp)
        for dated in c.dated_files(data_dir / "injuries", "*.json", FILE_RE, FILE_FMT)
        if dated.stamp is not None
        and (as_of is None or dated.stamp <= as_of)
        and (day := c.et_date_of(dated.stamp)) is not None
        and start <= day <= end
    ]
    return pl.DataFrame(found, schema=REPORT_TIMES, orient="row").sort("game_date", "reported_at")
