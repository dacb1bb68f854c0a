import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from nba_props import settings as settings_module
from nba_props.settings import Settings, SettingsError, load_settings

SECRET = "s3cr3t-odds-key-0123456789"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No NBA_PROPS_* variable from the outer environment; cwd is a fresh temp dir."""
    for name in list(os.environ):
        if name.upper().startswith("NBA_PROPS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _error(monkeypatch, **env) -> str:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    return str(info.value)


def test_defaults(clean_env):
    s = load_settings()
    home = (clean_env / ".nba_props").resolve()
    assert s.home == home and s.home.is_absolute()
    assert s.storage == "duckdb"
    assert s.duckdb_path == home / "warehouse.duckdb"
    assert s.artifacts_dir == home / "artifacts"
    assert s.provider == "simulated"
    assert s.data_dir == home / "simulated"
    assert s.sim_season == "2024-25"
    assert s.sim_seed == 7
    assert s.gcp_project is None and s.gcs_bucket is None
    assert s.bigquery_dataset == "nba_props"
    assert s.odds_api_key is None
    assert not home.exists()  # loading settings creates nothing


def test_env_overrides(monkeypatch, clean_env):
    data = clean_env / "data"
    data.mkdir()
    monkeypatch.setenv("NBA_PROPS_HOME", "state")  # relative: resolved against cwd
    monkeypatch.setenv("NBA_PROPS_STORAGE", "bigquery")
    monkeypatch.setenv("NBA_PROPS_PROVIDER", "files")
    monkeypatch.setenv("NBA_PROPS_DATA_DIR", str(data))
    monkeypatch.setenv("NBA_PROPS_SIM_SEASON", "2025-26")
    monkeypatch.setenv("NBA_PROPS_SIM_SEED", "42")
    monkeypatch.setenv("NBA_PROPS_GCP_PROJECT", "my-project")
    monkeypatch.setenv("NBA_PROPS_BIGQUERY_DATASET", "props_test")
    monkeypatch.setenv("NBA_PROPS_GCS_BUCKET", "my-bucket")
    s = load_settings()
    home = (clean_env / "state").resolve()
    assert s.home == home
    assert s.duckdb_path == home / "warehouse.duckdb"  # derived defaults follow home
    assert s.artifacts_dir == home / "artifacts"
    assert s.storage == "bigquery"
    assert s.provider == "files"
    assert s.data_dir == data.resolve()
    assert s.sim_season == "2025-26"
    assert s.sim_seed == 42
    assert (s.gcp_project, s.bigquery_dataset, s.gcs_bucket) == ("my-project", "props_test", "my-bucket")


def test_explicit_paths_win_over_home(monkeypatch, clean_env):
    monkeypatch.setenv("NBA_PROPS_HOME", str(clean_env / "h"))
    monkeypatch.setenv("NBA_PROPS_DUCKDB_PATH", str(clean_env / "db" / "w.duckdb"))
    monkeypatch.setenv("NBA_PROPS_ARTIFACTS_DIR", "~/arts")
    monkeypatch.setenv("NBA_PROPS_DATA_DIR", "sim")
    s = load_settings()
    assert s.duckdb_path == (clean_env / "db" / "w.duckdb").resolve()
    assert s.artifacts_dir == (Path.home() / "arts").resolve()
    assert s.data_dir == (clean_env / "sim").resolve()


def test_lowercase_env_names_and_empty_values(monkeypatch):
    monkeypatch.setenv("nba_props_sim_seed", "3")
    monkeypatch.setenv("NBA_PROPS_DATA_DIR", "")  # empty means unset, not "."
    s = load_settings()
    assert s.sim_seed == 3
    assert s.data_dir == s.home / "simulated"


def test_each_call_reads_the_environment(monkeypatch):
    assert load_settings().sim_seed == 7
    monkeypatch.setenv("NBA_PROPS_SIM_SEED", "8")
    assert load_settings().sim_seed == 8


def test_keyword_overrides(clean_env):
    s = load_settings(sim_seed=11, home=clean_env / "x")
    assert s.sim_seed == 11
    assert s.duckdb_path == (clean_env / "x" / "warehouse.duckdb").resolve()


def test_settings_are_frozen():
    s = load_settings()
    with pytest.raises(ValidationError):
        s.sim_seed = 9  # type: ignore[misc]


def test_files_provider_requires_data_dir(monkeypatch):
    message = _error(monkeypatch, NBA_PROPS_PROVIDER="files")
    assert "NBA_PROPS_DATA_DIR" in message
    assert "NBA_PROPS_PROVIDER='files'" in message


def test_files_provider_data_dir_must_exist(monkeypatch, clean_env):
    message = _error(monkeypatch, NBA_PROPS_PROVIDER="files", NBA_PROPS_DATA_DIR=str(clean_env / "missing"))
    assert "NBA_PROPS_DATA_DIR=" in message and "missing" in message


def test_invalid_provider_names_the_variable(monkeypatch):
    message = _error(monkeypatch, NBA_PROPS_PROVIDER="foo")
    assert "NBA_PROPS_PROVIDER='foo' is invalid: expected 'simulated' or 'files'" in message


def test_invalid_storage_names_the_variable(monkeypatch):
    message = _error(monkeypatch, NBA_PROPS_STORAGE="postgres")
    assert "NBA_PROPS_STORAGE='postgres' is invalid: expected 'duckdb' or 'bigquery'" in message


@pytest.mark.parametrize("label", ["2024", "2024-26", "24-25", "season"])
def test_invalid_sim_season_names_the_variable(monkeypatch, label):
    message = _error(monkeypatch, NBA_PROPS_SIM_SEASON=label)
    assert f"NBA_PROPS_SIM_SEASON='{label}' is invalid" in message
    assert "2024-25" in message


def test_invalid_seed_names_the_variable(monkeypatch):
    assert "NBA_PROPS_SIM_SEED='abc' is invalid" in _error(monkeypatch, NBA_PROPS_SIM_SEED="abc")


def test_every_bad_variable_is_named(monkeypatch):
    message = _error(
        monkeypatch,
        NBA_PROPS_PROVIDER="foo",
        NBA_PROPS_STORAGE="sqlite",
        NBA_PROPS_SIM_SEASON="x",
        NBA_PROPS_SIM_SEED="1.5",
    )
    for var in ("NBA_PROPS_PROVIDER", "NBA_PROPS_STORAGE", "NBA_PROPS_SIM_SEASON", "NBA_PROPS_SIM_SEED"):
        assert var in message


def test_settings_error_is_a_value_error(monkeypatch):
    monkeypatch.setenv("NBA_PROPS_PROVIDER", "foo")
    with pytest.raises(ValueError):
        load_settings()


def test_public_dict_strings_without_secrets(monkeypatch):
    monkeypatch.setenv("NBA_PROPS_ODDS_API_KEY", SECRET)
    s = load_settings()
    assert s.odds_api_key is not None and s.odds_api_key.get_secret_value() == SECRET
    public = s.public_dict()
    assert set(public) == set(Settings.model_fields)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in public.items())
    assert public["odds_api_key"] == "set"
    assert public["duckdb_path"] == str(s.duckdb_path)
    assert public["sim_seed"] == "7"
    assert public["gcp_project"] == "unset"
    for text in (repr(s), str(s), repr(public), str(s.model_dump()), repr(s.odds_api_key)):
        assert SECRET not in text


def test_public_dict_unset_secret():
    assert load_settings().public_dict()["odds_api_key"] == "unset"


def test_secret_not_echoed_in_errors(monkeypatch):
    monkeypatch.setenv("NBA_PROPS_ODDS_API_KEY", SECRET)
    message = _error(monkeypatch, NBA_PROPS_PROVIDER="foo")
    assert SECRET not in message


def test_env_var_helper():
    assert settings_module.env_var("data_dir") == "NBA_PROPS_DATA_DIR"
