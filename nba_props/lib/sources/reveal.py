"""What a provider reveals as of an instant: final results after the games end, box scores after
their publication delay, a simulated "late data" fault (box scores of a date withheld until an
instant). Pure polars over the parsed frames; the numbers live in `config/sensors.yaml`
(`reveal:`, validated by `RevealRules`).

The files carry no publication time, so the rules below ARE the publication times:
- a game's result is known at tip + `game_duration_minutes`; before, a game the file says is final
  reads as `scheduled` (or `live` once tipped), without scores. Postponed and cancelled games, and
  games the file itself lists as not final, stay as they are (a rule only hides, never invents);
- a game's box scores are published at max(tip + `box_score_delay_minutes`, the withheld instant of
  its date, if any);
- a game without a tip time (the nba_api CSV schedules) is taken to tip at `unknown_tip_et` on its
  date, late in the evening, so nothing is revealed before it could exist.
`as_of=None` means no limit (production, backfills of the past): everything on disk, withheld
dates included.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from nba_props.lib import schemas
from nba_props.seasons import GAME_TZ

NOT_PLAYED = ("postponed", "cancelled")


class RevealRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    game_duration_minutes: int = Field(gt=0)
    box_score_delay_minutes: int = Field(ge=0)
    unknown_tip_et: time


def check_as_of(as_of: datetime | None) -> datetime | None:
    if as_of is not None and as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    return None if as_of is None else as_of.astimezone(UTC)


def parse_withheld(withheld: Mapping[str | date, str | datetime] | None) -> dict[date, datetime]:
    """{game date: instant} from ISO strings (the resource's form) or dates / aware datetimes."""
    parsed = {}
    for day, until in (withheld or {}).items():
        instant = datetime.fromisoformat(until) if isinstance(until, str) else until
        if instant.tzinfo is None:
            raise ValueError(f"box_scores_withheld_until[{day}]={until!r} needs a UTC offset")
        parsed[date.fromisoformat(day) if isinstance(day, str) else day] = instant.astimezone(UTC)
    return parsed


def tip_expr(rules: RevealRules) -> pl.Expr:
    """The game's tip (UTC): its own, else `unknown_tip_et` on its ET date."""
    assumed = (
        pl.col("game_date")
        .dt.combine(rules.unknown_tip_et)
        .dt.replace_time_zone(str(GAME_TZ), ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .cast(schemas.UTC_TS)
    )
    return pl.coalesce(pl.col("tip_time_utc").cast(schemas.UTC_TS), assumed)


def box_scores_available_at_expr(rules: RevealRules, withheld: Mapping[date, datetime]) -> pl.Expr:
    """When a game's box scores are published (needs game_date and tip_time_utc columns)."""
    published = tip_expr(rules) + pl.duration(minutes=rules.box_score_delay_minutes)
    if not withheld:
        return published
    until = pl.col("game_date").replace_strict(dict(withheld), default=None, return_dtype=schemas.UTC_TS)
    return pl.max_horizontal(published, until)


def schedule_as_of(rows: pl.DataFrame, as_of: datetime | None, rules: RevealRules) -> pl.DataFrame:
    """The schedule as known at `as_of` (see the module docstring)."""
    as_of = check_as_of(as_of)
    if as_of is None or rows.height == 0:
        return rows
    tip = tip_expr(rules)
    unknown = (pl.col("status") == "final") & (tip + pl.duration(minutes=rules.game_duration_minutes) > as_of)
    status = pl.when(unknown).then(pl.when(tip <= as_of).then(pl.lit("live")).otherwise(pl.lit("scheduled")))
    return rows.with_columns(
        status=status.otherwise(pl.col("status")),
        away_points=pl.when(unknown).then(None).otherwise(pl.col("away_points")),
        home_points=pl.when(unknown).then(None).otherwise(pl.col("home_points")),
    )


def box_scores_as_of(
    rows: pl.DataFrame,
    games: pl.DataFrame,
    as_of: datetime | None,
    rules: RevealRules,
    withheld: Mapping[date, datetime],
) -> tuple[pl.DataFrame, int]:
    """(rows published by `as_of`, number of rows held back). `games` (the schedule of the same
    dates: game_id, tip_time_utc) gives each game's tip; a game missing from it takes the assumed tip."""
    as_of = check_as_of(as_of)
    if as_of is None or rows.height == 0:
        return rows, 0
    tips = games.select("game_id", "tip_time_utc").unique("game_id")
    kept = (
        rows.join(tips, on="game_id", how="left", maintain_order="left")
        .filter((box_scores_available_at_expr(rules, withheld) <= as_of).fill_null(False))
        .select(rows.columns)
    )
    return kept, rows.height - kept.height
