"""The files provider on small hand-made inputs in the real formats: exact rows, exact quarantine."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from nba_props.lib import schemas, tables
from nba_props.lib.matching import classify_unmatched_lines, match_rate
from nba_props.lib.sources.base import Parsed
from nba_props.lib.sources.files import FilesProvider

D = date


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def write_csv(path: Path, header: list[str], rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pl.DataFrame([{c: r.get(c) for c in header} for r in rows], schema=dict.fromkeys(header, pl.Utf8))
    frame.write_csv(path)
    return path


def quarantine_summary(parsed: Parsed) -> list[tuple]:
    q = parsed.quarantine
    assert q.schema == schemas.QUARANTINE
    return sorted(q.select("source_file", "source_row", "reason", "game_date").rows(), key=str)


# ---------------------------------------------------------------------------------------------
# box scores

BOX_HEADER_2024 = (
    "SEASON_ID,PLAYER_ID,PLAYER_NAME,TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_ID,GAME_DATE,MATCHUP,WL,MIN,PTS,"
    "FGM,FGA,FG_PCT,FG3M,FG3A,FG3_PCT,FTM,FTA,FT_PCT,OREB,DREB,REB,AST,STL,BLK,TOV,PF,PLUS_MINUS,SEASON_LABEL"
).split(",")
# The 2025-26 export: other column order, FANTASY_PTS / VIDEO_AVAILABLE, no SEASON_LABEL.
BOX_HEADER_2025 = (
    "SEASON_ID,PLAYER_ID,PLAYER_NAME,TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_ID,GAME_DATE,MATCHUP,WL,MIN,FGM,FGA,"
    "FG_PCT,FG3M,FG3A,FG3_PCT,FTM,FTA,FT_PCT,OREB,DREB,REB,AST,STL,BLK,TOV,PF,PTS,PLUS_MINUS,FANTASY_PTS,VIDEO_AVAILABLE"
).split(",")
STAT_COLUMNS = ("FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB", "AST", "STL", "BLK", "TOV", "PF")


def box_row(player_id: int, name: str, team: str, matchup: str, *, season: str = "22024", game: str = "0022400001",
            day: str = "2024-10-22", minutes: str = "30", pts: str = "10", **extra: str) -> dict:  # fmt: skip
    row = {
        "SEASON_ID": season, "PLAYER_ID": str(player_id), "PLAYER_NAME": name, "TEAM_ID": "1", "TEAM_ABBREVIATION": team,
        "TEAM_NAME": "x", "GAME_ID": game, "GAME_DATE": day, "MATCHUP": matchup, "WL": "W", "MIN": minutes, "PTS": pts,
        "FG_PCT": "0.5", "FG3_PCT": "", "FT_PCT": "", "PLUS_MINUS": "5", "SEASON_LABEL": "2024-25", "FANTASY_PTS": "20.5",
        "VIDEO_AVAILABLE": "1",
    }  # fmt: skip
    row.update(dict.fromkeys(STAT_COLUMNS, "1"))
    row.update(extra)
    return row


def expected_box(**kw) -> dict:
    base = {
        "dnp_reason": None, "starter": None, "played": True, "source": "nba_stats",
        "fgm": 1, "fga": 1, "fg3m": 1, "fg3a": 1, "ftm": 1, "fta": 1, "oreb": 1, "dreb": 1, "reb": 1, "ast": 1,
        "stl": 1, "blk": 1, "tov": 1, "pf": 1, "plus_minus": 5,
    }  # fmt: skip
    base.update(kw)
    return {name: base[name] for name in schemas.BOX_SCORES}


@pytest.fixture
def box_dir(tmp_path: Path) -> Path:
    rows = [  # comments: 1-based data row
        box_row(1628369, "Jayson Tatum", "BOS", "BOS vs. NYK", minutes="35", pts="37"),  # 1
        box_row(1628973, "Jalen Brunson", "NYK", "NYK @ BOS", minutes="34:30", pts="22"),  # 2: MM:SS minutes
        box_row(5, "Broken Points", "NYK", "NYK @ BOS", pts="twelve"),  # 3
        box_row(6, "Negative Minutes", "NYK", "NYK @ BOS", minutes="-3"),  # 4
        box_row(7, "Shawn Kemp", "SEA", "SEA @ BOS"),  # 5
        box_row(8, "?!", "BOS", "BOS vs. NYK"),  # 6: normalises to an empty name
        box_row(9, "No Date", "BOS", "BOS vs. NYK", day="yesterday"),  # 7
        box_row(1628369, "Jayson Tatum", "BOS", "BOS vs. NYK", minutes="35", pts="37"),  # 8: exact duplicate of 1
        box_row(1628973, "Jalen Brunson", "NYK", "NYK @ BOS", minutes="34:30", pts="23"),  # 9: same key as 2
        box_row(10, "Missing Points", "BOS", "BOS vs. NYK", pts=""),  # 10
        box_row(11, "Negative Points", "BOS", "BOS vs. NYK", pts="-2"),  # 11
        box_row(12, "Bad Rebounds", "BOS", "BOS vs. NYK", REB="lots"),  # 12
        box_row(13, "Next Day", "BOS", "BOS @ PHI", game="0022400002", day="2024-10-23"),  # 13: outside [22, 22]
    ]
    write_csv(tmp_path / "box_scores" / "player_logs_2024-25.csv", BOX_HEADER_2024, rows)
    return tmp_path


def test_box_scores_rows_and_quarantine_are_exact(box_dir: Path):
    parsed = FilesProvider(box_dir).box_scores(D(2024, 10, 22), D(2024, 10, 22))
    assert parsed.rows.schema == schemas.BOX_SCORES
    common = {
        "game_date": D(2024, 10, 22),
        "game_id": "20241022_NYK_BOS",
        "nba_game_id": "0022400001",
        "season": "2024-25",
    }
    expected = [
        expected_box(
            **common,
            player_id=1628369,
            player_name="Jayson Tatum",
            player_lookup="jaysontatum",
            team="BOS",
            opponent="NYK",
            is_home=True,
            minutes=35.0,
            points=37,
        ),  # fmt: skip
        expected_box(
            **common,
            player_id=1628973,
            player_name="Jalen Brunson",
            player_lookup="jalenbrunson",
            team="NYK",
            opponent="BOS",
            is_home=False,
            minutes=34.5,
            points=22,
        ),  # fmt: skip
    ]
    assert_frame_equal(parsed.rows, pl.DataFrame(expected, schema=schemas.BOX_SCORES))
    f = "player_logs_2024-25.csv"
    assert quarantine_summary(parsed) == sorted(
        [
            (f, 3, "non_numeric_points", D(2024, 10, 22)),
            (f, 4, "negative_minutes", D(2024, 10, 22)),
            (f, 5, "unknown_team:SEA", D(2024, 10, 22)),
            (f, 6, "empty_player_name", D(2024, 10, 22)),
            (f, 7, "unparseable_date", None),
            (f, 8, "duplicate", D(2024, 10, 22)),
            (f, 9, "duplicate_key", D(2024, 10, 22)),
            (f, 10, "missing_points", D(2024, 10, 22)),
            (f, 11, "negative_points", D(2024, 10, 22)),
            (f, 12, "non_numeric:REB", D(2024, 10, 22)),
        ],
        key=str,
    )
    # `raw` is the untouched source row.
    raw = json.loads(parsed.quarantine.filter(pl.col("source_row") == 3).item(0, "raw"))
    assert raw["PTS"] == "twelve" and raw["PLAYER_NAME"] == "Broken Points" and raw["SEASON_LABEL"] == "2024-25"
    assert parsed.skipped == {}


def test_box_scores_outside_the_range_are_neither_rows_nor_quarantine(box_dir: Path):
    parsed = FilesProvider(box_dir).box_scores(D(2024, 10, 23), D(2024, 10, 23))
    assert parsed.rows.select("player_name", "game_id", "is_home", "opponent").rows() == [
        ("Next Day", "20241023_BOS_PHI", False, "PHI")
    ]
    # Only the undated row is reported (no partition owns it).
    assert quarantine_summary(parsed) == [("player_logs_2024-25.csv", 7, "unparseable_date", None)]


def test_box_scores_2025_26_column_order_is_read_by_name(tmp_path: Path):
    rows = [
        box_row(
            1,
            "Shai Gilgeous-Alexander",
            "OKC",
            "OKC vs. HOU",
            season="22025",
            game="0022500001",
            day="2025-10-21",
            minutes="44",
            pts="35",
            PLUS_MINUS="2",
        ),  # fmt: skip
        box_row(2, "Kevin Durant", "HOU", "HOU @ OKC", season="22025", game="0022500001", day="2025-10-21", pts="23"),
    ]
    write_csv(tmp_path / "box_scores" / "player_logs_2025-26.csv", BOX_HEADER_2025, rows)
    parsed = FilesProvider(tmp_path).box_scores(D(2025, 10, 21), D(2025, 10, 21))
    assert parsed.rows.select(
        "season", "game_id", "player_lookup", "team", "is_home", "minutes", "points", "plus_minus"
    ).rows() == [
        ("2025-26", "20251021_HOU_OKC", "shaigilgeousalexander", "OKC", True, 44.0, 35, 2),  # sorted by player_id
        ("2025-26", "20251021_HOU_OKC", "kevindurant", "HOU", False, 30.0, 23, 5),
    ]
    assert parsed.quarantine.height == 0


def test_a_season_with_no_file_is_empty_and_typed(tmp_path: Path):
    parsed = FilesProvider(tmp_path).box_scores(D(2019, 1, 1), D(2019, 1, 31))
    assert parsed.rows.height == 0 and parsed.rows.schema == schemas.BOX_SCORES
    assert parsed.quarantine.height == 0 and parsed.quarantine.schema == schemas.QUARANTINE


def test_an_unreadable_file_is_one_quarantine_row_and_the_rest_is_read(tmp_path: Path):
    write_csv(
        tmp_path / "box_scores" / "player_logs_2024-25.csv", ["PLAYER", "POINTS"], [{"PLAYER": "x", "POINTS": "1"}]
    )
    write_csv(
        tmp_path / "box_scores" / "player_logs_2025-26.csv", BOX_HEADER_2025,
        [box_row(1, "Kevin Durant", "HOU", "HOU @ OKC", season="22025", game="0022500001", day="2025-10-21")],
    )  # fmt: skip
    parsed = FilesProvider(tmp_path).box_scores(D(2024, 10, 1), D(2025, 10, 31))
    assert parsed.rows.get_column("player_name").to_list() == ["Kevin Durant"]
    (bad,) = parsed.quarantine.to_dicts()
    assert bad["source_file"] == "player_logs_2024-25.csv" and bad["asset"] == "box_scores"
    assert bad["reason"].startswith("unreadable_file: missing columns")
    assert bad["source_row"] is None and bad["game_date"] is None


def _neutral_site(tmp_path: Path, with_team_games: bool) -> Path:
    # Paris 2025: nba_api writes "SAS @ IND" on one team's rows and "IND @ SAS" on the other's.
    rows = [
        box_row(1, "Victor Wembanyama", "SAS", "SAS @ IND", game="0022400621", day="2025-01-23", pts="30"),
        box_row(2, "Tyrese Haliburton", "IND", "IND @ SAS", game="0022400621", day="2025-01-23", pts="20"),
    ]
    write_csv(tmp_path / "box_scores" / "player_logs_2024-25.csv", BOX_HEADER_2024, rows)
    if with_team_games:  # LeagueGameFinder rows carry the designated "AWAY @ HOME" on both rows
        header = [
            "SEASON_ID",
            "TEAM_ID",
            "TEAM_ABBREVIATION",
            "TEAM_NAME",
            "GAME_ID",
            "GAME_DATE",
            "MATCHUP",
            "WL",
            "PTS",
        ]
        write_csv(tmp_path / "team_games" / "team_games_2024-25.csv", header, [
            {"SEASON_ID": "22024", "TEAM_ABBREVIATION": t, "GAME_ID": "0022400621", "GAME_DATE": "2025-01-23",
             "MATCHUP": "SAS @ IND", "WL": wl, "PTS": p} for t, wl, p in (("SAS", "W", "140"), ("IND", "L", "110"))
        ])  # fmt: skip
    return tmp_path


@pytest.mark.parametrize(("with_team_games", "game_id"), [(True, "20250123_SAS_IND"), (False, "20250123_IND_SAS")])
def test_neutral_site_games_get_one_game_id(tmp_path: Path, with_team_games: bool, game_id: str):
    data = _neutral_site(tmp_path, with_team_games)
    rows = FilesProvider(data).box_scores(D(2025, 1, 23), D(2025, 1, 23)).rows
    assert rows.select("game_id", "team", "opponent", "is_home").rows() == [
        (game_id, "SAS", "IND", game_id.endswith("SAS")),  # player_id 1
        (game_id, "IND", "SAS", game_id.endswith("IND")),
    ]


# ---------------------------------------------------------------------------------------------
# schedule


def cdn_game(game_id: str, away: str, home: str, tip_utc: str, status: int = 1, text: str = "7:00 pm ET",
             postponed: str = "N", away_score: int = 0, home_score: int = 0) -> dict:  # fmt: skip
    return {
        "gameId": game_id, "gameCode": "x", "gameStatus": status, "gameStatusText": text, "postponedStatus": postponed,
        "gameDateEst": tip_utc[:10] + "T00:00:00Z", "gameDateTimeUTC": tip_utc, "isNeutral": False,
        "broadcasters": {"nationalTvBroadcasters": []},
        "awayTeam": {"teamId": 1, "teamTricode": away, "score": away_score, "wins": 0},
        "homeTeam": {"teamId": 2, "teamTricode": home, "score": home_score, "wins": 0},
    }  # fmt: skip


def cdn_payload(games: list[dict]) -> dict:
    return {
        "meta": {"version": 1},
        "leagueSchedule": {"seasonYear": "2025-26", "gameDates": [{"gameDate": "x", "games": games}]},
    }


TEAM_ROW_HEADER = ["SEASON_ID", "TEAM_ABBREVIATION", "TEAM_NAME", "GAME_ID", "GAME_DATE", "MATCHUP", "WL"]


def team_row(game: str, day: str, team: str, matchup: str, wl: str = "", season: str = "22025") -> dict:
    return {"SEASON_ID": season, "TEAM_ABBREVIATION": team, "TEAM_NAME": "x", "GAME_ID": game, "GAME_DATE": day,
            "MATCHUP": matchup, "WL": wl}  # fmt: skip


@pytest.fixture
def schedule_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "schedule"
    folder.mkdir()
    games = [
        cdn_game("0022500001", "HOU", "OKC", "2025-10-21T23:30:00Z", 3, "Final/OT", away_score=124, home_score=125),
        cdn_game("0022500002", "GSW", "LAL", "2025-10-22T02:00:00Z", 3, "Final", away_score=119, home_score=109),
        cdn_game("0022500003", "SAC", "PHX", "2025-10-23T02:30:00Z", 2, "Q3 5:12", away_score=70, home_score=66),
        cdn_game("0022500004", "MIA", "ORL", "2025-10-22T23:00:00Z", postponed="Y"),
        cdn_game("0022500005", "NYK", "CLE", "2025-10-22T23:30:00Z", text="PPD"),
        cdn_game("0022500006", "DAL", "SAS", "2025-10-23T00:30:00Z", text="Cancelled"),
        cdn_game("0022500007", "BOS", "PHI", "2025-10-22T23:00:00Z"),
        cdn_game("0012500009", "MEL", "NOP", "2025-10-22T09:30:00Z"),  # an NBL club: not an NBA team
        cdn_game("0022500008", "DEN", "UTA", "2025-10-23T01:00:00Z", status=9, text="?"),
    ]
    (folder / "cdn_2025-26.json").write_text(json.dumps(cdn_payload(games)))
    # A later capture (sorted after the first) restates game 7 as final: it supersedes the first copy.
    update = [cdn_game("0022500007", "BOS", "PHI", "2025-10-22T23:00:00Z", 3, "Final", away_score=101, home_score=99)]
    with gzip.open(folder / "cdn_2025-26_update.json.gz", "wt") as handle:
        json.dump(cdn_payload(update), handle)
    write_csv(folder / "2025-26_regular_season.csv", TEAM_ROW_HEADER, [
        team_row("0022500001", "2025-10-21", "OKC", "OKC vs. HOU", "W"),  # also in the JSON: the JSON wins
        team_row("0022500001", "2025-10-21", "HOU", "HOU @ OKC", "L"),
        team_row("0022500010", "2025-10-22", "WAS", "WAS vs. MIL", "L"),  # final, points from team_games
        team_row("0022500010", "2025-10-22", "MIL", "MIL @ WAS", "W"),
        team_row("0022500011", "2025-10-22", "ATL", "ATL @ TOR"),  # no result yet: scheduled
        team_row("0022500011", "2025-10-22", "TOR", "TOR vs. ATL"),
        team_row("0022500012", "2025-10-22", "SEA", "SEA @ POR"),  # data row 7: unknown team
        team_row("0022500013", "2025-10-22", "CHI", "CHI vs. DET", "W"),  # data rows 8 and 9: exact duplicates
        team_row("0022500013", "2025-10-22", "CHI", "CHI vs. DET", "W"),
        team_row("0022500013", "2025-10-22", "DET", "DET @ CHI", "L"),
    ])  # fmt: skip
    write_csv(tmp_path / "team_games" / "team_games_2025-26.csv", ["TEAM_ABBREVIATION", "GAME_ID", "GAME_DATE", "MATCHUP", "WL", "PTS"], [
        {"TEAM_ABBREVIATION": "WAS", "GAME_ID": "0022500010", "GAME_DATE": "2025-10-22", "MATCHUP": "WAS vs. MIL", "WL": "L", "PTS": "98"},
        {"TEAM_ABBREVIATION": "MIL", "GAME_ID": "0022500010", "GAME_DATE": "2025-10-22", "MATCHUP": "MIL @ WAS", "WL": "W", "PTS": "110"},
    ])  # fmt: skip
    # Different shape (no game id, full names): deliberately not read.
    write_csv(folder / "nba_schedule_games.csv", ["season", "game_date"], [{"season": "garbage", "game_date": "x"}])
    return tmp_path


def test_schedule_json_and_team_rows(schedule_dir: Path):
    parsed = FilesProvider(schedule_dir).schedule(D(2025, 10, 21), D(2025, 10, 22))
    assert parsed.rows.schema == schemas.SCHEDULE
    got = parsed.rows.select("game_id", "nba_game_id", "season", "season_type", "game_date", "tip_time_utc", "status",
                             "away_points", "home_points", "source").rows()  # fmt: skip
    assert got == [
        ("20251021_GSW_LAL", "0022500002", "2025-26", "regular", D(2025, 10, 21), utc(2025, 10, 22, 2), "final", 119, 109, "nba_cdn"),
        ("20251021_HOU_OKC", "0022500001", "2025-26", "regular", D(2025, 10, 21), utc(2025, 10, 21, 23, 30), "final", 124, 125, "nba_cdn"),
        ("20251022_ATL_TOR", "0022500011", "2025-26", "regular", D(2025, 10, 22), None, "scheduled", None, None, "nba_stats"),
        ("20251022_BOS_PHI", "0022500007", "2025-26", "regular", D(2025, 10, 22), utc(2025, 10, 22, 23), "final", 101, 99, "nba_cdn"),
        ("20251022_DAL_SAS", "0022500006", "2025-26", "regular", D(2025, 10, 22), utc(2025, 10, 23, 0, 30), "cancelled", None, None, "nba_cdn"),
        ("20251022_DET_CHI", "0022500013", "2025-26", "regular", D(2025, 10, 22), None, "final", None, None, "nba_stats"),
        ("20251022_MIA_ORL", "0022500004", "2025-26", "regular", D(2025, 10, 22), utc(2025, 10, 22, 23), "postponed", None, None, "nba_cdn"),
        ("20251022_MIL_WAS", "0022500010", "2025-26", "regular", D(2025, 10, 22), None, "final", 110, 98, "nba_stats"),
        ("20251022_NYK_CLE", "0022500005", "2025-26", "regular", D(2025, 10, 22), utc(2025, 10, 22, 23, 30), "postponed", None, None, "nba_cdn"),
        # a 22:30 ET tip is 02:30 UTC the next day: it stays on its ET date
        ("20251022_SAC_PHX", "0022500003", "2025-26", "regular", D(2025, 10, 22), utc(2025, 10, 23, 2, 30), "live", None, None, "nba_cdn"),
    ]  # fmt: skip
    assert quarantine_summary(parsed) == sorted([
        ("2025-26_regular_season.csv", 7, "unknown_team:SEA", D(2025, 10, 22)),
        ("2025-26_regular_season.csv", 9, "duplicate", D(2025, 10, 22)),
        ("cdn_2025-26.json", 8, "unknown_team:MEL", D(2025, 10, 22)),
        ("cdn_2025-26.json", 9, "unknown_status:9", D(2025, 10, 22)),  # 01:00 UTC on the 23rd
    ], key=str)  # fmt: skip
    assert parsed.skipped == {"superseded": 1}
    raw = json.loads(parsed.quarantine.filter(pl.col("reason") == "unknown_team:MEL").item(0, "raw"))
    assert raw["gameId"] == "0012500009" and raw["awayTeam"]["teamTricode"] == "MEL"


def test_schedule_season_types_from_the_game_id(tmp_path: Path):
    folder = tmp_path / "schedule"
    write_csv(folder / "2024-25_playin.csv", TEAM_ROW_HEADER, [
        team_row("0052400101", "2025-04-15", "ATL", "ATL @ ORL", "L", season="52024"),
        team_row("0052400101", "2025-04-15", "ORL", "ORL vs. ATL", "W", season="52024"),
    ])  # fmt: skip
    write_csv(folder / "2024-25_playoffs.csv", TEAM_ROW_HEADER, [
        team_row("0042400171", "2025-04-19", "DEN", "DEN vs. LAC", "W", season="42024"),
        team_row("0042400171", "2025-04-19", "LAC", "LAC @ DEN", "L", season="42024"),
    ])  # fmt: skip
    rows = FilesProvider(tmp_path).schedule(D(2025, 4, 1), D(2025, 4, 30)).rows
    assert rows.select("game_id", "season", "season_type", "status").rows() == [
        ("20250415_ATL_ORL", "2024-25", "play_in", "final"),
        ("20250419_LAC_DEN", "2024-25", "playoffs", "final"),
    ]


def test_schedule_unreadable_json_is_reported(tmp_path: Path):
    (tmp_path / "schedule").mkdir()
    (tmp_path / "schedule" / "broken.json").write_text("{not json")
    parsed = FilesProvider(tmp_path).schedule(D(2025, 10, 21), D(2025, 10, 21))
    assert parsed.rows.height == 0 and parsed.rows.schema == schemas.SCHEDULE
    assert parsed.quarantine.get_column("reason").str.starts_with("unreadable_file: ").to_list() == [True]


# ---------------------------------------------------------------------------------------------
# prop lines

ODDS_HEADER = ["event_id", "player", "market", "line", "bookmaker", "game", "game_time", "over_odds", "under_odds"]
HOU_OKC, GSW_LAL = "Houston Rockets @ Oklahoma City Thunder", "Golden State Warriors @ Los Angeles Lakers"


def odds_row(player: str, line: str, book: str = "draftkings", market: str = "player_points", game: str = HOU_OKC,
             tip: str = "2025-10-21T23:35:00Z", over: str = "-110.0", under: str = "-110.0", event: str = "ev1") -> dict:  # fmt: skip
    return dict(zip(ODDS_HEADER, [event, player, market, line, book, game, tip, over, under], strict=True))


@pytest.fixture
def odds_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "odds" / "the_odds_api_snapshots"
    write_csv(folder / "raw_20251021_170000.csv", ODDS_HEADER, [
        odds_row("Kevin Durant", "23.5", over="-119.0", under="-107.0"),  # 1
        odds_row("Kevin Durant", "32.5", market="player_points_rebounds_assists"),  # 2: other market
        odds_row("Luka Dončić", "28.5", book="bovada", game=GSW_LAL, tip="2025-10-22T02:00:00Z", over="100.0", under="-130.0", event="ev2"),
        odds_row("Luka Dončić", "29.5", book="bovada", game=GSW_LAL, tip="2025-10-22T02:00:00Z", over="120.0", under="-155.0", event="ev2"),
        odds_row("Kevin Durant", "23.5", over="-119.0", under="-107.0"),  # 5: exact duplicate of 1
        odds_row("Amen Thompson", ""),  # 6
        odds_row("Amen Thompson", "lots"),  # 7
        odds_row("Amen Thompson", "150"),  # 8
        odds_row("Shawn Kemp", "20.5", game="Seattle SuperSonics @ Los Angeles Lakers"),  # 9
        odds_row("", "10.5"),  # 10
        odds_row("Alperen Sengun", "21.5", over="EVEN"),  # 11
        odds_row("Alperen Sengun", "20.5", under=""),  # 12: one-sided offer: kept, under NULL
    ])  # fmt: skip
    # A later snapshot the same day (a line move).
    write_csv(
        folder / "raw_20251021_230000.csv",
        ODDS_HEADER,
        [odds_row("Kevin Durant", "24.5", over="-115.0", under="-105.0")],
    )
    # Outside [start - 1, end + 1] for a 2025-10-21 request: never opened (its header is broken).
    write_csv(folder / "raw_20251025_170000.csv", ["nope"], [{"nope": "x"}])
    return tmp_path


def test_odds_api_snapshots(odds_dir: Path):
    parsed = FilesProvider(odds_dir).prop_line_snapshots(D(2025, 10, 21), D(2025, 10, 21))
    assert parsed.rows.schema == schemas.PROP_LINE_SNAPSHOTS
    got = parsed.rows.select("game_date", "game_id", "event_id", "tip_time_utc", "player_name", "player_lookup", "market",
                             "bookmaker", "line", "over_price", "under_price", "captured_at", "source").rows()  # fmt: skip
    at17, at23 = utc(2025, 10, 21, 17), utc(2025, 10, 21, 23)
    hou, gsw = utc(2025, 10, 21, 23, 35), utc(2025, 10, 22, 2)
    assert got == [
        # an evening tip on the next UTC day stays on its ET date; ladders keep every line
        (D(2025, 10, 21), "20251021_GSW_LAL", "ev2", gsw, "Luka Dončić", "lukadoncic", "player_points", "bovada", 28.5, 100, -130, at17, "the_odds_api"),
        (D(2025, 10, 21), "20251021_GSW_LAL", "ev2", gsw, "Luka Dončić", "lukadoncic", "player_points", "bovada", 29.5, 120, -155, at17, "the_odds_api"),
        (D(2025, 10, 21), "20251021_HOU_OKC", "ev1", hou, "Alperen Sengun", "alperensengun", "player_points", "draftkings", 20.5, -110, None, at17, "the_odds_api"),
        (D(2025, 10, 21), "20251021_HOU_OKC", "ev1", hou, "Kevin Durant", "kevindurant", "player_points", "draftkings", 23.5, -119, -107, at17, "the_odds_api"),
        (D(2025, 10, 21), "20251021_HOU_OKC", "ev1", hou, "Kevin Durant", "kevindurant", "player_points", "draftkings", 24.5, -115, -105, at23, "the_odds_api"),
    ]  # fmt: skip
    f = "raw_20251021_170000.csv"
    assert quarantine_summary(parsed) == sorted([
        (f, 5, "duplicate", D(2025, 10, 21)),
        (f, 6, "missing_line", D(2025, 10, 21)),
        (f, 7, "non_numeric_line", D(2025, 10, 21)),
        (f, 8, "line_out_of_range", D(2025, 10, 21)),
        (f, 9, "unknown_team:Seattle SuperSonics", D(2025, 10, 21)),
        (f, 10, "empty_player_name", D(2025, 10, 21)),
        (f, 11, "non_numeric_price", D(2025, 10, 21)),
    ], key=str)  # fmt: skip
    assert parsed.skipped["other_market"] == 1


def test_odds_as_of_sees_only_earlier_snapshots(odds_dir: Path):
    provider = FilesProvider(odds_dir)
    before = provider.prop_line_snapshots(D(2025, 10, 21), D(2025, 10, 21), as_of=utc(2025, 10, 21, 20))
    assert before.rows.get_column("captured_at").unique().to_list() == [utc(2025, 10, 21, 17)]
    assert before.rows.height == 4
    with pytest.raises(ValueError, match="timezone-aware"):
        provider.prop_line_snapshots(D(2025, 10, 21), D(2025, 10, 21), as_of=datetime(2025, 10, 21, 20))


def test_odds_files_are_chosen_by_name_date(odds_dir: Path):
    # 2025-10-24 reads raw_20251025 (end + 1): its broken header is reported.
    parsed = FilesProvider(odds_dir).prop_line_snapshots(D(2025, 10, 24), D(2025, 10, 24))
    assert parsed.rows.height == 0
    assert parsed.quarantine.select("source_file", "reason").rows() == [
        ("raw_20251025_170000.csv", "unreadable_file: missing columns ['event_id', 'player', 'market', 'line', "
         "'bookmaker', 'game', 'game_time', 'over_odds', 'under_odds']")
    ]  # fmt: skip


DFS_HEADER = [
    "player",
    "market",
    "bookmaker",
    "side",
    "line",
    "price",
    "home_team",
    "away_team",
    "game_id",
    "commence_time",
]


def dfs_row(player: str, side: str, line: str, book: str = "PrizePicks", market: str = "player_points",
            tip: str = "2025-01-01T00:30:00Z") -> dict:  # fmt: skip
    return dict(zip(DFS_HEADER, [player, market, book, side, line, "-137", "Los Angeles Lakers", "Portland Trail Blazers",
                                 "g1", tip], strict=True))  # fmt: skip


def test_dfs_boards_pivot_sides_and_each_board_is_its_own_snapshot(tmp_path: Path):
    """Changed by issue 7 (line history): a board is stamped with its file date (00:00 UTC), so
    the same game on two boards is two snapshots in board order - formerly both were stamped at
    the tip and the second board's moved line became a rung of one "ladder"."""
    folder = tmp_path / "odds" / "dfs_lines"
    write_csv(folder / "12_31_2024.csv", DFS_HEADER, [
        dfs_row("LeBron James", "Over", "24.5"),  # 1: a 19:30 ET tip on 2024-12-31 (00:30 UTC on Jan 1)
        dfs_row("LeBron James", "Under", "24.5"),
        dfs_row("LeBron James", "Over", "24.5", book="Underdog"),  # 3: Over only, his only Underdog line: kept
        dfs_row("LeBron James", "Over", "7.5", market="player_rebounds"),  # 4: other market
        dfs_row("LeBron James", "Under", "7.5", market="player_rebounds"),
        dfs_row("Anfernee Simons", "Sideways", "18.5"),  # 6
        dfs_row("Anfernee Simons", "Over", "18.5"),  # 7 and 8: exact duplicates
        dfs_row("Anfernee Simons", "Over", "18.5"),
        dfs_row("Anfernee Simons", "Over", "14.5"),  # 9: a one-sided promo line beside his 18.5: dropped
        dfs_row("Anfernee Simons", "Under", "18.5"),  # 10: 18.5 is two-sided
    ])  # fmt: skip
    # The next board (dated the day after the evening game: 00:00 UTC Jan 1 is before the 00:30
    # tip) moved LeBron's line: a second snapshot, not a second rung.
    write_csv(
        folder / "01_01_2025.csv",
        DFS_HEADER,
        [dfs_row("LeBron James", "Over", "25.5"), dfs_row("LeBron James", "Under", "25.5")],
    )
    parsed = FilesProvider(tmp_path).prop_line_snapshots(D(2024, 12, 31), D(2024, 12, 31))
    tip, board1, board2 = utc(2025, 1, 1, 0, 30), utc(2024, 12, 31), utc(2025, 1, 1)
    assert parsed.rows.select("game_date", "game_id", "event_id", "player_lookup", "bookmaker", "line", "over_price",
                              "under_price", "captured_at", "tip_time_utc", "source").rows() == [
        (D(2024, 12, 31), "20241231_POR_LAL", "g1", "anferneesimons", "prizepicks", 18.5, None, None, board1, tip, "dfs"),
        (D(2024, 12, 31), "20241231_POR_LAL", "g1", "lebronjames", "prizepicks", 24.5, None, None, board1, tip, "dfs"),
        (D(2024, 12, 31), "20241231_POR_LAL", "g1", "lebronjames", "prizepicks", 25.5, None, None, board2, tip, "dfs"),
        (D(2024, 12, 31), "20241231_POR_LAL", "g1", "lebronjames", "underdog", 24.5, None, None, board1, tip, "dfs"),
    ]  # fmt: skip
    assert quarantine_summary(parsed) == [
        ("12_31_2024.csv", 6, "unknown_side:Sideways", D(2024, 12, 31)),
        ("12_31_2024.csv", 8, "duplicate", D(2024, 12, 31)),
    ]
    assert parsed.skipped == {"other_market": 2, "one_sided_alternate": 1, "after_as_of": 0}
    # as_of before the second board: only the first board existed.
    early = FilesProvider(tmp_path).prop_line_snapshots(D(2024, 12, 31), D(2024, 12, 31), as_of=utc(2024, 12, 31, 12))
    assert early.skipped["after_as_of"] == 2  # the second board's two points rows
    assert early.rows.get_column("captured_at").unique().to_list() == [board1]
    assert early.rows.filter(pl.col("bookmaker") == "prizepicks", pl.col("player_lookup") == "lebronjames")[
        "line"
    ].to_list() == [24.5]


# ---------------------------------------------------------------------------------------------
# injuries


def injury(first: str, last: str, team_id: int | None, status: str, description: str = "") -> dict:
    return {"player": {"id": 1, "first_name": first, "last_name": last, "position": "F", "team_id": team_id},
            "return_date": "Nov 1", "description": description, "status": status}  # fmt: skip


def write_injuries(folder: Path, stamp: str, records: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"injuries_{stamp}.json").write_text(json.dumps({"data": records, "meta": {"per_page": 100}}))


@pytest.fixture
def injuries_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "injuries"
    write_injuries(folder, "20251021_150000", [  # 11:00 ET on 2025-10-21
        injury("Jayson", "Tatum", 2, "Out", "Achilles"),
        injury("Stephen", "Curry", 10, "Day-To-Day", "ankle"),
        injury("Shawn", "Kemp", 99, "Out"),  # 3: no such balldontlie team
        injury("Ja", "Morant", 15, "Sidelined"),  # 4: unknown status
    ])  # fmt: skip
    write_injuries(folder, "20251022_010000", [  # 21:00 ET on 2025-10-21: the newer report that day
        injury("Stephen", "Curry", 10, "Questionable", "ankle, upgraded"),
        injury("Jayson", "Tatum", 2, "Out For Season", "Achilles"),
    ])  # fmt: skip
    write_injuries(folder, "20251022_160000", [injury("Stephen", "Curry", 10, "Probable")])  # 2025-10-22
    return tmp_path


def test_injuries_keep_every_report_of_the_et_day(injuries_dir: Path):
    """Both reports of 2025-10-21 are kept (the 21:00 ET one may be after a game's tip: which one
    counts is decided per game downstream, `lib/injuries.py`); the key includes the capture time."""
    parsed = FilesProvider(injuries_dir).injury_report(D(2025, 10, 21), D(2025, 10, 21))
    assert parsed.rows.schema == schemas.INJURY_REPORT
    assert schemas.INJURY_REPORT_KEY == ("game_date", "player_lookup", "reported_at")
    assert parsed.rows.select("game_date", "player_lookup", "player_name", "team", "status", "reported_at", "description", "source").rows() == [
        (D(2025, 10, 21), "jaysontatum", "Jayson Tatum", "BOS", "out", utc(2025, 10, 21, 15), "Achilles", "balldontlie"),
        (D(2025, 10, 21), "jaysontatum", "Jayson Tatum", "BOS", "out", utc(2025, 10, 22, 1), "Achilles", "balldontlie"),
        (D(2025, 10, 21), "stephencurry", "Stephen Curry", "GSW", "questionable", utc(2025, 10, 21, 15), "ankle", "balldontlie"),
        (D(2025, 10, 21), "stephencurry", "Stephen Curry", "GSW", "questionable", utc(2025, 10, 22, 1), "ankle, upgraded", "balldontlie"),
    ]  # fmt: skip
    assert parsed.skipped == {}
    assert quarantine_summary(parsed) == [
        ("injuries_20251021_150000.json", 3, "unknown_team:99", D(2025, 10, 21)),
        ("injuries_20251021_150000.json", 4, "unknown_status:Sidelined", D(2025, 10, 21)),
    ]
    as_of = FilesProvider(injuries_dir).injury_report(D(2025, 10, 21), D(2025, 10, 21), as_of=utc(2025, 10, 21, 20))
    assert as_of.rows.select("player_lookup", "status").rows() == [
        ("jaysontatum", "out"),
        ("stephencurry", "questionable"),
    ]
    assert as_of.rows.get_column("reported_at").unique().to_list() == [utc(2025, 10, 21, 15)]
    next_day = FilesProvider(injuries_dir).injury_report(D(2025, 10, 22), D(2025, 10, 22))
    assert next_day.rows.select("player_lookup", "status").rows() == [("stephencurry", "probable")]


def test_no_injuries_folder_is_an_empty_typed_frame(tmp_path: Path):
    parsed = FilesProvider(tmp_path).injury_report(D(2025, 10, 21), D(2025, 10, 21))
    assert parsed.rows.height == 0 and parsed.rows.schema == schemas.INJURY_REPORT
    assert parsed.quarantine.height == 0


# ---------------------------------------------------------------------------------------------
# provider surface and matching


def test_provider_surface(tmp_path: Path):
    provider = FilesProvider(str(tmp_path))
    assert provider.name == "files" and provider.data_dir == tmp_path
    for method in ("schedule", "box_scores", "prop_line_snapshots", "injury_report"):
        parsed = getattr(provider, method)(D(2025, 10, 21), D(2025, 10, 22))
        assert isinstance(parsed, Parsed) and parsed.rows.height == 0
        assert parsed.rows.schema == tables.TABLE_SCHEMAS[method]
    with pytest.raises(ValueError, match="empty date range"):
        provider.box_scores(D(2025, 10, 22), D(2025, 10, 21))


def test_classify_unmatched_lines_keeps_every_player_game():
    lines = pl.DataFrame(
        {
            "game_date": [D(2025, 10, 21)] * 3 + [D(2025, 10, 22)],
            "game_id": ["20251021_HOU_OKC"] * 3 + ["20251022_HOU_DET"],
            "player_lookup": ["kevindurant", "kevindurant", "fredvanvleet", "kevindurant"],
            "player_name": ["Kevin Durant", "Kevin Durant", "Fred VanVleet", "Kevin Durant"],
            "line": [23.5, 24.5, 14.5, 25.5],
            "captured_at": [utc(2025, 10, 21, 17)] * 4,
        }
    )
    box = pl.DataFrame({"game_date": [D(2025, 10, 21)], "player_lookup": ["kevindurant"], "played": [True]})
    classified = classify_unmatched_lines(lines, box)
    assert classified.rows() == [
        (D(2025, 10, 21), "20251021_HOU_OKC", "fredvanvleet", "Fred VanVleet", 1, "did_not_play"),
        (D(2025, 10, 21), "20251021_HOU_OKC", "kevindurant", "Kevin Durant", 2, "matched"),
        (D(2025, 10, 22), "20251022_HOU_DET", "kevindurant", "Kevin Durant", 1, "did_not_play"),
    ]
    assert match_rate(classified) == pytest.approx(1 / 3)
    assert classify_unmatched_lines(lines.clear(), box).height == 0


def test_a_folders_listing_is_kept_until_the_folder_changes(tmp_path):
    """The sensors list the capture folders every tick: an unchanged folder is not listed again,
    a changed one is, and a listing taken right after a change is not kept (coarse mtimes)."""
    import os
    import re
    import time

    from nba_props.lib.sources.readers._common import RACY_SECONDS, dated_files

    folder = tmp_path / "captures"
    folder.mkdir()
    (folder / "board_20250301.csv").write_text("x\n")
    pattern, fmt = re.compile(r"(\d{8})"), "%Y%m%d"
    settled = time.time() - 10 * RACY_SECONDS
    os.utime(folder, (settled, settled))
    first = dated_files(folder, "*.csv", pattern, fmt)
    assert [d.day.isoformat() for d in first] == ["2025-03-01"]
    assert dated_files(folder, "*.csv", pattern, fmt) is first  # kept
    (folder / "board_20250302.csv").write_text("x\n")  # the folder's mtime is now: racy
    fresh = dated_files(folder, "*.csv", pattern, fmt)
    assert [d.day.isoformat() for d in fresh] == ["2025-03-01", "2025-03-02"]
    assert dated_files(folder, "*.csv", pattern, fmt) is not fresh  # a racy listing is not kept
    os.utime(folder, (settled + 1, settled + 1))
    kept = dated_files(folder, "*.csv", pattern, fmt)
    assert dated_files(folder, "*.csv", pattern, fmt) is kept and len(kept) == 2
    (folder / "board_20250301.csv").unlink()
    assert [d.day.isoformat() for d in dated_files(folder, "*.csv", pattern, fmt)] == ["2025-03-02"]
    assert dated_files(tmp_path / "missing", "*.csv", pattern, fmt) == ()
