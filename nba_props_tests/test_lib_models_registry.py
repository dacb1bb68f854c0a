"""Model registry: models.yaml validation, the lifecycle transition table, model ids, the
registry table schema. No training here (see test_lib_models_training.py)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
import yaml
from pydantic import ValidationError

from nba_props.lib.models.registry import (
    ALLOWED_TRANSITIONS,
    DEFAULT_PATH,
    REGISTRY_SCHEMA,
    CatBoostParams,
    FamilyConfig,
    LifecycleError,
    LifecycleState,
    ModelsConfig,
    feature_hash,
    load_models_config,
    model_id,
    registry_key,
    transition,
)


def raw_config() -> dict:
    with open(DEFAULT_PATH, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def family(**overrides) -> dict:
    return {"id": "fam", "feature_set": "v12_noveg", "loss": "MAE", "window_game_days": 30, "min_train_rows": 10,
            **overrides}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# the shipped configuration


def test_default_fleet_and_top_level_settings():
    config = load_models_config()
    assert isinstance(config.version, str) and config.version
    assert config.champion == "v9_mae"
    ids = [f.id for f in config.families]
    assert ids == ["v9_mae", "v12_mae", "v12_noveg_mae", "v12_noveg_q43", "v12_noveg_q45", "v12_q43",
                   "v13_noveg_line_mae"]  # fmt: skip
    # issue 13: the no-vegas families read v14_noveg (their ids are the keys of their history)
    assert {f.id: f.feature_set for f in config.families} == {
        "v9_mae": "v9", "v12_mae": "v12", "v12_noveg_mae": "v14_noveg",
        "v12_noveg_q43": "v14_noveg", "v12_noveg_q45": "v14_noveg", "v12_q43": "v12",
        "v13_noveg_line_mae": "v13_noveg",
    }  # fmt: skip
    # issue 13: only the line-residual family starts from the line; no-vegas windows of 365 game dates
    assert {f.id for f in config.families if f.baseline == "line"} == {"v13_noveg_line_mae"}
    assert {f.id: f.window_game_days for f in config.families if f.window_game_days != 90} == {
        "v12_noveg_mae": 365, "v12_noveg_q43": 365, "v12_noveg_q45": 365, "v13_noveg_line_mae": 1000,
    }  # fmt: skip
    alphas = {f.id: f.quantile_alpha for f in config.families if f.loss == "Quantile"}
    assert alphas == {"v12_noveg_q43": 0.43, "v12_noveg_q45": 0.45, "v12_q43": 0.43}
    assert all(f.enabled for f in config.families)
    assert config.family("v9_mae").role == "champion"
    # edge thresholds: MAE / RMSE families 1.0, quantile families 4.0
    assert {f.edge_threshold for f in config.families if f.loss != "Quantile"} == {1.0}
    assert {f.edge_threshold for f in config.families if f.loss == "Quantile"} == {4.0}
    g = config.governance
    assert (g.hr_edge3_floor, g.min_n, g.bias_limit, g.tier_bias_limit, g.direction_hr_floor) == (
        0.524,
        50,
        1.5,
        5.0,
        0.524,
    )
    assert g.mae_margin >= 0
    assert config.training.early_stopping_fraction == pytest.approx(0.15)
    assert config.training.calibration_fraction == pytest.approx(0.15)
    assert config.training.thread_count == 2
    c = config.calibration
    assert (c.min_isotonic_rows, c.min_block_rows, c.sportsbook_min_rows) == (200, 50, 1)


def test_family_defaults_are_merged_and_catboost_overrides_key_by_key():
    raw = raw_config()
    raw["families"][1]["catboost"] = {"depth": 4}
    config = ModelsConfig.model_validate(raw)
    defaults = raw["family_defaults"]
    v12 = config.family("v12_mae")
    assert v12.catboost.depth == 4
    assert v12.catboost.iterations == defaults["catboost"]["iterations"]  # not lost by the override
    assert config.family("v9_mae").catboost.depth == defaults["catboost"]["depth"]
    raw_families = {f["id"]: f for f in raw["families"]}
    for f in config.families:  # the default unless the family sets its own
        assert f.window_game_days == raw_families[f.id].get("window_game_days", defaults["window_game_days"]), f.id
    assert all(f.min_train_rows == defaults["min_train_rows"] for f in config.families)
    # the loaded config holds no trace of the YAML convenience
    assert "family_defaults" not in config.model_dump()


def test_catboost_defaults_are_the_issue_values_and_config_overrides_them():
    # the model's own defaults are the issue's; models.yaml overrides iterations / learning rate
    assert CatBoostParams() == CatBoostParams(
        iterations=1000, learning_rate=0.05, depth=6, l2_leaf_reg=3.0, random_seed=42, early_stopping_rounds=50
    )
    params = load_models_config().family("v9_mae").catboost
    assert (params.depth, params.l2_leaf_reg, params.random_seed, params.early_stopping_rounds) == (6, 3.0, 42, 50)


def test_with_catboost_overrides_every_family_and_leaves_the_original():
    config = load_models_config()
    fast = config.with_catboost(iterations=20, learning_rate=0.2)
    assert {f.catboost.iterations for f in fast.families} == {20}
    assert {f.catboost.learning_rate for f in fast.families} == {0.2}
    assert {f.catboost.depth for f in fast.families} == {f.catboost.depth for f in config.families}
    assert config.family("v9_mae").catboost.iterations != 20


def test_catboost_loss_strings():
    assert FamilyConfig(**family(loss="MAE")).catboost_loss == "MAE"
    assert FamilyConfig(**family(loss="RMSE")).catboost_loss == "RMSE"
    assert FamilyConfig(**family(loss="Quantile", quantile_alpha=0.43)).catboost_loss == "Quantile:alpha=0.43"


def test_edge_threshold_defaults_by_loss():
    assert FamilyConfig(**family(loss="RMSE")).edge_threshold == 1.0
    assert FamilyConfig(**family(loss="Quantile", quantile_alpha=0.45)).edge_threshold == 4.0
    assert FamilyConfig(**family(edge_threshold=2.5)).edge_threshold == 2.5


# ---------------------------------------------------------------------------------------------
# validation errors


def test_duplicate_family_ids_are_refused():
    raw = raw_config()
    raw["families"].append(dict(raw["families"][2]))
    with pytest.raises(ValidationError, match="duplicate family ids"):
        ModelsConfig.model_validate(raw)


def test_champion_must_exist():
    raw = raw_config()
    raw["champion"] = "v99_mae"
    with pytest.raises(ValidationError, match="champion 'v99_mae' is not a family"):
        ModelsConfig.model_validate(raw)


def test_champion_must_be_enabled():
    raw = raw_config()
    raw["families"][0]["enabled"] = False
    with pytest.raises(ValidationError, match="is not enabled"):
        ModelsConfig.model_validate(raw)


def test_only_the_champion_has_role_champion():
    raw = raw_config()
    raw["families"][1]["role"] = "champion"
    with pytest.raises(ValidationError, match="only the champion"):
        ModelsConfig.model_validate(raw)


@pytest.mark.parametrize("alpha", [None, 0.0, 1.0, 1.5, -0.1])
def test_quantile_needs_alpha_strictly_between_0_and_1(alpha):
    with pytest.raises(ValidationError, match="0 < quantile_alpha < 1"):
        FamilyConfig(**family(loss="Quantile", quantile_alpha=alpha))


@pytest.mark.parametrize("loss", ["MAE", "RMSE"])
def test_non_quantile_losses_must_not_have_alpha(loss):
    with pytest.raises(ValidationError, match="only for loss Quantile"):
        FamilyConfig(**family(loss=loss, quantile_alpha=0.5))


@pytest.mark.parametrize(
    "overrides",
    [{"feature_set": "v10"}, {"loss": "Huber"}, {"window_game_days": 1}, {"min_train_rows": 0}, {"colour": "red"},
     {"id": "Bad-Id"}, {"role": "king"}],
)  # fmt: skip
def test_invalid_family_fields_are_refused(overrides):
    with pytest.raises(ValidationError):
        FamilyConfig(**family(**overrides))


def test_market_type_feature_needs_a_family_with_a_line_on_every_row():
    """The option (input market_is_dfs) is refused where a row may have no line (so no market
    type): a no-vegas set without the line baseline. Allowed with `baseline: line` and with a set
    that holds line features (such a family trains on and serves lined rows only)."""
    with pytest.raises(ValidationError, match="market_type_feature needs a line on every row"):
        FamilyConfig(**family(market_type_feature=True))
    with pytest.raises(ValidationError, match="market_type_feature needs a line on every row"):
        FamilyConfig(**family(feature_set="v13_noveg", market_type_feature=True, baseline="none"))
    assert FamilyConfig(**family(market_type_feature=True, baseline="line")).market_type_feature
    assert FamilyConfig(**family(feature_set="v12", market_type_feature=True)).market_type_feature
    assert FamilyConfig(**family(feature_set="v9", market_type_feature=True)).market_type_feature
    assert FamilyConfig(**family()).market_type_feature is False  # off by default
    # through the YAML too (the line family without its baseline)
    raw = raw_config()
    line_family = next(f for f in raw["families"] if f["id"] == "v13_noveg_line_mae")
    line_family.update(market_type_feature=True, baseline="none")
    with pytest.raises(ValidationError, match="v13_noveg_line_mae: market_type_feature needs a line"):
        ModelsConfig.model_validate(raw)


def test_unknown_top_level_key_and_bad_governance_are_refused():
    raw = raw_config()
    raw["typo"] = 1
    with pytest.raises(ValidationError):
        ModelsConfig.model_validate(raw)
    raw = raw_config()
    raw["governance"]["hr_edge3_floor"] = 1.5
    with pytest.raises(ValidationError):
        ModelsConfig.model_validate(raw)
    raw = raw_config()
    raw["training"]["calibration_fraction"] = 1.0
    with pytest.raises(ValidationError):
        ModelsConfig.model_validate(raw)
    raw = raw_config()
    raw["training"].update(early_stopping_fraction=0.5, calibration_fraction=0.5)  # nothing left to train on
    with pytest.raises(ValidationError, match="must be < 1"):
        ModelsConfig.model_validate(raw)
    raw = raw_config()
    raw["training"]["eval_tail_fraction"] = 0.15  # the version-1 key (one tail for both) is gone
    with pytest.raises(ValidationError):
        ModelsConfig.model_validate(raw)


def test_load_models_config_from_a_path(tmp_path):
    raw = raw_config()
    raw["version"] = "test-9"
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert load_models_config(path).version == "test-9"
    raw["families"] = raw["families"] + [raw["families"][0]]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValidationError):
        load_models_config(bad)


# ---------------------------------------------------------------------------------------------
# lifecycle

ALLOWED = [
    ("candidate", "active"),
    ("candidate", "blocked"),
    ("active", "champion"),
    ("active", "retired"),
    ("active", "blocked"),
    ("champion", "retired"),
    ("champion", "active"),  # demotion when another model becomes champion
]


@pytest.mark.parametrize(("current", "new"), ALLOWED)
def test_allowed_transitions(current, new):
    result = transition(current, new)
    assert result == new and result is LifecycleState(new)


def test_the_table_is_exactly_the_allowed_list():
    table = {(a.value, b.value) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}
    assert table == set(ALLOWED)
    assert set(ALLOWED_TRANSITIONS) == set(LifecycleState)


REFUSED = [(a.value, b.value) for a in LifecycleState for b in LifecycleState if (a.value, b.value) not in ALLOWED]


@pytest.mark.parametrize(("current", "new"), REFUSED)
def test_every_other_transition_is_refused(current, new):
    with pytest.raises(LifecycleError, match="not allowed"):
        transition(current, new)


def test_refused_examples_and_unknown_states():
    for current, new in [("candidate", "champion"), ("blocked", "active"), ("retired", "active"),
                         ("candidate", "candidate"), ("champion", "blocked")]:  # fmt: skip
        assert (current, new) in REFUSED
    with pytest.raises(LifecycleError, match="unknown lifecycle state"):
        transition("active", "promoted")
    with pytest.raises(LifecycleError, match="unknown lifecycle state"):
        transition("shadow", "active")
    assert issubclass(LifecycleError, ValueError)


# ---------------------------------------------------------------------------------------------
# ids, hashes, schema


def test_model_id_format_holds_the_iso_year_and_week():
    config = load_models_config()
    assert model_id(config.family("v12_noveg_q43"), date(2025, 1, 13)) == "catboost_v12_noveg_q43_2025w03"
    assert model_id("v9_mae", date(2024, 3, 4)) == "catboost_v9_mae_2024w10"
    assert model_id("v9_mae", date(2024, 12, 30)) == "catboost_v9_mae_2025w01"  # ISO year of that Monday
    # Off-season weeks train on identical windows (no new games): the old id (train MMDD_MMDD)
    # was the same for all of them and for the same dates a year later; every Monday now has its own.
    mondays = [date(2023, 7, 3) + timedelta(weeks=i) for i in range(3 * 53)]
    assert len({model_id("v9_mae", monday) for monday in mondays}) == len(mondays)


def test_feature_hash_is_short_stable_and_order_sensitive():
    a = feature_hash(["x", "y", "z"])
    assert a == feature_hash(("x", "y", "z")) and len(a) == 16 and int(a, 16) >= 0
    assert a != feature_hash(["y", "x", "z"])
    assert a != feature_hash(["x", "y"])


def test_registry_schema_and_key():
    assert registry_key == ("week_start", "family")
    assert list(REGISTRY_SCHEMA) == [
        "week_start", "model_id", "family", "feature_set", "loss", "quantile_alpha", "train_start", "train_end",
        "stop_start", "stop_end", "eval_start", "eval_end", "n_train", "n_stop", "n_eval", "features", "feature_hash", "framework_versions", "metrics",
        "governance", "lifecycle_state", "artifact_uri", "config_version", "trained_at",
    ]  # fmt: skip
    assert REGISTRY_SCHEMA["week_start"] == pl.Date
    assert REGISTRY_SCHEMA["features"] == pl.List(pl.Utf8)
    assert REGISTRY_SCHEMA["trained_at"] == pl.Datetime("us", "UTC")
    assert REGISTRY_SCHEMA["quantile_alpha"] == pl.Float64
    assert pl.DataFrame(schema=REGISTRY_SCHEMA).height == 0
