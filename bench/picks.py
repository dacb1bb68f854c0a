"""Benchmark: the picks stage (signal_tags, best_bets, published_picks, pick_accuracy,
signal_health_daily, steering_report) over a whole simulated season in ONE single-run backfill.

Set-up (not timed), in its own temporary project home: the demo's upstream (ingest + features for
the season, training of every week, predictions) and the grading / health the picks read
(prediction_accuracy, model_performance_daily, market_regime, pre_game_signal). With `--home DIR
--reuse` a home whose warehouse already holds the season's predictions and grading skips it;
`--warehouse FILE` copies such a warehouse (e.g. bench/grading.py's) into the home first.
Timed: one run of the picks assets present in the graph. Figures as bench/grading.py
(`step_times`): per asset `compute_s` = its step minus the span of its per-partition
materialization events (reading the inputs, the lib logic, writing the table); their sum
`asset_s` (budget < 10 s per season); `overhead_s` = the run's wall time minus `asset_s`.

Usage: .venv/bin/python bench/picks.py [--sim-days N] [--home DIR [--reuse]] [--warehouse FILE]
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import simulated_setup  # noqa: E402
from grading import timed  # noqa: E402

ASSETS = ("signal_tags", "best_bets", "published_picks", "pick_accuracy", "signal_health_daily", "steering_report")
# what the picks read and the set-up builds (when in the graph)
GRADING = ("prediction_accuracy", "model_performance_daily", "market_regime", "pre_game_signal")
BUDGET_S = 10.0


def _ready(duckdb_path: Path, start: date, end: date) -> bool:
    from nba_props.io.warehouse import Warehouse

    store = Warehouse(duckdb_path)
    return all(
        store.table_exists(t) and store.load(t, start=start, end=end).height > 0
        for t in ("predictions", "prediction_accuracy")
    )


def simulated_season(home: Path, sim_days: int | None, assets: list[str], reuse: bool) -> dict:
    setup = simulated_setup(home, sim_days, then=GRADING, ready=_ready if reuse else None)
    if "setup_failed" in setup:
        return {"setup_failed": setup["setup_failed"], "setup_s": setup["setup_s"]}
    settings, start, end = setup["settings"], setup["start"], setup["end"]
    # the timed run records into an instance of its own: an event log grown by earlier runs (the
    # set-up, earlier timings) makes every event slower and would be measured as the assets'
    timed_home = home / "dagster_home_timed"
    shutil.rmtree(timed_home, ignore_errors=True)
    return {"season": settings.sim_season, "window": [start.isoformat(), end.isoformat()],
            "setup_s": setup["setup_s"], **timed(start, end, assets, settings, timed_home, BUDGET_S)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description="bench: picks")
    parser.add_argument("--sim-days", type=int, default=None, help="first N days of the simulated season only")
    parser.add_argument("--home", default=None, help="a folder for the project home (default: temporary)")
    parser.add_argument("--reuse", action="store_true", help="skip a set-up whose predictions and grading are there")
    parser.add_argument("--warehouse", default=None, help="copy this warehouse (season predictions + grading) first")
    args = parser.parse_args()
    base = Path(args.home or tempfile.mkdtemp(prefix="bench-picks-"))
    os.environ.pop("DAGSTER_HOME", None)
    os.environ["NBA_PROPS_PARTITION_SEASONS"] = "all"
    os.environ["NBA_PROPS_HOME"] = str(base / "probe")
    reuse = args.reuse
    if args.warehouse:
        (base / "sim").mkdir(parents=True, exist_ok=True)
        shutil.copy(args.warehouse, base / "sim" / "warehouse.duckdb")
        reuse = True

    figures: dict[str, object] = {"bench": "picks", "assets": list(ASSETS), "budget_s": BUDGET_S}
    figures["simulated"] = simulated_season(base / "sim", args.sim_days, list(ASSETS), reuse)
    print(f"simulated season: {figures['simulated']}")
    print(json.dumps(figures, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
