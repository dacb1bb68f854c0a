"""Writing the published JSON files (`v1/...`): which files an asset writes for a date, the
content guard, the `current`-file rule and the degraded marker. Pure (no dagster); the builders of
the payloads are `lib/exports`. Rules: config/publish.yaml (`PublishConfig`).

A run of dates D1 .. Dn (a single-run backfill or one day) plans every file before writing any:
1. each date's payload is built and validated against its schema by re-parsing the encoded bytes
   (`Planned.valid`): a file that would not parse back is never written (blocking check);
2. the content guard, per file of date D: when the store already holds a file of the SAME date D
   at that path with `previous` picks (the config's `count_field`) and the new one has fewer
   than `min_ratio` x previous, the file is refused unless the upstream says why (the champion
   health gate was closed on D, or D has no games); a refused file leaves the old one in place
   and a `degraded` marker (`marker_path`) is written beside it;
3. a `current` file (the website's latest) is written only for the newest date of the run, and
   only when that date is >= the date the stored file holds (a re-run of an old date never turns
   it back); a dated file (`{date}` in its path) is always that date's.
Every write is atomic through the store (temporary file renamed over the old one).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from nba_props.lib.config_files import CONFIG_DIR, load_config
from nba_props.lib.ledger import WITHDRAWN
from nba_props.lib.steering import game_days

PUBLISH_CONFIG_PATH = CONFIG_DIR / "publish.yaml"
DATE_TOKEN = "{date}"


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileRule(_Rules):
    path: str = Field(min_length=1)
    current: bool = False

    @model_validator(mode="after")
    def _dated_or_current(self) -> FileRule:
        if self.current == (DATE_TOKEN in self.path):
            raise ValueError(f"{self.path!r}: a file is either dated ({DATE_TOKEN} in its path) or current, not both")
        if self.path.startswith("/") or ".." in self.path.split("/"):
            raise ValueError(f"{self.path!r}: a relative path inside the prefix")
        return self


class AssetFiles(_Rules):
    files: tuple[FileRule, ...] = Field(min_length=1)
    count_field: str = Field(min_length=1)


class GuardRule(_Rules):
    min_ratio: float = Field(gt=0, lt=1)


class PublishConfig(_Rules):
    prefix: str = Field(pattern=r"^[a-z0-9]+$")
    algorithm_files: tuple[str, ...] = Field(min_length=1)
    assets: dict[str, AssetFiles]
    content_guard: GuardRule

    def files_of(self, asset: str) -> tuple[FileRule, ...]:
        return self.assets[asset].files

    def relpath(self, rule: FileRule, day: date) -> str:
        return f"{self.prefix}/{rule.path.replace(DATE_TOKEN, day.isoformat())}"


def load_publish_config(path: str | Path | None = None) -> PublishConfig:
    return load_config(PublishConfig, path or PUBLISH_CONFIG_PATH)


def algorithm_version(config: PublishConfig, versions: Mapping[str, str], config_dir: Path = CONFIG_DIR) -> str:
    """'models-2.filters-1.rules-1a2b3c4d': the named config versions and a hash of the rule files'
    parsed content (a changed signal or feature rule changes it even when no version number is
    bumped; a comment or layout edit, e.g. the evidence written next to a rule, does not)."""
    digest = hashlib.sha256()
    for name in config.algorithm_files:
        digest.update(name.encode() + b"\0" + _canonical_content((config_dir / name).read_bytes()))
    named = ".".join(f"{k}-{v}" for k, v in versions.items())
    return f"{named}.rules-{digest.hexdigest()[:8]}"


@functools.lru_cache(maxsize=32)
def _canonical_content(raw: bytes) -> bytes:
    """A YAML file's parsed content as canonical JSON, remembered by its bytes: every publish
    asset asks for the version each run, and parsing the rule files costs ~0.1 s where reading
    them costs microseconds."""
    content = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return json.dumps(content, sort_keys=True, default=str).encode()


def marker_path(relpath: str) -> str:
    """The degraded marker beside a file: 'v1/best-bets/all.json' -> 'v1/best-bets/all.degraded.json'."""
    stem, dot, ext = relpath.rpartition(".")
    return f"{stem}.degraded.{ext}" if dot else f"{relpath}.degraded"


# ------------------------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class Stored:
    """What the store holds at a path now: the file's date and its count (None: no file, or not
    parseable: then it is simply replaced)."""

    day: date | None
    count: int | None


@dataclass(frozen=True)
class Planned:
    day: date
    relpath: str
    current: bool
    data: bytes
    count: int
    valid: bool
    error: str | None = None


@dataclass(frozen=True)
class Decision:
    planned: Planned
    write: bool
    degraded: bool
    reason: str  # why written / skipped / refused (one sentence)
    previous_count: int | None


def decide(
    planned: Sequence[Planned], stored: Mapping[str, Stored], excuses: Mapping[date, str], min_ratio: float
) -> list[Decision]:
    """What to do with each planned file of a run (see the module doc). `stored`: per relpath of a
    planned file, what the store holds; `excuses`: per date, the upstream's reason for few picks
    (health gate / no games)."""
    newest_current: dict[str, date] = {}
    for p in planned:
        if p.current and p.valid:
            newest_current[p.relpath] = max(p.day, newest_current.get(p.relpath, p.day))
    out = []
    for p in planned:
        held = stored.get(p.relpath, Stored(None, None))
        same_day_count = held.count if held.day == p.day else None
        if not p.valid:
            out.append(Decision(p, False, False, f"schema: {p.error}", same_day_count))
            continue
        if p.current and p.day != newest_current[p.relpath]:
            out.append(Decision(p, False, False, f"a newer date of the run ({newest_current[p.relpath]}) is written",
                                same_day_count))  # fmt: skip
            continue
        if p.current and held.day is not None and held.day > p.day:
            out.append(Decision(p, False, False, f"the stored file holds a newer date ({held.day})", same_day_count))
            continue
        if same_day_count and p.count < min_ratio * same_day_count:
            excuse = excuses.get(p.day)
            if excuse is None:
                out.append(Decision(p, False, True, f"content guard: {p.count} < {min_ratio:g} x {same_day_count} "
                                                    f"published before for {p.day}, and the upstream gives no reason",
                                    same_day_count))  # fmt: skip
                continue
            out.append(Decision(p, True, False, f"fewer than before ({p.count} < {same_day_count}): {excuse}",
                                same_day_count))  # fmt: skip
            continue
        out.append(Decision(p, True, False, "written", same_day_count))
    return out


def stored_of(data: bytes | None, count_field: str) -> Stored:
    """The date and count of a stored file's bytes (None, None when absent or unreadable)."""
    if data is None:
        return Stored(None, None)
    try:
        head = _stored_head(count_field).model_validate_json(data)
        counted = getattr(head, count_field)
        return Stored(date.fromisoformat(head.date), len(counted) if isinstance(counted, list) else None)
    except (ValueError, TypeError):  # (pydantic's ValidationError is a ValueError)
        return Stored(None, None)


@functools.cache
def _stored_head(count_field: str) -> type[BaseModel]:
    """The two fields the guard reads of a stored file, every other key skipped by pydantic's
    parser without building it (an admin file's ~1000 candidate rows: 0.3 ms against 0.9 ms for
    a full parse)."""
    return create_model(f"StoredHead_{count_field}", __config__=ConfigDict(extra="ignore"), date=(str, ...),
                        **{count_field: (Any, None)})  # fmt: skip


def excuses_of(
    schedule: pl.DataFrame, days: Sequence[date], *, best_bets: pl.DataFrame | None = None,
    ledger: pl.DataFrame | None = None,
) -> dict[date, str]:  # fmt: skip
    """Per day, the upstream's reason for fewer picks than a file published before: the champion
    health gate closed (its reason from `best_bets`), no game that is played (`steering.game_days`
    of the schedule), or picks the `ledger` withdrew before their tip (each with its reason: a
    withdrawn pick leaves the public files by the ledger's rules). `best_bets` needs game_date,
    health_gate_active, health_gate_reason; `schedule` game_date, status; `ledger` game_date,
    status, withdrawn_reason."""
    gates: dict[date, str | None] = {}
    if best_bets is not None:
        gate = (
            best_bets.filter(pl.col("health_gate_active").fill_null(False))
            .group_by("game_date")
            .agg(pl.col("health_gate_reason").drop_nulls().first())
        )
        gates = dict(gate.iter_rows())
    played = game_days(schedule)
    withdrawn: dict[date, tuple[int, str | None]] = {}
    if ledger is not None and ledger.height:
        rows = (
            ledger.filter(pl.col("status") == WITHDRAWN)
            .group_by("game_date")
            .agg(n=pl.len(), reason=pl.col("withdrawn_reason").drop_nulls().first())
        )
        withdrawn = {r["game_date"]: (r["n"], r["reason"]) for r in rows.iter_rows(named=True)}
    out = {}
    for day in days:
        if day in gates:
            out[day] = f"health gate closed ({gates[day] or 'champion blocked'})"
        elif day not in played:
            out[day] = "no games on the date"
        elif day in withdrawn:
            n, reason = withdrawn[day]
            out[day] = f"the ledger withdrew {n} pick(s) before their tip ({reason or 'no reason recorded'})"
    return out


def marker_payload(decision: Decision) -> dict[str, Any]:
    p = decision.planned
    return {"date": p.day.isoformat(), "path": p.relpath, "degraded": True, "reason": decision.reason,
            "previous_count": decision.previous_count, "refused_count": p.count}  # fmt: skip


# ------------------------------------------------------------------------------------ the table

FILES_SCHEMA = pl.Schema(
    {
        "game_date": pl.Date,
        "path": pl.Utf8,
        "current": pl.Boolean,
        "picks": pl.Int64,
        "bytes": pl.Int64,
        "sha256": pl.Utf8,
        "written": pl.Boolean,
        "degraded": pl.Boolean,
        "reason": pl.Utf8,
        "previous_picks": pl.Int64,
        "payload": pl.Utf8,
    }
)
FILES_KEY = ("game_date", "path")
FILES_DOC = {
    "game_date": "The partition's game date (ET) the file is about (its payload's `date`).",
    "path": "The file's path in the artifact store (under the prefix, config/publish.yaml).",
    "current": "The file is a 'latest' file (replaced only by a newer or equal date), not a dated one.",
    "picks": "What the content guard counts in the payload (config/publish.yaml count_field).",
    "bytes": "Size of the encoded JSON.",
    "sha256": "SHA-256 of the encoded JSON (the exact bytes written, or refused).",
    "written": "The file was written by this materialization (False: refused by the guard, or a newer date holds "
    "a current file).",
    "degraded": "The content guard refused the file: the old file stays and a degraded marker is written.",
    "reason": "Why written / skipped / refused.",
    "previous_picks": "The count of the file of the same date the store held before (NULL: none).",
    "payload": "The encoded JSON of a current file's date (kept even when not written: the current file moves on, "
    "each date's version stays here); NULL for a dated file (the file of that date is its own record).",
}


def files_rows(decisions: Sequence[Decision]) -> pl.DataFrame:
    rows = [
        {"game_date": d.planned.day, "path": d.planned.relpath, "current": d.planned.current,
         "picks": d.planned.count, "bytes": len(d.planned.data), "sha256": hashlib.sha256(d.planned.data).hexdigest(),
         "written": d.write, "degraded": d.degraded, "reason": d.reason, "previous_picks": d.previous_count,
         "payload": d.planned.data.decode("utf-8") if d.planned.current else None}
        for d in decisions
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=FILES_SCHEMA) if rows else pl.DataFrame(schema=FILES_SCHEMA)
