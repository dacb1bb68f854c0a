"""The one entry point: loads every module under `defs/` and binds resources chosen by settings."""

from pathlib import Path

import dagster as dg

from nba_props.defs.resources import build_resources
from nba_props.settings import load_settings

DEFS_FOLDER = Path(__file__).parent / "defs"


def build_definitions() -> dg.Definitions:
    settings = load_settings()
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=DEFS_FOLDER),
        # DuckDB allows one writer: every step runs in the launching process.
        dg.Definitions(resources=build_resources(settings), executor=dg.in_process_executor),
    )


defs = build_definitions()
