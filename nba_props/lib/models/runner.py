"""Walk-forward orchestration over weeks and dates: train every family per week, predict each
date with its week's models. Plain functions; the artifact store is any object with
write_bytes/read_bytes/write_json/read_json (local folder or cloud bucket)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from nba_props import seasons
from nba_props.lib.models.calibration import Calibration
from nba_props.lib.models.predict import PREDICTIONS_SCHEMA, QUARANTINE_TIMING, apply_quarantine, predict_rows
from nba_props.lib.models.registry import REGISTRY_SCHEMA, LifecycleState, ModelsConfig, transition
from nba_props.lib.models.training import (
    MARKET_COLUMNS,
    Skipped,
    load_model_bytes,
    model_bytes,
    requires_line,
    train_family,
    training_frame,
)

LIFECYCLE_STATES = tuple(state.value for state in LifecycleState)
SERVING_STATES = ("active", "champion")


@dataclass
class TrainingOutcome:
    registry: pl.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)
    mae_by_family: dict[str, float] = field(default_factory=dict)
    fit_seconds: float = 0.0


@dataclass
class PredictionOutcome:
    predictions: pl.DataFrame
    models_used: dict[str, int] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def artifact_paths(week_start: date, family: str) -> tuple[str, str]:
    base = f"models/week={week_start.isoformat()}/{family}"
    return f"{base}.cbm", f"{base}.calibration.json"


def with_line_markets(features: pl.DataFrame, lines: pl.DataFrame | None) -> pl.DataFrame:
    """`features` plus the chosen line's market columns of `player_lines` (market_type when it
    has one, prices, de-vigged P(over)) that the features lack, joined on (game_id,
    player_lookup). They feed the calibration's market rule, never the models."""
    if lines is None:
        return features
    wanted = [c for c in MARKET_COLUMNS if c in lines.columns and c not in features.columns]
    if not wanted:
        return features
    market = lines.select("game_id", "player_lookup", *wanted).unique(["game_id", "player_lookup"], keep="first")
    return features.join(market, on=["game_id", "player_lookup"], how="left", maintain_order="left")


def train_weeks(
    features: pl.DataFrame,
    box_scores: pl.DataFrame,
    weeks: list[date],
    config: ModelsConfig,
    contract,
    store,
    *,
    lines: pl.DataFrame | None = None,
) -> TrainingOutcome:
    """Train every enabled family for each week. `lines` (player_lines over the same history)
    supplies the market columns the calibration needs when the features do not carry them."""
    features = with_line_markets(features, lines)
    rows: list[dict] = []
    outcome = TrainingOutcome(registry=pl.DataFrame(schema=REGISTRY_SCHEMA))
    started = time.perf_counter()
    for week_start in weeks:
        for family in config.families:
            if not family.enabled:
                continue
            frame = training_frame(features, box_scores, family, contract, week_start=week_start)
            result = train_family(frame, family, contract, config, week_start=week_start)
            if isinstance(result, Skipped):
                outcome.skipped[f"{week_start}/{family.id}"] = result.reason
                continue
            model_path, calibration_path = artifact_paths(week_start, family.id)
            uri = store.write_bytes(model_path, model_bytes(result))
            store.write_json(calibration_path, result.calibration.to_dict())
            row = dict(result.registry_row, artifact_uri=uri)
            if family.id == config.champion and row["lifecycle_state"] == "active":
                row["lifecycle_state"] = transition("active", "champion")
            rows.append(row)
            outcome.mae_by_family[f"{week_start}/{family.id}"] = round(
                float(result.metrics.get("mae", float("nan"))), 3
            )
    outcome.fit_seconds = time.perf_counter() - started
    if rows:
        outcome.registry = pl.DataFrame(rows, schema=REGISTRY_SCHEMA)
    return outcome


def predict_days(
    features: pl.DataFrame,
    registry: pl.DataFrame,
    config: ModelsConfig,
    store,
    *,
    start: date,
    end: date,
    lines: pl.DataFrame,
    contract=None,
) -> PredictionOutcome:
    """Each date uses the serving models of its own week (trained on games before its Monday).

    Families trained on lined rows only (vegas feature sets) predict lined rows only: a
    defaulted line would be outside everything they learned from.

    `lines` (player_lines of the dates) gives each row's line capture time and the game's tip:
    the quarantine of a game decides from the predictions whose lines were posted by its tip."""
    from nba_props.lib.features.contract import load_contract

    contract = contract or load_contract()
    outcome = PredictionOutcome(predictions=pl.DataFrame(schema=PREDICTIONS_SCHEMA))
    ready = features.filter(pl.col("game_date").is_between(start, end) & pl.col("is_quality_ready"))
    families = {f.id: f for f in config.families if f.enabled}
    serving = registry.filter(pl.col("lifecycle_state").is_in(SERVING_STATES) & pl.col("family").is_in(list(families)))
    frames: list[pl.DataFrame] = []
    weeks = sorted({seasons.week_start(d) for d in ready.get_column("game_date").unique().to_list()})
    for week_start in weeks:
        week_rows = ready.filter(pl.col("game_date").is_between(week_start, week_start + timedelta(days=6)))
        week_models = serving.filter(pl.col("week_start") == week_start)
        for family_id in families:
            model_row = week_models.filter(pl.col("family") == family_id)
            if model_row.height == 0:
                outcome.missing[f"{week_start}/{family_id}"] = _why_missing(registry, week_start, family_id)
                continue
            record = model_row.row(0, named=True)
            family = families[family_id]
            model_path, calibration_path = artifact_paths(week_start, family_id)
            model = load_model_bytes(store.read_bytes(model_path))
            calibration = Calibration.from_dict(store.read_json(calibration_path))
            rows = week_rows.filter(pl.col("line").is_not_null()) if requires_line(family, contract) else week_rows
            frame = predict_rows(
                rows,
                model,
                list(record["features"]),
                calibration,
                model_id=record["model_id"],
                family_id=family_id,
                loss=family.loss,
                edge_threshold=family.edge_threshold,
                line_baseline=family.baseline == "line",
            )
            frames.append(frame)
            outcome.models_used[record["model_id"]] = frame.height
    if frames:
        timing = lines.select("game_id", "player_lookup", *QUARANTINE_TIMING).unique(["game_id", "player_lookup"])
        quarantine = config.predictions.quarantine
        outcome.predictions = apply_quarantine(
            pl.concat(frames), timing, rules=quarantine, basis=quarantine.basis
        ).sort("game_date", "game_id", "player_lookup", "model_id")
    return outcome


def _why_missing(registry: pl.DataFrame, week_start: date, family_id: str) -> str:
    row = registry.filter((pl.col("week_start") == week_start) & (pl.col("family") == family_id))
    if row.height:
        return f"model {row['model_id'][0]} is {row['lifecycle_state'][0]}"
    return "no model trained for this week (too few rows or not materialized)"
