"""The complete table registry: every stored asset's declared schema and natural key, in one literal.

Storage uses it to give an empty window its columns and to conform what an asset writes;
definitions use it for the column schema shown in the UI (with each column's description) and the
unique-key checks. A new table is one line in each mapping below (its schema, key and column
descriptions live beside the code that builds it: ingest and line tables in `schemas`, features in
the contract, models in `lib/models`); a column without a description fails at import.
"""

from __future__ import annotations

from types import MappingProxyType

import polars as pl

from nba_props.lib import health, ledger, publish, schemas, selection, signals, steering
from nba_props.lib.alerts import ALERTS_DOC, ALERTS_SCHEMA, ALERTS_TABLE
from nba_props.lib.features.contract import load_contract, player_features_descriptions, player_features_schema
from nba_props.lib.grading import ACCURACY_DOC, ACCURACY_KEY, ACCURACY_SCHEMA
from nba_props.lib.models.predict import PREDICTIONS_DOC, PREDICTIONS_KEY, PREDICTIONS_SCHEMA
from nba_props.lib.models.registry import REGISTRY_DOC, REGISTRY_KEY, REGISTRY_SCHEMA
from nba_props.lib.regime import (
    MARKET_REGIME_KEY,
    MARKET_REGIME_SCHEMA,
    PRE_GAME_SIGNAL_KEY,
    PRE_GAME_SIGNAL_SCHEMA,
    load_regime_config,
    market_regime_doc,
    pre_game_signal_doc,
)

TABLE_SCHEMAS: MappingProxyType[str, pl.Schema] = MappingProxyType(
    {
        "schedule": schemas.SCHEDULE,
        "box_scores": schemas.BOX_SCORES,
        "prop_line_snapshots": schemas.PROP_LINE_SNAPSHOTS,
        "injury_report": schemas.INJURY_REPORT,
        "ingest_quarantine": schemas.QUARANTINE,
        "player_lines": schemas.PLAYER_LINES,
        "player_features": player_features_schema(load_contract()),
        "trained_models": REGISTRY_SCHEMA,
        "predictions": PREDICTIONS_SCHEMA,
        "prediction_accuracy": ACCURACY_SCHEMA,
        "model_performance_daily": health.performance_schema(health.load_health_config()),
        "market_regime": MARKET_REGIME_SCHEMA,
        "pre_game_signal": PRE_GAME_SIGNAL_SCHEMA,
        "signal_tags": signals.TAGS_SCHEMA,
        "signal_health_daily": signals.health_schema(signals.load_signal_registry().health),
        "best_bets": selection.BEST_BETS_SCHEMA,
        "published_picks": ledger.LEDGER_SCHEMA,
        "pick_accuracy": ledger.PICK_ACCURACY_SCHEMA,
        "steering_report": steering.report_schema(steering.load_steering_config(), health.load_health_config()),
        # the publish assets: one row per file and date (lib/publish.py)
        **dict.fromkeys(publish.load_publish_config().assets, publish.FILES_SCHEMA),
        # written by the alert sink (not an IO-managed output); registered so a reader of the external
        # `alerts` asset gets an empty frame with these columns before any alert was ever raised
        ALERTS_TABLE: ALERTS_SCHEMA,
    }
)
TABLE_KEYS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "schedule": schemas.SCHEDULE_KEY,
        "box_scores": schemas.BOX_SCORES_KEY,
        "prop_line_snapshots": schemas.PROP_LINE_SNAPSHOTS_KEY,
        "injury_report": schemas.INJURY_REPORT_KEY,
        "player_lines": schemas.PLAYER_LINES_KEY,
        "player_features": ("game_id", "player_lookup"),
        "trained_models": REGISTRY_KEY,
        "predictions": PREDICTIONS_KEY,
        "prediction_accuracy": ACCURACY_KEY,
        "model_performance_daily": health.KEY,
        "market_regime": MARKET_REGIME_KEY,
        "pre_game_signal": PRE_GAME_SIGNAL_KEY,
        "signal_tags": signals.TAGS_KEY,
        "signal_health_daily": signals.HEALTH_KEY,
        "best_bets": selection.KEY,
        "published_picks": ledger.LEDGER_KEY,
        "pick_accuracy": ledger.PICK_ACCURACY_KEY,
        "steering_report": steering.KEY,
        **dict.fromkeys(publish.load_publish_config().assets, publish.FILES_KEY),
        ALERTS_TABLE: ("alert_id",),
    }
)
COLUMN_DESCRIPTIONS: MappingProxyType[str, MappingProxyType[str, str]] = MappingProxyType(
    {
        table: MappingProxyType(dict(docs))
        for table, docs in {
            "schedule": schemas.SCHEDULE_DOC,
            "box_scores": schemas.BOX_SCORES_DOC,
            "prop_line_snapshots": schemas.PROP_LINE_SNAPSHOTS_DOC,
            "injury_report": schemas.INJURY_REPORT_DOC,
            "ingest_quarantine": schemas.QUARANTINE_DOC,
            "player_lines": schemas.PLAYER_LINES_DOC,
            "player_features": player_features_descriptions(load_contract()),
            "trained_models": REGISTRY_DOC,
            "predictions": PREDICTIONS_DOC,
            "prediction_accuracy": ACCURACY_DOC,
            "model_performance_daily": health.performance_docs(health.load_health_config()),
            "market_regime": market_regime_doc(load_regime_config().market_regime),
            "pre_game_signal": pre_game_signal_doc(load_regime_config().pre_game_signal),
            "signal_tags": signals.TAGS_DOC,
            "signal_health_daily": signals.health_docs(signals.load_signal_registry().health),
            "best_bets": selection.BEST_BETS_DOC,
            "published_picks": ledger.LEDGER_DOC,
            "pick_accuracy": ledger.pick_accuracy_doc(health.load_health_config().default_price),
            "steering_report": steering.report_docs(steering.load_steering_config(), health.load_health_config()),
            **dict.fromkeys(publish.load_publish_config().assets, publish.FILES_DOC),
            ALERTS_TABLE: ALERTS_DOC,
        }.items()
    }
)


def undescribed_columns() -> dict[str, list[str]]:
    """Per table, the columns without a non-empty description, and descriptions of no column."""
    problems: dict[str, list[str]] = {}
    for table, schema in TABLE_SCHEMAS.items():
        docs = COLUMN_DESCRIPTIONS.get(table, {})
        missing = [name for name in schema.names() if not docs.get(name, "").strip()]
        stale = [f"{name} (not a column)" for name in docs if name not in schema]
        if missing or stale:
            problems[table] = missing + stale
    return problems


if _problems := undescribed_columns():  # a new column comes with its description
    raise ValueError(f"columns without a description (add them beside the schema): {_problems}")
