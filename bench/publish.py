"""Benchmark: the publish stage (every file of config/publish.yaml) for every date of a simulated
season in ONE single-run backfill.

Set-up (not timed), in its own temporary project home: the demo's upstream, training, predictions,
the grading / health and the picks chain the files read (bench/picks.py's set-up plus its assets).
`--home DIR --reuse` skips a set-up whose warehouse already holds the season's ledger and graded
picks (e.g. bench/picks.py's home). Timed: one run of the publish assets (one step). Figures as
bench/grading.py (`shared_step_times`): per asset `compute_s` (the `build_seconds` it records),
their sum `asset_s` (budget < 5 s per season) and the size of the season's all.json (budget < 500 KB).

Usage: .venv/bin/python bench/publish.py [--sim-days N] [--home DIR [--reuse]]
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
from picks import ASSETS as PICKS  # noqa: E402
from picks import GRADING  # noqa: E402

BUDGET_S = 5.0
ALL_JSON_BUDGET_KB = 500


def _assets() -> list[str]:
    from nba_props.lib.publish import load_publish_config

    return list(load_publish_config().assets)


def _ready(duckdb_path: Path, start: date, end: date) -> bool:
    from nba_props.io.warehouse import Warehouse

    store = Warehouse(duckdb_path)
    return all(
        store.table_exists(t) and store.load(t, start=start, end=end).height > 0
        for t in ("predictions", "published_picks", "pick_accuracy", "signal_health_daily")
    )


def simulated_season(home: Path, sim_days: int | None, reuse: bool) -> dict:
    setup = simulated_setup(home, sim_days, then=(*GRADING, *PICKS), ready=_ready if reuse else None)
    if "setup_failed" in setup:
        return {"setup_failed": setup["setup_failed"], "setup_s": setup["setup_s"]}
    settings, start, end = setup["settings"], setup["start"], setup["end"]
    timed_home = home / "dagster_home_timed"  # a fresh event log (see bench/picks.py)
    shutil.rmtree(timed_home, ignore_errors=True)
    figures = timed(start, end, _assets(), settings, timed_home, BUDGET_S, shared_step="publish")
    from nba_props.lib.publish import load_publish_config

    config = load_publish_config()
    all_json = settings.artifacts_dir / config.relpath(config.files_of("best_bets_all_json")[0], end)
    size_kb = round(all_json.stat().st_size / 1024, 1) if all_json.is_file() else None
    files = sorted((settings.artifacts_dir / config.prefix).rglob("*.json"))
    return {"season": settings.sim_season, "window": [start.isoformat(), end.isoformat()], "setup_s": setup["setup_s"],
            **figures, "all_json_kb": size_kb, "all_json_within_budget": size_kb is not None and
            size_kb < ALL_JSON_BUDGET_KB, "files_written": len(files),
            "files_kb": round(sum(f.stat().st_size for f in files) / 1024, 1)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description="bench: publish")
    parser.add_argument("--sim-days", type=int, default=None, help="first N days of the simulated season only")
    parser.add_argument("--home", default=None, help="a folder for the project home (default: temporary)")
    parser.add_argument("--reuse", action="store_true", help="skip a set-up whose ledger and grading are there")
    args = parser.parse_args()
    base = Path(args.home or tempfile.mkdtemp(prefix="bench-publish-"))
    os.environ.pop("DAGSTER_HOME", None)
    os.environ["NBA_PROPS_PARTITION_SEASONS"] = "all"
    os.environ["NBA_PROPS_HOME"] = str(base / "probe")
    figures: dict[str, object] = {"bench": "publish", "assets": _assets(), "budget_s": BUDGET_S,
                                  "all_json_budget_kb": ALL_JSON_BUDGET_KB}  # fmt: skip
    figures["simulated"] = simulated_season(base / "sim", args.sim_days, args.reuse)
    print(f"simulated season: {figures['simulated']}")
    print(json.dumps(figures, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
