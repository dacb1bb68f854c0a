"""TEMPORARY (branch i11-t only; delete at merge): stand-ins for the issue-11 tables the steering
report reads that other branches build (`signal_health_daily`, `best_bets`, `pick_accuracy`), so
this branch's graph resolves. At merge the real assets define these keys and this module must go
(Dagster refuses two definitions of one key, so forgetting it fails loudly)."""

import dagster as dg

from nba_props.partitions import game_date_partitions

_STAND_INS = {
    "signal_health_daily": "health",
    "best_bets": "picks",
    "pick_accuracy": "grading",
}

steering_stand_ins = [
    dg.AssetSpec(
        name,
        group_name=group,
        partitions_def=game_date_partitions,
        description=f"Stand-in for {name} (built on another issue-11 branch).",
        metadata={"partition_expr": "game_date"},
    )
    for name, group in _STAND_INS.items()
]
