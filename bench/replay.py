"""Benchmark: a 14-day replay of the simulated league, the sensors and automation driving the graph.

Set-up (not timed): simulate the season, backfill its history up to the replay, train the replay's
weeks' predecessors, predict. Then `nba_props.replay` advances the clock hour by hour over 14 days
(with one day's box scores withheld until noon the next day, the planted fault) and the figures are
wall seconds per simulated day and the share spent in runs (asset compute plus each run's own Dagster
work) vs the loop's bookkeeping (sensor ticks, condition evaluations). Budget: < 20 s per simulated day.

Usage: .venv/bin/python bench/replay.py [--days 14] [--start 2025-03-03]
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description="bench: replay")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 3, 3), help="a Monday of 2024-25")
    parser.add_argument("--home", default=None, help="project home (default: a temporary folder)")
    args = parser.parse_args()

    home = Path(args.home or tempfile.mkdtemp(prefix="bench-replay-"))
    os.environ["NBA_PROPS_HOME"] = str(home)
    os.environ.pop("DAGSTER_HOME", None)

    from nba_props import seasons
    from nba_props.cli import daily_downstream_of, mondays, run_backfill, run_replay
    from nba_props.lib.sources.factory import ensure_simulated_season
    from nba_props.settings import load_settings

    settings = load_settings()
    ensure_simulated_season(settings.data_dir, settings.sim_season, settings.sim_seed)
    season = seasons.season(settings.sim_season)
    start, end = args.start, args.start + timedelta(days=args.days - 1)
    setup_started = time.perf_counter()
    model_stage = daily_downstream_of("predictions")
    run_backfill(season.opening_night, start - timedelta(days=1), exclude=model_stage, settings=settings)
    first_week, _ = mondays(start - timedelta(days=14), start - timedelta(days=1))
    run_backfill(first_week, start - timedelta(days=1), job_name="nba_props_training", settings=settings)
    run_backfill(first_week, start - timedelta(days=1), select=model_stage, settings=settings)
    setup = time.perf_counter() - setup_started

    withheld = start + timedelta(days=3)
    release = datetime.combine(withheld + timedelta(days=1), datetime.min.time(), tzinfo=seasons.GAME_TZ)
    report = run_replay(start, end, settings=settings, withhold_box_scores={withheld: release.replace(hour=12)})
    per_day = report.wall_seconds / report.days
    print(
        json.dumps(
            {
                "bench": "replay",
                "days": report.days,
                "ticks": report.ticks,
                "runs": len(report.runs),
                "failed_runs": sum(not r.success for r in report.runs),
                "alerts": len(report.alerts),
                "setup_s": round(setup, 1),
                "wall_s": round(report.wall_seconds, 1),
                "s_per_day": round(per_day, 2),
                "run_share": round(report.run_seconds / report.wall_seconds, 3) if report.wall_seconds else None,
                # inside the runs' steps: asset compute + IO + the events each step writes
                "step_share": round(report.step_seconds / report.wall_seconds, 3) if report.wall_seconds else None,
                "run_overhead_s": round(report.run_seconds - report.step_seconds, 1),
                # where the steps' time went (the 8 heaviest steps over the replay, seconds)
                "heaviest_steps_s": dict(
                    sorted(((k, round(v, 1)) for k, v in report.step_seconds_by_step.items()), key=lambda kv: -kv[1])[
                        :8
                    ]
                ),
                "bookkeeping_share": round(report.bookkeeping_seconds / report.wall_seconds, 3)
                if report.wall_seconds
                else None,
                "budget_s_per_day": 20,
                "requested_by": report.requested_by(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
