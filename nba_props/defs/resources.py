"""Resource bindings for the code location, chosen by settings (local DuckDB today; the cloud
variants plug in here without touching asset code)."""

import dagster as dg

from nba_props.resources import build_resources
from nba_props.settings import load_settings


@dg.definitions
def resources() -> dg.Definitions:
    # DuckDB allows one writer: every step runs in the launching process.
    return dg.Definitions(resources=build_resources(load_settings()), executor=dg.in_process_executor)
