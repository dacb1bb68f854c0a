"""Model registry: the family configuration (`config/models.yaml`, validated by pydantic), the
model lifecycle, model ids and the schema of the `trained_models` registry table.

Registries over string parsing: a registry row carries family, feature set, loss and quantile
alpha as columns. `model_id` is for humans only; no code parses it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from nba_props.lib.config_files import CONFIG_DIR, load_config
from nba_props.lib.features.contract import FeatureSetName, load_contract

DEFAULT_PATH = CONFIG_DIR / "models.yaml"

Loss = Literal["RMSE", "MAE", "Quantile"]
Role = Literal["champion", "challenger", "shadow"]
# What a family's trees start from: "none" (CatBoost's own start) or "line" (the row's prop line is
# CatBoost's baseline: the model learns points - line and predicts line + its trees, so it starts at
# the market and moves away only where the features say so; such a family needs a line).
Baseline = Literal["none", "line"]
# Edge threshold for a recommendation when a family does not set one.
DEFAULT_EDGE_THRESHOLD: dict[str, float] = {"RMSE": 1.0, "MAE": 1.0, "Quantile": 4.0}


# ---------------------------------------------------------------------------------------------
# configuration


class CatBoostParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    iterations: int = Field(default=1000, ge=1)
    learning_rate: float = Field(default=0.05, gt=0, le=1)
    depth: int = Field(default=6, ge=1, le=16)
    l2_leaf_reg: float = Field(default=3.0, ge=0)
    random_seed: int = 42
    early_stopping_rounds: int = Field(default=50, ge=1)


class FamilyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*[a-z0-9]$")
    description: str = ""
    feature_set: FeatureSetName
    loss: Loss
    quantile_alpha: float | None = None
    window_game_days: int = Field(ge=2)
    min_train_rows: int = Field(ge=1)
    enabled: bool = True
    role: Role = "challenger"
    edge_threshold: float | None = Field(default=None, gt=0)
    baseline: Baseline = "none"
    # One more model input after the set's features: `market_is_dfs` (1.0 when the row's chosen
    # line is a DFS line, 0.0 for a sportsbook line), derived from player_features' `market_type`
    # (lib/models/predict.feature_matrix). Only for a family that needs a line on every row.
    # Off everywhere (issue 13 item 1, measured for v13_noveg_line_mae with bench/walk_forward.py):
    # DFS window identical (every earlier lined row is DFS: a constant input); sportsbook window
    # 2025-10-21..11-23 changed only its last 2 weeks (before them the sportsbook rows sit in the
    # held-out parts), MAE ratio 0.99977 -> 0.99986 and Brier 0.25036 -> 0.25034 on the same 3,340
    # rows, and 4 of the last week's days quarantined (>95% UNDER). Both markets' lines have the
    # same median residual (-0.5) there, so there is no market shift to learn yet; re-measure with
    # `--set <family>.market_type_feature=true` once a season of sportsbook rows trains.
    market_type_feature: bool = False
    catboost: CatBoostParams = CatBoostParams()

    @model_validator(mode="after")
    def _check(self) -> FamilyConfig:
        if self.loss == "Quantile":
            if self.quantile_alpha is None or not 0 < self.quantile_alpha < 1:
                raise ValueError(f"{self.id}: loss Quantile needs 0 < quantile_alpha < 1, got {self.quantile_alpha}")
        elif self.quantile_alpha is not None:
            raise ValueError(f"{self.id}: quantile_alpha is only for loss Quantile (loss is {self.loss})")
        if self.edge_threshold is None:
            object.__setattr__(self, "edge_threshold", DEFAULT_EDGE_THRESHOLD[self.loss])
        if (
            self.market_type_feature
            and self.baseline != "line"
            and not load_contract().holds_line_features(self.feature_set)
        ):
            raise ValueError(
                f"{self.id}: market_type_feature needs a line on every row (baseline: line, or a feature set with "
                f"line features); {self.feature_set} with baseline {self.baseline} also trains on rows without one"
            )
        return self

    @property
    def catboost_loss(self) -> str:
        """CatBoost's loss_function string: "RMSE", "MAE" or "Quantile:alpha=0.43"."""
        return f"Quantile:alpha={self.quantile_alpha}" if self.loss == "Quantile" else self.loss


class GovernanceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mae_margin: float = Field(ge=0)
    hr_edge3_floor: float = Field(ge=0, le=1)
    min_n: int = Field(ge=1)
    bias_limit: float = Field(gt=0)
    tier_bias_limit: float = Field(gt=0)
    tier_min_n: int = Field(ge=1)
    direction_hr_floor: float = Field(ge=0, le=1)
    # the edge of the hit-rate gates (their metric and gate names say edge3) and the edges whose
    # hit rate the registry metrics report (hr_edge<edge>); the gate edge must be one of them
    gate_edge: float = Field(gt=0)
    reported_edges: tuple[float, ...] = Field(min_length=1)
    # scoring tiers of the per-tier bias gate: name -> [lower inclusive, upper exclusive) of the
    # `tier_feature` (the season points average before the game)
    tier_feature: str = Field(min_length=1)
    tiers: dict[str, tuple[float, float]] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> GovernanceConfig:
        if self.gate_edge not in self.reported_edges:
            raise ValueError(
                f"governance.gate_edge {self.gate_edge} must be one of reported_edges {self.reported_edges}"
            )
        empty = sorted(name for name, (low, high) in self.tiers.items() if not low < high)
        if empty:
            raise ValueError(f"governance.tiers with an empty range: {empty}")
        return self


class TrainingConfig(BaseModel):
    """The time split of each training window (training.split_windows): train, then the
    early-stopping part, then the calibration part (newest), as shares of its game dates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    early_stopping_fraction: float = Field(gt=0, lt=1)
    calibration_fraction: float = Field(gt=0, lt=1)
    # refit on train + early-stopping rows with the number of trees early stopping chose, so the
    # served model is not stale by the early-stopping part (the calibration part stays unseen)
    refit_after_early_stopping: bool
    thread_count: int = Field(ge=1)
    # calendar days of features / box scores / lines trained_models loads before a week's Monday;
    # each family then keeps its own `window_game_days` of them (spanning the off-season)
    history_days: int = Field(ge=1)
    # `nba-props evaluate` builds features for this many calendar days before its window: the
    # history its walk-forward models train on (the CLI's --history-days default)
    evaluation_history_days: int = Field(ge=1)

    @model_validator(mode="after")
    def _check(self) -> TrainingConfig:
        if self.early_stopping_fraction + self.calibration_fraction >= 1:
            raise ValueError(
                f"early_stopping_fraction + calibration_fraction must be < 1 (train needs dates), got "
                f"{self.early_stopping_fraction} + {self.calibration_fraction}"
            )
        return self


class CalibrationConfig(BaseModel):
    """P(over) calibration (lib/models/calibration.py) on the calibration part of the window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_isotonic_rows: int = Field(ge=1)
    min_block_rows: int = Field(ge=1)
    # the isotonic stage uses sportsbook-priced rows only when at least this many decided ones exist
    sportsbook_min_rows: int = Field(ge=1)


class QuarantineConfig(BaseModel):
    """When a game of a model-day is quarantined (lib/models/predict.poisoned_games)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_one_direction: float = Field(gt=0.5, le=1)  # share of one side among the counted rows
    max_mean_bias: float = Field(gt=0)  # |mean(predicted - line)| in points
    min_picks: int = Field(ge=1)  # counted rows needed for the one-direction rule
    min_lined: int = Field(ge=1)  # lined rows needed for the bias rule
    basis: Literal["recommendation", "direction"]  # which side of a row counts


class PredictionsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_points: float  # predicted points are clamped to [min_points, max_points] (and checked)
    max_points: float
    quarantine: QuarantineConfig

    @model_validator(mode="after")
    def _check(self) -> PredictionsConfig:
        if not self.min_points < self.max_points:
            raise ValueError(f"predictions: need min_points < max_points, got {self.min_points}, {self.max_points}")
        return self


class ModelsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    champion: str
    governance: GovernanceConfig
    training: TrainingConfig
    calibration: CalibrationConfig
    predictions: PredictionsConfig
    families: tuple[FamilyConfig, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _apply_family_defaults(cls, raw: Any) -> Any:
        """`family_defaults` is a YAML convenience: merged under every family, then dropped."""
        if not isinstance(raw, dict) or "family_defaults" not in raw:
            return raw
        raw = dict(raw)
        defaults = raw.pop("family_defaults") or {}
        families = []
        for family in raw.get("families") or []:
            if not isinstance(family, dict):
                families.append(family)
                continue
            merged = copy.deepcopy(defaults)
            for key, value in family.items():
                if key == "catboost" and isinstance(value, dict):
                    merged["catboost"] = {**(merged.get("catboost") or {}), **value}
                else:
                    merged[key] = value
            families.append(merged)
        raw["families"] = families
        return raw

    @model_validator(mode="after")
    def _check(self) -> ModelsConfig:
        ids = [f.id for f in self.families]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate family ids: {duplicates}")
        by_id = {f.id: f for f in self.families}
        if self.champion not in by_id:
            raise ValueError(f"champion {self.champion!r} is not a family ({', '.join(ids)})")
        if not by_id[self.champion].enabled:
            raise ValueError(f"champion {self.champion!r} is not enabled")
        others = sorted(f.id for f in self.families if f.role == "champion" and f.id != self.champion)
        if others:
            raise ValueError(f"only the champion ({self.champion}) may have role champion, not {others}")
        return self

    # -- lookups -----------------------------------------------------------------------------
    def family(self, family_id: str) -> FamilyConfig:
        for family in self.families:
            if family.id == family_id:
                return family
        raise KeyError(f"unknown model family {family_id!r}")

    @property
    def enabled_families(self) -> list[FamilyConfig]:
        return [f for f in self.families if f.enabled]

    def with_catboost(self, **params: Any) -> ModelsConfig:
        """A copy with `params` overriding every family's CatBoost parameters (tests, benches)."""
        families = tuple(f.model_copy(update={"catboost": f.catboost.model_copy(update=params)}) for f in self.families)
        return self.model_copy(update={"families": families})

    def metadata(self) -> dict[str, Any]:
        """The configuration in force, for run metadata (config is visible)."""
        return self.model_dump(mode="json")


def load_models_config(path: str | Path | None = None) -> ModelsConfig:
    """Load and validate `config/models.yaml` (or `path`). Cached per path; the result is frozen."""
    return load_config(ModelsConfig, path or DEFAULT_PATH)


# ---------------------------------------------------------------------------------------------
# lifecycle


class LifecycleState(StrEnum):
    CANDIDATE = "candidate"  # just trained, gates not yet applied
    ACTIVE = "active"  # passed governance: served next to the champion
    CHAMPION = "champion"  # the served champion
    RETIRED = "retired"  # replaced; kept for history
    BLOCKED = "blocked"  # failed a governance gate: registered, never served


class LifecycleError(ValueError):
    """A lifecycle transition the table does not allow."""


ALLOWED_TRANSITIONS: dict[LifecycleState, frozenset[LifecycleState]] = {
    LifecycleState.CANDIDATE: frozenset({LifecycleState.ACTIVE, LifecycleState.BLOCKED}),
    LifecycleState.ACTIVE: frozenset({LifecycleState.CHAMPION, LifecycleState.RETIRED, LifecycleState.BLOCKED}),
    # champion -> active: demotion when another model becomes champion
    LifecycleState.CHAMPION: frozenset({LifecycleState.RETIRED, LifecycleState.ACTIVE}),
    LifecycleState.RETIRED: frozenset(),
    LifecycleState.BLOCKED: frozenset(),
}


def transition(current: str | LifecycleState, new: str | LifecycleState) -> LifecycleState:
    """The new state when `current -> new` is allowed; LifecycleError otherwise (also for an
    unknown state). The result is a str enum, equal to its plain value ("active" == ACTIVE)."""
    try:
        source, target = LifecycleState(current), LifecycleState(new)
    except ValueError as error:
        raise LifecycleError(f"unknown lifecycle state: {error}") from None
    if target not in ALLOWED_TRANSITIONS[source]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[source])) or "none (terminal)"
        raise LifecycleError(
            f"lifecycle transition {source.value} -> {target.value} is not allowed (from {source.value}: {allowed})"
        )
    return target


# ---------------------------------------------------------------------------------------------
# ids and the registry table


def model_id(family: FamilyConfig | str, week_start: date) -> str:
    """`catboost_v12_noveg_q43_2025w03`: the family and the ISO year and week of the weekly
    partition (a Monday), so every (family, week) has its own id in every year, off-season weeks
    included (their training windows can be identical). For humans only, never parsed."""
    family_id = family.id if isinstance(family, FamilyConfig) else family
    iso = week_start.isocalendar()
    return f"catboost_{family_id}_{iso.year}w{iso.week:02d}"


def feature_hash(features: list[str] | tuple[str, ...]) -> str:
    """Short sha256 of the ORDERED feature list (order is the model's column order)."""
    return hashlib.sha256(json.dumps(list(features)).encode()).hexdigest()[:16]


REGISTRY_SCHEMA = pl.Schema(
    {
        "week_start": pl.Date,  # the weekly partition (Monday ET); all data is before it
        "model_id": pl.Utf8,
        "family": pl.Utf8,
        "feature_set": pl.Utf8,
        "loss": pl.Utf8,  # RMSE | MAE | Quantile
        "quantile_alpha": pl.Float64,  # NULL unless Quantile
        "train_start": pl.Date,  # train part: train_start .. train_end
        "train_end": pl.Date,
        # early-stopping part (picks the number of trees; also fit rows of the served model when
        # metrics.refit_after_early_stopping): stop_start .. stop_end
        "stop_start": pl.Date,
        "stop_end": pl.Date,
        "eval_start": pl.Date,  # calibration part (metrics, gates, P(over) calibration): eval_start .. eval_end
        "eval_end": pl.Date,
        "n_train": pl.Int64,
        "n_stop": pl.Int64,
        "n_eval": pl.Int64,
        "features": pl.List(pl.Utf8),  # model column order
        "feature_hash": pl.Utf8,
        "framework_versions": pl.Utf8,  # JSON {catboost, polars, numpy, python}
        "metrics": pl.Utf8,  # JSON, see training.evaluate_tail
        "governance": pl.Utf8,  # JSON {gate: {passed, value, threshold, status, n}}
        "lifecycle_state": pl.Utf8,  # LifecycleState
        "artifact_uri": pl.Utf8,  # NULL until the artifact is written
        "config_version": pl.Utf8,  # models.yaml version
        "trained_at": pl.Datetime("us", "UTC"),
    }
)
REGISTRY_KEY = ("week_start", "family")
REGISTRY_DOC = {  # the column schema the UI shows
    "week_start": "The weekly partition (Monday ET); every row the model saw is before it.",
    "model_id": "Unique model id (family and week).",
    "family": "The model family (config/models.yaml).",
    "feature_set": "The feature set the model reads (v9 / v12 / v12_noveg / v13_noveg / v14_noveg).",
    "loss": "CatBoost loss: RMSE, MAE or Quantile.",
    "quantile_alpha": "The quantile of a Quantile loss; NULL otherwise.",
    "train_start": "First game date of the train part.",
    "train_end": "Last game date of the train part.",
    "stop_start": "First game date of the early-stopping part (picks the number of trees).",
    "stop_end": "Last game date of the early-stopping part.",
    "eval_start": "First game date of the calibration part (metrics, gates, P(over) calibration).",
    "eval_end": "Last game date of the calibration part.",
    "n_train": "Rows in the train part.",
    "n_stop": "Rows in the early-stopping part.",
    "n_eval": "Rows in the calibration part.",
    "features": "The model's feature columns, in model order.",
    "feature_hash": "Hash of the feature list (a model only reads the features it was trained on).",
    "framework_versions": "JSON: catboost, polars, numpy and python versions at training.",
    "metrics": "JSON: the model's metrics on the calibration part.",
    "governance": "JSON: per gate, passed, value, threshold, status and n.",
    "lifecycle_state": "candidate, active, champion, retired or blocked. champion marks the configured champion's "
    "model at training (the seed); the family that serves each day is chosen by evidence afterwards: "
    "model_performance_daily is_champion, and its champion_transition / champion_reason log every switch (this "
    "table is upstream of that evidence and cannot record it).",
    "artifact_uri": "Where the model artifact is stored; NULL until written.",
    "config_version": "config/models.yaml version the model was trained with.",
    "trained_at": "When the model was trained (UTC).",
}
registry_key = REGISTRY_KEY
