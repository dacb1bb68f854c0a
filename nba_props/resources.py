"""Dagster resources chosen by settings: storage, artifacts and the data provider.

`defs/resources.py` binds them into the definitions; tests and the CLI build them the same way."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from nba_props.alerts import AlertSink
from nba_props.io.artifacts import ArtifactStoreResource
from nba_props.io.io_manager import DuckDBPolarsIOManager, WarehouseResource
from nba_props.lib.sources.base import Provider
from nba_props.lib.sources.factory import make_provider
from nba_props.settings import Settings, env_var


class ProviderResource(dg.ConfigurableResource):
    """The data source the ingest assets read: `simulated` (default) or `files`."""

    provider: str = "simulated"
    data_dir: str
    sim_season: str = "2024-25"
    sim_seed: int = 7
    # The replay's "late data" fault: {game date: ISO instant with offset}; that date's box scores
    # are not published before the instant (only when reading as of a clock).
    box_scores_withheld_until: dict[str, str] = {}

    def get(self) -> Provider:
        return make_provider(
            self.provider,
            Path(self.data_dir),
            sim_season=self.sim_season,
            sim_seed=self.sim_seed,
            box_scores_withheld_until=self.box_scores_withheld_until,
        )


class ClockResource(dg.ConfigurableResource):
    """The platform's "now": the wall clock unless `frozen_at` (an ISO instant with offset) is set.

    The replay sets `frozen_at` in each run's config (and in each sensor tick's resources), so
    sensors, freshness checks and the providers (`as_of`) all see the simulated time; production
    leaves it unset. Settings: NBA_PROPS_CLOCK."""

    frozen_at: str | None = None

    def now(self) -> datetime:
        return self.as_of() or datetime.now(UTC)

    def as_of(self) -> datetime | None:
        """The frozen instant (UTC) a provider must not read beyond; None when the clock is live."""
        if self.frozen_at is None:
            return None
        instant = datetime.fromisoformat(self.frozen_at)
        if instant.tzinfo is None:
            raise ValueError(f"clock frozen_at={self.frozen_at!r} needs a UTC offset")
        return instant.astimezone(UTC)


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
        "clock": ClockResource(frozen_at=None if settings.clock is None else settings.clock.isoformat()),
        "alert_sink": AlertSink(database=str(settings.duckdb_path), webhook_url=_webhook_url(settings)),
        "provider": ProviderResource(
            provider=settings.provider,
            data_dir=str(settings.data_dir),
            sim_season=settings.sim_season,
            sim_seed=settings.sim_seed,
        ),
    }


def _webhook_url(settings: Settings) -> str | dg.EnvVar | None:
    """The alert webhook, bound as an EnvVar when it comes from the environment (the UI then
    shows the variable's name, never the URL)."""
    if settings.alert_webhook_url is None:
        return None
    url = settings.alert_webhook_url.get_secret_value()
    name = env_var("alert_webhook_url")
    return dg.EnvVar(name) if os.environ.get(name) == url else url
