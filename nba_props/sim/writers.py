"""The four raw formats the simulated league writes, as real users hold them (one reader reads both).

    box_scores/player_logs_<season>.csv                 nba_api LeagueGameLog player rows (31 columns)
    odds/the_odds_api_snapshots/raw_YYYYMMDD_HHMMSS.csv The Odds API snapshot CSV (capture time, UTC)
    injuries/injuries_YYYYMMDD_HHMMSS.json              balldontlie /injuries payload (capture time, UTC)
    schedule/schedule_<season>.json                     NBA CDN scheduleleaguev2 (full season)

Formatting only: every value comes from the simulation (`season.py` drives it day by day). `OutputFolder`
writes the files and the manifest `simulation_<season>.json` that lists them.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from nba_props import seasons
from nba_props.lib import identity
from nba_props.sim import league as lg
from nba_props.sim import market as mk
from nba_props.sim import schedule as sch

BOX_SCORE_COLUMNS = (
    "SEASON_ID", "PLAYER_ID", "PLAYER_NAME", "TEAM_ID", "TEAM_ABBREVIATION", "TEAM_NAME", "GAME_ID",
    "GAME_DATE", "MATCHUP", "WL", "MIN", "PTS", "FGM", "FGA", "FG_PCT", "FG3M", "FG3A", "FG3_PCT", "FTM",
    "FTA", "FT_PCT", "OREB", "DREB", "REB", "AST", "STL", "BLK", "TOV", "PF", "PLUS_MINUS", "SEASON_LABEL",
)  # fmt: skip
BOX_SCORE_HEADER = ",".join(BOX_SCORE_COLUMNS)
ODDS_COLUMNS = ("event_id", "player", "market", "line", "bookmaker", "game", "game_time", "over_odds", "under_odds")
ODDS_HEADER = ",".join(ODDS_COLUMNS)

# The Odds API spells the Clippers in full; every other team uses identity's "City Nickname".
ODDS_TEAM_NAMES = {"LAC": "Los Angeles Clippers"}
TEAM_SLUGS = {"POR": "blazers", "PHI": "sixers"}
LOCAL_TZ = {
    "eastern": ZoneInfo("America/New_York"),
    "central": ZoneInfo("America/Chicago"),
    "mountain": ZoneInfo("America/Denver"),
    "pacific": ZoneInfo("America/Los_Angeles"),
}
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%d_%H%M%S")


def _iso_z(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def _odds_team_name(team: identity.Team) -> str:
    return ODDS_TEAM_NAMES.get(team.tricode, team.full_name)


class OutputFolder:
    """Writes under `root`, never over a file the simulator did not write (the manifest says which)."""

    def __init__(self, root: Path, season: str):
        self.root = root
        self.manifest = root / f"simulation_{season}.json"
        if self.manifest.exists():
            for rel in json.loads(self.manifest.read_text())["files"]:
                (root / rel).unlink(missing_ok=True)
        self.files: list[str] = []

    def path(self, rel: str) -> Path:
        target = self.root / rel
        if target.exists():
            raise FileExistsError(f"{target} exists and was not written by the simulator; refusing to overwrite")
        target.parent.mkdir(parents=True, exist_ok=True)
        self.files.append(rel)
        return target

    def text(self, rel: str, content: str) -> None:
        self.path(rel).write_bytes(content.encode("utf-8"))

    def close(self, meta: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        body = dict(meta, files=sorted(self.files))
        self.manifest.write_bytes(json.dumps(body, indent=1, sort_keys=True).encode("utf-8"))


# --- box scores -------------------------------------------------------------------------------------


def empty_box_scores() -> pl.DataFrame:
    return pl.DataFrame({c: pl.Series(c, [], dtype=pl.Utf8) for c in BOX_SCORE_COLUMNS})


def _pct(made: np.ndarray, att: np.ndarray) -> pl.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.round(made / att, 3)
    return pl.Series(value).set(pl.Series(att == 0), None)


def box_score_rows(day: date, games: list[sch.Game], res: lg.DayGames, roster: lg.Roster,
                   season: str) -> pl.DataFrame:  # fmt: skip
    """One game day's nba_api LeagueGameLog rows (players who played, by game then minutes)."""
    if len(res.player) == 0:
        return empty_box_scores()
    order = np.lexsort((-res.minutes, res.group))
    p, grp = res.player[order], res.group[order]
    st = {k: v[order] for k, v in res.stats.items()}
    pts = res.pts[order]
    teams = [identity.TEAMS[t] for t in range(lg.N_TEAMS)]
    team_idx, opp_idx = res.team[order], res.opp[order]
    home = res.is_home[order]
    won = res.score[grp] > res.score[grp ^ 1]
    matchup = [
        f"{teams[t].tricode} vs. {teams[o].tricode}" if h else f"{teams[t].tricode} @ {teams[o].tricode}"
        for t, o, h in zip(team_idx.tolist(), opp_idx.tolist(), home.tolist())
    ]
    n = len(p)
    return pl.DataFrame(
        {
            "SEASON_ID": np.full(n, int(f"2{seasons.parse_label(season)}")),
            "PLAYER_ID": roster.player_id[p],
            "PLAYER_NAME": [roster.name(i) for i in p.tolist()],
            "TEAM_ID": np.array([teams[t].nba_id for t in team_idx.tolist()], dtype=np.int64),
            "TEAM_ABBREVIATION": [teams[t].tricode for t in team_idx.tolist()],
            "TEAM_NAME": [teams[t].full_name for t in team_idx.tolist()],
            "GAME_ID": [games[g // 2].nba_game_id for g in grp.tolist()],
            "GAME_DATE": [day.isoformat()] * n,
            "MATCHUP": matchup,
            "WL": np.where(won, "W", "L").tolist(),
            "MIN": st["MIN"],
            "PTS": pts,
            "FGM": st["FGM"],
            "FGA": st["FGA"],
            "FG_PCT": _pct(st["FGM"], st["FGA"]),
            "FG3M": st["FG3M"],
            "FG3A": st["FG3A"],
            "FG3_PCT": _pct(st["FG3M"], st["FG3A"]),
            "FTM": st["FTM"],
            "FTA": st["FTA"],
            "FT_PCT": _pct(st["FTM"], st["FTA"]),
            "OREB": st["OREB"],
            "DREB": st["DREB"],
            "REB": st["REB"],
            "AST": st["AST"],
            "STL": st["STL"],
            "BLK": st["BLK"],
            "TOV": st["TOV"],
            "PF": st["PF"],
            "PLUS_MINUS": st["PLUS_MINUS"],
            "SEASON_LABEL": [season] * n,
        }
    ).with_columns(pl.col(c).cast(pl.Int64) for c in BOX_SCORE_COLUMNS if c in st or c in ("PTS", "SEASON_ID"))


def write_box_scores(out: OutputFolder, season: str, days: list[pl.DataFrame]) -> int:
    """The season's nba_api game-log CSV from the days' `box_score_rows`; returns its rows."""
    box = pl.concat(days) if days else empty_box_scores()
    out.text(f"box_scores/player_logs_{season}.csv", box.write_csv())
    return box.height


# --- odds snapshots ---------------------------------------------------------------------------------


def event_id(season: str, seed: int, nba_game_id: str) -> str:
    return hashlib.md5(f"nba-props-sim|{season}|{seed}|{nba_game_id}".encode()).hexdigest()


_MARKET_NAMES = pl.Series(mk.MARKETS)
_BOOK_NAMES = pl.Series(mk.BOOKS)


@dataclass(frozen=True)
class OddsNames:
    """Each player's name as The Odds API spells it, and its alphabetical rank (the files' row order)."""

    names: pl.Series
    rank: np.ndarray

    @classmethod
    def of(cls, roster: lg.Roster) -> OddsNames:
        names = pl.Series([lg.odds_name(roster, i) for i in range(roster.n)])
        rank = np.empty(roster.n, dtype=np.int64)
        rank[np.argsort(np.array(names.to_list()), kind="stable")] = np.arange(roster.n)
        return cls(names, rank)


def write_odds_snapshot(out: OutputFolder, captured: datetime, games: list[sch.Game], snap: mk.SnapshotLines,
                        odds_names: OddsNames, season: str, seed: int) -> int:  # fmt: skip
    """One snapshot CSV (every market and book posted at `captured`); returns its rows."""
    names, name_rank = odds_names.names, odds_names.rank
    n = len(snap.line)
    if n == 0:
        return 0
    market_rank = np.argsort(np.argsort(np.array(mk.MARKETS)))  # alphabetical
    ladder = np.isin(snap.book, [mk.BOOKS.index(b) for b in mk.LADDER_BOOKS])
    k3 = np.where(ladder, name_rank[snap.player].astype(float), -snap.line)
    k4 = np.where(ladder, snap.line, name_rank[snap.player].astype(float))
    order = np.lexsort((k4, k3, market_rank[snap.market], snap.book, snap.game))
    gi = pl.Series(snap.game[order])
    events = pl.Series([event_id(season, seed, g.nba_game_id) for g in games])
    labels = pl.Series([f"{_odds_team_name(g.away_team)} @ {_odds_team_name(g.home_team)}" for g in games])
    tips = pl.Series([_iso_z(g.tip_utc) for g in games])
    df = pl.DataFrame(
        {
            "event_id": events.gather(gi),
            "player": names.gather(pl.Series(snap.player[order])),
            "market": _MARKET_NAMES.gather(pl.Series(snap.market[order])),
            "line": snap.line[order].astype(np.float64),
            "bookmaker": _BOOK_NAMES.gather(pl.Series(snap.book[order])),
            "game": labels.gather(gi),
            "game_time": tips.gather(gi),
            "over_odds": snap.over[order].astype(np.float64),
            "under_odds": snap.under[order].astype(np.float64),
        }
    )
    out.text(f"odds/the_odds_api_snapshots/raw_{_stamp(captured)}.csv", df.write_csv())
    return n


# --- injuries ---------------------------------------------------------------------------------------


def write_injury_report(out: OutputFolder, day: date, captured: datetime, report: lg.DayReport,
                        roster: lg.Roster, playing: list[sch.Game]) -> None:  # fmt: skip
    """The balldontlie /injuries payload of `report` as captured at `captured`."""
    opponent: dict[int, int] = {}
    for g in playing:
        opponent[g.home], opponent[g.away] = g.away, g.home
    listed = np.flatnonzero(report.status != lg.STATUS_NONE)
    entries = []
    for i in listed.tolist():
        team = identity.TEAMS[int(roster.team[i])]
        first, last = lg.bdl_names(roster, i)
        status = lg.STATUS_TEXT[int(report.status[i])]
        opp = opponent.get(int(roster.team[i]))
        game_txt = (
            f"{_WEEKDAY_NAMES[day.weekday()]}'s game against the {identity.TEAMS[opp].nickname}"
            if opp is not None
            else "the team's next game"
        )
        surname = last.split(" ")[0]
        if report.rest[i]:
            part, text = "rest", f"will not play in {game_txt}."
        else:
            part = lg.BODY_PARTS[int(report.part[i])] if report.part[i] >= 0 else "undisclosed"
            text = {
                "Out": f"has been ruled out for {game_txt}.",
                "Doubtful": f"is listed as doubtful for {game_txt}.",
                "Questionable": f"is questionable for {game_txt}.",
                "Day-To-Day": "is considered day-to-day.",
                "Probable": f"is probable for {game_txt}.",
            }[status]
        back = date.fromordinal(int(report.return_day[i])) if report.return_day[i] > 0 else day + timedelta(days=1)
        entries.append(
            (
                team.balldontlie_id,
                last,
                first,
                {
                    "player": {
                        "id": int(roster.bdl_id[i]),
                        "first_name": first,
                        "last_name": last,
                        "position": roster.position[i],
                        **roster.bio[i],
                        "team_id": team.balldontlie_id,
                    },
                    "return_date": f"{back:%b} {back.day}",
                    "description": f"{day:%b} {day.day}: {surname} ({part}) {text}",
                    "status": status,
                },
            )
        )
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    payload = {"data": [e[3] for e in entries], "meta": {"next_cursor": None, "per_page": max(100, len(entries))}}
    out.text(f"injuries/injuries_{_stamp(captured)}.json", json.dumps(payload, ensure_ascii=False))


# --- schedule ---------------------------------------------------------------------------------------


def _status_text(tip_et: datetime) -> str:
    hour = tip_et.hour % 12 or 12
    return f"{hour}:{tip_et.minute:02d} {'pm' if tip_et.hour >= 12 else 'am'} ET"


def _team_obj(team: identity.Team, record: tuple[int, int], score: int) -> dict:
    return {
        "teamId": team.nba_id,
        "teamName": team.nickname,
        "teamCity": team.city,
        "teamTricode": team.tricode,
        "teamSlug": TEAM_SLUGS.get(team.tricode, team.nickname.lower().replace(" ", "")),
        "wins": record[0],
        "losses": record[1],
        "score": score,
        "seed": 0,
    }


def record_finals(finals: dict, games: list[sch.Game], res: lg.DayGames, roster: lg.Roster,
                   state: lg.LeagueState) -> None:  # fmt: skip
    """Scores, records after the game and the points leader of each final game."""
    wins, losses = state.wins.copy(), state.losses.copy()
    for g_idx, g in enumerate(games):
        hs, as_ = int(res.score[2 * g_idx]), int(res.score[2 * g_idx + 1])
        winner, loser = (g.home, g.away) if hs > as_ else (g.away, g.home)
        wins[winner] += 1
        losses[loser] += 1
        rows = np.flatnonzero(res.group // 2 == g_idx)
        top = rows[np.lexsort((res.player[rows], -res.pts[rows]))[0]]
        i = int(res.player[top])
        team = identity.TEAMS[int(res.team[top])]
        finals[g.nba_game_id] = {
            "home_score": hs,
            "away_score": as_,
            "home_record": (int(wins[g.home]), int(losses[g.home])),
            "away_record": (int(wins[g.away]), int(losses[g.away])),
            "leader": {
                "personId": int(roster.player_id[i]),
                "firstName": roster.first[i],
                "lastName": roster.last[i],
                "teamId": team.nba_id,
                "teamCity": team.city,
                "teamName": team.nickname,
                "teamTricode": team.tricode,
                "points": float(res.pts[top]),
            },
        }


def write_schedule(out: OutputFolder, season: str, schedule: list[sch.Game], days: list[date], finals: dict,
                   state: lg.LeagueState) -> None:  # fmt: skip
    """The CDN schedule document of the whole season as of the end of the simulated window."""
    document = _schedule_document(season, schedule, days, finals, state)
    out.text(f"schedule/schedule_{season}.json", json.dumps(document, ensure_ascii=False))


def _schedule_document(season: str, schedule: list[sch.Game], days: list[date], finals: dict,
                       state: lg.LeagueState) -> dict:  # fmt: skip
    """The CDN document as of the end of the simulated window."""
    last_day = days[-1] if days else seasons.season(season).opening_night - timedelta(days=1)
    opening = seasons.season(season).opening_night
    week_zero = opening - timedelta(days=opening.weekday())
    # records before each postponed game's date: replay finals in date order
    record_at: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {}
    wins = np.zeros(lg.N_TEAMS, dtype=np.int64)
    losses = np.zeros(lg.N_TEAMS, dtype=np.int64)
    for g in schedule:  # schedule is sorted by date / tip
        if g.postponed:
            record_at[g.nba_game_id] = ((int(wins[g.home]), int(losses[g.home])),
                                        (int(wins[g.away]), int(losses[g.away])))  # fmt: skip
        elif g.nba_game_id in finals:
            f = finals[g.nba_game_id]
            winner, loser = (g.home, g.away) if f["home_score"] > f["away_score"] else (g.away, g.home)
            wins[winner] += 1
            losses[loser] += 1
    known_ppd = {g.nba_game_id for g in schedule if g.postponed and g.game_date <= last_day}
    by_date: dict[date, list[dict]] = defaultdict(list)
    for g in schedule:
        if g.makeup_of is not None and g.makeup_of not in known_ppd:
            continue  # the make-up does not exist before the postponement
        tip_et = g.tip_et
        day0_utc = datetime.combine(g.game_date, time(0), tzinfo=seasons.GAME_TZ).astimezone(UTC)
        wall = "%Y-%m-%dT%H:%M:%SZ"
        home_t, away_t = g.home_team, g.away_team
        if g.nba_game_id in finals:
            f = finals[g.nba_game_id]
            status, text, ppd = 3, "Final", "N"
            home_obj = _team_obj(home_t, f["home_record"], f["home_score"])
            away_obj = _team_obj(away_t, f["away_record"], f["away_score"])
            leaders = [f["leader"]]
        else:
            if g.nba_game_id in known_ppd:
                status, text, ppd = 1, "PPD", "Y"
                home_rec, away_rec = record_at[g.nba_game_id]
            else:
                status, text, ppd = 1, _status_text(tip_et), "N"
                home_rec = (int(state.wins[g.home]), int(state.losses[g.home]))
                away_rec = (int(state.wins[g.away]), int(state.losses[g.away]))
            home_obj = _team_obj(home_t, home_rec, 0)
            away_obj = _team_obj(away_t, away_rec, 0)
            leaders = []
        week = (g.game_date - week_zero).days // 7 + 1
        by_date[g.game_date].append(
            {
                "gameId": g.nba_game_id,
                "gameCode": f"{g.game_date:%Y%m%d}/{away_t.tricode}{home_t.tricode}",
                "gameStatus": status,
                "gameStatusText": text,
                "gameSequence": 0,
                "gameDateEst": f"{g.game_date:%Y-%m-%d}T00:00:00Z",
                "gameTimeEst": f"1900-01-01T{tip_et:%H:%M}:00Z",
                "gameDateTimeEst": tip_et.strftime(wall),
                "gameDateUTC": _iso_z(day0_utc),
                "gameTimeUTC": f"1900-01-01T{g.tip_utc:%H:%M}:00Z",
                "gameDateTimeUTC": _iso_z(g.tip_utc),
                "awayTeamTime": g.tip_utc.astimezone(LOCAL_TZ[sch._zone(away_t.tricode)]).strftime(wall),
                "homeTeamTime": g.tip_utc.astimezone(LOCAL_TZ[sch._zone(home_t.tricode)]).strftime(wall),
                "day": _WEEKDAYS[g.game_date.weekday()],
                "monthNum": g.game_date.month,
                "weekNumber": week,
                "weekName": f"Week {week}",
                "ifNecessary": False,
                "seriesGameNumber": "",
                "gameLabel": "",
                "gameSubLabel": "",
                "seriesText": "",
                "postponedStatus": ppd,
                "gameSubtype": "",
                "isNeutral": False,
                "homeTeam": home_obj,
                "awayTeam": away_obj,
                "pointsLeaders": leaders,
            }
        )
    game_dates = []
    for d in sorted(by_date):
        entries = by_date[d]
        for seq, e in enumerate(entries, start=1):
            e["gameSequence"] = seq
        game_dates.append({"gameDate": f"{d:%m/%d/%Y} 00:00:00", "games": entries})
    captured = datetime.combine(last_day + timedelta(days=1), time(10), tzinfo=UTC)
    return {
        "meta": {
            "version": 1,
            "request": f"http://nba.cloud/league/00/{season}/scheduleleaguev2?Format=json",
            "time": captured.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        },
        "leagueSchedule": {"seasonYear": season, "leagueId": "00", "gameDates": game_dates},
    }
