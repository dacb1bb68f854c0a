"""The one "strictly before" as-of join: how every block looks up history without seeing its own day.

A feature, line delta, baseline or expected-player lookup for a row dated D may only use rows
dated before D. `join_strictly_before` attaches to each left row the newest right row of the same
`by` keys whose date is strictly before the left row's date (`allow_exact_matches=False`); rows
with no earlier match get NULLs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import polars as pl

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def join_strictly_before(left: Frame, right: Frame, *, left_on: str, right_on: str, by: str | Sequence[str]) -> Frame:
    """`left` (sorted by `left_on`) with the newest `right` row per `by` dated strictly before it.

    Both sides are sorted here (stable, so rows of one date keep their order). Sorted globally
    by date means sorted within every `by` group, which polars cannot verify itself inside
    groups, hence `check_sortedness=False`.
    """
    return left.sort(left_on, maintain_order=True).join_asof(
        right.sort(right_on, maintain_order=True),
        left_on=left_on,
        right_on=right_on,
        by=by if isinstance(by, str) else list(by),
        strategy="backward",
        allow_exact_matches=False,
        check_sortedness=False,
    )
