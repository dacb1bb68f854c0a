"""Benchmark: grading + performance + regime (prediction_accuracy, model_performance_daily,
market_regime, pre_game_signal) over the whole real 2025-26 window (../shared/data/nba; skipped
cleanly when absent) and the whole simulated season, each in ONE single-run backfill.

Set-up (not timed): the upstream graph of each window in its own temporary project home
(real: `nba-props evaluate`'s steps — ingest, lines + features from `--history-days` before the
window, walk-forward training, predictions; simulated: the demo's — ingest + features for the
season, training of every week, predictions). Timed: one run of the assets above for the window.
Figures, from that run's step events (`step_times`): per asset `compute_s` = its step
(STEP_START .. STEP_SUCCESS) minus the span of its per-partition ASSET_MATERIALIZATION events
(Dagster writing one materialization per partition with its metadata, ~35 ms each on this
machine): reading the inputs, the lib logic and writing the table; their sum `asset_s` (budget
< 10 s per season); `overhead_s` = the run's wall time minus `asset_s` (launch, planning and
those event writes; `steps` gives each step's `step_s` / `events_s` / `compute_s`).

An asset missing from the graph (built on another branch) is listed under `missing_assets`; an
asset whose input is missing is listed under `skipped` with the reason; the rest still run.

Usage: .venv/bin/python bench/grading.py [--data ../shared/data/nba] [--history-days 313]
       [--sim-days N (default: the whole simulated season)] [--only real|sim] [--home DIR [--reuse]]
       [--stand-in-grading]
`--reuse` skips the set-up of a window whose home (under --home) already holds its predictions.
`--stand-in-grading` (before the merge only) writes a prediction_accuracy table graded by
lib.grading so that market_regime can be timed; the JSON says so (`stand_in_grading`).
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_DATA, quiet, simulated_setup  # noqa: E402

ASSETS = ("prediction_accuracy", "model_performance_daily", "market_regime", "pre_game_signal")
REAL_WINDOW = (date(2025, 10, 21), date(2025, 11, 23))
BUDGET_S = 10.0
STAND_IN = {"on": False}  # --stand-in-grading
REUSE = {"on": False}  # --reuse


def _has_predictions(duckdb_path: Path, start: date, end: date) -> bool:
    from nba_props.io.warehouse import Warehouse

    store = Warehouse(duckdb_path)
    return (
        REUSE["on"] and store.table_exists("predictions") and store.load("predictions", start=start, end=end).height > 0
    )


def _graph_assets() -> tuple[list[str], list[str], dict[str, str]]:
    """(runnable, missing, skipped-with-reason) of ASSETS in the code location's graph."""
    import dagster as dg

    from nba_props import definitions

    graph = definitions.defs().resolve_asset_graph()
    present = {key.to_user_string(): graph.get(key) for key in graph.get_all_asset_keys()}
    missing = [a for a in ASSETS if a not in present or not present[a].is_materializable]
    skipped, runnable = {}, []
    for asset in ASSETS:
        if asset in missing:
            continue
        absent = [
            p.to_user_string()
            for p in present[asset].parent_keys
            if p.to_user_string() in missing or not graph.get(p).is_materializable and p.to_user_string() in ASSETS
        ]
        if absent:
            skipped[asset] = f"its input {', '.join(absent)} is not an asset of this branch"
        else:
            runnable.append(asset)
    del dg
    return runnable, missing, skipped


def stand_in_grading(settings, start: date, end: date) -> int:
    """BEFORE the merge only (`--stand-in-grading`): write a `prediction_accuracy` table graded by
    `lib.grading.grade` from the warehouse's predictions, box scores and schedule (not the real
    asset: no prices, no graded_at, the grader's own void reasons), so that market_regime can be
    timed on a season. Returns the rows written."""
    import polars as pl

    from nba_props.io.warehouse import Warehouse
    from nba_props.lib import tables
    from nba_props.lib.grading import grade

    store = Warehouse(settings.duckdb_path)
    contract = tables.TABLE_SCHEMAS["prediction_accuracy"]
    preds = store.load("predictions", start=start, end=end, declared=tables.TABLE_SCHEMAS["predictions"])
    box = store.load("box_scores", start=start, end=end).select(
        "game_id", "player_lookup", actual_points=pl.col("points").cast(pl.Float64)
    )
    schedule = store.load("schedule", start=start, end=end).select("game_id", game_status=pl.col("status"))
    graded = grade(
        preds.join(box, on=["game_id", "player_lookup"], how="left").join(schedule, on="game_id", how="left")
    ).with_columns(
        signed_error=pl.col("predicted_points") - pl.col("actual_points"),
        abs_error=(pl.col("predicted_points") - pl.col("actual_points")).abs(),
    )
    graded = graded.with_columns(
        pl.lit(None, dtype=dtype).alias(name) for name, dtype in contract.items() if name not in graded.columns
    ).select(pl.col(name).cast(dtype) for name, dtype in contract.items())
    return store.replace_partitions("prediction_accuracy", graded, start=start, end=end, declared=contract)


def step_times(dagster_home: Path, assets: list[str]) -> dict[str, dict[str, float]]:
    """Per asset step of the home's newest run, from its events: `step_s` (STEP_START ..
    STEP_SUCCESS), `events_s` (first .. last ASSET_MATERIALIZATION: Dagster writing one
    materialization per partition, with its metadata) and `compute_s` = step_s - events_s (reading
    the inputs, the lib logic, writing the table)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.all_logs(run.run_id)
    marks: dict[str, dict[str, list[float]]] = {a: {"start": [], "end": [], "mat": []} for a in assets}
    for record in records:
        event = record.dagster_event
        if event is None or event.step_key not in marks:
            continue
        kind = event.event_type
        bucket = marks[event.step_key]
        if kind == dg.DagsterEventType.STEP_START:
            bucket["start"].append(record.timestamp)
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            bucket["end"].append(record.timestamp)
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            bucket["mat"].append(record.timestamp)
    out = {}
    for asset, bucket in marks.items():
        if not bucket["start"] or not bucket["end"]:
            continue
        step = bucket["end"][-1] - bucket["start"][0]
        events = (max(bucket["mat"]) - min(bucket["mat"])) if bucket["mat"] else 0.0
        out[asset] = {"step_s": round(step, 2), "events_s": round(events, 2), "compute_s": round(step - events, 2)}
    return out


def shared_step_times(dagster_home: Path, step: str, assets: list[str]) -> dict[str, dict[str, float]]:
    """Per asset of one shared step of the home's newest run: `compute_s` = the `build_seconds`
    its output recorded (reading nothing: the step loads the inputs once; the lib logic, the files,
    the table rows); `step_s` the whole step's (inputs, every asset, Dagster's events)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.all_logs(run.run_id)
    start = end = None
    built: dict[str, float] = {}
    for record in records:
        event = record.dagster_event
        if event is None or event.step_key != step:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            start = record.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            end = record.timestamp
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            seconds = event.step_materialization_data.materialization.metadata.get("build_seconds")
            if seconds is not None:
                built[event.asset_key.to_user_string()] = seconds.value
    step_s = round(end - start, 2) if start is not None and end is not None else None
    return {a: {"compute_s": round(built[a], 2), "step_s": step_s} for a in assets if a in built}


def timed(
    start: date,
    end: date,
    assets: list[str],
    settings,
    dagster_home: Path,
    budget_s: float = BUDGET_S,
    shared_step: str | None = None,
) -> dict:
    """One single-run backfill of `assets`, timed per asset (`step_times`); the stage benches share it.
    `shared_step`: the assets are one step (the publish step), timed per asset by the
    `build_seconds` each records (`shared_step_times`)."""
    from nba_props.cli import run_backfill

    started = time.perf_counter()
    summary = run_backfill(start, end, select=assets, settings=settings, dagster_home=dagster_home, launched_by="cli")
    wall = time.perf_counter() - started
    if shared_step is None:
        steps = step_times(dagster_home, assets)
    else:
        steps = shared_step_times(dagster_home, shared_step, assets)
    per_asset = {a: steps.get(a, {}).get("compute_s") for a in assets}
    asset_s = sum(s for s in per_asset.values() if s is not None)
    failed = sorted(step for step, f in summary.items() if f.get("failed"))
    failed_checks = {step: f["failed_checks"] for step, f in summary.items() if f.get("failed_checks")}
    return {
        "days": (end - start).days + 1,
        "asset_seconds": per_asset,
        "steps": steps,
        "rows": {a: summary.get(a, {}).get("rows") for a in assets},
        "asset_s": round(asset_s, 2),
        "run_wall_s": round(wall, 2),
        # everything else of the run: launch, planning, per-partition materialization events
        "overhead_s": round(wall - asset_s, 2),
        "within_budget": asset_s < budget_s,
        "failed_steps": failed,
        "failed_checks": failed_checks,
    }


def real_window(data: Path, home: Path, history_days: int, assets: list[str]) -> dict:
    from nba_props.cli import main as cli_main
    from nba_props.settings import load_settings

    start, end = REAL_WINDOW
    os.environ["NBA_PROPS_HOME"] = str(home)
    eval_home = home / "evaluation" / data.resolve().name  # where `evaluate` keeps its warehouse
    started = time.perf_counter()
    argv = ["evaluate", "--data", str(data), "--start", start.isoformat(), "--end", end.isoformat(),
            "--history-days", str(history_days), "--out", str(home / "report")]  # fmt: skip
    code = 0 if _has_predictions(eval_home / "warehouse.duckdb", start, end) else quiet(cli_main, argv)
    setup = time.perf_counter() - started
    if code != 0:
        return {"setup_failed": "nba-props evaluate failed", "setup_s": round(setup, 1)}
    settings = load_settings(home=eval_home, provider="files", data_dir=data.resolve())
    extra = {}
    if STAND_IN["on"]:
        extra["stand_in_prediction_accuracy_rows"] = stand_in_grading(settings, start, end)
    return {"window": [start.isoformat(), end.isoformat()], "setup_s": round(setup, 1), **extra,
            **timed(start, end, assets, settings, eval_home / "dagster_home")}  # fmt: skip


def simulated_season(home: Path, sim_days: int | None, assets: list[str]) -> dict:
    setup = simulated_setup(home, sim_days, ready=_has_predictions)
    if "setup_failed" in setup:
        return {"setup_failed": setup["setup_failed"], "setup_s": setup["setup_s"]}
    settings, start, end = setup["settings"], setup["start"], setup["end"]
    extra = {}
    if STAND_IN["on"]:
        extra["stand_in_prediction_accuracy_rows"] = stand_in_grading(settings, start, end)
    return {"season": settings.sim_season, "window": [start.isoformat(), end.isoformat()],
            "setup_s": setup["setup_s"], **extra, **timed(start, end, assets, settings, setup["dagster_home"])}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description="bench: grading")
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--history-days", type=int, default=313, help="features before the real window")
    parser.add_argument("--sim-days", type=int, default=None, help="first N days of the simulated season only")
    parser.add_argument("--only", choices=("real", "sim"), default=None)
    parser.add_argument("--home", default=None, help="a folder for the project homes (default: temporary)")
    parser.add_argument(
        "--stand-in-grading",
        action="store_true",
        help="before the merge: grade with lib.grading into prediction_accuracy (not the asset) to time market_regime",
    )
    parser.add_argument("--reuse", action="store_true", help="skip a set-up whose predictions are already there")
    args = parser.parse_args()
    REUSE["on"] = args.reuse
    base = Path(args.home or tempfile.mkdtemp(prefix="bench-grading-"))
    os.environ.pop("DAGSTER_HOME", None)
    os.environ["NBA_PROPS_PARTITION_SEASONS"] = "all"  # both windows must be partitions (read at import)
    os.environ["NBA_PROPS_HOME"] = str(base / "probe")

    runnable, missing, skipped = _graph_assets()
    if args.stand_in_grading and "prediction_accuracy" in missing:
        STAND_IN["on"] = True
        runnable = [a for a in ASSETS if a in runnable or (a in skipped and "prediction_accuracy" in skipped[a])]
        skipped = {a: r for a, r in skipped.items() if a not in runnable}
    figures: dict[str, object] = {"bench": "grading", "assets": runnable, "missing_assets": missing,
                                  "skipped": skipped, "stand_in_grading": STAND_IN["on"], "budget_s": BUDGET_S}  # fmt: skip
    if missing:
        print(f"NOT in this branch's graph (merge the branches that build them): {', '.join(missing)}")
    for asset, reason in skipped.items():
        print(f"skipped {asset}: {reason}")
    data = Path(args.data)
    if args.only != "sim":
        if (data / "box_scores").is_dir():
            figures["real_2025_26"] = real_window(data, base / "real", args.history_days, runnable)
            print(f"real 2025-26 window: {figures['real_2025_26']}")
        else:
            figures["real_2025_26"] = {"skipped": f"no real data at {data}"}
    if args.only != "real":
        figures["simulated"] = simulated_season(base / "sim", args.sim_days, runnable)
        print(f"simulated season: {figures['simulated']}")
    print(json.dumps(figures, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
