"""The deploy files name the one code location, and the definitions behind it load."""

from pathlib import Path

import pytest
import yaml
from dagster_cloud_cli.config.models import load_dagster_cloud_yaml
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[1]


def test_workspace_yaml_names_the_code_location():
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    (entry,) = workspace["load_from"]
    assert entry["python_module"] == {"module_name": "nba_props.definitions", "location_name": "nba_props"}


def test_dagster_cloud_yaml_is_valid_for_the_cloud_cli():
    config = load_dagster_cloud_yaml((ROOT / "dagster_cloud.yaml").read_text())
    (location,) = config.locations
    assert location.location_name == "nba_props"
    assert location.code_source.module_name == "nba_props.definitions"


def test_dagster_cloud_yaml_schema_rejects_unknown_keys():
    # Proves the validation above is real: the cloud schema forbids extra keys.
    with pytest.raises(ValidationError, match="code_sourc"):
        load_dagster_cloud_yaml("locations:\n  - location_name: x\n    code_sourc: {module_name: y}\n")


def test_pyproject_points_dagster_at_the_same_module():
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["dg"]["project"]["code_location_target_module"] == "nba_props.definitions"
    assert pyproject["tool"]["dagster"]["module_name"] == "nba_props.definitions"
    assert pyproject["project"]["scripts"]["nba-props"] == "nba_props.cli:main"


def test_dagster_instance_template_limits_the_duckdb_pool():
    template = yaml.safe_load((ROOT / "nba_props" / "dagster_instance.yaml").read_text())
    assert template["concurrency"]["pools"]["default_limit"] == 1
    assert template["telemetry"] == {"enabled": False}


def test_make_ui_and_the_cli_use_the_same_instance_template(tmp_path, monkeypatch):
    from nba_props import cli
    from nba_props.settings import load_settings

    assert "cp nba_props/dagster_instance.yaml $(DAGSTER_HOME)/dagster.yaml" in (ROOT / "Makefile").read_text()
    assert cli.DAGSTER_INSTANCE_TEMPLATE == ROOT / "nba_props" / "dagster_instance.yaml"
    monkeypatch.setenv("NBA_PROPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NBA_PROPS_PROVIDER", "simulated")
    monkeypatch.delenv("NBA_PROPS_DATA_DIR", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = cli._dagster_home(load_settings())
    assert (home / "dagster.yaml").read_text() == cli.DAGSTER_INSTANCE_TEMPLATE.read_text()


def test_dagster_cli_validates_the_workspace(tmp_path):
    """What `make ui` and Dagster+ load: the workspace's code location must validate."""
    import os
    import subprocess
    import sys

    (tmp_path / "dagster_home").mkdir()
    env = {
        **os.environ,
        "NBA_PROPS_HOME": str(tmp_path / "home"),
        "NBA_PROPS_PROVIDER": "simulated",
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    env.pop("NBA_PROPS_DATA_DIR", None)
    completed = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "nba_props" in completed.stdout + completed.stderr


def test_dagster_instance_template_loads_with_a_run_queue_and_the_writer_pool(tmp_path):
    import dagster as dg
    from dagster._core.run_coordinator import QueuedRunCoordinator

    (tmp_path / "dagster.yaml").write_text((ROOT / "nba_props" / "dagster_instance.yaml").read_text())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        concurrency = instance.get_concurrency_config()
        queue = concurrency.run_queue_config
        assert queue.max_concurrent_runs == 3
        per_value = {"applyLimitPerUniqueValue": True}
        assert {
            (limit["key"], limit["limit"]) for limit in queue.tag_concurrency_limits if limit["value"] == per_value
        } == {
            ("dagster/partition", 1),
            ("dagster/asset_partition_range_start", 1),
        }
        assert concurrency.pool_config.default_pool_limit == 1  # the DuckDB writer
