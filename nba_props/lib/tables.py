"""The complete table registry: every stored asset's declared schema and natural key, in one literal.

Storage uses it to give an empty window its columns and to conform what an asset writes;
definitions use it for the column schema shown in the UI and the unique-key checks. A new
table is one line in each mapping below (its schema and key live beside the code that builds
it: ingest and line tables in `schemas`, features in the contract, models in `lib/models`).
"""

from __future__ import annotations

from types import MappingProxyType

import polars as pl

from nba_props.lib import schemas
from nba_props.lib.features.contract import load_contract, player_features_schema
from nba_props.lib.models.predict import PREDICTIONS_KEY, PREDICTIONS_SCHEMA
from nba_props.lib.models.registry import REGISTRY_KEY, REGISTRY_SCHEMA

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
    }
)
