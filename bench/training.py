"""Benchmark: one family fit on a 42-game-day window, and the full 2024-25 weekly walk-forward of
every enabled family, on real data (../shared/data/nba), through the lib functions the assets call.

Usage: .venv/bin/python bench/training.py [--repeat 3] [--data ../shared/data/nba]
Last line: one JSON object with `fit_median_s` and `season_walk_forward_s`.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import build_lines_and_features, feature_inputs, real_data_args  # noqa: E402

SEASON = (date(2024, 10, 22), date(2025, 4, 13))
FEATURES_FROM = date(2023, 10, 24)


def _features(data: Path):
    import polars as pl

    from nba_props.lib.sources.files import FilesProvider

    raw = feature_inputs(FilesProvider(data), FEATURES_FROM, SEASON[1])
    _, features = build_lines_and_features(raw, FEATURES_FROM, SEASON[1])
    return features, raw["box"].filter(pl.col("game_date") <= SEASON[1])


def main() -> int:
    args, data = real_data_args("training")
    if data is None:
        return 0

    from nba_props.io.artifacts import LocalArtifactStore
    from nba_props.lib.features.contract import load_contract
    from nba_props.lib.models import runner
    from nba_props.lib.models.registry import load_models_config
    from nba_props.lib.models.training import train_family, training_frame
    from nba_props.seasons import week_starts

    started = time.perf_counter()
    features, box = _features(data)
    print(
        f"features for {FEATURES_FROM} .. {SEASON[1]}: {features.height} rows in {time.perf_counter() - started:.1f} s"
    )
    config, contract = load_models_config(), load_contract()

    # One fit: the no-vegas MAE family on a 42-game-day window ending before 2025-01-13.
    family = config.family("v12_noveg_mae").model_copy(update={"window_game_days": 42})
    week = date(2025, 1, 13)
    frame = training_frame(features, box, family, contract, week_start=week)
    fit_times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        train_family(frame, family, contract, config, week_start=week)
        fit_times.append(time.perf_counter() - t0)
    print(f"one fit ({family.id}, 42 game days, {frame.height} rows): median {statistics.median(fit_times):.2f} s")

    weeks = week_starts(*SEASON)
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        outcome = runner.train_weeks(features, box, weeks, config, contract, LocalArtifactStore(folder))
        walk_forward = time.perf_counter() - t0
    states = outcome.registry.group_by("lifecycle_state").len().sort("lifecycle_state").rows()
    print(
        f"walk-forward {len(weeks)} weeks x {len(config.enabled_families)} families: {outcome.registry.height} models "
        f"({dict(states)}), {len(outcome.skipped)} skipped, {walk_forward:.1f} s"
    )
    print(
        json.dumps(
            {
                "bench": "training",
                "fit_rows": frame.height,
                "fit_median_s": round(statistics.median(fit_times), 2),
                "weeks": len(weeks),
                "models": outcome.registry.height,
                "skipped": len(outcome.skipped),
                "season_walk_forward_s": round(walk_forward, 1),
                "repeat": args.repeat,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
