"""The one entry point: a lazily built `Definitions` over every module under `defs/` (assets, jobs,
sensors and the resource bindings in `defs/resources.py`), with every asset's automation
condition and freshness policy applied here, once (`nba_props/automation.py`), so an asset a
later module adds joins by default. Nothing is built at import time."""

from pathlib import Path

import dagster as dg

from nba_props.automation import apply_automation
from nba_props.resources import build_resources
from nba_props.settings import Settings


@dg.definitions
def defs() -> dg.Definitions:
    return apply_automation(dg.load_from_defs_folder(path_within_project=Path(__file__).parent))


def defs_with_settings(settings: Settings) -> dg.Definitions:
    """The same definitions with every resource built from explicit `settings` instead of the
    environment's: the CLI runs the evaluation on its own warehouse and data folder this way,
    without rewriting `os.environ`."""
    loaded = defs()
    return dg.Definitions(
        assets=loaded.assets,
        asset_checks=loaded.asset_checks,
        jobs=loaded.jobs,
        schedules=loaded.schedules,
        sensors=loaded.sensors,
        executor=loaded.executor,
        loggers=loaded.loggers,
        metadata=loaded.metadata,
        resources=build_resources(settings),
    )
