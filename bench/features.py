"""Benchmark: player_lines + player_features for the full real 2024-25 season and for the
2025-26 Odds API window, straight through the lib functions (what the assets call).

Usage: .venv/bin/python bench/features.py [--repeat 3] [--data ../shared/data/nba]
Last line: one JSON object; `median_s` is the full 2024-25 season's lines + features
(inputs already in memory, interpreter start excluded).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import build_lines_and_features, feature_inputs, real_data_args  # noqa: E402

WINDOWS = {
    "2024-25": (date(2024, 10, 22), date(2025, 4, 13)),
    "2025-26_odds": (date(2025, 10, 21), date(2025, 11, 23)),
}


def main() -> int:
    args, data = real_data_args("features")
    if data is None:
        return 0

    from nba_props.lib.sources.files import FilesProvider

    provider = FilesProvider(data)
    figures: dict[str, object] = {"bench": "features", "repeat": args.repeat}
    for label, (start, end) in WINDOWS.items():
        raw = feature_inputs(provider, start, end)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            lines, features = build_lines_and_features(raw, start, end)
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        ready = int(features["is_quality_ready"].sum())
        print(
            f"{label}: {features.height} rows, {ready} ready, lines with a line {int(lines['has_line'].sum())}, "
            f"median {median:.2f} s over {args.repeat}"
        )
        figures[f"{label}_rows"] = features.height
        figures[f"{label}_ready_share"] = round(ready / max(features.height, 1), 3)
        figures[f"{label}_median_s"] = round(median, 3)
        figures[f"{label}_rows_per_s"] = round(features.height / median)
    figures["rows"] = figures["2024-25_rows"]
    figures["median_s"] = figures["2024-25_median_s"]
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
