"""Rules for the runs the project launches itself: waiting for the DuckDB pool, recognising orphans.

Plain pydantic (no dagster): `config/runs.yaml` validated by `RunsConfig`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nba_props.lib.config_files import CONFIG_DIR, load_config

DEFAULT_CONFIG_PATH = CONFIG_DIR / "runs.yaml"


class PoolWait(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    initial_poll_seconds: float = Field(0.2, gt=0)
    max_poll_seconds: float = Field(5.0, gt=0)
    limit_seconds: float = Field(900, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> PoolWait:
        if self.max_poll_seconds < self.initial_poll_seconds:
            raise ValueError("pool_wait.max_poll_seconds must be >= initial_poll_seconds")
        return self

    def polls(self):
        """The sleeps between polls: initial, doubling, capped at max (endless)."""
        delay = self.initial_poll_seconds
        while True:
            yield delay
            delay = min(delay * 2, self.max_poll_seconds)


class Orphans(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    statuses: tuple[str, ...] = ("NOT_STARTED", "STARTING", "STARTED", "CANCELING")
    check_interval_seconds: int = Field(60, gt=0)


class RunsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pool_wait: PoolWait = PoolWait()
    orphans: Orphans = Orphans()


def load_runs_config(path: str | Path | None = None) -> RunsConfig:
    return load_config(RunsConfig, path if path is not None else DEFAULT_CONFIG_PATH)
