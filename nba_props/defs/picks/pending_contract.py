"""Stand-ins for the issue-11 tables `best_bets` reads that another branch builds (`signal_tags`,
`signal_health_daily`, owner S). They exist only while `nba_props.lib.signals` does not: once the
real assets land (with that library) this module defines nothing, and the integrator deletes it.
Their column schemas are the columns best_bets reads (lib/selection.py)."""

import importlib.util

import dagster as dg

from nba_props.dagster_helpers import column_schema, labels
from nba_props.lib import selection
from nba_props.partitions import game_date_partitions

if importlib.util.find_spec("nba_props.lib.signals") is None:
    signal_tags_pending = dg.AssetSpec(
        "signal_tags",
        description="Stand-in (pending the signals branch): one row per (candidate prediction, signal).",
        group_name="picks",
        **labels("picks", "daily"),
        partitions_def=game_date_partitions,
        metadata={
            "partition_expr": "game_date",
            "dagster/column_schema": column_schema(
                "signal_tags", selection.SIGNAL_TAGS_CONTRACT, selection.SIGNAL_TAGS_DOC
            ),
        },
    )
    signal_health_daily_pending = dg.AssetSpec(
        "signal_health_daily",
        description="Stand-in (pending the signals branch): per signal and day, its graded hit rates.",
        group_name="health",
        **labels("health", "daily"),
        partitions_def=game_date_partitions,
        metadata={
            "partition_expr": "game_date",
            "dagster/column_schema": column_schema(
                "signal_health_daily", selection.SIGNAL_HEALTH_CONTRACT, selection.SIGNAL_HEALTH_DOC
            ),
        },
    )
