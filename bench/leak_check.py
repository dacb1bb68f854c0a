"""Benchmark: the cost of player_features' blocking `leak_free` check on a full-season backfill.

One run over the real 2024-25 regular season, with the inputs the asset holds in that run
(player_lines of the season, box scores from 640 days before the opening to the day before the
last date). Times, straight through the lib functions the asset calls:
  build_s  build_player_features over the whole season (the asset's build)
  check_s  the leak check: sample dates, rebuild each from inputs cut strictly before it, compare

Usage: .venv/bin/python bench/leak_check.py [--repeat 3] [--data ../shared/data/nba]
Last line: one JSON object; `check_share` = median check_s / median build_s.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import feature_inputs, real_data_args  # noqa: E402

START, END = date(2024, 10, 22), date(2025, 4, 13)


def main() -> int:
    args, data = real_data_args("leak_check")
    if data is None:
        return 0

    import polars as pl

    from nba_props.defs.features.assets import CONTRACT, LEAK, LINE_CONFIG
    from nba_props.lib.features.build import build_player_features
    from nba_props.lib.features.checks import leak_differences, leak_sample_dates, leak_summary
    from nba_props.lib.features.inputs import FeatureInputs
    from nba_props.lib.lines import build_player_lines
    from nba_props.lib.sources.files import FilesProvider

    raw = feature_inputs(FilesProvider(data), START, END)
    lines = build_player_lines(
        raw["snapshots"], raw["schedule"], raw["box"], raw["injuries"], start=START, end=END, config=LINE_CONFIG
    )
    inputs = FeatureInputs(
        targets=lines,
        box_history=raw["box"].filter(pl.col("game_date") < END),  # previous_n_game_days: ends the day before
        line_history=lines,
        schedule=raw["schedule"],
        injuries=raw["injuries"],
    )
    builds, checks, per_run = [], [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        rows = build_player_features(inputs, CONTRACT)
        builds.append(time.perf_counter() - started)
        started = time.perf_counter()
        dates = leak_sample_dates(rows.get_column("game_date").unique().to_list(), LEAK.sample_dates)
        differences = leak_differences(inputs, rows, dates, CONTRACT, tolerance=LEAK.float_tolerance)
        summary = leak_summary(differences, dates, LEAK.max_players_reported)
        checks.append(time.perf_counter() - started)
        per_run.append(round(checks[-1] / builds[-1], 3))
        print(
            f"build {builds[-1]:.2f} s, check {checks[-1]:.2f} s ({per_run[-1]:.0%}), "
            f"dates {summary['dates_checked']}, differing cells {summary['differing_cells']}"
        )
    build_s, check_s = statistics.median(builds), statistics.median(checks)
    print(
        json.dumps(
            {
                "bench": "leak_check",
                "season": "2024-25",
                "repeat": args.repeat,
                "rows": rows.height,
                "box_history_rows": inputs.box_history.height,
                "sample_dates": LEAK.sample_dates,
                "passed": summary["differing_cells"] == 0,
                "build_median_s": round(build_s, 3),
                "check_median_s": round(check_s, 3),
                "check_share": round(check_s / build_s, 3),
                "check_share_per_run": per_run,
                "rebuild_median_s_per_date": round(check_s / max(len(dates), 1), 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
