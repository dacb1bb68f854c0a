"""TEMPORARY stand-in, DELETE THIS FILE when merging with the branch that defines the
`prediction_accuracy` asset (issue 10, part 1): `market_regime` reads it through a history input,
and Dagster refuses an input whose asset is not defined. Left in after that merge, the code
location fails to load with a duplicate asset key (loud, never silently wrong)."""

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import column_schema, labels
from nba_props.partitions import game_date_partitions

# The shared contract of issue 10 (the real asset registers it in lib/tables.py).
CONTRACT = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "player_lookup": pl.Utf8,
        "model_id": pl.Utf8,
        "family": pl.Utf8,
        "predicted_points": pl.Float64,
        "actual_points": pl.Float64,
        "line": pl.Float64,
        "market_type": pl.Utf8,
        "edge": pl.Float64,
        "direction": pl.Utf8,
        "p_over": pl.Float64,
        "confidence": pl.Float64,
        "recommendation": pl.Utf8,
        "quarantined": pl.Boolean,
        "over_price": pl.Int32,
        "under_price": pl.Int32,
        "price": pl.Int32,
        "game_status": pl.Utf8,
        "result": pl.Utf8,
        "void_reason": pl.Utf8,
        "abs_error": pl.Float64,
        "signed_error": pl.Float64,
        "graded_at": pl.Datetime(time_unit="us", time_zone="UTC"),
    }
)

prediction_accuracy_stand_in = dg.AssetSpec(
    "prediction_accuracy",
    description="Stand-in (external) for the graded predictions asset defined on another branch.",
    group_name="sources",
    partitions_def=game_date_partitions,
    metadata={
        "partition_expr": "game_date",
        "dagster/column_schema": column_schema(
            "prediction_accuracy", CONTRACT, {name: "See the prediction_accuracy contract." for name in CONTRACT}
        ),
    },
    **labels("sources", "external"),
)
