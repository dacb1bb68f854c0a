"""Jobs. The main job materializes every game-date-partitioned asset for a date or range."""

import dagster as dg

from nba_props.partitions import game_date_partitions

MAIN_JOB_NAME = "nba_props_daily"

nba_props_daily = dg.define_asset_job(
    name=MAIN_JOB_NAME,
    selection=dg.AssetSelection.all(),
    partitions_def=game_date_partitions,
    description="The game-day graph: ingest → … for one game date or a range (single-run backfill).",
)
