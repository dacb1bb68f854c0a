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


def feature_inputs(provider, start, end) -> dict:
    """Raw inputs for lines + features over [start, end], with the histories the assets load."""
    from datetime import timedelta

    from nba_props.defs.features.assets import WINDOWS

    box_start = start - timedelta(days=max(WINDOWS.features_box_scores, WINDOWS.lines_box_scores))
    return {
        "snapshots": provider.prop_line_snapshots(start - timedelta(days=WINDOWS.lines_snapshots), end).rows,
        "schedule": provider.schedule(start, end).rows,
        "box": provider.box_scores(box_start, end).rows,
        "injuries": provider.injury_report(start, end).rows,
    }


def build_lines_and_features(raw: dict, start, end):
    """What the player_lines and player_features assets compute, straight through lib."""
    from nba_props.defs.features.assets import CONTRACT, LINE_CONFIG
    from nba_props.lib.features.build import build_player_features
    from nba_props.lib.features.inputs import FeatureInputs
    from nba_props.lib.lines import build_player_lines

    lines = build_player_lines(
        raw["snapshots"], raw["schedule"], raw["box"], raw["injuries"], start=start, end=end, config=LINE_CONFIG
    )
    features = build_player_features(
        FeatureInputs(
            targets=lines,
            box_history=raw["box"],
            line_history=lines,
            schedule=raw["schedule"],
            injuries=raw["injuries"],
        ),
        CONTRACT,
    )
    return lines, features
