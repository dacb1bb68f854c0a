"""Partition-aware freshness: a `partition_fresh` check on each asset with a daily deadline
(config/automation.yaml `deadlines`), shown on its Checks tab and executable from the UI, and the
`freshness_checks` sensor that records the same evaluations without launching a run."""

import json
from collections.abc import Iterator
from datetime import timedelta

import dagster as dg

from nba_props import freshness
from nba_props.lib.automation import load_automation_config
from nba_props.lib.freshness import expected_date, needs_recording
from nba_props.resources import ClockResource, ProviderResource
from nba_props.seasons import game_date_of

CONFIG = load_automation_config()


def _description(asset: str) -> str:
    rule = next(d for d in CONFIG.deadlines if d.asset == asset)
    return (
        f"the {rule.partition} partition (ET) exists by {rule.at:%H:%M} ET; "
        "dates without games (provider schedule) are never late"
    )


@dg.multi_asset_check(
    name="partition_fresh",
    specs=[
        dg.AssetCheckSpec(freshness.CHECK_NAME, asset=d.asset, description=_description(d.asset))
        for d in CONFIG.deadlines
    ],
    can_subset=True,
)
def partition_fresh(
    context: dg.AssetCheckExecutionContext, clock: ClockResource, provider: ProviderResource
) -> Iterator[dg.AssetCheckResult]:
    selected = {key.asset_key.to_user_string() for key in context.selected_asset_check_keys}
    rules = tuple(d for d in CONFIG.deadlines if d.asset in selected)
    results = {r.asset: r for r in freshness.evaluate(context.instance, provider.get(), clock.now(), rules)}
    for rule in rules:
        result = results.get(rule.asset)
        if result is None:  # before today's deadline: nothing is due yet
            day = expected_date(rule, clock.now()).isoformat()
            yield dg.AssetCheckResult(
                asset_key=rule.asset, check_name=freshness.CHECK_NAME, passed=True,
                metadata={"partition": day, "reason": f"not due before {rule.at:%H:%M} ET"},
            )  # fmt: skip
        else:
            yield dg.AssetCheckResult(
                asset_key=rule.asset,
                check_name=freshness.CHECK_NAME,
                passed=result.passed,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata=freshness.metadata(result),
                description=result.reason,
            )


@dg.sensor(
    name="freshness_checks",
    minimum_interval_seconds=CONFIG.freshness_sensor.minimum_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Evaluates the partition_fresh deadlines on the clock's 'now' and records them as runless "
    "check evaluations: once per (asset, date) after its deadline, then again when it changes (the recovery).",
)
def freshness_checks(
    context: dg.SensorEvaluationContext, clock: ClockResource, provider: ProviderResource
) -> dg.SkipReason:
    recorded: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    now = clock.now()
    try:
        results = freshness.evaluate(context.instance, provider.get(), now)
    except Exception as exc:  # the provider's schedule unavailable: keep the cursor, try next tick
        context.log.warning(f"freshness not evaluated: {type(exc).__name__}: {exc}")
        return dg.SkipReason(f"provider error: {type(exc).__name__}")
    written = []
    for result in results:
        key = f"{result.asset}|{result.partition}"
        if needs_recording(recorded.get(key), result):  # type: ignore[arg-type]
            context.instance.report_runless_asset_event(freshness.check_evaluation(result))
            recorded[key] = "pass" if result.passed else "fail"
            written.append(f"{key}={recorded[key]}")
    oldest = (game_date_of(now) - timedelta(days=CONFIG.freshness_sensor.keep_days)).isoformat()
    recorded = {k: v for k, v in recorded.items() if k.split("|")[1] >= oldest}
    context.update_cursor(json.dumps(recorded, sort_keys=True))
    return dg.SkipReason(f"recorded {', '.join(written)}" if written else f"{len(results)} due, nothing changed")
