"""Injury reports as they were known before a game's tip: the one as-of rule that features and
expected players share.

`injury_report` keeps every report of a game date (one row per player and capture, `reported_at`
UTC). For a game with tip time T only reports captured strictly before T count, and per player the
newest of them wins: a player ruled out in-game, or a scratch recorded after tip, does not change
what was known for that game (it still counts for a later game of the same date).

Reports belong to the ET date of their capture, so the candidates of a game on D are D's reports.
A game whose tip time is unknown (NULL) keeps the previous rule: the newest report of its date.
A report without a capture time (hand-made frames) counts as known before every tip.
Works on polars DataFrames and LazyFrames alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import polars as pl

TIP = "tip_time_utc"
REPORTED_AT = "reported_at"

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def known_before_tip(tip: str = TIP) -> pl.Expr:
    """True for a report row that was known before the tip in column `tip`."""
    return pl.col(tip).is_null() | pl.col(REPORTED_AT).is_null() | (pl.col(REPORTED_AT) < pl.col(tip))


def newest_before_tip(rows: Frame, key: Sequence[str], tip: str = TIP) -> Frame:
    """Report rows that carry their game's tip in `tip`: the newest one known before it per `key`."""
    return (
        rows.filter(known_before_tip(tip))
        .sort(*key, REPORTED_AT, nulls_last=False)
        .unique(list(key), keep="last", maintain_order=True)
    )


def reports_before_tip(reports: Frame, games: Frame, *, key: Sequence[str], by: Sequence[str], tip: str = TIP) -> Frame:
    """For each row of `games` (unique by `key`, with a `tip` column), the newest report of the
    same `by` values (e.g. game_date, player_lookup) captured before that tip.

    Returns `key` columns plus the report's columns (except `by`); rows without such a report are
    absent.
    """
    targets = games.select(*dict.fromkeys([*key, *by]), tip)
    joined = targets.join(reports, on=list(by), how="inner")
    return newest_before_tip(joined, key, tip).drop(tip)


def first_report_per_date(reports: Frame, date_column: str = "game_date") -> Frame:
    """(date, `_first_report`, `_has_report`): the earliest capture of each date with a report
    (NULL when a row of that date has no capture time)."""
    first = pl.when(pl.col(REPORTED_AT).is_null().any()).then(None).otherwise(pl.col(REPORTED_AT).min())
    return reports.group_by(date_column).agg(first.alias("_first_report")).with_columns(_has_report=pl.lit(True))


def any_report_before_tip(tip: str = TIP) -> pl.Expr:
    """After a left join with `first_report_per_date`: the date has a report known before `tip`."""
    first = pl.col("_first_report")
    return pl.col("_has_report").fill_null(False) & (first.is_null() | pl.col(tip).is_null() | (first < pl.col(tip)))
