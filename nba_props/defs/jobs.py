"""Jobs. The main job materializes every game-date-partitioned asset for a date or range; the
training job trains every model family for a week or range of weeks."""

import dagster as dg

from nba_props import freshness
from nba_props.job_names import EVALUATION_JOB, MAIN_JOB, TRAINING_JOB
from nba_props.partitions import game_date_partitions, training_week_partitions

WEEKLY_ASSETS = dg.AssetSelection.assets("trained_models")
REPORT_ASSETS = dg.AssetSelection.assets("model_evaluation")

nba_props_daily = dg.define_asset_job(
    name=MAIN_JOB,
    selection=dg.AssetSelection.all() - WEEKLY_ASSETS - REPORT_ASSETS - freshness.check_selection(),
    partitions_def=game_date_partitions,
    description="The game-day graph: ingest → lines → features → predictions, for one date or a range "
    "(single-run backfill).",
)

nba_props_training = dg.define_asset_job(
    name=TRAINING_JOB,
    selection=WEEKLY_ASSETS,
    partitions_def=training_week_partitions,
    description="Walk-forward training: every enabled family on games before each week's Monday (ET).",
)

nba_props_evaluation = dg.define_asset_job(
    name=EVALUATION_JOB,
    selection=REPORT_ASSETS,
    description="Grade a window of predictions and write the evaluation report (config: start, end).",
)
