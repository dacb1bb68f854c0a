"""Providers only read files: the `simulated` provider reads what the explicit `demo` / `simulate`
step wrote and fails naming that command when the folder does not hold the configured season."""

from __future__ import annotations

import pytest

from nba_props import seasons


def test_simulated_provider_never_simulates_and_names_the_command_to_run(tmp_path):
    from nba_props.lib.sources.factory import SimulatedLeagueMissing, make_provider

    folder = tmp_path / "simulated"
    with pytest.raises(SimulatedLeagueMissing, match=r"nba-props simulate --season 2024-25 --seed 7 --out .*simulated"):
        make_provider("simulated", folder, sim_season="2024-25", sim_seed=7)
    assert not folder.exists()  # nothing was written as a side effect of asking for the provider


def test_simulated_provider_reads_what_simulate_wrote_and_refuses_another_seed(tmp_path, capsys):
    from nba_props.cli import main
    from nba_props.lib.sources.factory import SimulatedLeagueMissing, make_provider

    folder = tmp_path / "simulated"
    assert main(["simulate", "--season", "2024-25", "--seed", "3", "--days", "1", "--out", str(folder)]) == 0
    files_before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    provider = make_provider("simulated", folder, sim_season="2024-25", sim_seed=3)
    assert provider.name == "simulated"
    day = seasons.season("2024-25").opening_night
    assert provider.box_scores(day, day).rows.height > 0
    with pytest.raises(SimulatedLeagueMissing, match="holds the simulated 2024-25 with seed 3.*seed 7"):
        make_provider("simulated", folder, sim_season="2024-25", sim_seed=7)
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == files_before
