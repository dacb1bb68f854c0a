"""`orphaned_runs`: the daemon's side of crash recovery. Runs the project launches itself (CLI,
demo, replay) execute in their own process; if that process is killed, nothing in Dagster notices
(the default run launcher has no health check for them) and the run keeps its `duckdb` slot,
blocking every later run, including the daemon's. This sensor recovers them while `make ui` runs,
and the daemon's own runs whose run worker was killed (run monitoring cannot check those with the
default run launcher)."""

import dagster as dg

from nba_props.lib.runs_config import load_runs_config
from nba_props.runs import recover_orphaned_runs


@dg.sensor(
    name="orphaned_runs",
    minimum_interval_seconds=load_runs_config().orphans.check_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks FAILURE the runs whose launching process (CLI, demo, replay) is gone and frees "
    "their pool slots (config/runs.yaml: orphans).",
)
def orphaned_runs(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    recovered = recover_orphaned_runs(context.instance, run_workers=True)
    # Each recovered run now ends in RUN_FAILURE (reason: its process is gone), which the alerts
    # sensor turns into one alert like any failed run: no second alert here.
    if not recovered:
        return dg.SkipReason("no orphaned runs")
    return dg.SkipReason(
        "recovered (marked failed, pool slots freed): " + ", ".join(f"{r.run_id} ({r.job_name})" for r in recovered)
    )
