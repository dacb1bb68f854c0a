"""What every benchmark shares: its command line and the real-data folder it reads."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "nba"


def real_data_args(bench: str) -> tuple[argparse.Namespace, Path | None]:
    """(args, data folder); the folder is None (and the skip line printed) when it is absent."""
    parser = argparse.ArgumentParser(description=f"bench: {bench}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "box_scores").is_dir():
        print(json.dumps({"bench": bench, "skipped": f"no real data at {data}"}))
        return args, None
    return args, data


def feature_inputs(provider, start, end) -> dict:
    """Raw inputs for lines + features over [start, end], with the histories the assets load."""
    from datetime import timedelta

    from nba_props.defs.features.assets import WINDOWS

    box_start = start - timedelta(days=max(WINDOWS.features_box_scores, WINDOWS.lines_box_scores))
    return {
        "snapshots": provider.prop_line_snapshots(start - timedelta(days=WINDOWS.lines_snapshots), end).rows,
        "schedule": provider.schedule(start, end).rows,
        "box": provider.box_scores(box_start, end).rows,
        "injuries": provider.injury_report(start, end).rows,
    }


def build_lines_and_features(raw: dict, start, end):
    """What the player_lines and player_features assets compute, straight through lib."""
    from nba_props.defs.features.assets import CONTRACT, LINE_CONFIG
    from nba_props.lib.features.build import build_player_features
    from nba_props.lib.features.inputs import FeatureInputs
    from nba_props.lib.lines import build_player_lines

    lines = build_player_lines(
        raw["snapshots"], raw["schedule"], raw["box"], raw["injuries"], start=start, end=end, config=LINE_CONFIG
    )
    features = build_player_features(
        FeatureInputs(
            targets=lines,
            box_history=raw["box"],
            line_history=lines,
            schedule=raw["schedule"],
            injuries=raw["injuries"],
        ),
        CONTRACT,
    )
    return lines, features


def quiet(fn, *args, **kwargs):
    """Call fn with its stdout swallowed (the CLI's per-step tables of a set-up)."""
    from contextlib import redirect_stdout
    from io import StringIO

    with redirect_stdout(StringIO()):
        return fn(*args, **kwargs)


UPSTREAM = ("schedule", "box_scores", "prop_line_snapshots", "injury_report", "player_lines", "player_features")


def simulated_setup(home: Path, sim_days: int | None, *, then: tuple[str, ...] = (), ready=None) -> dict:
    """The set-up the stage benches share (not timed by them): the simulated season (its first
    `sim_days` days) ingested, featured, trained week by week and predicted in `home`, then the
    assets of `then`; skipped when `ready(duckdb_path, start, end)` says the warehouse already has
    them. Returns settings, start, end, dagster_home, setup_s and, when a step failed, setup_failed."""
    import os
    import time
    from datetime import timedelta

    from nba_props import seasons
    from nba_props.cli import TRAINING_JOB, mondays, run_backfill
    from nba_props.lib.sources.factory import ensure_simulated_season
    from nba_props.settings import load_settings

    os.environ["NBA_PROPS_HOME"] = str(home)
    settings = load_settings(home=home, provider="simulated")
    ensure_simulated_season(settings.data_dir, settings.sim_season, settings.sim_seed)
    season = seasons.season(settings.sim_season)
    start, end = season.opening_night, season.regular_season_end
    if sim_days:
        end = min(end, start + timedelta(days=sim_days - 1))
    dagster_home = home / "dagster_home"
    runs = {"settings": settings, "dagster_home": dagster_home, "launched_by": "cli"}
    started = time.perf_counter()
    summaries = []
    if not (ready and ready(settings.duckdb_path, start, end)):
        first_week, last_week = mondays(start, end)
        summaries = [
            quiet(run_backfill, start, end, select=list(UPSTREAM), **runs),
            quiet(run_backfill, first_week, last_week, job_name=TRAINING_JOB, **runs),
            quiet(run_backfill, start, end, select=["predictions", *then], **runs),
        ]
    out = {"settings": settings, "start": start, "end": end, "dagster_home": dagster_home,
           "setup_s": round(time.perf_counter() - started, 1)}  # fmt: skip
    broken = sorted(step for summary in summaries for step, f in summary.items() if f.get("failed"))
    if broken:
        out["setup_failed"] = broken
    return out
