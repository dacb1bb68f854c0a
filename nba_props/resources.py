"""Dagster resources chosen by settings: storage, artifacts and the data provider.

`defs/resources.py` binds them into the definitions; tests and the CLI build them the same way."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from nba_props.io.artifacts import ArtifactStoreResource
from nba_props.io.io_manager import DuckDBPolarsIOManager, WarehouseResource
from nba_props.lib.sources.base import Provider
from nba_props.lib.sources.factory import make_provider
from nba_props.settings import Settings


class ProviderResource(dg.ConfigurableResource):
    """The data source the ingest assets read: `simulated` (default) or `files`."""

    provider: str = "simulated"
    data_dir: str
    sim_season: str = "2024-25"
    sim_seed: int = 7

    def get(self) -> Provider:
        return make_provider(self.provider, Path(self.data_dir), sim_season=self.sim_season, sim_seed=self.sim_seed)


class SettingsResource(dg.ConfigurableResource):
    """The settings the resources were built from, in their public form (never secrets): recorded
    as `settings` in every materialization, so a run's metadata shows the settings it really ran with
    (the CLI builds resources from explicit settings, not from the environment)."""

    public: dict[str, str]

    def metadata(self) -> dg.MetadataValue:
        return dg.MetadataValue.json(dict(self.public))


def build_resources(settings: Settings) -> dict[str, object]:
    if settings.storage != "duckdb":
        raise NotImplementedError(
            f"NBA_PROPS_STORAGE={settings.storage!r}: only 'duckdb' is implemented so far (BigQuery comes later)"
        )
    warehouse = WarehouseResource(database=str(settings.duckdb_path))
    return {
        "io_manager": DuckDBPolarsIOManager(storage=warehouse),
        "warehouse": warehouse,
        "artifacts": ArtifactStoreResource(root=str(settings.artifacts_dir)),
        "settings": SettingsResource(public=settings.public_dict()),
        "provider": ProviderResource(
            provider=settings.provider,
            data_dir=str(settings.data_dir),
            sim_season=settings.sim_season,
            sim_seed=settings.sim_seed,
        ),
    }
