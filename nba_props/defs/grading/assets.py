"""`prediction_accuracy`: every prediction of a game date graded against what happened (the rules
of `lib/grading.py`, the join of `lib/models/graded.py`). Eager automation re-grades yesterday
when its box scores land; the evaluation report and the demo summary read this table."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import (
    check_spec,
    counts_of,
    daily_asset_kwargs,
    record_partition_metadata,
    rows_check,
    unique_key_spec,
)
from nba_props.lib import tables
from nba_props.lib.grading import LOSS, OVER, PUSH, UNDER, VOID, WIN, invalid_values, ungraded, unmatched_rows
from nba_props.lib.ingest_checks import duplicate_keys
from nba_props.lib.models.graded import accuracy_rows
from nba_props.lib.sensing import load_sensor_config
from nba_props.partitions import date_range_of

GROUP = "grading"
NAME = "prediction_accuracy"
REVEAL = load_sensor_config().reveal
KEY = list(tables.TABLE_KEYS[NAME])

RECOMMENDED = pl.col("recommendation").is_in([OVER, UNDER]) & ~pl.col("quarantined").fill_null(False)
DECIDED = pl.col("result").is_in([WIN, LOSS])


def _hit_rate(rows: pl.Expr) -> pl.Expr:
    """wins / (wins + losses) over the rows `rows` selects; NULL (left out of the metadata) without one."""
    wins = ((pl.col("result") == WIN) & rows).sum()
    decided = (DECIDED & rows).sum()
    return pl.when(decided > 0).then(wins / decided)


FIGURES = {
    "graded": pl.col("result").is_not_null().sum(),
    "pending": (pl.col("result").is_null() & pl.col("line").is_not_null()).sum(),
    "wins": (pl.col("result") == WIN).sum(),
    "losses": (pl.col("result") == LOSS).sum(),
    "pushes": (pl.col("result") == PUSH).sum(),
    "voids": (pl.col("result") == VOID).sum(),
    "hit_rate": _hit_rate(pl.lit(True)),
    "recommended_hit_rate": _hit_rate(RECOMMENDED),
    "recommended_decided": (DECIDED & RECOMMENDED).sum(),
    # No champion figure here: the day's champion is chosen by evidence from model_performance_daily,
    # which is downstream of this asset (reading it would be a cycle). model_performance_daily's own
    # partition figures give the chosen champion's record (champion_hr_*, champion_n_*, champion_roi).
    "mae": pl.col("abs_error").mean(),
}


@dg.asset(
    **daily_asset_kwargs(
        NAME,
        "Every prediction of the date graded: actual points, WIN / LOSS / PUSH / VOID (DNP, POSTPONED, "
        "CANCELLED), errors, the line / edge / direction / recommendation it was made with, price, graded_at. "
        "Pending until the game is final and its box scores are in.",
        GROUP,
    ),
    ins={
        "predictions": dg.AssetIn("predictions"),
        "box_scores": dg.AssetIn("box_scores"),
        "schedule": dg.AssetIn("schedule"),
        "lines": dg.AssetIn("player_lines"),
    },
    check_specs=[
        unique_key_spec(NAME),
        check_spec(
            NAME,
            "ungraded_audit",
            "no prediction of a final game with a line and a side is left without a result (listed with why)",
        ),
        check_spec(
            NAME,
            "valid_values",
            "results in WIN/LOSS/PUSH/VOID, a void reason exactly on VOIDs (DNP/POSTPONED/CANCELLED), "
            "decided rows have an actual, results have graded_at",
        ),
        check_spec(NAME, "one_row_per_prediction", "exactly the predictions' keys, none lost, none added"),
    ],
)
def prediction_accuracy(
    context: dg.AssetExecutionContext,
    predictions: pl.DataFrame,
    box_scores: pl.DataFrame,
    schedule: pl.DataFrame,
    lines: pl.DataFrame,
) -> Iterator:
    start, end = date_range_of(context.partition_time_window)
    rows = accuracy_rows(predictions, box_scores, schedule, lines, REVEAL).sort("game_date", *KEY)
    record_partition_metadata(context, rows, figures=FIGURES)
    missing_rows = ungraded(rows)
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "run_results": dg.MetadataValue.json(
                counts_of(rows.with_columns(pl.col("result").fill_null("pending")), "result")
            ),  # fmt: skip
            "run_void_reasons": dg.MetadataValue.json(counts_of(rows.drop_nulls("void_reason"), "void_reason")),
            "window": f"{start} .. {end}",
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, KEY))
    yield rows_check(
        "ungraded_audit",
        missing_rows,
        reasons=dg.MetadataValue.json(counts_of(missing_rows, "reason")),
    )
    yield rows_check("valid_values", invalid_values(rows))
    yield rows_check("one_row_per_prediction", unmatched_rows(predictions, rows, KEY))
