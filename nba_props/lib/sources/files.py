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
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from nba_props.lib.sources.base import Parsed
from nba_props.lib.sources.readers.box_scores import read_box_scores
from nba_props.lib.sources.readers.injuries import read_injuries
from nba_props.lib.sources.readers.odds import read_prop_lines
from nba_props.lib.sources.readers.schedule import read_schedule


class FilesProvider:
    """Provider over a folder of raw files (see the module docstring for the layout)."""

    name = "files"

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)

    def __repr__(self) -> str:
        return f"FilesProvider({str(self.data_dir)!r})"

    def schedule(self, start: date, end: date) -> Parsed:
        return read_schedule(self.data_dir, start, end)

    def box_scores(self, start: date, end: date) -> Parsed:
        return read_box_scores(self.data_dir, start, end)

    def prop_line_snapshots(self, start: date, end: date, as_of: datetime | None = None) -> Parsed:
        return read_prop_lines(self.data_dir, start, end, as_of)

    def injury_report(self, start: date, end: date, as_of: datetime | None = None) -> Parsed:
        return read_injuries(self.data_dir, start, end, as_of)
