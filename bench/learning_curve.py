"""Research: the learning curve of a line-free family — training window length vs walk-forward MAE
against actual points — on a season that is NOT an evaluation window (issue 13: choose the window
from training data only; default the 2023-24 regular season, before both visible windows).

Each `--windows` value x `--feature-sets` value is a copy of `--family` with that
`window_game_days` (game dates with training rows before the week's Monday) and feature set. Every `--every`-th Monday of the range is trained through
`runner.train_weeks` (the production fit: split, early stopping, refit, calibration, gates) and its
week is predicted with `runner.predict_days`; the MAE is over every predicted row with a result
(lined or not), the same rows for every window (rows all copies predicted); the JSON also gives
each predicted week's MAE per variant (`weekly`).

Usage: .venv/bin/python bench/learning_curve.py --warehouse W [--start 2023-10-30 --end 2024-04-14]
       [--family v12_noveg_mae] [--windows 90,180,365,1000] [--feature-sets v12_noveg[,v13_noveg]] [--every 2]
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from walk_forward import _load, _override  # noqa: E402

from nba_props.io.artifacts import LocalArtifactStore  # noqa: E402
from nba_props.lib.features.contract import load_contract  # noqa: E402
from nba_props.lib.models import runner  # noqa: E402
from nba_props.lib.models.registry import load_models_config  # noqa: E402
from nba_props.seasons import week_starts  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description="research: window length vs walk-forward MAE")
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2023, 10, 30))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2024, 4, 14))
    parser.add_argument("--family", default="v12_noveg_mae")
    parser.add_argument("--windows", default="90,180,365,1000")
    parser.add_argument("--feature-sets", default=None, help="comma-separated sets (default: the family's)")
    parser.add_argument("--every", type=int, default=2, help="train every N-th Monday of the range")
    args = parser.parse_args()

    started = time.perf_counter()
    windows = [int(w) for w in args.windows.split(",")]
    base = load_models_config()
    feature_sets = args.feature_sets.split(",") if args.feature_sets else [base.family(args.family).feature_set]
    grid = {f"w{w}_{fs}": (w, fs) for fs in feature_sets for w in windows}
    copies = [f"{name}={args.family}" for name in grid]
    sets = [f"{name}.{key}={value}" for name, (w, fs) in grid.items()
            for key, value in (("window_game_days", w), ("feature_set", fs))]  # fmt: skip
    config = _override(base, sets, list(grid), copies)
    contract = load_contract()
    features, box, lines = _load(args.warehouse, args.end)
    weeks = week_starts(args.start, args.end)[:: args.every]
    store = LocalArtifactStore(tempfile.mkdtemp(prefix="learning-curve-"))
    trained = runner.train_weeks(features, box, weeks, config, contract, store, lines=lines)
    features = runner.with_line_markets(features, lines)
    frames = []
    for week in weeks:
        out = runner.predict_days(
            features, trained.registry, config, store, start=week, end=week + timedelta(days=6), lines=lines,
            contract=contract,
        )  # fmt: skip
        frames.append(out.predictions)
    truth = box.filter(pl.col("played") & pl.col("points").is_not_null()).select(
        "game_id", "player_lookup", actual=pl.col("points").cast(pl.Float64)
    )
    preds = pl.concat(frames).join(truth, on=["game_id", "player_lookup"], how="inner")
    common = preds.group_by("game_id", "player_lookup").len().filter(pl.col("len") == len(grid))
    preds = preds.join(common.select("game_id", "player_lookup"), on=["game_id", "player_lookup"], how="semi")
    n_train = trained.registry.group_by("family").agg(pl.col("n_train").median().alias("n_train_median"))
    curve = (
        preds.group_by("family")
        .agg(n=pl.len(), mae=(pl.col("predicted_points") - pl.col("actual")).abs().mean())
        .join(n_train, on="family", how="left")
        .with_columns(
            window=pl.col("family").replace_strict({n: w for n, (w, _) in grid.items()}, return_dtype=pl.Int64),
            feature_set=pl.col("family").replace_strict({n: fs for n, (_, fs) in grid.items()}),
        )
        .sort("feature_set", "window")
    )
    # per predicted week (the Monday it starts), for "how many weeks is a variant lower"
    weekly = (
        preds.with_columns(week=pl.col("game_date").dt.truncate("1w"))
        .group_by("week", "family")
        .agg(mae=(pl.col("predicted_points") - pl.col("actual")).abs().mean())
        .sort("week", "family")
    )
    for row in curve.iter_rows(named=True):
        print(f"{row['feature_set']:>10} window {row['window']:>5} game dates: MAE {row['mae']:.4f} over {row['n']} "
              f"rows (median training rows {row['n_train_median']})")  # fmt: skip
    result = {
        "bench": "learning_curve", "family": args.family, "range": [str(args.start), str(args.end)],
        "weeks": [str(w) for w in weeks],
        "curve": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items() if k != "family"}
                  for r in curve.iter_rows(named=True)],
        "weekly": {str(k[0]): {n: round(m, 4) for n, m in zip(g["family"], g["mae"], strict=True)}
                   for k, g in weekly.group_by("week", maintain_order=True)},
        "skipped": trained.skipped, "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
