"""A deterministic simulated NBA league that writes the same raw files real users hold.

`simulate_season(season, seed, out_dir)` writes, with the layout of `../shared/data/nba` (one reader
reads both):

    schedule/schedule_<season>.json                     NBA CDN scheduleleaguev2 (full season)
    box_scores/player_logs_<season>.csv                 nba_api LeagueGameLog player rows (31 columns)
    odds/the_odds_api_snapshots/raw_YYYYMMDD_HHMMSS.csv The Odds API snapshot CSV (capture time, UTC)
    injuries/injuries_YYYYMMDD_HHMMSS.json              balldontlie /injuries payload (capture time, UTC)
    simulation_<season>.json                            manifest of the files above (seed, parameters)

The league (`sim.schedule`, `sim.league`) and the market (`sim.market`) are documented in their modules.
In one sentence, the learnable inefficiency: **the market prices a player's points from his season and
recent scoring rate, expected minutes given the injury report, usage, home court and pace, but ignores
the opponent's defensive strength (+-6.5% on points) and back-to-back fatigue (-6%)**, so weak-defence
opponents and rested players go over more often than the line implies.

The defence factor acts on efficiency (points per possession), so the opponent's defensive rating from
box scores (`opp_def_rating`) carries it: seed 7's full season, correlation of a team's season defensive
rating with its true factor 0.95 (0.22 before, when the factor scaled shot volume). Nothing else is an
edge by construction: the late sharp move is an efficient update (`sim.market`), and every game gets a
late snapshot that knows the day's report (early tips used to be priced on yesterday's report only).

A day of the simulation, in time order (ET): opening snapshot at 10:00 (knows yesterday's injury report),
injury report at 16:00 (or 90 minutes before the earliest tip), late snapshot at 17:00 or 60 minutes
before the earliest tip (knows the report, sharp move; every game of the day), games. On the first game
day of each ISO week one more report is captured 45 minutes after the earliest tip: the pre-tip report
plus a player of that game ruled out in-game (he played). It must never count for that game (a test
proves the per-game cut), while it precedes the day's later tips. Postponed games get opening lines
only and never a box score (they grade VOID). A player with a line and no box-score row did not play.

Determinism: set-up draws come from `Generator(PCG64(seed))`; each game day has its own generator seeded
by (seed, day index), so a run limited to `n_days` writes exactly the first days of the full run. With
`n_days`, the schedule still lists the whole season: games after the window are scheduled (status 1).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from nba_props import seasons
from nba_props.lib import identity
from nba_props.sim import league as lg
from nba_props.sim import market as mk
from nba_props.sim import schedule as sch

DEFAULT_OUT_DIR = Path("data") / "simulated"

BOX_SCORE_COLUMNS = (
    "SEASON_ID", "PLAYER_ID", "PLAYER_NAME", "TEAM_ID", "TEAM_ABBREVIATION", "TEAM_NAME", "GAME_ID",
    "GAME_DATE", "MATCHUP", "WL", "MIN", "PTS", "FGM", "FGA", "FG_PCT", "FG3M", "FG3A", "FG3_PCT", "FTM",
    "FTA", "FT_PCT", "OREB", "DREB", "REB", "AST", "STL", "BLK", "TOV", "PF", "PLUS_MINUS", "SEASON_LABEL",
)  # fmt: skip
BOX_SCORE_HEADER = ",".join(BOX_SCORE_COLUMNS)
ODDS_COLUMNS = ("event_id", "player", "market", "line", "bookmaker", "game", "game_time", "over_odds", "under_odds")
ODDS_HEADER = ",".join(ODDS_COLUMNS)

OPEN_SNAPSHOT_ET = time(10, 0)
INJURY_REPORT_ET = time(16, 0)
INJURY_REPORT_LEAD = timedelta(minutes=90)  # before the earliest tip when games start before 17:30
LATE_SNAPSHOT_ET = time(17, 0)
LATE_SNAPSHOT_LEAD = timedelta(minutes=60)  # before the earliest tip when games start before 18:00
POST_TIP_REPORT_DELAY = timedelta(minutes=45)  # the weekly in-game report, after the earliest tip

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


@dataclass(frozen=True)
class SimulationSummary:
    season: str
    seed: int
    out_dir: Path
    n_games: int  # final games written to the box scores
    n_postponed: int  # postponed games inside the simulated window
    n_player_rows: int
    n_line_rows: int  # rows over all snapshot files (every market and book)
    n_snapshot_files: int
    n_injury_reports: int  # report files, the weekly post-tip ones included
    n_post_tip_reports: int  # reports captured after a game's tip (one per week with games)
    first_date: date | None
    last_date: date | None
    market_mae: float  # consensus points line of the latest pre-game snapshot vs actual points
    market_over_rate: float  # overs / (overs + unders), pushes excluded
    market_mean_line: float
    n_graded_lines: int  # player-games with a points line and a box-score row


def _day_rng(seed: int, day_index: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 1, day_index])))


def _at(day: date, t: time) -> datetime:
    return datetime.combine(day, t, tzinfo=seasons.GAME_TZ).astimezone(timezone.utc)


def _stamp(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y%m%d_%H%M%S")


def _iso_z(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def _odds_team_name(team: identity.Team) -> str:
    return ODDS_TEAM_NAMES.get(team.tricode, team.full_name)


class _Output:
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


def simulate_season(season: str = "2024-25", seed: int = 7, out_dir: str | Path = DEFAULT_OUT_DIR, *,
                    n_days: int | None = None) -> SimulationSummary:  # fmt: skip
    """Simulate a regular season (or its first `n_days` game days) and write the raw files."""
    seasons.parse_label(season)
    root = Path(out_dir)
    setup = np.random.Generator(np.random.PCG64(seed))
    schedule = sch.build_schedule(season, setup)
    roster = lg.make_roster(setup)
    cal = seasons.season(season)
    trades = lg.make_trades(roster, cal.opening_night, cal.regular_season_end, setup)
    state = lg.LeagueState(roster, setup)
    tallies = mk.Tallies.empty(roster.n)

    all_days = sorted({g.game_date for g in schedule})
    days = all_days if n_days is None else all_days[: max(0, n_days)]
    by_day: dict[date, list[sch.Game]] = defaultdict(list)
    for g in schedule:
        by_day[g.game_date].append(g)

    out = _Output(root, season)
    odds_names = pl.Series([lg.odds_name(roster, i) for i in range(roster.n)])
    name_rank = np.empty(roster.n, dtype=np.int64)
    name_rank[np.argsort(np.array(odds_names.to_list()), kind="stable")] = np.arange(roster.n)
    box_parts: list[pl.DataFrame] = []
    finals: dict[str, dict] = {}
    graded: list[tuple[float, int]] = []  # (consensus line, points)
    n_line_rows = n_snapshot_files = n_reports = n_post_tip = 0
    post_tip_weeks: set[tuple[int, int]] = set()
    applied: set[int] = set()

    meta = {"season": season, "seed": seed, "n_days": n_days, "generator": "nba_props.sim"}
    try:
        for k, day in enumerate(days):
            rng = _day_rng(seed, k)
            for ti, trade in enumerate(trades):
                if trade.day <= day and ti not in applied:
                    state.trade(trade)
                    applied.add(ti)
            state.advance_form(rng)
            todays = by_day[day]
            playing = [g for g in todays if not g.postponed]
            teams_today = np.zeros(lg.N_TEAMS, dtype=bool)
            for g in playing:
                teams_today[[g.home, g.away]] = True
            report = state.report(day, teams_today, rng)
            draws = mk.day_draws(roster.n, rng)

            # 10:00 ET opening snapshot: every game of the day, yesterday's injury knowledge.
            open_at = _at(day, OPEN_SNAPSHOT_ET)
            open_games = [g for g in todays if g.tip_utc > open_at]
            open_est = mk.estimate(roster, [(g.home, g.away) for g in open_games], state.status_prev, tallies,
                                   state.pace, state.form)  # fmt: skip
            open_lines = mk.lines(open_est, mk.posted(open_est, state.status_prev, draws, late=False), draws)
            n_line_rows += _write_snapshot(out, open_at, open_games, open_lines, odds_names, name_rank, season, seed)
            n_snapshot_files += len(open_lines.line) > 0

            # Injury report (before every tip), then the late snapshot (knows the report).
            first_tip = min((g.tip_utc for g in playing), default=_at(day, LATE_SNAPSHOT_ET))
            report_at = min(_at(day, INJURY_REPORT_ET), first_tip - INJURY_REPORT_LEAD)
            _write_injuries(out, day, report_at, report, roster, playing)
            n_reports += 1
            late_at = min(_at(day, LATE_SNAPSHOT_ET), first_tip - LATE_SNAPSHOT_LEAD)
            late_games = [g for g in playing if g.tip_utc > late_at]
            late_est = mk.estimate(roster, [(g.home, g.away) for g in late_games], report.status, tallies,
                                   state.pace, state.form, draws.sharp_read)  # fmt: skip
            late_lines = mk.lines(late_est, mk.posted(late_est, report.status, draws, late=True), draws)
            n_line_rows += _write_snapshot(out, late_at, late_games, late_lines, odds_names, name_rank, season, seed)
            n_snapshot_files += len(late_lines.line) > 0

            # The games.
            pairs = [(g.home, g.away) for g in playing]
            result = state.play(day, pairs, report, rng)
            box_parts.append(_box_rows(day, playing, result, roster, season))
            week = day.isocalendar()[:2]
            if playing and week not in post_tip_weeks:  # the first game day of each ISO week
                post_tip_weeks.add(week)
                _write_post_tip_report(out, day, playing, result, report, roster)
                n_reports += 1
                n_post_tip += 1
            _record_finals(finals, playing, result, roster, state)

            # Grade each posted player's consensus points line of the latest pre-game snapshot (late for games
            # tipping after it, opening otherwise) against his points; players who did not play are voids.
            scored = {(playing[int(gi) // 2].nba_game_id, int(p)): int(v)
                      for gi, p, v in zip(result.group, result.player, result.pts)}  # fmt: skip
            for snap_games, snap, latest in (
                (open_games, open_lines, lambda g: g.tip_utc <= late_at),
                (late_games, late_lines, lambda g: True),
            ):
                for gi, p, line in zip(snap.consensus_game, snap.consensus_player, snap.consensus_line):
                    g = snap_games[int(gi)]
                    points = scored.get((g.nba_game_id, int(p)))
                    if points is not None and latest(g):
                        graded.append((float(line), points))

            state.after(day, pairs, result, report, rng)
            # The market learns minutes from its own latest pre-game allocation vs what happened.
            alloc = np.full(roster.n, np.nan)
            alloc[open_est.player] = open_est.alloc_minutes
            alloc[late_est.player] = late_est.alloc_minutes
            alloc_played = alloc[result.player]
            counted = np.isfinite(alloc_played) & (alloc_played > 0)
            tallies.add(result.player[counted], result.pts[counted].astype(float), result.minutes[counted],
                        alloc_played[counted])  # fmt: skip

        box = pl.concat(box_parts) if box_parts else _empty_box()
        out.text(f"box_scores/player_logs_{season}.csv", box.write_csv())
        schedule_json = _schedule_json(season, schedule, days, finals, state)
        out.text(f"schedule/schedule_{season}.json", json.dumps(schedule_json, ensure_ascii=False))

    except BaseException:
        out.close(dict(meta, complete=False))  # a re-run can still clean up what this run wrote
        raise

    lines_arr = np.array([g[0] for g in graded], dtype=np.float64)
    pts_arr = np.array([g[1] for g in graded], dtype=np.float64)
    overs, unders = int((pts_arr > lines_arr).sum()), int((pts_arr < lines_arr).sum())
    window = set(days)
    summary = SimulationSummary(
        season=season,
        seed=seed,
        out_dir=root,
        n_games=len(finals),
        n_postponed=sum(1 for g in schedule if g.postponed and g.game_date in window),
        n_player_rows=box.height,
        n_line_rows=n_line_rows,
        n_snapshot_files=n_snapshot_files,
        n_injury_reports=n_reports,
        n_post_tip_reports=n_post_tip,
        first_date=days[0] if days else None,
        last_date=days[-1] if days else None,
        market_mae=float(np.abs(pts_arr - lines_arr).mean()) if len(pts_arr) else float("nan"),
        market_over_rate=overs / (overs + unders) if overs + unders else float("nan"),
        market_mean_line=float(lines_arr.mean()) if len(lines_arr) else float("nan"),
        n_graded_lines=len(pts_arr),
    )
    out.close(dict(meta, complete=True))
    return summary


# --- box scores -------------------------------------------------------------------------------------


def _empty_box() -> pl.DataFrame:
    return pl.DataFrame({c: pl.Series(c, [], dtype=pl.Utf8) for c in BOX_SCORE_COLUMNS})


def _pct(made: np.ndarray, att: np.ndarray) -> pl.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.round(made / att, 3)
    return pl.Series(value).set(pl.Series(att == 0), None)


def _box_rows(day: date, games: list[sch.Game], res: lg.DayGames, roster: lg.Roster, season: str) -> pl.DataFrame:
    if len(res.player) == 0:
        return _empty_box()
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


def _record_finals(finals: dict, games: list[sch.Game], res: lg.DayGames, roster: lg.Roster,
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


# --- odds snapshots ---------------------------------------------------------------------------------


def event_id(season: str, seed: int, nba_game_id: str) -> str:
    return hashlib.md5(f"nba-props-sim|{season}|{seed}|{nba_game_id}".encode()).hexdigest()


_MARKET_NAMES = pl.Series(mk.MARKETS)
_BOOK_NAMES = pl.Series(mk.BOOKS)


def _write_snapshot(out: _Output, captured: datetime, games: list[sch.Game], snap: mk.SnapshotLines,
                    names: pl.Series, name_rank: np.ndarray, season: str, seed: int) -> int:  # fmt: skip
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


def _write_injuries(out: _Output, day: date, captured: datetime, report: lg.DayReport, roster: lg.Roster,
                    playing: list[sch.Game]) -> None:  # fmt: skip
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


def _write_post_tip_report(out: _Output, day: date, playing: list[sch.Game], result: lg.DayGames,
                           report: lg.DayReport, roster: lg.Roster) -> None:  # fmt: skip
    """A report captured POST_TIP_REPORT_DELAY after the day's earliest tip: the pre-tip report plus
    one player of that game ruled out in-game (he played: the box score has his row). Nothing known
    before that game's tip may use it; later games of the day may (it precedes their tips)."""
    first = min(range(len(playing)), key=lambda gi: (playing[gi].tip_utc, playing[gi].nba_game_id))
    rows = np.flatnonzero((result.group // 2 == first) & (report.status[result.player] == lg.STATUS_NONE))
    if len(rows) == 0:  # pragma: no cover - a game always has unlisted players
        return
    top = rows[np.lexsort((result.player[rows], -result.minutes[rows]))[0]]
    i = int(result.player[top])
    status, part, back = report.status.copy(), report.part.copy(), report.return_day.copy()
    status[i], part[i], back[i] = lg.STATUS_OUT, lg.BODY_PARTS.index("ankle"), (day + timedelta(days=1)).toordinal()
    in_game = lg.DayReport(status=status, plays=report.plays, rest=report.rest, return_day=back, part=part)
    _write_injuries(out, day, playing[first].tip_utc + POST_TIP_REPORT_DELAY, in_game, roster, playing)


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


def _schedule_json(season: str, schedule: list[sch.Game], days: list[date], finals: dict,
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
        day0_utc = datetime.combine(g.game_date, time(0), tzinfo=seasons.GAME_TZ).astimezone(timezone.utc)
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
    captured = datetime.combine(last_day + timedelta(days=1), time(10), tzinfo=timezone.utc)
    return {
        "meta": {
            "version": 1,
            "request": f"http://nba.cloud/league/00/{season}/scheduleleaguev2?Format=json",
            "time": captured.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        },
        "leagueSchedule": {"seasonYear": season, "leagueId": "00", "gameDates": game_dates},
    }
