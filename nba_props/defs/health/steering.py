"""`steering_report` (daily, after the games): ONE recommendation per game date by the
original's decision tree, with the model health table, signal health, market regime colours, the
best-bets record, risk factors, the alerts open as of the report's deadline and the observe-mode
filters' graded outcome. Markdown in each
partition's metadata, a row in the warehouse, and `reports/steering/{date}.md` / `.json` written
through the artifact store. Rules: config/steering.yaml; logic: lib/steering.py."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import (
    add_partitions_metadata,
    check_spec,
    daily_asset_kwargs,
    rows_check,
    unique_key_spec,
)
from nba_props.io.artifacts import ArtifactStore, ArtifactStoreResource, dumps_json
from nba_props.lib import health, steering, tables
from nba_props.lib.automation import load_automation_config
from nba_props.lib.ingest_checks import duplicate_keys
from nba_props.lib.models.registry import load_models_config
from nba_props.partitions import DATE_FMT, date_range_of, days_around, history_input, last_n_game_days

GROUP = "health"
ASSET = steering.TABLE
HEALTH = health.load_health_config()
CONFIG = steering.load_steering_config().check_against(HEALTH)
SEED = load_models_config().champion  # the configured champion; the day's champion is chosen by evidence
HISTORY = last_n_game_days(CONFIG.history_days)
SCHEDULE = CONFIG.schedule
# open alerts as of the report's own deadline (config/automation.yaml `deadlines`, never typed twice)
_DEADLINE = next((d for d in load_automation_config().deadlines if d.asset == ASSET), None)
if _DEADLINE is None:
    raise ValueError(f"config/automation.yaml deadlines: no entry for {ASSET} (its open alerts are taken at it)")
ALERTS_CUTOFF = steering.AlertsCutoff.from_deadline(_DEADLINE)


def write_report(store: ArtifactStore, report: steering.Report) -> dict[str, int]:
    """The day's markdown and JSON, each written atomically by the store (a temporary file renamed
    over the old one: a failed write leaves the old file). Returns {relative path: bytes}."""
    files = steering.report_files(report, dumps_json)
    for path, data in files.items():
        store.write_bytes(path, data)
    return {path: len(data) for path, data in files.items()}


@dg.asset(
    **daily_asset_kwargs(
        ASSET,
        f"After the games: ONE recommendation ({', '.join(steering.RECOMMENDATIONS)}) for the day's champion "
        f"(chosen by evidence, seeded by {SEED}; the automatic switch for the next day named) by the decision tree of config/steering.yaml, with the model health table, signal health, "
        f"market regime colours, the best-bets record ({'/'.join(CONFIG.record_labels)} and per day), risk factors, "
        f"the alerts open as of {ALERTS_CUTOFF.describe()} and the observe-mode filters' graded outcome; also "
        "reports/steering/{date}.md and .json.",
        GROUP,
    ),
    ins={
        "performance": dg.AssetIn("model_performance_daily"),
        "signal_health": dg.AssetIn("signal_health_daily"),
        "regime": dg.AssetIn("market_regime"),
        # season to date (and the record / observe windows): derived, SteeringConfig.history_days
        "picks": history_input("pick_accuracy", HISTORY),
        "best_bets": history_input("best_bets", HISTORY),
        "accuracy": history_input("prediction_accuracy", HISTORY),
        # the champion's newest model within the stale window (older: stale)
        "registry": dg.AssetIn("trained_models", partition_mapping=last_n_game_days(CONFIG.retrain.stale_days)),
        "schedule": history_input("schedule", days_around(SCHEDULE.look_behind_days, SCHEDULE.look_ahead_days)),
        # unpartitioned (the alert sink's table, every alert with its raise / recovery times): the
        # whole table, filtered to each day's cutoff; empty before any alert was raised
        "alerts": dg.AssetIn("alerts"),
    },
    check_specs=[
        unique_key_spec(ASSET),
        check_spec(
            ASSET,
            "one_recommendation",
            "exactly one row per day of the run, its recommendation from "
            f"the allowed set ({', '.join(steering.RECOMMENDATIONS)})",
        ),  # fmt: skip
    ],
)
def steering_report(
    context: dg.AssetExecutionContext,
    artifacts: ArtifactStoreResource,
    performance: pl.DataFrame,
    signal_health: pl.DataFrame,
    regime: pl.DataFrame,
    picks: pl.DataFrame,
    best_bets: pl.DataFrame,
    accuracy: pl.DataFrame,
    registry: pl.DataFrame,
    schedule: pl.DataFrame,
    alerts: pl.DataFrame,
) -> Iterator:
    start, end = date_range_of(context.partition_time_window)
    inputs = steering.Inputs(performance, signal_health, regime, picks, best_bets, accuracy, registry, schedule, alerts)
    rows, reports = steering.build_reports(inputs, start, end, champion=SEED, config=CONFIG, health_config=HEALTH,
                                           cutoff=ALERTS_CUTOFF)  # fmt: skip
    store = artifacts.store()
    row_of = {r["game_date"]: r for r in rows.iter_rows(named=True)}
    per_day: dict[str, dict[str, object]] = {}
    for report in reports:
        files = write_report(store, report)
        r = row_of[report.day]
        figures = {"steering_report": dg.MetadataValue.md(report.markdown), "dagster/row_count": 1,
                   "recommendation": report.recommendation.recommendation,
                   "recommendation_code": report.recommendation.code, "risk_factors": len(r["risk_factors"]),
                   "champion": r["champion"], "next_champion": r["next_champion"],
                   "champion_switch": int(r["champion_switch"]),
                   "open_alerts": report.open_alerts, "open_model_health_alerts": report.open_model_health_alerts,
                   **{f"files/{path}": dg.MetadataValue.path(store.uri(path)) for path in files},
                   **{f"bytes/{path.rsplit('.', 1)[-1]}": size for path, size in files.items()}}  # fmt: skip
        for lb in CONFIG.record_labels:
            figures |= {f"bb_n_{lb}": r[f"bb_n_{lb}"], **({f"bb_hr_{lb}": r[f"bb_hr_{lb}"]} if r[f"bb_hr_{lb}"]
                                                        is not None else {})}  # fmt: skip
        per_day[report.day.strftime(DATE_FMT)] = figures
    add_partitions_metadata(context, per_day, asset_key=ASSET)
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "seed_champion": SEED,
            "run_champion_switches": int(rows.get_column("champion_switch").sum()),
            "run_recommendations": dg.MetadataValue.json(
                {k: int(v) for k, v in rows.group_by("recommendation").len().sort("recommendation").iter_rows()}
            ),
            "steering_config": dg.MetadataValue.json(CONFIG.model_dump(mode="json")),
            "alerts_as_of": ALERTS_CUTOFF.describe(),
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, tables.TABLE_KEYS[ASSET]))
    yield rows_check("one_recommendation", steering.invalid_rows(rows, start, end))
