"""`signal_health_daily` (group health, after the games): per active / shadow signal and per
combo of config/signals.yaml, hit rates over the configured windows and season to date from the
signal_tags and prediction_accuracy history, divergence, regime and status (lib/signals.py)."""

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
from nba_props.partitions import date_range_of, history_input, last_n_game_days

ASSET = signals.HEALTH_TABLE
REGISTRY = signals.load_signal_registry()
RULES = REGISTRY.health
R = RULES.regime_label


def _figures() -> dict[str, pl.Expr]:
    """Per partition, numbers that plot: each active signal's regime-window and season HR / N."""

    def of(name: str, column: str) -> pl.Expr:
        return pl.col(column).filter(pl.col("name") == name).first()

    figures: dict[str, pl.Expr] = {
        "cold": (pl.col("regime") == signals.COLD).sum(),
        "hot": (pl.col("regime") == signals.HOT).sum(),
        "degrading": (pl.col("status") == signals.DEGRADING).sum(),
    }
    for tag in REGISTRY.active:
        figures |= {
            f"hr_{R}_{tag}": of(tag, f"hr_{R}"),
            f"n_{R}_{tag}": of(tag, f"n_{R}"),
            f"hr_season_{tag}": of(tag, "hr_season"),
            f"n_season_{tag}": of(tag, "n_season"),
        }
    return figures


@dg.asset(
    **daily_asset_kwargs(
        ASSET,
        "After the games: per active / shadow signal and per combo, W/L/N/HR over "
        + "/".join(str(w) for w in RULES.windows)
        + f" days and season to date (one unit per game, player, direction and signal), the season's Wilson CI, "
        f"divergence {R} - season in points, regime HOT (>= {RULES.hot_from_points:g}) / COLD "
        f"(<= {RULES.cold_from_points:g}) / NORMAL, status HEALTHY / WATCH / DEGRADING.",
        "health",
    ),
    ins={
        "tags": history_input("signal_tags", last_n_game_days(RULES.history_days)),
        "accuracy": history_input("prediction_accuracy", last_n_game_days(RULES.history_days)),
    },
    check_specs=[
        unique_key_spec(ASSET),
        check_spec(
            ASSET,
            "counts_consistent",
            "registered names only (no ghosts), n = wins + losses, hit rates in [0, 1], known regime and status",
        ),  # fmt: skip
    ],
)
def signal_health_daily(context: dg.AssetExecutionContext, tags: pl.DataFrame, accuracy: pl.DataFrame) -> Iterator:
    start, end = date_range_of(context.partition_time_window)
    rows = signals.signal_health(tags, accuracy, start=start, end=end, registry=REGISTRY)
    recorded = partition_figures(rows, context.partition_keys, figures=_figures())
    rows_of = rows_of_partitions(rows, recorded)
    for key, values in recorded.items():
        day_rows = rows_of[key]
        values["signal_health"] = dg.MetadataValue.md(signals.health_markdown(day_rows, RULES))
    add_partitions_metadata(context, recorded, asset_key=ASSET)
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "run_tag_rows": tags.height,
            "history_days": RULES.history_days,
            "health_rules": dg.MetadataValue.json(RULES.model_dump(mode="json")),
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, tables.TABLE_KEYS[ASSET]))
    yield rows_check("counts_consistent", signals.invalid_health_rows(rows, REGISTRY))
