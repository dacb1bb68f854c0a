"""Shared fixtures: a small simulated league on disk and a project home per test."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

# Tests span every season (real 2021-22 .. 2025-26 data beside the simulated league): the partition
# range is read when nba_props.partitions is first imported, so fix it before any test imports it.
os.environ["NBA_PROPS_PARTITION_SEASONS"] = "all"

SIM_SEASON = "2024-25"
SIM_SEED = 11
SIM_DAYS = 12


def shared_data_dir() -> Path:
    """../shared/data/nba beside the checkout (or NBA_PROPS_SHARED_DATA)."""
    override = os.environ.get("NBA_PROPS_SHARED_DATA")
    return Path(override) if override else Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nba"


def shared_data_or_skip(*required: str) -> Path:
    """`shared_data_dir()` for a real-data test module; skips the module when any of the
    `required` paths (relative to the folder) is absent."""
    data = shared_data_dir()
    missing = [path for path in required if not (data / path).exists()]
    if missing:
        pytest.skip(
            f"real NBA data not found at {data} (no {missing}; set NBA_PROPS_SHARED_DATA or place "
            "../shared/data/nba beside the repo)",
            allow_module_level=True,
        )
    return data


@pytest.fixture(scope="session")
def sim_data_dir(tmp_path_factory) -> Path:
    """The first SIM_DAYS game days of a simulated season, in the raw file formats."""
    from nba_props.sim.season import simulate_season

    out = tmp_path_factory.mktemp("simulated")
    simulate_season(season=SIM_SEASON, seed=SIM_SEED, out_dir=out, n_days=SIM_DAYS)
    return out


@pytest.fixture
def nba_home(tmp_path, monkeypatch, sim_data_dir) -> Path:
    """Settings pointing at a fresh warehouse and the small simulated league (files provider)."""
    home = tmp_path / "home"
    monkeypatch.setenv("NBA_PROPS_HOME", str(home))
    monkeypatch.setenv("NBA_PROPS_PROVIDER", "files")
    monkeypatch.setenv("NBA_PROPS_DATA_DIR", str(sim_data_dir))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return home


TRAINED_WEEK = date(2024, 11, 25)  # a Monday, 35 days into the simulated season
TRAINED_SIM_DAYS = 40


@dataclass(frozen=True)
class TrainedLeague:
    """A template project home: 40 simulated game days (seed 5), ingested and featured through
    TRAINED_WEEK, that week's models trained; `training_reads` are the tables training read."""

    sim: Path
    home: Path
    training_reads: frozenset[str]


@pytest.fixture(scope="session")
def trained_league(tmp_path_factory) -> TrainedLeague:
    """Built once per session (the costly part of the model and replay tests); tests get a copy
    through `trained_home`."""
    from nba_props.cli import run_backfill
    from nba_props.io.warehouse import Warehouse
    from nba_props.sim.season import simulate_season

    sim = tmp_path_factory.mktemp("sim40")
    simulate_season(season=SIM_SEASON, seed=5, out_dir=sim, n_days=TRAINED_SIM_DAYS)
    home = tmp_path_factory.mktemp("trained") / "home"
    read: set[str] = set()
    load = Warehouse.load

    def recording_load(self, table, *args, **kwargs):
        read.add(table)
        return load(self, table, *args, **kwargs)

    with pytest.MonkeyPatch.context() as env:
        _point_at(env, home, sim)
        summary = run_backfill(date(2024, 10, 22), TRAINED_WEEK, exclude=["predictions"])
        assert not any(f.get("failed") for f in summary.values()), summary
        env.setattr(Warehouse, "load", recording_load)
        summary = run_backfill(TRAINED_WEEK, TRAINED_WEEK, job_name="nba_props_training")
        assert not summary["trained_models"].get("failed"), summary
    return TrainedLeague(sim, home, frozenset(read))


@pytest.fixture
def trained_home(trained_league, tmp_path, monkeypatch) -> Path:
    """A copy of the trained league's home (warehouse, artifacts, Dagster instance), the
    environment pointing at it."""
    home = tmp_path / "home"
    shutil.copytree(trained_league.home, home)
    _point_at(monkeypatch, home, trained_league.sim)
    return home


def _point_at(env, home: Path, data: Path) -> None:
    env.setenv("NBA_PROPS_HOME", str(home))
    env.setenv("NBA_PROPS_PROVIDER", "files")
    env.setenv("NBA_PROPS_DATA_DIR", str(data))
    env.delenv("DAGSTER_HOME", raising=False)  # <home>/dagster_home, copied with the home
