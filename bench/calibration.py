"""Measurement (not a test): the champion's P(over) calibration on the real sportsbook window.

Builds lines + features with the assets' lib pipeline for 2024-10-22 .. 2025-11-23 (DFS lines of
2024-25, Odds API lines of 2025-26), trains the champion family only for the weeks 2025-10-20 ..
2025-11-17 (walk-forward, each week on games before its Monday), predicts 2025-10-21 .. 2025-11-23,
grades with the shared rules and prints the model's Brier, the market's Brier on the priced rows
and the ten-bin calibration table (lib/evaluation.evaluate).

Usage: .venv/bin/python bench/calibration.py [--data ../shared/data/nba]
Last line: one JSON object (brier, market_brier, brier_priced, calibration table).
"""

from __future__ import annotations

import inspect
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import build_lines_and_features, feature_inputs, real_data_args  # noqa: E402

FEATURES = (date(2024, 10, 22), date(2025, 11, 23))
WEEKS = (date(2025, 10, 20), date(2025, 11, 17))
PREDICT = (date(2025, 10, 21), date(2025, 11, 23))


def main() -> int:
    _, data = real_data_args("calibration")
    if data is None:
        return 0
    import polars as pl

    from nba_props.io.artifacts import LocalArtifactStore
    from nba_props.lib.evaluation import evaluate
    from nba_props.lib.features.contract import load_contract
    from nba_props.lib.models import runner
    from nba_props.lib.models.graded import graded_predictions
    from nba_props.lib.models.registry import load_models_config
    from nba_props.lib.sources.files import FilesProvider

    started = time.perf_counter()
    raw = feature_inputs(FilesProvider(data), *FEATURES)
    lines, features = build_lines_and_features(raw, *FEATURES)
    print(
        f"lines + features {FEATURES[0]} .. {FEATURES[1]}: {features.height} rows, "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    config, contract = load_models_config(), load_contract()
    config = config.model_copy(update={"families": (config.family(config.champion),)})
    box = raw["box"]
    weeks = [WEEKS[0] + timedelta(weeks=i) for i in range((WEEKS[1] - WEEKS[0]).days // 7 + 1)]
    lines_kw = {"lines": lines} if "lines" in inspect.signature(runner.train_weeks).parameters else {}
    with tempfile.TemporaryDirectory() as folder:
        store = LocalArtifactStore(folder)
        trained = runner.train_weeks(
            features, box.filter(pl.col("game_date") < WEEKS[1]), weeks, config, contract, store, **lines_kw
        )
        pred_kw = {"lines": lines} if "lines" in inspect.signature(runner.predict_days).parameters else {}
        predicted = runner.predict_days(
            features, trained.registry, config, store, start=PREDICT[0], end=PREDICT[1], contract=contract, **pred_kw
        )
    for row in trained.registry.iter_rows(named=True):
        metrics = json.loads(row["metrics"])
        print(
            row["week_start"],
            row["model_id"],
            row["lifecycle_state"],
            f"train {row['train_start']}..{row['train_end']}",
            f"eval {row['eval_start']}..{row['eval_end']}",
            "calibration:",
            json.dumps(metrics.get("calibration")),
        )
    print("skipped:", trained.skipped, "missing:", predicted.missing)
    predictions = predicted.predictions
    graded = graded_predictions(
        predictions, box.filter(pl.col("game_date").is_between(*PREDICT)), lines, raw["schedule"]
    )
    report = evaluate(graded)
    table = [{k: b[k] for k in ("bin", "n", "mean_p", "observed")} for b in report["calibration"]]
    print(
        f"predictions {predictions.height}, quarantined {int(predictions['quarantined'].sum())}, "
        f"graded WIN/LOSS {graded.filter(pl.col('result').is_in(['WIN', 'LOSS'])).height}"
    )
    print(
        f"brier {report['brier']} (n={report['n_brier']}), market_brier {report['market_brier']}, "
        f"model on the same priced rows {report['brier_priced']} (n={report['n_market']})"
    )
    for b in table:
        print(f"  {b['bin']}: n={b['n']:5d} mean_p={b['mean_p']} observed={b['observed']}")
    print(
        json.dumps(
            {
                "bench": "calibration",
                "brier": report["brier"],
                "n_brier": report["n_brier"],
                "market_brier": report["market_brier"],
                "brier_priced": report["brier_priced"],
                "n_market": report["n_market"],
                "mae": report.get("mae"),
                "line_mae": report.get("line_mae"),
                "calibration": table,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
