"""Pick a provider by name. Providers only read files: the simulated league is read through the
files provider from a folder that `nba-props demo` or `nba-props simulate` wrote beforehand (an
explicit step, never a side effect of reading), so the demo exercises exactly the ingestion
path real data takes."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from nba_props.lib.sources.base import Provider
from nba_props.lib.sources.files import FilesProvider

PROVIDERS = ("simulated", "files")
SIMULATION_MARKER = "simulation.json"


class SimulatedLeagueMissing(FileNotFoundError):
    """The `simulated` provider's folder does not hold the simulated season the settings ask for."""


def simulation_marker(season: str, seed: int, n_days: int | None = None) -> dict[str, object]:
    """What a folder holding a simulated league records about it (`n_days` only for a partial season)."""
    return {"season": season, "seed": seed} | ({} if n_days is None else {"n_days": n_days})


def mark_simulated(data_dir: Path, season: str, seed: int, n_days: int | None = None) -> None:
    """Record that `data_dir` now holds this simulated season (written after the simulation succeeded)."""
    (Path(data_dir) / SIMULATION_MARKER).write_text(json.dumps(simulation_marker(season, seed, n_days)))


def read_simulation_marker(data_dir: Path) -> dict | None:
    marker = Path(data_dir) / SIMULATION_MARKER
    return json.loads(marker.read_text()) if marker.is_file() else None


def ensure_simulated_season(data_dir: Path, season: str, seed: int) -> Path:
    """Simulate the whole `season` into `data_dir` unless the same season and seed are already there
    (the demo's explicit simulation step).

    Written to a temporary sibling folder and moved into place, so a crash never leaves a
    half-written league behind.
    """
    from nba_props.sim.season import simulate_season

    data_dir = Path(data_dir)
    if read_simulation_marker(data_dir) == simulation_marker(season, seed):
        return data_dir
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".simulating-", dir=data_dir.parent))
    staging.chmod(0o755)
    try:
        simulate_season(season=season, seed=seed, out_dir=staging)
        mark_simulated(staging, season, seed)
        if data_dir.exists():
            shutil.rmtree(data_dir)
        staging.rename(data_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return data_dir


def _simulated_folder(data_dir: Path, season: str, seed: int) -> Path:
    """`data_dir` when it holds the simulated `season` with `seed` (whole or its first days); else a
    clear error naming the command that writes it."""
    commands = (f"run `nba-props demo` (simulates it there) or "
                f"`nba-props simulate --season {season} --seed {seed} --out {data_dir}` first")  # fmt: skip
    marker = read_simulation_marker(data_dir)
    if marker is None:
        raise SimulatedLeagueMissing(
            f"no simulated league at {data_dir} (the provider only reads files, it never simulates): {commands}"
        )
    if (marker.get("season"), marker.get("seed")) != (season, seed):
        raise SimulatedLeagueMissing(
            f"{data_dir} holds the simulated {marker.get('season')} with seed {marker.get('seed')}, but the settings "
            f"ask for {season} with seed {seed}: {commands}"
        )
    return data_dir


def make_provider(
    name: str,
    data_dir: Path,
    *,
    sim_season: str = "2024-25",
    sim_seed: int = 7,
    box_scores_withheld_until: Mapping[str, str] | None = None,
) -> Provider:
    """`box_scores_withheld_until` ({game date: ISO instant}): the replay's late-data fault, see FilesProvider."""
    withheld = dict(box_scores_withheld_until or {})
    if name == "files":
        if not Path(data_dir).is_dir():
            raise FileNotFoundError(
                f"NBA_PROPS_DATA_DIR={data_dir} is not a folder (layout of ../shared/data/nba expected)"
            )
        return FilesProvider(data_dir, box_scores_withheld_until=withheld)
    if name == "simulated":
        folder = _simulated_folder(Path(data_dir), sim_season, sim_seed)
        provider = FilesProvider(folder, box_scores_withheld_until=withheld)
        provider.name = "simulated"
        return provider
    raise ValueError(f"unknown provider {name!r}: expected one of {PROVIDERS}")
