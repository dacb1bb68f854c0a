"""`schemas.conform`: the one way a frame is brought to its declared schema (lib, IO manager, warehouse)."""

from datetime import date

import polars as pl
import pytest

from nba_props.lib import schemas

DECLARED = pl.Schema({"game_date": pl.Date, "points": pl.Int32, "note": pl.Utf8})
FRAME = pl.DataFrame({"extra": [1], "points": [25], "game_date": [date(2025, 1, 15)]})


def test_lenient_by_default_missing_becomes_null_and_extra_is_dropped():
    out = schemas.conform(FRAME, DECLARED)
    assert out.schema == DECLARED
    assert out.rows() == [(date(2025, 1, 15), 25, None)]


def test_storage_modes_refuse_missing_or_unexpected_columns():
    with pytest.raises(ValueError, match=r"asset 'x': .*missing \['note'\], unexpected \['extra'\]"):
        schemas.conform(FRAME, DECLARED, missing="error", extra="error", what="asset 'x'")
    with pytest.raises(ValueError, match=r"missing \['note'\].*; migrate or drop the table"):
        schemas.conform(FRAME, DECLARED, missing="error", what="t", hint="migrate or drop the table")
    # a read may carry more than declared: dropped
    out = schemas.conform(FRAME.with_columns(note=pl.lit("n")), DECLARED, missing="error")
    assert out.columns == ["game_date", "points", "note"]


def test_cast_is_strict():
    with pytest.raises(pl.exceptions.InvalidOperationError):
        schemas.conform(pl.DataFrame({"points": ["not a number"]}), pl.Schema({"points": pl.Int32}))
