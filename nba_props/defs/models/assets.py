"""Model assets: weekly walk-forward `trained_models` and daily per-model `predictions`.

A week's models see only games before its Monday (ET); a date's predictions use the models
of its own week, so a season backfill is an honest walk-forward.
"""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import (
    check_spec,
    column_schema,
    counts_of,
    daily_asset_kwargs,
    labels,
    record_partition_metadata,
    rows_check,
    unique_key_spec,
)
from nba_props.io.artifacts import ArtifactStoreResource
from nba_props.io.io_manager import WarehouseResource
from nba_props.lib import schemas, tables
from nba_props.lib.features.contract import load_contract
from nba_props.lib.ingest_checks import duplicate_keys
from nba_props.lib.models import runner
from nba_props.lib.models.predict import DIRECTIONS
from nba_props.lib.models.registry import load_models_config
from nba_props.partitions import date_range_of, training_week_partitions
from nba_props.resources import SettingsResource
from nba_props.seasons import week_starts

GROUP = "models"
WARN = dg.AssetCheckSeverity.WARN
MODELS_CONFIG = load_models_config()
CONTRACT = load_contract()
PREDICTIONS = MODELS_CONFIG.predictions  # the clamp and quarantine thresholds the checks report
QUARANTINE = PREDICTIONS.quarantine


@dg.asset(
    name="trained_models",
    description="Every enabled model family trained on quality-ready rows before the week's Monday: "
    "registry row (family, loss, window, features + hash, metrics, governance, lifecycle, artifact).",
    group_name=GROUP,
    **labels(GROUP, "weekly"),
    partitions_def=training_week_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"catboost", "duckdb", "polars"},
    pool="duckdb",
    deps=["player_features", "box_scores", "player_lines"],
    metadata={"dagster/column_schema": column_schema("trained_models"), "partition_expr": "week_start"},
    check_specs=[
        check_spec("trained_models", "unique_key", "(week_start, family) is unique", blocking=True),
        check_spec(
            "trained_models",
            "train_before_week",
            "every model's training and evaluation end before its week",
            blocking=True,
        ),
        check_spec("trained_models", "valid_lifecycle", "lifecycle state is one of the registry's states"),
    ],
)
def trained_models(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    artifacts: ArtifactStoreResource,
    settings: SettingsResource,
) -> Iterator:
    first, last = date_range_of(context.partition_time_window)
    weeks = week_starts(first, last)
    store = warehouse.warehouse()
    # each family then keeps its own window of game dates (spanning the off-season)
    history_start = weeks[0] - timedelta(days=MODELS_CONFIG.training.history_days)
    features = store.load(
        "player_features",
        start=history_start,
        end=weeks[-1] - timedelta(days=1),
        declared=tables.TABLE_SCHEMAS["player_features"],
    )
    box = store.load("box_scores", start=history_start, end=weeks[-1] - timedelta(days=1), declared=schemas.BOX_SCORES)
    # the chosen lines' market and prices: which rows the P(over) calibration uses
    lines = store.load(
        "player_lines",
        start=history_start,
        end=weeks[-1] - timedelta(days=1),
        declared=tables.TABLE_SCHEMAS["player_lines"],
    )
    outcome = runner.train_weeks(features, box, weeks, MODELS_CONFIG, CONTRACT, artifacts.store(), lines=lines)
    rows = outcome.registry
    record_partition_metadata(
        context,
        rows,
        column="week_start",
        figures={
            "models": pl.len(),
            "families": pl.col("family").n_unique(),
            "n_train": pl.col("n_train").sum(),
        },
    )
    yield dg.Output(
        rows,
        metadata={
            "run_models": rows.height,
            "weeks": len(weeks),
            "skipped": dg.MetadataValue.json(outcome.skipped),
            "run_lifecycle": dg.MetadataValue.json(counts_of(rows, "lifecycle_state")),
            "run_eval_mae_by_family": dg.MetadataValue.json(outcome.mae_by_family),
            "fit_seconds": round(outcome.fit_seconds, 1),
            "champion_family": MODELS_CONFIG.champion,
            "models_config_version": MODELS_CONFIG.version,
            "settings": settings.metadata(),
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, tables.TABLE_KEYS["trained_models"]))
    yield rows_check(
        "train_before_week",
        rows.filter((pl.col("train_end") >= pl.col("week_start")) | (pl.col("eval_end") >= pl.col("week_start"))),
    )
    yield rows_check("valid_lifecycle", rows.filter(~pl.col("lifecycle_state").is_in(runner.LIFECYCLE_STATES)))


@dg.asset(
    **daily_asset_kwargs(
        "predictions",
        "Per model and quality-ready player: predicted points, line, edge + direction, calibrated "
        "P(over), confidence, recommendation; poisoned model-days quarantined (kept, marked).",
        GROUP,
    ),
    ins={
        "features": dg.AssetIn("player_features"),
        "lines": dg.AssetIn("player_lines"),
        # No same-day box_scores / schedule: with eager automation, the games finishing would
        # re-run the day's predictions. Realized accuracy is `prediction_accuracy`'s (defs/grading).
        "registry": dg.AssetIn("trained_models", partition_mapping=dg.TimeWindowPartitionMapping()),
    },
    check_specs=[
        unique_key_spec("predictions"),
        check_spec(
            "predictions",
            "values_in_range",
            f"predicted points in [{PREDICTIONS.min_points:g}, {PREDICTIONS.max_points:g}], "
            "p_over and confidence in [0, 1]",
        ),
        check_spec(
            "predictions",
            "no_quarantined_model_days",
            f"no game of a model-day looks poisoned (>{QUARANTINE.max_one_direction:.0%} one side or "
            f"|bias| > {QUARANTINE.max_mean_bias:g} over lines posted by its tip)",
        ),
    ],
)
def predictions(
    context: dg.AssetExecutionContext,
    features: pl.DataFrame,
    lines: pl.DataFrame,
    registry: pl.DataFrame,
    artifacts: ArtifactStoreResource,
    settings: SettingsResource,
) -> Iterator:
    start, end = date_range_of(context.partition_time_window)
    outcome = runner.predict_days(
        features, registry, MODELS_CONFIG, artifacts.store(), start=start, end=end, lines=lines
    )
    rows = outcome.predictions
    record_partition_metadata(
        context,
        rows,
        figures={
            "players": pl.col("player_lookup").n_unique(),
            "recommended": pl.col("recommendation").is_in(DIRECTIONS).sum(),
            "quarantined_rows": pl.col("quarantined").sum(),
            **{f"predictions_{f.id}": (pl.col("family") == f.id).sum() for f in MODELS_CONFIG.families},
            **{
                f"recommended_{f.id}": ((pl.col("family") == f.id) & pl.col("recommendation").is_in(DIRECTIONS)).sum()
                for f in MODELS_CONFIG.families
            },  # fmt: skip
        },
    )
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "models_used": dg.MetadataValue.json(outcome.models_used),
            "families_without_model": dg.MetadataValue.json(outcome.missing),
            "run_recommendations": dg.MetadataValue.json(counts_of(rows, "recommendation")),
            "run_quarantined_rows": int(rows["quarantined"].sum()) if rows.height else 0,
            "settings": settings.metadata(),
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, tables.TABLE_KEYS["predictions"]))
    yield rows_check(
        "values_in_range",
        rows.filter(
            ~pl.col("predicted_points").is_between(PREDICTIONS.min_points, PREDICTIONS.max_points)
            | (pl.col("p_over").is_not_null() & ~pl.col("p_over").is_between(0, 1))
            | (pl.col("confidence").is_not_null() & ~pl.col("confidence").is_between(0, 1))
        ),
        min_points=PREDICTIONS.min_points,
        max_points=PREDICTIONS.max_points,
    )
    yield rows_check(
        "no_quarantined_model_days",
        rows.filter(pl.col("quarantined")).select("game_date", "model_id", "quarantine_reason").unique(),
        severity=WARN,
        quarantine_rules=dg.MetadataValue.json(QUARANTINE.model_dump(mode="json")),
    )
