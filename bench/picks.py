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

An asset missing from the graph (built on another branch) is listed under `missing_assets`; an
asset whose input is missing is listed under `skipped` with the reason; the rest still run.
`--stand-in-best-bets` (before the merge only, when best_bets is missing): writes a best_bets
table from the season's predictions (per player-game the recommended, non-quarantined, lined
prediction with the largest edge; selected at edge >= 5; ranked by edge) so the ledger and its
grading can be timed; the JSON says so (`stand_in_best_bets`).

Usage: .venv/bin/python bench/picks.py [--sim-days N] [--home DIR [--reuse]] [--warehouse FILE]
       [--stand-in-best-bets]
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stdout
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grading import step_times  # noqa: E402

ASSETS = ("signal_tags", "best_bets", "published_picks", "pick_accuracy", "signal_health_daily", "steering_report")
# what the picks read and the set-up builds (when in the graph)
GRADING = ("prediction_accuracy", "model_performance_daily", "market_regime", "pre_game_signal")
BUDGET_S = 10.0


def _graph() -> dict:
    from nba_props import definitions

    graph = definitions.defs().resolve_asset_graph()
    return {key.to_user_string(): graph.get(key) for key in graph.get_all_asset_keys()}


def graph_assets(assets, stand_in: set[str]) -> tuple[list[str], list[str], dict[str, str]]:
    """(runnable, missing, skipped-with-reason) of `assets` in the code location's graph; an asset
    of `stand_in` counts as present (its table is written by hand)."""
    present = _graph()
    missing = [
        a
        for a in assets
        if a not in present or not present[a].is_materializable or present[a].tags.get("stand_in") == "true"
    ]  # a stand-in (defs/picks/stand_ins.py) builds nothing worth timing
    skipped, runnable = {}, []
    for asset in assets:
        if asset in missing:
            continue
        absent = [
            p.to_user_string()
            for p in present[asset].parent_keys
            if p.to_user_string() not in stand_in and p.to_user_string() in missing
        ]
        parents_skipped = [p.to_user_string() for p in present[asset].parent_keys if p.to_user_string() in skipped]
        if absent:
            skipped[asset] = f"its input {', '.join(absent)} is not an asset of this branch"
        elif parents_skipped:
            skipped[asset] = f"its input {', '.join(parents_skipped)} is skipped"
        else:
            runnable.append(asset)
    return runnable, missing, skipped


def _quiet(fn, *args, **kwargs):
    buffer = StringIO()
    with redirect_stdout(buffer):
        return fn(*args, **kwargs)


def _ready(duckdb_path: Path, start: date, end: date) -> bool:
    from nba_props.io.warehouse import Warehouse

    store = Warehouse(duckdb_path)
    return all(
        store.table_exists(t) and store.load(t, start=start, end=end).height > 0
        for t in ("predictions", "prediction_accuracy")
    )


def stand_in_best_bets(settings, start: date, end: date) -> int:
    """BEFORE the merge only: a best_bets table from the predictions (see the module doc)."""
    import polars as pl

    from nba_props.io.warehouse import Warehouse
    from nba_props.lib import tables
    from nba_props.lib.ledger import BEST_BETS_CONTRACT

    store = Warehouse(settings.duckdb_path)
    preds = store.load("predictions", start=start, end=end, declared=tables.TABLE_SCHEMAS["predictions"])
    lines = store.load("player_lines", start=start, end=end, declared=tables.TABLE_SCHEMAS["player_lines"])
    candidates = (
        preds.filter(
            pl.col("recommendation").is_in(["OVER", "UNDER"])
            & ~pl.col("quarantined").fill_null(False)
            & pl.col("line").is_not_null()
        )
        .sort("edge", descending=True)
        .unique(["game_id", "player_lookup"], keep="first")
        .join(
            lines.select(
                "game_id",
                "player_lookup",
                "player_name",
                "team",
                "opponent",
                "tip_time_utc",
                "line_book",
                "over_price",
                "under_price",
            ),
            on=["game_id", "player_lookup"],
            how="left",
        )  # fmt: skip
        .with_columns(selected=pl.col("edge") >= 5.0)
        .with_columns(
            rank=pl.when(pl.col("selected")).then(
                pl.col("edge").rank("ordinal", descending=True).over("game_date", pl.col("selected"))
            ),
            price=pl.when(pl.col("direction") == "OVER").then(pl.col("over_price")).otherwise(pl.col("under_price")),
            signals=pl.lit(["model_health"], dtype=pl.List(pl.Utf8)),
            angles=pl.lit([], dtype=pl.List(pl.Utf8)),
            health_gate_active=pl.lit(False),
            health_gate_reason=pl.lit(None, dtype=pl.Utf8),
            rejected_by=pl.when(~pl.col("selected")).then(pl.lit("edge_floor")),
            ultra=pl.col("edge") >= 6.0,
        )
    )
    frame = candidates.select(pl.col(c).cast(t) for c, t in BEST_BETS_CONTRACT.items())
    return store.replace_partitions("best_bets", frame, start=start, end=end, declared=BEST_BETS_CONTRACT)


def _timed(start: date, end: date, assets: list[str], settings, dagster_home: Path) -> dict:
    from nba_props.cli import run_backfill

    started = time.perf_counter()
    summary = run_backfill(start, end, select=assets, settings=settings, dagster_home=dagster_home, launched_by="cli")
    wall = time.perf_counter() - started
    steps = step_times(dagster_home, assets)
    per_asset = {a: steps.get(a, {}).get("compute_s") for a in assets}
    asset_s = sum(s for s in per_asset.values() if s is not None)
    return {
        "days": (end - start).days + 1,
        "asset_seconds": per_asset,
        "steps": steps,
        "rows": {a: summary.get(a, {}).get("rows") for a in assets},
        "asset_s": round(asset_s, 2),
        "run_wall_s": round(wall, 2),
        "overhead_s": round(wall - asset_s, 2),
        "within_budget": asset_s < BUDGET_S,
        "failed_steps": sorted(step for step, f in summary.items() if f.get("failed")),
        "failed_checks": {step: f["failed_checks"] for step, f in summary.items() if f.get("failed_checks")},
    }


def simulated_season(home: Path, sim_days: int | None, assets: list[str], reuse: bool, stand_in: bool) -> dict:
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
    if not (reuse and _ready(settings.duckdb_path, start, end)):
        upstream = ["schedule", "box_scores", "prop_line_snapshots", "injury_report", "player_lines", "player_features"]
        first_week, last_week = mondays(start, end)
        present = _graph()
        summaries = [
            _quiet(run_backfill, start, end, select=upstream, **runs),
            _quiet(run_backfill, first_week, last_week, job_name=TRAINING_JOB, **runs),
            _quiet(run_backfill, start, end, select=["predictions"], **runs),
            _quiet(run_backfill, start, end, select=[a for a in GRADING if a in present], **runs),
        ]
    setup = time.perf_counter() - started
    broken = sorted(step for summary in summaries for step, f in summary.items() if f.get("failed"))
    if broken:
        return {"setup_failed": broken, "setup_s": round(setup, 1)}
    extra = {}
    if stand_in:
        extra["stand_in_best_bets_rows"] = stand_in_best_bets(settings, start, end)
    return {"season": settings.sim_season, "window": [start.isoformat(), end.isoformat()],
            "setup_s": round(setup, 1), **extra, **_timed(start, end, assets, settings, dagster_home)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description="bench: picks")
    parser.add_argument("--sim-days", type=int, default=None, help="first N days of the simulated season only")
    parser.add_argument("--home", default=None, help="a folder for the project home (default: temporary)")
    parser.add_argument("--reuse", action="store_true", help="skip a set-up whose predictions and grading are there")
    parser.add_argument("--warehouse", default=None, help="copy this warehouse (season predictions + grading) first")
    parser.add_argument("--stand-in-best-bets", action="store_true",
                        help="before the merge: write best_bets from the predictions to time the ledger")  # fmt: skip
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

    runnable, missing, skipped = graph_assets(ASSETS, set())
    stand_in = args.stand_in_best_bets and "best_bets" in missing
    if stand_in:
        runnable, _, skipped = graph_assets(ASSETS, {"best_bets"})
        runnable = [a for a in runnable if a not in missing]
    figures: dict[str, object] = {"bench": "picks", "assets": runnable, "missing_assets": missing,
                                  "skipped": skipped, "stand_in_best_bets": stand_in, "budget_s": BUDGET_S}  # fmt: skip
    if missing:
        print(f"NOT in this branch's graph (merge the branches that build them): {', '.join(missing)}")
    for asset, reason in skipped.items():
        print(f"skipped {asset}: {reason}")
    if runnable:
        figures["simulated"] = simulated_season(base / "sim", args.sim_days, runnable, reuse, stand_in)
        print(f"simulated season: {figures['simulated']}")
    print(json.dumps(figures, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
