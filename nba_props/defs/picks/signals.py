"""`signal_tags` (group picks, pre-game): one row per (candidate prediction, signal that fires) of
the day, from the day's predictions, player_features and player_lines and the families'
model_performance_daily of the day before. The registry is config/signals.yaml; the logic
`lib/signals.py`."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import (
    add_partitions_metadata,
    check_spec,
    daily_asset_kwargs,
    partition_figures,
    rows_check,
    rows_of_partitions,
    unique_key_spec,
)
from nba_props.lib import signals, tables
from nba_props.lib.ingest_checks import duplicate_keys
from nba_props.partitions import INPUT_COLUMNS, history_input, previous_n_game_days

ASSET = signals.TAGS_TABLE
REGISTRY = signals.load_signal_registry()


def _figures() -> dict[str, pl.Expr]:
    """Per partition: candidates tagged, tags per active signal (numbers that plot), shadow tags."""
    active = pl.col("state") == signals.ACTIVE
    figures = {
        "candidates": pl.struct("game_id", "player_lookup", "model_id").n_unique(),
        "players": pl.col("player_lookup").n_unique(),
        "active_tags": active.sum(),
        "shadow_tags": (pl.col("state") == signals.SHADOW).sum(),
    }
    for tag in REGISTRY.active:
        figures[f"tags_{tag}"] = (pl.col("signal") == tag).sum()
    return figures


@dg.asset(
    **daily_asset_kwargs(
        ASSET,
        f"Before the games: one row per (candidate prediction, signal) that qualifies; {len(REGISTRY.active)} "
        f"active and {len(REGISTRY.shadow)} shadow signals of config/signals.yaml (shadow tags are recorded, never "
        "counted for picks; removed signals never appear). A candidate: recommended OVER/UNDER, not quarantined, "
        "with a line; inputs: the day's predictions, player_features and player_lines, and the families' health of "
        "the day before.",
        "picks",
    ),
    ins={
        "predictions": dg.AssetIn("predictions"),
        # the signals' inputs (and their sources) of the wide feature table
        "player_features": dg.AssetIn(
            "player_features",
            metadata={
                INPUT_COLUMNS: [
                    c
                    for c in (
                        "game_date",
                        "game_id",
                        "player_lookup",
                        *(c for f in signals.FEATURE_INPUTS for c in (f, f"{f}__source")),
                    )
                    if c in tables.TABLE_SCHEMAS["player_features"]
                ]
            },
        ),  # fmt: skip
        "player_lines": dg.AssetIn("player_lines"),
        # health as of X - 1: the day before only
        "health": history_input("model_performance_daily", previous_n_game_days(1)),
    },
    check_specs=[
        unique_key_spec(ASSET),
        check_spec(
            ASSET,
            "registered_signals",
            "every tag names an active or shadow signal with its registry state (no removed or unknown signal)",
            blocking=True,
        ),  # fmt: skip
        check_spec(ASSET, "confidence_scale", "every tag's confidence is in [0, 1]"),
    ],
)
def signal_tags(
    context: dg.AssetExecutionContext,
    predictions: pl.DataFrame,
    player_features: pl.DataFrame,
    player_lines: pl.DataFrame,
    health: pl.DataFrame,
) -> Iterator:
    rows = signals.signal_tags(predictions, player_features, player_lines, health, REGISTRY)
    recorded = partition_figures(rows, context.partition_keys, figures=_figures())
    rows_of = rows_of_partitions(rows, recorded)
    for key, values in recorded.items():
        day_rows = rows_of[key]
        values["signal_counts"] = dg.MetadataValue.md(signals.tags_markdown(day_rows, REGISTRY))
    add_partitions_metadata(context, recorded, asset_key=ASSET)
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "active_signals": dg.MetadataValue.json(list(REGISTRY.active)),
            "shadow_signals": dg.MetadataValue.json(list(REGISTRY.shadow)),
            "removed_signals": dg.MetadataValue.json(list(REGISTRY.removed)),
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, tables.TABLE_KEYS[ASSET]))
    yield rows_check("registered_signals", signals.invalid_tags(rows, REGISTRY))
    yield rows_check("confidence_scale", signals.off_scale_confidence(rows))
