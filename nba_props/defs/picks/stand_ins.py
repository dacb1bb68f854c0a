"""Stand-in for `best_bets` while it is built on another branch (issue 11, helper B): the ledger
(`published_picks`) reads it, and a graph whose input is no asset does not load. Defined ONLY
when `nba_props.lib.selection` (B's library, the shared contract) is absent, so once B's
`best_bets` asset is merged this module defines nothing.

It selects nothing: every run writes an EMPTY best_bets partition with the contract's columns
(the columns the ledger reads), so the main job, the demo and the replay run on this branch
alone and the ledger stays empty. Tests and `bench/picks.py --stand-in-best-bets` write its
table by hand instead (tag `stand_in`)."""

from importlib.util import find_spec

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import column_schema, labels
from nba_props.lib.ledger import BEST_BETS_CONTRACT
from nba_props.partitions import game_date_partitions

STAND_IN_TAG = "stand_in"

if find_spec("nba_props.lib.selection") is None:
    _DOCS = {name: f"{name} of the shared contract's best_bets (the columns the ledger reads)." for name in
             BEST_BETS_CONTRACT.names()}  # fmt: skip
    _LABELS = labels("picks", "daily")

    @dg.asset(
        name="best_bets",
        description="STAND-IN until helper B's best_bets is merged: writes no candidate (an empty partition with "
        "the contract's columns), so the ledger stays empty.",
        group_name="picks",
        owners=_LABELS["owners"],
        tags={**_LABELS["tags"], STAND_IN_TAG: "true"},
        partitions_def=game_date_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"duckdb", "polars"},
        pool="duckdb",
        metadata={
            "partition_expr": "game_date",
            "dagster/column_schema": column_schema("best_bets", BEST_BETS_CONTRACT, _DOCS),
        },
    )
    def best_bets() -> pl.DataFrame:
        return pl.DataFrame(schema=BEST_BETS_CONTRACT)
