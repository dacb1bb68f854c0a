"""Training of one model family for one week: the leak-free training frame, the three-way
time split (train / early stopping / calibration), the CatBoost fit, held-out metrics,
governance gates, the P(over) calibration and the registry row.

Walk-forward contract: a week's model sees only rows dated strictly before the week's Monday
(`week_start`). The window's game dates are split in time into three disjoint parts:

    train (oldest)  <  early stopping  <  calibration (newest)

with the shares `training.early_stopping_fraction` and `training.calibration_fraction` of the
window's dates (config/models.yaml). CatBoost fits on `train` and picks its best iteration on the
early-stopping part only; with `training.refit_after_early_stopping` the served model is then
refitted with exactly that many trees on train + early stopping (no evaluation set), so it is not
stale by the early-stopping part. The calibration part is never seen by a fit nor by early stopping:
the tail metrics, the governance gates and the P(over) calibration (residual spread + isotonic
map) all come from it, so none of them is optimistic by the choice of the best iteration.

Governance choice: a gate whose sample is too small (e.g. fewer than `governance.min_n` picks at
edge >= 3 in the tail) is recorded with status `insufficient_sample` and does NOT block. A weekly
tail is ~13 game dates; blocking on a handful of picks would make the lifecycle flap on noise and
could leave no served model at all (early season, narrow-edge families). Realised performance
with larger samples is watched daily by model health, which can still retire a model.
"""

from __future__ import annotations

import json
import math
import platform
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import catboost
import numpy as np
import polars as pl
from catboost import CatBoostRegressor, Pool

from nba_props.lib.features.contract import FeatureContract
from nba_props.lib.grading import OVER, UNDER, hit_rate, side_wins
from nba_props.lib.models.calibration import Calibration, fit_market_calibration
from nba_props.lib.models.predict import MARKET_INPUT, feature_matrix, line_start
from nba_props.lib.models.registry import (
    REGISTRY_SCHEMA,
    FamilyConfig,
    GovernanceConfig,
    LifecycleState,
    ModelsConfig,
    feature_hash,
    load_models_config,
    model_id,
    transition,
)

KEY = ("game_date", "game_id", "player_lookup")
LABEL = "actual_points"
# Carried from the features into the training frame when present: which market the line comes
# from and its prices (the calibration's market rule). Not model inputs as such (a family with
# `market_type_feature` reads market_type through `model_features` / `feature_matrix`).
MARKET_COLUMNS: dict[str, pl.DataType] = {
    "market_type": pl.Utf8, "over_price": pl.Int32, "under_price": pl.Int32, "implied_over_prob": pl.Float64,
}  # fmt: skip
# The tail metrics' rules are config/models.yaml's `governance` section (loaded once).
_GOVERNANCE = load_models_config().governance
TIER_FEATURE = _GOVERNANCE.tier_feature  # the scoring-tier proxy (season points average before the game)
# Scoring tiers by season average: (name, lower bound inclusive, upper bound exclusive).
TIERS: tuple[tuple[str, float, float], ...] = tuple(
    (name, low, high) for name, (low, high) in _GOVERNANCE.tiers.items()
)
EDGE_GATE = _GOVERNANCE.gate_edge
REPORTED_EDGES = _GOVERNANCE.reported_edges

GATE_PASSED, GATE_FAILED, GATE_INSUFFICIENT = "passed", "failed", "insufficient_sample"


@dataclass(frozen=True)
class Skipped:
    """A family not trained this week, and why (shown in run metadata)."""

    family: str
    reason: str


@dataclass
class TrainedModel:
    model_id: str
    family: FamilyConfig
    feature_names: list[str]
    model: CatBoostRegressor
    registry_row: dict[str, Any]  # REGISTRY_SCHEMA columns; artifact_uri is None until written
    # calibration-part rows: key, prediction, actual, line, residual (actual - prediction), and the
    # market columns present in the features
    eval_frame: pl.DataFrame
    calibration: Calibration  # P(over), fitted on eval_frame
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def lifecycle_state(self) -> str:
        return self.registry_row["lifecycle_state"]


# ---------------------------------------------------------------------------------------------
# frames


def requires_line(family: FamilyConfig, contract: FeatureContract) -> bool:
    """Families whose feature set holds vegas line features, and families that start from the line
    (`baseline: line`), train on and predict rows with a line only."""
    if family.baseline == "line":
        return True
    return contract.holds_line_features(family.feature_set)


def model_features(family: FamilyConfig, contract: FeatureContract) -> list[str]:
    """The family's model inputs in model order (the registry row's `features` and its hash): the
    set's features in contract order, then `MARKET_INPUT` for a family with `market_type_feature`
    (built from the row's market_type by `feature_matrix`, in training and serving alike)."""
    names = contract.feature_columns(family.feature_set)
    if not family.market_type_feature:
        return names
    if not requires_line(family, contract):
        raise ValueError(f"{family.id}: market_type_feature needs a family that trains on lined rows only")
    return [*names, MARKET_INPUT]


def baseline_of(family: FamilyConfig, frame: pl.DataFrame) -> np.ndarray | None:
    """The per-row start of the family's trees: the line for `baseline: line` (every row has one:
    `requires_line`), else None (CatBoost's own start)."""
    return None if family.baseline == "none" else line_start(frame, family.id)


def predict_points(model: CatBoostRegressor, family: FamilyConfig, frame: pl.DataFrame, names: list[str]) -> np.ndarray:
    """The family's predicted points for the rows of `frame`: the trees' output, plus the baseline
    for a `baseline: line` family (CatBoost does not store a Pool's baseline in the model)."""
    raw = np.asarray(model.predict(feature_matrix(frame, names, family.id)), dtype=np.float64).reshape(-1)
    baseline = baseline_of(family, frame)
    return raw if baseline is None else raw + baseline


def _labels(box_scores: pl.DataFrame) -> pl.DataFrame:
    return (
        box_scores.filter(pl.col("played") & pl.col("points").is_not_null())
        .select("game_id", "player_lookup", pl.col("points").cast(pl.Float64).alias(LABEL))
        .unique(["game_id", "player_lookup"], keep="first", maintain_order=True)
    )


def training_frame(
    features: pl.DataFrame,
    box_scores: pl.DataFrame,
    family: FamilyConfig,
    contract: FeatureContract,
    *,
    week_start: date,
) -> pl.DataFrame:
    """Labelled, quality-ready rows dated strictly before `week_start`, limited to the family's
    window: the last `window_game_days` distinct game dates that have such rows (so the window
    spans the off-season). Families with vegas features keep rows with a line only.

    Columns: game_date, game_id, player_lookup, the set's features (contract order), line,
    actual_points, then those of `MARKET_COLUMNS` the features have; sorted by the key."""
    columns = contract.feature_columns(family.feature_set)
    out_schema = {
        "game_date": pl.Date, "game_id": pl.Utf8, "player_lookup": pl.Utf8,
        **{c: pl.Float64 for c in columns}, "line": pl.Float64, LABEL: pl.Float64,
        **{c: t for c, t in MARKET_COLUMNS.items() if c in features.columns},
    }  # fmt: skip
    rows = features.filter(pl.col("is_quality_ready") & (pl.col("game_date") < week_start))
    if requires_line(family, contract):
        rows = rows.filter(pl.col("line").is_not_null())
    rows = rows.join(_labels(box_scores), on=["game_id", "player_lookup"], how="inner")
    if rows.height == 0:
        return pl.DataFrame(schema=out_schema)
    window = rows.get_column("game_date").unique().sort().tail(family.window_game_days)
    rows = rows.filter(pl.col("game_date") >= window.min())
    return rows.select([pl.col(name).cast(dtype) for name, dtype in out_schema.items()]).sort(KEY)


def split_windows(
    frame: pl.DataFrame, early_stopping_fraction: float, calibration_fraction: float
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Time-ordered three-way split of the frame's game dates: (train, early stopping,
    calibration), oldest to newest, no date in two parts.

    With n distinct dates: the calibration part takes the last max(1, round(n * calibration_
    fraction)) dates and the early-stopping part the max(1, round(n * early_stopping_fraction))
    dates before them; when those would leave train without a date, the larger of the two
    gives up dates first (train always keeps at least one). With fewer than three dates every
    row is in train and the other parts are empty (the caller skips the family)."""
    dates = frame.get_column("game_date").unique().sort()
    n = dates.len()
    if n < 3:
        return frame, frame.clear(), frame.clear()
    n_cal = max(1, round(n * calibration_fraction))
    n_stop = max(1, round(n * early_stopping_fraction))
    while n_cal + n_stop > n - 1:
        if n_cal >= n_stop:
            n_cal -= 1
        else:
            n_stop -= 1
    stop_from, cal_from = dates[n - n_cal - n_stop], dates[n - n_cal]
    date_col = pl.col("game_date")
    return (
        frame.filter(date_col < stop_from),
        frame.filter((date_col >= stop_from) & (date_col < cal_from)),
        frame.filter(date_col >= cal_from),
    )


# ---------------------------------------------------------------------------------------------
# metrics and governance


def _hit_rate(rows: pl.DataFrame) -> tuple[int, float | None]:
    """(n, hit rate) of rows with `direction` and a decided outcome (pushes already excluded, so
    every row that is not a win is a loss)."""
    wins = rows.select(side_wins(pl.col("direction"), pl.col("actual"), pl.col("line")).sum()).item()
    return rows.height, hit_rate(wins, rows.height - wins)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), digits)


def evaluate_tail(scored: pl.DataFrame) -> dict[str, Any]:
    """Metrics of a scored frame with columns prediction, actual, line (NULL without one) and
    points_avg_season (tier proxy).

    mae / rmse / bias_vs_actual over all rows; on rows with a line: n_lined, mae_lined, line_mae
    (|actual - line|), bias_vs_line = mean(prediction - line); hit rates at edge >= e (edge =
    |prediction - line|, OVER when prediction > line, a win when the actual lands on the
    predicted side, pushes actual == line excluded): n_edge{e}, hr_edge{e}; OVER / UNDER at
    edge >= 3; tier_bias: per scoring tier, n and mean(prediction - actual)."""
    metrics: dict[str, Any] = {"n_eval": scored.height}
    if scored.height == 0:
        return metrics
    error = pl.col("prediction") - pl.col("actual")
    overall = scored.select(mae=error.abs().mean(), rmse=(error**2).mean().sqrt(), bias_vs_actual=error.mean()).row(
        0, named=True
    )
    metrics.update({k: _round(v) for k, v in overall.items()})

    lined = scored.filter(pl.col("line").is_not_null())
    metrics["n_lined"] = lined.height
    figures = (
        lined.select(
            mae_lined=error.abs().mean(),
            line_mae=(pl.col("actual") - pl.col("line")).abs().mean(),
            bias_vs_line=(pl.col("prediction") - pl.col("line")).mean(),
        ).row(0, named=True)
        if lined.height
        else {"mae_lined": None, "line_mae": None, "bias_vs_line": None}
    )
    metrics.update({k: _round(v) for k, v in figures.items()})

    picks = lined.with_columns(
        edge=(pl.col("prediction") - pl.col("line")).abs(),
        direction=pl.when(pl.col("prediction") > pl.col("line")).then(pl.lit(OVER)).otherwise(pl.lit(UNDER)),
    ).filter(pl.col("actual") != pl.col("line"))
    for edge in REPORTED_EDGES:
        n, hr = _hit_rate(picks.filter(pl.col("edge") >= edge))
        metrics[f"n_edge{edge:g}"], metrics[f"hr_edge{edge:g}"] = n, _round(hr)
    for direction in (OVER, UNDER):
        n, hr = _hit_rate(picks.filter((pl.col("edge") >= EDGE_GATE) & (pl.col("direction") == direction)))
        metrics[f"n_{direction.lower()}_edge3"], metrics[f"{direction.lower()}_hr_edge3"] = n, _round(hr)

    tiers: dict[str, dict[str, Any]] = {}
    for name, low, high in TIERS:
        rows = scored.filter((pl.col(TIER_FEATURE) >= low) & (pl.col(TIER_FEATURE) < high))
        tiers[name] = {"n": rows.height, "bias": _round(rows.select(error.mean()).item()) if rows.height else None}
    metrics["tier_bias"] = tiers
    return metrics


def _gate(value: float | None, threshold: float, n: int, min_n: int, passed: bool | None) -> dict[str, Any]:
    if n < min_n or value is None or passed is None:
        return {"status": GATE_INSUFFICIENT, "passed": None, "value": value, "threshold": threshold, "n": n}
    return {"status": GATE_PASSED if passed else GATE_FAILED, "passed": bool(passed), "value": value,
            "threshold": threshold, "n": n}  # fmt: skip


def governance_gates(metrics: dict[str, Any], governance: GovernanceConfig) -> dict[str, dict[str, Any]]:
    """Each gate -> {status passed|failed|insufficient_sample, passed (None when insufficient),
    value, threshold, n}. Only `failed` blocks a model."""
    g, m = governance, metrics
    gates: dict[str, dict[str, Any]] = {}

    line_mae = m.get("line_mae")
    mae_threshold = _round(line_mae + g.mae_margin) if line_mae is not None else None
    gates["mae_vs_line"] = _gate(
        m.get("mae_lined"), mae_threshold, m.get("n_lined", 0), g.min_n,
        None if mae_threshold is None or m.get("mae_lined") is None else m["mae_lined"] <= mae_threshold,
    )  # fmt: skip
    hr = m.get("hr_edge3")
    gates["hr_edge3"] = _gate(hr, g.hr_edge3_floor, m.get("n_edge3", 0), g.min_n,
                              None if hr is None else hr >= g.hr_edge3_floor)  # fmt: skip
    bias = m.get("bias_vs_line")
    gates["bias_vs_line"] = _gate(bias, g.bias_limit, m.get("n_lined", 0), g.min_n,
                                  None if bias is None else abs(bias) <= g.bias_limit)  # fmt: skip
    counted = {k: v for k, v in (m.get("tier_bias") or {}).items() if v["n"] >= g.tier_min_n and v["bias"] is not None}
    worst = max(counted.items(), key=lambda kv: abs(kv[1]["bias"]), default=None)
    gates["tier_bias"] = _gate(
        worst[1]["bias"] if worst else None,
        g.tier_bias_limit,
        worst[1]["n"] if worst else 0,
        g.tier_min_n,
        None if worst is None else abs(worst[1]["bias"]) <= g.tier_bias_limit,
    )
    if worst:
        gates["tier_bias"]["tier"] = worst[0]
    for direction in ("over", "under"):
        hr = m.get(f"{direction}_hr_edge3")
        gates[f"{direction}_hr_edge3"] = _gate(hr, g.direction_hr_floor, m.get(f"n_{direction}_edge3", 0), g.min_n,
                                               None if hr is None else hr >= g.direction_hr_floor)  # fmt: skip
    return gates


def lifecycle_after_gates(gates: dict[str, dict[str, Any]]) -> LifecycleState:
    """candidate -> blocked when any gate failed, else candidate -> active."""
    failed = any(gate["status"] == GATE_FAILED for gate in gates.values())
    return transition(LifecycleState.CANDIDATE, LifecycleState.BLOCKED if failed else LifecycleState.ACTIVE)


# ---------------------------------------------------------------------------------------------
# fitting


def framework_versions() -> dict[str, str]:
    return {
        "catboost": catboost.__version__,
        "polars": pl.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def make_regressor(family: FamilyConfig, config: ModelsConfig, *, iterations: int | None = None) -> CatBoostRegressor:
    p = family.catboost
    return CatBoostRegressor(
        loss_function=family.catboost_loss,
        iterations=iterations or p.iterations,
        learning_rate=p.learning_rate,
        depth=p.depth,
        l2_leaf_reg=p.l2_leaf_reg,
        random_seed=p.random_seed,
        # a line baseline is the start: CatBoost must not add the label mean on top of it
        boost_from_average=False if family.baseline == "line" else None,
        thread_count=config.training.thread_count,
        allow_writing_files=False,
        logging_level="Silent",
    )


def train_family(
    frame: pl.DataFrame,
    family: FamilyConfig,
    contract: FeatureContract,
    config: ModelsConfig,
    *,
    week_start: date,
) -> TrainedModel | Skipped:
    """Fit the family on the train part of `frame` (from `training_frame`) with early stopping
    on the early-stopping part; score the calibration part, compute the metrics and governance
    gates and fit the P(over) calibration on it; build the registry row."""
    if frame.height < family.min_train_rows:
        return Skipped(
            family.id, f"{frame.height} training rows before {week_start} < min_train_rows {family.min_train_rows}"
        )
    late = frame.filter(pl.col("game_date") >= week_start)
    if late.height:
        raise ValueError(f"{family.id}: training frame has {late.height} rows on or after week_start {week_start}")
    t = config.training
    train, stop, tail = split_windows(frame, t.early_stopping_fraction, t.calibration_fraction)
    if train.height == 0 or stop.height == 0 or tail.height == 0:
        n_dates = frame.get_column("game_date").n_unique()
        return Skipped(
            family.id,
            f"window has {n_dates} game date(s); need >= 3 for train, early-stopping and calibration parts",
        )

    names = model_features(family, contract)

    def pool(rows: pl.DataFrame) -> Pool:
        return Pool(
            feature_matrix(rows, names, family.id), rows.get_column(LABEL).to_numpy(), feature_names=names,
            baseline=baseline_of(family, rows),
        )  # fmt: skip

    model = make_regressor(family, config)
    started = time.perf_counter()
    model.fit(
        pool(train),
        eval_set=pool(stop),
        early_stopping_rounds=family.catboost.early_stopping_rounds,
        use_best_model=True,
    )
    best = model.get_best_iteration()
    best_iteration = int(best if best is not None else model.tree_count_ - 1)
    stopped_trees = int(model.tree_count_)
    if config.training.refit_after_early_stopping:
        refit_rows = pl.concat([train, stop])
        model = make_regressor(family, config, iterations=stopped_trees)
        model.fit(pool(refit_rows))
    fit_seconds = time.perf_counter() - started

    prediction = predict_points(model, family, tail, names)
    market_columns = [c for c in MARKET_COLUMNS if c in tail.columns]
    scored = tail.select(*KEY, pl.col(LABEL).alias("actual"), "line", TIER_FEATURE, *market_columns).with_columns(
        prediction=pl.Series(prediction, dtype=pl.Float64)
    )
    metrics = evaluate_tail(scored)
    metrics.update(
        best_iteration=best_iteration,
        tree_count=int(model.tree_count_),
        refit_after_early_stopping=config.training.refit_after_early_stopping,
        fit_seconds=round(fit_seconds, 3),
        n_train_dates=train.get_column("game_date").n_unique(),
        n_stop_dates=stop.get_column("game_date").n_unique(),
        n_eval_dates=tail.get_column("game_date").n_unique(),
    )
    eval_frame = scored.select(
        *KEY, "prediction", "actual", "line", *market_columns, residual=pl.col("actual") - pl.col("prediction")
    )
    c = config.calibration
    calibration, metrics["calibration"] = fit_market_calibration(
        eval_frame, min_isotonic_rows=c.min_isotonic_rows, min_block_rows=c.min_block_rows,
        sportsbook_min_rows=c.sportsbook_min_rows,
    )  # fmt: skip
    gates = governance_gates(metrics, config.governance)
    state = lifecycle_after_gates(gates)

    identifier = model_id(family, week_start)
    registry_row = {
        "week_start": week_start,
        "model_id": identifier,
        "family": family.id,
        "feature_set": family.feature_set,
        "loss": family.loss,
        "quantile_alpha": family.quantile_alpha,
        "train_start": train.get_column("game_date").min(),
        "train_end": train.get_column("game_date").max(),
        "stop_start": stop.get_column("game_date").min(),
        "stop_end": stop.get_column("game_date").max(),
        "eval_start": tail.get_column("game_date").min(),
        "eval_end": tail.get_column("game_date").max(),
        "n_train": train.height,
        "n_stop": stop.height,
        "n_eval": tail.height,
        "features": list(names),
        "feature_hash": feature_hash(names),
        "framework_versions": json.dumps(framework_versions(), sort_keys=True),
        "metrics": json.dumps(metrics, sort_keys=True),
        "governance": json.dumps(gates, sort_keys=True),
        "lifecycle_state": state.value,
        "artifact_uri": None,
        "config_version": config.version,
        "trained_at": datetime.now(UTC),
    }
    assert set(registry_row) == set(REGISTRY_SCHEMA), "registry row out of sync with REGISTRY_SCHEMA"
    return TrainedModel(
        model_id=identifier,
        family=family,
        feature_names=list(names),
        model=model,
        registry_row=registry_row,
        eval_frame=eval_frame,
        calibration=calibration,
        metrics=metrics,
    )


# ---------------------------------------------------------------------------------------------
# artifacts


def model_bytes(trained: TrainedModel | CatBoostRegressor) -> bytes:
    """The fitted model as CatBoost's binary format (cbm), for the artifact store."""
    model = trained.model if isinstance(trained, TrainedModel) else trained
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.cbm"
        model.save_model(str(path), format="cbm")
        return path.read_bytes()


def load_model_bytes(data: bytes) -> CatBoostRegressor:
    """A CatBoostRegressor from `model_bytes` output."""
    model = CatBoostRegressor()
    model.load_model(blob=data)
    return model
