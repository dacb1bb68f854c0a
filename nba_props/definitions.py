"""The one entry point: a lazily built `Definitions` over every module under `defs/` (assets, jobs,
and the resource bindings in `defs/resources.py`). Nothing is built at import time."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
