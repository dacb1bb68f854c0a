"""TEMPORARY stand-in, DELETE THIS FILE when merging with the branch that defines the
`prediction_accuracy` asset (issue 10, part 1): `market_regime` reads it through a history input,
and Dagster refuses an input whose asset is not defined. Left in after that merge, the code
location fails to load with a duplicate asset key (loud, never silently wrong)."""

import dagster as dg

from nba_props.dagster_helpers import column_schema, labels
from nba_props.partitions import game_date_partitions

prediction_accuracy_stand_in = dg.AssetSpec(
    "prediction_accuracy",
    description="Stand-in (external) for the graded predictions asset defined on another branch.",
    group_name="sources",
    partitions_def=game_date_partitions,
    metadata={
        "partition_expr": "game_date",
        "dagster/column_schema": column_schema("prediction_accuracy"),
    },
    **labels("sources", "external"),
)
