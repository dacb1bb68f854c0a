"""The `files` provider: the raw formats real users hold, read from one data folder.

Layout (that of ../shared/data/nba, which the simulator also writes):

    schedule/*.json[.gz]                                  NBA CDN scheduleleaguev2
    schedule/<season>_{regular_season,playin,playoffs}.csv nba_api team rows
    team_games/team_games_<season>.csv                     team points (scores, neutral-site home)
    box_scores/player_logs_<season>.csv                    nba_api LeagueGameLog, player mode
    odds/the_odds_api_snapshots/raw_YYYYMMDD_HHMMSS.csv    The Odds API props, all markets
    odds/dfs_lines/MM_DD_YYYY.csv                          PrizePicks / Underdog boards
    injuries/injuries_YYYYMMDD_HHMMSS.json                 balldontlie injuries (optional)

Every method takes an inclusive ET game-date range, reads only the files relevant to it and
returns `Parsed(rows, quarantine, skipped)`: rows in the declared schema sorted by key, every
row that could not be used in `quarantine` with a reason, deliberate omissions counted in
`skipped`. The readers live in `readers/`, one module per asset.

Every method also takes `as_of` (an aware instant, None = no limit): only what was known then is
returned (snapshots and reports captured by then, results of games that had ended, box scores
published by then: `reveal.py`, numbers in config/sensors.yaml). The polling methods
(`line_snapshot_times`, `injury_report_times`, `game_states`) answer a sensor's "anything new?"
without parsing the lines, reading file names and a column or two, cached per file version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import polars as pl

from nba_props.lib.sources.base import Parsed
from nba_props.lib.sources.readers.box_scores import games_with_box_scores, read_box_scores
from nba_props.lib.sources.readers.injuries import read_injuries, report_times
from nba_props.lib.sources.readers.odds import read_prop_lines, snapshot_times
from nba_props.lib.sources.readers.schedule import read_schedule
from nba_props.lib.sources.reveal import (
    RevealRules,
    box_scores_as_of,
    box_scores_available_at_expr,
    check_as_of,
    parse_withheld,
    schedule_as_of,
)

GAME_STATES = pl.Schema(
    {
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "status": pl.Utf8,
        "tip_time_utc": pl.Datetime("us", "UTC"),
        "box_score_available": pl.Boolean,
    }
)


class FilesProvider:
    """Provider over a folder of raw files (see the module docstring for the layout).

    `box_scores_withheld_until` ({game date: aware instant or ISO string}): the box scores of those
    dates are not published before that instant (the replay's "late data" fault; only with `as_of`)."""

    name = "files"

    def __init__(
        self,
        data_dir: str | Path,
        *,
        reveal: RevealRules | None = None,
        box_scores_withheld_until: Mapping[str | date, str | datetime] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        if reveal is None:
            from nba_props.lib.sensing import load_sensor_config

            reveal = load_sensor_config().reveal
        self.reveal = reveal
        self.box_scores_withheld_until = parse_withheld(box_scores_withheld_until)

    def __repr__(self) -> str:
        return f"FilesProvider({str(self.data_dir)!r})"

    def schedule(self, start: date, end: date, as_of: datetime | None = None) -> Parsed:
        parsed = read_schedule(self.data_dir, start, end)
        if check_as_of(as_of) is None:
            return parsed
        rows = schedule_as_of(parsed.rows, as_of, self.reveal)
        hidden = rows.filter(pl.col("status") != parsed.rows.get_column("status")).height
        return Parsed(rows, parsed.quarantine, {**parsed.skipped, "result_not_yet_known": hidden})

    def box_scores(self, start: date, end: date, as_of: datetime | None = None) -> Parsed:
        parsed = read_box_scores(self.data_dir, start, end)
        if check_as_of(as_of) is None:
            return parsed
        games = read_schedule(self.data_dir, start, end).rows
        rows, held = box_scores_as_of(parsed.rows, games, as_of, self.reveal, self.box_scores_withheld_until)
        # quarantined rows name no game: a date's show once some game of that date is published
        published = games.filter(box_scores_available_at_expr(self.reveal, self.box_scores_withheld_until) <= as_of)
        quarantine = parsed.quarantine.filter(
            pl.col("game_date").is_null() | pl.col("game_date").is_in(published.get_column("game_date").implode())
        )
        return Parsed(rows, quarantine, {**parsed.skipped, "not_yet_published": held})

    def prop_line_snapshots(self, start: date, end: date, as_of: datetime | None = None) -> Parsed:
        return read_prop_lines(self.data_dir, start, end, as_of)

    def injury_report(self, start: date, end: date, as_of: datetime | None = None) -> Parsed:
        return read_injuries(self.data_dir, start, end, as_of)

    # polling (sensors)

    def line_snapshot_times(self, start: date, end: date, as_of: datetime | None = None) -> pl.DataFrame:
        """(game_date, captured_at, source) of every line snapshot captured by `as_of` listing games of
        a date in [start, end]."""
        return snapshot_times(self.data_dir, start, end, check_as_of(as_of))

    def injury_report_times(self, start: date, end: date, as_of: datetime | None = None) -> pl.DataFrame:
        """(game_date, reported_at) of every injury report captured by `as_of` for [start, end]."""
        return report_times(self.data_dir, start, end, as_of)

    def game_states(self, start: date, end: date, as_of: datetime | None = None) -> pl.DataFrame:
        """(game_date, game_id, status, tip_time_utc, box_score_available) of every game of
        [start, end] as known at `as_of`: the status per `schedule(as_of)`; box scores available =
        the files hold the game's player rows and they were published by `as_of`."""
        as_of = check_as_of(as_of)
        games = self.schedule(start, end, as_of).rows
        with_rows = games_with_box_scores(self.data_dir, start, end).get_column("nba_game_id")
        available = pl.col("nba_game_id").is_in(with_rows.implode())
        if as_of is not None:
            at = box_scores_available_at_expr(self.reveal, self.box_scores_withheld_until)
            available = available & (at <= as_of)
        return games.select(
            "game_date", "game_id", "status", "tip_time_utc", box_score_available=available.fill_null(False)
        ).sort("game_date", "game_id")
