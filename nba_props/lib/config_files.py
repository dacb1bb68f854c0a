"""The one loader of the rule files in `nba_props/config/`: read YAML, validate with pydantic, once.

Every rule (threshold, window, registry) lives in a YAML file there and is validated by a
pydantic model next to the code that uses it. `load_config(Model, path)` is the only way those
files are read: a file is parsed and validated once per (model, resolved path) and the frozen
model is shared, so a process sees one consistent configuration.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"

Model = TypeVar("Model", bound=BaseModel)


def load_config(model: type[Model], path: str | Path) -> Model:
    """The YAML file at `path`, validated by `model` (cached per model and absolute path).
    An empty file is an empty mapping; a top level that is not a mapping is a ValueError."""
    # abspath, not resolve(): no file-system call on the hot path (builders ask per day)
    return _load(model, os.path.abspath(path))


@lru_cache(maxsize=32)
def _load(model: type[Model], path: str) -> Model:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return model.model_validate(raw)
