"""Job names, in a module without dagster: `defs/jobs.py` defines the jobs under these names and
the CLI resolves them by the same constants (it imports dagster only when it runs a job)."""

MAIN_JOB = "nba_props_daily"
TRAINING_JOB = "nba_props_training"
EVALUATION_JOB = "nba_props_evaluation"
