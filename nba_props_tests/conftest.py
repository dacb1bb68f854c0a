"""Shared fixtures: a small simulated league on disk and a project home per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
