"""Every rule lives in `nba_props/config/*.yaml`: each file loads through its pydantic model, the
history windows of the asset graph are derived from the rules (never typed twice), and the
checks report the thresholds they apply."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml
from pydantic import ValidationError

from nba_props.lib.automation import load_automation_config
from nba_props.lib.evaluation import load_evaluation_config
from nba_props.lib.features.contract import DEFAULT_PATH as FEATURES_YAML
from nba_props.lib.features.contract import FeatureContract, load_contract
from nba_props.lib.features.rules import history_windows
from nba_props.lib.health import load_health_config
from nba_props.lib.lines import load_line_config
from nba_props.lib.models.registry import DEFAULT_PATH as MODELS_YAML
from nba_props.lib.models.registry import ModelsConfig, load_models_config
from nba_props.lib.publish import load_publish_config
from nba_props.lib.regime import load_regime_config
from nba_props.lib.runs_config import load_runs_config
from nba_props.lib.selection import load_selection_config
from nba_props.lib.sensing import load_sensor_config
from nba_props.lib.signals import load_signal_registry
from nba_props.lib.steering import load_steering_config

CONFIG_DIR = Path(__file__).resolve().parents[1] / "nba_props" / "config"
LOADERS = {
    "automation.yaml": load_automation_config,
    "evaluation.yaml": load_evaluation_config,
    "filters.yaml": load_selection_config,
    "features.yaml": load_contract,
    "health.yaml": load_health_config,
    "lines.yaml": load_line_config,
    "models.yaml": load_models_config,
    "publish.yaml": load_publish_config,
    "regime.yaml": load_regime_config,
    "runs.yaml": load_runs_config,
    "sensors.yaml": load_sensor_config,
    "signals.yaml": load_signal_registry,
    "steering.yaml": load_steering_config,
}


def _raw(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_every_config_file_has_a_loader_and_validates():
    files = sorted(p.name for p in CONFIG_DIR.glob("*.yaml"))
    assert files == sorted(LOADERS), f"a config file without a loader (or a loader without a file): {files}"
    for name, load in LOADERS.items():
        assert load(CONFIG_DIR / name) is not None


def test_config_objects_are_loaded_once():
    assert load_contract() is load_contract()
    assert load_models_config() is load_models_config()


def test_shipped_history_windows():
    windows = history_windows(load_contract(), load_line_config())
    # player_lines: box scores for appearances (30) and the newest team (400), snapshots of the
    # 30-day prop_line_delta lookback; player_features: the season rule's 640 days, 120 days of lines
    assert windows == (400, 30, 640, 120)


def test_windows_are_derived_from_the_rules():
    contract, lines = load_contract(), load_line_config()
    base = history_windows(contract, lines)

    longer_season = contract.model_copy(
        update={"season_rule": contract.season_rule.model_copy(update={"history_days": 700})}
    )
    assert history_windows(longer_season, lines).features_box_scores == 700

    # a block window longer than the season rule's reach becomes the box-score window
    deviation = contract.player_history.model_copy(update={"deviation_days": 900})
    assert history_windows(contract.model_copy(update={"player_history": deviation}), lines).features_box_scores == 900
    fatigue = contract.team_context.fatigue.model_copy(update={"b2b_window_days": 800})
    team = contract.team_context.model_copy(update={"fatigue": fatigue})
    assert history_windows(contract.model_copy(update={"team_context": team}), lines).features_box_scores == 800

    vegas = contract.vegas.model_copy(update={"line_history_days": 45})
    assert history_windows(contract.model_copy(update={"vegas": vegas}), lines).features_lines == 45

    wider_team = lines.model_copy(update={"team_lookback_days": 500})
    assert history_windows(contract, wider_team).lines_box_scores == 500
    assert history_windows(contract, lines.model_copy(update={"lookback_days": 10})).lines_snapshots == 10
    assert history_windows(contract, lines) == base  # copies never touch the loaded objects


def _mapping(asset: dg.AssetsDefinition, upstream: str) -> dg.TimeWindowPartitionMapping:
    return asset.get_partition_mapping(dg.AssetKey(upstream))


def test_asset_partition_mappings_use_the_derived_windows():
    from nba_props.defs.features.assets import player_features, player_lines

    windows = history_windows(load_contract(), load_line_config())
    box = _mapping(player_features, "box_scores")
    assert (box.start_offset, box.end_offset) == (-windows.features_box_scores, -1)
    history = _mapping(player_features, "player_lines")
    assert (history.start_offset, history.end_offset) == (-windows.features_lines, 0)
    recent = _mapping(player_lines, "box_scores")
    assert (recent.start_offset, recent.end_offset) == (-windows.lines_box_scores, -1)
    snapshots = _mapping(player_lines, "prop_line_snapshots")
    assert (snapshots.start_offset, snapshots.end_offset) == (-windows.lines_snapshots, 0)
    from nba_props.defs.health.steering import steering_report

    steering = load_steering_config()
    for name in (
        "pick_accuracy",
        "best_bets",
        "prediction_accuracy",
    ):  # season to date: a season label's span, ending on the day
        mapping = _mapping(steering_report, name)
        assert (mapping.start_offset, mapping.end_offset) == (-(steering.history_days - 1), 0)
    registry = _mapping(steering_report, "trained_models")
    assert (registry.start_offset, registry.end_offset) == (-(steering.retrain.stale_days - 1), 0)
    schedule = _mapping(steering_report, "schedule")
    around = (-steering.schedule.look_behind_days, steering.schedule.look_ahead_days)
    assert (schedule.start_offset, schedule.end_offset) == around


def test_cli_evaluation_reads_the_same_windows_and_default_history():
    from nba_props import cli

    assert cli._feature_history_windows() == history_windows(load_contract(), load_line_config())
    args = cli.build_parser().parse_args(["evaluate", "--data", ".", "--start", "2025-01-01", "--end", "2025-01-02"])
    assert args.history_days is None  # resolved from config/models.yaml when the command runs
    assert load_models_config().training.evaluation_history_days == 730


def test_check_descriptions_are_built_from_the_configured_thresholds():
    from nba_props.defs.features.assets import player_features
    from nba_props.defs.models.assets import predictions

    specs = {spec.name: spec.description for spec in player_features.check_specs}
    checks = load_contract().checks
    assert f"{checks.ready_share_floor:.0%}" in specs["ready_share_above_floor"]
    assert all(name in specs["varying_columns_vary"] for name in checks.must_vary)
    rules = load_models_config().predictions
    described = {spec.name: spec.description for spec in predictions.check_specs}
    assert f"[{rules.min_points:g}, {rules.max_points:g}]" in described["values_in_range"]
    assert f">{rules.quarantine.max_one_direction:.0%}" in described["no_quarantined_model_days"]


def test_the_season_rule_is_one_value_for_every_block():
    from nba_props.lib.features import player_history, team_context

    raw = _raw(FEATURES_YAML)
    assert "min_season_games" not in raw["team_context"]  # the rule is season_rule.min_games only
    assert player_history.SEASON_MIN_GAMES == raw["season_rule"]["min_games"]
    assert team_context._SEASON_RULE.min_games == raw["season_rule"]["min_games"]


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("checks", "must_vary", ["no_such_feature"], "unknown features"),
        ("quality", "tiers", {"gold": 50.0, "silver": 85.0}, "best first"),
        ("quality", "ready_tiers", ["platinum"], "unknown tiers"),
        ("team_context", "min_season_games", 5, "Extra inputs"),
    ],
)
def test_invalid_feature_rules_are_refused(section, key, value, message):
    raw = _raw(FEATURES_YAML)
    raw[section][key] = value
    with pytest.raises(ValidationError, match=message):
        FeatureContract.model_validate(raw)


def test_a_missing_rule_is_refused_not_defaulted():
    raw = _raw(FEATURES_YAML)
    del raw["season_rule"]["min_games"]
    with pytest.raises(ValidationError, match="min_games"):
        FeatureContract.model_validate(raw)
    models = _raw(MODELS_YAML)
    del models["governance"]["hr_edge3_floor"]
    with pytest.raises(ValidationError, match="hr_edge3_floor"):
        ModelsConfig.model_validate(models)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("governance", "gate_edge"), 4.0, "must be one of reported_edges"),
        (("governance", "tiers"), {"empty": [5.0, 5.0]}, "empty range"),
        (("predictions", "max_points"), -1.0, "min_points < max_points"),
        (("predictions", "quarantine", "basis"), "edge", "recommendation"),
    ],
)
def test_invalid_model_rules_are_refused(path, value, message):
    raw = _raw(MODELS_YAML)
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValidationError, match=message):
        ModelsConfig.model_validate(raw)
