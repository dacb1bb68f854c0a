"""Benchmark: ingest one full real season (2024-25 regular season from ../shared/data/nba) as a
single-run backfill of the ingest assets into a fresh DuckDB, plus the provider reads alone.

Usage: .venv/bin/python bench/ingest.py [--repeat 3] [--data ../shared/data/nba]
Last line: one JSON object with the figures.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import real_data_args  # noqa: E402

START, END = date(2024, 10, 22), date(2025, 4, 13)


def main() -> int:
    args, data = real_data_args("ingest")
    if data is None:
        return 0

    from nba_props.lib.sources.files import FilesProvider

    provider = FilesProvider(data)
    read_times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        box = provider.box_scores(START, END).rows
        provider.schedule(START, END)
        provider.prop_line_snapshots(START, END)
        read_times.append(time.perf_counter() - started)

    run_times, db_sizes = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as home:
            os.environ.update(
                NBA_PROPS_HOME=home,
                NBA_PROPS_PROVIDER="files",
                NBA_PROPS_DATA_DIR=str(data),
                DAGSTER_HOME=str(Path(home) / "dagster_home"),
            )
            from nba_props.cli import run_backfill

            started = time.perf_counter()
            summary = run_backfill(START, END)
            run_times.append(time.perf_counter() - started)
            db_sizes.append((Path(home) / "warehouse.duckdb").stat().st_size)
            print({step: figures for step, figures in summary.items()})

    figures = {
        "bench": "ingest",
        "season": "2024-25",
        "days": (END - START).days + 1,
        "box_score_rows": box.height,
        "provider_read_median_s": round(statistics.median(read_times), 3),
        "season_backfill_median_s": round(statistics.median(run_times), 2),
        "rows_per_s": round(box.height / statistics.median(run_times)),
        "duckdb_mb": round(statistics.median(db_sizes) / 1e6, 1),
        "repeat": args.repeat,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
