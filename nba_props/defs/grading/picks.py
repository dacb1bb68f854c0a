"""`pick_accuracy`: the ledger's picks of a game date (`published_picks`, never best_bets) graded
after the games against their PUBLISHED line and side (`lib/ledger.grade_picks`, the rules of
`lib/grading`), with profit at the published price. Only `published` picks count; withdrawn and
late ones are graded and kept, never counted."""

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
from nba_props.lib import health, ledger, tables
from nba_props.lib.ingest_checks import duplicate_keys

ASSET = "pick_accuracy"
GROUP = "grading"
DEFAULT_PRICE = health.load_health_config().default_price
KEY = list(tables.TABLE_KEYS[ASSET])


@dg.asset(
    **daily_asset_kwargs(
        ASSET,
        "Every ledger pick of the date graded on its published line and side: WIN / LOSS / PUSH / VOID, actual "
        f"points, profit per unit at the published price ({DEFAULT_PRICE} assumed without one), counted only when "
        "published (withdrawn and late picks never count).",
        GROUP,
    ),
    ins={"picks": dg.AssetIn("published_picks"), "accuracy": dg.AssetIn("prediction_accuracy")},
    check_specs=[
        unique_key_spec(ASSET),
        check_spec(ASSET, "one_row_per_pick", "exactly the ledger's picks of the date, none lost, none added"),
    ],
)
def pick_accuracy(context: dg.AssetExecutionContext, picks: pl.DataFrame, accuracy: pl.DataFrame) -> Iterator:
    rows = ledger.grade_picks(picks, accuracy, DEFAULT_PRICE)
    record_partition_metadata(context, rows, figures=ledger.record_figures())
    counted = rows.filter(pl.col("counted"))
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "run_results": dg.MetadataValue.json(
                counts_of(counted.with_columns(pl.col("result").fill_null("pending")), "result")
            ),  # fmt: skip
            "run_statuses": dg.MetadataValue.json(counts_of(rows, "status")),
            "default_price": DEFAULT_PRICE,
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, KEY))
    unmatched = pl.concat(
        [picks.select(KEY).join(rows.select(KEY), on=KEY, how="anti"), rows.select(KEY).join(picks.select(KEY), on=KEY,
                                                                                          how="anti")]
    )  # fmt: skip
    yield rows_check("one_row_per_pick", unmatched)
