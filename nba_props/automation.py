"""Automation conditions and freshness policies, applied in ONE place (`definitions.py`) to every
asset spec the loader finds, from the rules in config/automation.yaml: an asset a later issue
adds joins by default.

- Derived game-date assets get "eager with lookback" (`eager_with_lookback`); ingest assets
  (sensors), trained_models (the training sensor) and model_evaluation (a report) get none.
- Every asset gets its freshness policy (or the default; `null` in the config means none).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta

import dagster as dg

from nba_props.lib.automation import AutomationConfig, PolicyRule, load_automation_config
from nba_props.partitions import GAME_TZ_NAME, game_date_partitions

AC = dg.AutomationCondition


def eager_with_lookback(
    lookback_days: int,
    blockers: Sequence[dg.AssetKey] = (),
    *,
    triggers: Sequence[dg.AssetKey] | None = None,
    ignored: Sequence[dg.AssetKey] = (),
) -> dg.AutomationCondition:
    """`eager()` over the latest `lookback_days` partitions (eager alone never requests
    yesterday), requested when newly missing or a dependency updated; held back while the
    partition or a dependency runs, after an upstream blocking check failed, and while a
    same-day must-have input (`blockers`, identity / same-period deps) is missing. Unlike
    `eager()`, a missing partition of a history window (a day without games) never holds it back.
    With `triggers` (post-game assets) it is requested only when one of those dependencies
    updated: neither a new day's partition nor another input's update requests it. An update of an
    `ignored` dependency requests nothing (a pre-game asset and its day's schedule turning final)."""
    if triggers is None:
        updated = AC.any_deps_updated()
        if ignored:
            updated = updated.ignore(dg.AssetSelection.assets(*ignored))
        trigger = AC.newly_missing() | updated
    else:
        trigger = AC.any_deps_updated().allow(dg.AssetSelection.assets(*triggers))
    condition = (
        AC.in_latest_time_window(lookback_delta=timedelta(days=lookback_days))
        & trigger.since_last_handled()
        & ~AC.in_progress()
        & ~AC.any_deps_in_progress()
        & ~AC.any_deps_match(AC.any_checks_match(AC.check_failed(), blocking_only=True)).with_label(
            "any_deps_blocking_check_failed"
        )
    )
    if blockers:
        condition = condition & ~(
            AC.any_deps_match(AC.missing() & ~AC.will_be_requested())
            .allow(dg.AssetSelection.assets(*blockers))
            .with_label("same_day_input_missing")
        )
    return condition.with_label(f"eager_with_lookback({lookback_days}d)")


def freshness_policy(rule: PolicyRule | None) -> dg.FreshnessPolicy | None:
    if rule is None:
        return None
    if rule.time_window is not None:
        window = rule.time_window
        warn = None if window.warn_hours is None else timedelta(hours=window.warn_hours)
        return dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=window.fail_hours), warn_window=warn)
    assert rule.cron is not None
    return dg.FreshnessPolicy.cron(
        deadline_cron=rule.cron.deadline,
        lower_bound_delta=timedelta(hours=rule.cron.lower_bound_hours),
        timezone=GAME_TZ_NAME,
    )


def _same_period(dep: dg.AssetDep) -> bool:
    """A dependency read for the partition's own day (or the week containing it)."""
    mapping = dep.partition_mapping
    if mapping is None or isinstance(mapping, dg.IdentityPartitionMapping):
        return True
    return isinstance(mapping, dg.TimeWindowPartitionMapping) and mapping.start_offset == mapping.end_offset == 0


def is_derived_daily(spec: dg.AssetSpec, config: AutomationConfig) -> bool:
    rules = config.conditions
    return (
        spec.partitions_def == game_date_partitions
        and spec.group_name not in rules.excluded_groups
        and spec.key.to_user_string() not in rules.excluded_assets
    )


def condition_for(spec: dg.AssetSpec, config: AutomationConfig) -> dg.AutomationCondition | None:
    if not is_derived_daily(spec, config):
        return None
    name = spec.key.to_user_string()
    deps = {dep.asset_key.to_user_string(): dep for dep in spec.deps}
    blockers = config.conditions.same_day_blockers.get(name, ())
    for blocker in blockers:
        if blocker not in deps:
            raise ValueError(f"automation.yaml: {name}'s same-day blocker {blocker!r} is not one of its inputs")
        if not _same_period(deps[blocker]):
            raise ValueError(
                f"automation.yaml: {name}'s blocker {blocker!r} is read through a history window; only "
                "same-day inputs may block (days without games are never materialized)"
            )
    # a pre-game asset's day is settled once its games start: today only (see automation.yaml)
    pre_game = name in config.conditions.pre_game_assets
    lookback = 1 if pre_game else config.conditions.lookback_days
    ignored = [dg.AssetKey(a) for a in config.conditions.pre_game_ignored_updates if pre_game and a in deps]
    triggers = config.conditions.post_game_assets.get(name)
    for trigger in triggers or ():
        if trigger not in deps:
            raise ValueError(f"automation.yaml: {name}'s post-game trigger {trigger!r} is not one of its inputs")
    return eager_with_lookback(
        lookback,
        [dg.AssetKey(b) for b in blockers],
        triggers=None if triggers is None else [dg.AssetKey(t) for t in triggers],
        ignored=ignored,
    )


def with_automation(spec: dg.AssetSpec, config: AutomationConfig | None = None) -> dg.AssetSpec:
    """`spec` with its automation condition and freshness policy from the config. A condition
    set by hand on an asset wins (none is today)."""
    config = config or load_automation_config()
    condition = spec.automation_condition or condition_for(spec, config)
    policy = freshness_policy(config.freshness_policies.rule_for(spec.key.to_user_string()))
    return spec.replace_attributes(automation_condition=condition, freshness_policy=policy)


def apply_automation(defs: dg.Definitions, config: AutomationConfig | None = None) -> dg.Definitions:
    config = config or load_automation_config()
    with warnings.catch_warnings():  # map_resolved_asset_specs is "preview" in 1.13
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return defs.map_resolved_asset_specs(func=lambda spec: with_automation(spec, config))
