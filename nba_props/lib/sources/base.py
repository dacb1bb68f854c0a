"""The provider protocol: what every data source gives the ingest assets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

import polars as pl

from nba_props.lib import schemas


@dataclass(frozen=True)
class Parsed:
    """Clean rows in the declared schema plus the rows that could not be parsed, with reasons."""

    rows: pl.DataFrame
    quarantine: pl.DataFrame = field(default_factory=lambda: schemas.empty(schemas.QUARANTINE))
    # Counts of rows read but deliberately not kept (e.g. other markets), by reason: reported
    # in metadata so nothing disappears silently.
    skipped: dict[str, int] = field(default_factory=dict)

    def quarantine_of_window(self, asset: str, start: date, end: date) -> pl.DataFrame:
        """The quarantined rows an ingest asset owns for the game dates start .. end, tagged with the
        asset; undated rows are attributed to the window's first day (the run that read them)."""
        return self.quarantine.with_columns(game_date=pl.col("game_date").fill_null(start), asset=pl.lit(asset)).filter(
            pl.col("game_date").is_between(start, end)
        )


class Provider(Protocol):
    """Given a game-date range (inclusive, ET) and an optional as-of instant, return the data.

    `as_of` (aware; None = no limit, as production and backfills of the past read) limits every
    method to what was known then: snapshots and reports captured by then, results of games that had
    ended, box scores published by then (rules in `reveal.py`, numbers in config/sensors.yaml).
    The polling methods answer a sensor's "anything new?" cheaply (no line parsing).
    """

    name: str

    def schedule(self, start: date, end: date, as_of: datetime | None = None) -> Parsed: ...

    def box_scores(self, start: date, end: date, as_of: datetime | None = None) -> Parsed: ...

    def prop_line_snapshots(self, start: date, end: date, as_of: datetime | None = None) -> Parsed: ...

    def injury_report(self, start: date, end: date, as_of: datetime | None = None) -> Parsed: ...

    def line_snapshot_times(self, start: date, end: date, as_of: datetime | None = None) -> pl.DataFrame:
        """(game_date, captured_at, source) of the snapshots listing games of [start, end]."""
        ...

    def injury_report_times(self, start: date, end: date, as_of: datetime | None = None) -> pl.DataFrame:
        """(game_date, reported_at) of the injury reports of [start, end]."""
        ...

    def game_states(self, start: date, end: date, as_of: datetime | None = None) -> pl.DataFrame:
        """(game_date, game_id, status, tip_time_utc, box_score_available) of the games of [start, end]."""
        ...
