"""Pick a provider by name. The simulated league is read through the files provider, so the
demo exercises exactly the ingestion path real data takes."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from nba_props.lib.sources.base import Provider
from nba_props.lib.sources.files import FilesProvider

PROVIDERS = ("simulated", "files")
SIMULATION_MARKER = "simulation.json"


def ensure_simulated_season(data_dir: Path, season: str, seed: int) -> Path:
    """Simulate `season` into `data_dir` unless the same season and seed are already there.

    Written to a temporary sibling folder and moved into place, so a crash never leaves a
    half-written league behind.
    """
    from nba_props.sim.season import simulate_season

    data_dir = Path(data_dir)
    marker = data_dir / SIMULATION_MARKER
    wanted = {"season": season, "seed": seed}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return data_dir
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".simulating-", dir=data_dir.parent))
    staging.chmod(0o755)
    try:
        simulate_season(season=season, seed=seed, out_dir=staging)
        (staging / SIMULATION_MARKER).write_text(json.dumps(wanted))
        if data_dir.exists():
            shutil.rmtree(data_dir)
        staging.rename(data_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return data_dir


def make_provider(name: str, data_dir: Path, *, sim_season: str = "2024-25", sim_seed: int = 7) -> Provider:
    if name == "files":
        if not Path(data_dir).is_dir():
            raise FileNotFoundError(f"NBA_PROPS_DATA_DIR={data_dir} is not a folder (layout of ../shared/data/nba expected)")
        return FilesProvider(data_dir)
    if name == "simulated":
        provider = FilesProvider(ensure_simulated_season(Path(data_dir), sim_season, sim_seed))
        provider.name = "simulated"
        return provider
    raise ValueError(f"unknown provider {name!r}: expected one of {PROVIDERS}")
