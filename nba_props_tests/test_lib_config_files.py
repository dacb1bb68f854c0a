"""`config_files.load_config`: the one reader of the YAML rule files."""

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from nba_props.lib.config_files import CONFIG_DIR, load_config
from nba_props.lib.evaluation import load_evaluation_config
from nba_props.lib.features.contract import load_contract
from nba_props.lib.lines import load_line_config
from nba_props.lib.models.registry import load_models_config


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    floor: float = 1.0


def test_validated_and_read_once_per_path(tmp_path):
    path = tmp_path / "rule.yaml"
    path.write_text("floor: 3\n")
    first = load_config(Rule, path)
    assert first.floor == 3.0
    path.write_text("floor: 5\n")  # a process keeps the configuration it loaded
    assert load_config(Rule, str(path)) is first


def test_empty_file_is_an_empty_mapping_and_other_shapes_are_refused(tmp_path):
    (tmp_path / "empty.yaml").write_text("")
    assert load_config(Rule, tmp_path / "empty.yaml").floor == 1.0
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        load_config(Rule, tmp_path / "list.yaml")
    (tmp_path / "typo.yaml").write_text("flor: 2\n")
    with pytest.raises(ValidationError):
        load_config(Rule, tmp_path / "typo.yaml")


def test_every_packaged_rule_file_goes_through_it():
    assert {p.name for p in CONFIG_DIR.glob("*.yaml")} >= {
        "evaluation.yaml",
        "features.yaml",
        "lines.yaml",
        "models.yaml",
    }
    assert load_line_config() is load_line_config()
    assert load_contract() is load_contract()
    assert load_models_config() is load_models_config()
    assert load_evaluation_config() is load_evaluation_config()
