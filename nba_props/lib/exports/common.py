"""Shared pieces of every published JSON file.

- `Export`: the base of every schema: unknown fields are an error (`extra="forbid"`), floats must
  be finite (`allow_inf_nan=False`), instances are frozen; dates serialize as ISO text, instants as
  ISO UTC text (`to_json_bytes`: the ONE encoding of the files, compact, fields in schema order).
- `Record`: wins / losses / pushes / total / pct of a set of graded picks (`record_of`): total =
  wins + losses + pushes (voids and pending never count), pct = wins / (wins + losses) in percent
  rounded to 1 decimal, NULL without a decided pick.
- `picks_frame`: the published picks of the ledger with their grading: every file's pick history
  (a published pick never disappears: the ledger is append-only).
- `season_scope`: the season a date belongs to (opening night of its season .. the date), from the
  one season calendar (`nba_props.seasons`): an October game belongs to the new season; the play-in
  and the playoffs stay in the season.
- `ADMIN_ONLY_FIELDS`: field names a public file must never contain (a test walks every public
  schema).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from nba_props import seasons
from nba_props.lib.grading import LOSS, PUSH, VOID, WIN
from nba_props.lib.ledger import LEDGER_SCHEMA, PICK_ACCURACY_SCHEMA, PUBLISHED

Direction = Literal["OVER", "UNDER"]
Result = Literal["WIN", "LOSS", "PUSH", "VOID"]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Edge = Annotated[float, Field(ge=0, allow_inf_nan=False)]  # an edge is a size; the side is `direction`
Pct = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class Export(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="null")


class Record(Export):
    wins: int = Field(ge=0)
    losses: int = Field(ge=0)
    pushes: int = Field(ge=0)
    total: int = Field(ge=0)
    pct: Pct | None


def record_of(results: pl.Series | list[str | None]) -> Record:
    """The record of graded results (WIN / LOSS / PUSH count; VOID and None (pending) do not)."""
    values = results.to_list() if isinstance(results, pl.Series) else list(results)
    wins, losses, pushes = values.count(WIN), values.count(LOSS), values.count(PUSH)
    decided = wins + losses
    pct = round(wins / decided * 100.0, 1) if decided else None
    return Record(wins=wins, losses=losses, pushes=pushes, total=decided + pushes, pct=pct)


# ------------------------------------------------------------------------------- the picks frame

# what the picks frame reads of each input (the asset loads only these columns)
LEDGER_COLUMNS = ("game_date", "game_id", "player_lookup", "player_name", "team", "opponent", "tip_time_utc",
                  "model_id", "family", "direction", "line", "edge", "predicted_points", "price", "rank", "ultra",
                  "angles", "signals", "status", "published_at")  # fmt: skip
GRADED_COLUMNS = ("game_id", "player_lookup", "actual_points", "result", "void_reason", "profit")
BEST_BETS_COLUMNS = ("game_date", "game_id", "player_lookup", "ultra_public")
KEY = ("game_id", "player_lookup")
# The columns of `picks_frame` (what every builder reads): the ledger's as published, `ultra_public`
# (the pick may be shown as ultra: best_bets' gate, UNDER or OVER once the graded ultra OVER record
# allows it; False when best_bets has no row for it), then the grading (`result` WIN / LOSS / PUSH /
# VOID, NULL while pending). Types from the tables' own schemas.
PICKS_SCHEMA = pl.Schema(
    {
        **{c: LEDGER_SCHEMA[c] for c in LEDGER_COLUMNS},
        "ultra_public": pl.Boolean,
        **{c: PICK_ACCURACY_SCHEMA[c] for c in GRADED_COLUMNS if c not in KEY},
    }
)


def picks_frame(ledger: pl.DataFrame, graded: pl.DataFrame, best_bets: pl.DataFrame) -> pl.DataFrame:
    """The PUBLISHED picks of `ledger` (published_picks rows; withdrawn and late picks are never
    shown publicly) with their grading from `graded` (pick_accuracy rows: NULL result = pending)
    and `ultra_public` from `best_bets`; sorted by date and rank. Columns: PICKS_SCHEMA."""
    shown = ledger.select(LEDGER_COLUMNS).filter(pl.col("status") == PUBLISHED)
    grading = graded.select(GRADED_COLUMNS).unique(KEY, keep="last")
    ultra = best_bets.select(BEST_BETS_COLUMNS).drop("game_date").unique(KEY, keep="last")
    out = (
        shown.join(grading, on=KEY, how="left")
        .join(ultra, on=KEY, how="left")
        .with_columns(
            pl.col("ultra_public").fill_null(False) & pl.col("ultra").fill_null(False),
            # a VOID is never a pending pick, a pending pick has no actual
            pl.when(pl.col("result") == VOID).then(None).otherwise(pl.col("actual_points")).alias("actual_points"),
        )
    )
    return out.select(pl.col(c).cast(t) for c, t in PICKS_SCHEMA.items()).sort("game_date", "rank", *KEY)


# ------------------------------------------------------------------------------- season scope


def season_scope(day: date) -> tuple[str, date]:
    """(season label, first day of the scope) of `day`: its season's opening night (the day itself
    in the off-season before it, so a scope is never empty of its own date)."""
    season = seasons.season_of(day)
    return season.label, min(season.opening_night, day)


# ------------------------------------------------------------------------------- encoding


# column types whose polars JSON is byte-identical to pydantic's (a test compares them)
_ROW_TYPES = (pl.String, pl.Float64, pl.Int64, pl.Boolean)


def to_json_bytes(model: BaseModel, rows: Mapping[str, pl.DataFrame] | None = None) -> bytes:
    """The one encoding of a published file: compact JSON of the model (fields in schema order,
    dates ISO, instants ISO UTC), newline-terminated. `rows`: list fields the model holds empty,
    given as frames (columns in the field's key order) and encoded by polars: rows of text,
    floats, ints, booleans and nulls come out byte for byte as pydantic encodes them as dicts
    (NaN / inf as null either way), without building ~1000 dicts a day (an admin picks file)."""
    data = model.model_dump_json().encode("utf-8")
    for field, frame in (rows or {}).items():
        empty = f'"{field}":[]'.encode()
        if getattr(model, field) != [] or data.count(empty) != 1:
            raise ValueError(f"{type(model).__name__}.{field}: rows given as a frame need the field empty in the model")
        odd = {c: str(t) for c, t in frame.schema.items() if t not in _ROW_TYPES}
        if odd:
            raise ValueError(f"{type(model).__name__}.{field}: columns {odd} have no byte-identical polars encoding")
        data = data.replace(empty, f'"{field}":'.encode() + frame.write_json().encode("utf-8"))
    return data + b"\n"


def utc_iso(instant: datetime) -> str:
    """'2025-11-02T17:05:00Z'."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------- public vs admin

# Names a public file never carries: which model made a pick, the internals of the selection
# (signals, filters, confidence, predicted points), the ledger's bookkeeping, alerts.
ADMIN_ONLY_FIELDS = frozenset({
    "model_id", "family", "source_model", "feature_set", "predicted_points", "p_over", "confidence", "signals",
    "shadow_signals", "rejected_by", "observed_by", "filter", "filter_summary", "feature_quality_score", "quality",
    "run_id", "published_at", "withdrawn_at", "withdrawn_reason", "status_reason", "alerts", "open_alerts",
    "candidates", "blacklist", "price", "profit",
})  # fmt: skip


def field_names(model: type[BaseModel]) -> Iterator[str]:
    """Every field name of a schema, nested models and lists of models included."""
    seen: set[type] = set()

    def walk(cls: type[BaseModel]) -> Iterator[str]:
        if cls in seen:
            return
        seen.add(cls)
        for name, info in cls.model_fields.items():
            yield name
            yield from _models_in(info.annotation, walk)

    yield from walk(model)


def _models_in(annotation: Any, walk) -> Iterator[str]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from walk(annotation)
        return
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _models_in(arg, walk)
