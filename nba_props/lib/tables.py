"""The complete table registry: every stored asset's declared schema and natural key.

Ingest and line tables are declared in `schemas`; the feature table follows the feature
contract, and the model tables come from the model modules. They are registered here, once,
so storage knows every table whichever module a process imported first.
"""

from __future__ import annotations

from nba_props.lib import schemas
from nba_props.lib.features.contract import load_contract, player_features_schema
from nba_props.lib.models.predict import PREDICTIONS_KEY, PREDICTIONS_SCHEMA
from nba_props.lib.models.registry import REGISTRY_KEY, REGISTRY_SCHEMA

schemas.TABLE_SCHEMAS.update(
    {
        "player_features": player_features_schema(load_contract()),
        "trained_models": REGISTRY_SCHEMA,
        "predictions": PREDICTIONS_SCHEMA,
    }
)
schemas.TABLE_KEYS.update(
    {
        "player_features": ("game_id", "player_lookup"),
        "trained_models": REGISTRY_KEY,
        "predictions": PREDICTIONS_KEY,
    }
)

TABLE_SCHEMAS = schemas.TABLE_SCHEMAS
TABLE_KEYS = schemas.TABLE_KEYS
