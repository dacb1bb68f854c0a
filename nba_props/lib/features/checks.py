"""Data-quality rules for `player_features`: plain functions returning the offending rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from nba_props.lib.features.build import build_player_features
from nba_props.lib.features.inputs import KEY_COLUMNS, FeatureInputs


def constant_feature_dates(rows: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Dates on which a must-vary feature takes a single value across all ready players."""
    ready = rows.filter(pl.col("is_quality_ready"))
    if ready.height == 0:
        return pl.DataFrame(schema={"game_date": pl.Date, "feature": pl.Utf8})
    per_date = ready.group_by("game_date").agg(
        pl.col("game_id").n_unique().alias("games"),
        *[pl.col(c).n_unique().alias(c) for c in columns if c in ready.columns],
    )
    # A one-game date can legitimately show one value (two teams with equal records).
    long = per_date.filter(pl.col("games") >= 2).drop("games").unpivot(
        index="game_date", variable_name="feature", value_name="n_unique"
    )
    return long.filter(pl.col("n_unique") <= 1).select("game_date", "feature")


def leak_differences(inputs: FeatureInputs, rows: pl.DataFrame, day: date, contract) -> pl.DataFrame:
    """Rebuild `day` from inputs cut strictly before it; any row that differs is a leak."""
    cut = FeatureInputs(
        targets=inputs.targets.filter(pl.col("game_date") == day),
        box_history=inputs.box_history.filter(pl.col("game_date") < day),
        line_history=inputs.line_history.filter(pl.col("game_date") <= day),
        schedule=inputs.schedule.filter(pl.col("game_date") == day),
        injuries=inputs.injuries.filter(pl.col("game_date") == day),
    )
    rebuilt = build_player_features(cut, contract)
    stored = rows.filter(pl.col("game_date") == day)
    return stored.join(rebuilt, on=list(rebuilt.columns), how="anti", nulls_equal=True).select(list(KEY_COLUMNS))
