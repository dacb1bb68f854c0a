"""`published_picks`: the append-only ledger of the best bets shown for a game date (the rules:
`lib/ledger.py`). The ONE asset that reads its own table: through the `warehouse` resource it
loads the ledger rows already stored for the run's dates, merges this run's `best_bets` into them
(published / withdrawn / late, by the clock's now against each game's tip) and returns the merged
partition(s), which the IO manager replaces in one transaction. The blocking check
`append_only` compares the rows read with the rows returned BEFORE anything is written: a key
lost, a published field rewritten or a forbidden status move fails the step and the stored
ledger stays as it was."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import (
    add_partitions_metadata,
    check_spec,
    daily_asset_kwargs,
    partition_figures,
    rows_check,
    unique_key_spec,
)
from nba_props.io.io_manager import WarehouseResource
from nba_props.lib import ledger, tables
from nba_props.lib.ingest_checks import duplicate_keys
from nba_props.partitions import DATE_FMT, date_range_of
from nba_props.resources import ClockResource

ASSET = "published_picks"
GROUP = "picks"
APPEND_ONLY = "append_only"
EVENTS = ("added", "late", "withdrawn", "republished", "refused_after_tip", "reselected_after_tip",
          "reselected_changed")  # fmt: skip


@dg.asset(
    **daily_asset_kwargs(
        ASSET,
        "The published best bets of each game date: an append-only ledger (a pick once published stays; a "
        "re-run adds picks, or marks one withdrawn with its reason and time before its tip; additions after the "
        "tip to a date already published are 'late', never counted). Grading and exports read picks from here.",
        GROUP,
    ),
    ins={"best_bets": dg.AssetIn("best_bets")},
    check_specs=[
        unique_key_spec(ASSET),
        check_spec(
            ASSET,
            APPEND_ONLY,
            "against the ledger rows read before the merge: no key lost, no published field (line, edge, direction, "
            "model, price, rank, angles, signals, published_at, ...) changed, only published <-> withdrawn moves; "
            "checked before writing: a failure writes nothing",
            blocking=True,
        ),
    ],
)
def published_picks(
    context: dg.AssetExecutionContext, best_bets: pl.DataFrame, warehouse: WarehouseResource, clock: ClockResource
) -> Iterator:
    start, end = date_range_of(context.partition_time_window)
    # the only self-read of the platform: this ledger's own rows of the run's dates
    existing = warehouse.warehouse().load(ASSET, start=start, end=end, declared=tables.TABLE_SCHEMAS[ASSET])
    now = clock.now()
    rows, events = ledger.merge(existing, best_bets, now=now, run_id=context.run_id, start=start, end=end)
    broken = ledger.violations(existing, rows)
    if broken.height:  # before the Output: the IO manager never sees the rows
        yield rows_check(APPEND_ONLY, broken, rows_read=existing.height)
        raise dg.Failure(f"{ASSET}: the merge would break the ledger ({broken.height} key(s)); nothing written")
    figures = partition_figures(rows, context.partition_keys, figures=ledger.ledger_figures())
    moved = partition_figures(events, context.partition_keys, figures={e: (pl.col("event") == e).sum() for e in EVENTS})
    for key, values in figures.items():
        # this run's moves under names of their own: the ledger's status counts (published,
        # withdrawn, late) must not be overwritten by the run's events of the same name
        values |= {f"run_{e}": v for e, v in moved[key].items() if e in EVENTS}
    add_partitions_metadata(context, figures, asset_key=ASSET)
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "rows_read": existing.height,
            "now": now.isoformat(),
            "run_events": dg.MetadataValue.json({e: int((events["event"] == e).sum()) for e in EVENTS}),
            "window": f"{start.strftime(DATE_FMT)} .. {end.strftime(DATE_FMT)}",
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, tables.TABLE_KEYS[ASSET]))
    yield rows_check(APPEND_ONLY, broken, rows_read=existing.height)
