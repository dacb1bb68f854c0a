"""Partition-aware freshness: does the partition of the expected date exist by its deadline?

Dagster's freshness policies look at the newest materialization of any partition (a backfill of
old days makes an asset look fresh); these deadlines ask about one date. Pure logic: the caller
gives the deadlines, "now", the dates with games and the materialized partitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from nba_props.lib.automation import Deadline
from nba_props.seasons import GAME_TZ, game_date_of

Status = Literal["pass", "fail"]


@dataclass(frozen=True)
class FreshnessResult:
    asset: str
    partition: str  # the expected game date, YYYY-MM-DD
    due_at: datetime  # the deadline instant (aware, ET)
    passed: bool
    reason: str


def expected_date(deadline: Deadline, now: datetime) -> date:
    today = game_date_of(now)
    return today if deadline.partition == "today" else today - timedelta(days=1)


def due_at(deadline: Deadline, now: datetime) -> datetime:
    """Today's deadline instant in ET (zoneinfo gives the right offset on DST days)."""
    return datetime.combine(game_date_of(now), deadline.at, tzinfo=GAME_TZ)


def evaluate(
    deadlines: Iterable[Deadline],
    now: datetime,
    game_dates: Iterable[date],
    materialized: Mapping[str, Iterable[str]],
) -> list[FreshnessResult]:
    """One result per deadline already due at `now` (a deadline not yet due gives none)."""
    games = set(game_dates)
    results = []
    for deadline in deadlines:
        due = due_at(deadline, now)
        if now < due:
            continue
        day = expected_date(deadline, now)
        key = day.isoformat()
        when = f"{deadline.partition} ({key}) by {deadline.at:%H:%M} ET"
        if day not in games:
            results.append(FreshnessResult(deadline.asset, key, due, True, f"no games on {key}: nothing due"))
        elif key in set(materialized.get(deadline.asset, ())):
            results.append(FreshnessResult(deadline.asset, key, due, True, f"partition {when}: present"))
        else:
            results.append(FreshnessResult(deadline.asset, key, due, False, f"partition {when}: missing"))
    return results


def needs_recording(previous: Status | None, result: FreshnessResult) -> bool:
    """Record the first evaluation of an (asset, date) after its deadline, then only a change
    (a failing one passing is the recovery): a sensor tick every minute must not spam."""
    status: Status = "pass" if result.passed else "fail"
    return previous != status
