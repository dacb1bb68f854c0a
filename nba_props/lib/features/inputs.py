"""What every feature block receives, and what it must return.

A block is `block(inputs: FeatureInputs) -> pl.DataFrame` returning one row per target key
(`KEY_COLUMNS`) with, for each feature it owns, a value column `<name>` (Float64, NULL when it
cannot be computed) and a source column `<name>__source` (one of SOURCES; "default" when the
value is NULL). The orchestrator fills defaults from the contract and scores quality.

Leakage rule: a block may only use rows of `box_history`, `line_history` and `schedule_history`
dated strictly before each target's `game_date`. `schedule` and `injuries` are the target
dates' own (pre-game) information.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

KEY_COLUMNS = ("game_date", "game_id", "player_lookup")
SOURCES = ("box_scores", "prior_season", "lines", "schedule", "injuries", "calculated", "default")


@dataclass(frozen=True)
class FeatureInputs:
    targets: pl.DataFrame  # player_lines rows of the target dates (schemas.PLAYER_LINES)
    box_history: pl.DataFrame  # box_scores (schemas.BOX_SCORES), any dates; blocks filter < game_date
    line_history: pl.DataFrame  # player_lines rows of earlier dates (and the targets'; filter < game_date)
    schedule: pl.DataFrame  # schedule rows of the target dates (schemas.SCHEDULE)
    injuries: pl.DataFrame  # injury_report rows of the target dates (schemas.INJURY_REPORT)


def source_column(feature: str) -> str:
    return f"{feature}__source"
