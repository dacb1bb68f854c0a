"""What every benchmark shares: its command line and the real-data folder it reads."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "nba"


def real_data_args(bench: str) -> tuple[argparse.Namespace, Path | None]:
    """(args, data folder); the folder is None (and the skip line printed) when it is absent."""
    parser = argparse.ArgumentParser(description=f"bench: {bench}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "box_scores").is_dir():
        print(json.dumps({"bench": bench, "skipped": f"no real data at {data}"}))
        return args, None
    return args, data
