"""Benchmark: one tick of each sensor (lines_posted, games_final, weekly_training) with a frozen
clock, on a whole simulated season (simulated here into a temp folder, seed 7) and on
../shared/data/nba: the first tick (file caches cold) and the best of the next `--repeat` (warm).

Usage: .venv/bin/python bench/sensors.py [--repeat 3] [--data ../shared/data/nba]
Last line: one JSON object with the figures (milliseconds).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import real_data_args  # noqa: E402

# A Monday evening in mid-season: today's lines posted, yesterday's games final.
CLOCK = "2025-01-20T20:00:00-05:00"


def ticks(data_dir: Path, repeat: int) -> dict[str, dict[str, float]]:
    import dagster as dg

    from nba_props.defs.sensors.sensors import games_final, lines_posted, weekly_training
    from nba_props.resources import ClockResource, ProviderResource

    resources = {
        "clock": ClockResource(frozen_at=CLOCK),
        "provider": ProviderResource(provider="files", data_dir=str(data_dir)),
    }
    figures = {}
    with dg.DagsterInstance.ephemeral() as instance:
        for sensor in (lines_posted, games_final, weekly_training):
            times = []
            for _ in range(repeat + 1):
                context = dg.build_sensor_context(instance=instance, resources=resources)
                started = time.perf_counter()
                sensor(context)
                times.append((time.perf_counter() - started) * 1000)
            figures[sensor.name] = {"first_ms": round(times[0], 1), "warm_ms": round(min(times[1:]), 1)}
    return figures


def main() -> int:
    args, data = real_data_args("sensors")
    from nba_props.sim.season import simulate_season

    result = {"bench": "sensors", "clock": CLOCK}
    with tempfile.TemporaryDirectory() as folder:
        simulate_season(season="2024-25", seed=7, out_dir=Path(folder))
        result["simulated"] = ticks(Path(folder), args.repeat)
    if data is not None:
        result["real"] = ticks(data, args.repeat)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
