"""Stand-in for `best_bets` while it is built on another branch (issue 11, helper B): the ledger
(`published_picks`) reads it, and a graph whose input is no asset does not load. Defined ONLY
when `nba_props.lib.selection` (B's library, the shared contract) is absent, so once B's
`best_bets` asset is merged this module defines nothing. It is an external, unmaterializable
spec: nothing can build it here; tests and the bench write its table by hand."""

from importlib.util import find_spec

import dagster as dg

from nba_props.dagster_helpers import column_schema, labels
from nba_props.lib.ledger import BEST_BETS_CONTRACT
from nba_props.partitions import game_date_partitions

if find_spec("nba_props.lib.selection") is None:
    _DOCS = {name: f"{name} of the shared contract's best_bets (the columns the ledger reads)." for name in
             BEST_BETS_CONTRACT.names()}  # fmt: skip
    best_bets = dg.AssetSpec(
        "best_bets",
        description="STAND-IN (helper B builds the real asset): one row per candidate player-game, `selected` "
        "marking the day's picks.",
        group_name="picks",
        **labels("picks", "daily"),
        partitions_def=game_date_partitions,
        metadata={
            "partition_expr": "game_date",
            "dagster/column_schema": column_schema("best_bets", BEST_BETS_CONTRACT, _DOCS),
        },
    )
