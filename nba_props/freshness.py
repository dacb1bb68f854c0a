"""Partition-aware freshness glue: the deadlines of config/automation.yaml evaluated against the
instance (materialized partitions) and the provider's schedule (dates with games), shared by
the `partition_fresh` checks and the `freshness_checks` sensor. Pure logic: lib/freshness.py."""

from __future__ import annotations

from datetime import date, datetime

import dagster as dg

from nba_props.lib import freshness
from nba_props.lib.automation import Deadline, load_automation_config
from nba_props.lib.freshness import FreshnessResult
from nba_props.lib.sources.base import Provider
from nba_props.partitions import is_partition_day

CHECK_NAME = "partition_fresh"
# A date whose every game was postponed or cancelled has nothing due.
NOT_PLAYED = ("postponed", "cancelled")


def run_check_selection(graph, keys) -> set[dg.AssetCheckKey]:
    """The checks a run of the assets `keys` executes: all of theirs except `partition_fresh`, which
    the freshness sensor evaluates on its own clock (selecting assets would select it too)."""
    keys = set(keys)
    return {key for key in graph.asset_check_keys if key.asset_key in keys} - check_keys()


def deadlines() -> tuple[Deadline, ...]:
    return load_automation_config().deadlines


def game_dates(provider: Provider, days: set[date]) -> set[date]:
    """The dates among `days` with at least one game to be played, per the provider's schedule
    (not the warehouse: a run may hold its DuckDB lock)."""
    if not days:
        return set()
    rows = provider.schedule(min(days), max(days)).rows
    played = rows.filter(~rows["status"].is_in(NOT_PLAYED))
    return set(played["game_date"].to_list()) & days


def has_partition(instance: dg.DagsterInstance, asset: str, key: str) -> bool:
    # the partition keys only (one indexed query), not the newest materialization's whole record
    return key in instance.get_materialized_partitions(dg.AssetKey(asset))


def evaluate(
    instance: dg.DagsterInstance, provider: Provider, now: datetime, rules: tuple[Deadline, ...] | None = None
) -> list[FreshnessResult]:
    rules = deadlines() if rules is None else rules
    # a date outside the configured partition range (NBA_PROPS_PARTITION_SEASONS) is never expected
    due = [d for d in rules if now >= freshness.due_at(d, now) and is_partition_day(freshness.expected_date(d, now))]
    days = {freshness.expected_date(d, now) for d in due}
    with_games = game_dates(provider, days)
    materialized = {
        d.asset: [key]
        for d in due
        if has_partition(instance, d.asset, key := freshness.expected_date(d, now).isoformat())
    }
    return freshness.evaluate(due, now, with_games, materialized)


def metadata(result: FreshnessResult) -> dict[str, object]:
    return {"partition": result.partition, "due_at": result.due_at.isoformat(), "reason": result.reason}


def check_evaluation(result: FreshnessResult) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(result.asset),
        check_name=CHECK_NAME,
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata(result),
        description=result.reason,
    )


def check_keys() -> set[dg.AssetCheckKey]:
    return {dg.AssetCheckKey(dg.AssetKey(d.asset), CHECK_NAME) for d in deadlines()}


def check_selection() -> dg.AssetSelection:
    """The partition_fresh checks: jobs and runs leave them out (a backfill of old days must not
    evaluate today's deadlines); the sensor and the UI evaluate them."""
    return dg.AssetSelection.checks(*check_keys())
