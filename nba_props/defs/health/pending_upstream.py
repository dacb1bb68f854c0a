"""PLACEHOLDER for `prediction_accuracy` until the grading branch (issue 10, section 1) merges:
an external spec with the real asset's key, partitions and partition column, so that this
branch's definitions load and `model_performance_daily` can read the table through its history
input. Its schema is registered in lib/tables under the same PLACEHOLDER note, so a missing table
reads as empty and the main job runs. DELETE THIS FILE and those lines when
`nba_props/defs/grading/` (the real asset) is merged: a duplicate key then fails every
definitions test, loudly."""

import dagster as dg

from nba_props.dagster_helpers import column_schema, labels
from nba_props.partitions import game_date_partitions

prediction_accuracy_placeholder = dg.AssetSpec(
    "prediction_accuracy",
    description="PLACEHOLDER (external) for the graded predictions asset of the grading stage; replaced on merge.",
    group_name="sources",
    partitions_def=game_date_partitions,
    metadata={"partition_expr": "game_date", "dagster/column_schema": column_schema("prediction_accuracy")},
    **labels("sources", "external"),
)
