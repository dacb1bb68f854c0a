"""TEMPORARY (branch i11-t only; delete at merge): stand-ins for the issue-11 tables the steering
report reads that other branches build (`signal_health_daily`, `best_bets`, `pick_accuracy`), so
this branch's graph resolves. At merge the real assets define these keys and this module must go
(Dagster refuses two definitions of one key, so forgetting it fails loudly). Their column schema
lists only the shared-contract columns `lib/steering.py` reads. They sit in group `sources` (as
external feeds do) so the automation, whose config this branch does not own, leaves them alone."""

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import column_schema, labels
from nba_props.partitions import game_date_partitions

STAND_IN_GROUP = "sources"
_DATE = "Game date (America/New_York): the partition key."
_COLUMNS: dict[str, tuple[str, dict[str, tuple[pl.DataType, str]]]] = {
    "signal_health_daily": (
        "health",
        {
            "game_date": (pl.Date(), _DATE),
            "name": (pl.Utf8(), "Signal or combo name."),
            "kind": (pl.Utf8(), "signal / combo."),
            "state": (pl.Utf8(), "active / shadow."),
            "status": (pl.Utf8(), "HEALTHY / WATCH / DEGRADING."),
            "regime": (pl.Utf8(), "HOT / NORMAL / COLD."),
        },
    ),
    "best_bets": (
        "picks",
        {
            "game_date": (pl.Date(), _DATE),
            "game_id": (pl.Utf8(), "Canonical game id."),
            "player_lookup": (pl.Utf8(), "Normalized player name."),
            "model_id": (pl.Utf8(), "The candidate's source model."),
            "selected": (pl.Boolean(), "The candidate is a best bet."),
            "observed_by": (pl.List(pl.Utf8()), "Observe-mode filters that would have blocked it."),
            "health_gate_active": (pl.Boolean(), "The champion health gate was closed."),
            "health_gate_reason": (pl.Utf8(), "Why the gate was closed."),
        },
    ),
    "pick_accuracy": (
        "grading",
        {
            "game_date": (pl.Date(), _DATE),
            "status": (pl.Utf8(), "Ledger status published / withdrawn / late."),
            "result": (pl.Utf8(), "WIN / LOSS / PUSH / VOID (NULL pending)."),
            "profit": (pl.Float64(), "Profit per unit at the pick's price."),
        },
    ),
}

steering_stand_ins = [
    dg.AssetSpec(
        name,
        group_name=STAND_IN_GROUP,
        partitions_def=game_date_partitions,
        description=f"Stand-in for {name} (group {group}; built on another issue-11 branch).",
        **labels(STAND_IN_GROUP, "external"),
        metadata={
            "partition_expr": "game_date",
            "dagster/column_schema": column_schema(
                name, pl.Schema({c: t for c, (t, _) in cols.items()}), {c: d for c, (_, d) in cols.items()}
            ),
        },
    )
    for name, (group, cols) in _COLUMNS.items()
]
