"""A deterministic simulated NBA league that writes the same raw files real users hold.

`simulate_season(season, seed, out_dir)` writes, with the layout of `../shared/data/nba` (one reader
reads both):

    schedule/schedule_<season>.json                     NBA CDN scheduleleaguev2 (full season)
    box_scores/player_logs_<season>.csv                 nba_api LeagueGameLog player rows (31 columns)
    odds/the_odds_api_snapshots/raw_YYYYMMDD_HHMMSS.csv The Odds API snapshot CSV (capture time, UTC)
    injuries/injuries_YYYYMMDD_HHMMSS.json              balldontlie /injuries payload (capture time, UTC)
    simulation_<season>.json                            manifest of the files above (seed, parameters)

This module runs the season day by day; the league (`sim.schedule`, `sim.league`) and the market
(`sim.market`) are documented in their modules, the file formats in `sim.writers`.
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

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from nba_props import seasons
from nba_props.sim import league as lg
from nba_props.sim import market as mk
from nba_props.sim import schedule as sch
from nba_props.sim import writers

OPEN_SNAPSHOT_ET = time(10, 0)
INJURY_REPORT_ET = time(16, 0)
INJURY_REPORT_LEAD = timedelta(minutes=90)  # before the earliest tip when games start before 17:30
LATE_SNAPSHOT_ET = time(17, 0)
LATE_SNAPSHOT_LEAD = timedelta(minutes=60)  # before the earliest tip when games start before 18:00
POST_TIP_REPORT_DELAY = timedelta(minutes=45)  # the weekly in-game report, after the earliest tip


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
    return datetime.combine(day, t, tzinfo=seasons.GAME_TZ).astimezone(UTC)


def simulate_season(season: str, seed: int, out_dir: str | Path, *, n_days: int | None = None) -> SimulationSummary:
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

    out = writers.OutputFolder(root, season)
    odds_names = writers.OddsNames.of(roster)
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
            n_line_rows += writers.write_odds_snapshot(out, open_at, open_games, open_lines, odds_names, season, seed)
            n_snapshot_files += len(open_lines.line) > 0

            # Injury report (before every tip), then the late snapshot (knows the report).
            first_tip = min((g.tip_utc for g in playing), default=_at(day, LATE_SNAPSHOT_ET))
            report_at = min(_at(day, INJURY_REPORT_ET), first_tip - INJURY_REPORT_LEAD)
            writers.write_injury_report(out, day, report_at, report, roster, playing)
            n_reports += 1
            late_at = min(_at(day, LATE_SNAPSHOT_ET), first_tip - LATE_SNAPSHOT_LEAD)
            late_games = [g for g in playing if g.tip_utc > late_at]
            late_est = mk.estimate(roster, [(g.home, g.away) for g in late_games], report.status, tallies,
                                   state.pace, state.form, draws.sharp_read)  # fmt: skip
            late_lines = mk.lines(late_est, mk.posted(late_est, report.status, draws, late=True), draws)
            n_line_rows += writers.write_odds_snapshot(out, late_at, late_games, late_lines, odds_names, season, seed)
            n_snapshot_files += len(late_lines.line) > 0

            # The games.
            pairs = [(g.home, g.away) for g in playing]
            result = state.play(day, pairs, report, rng)
            box_parts.append(writers.box_score_rows(day, playing, result, roster, season))
            week = day.isocalendar()[:2]
            if playing and week not in post_tip_weeks:  # the first game day of each ISO week
                post_tip_weeks.add(week)
                in_game = _post_tip_report(day, playing, result, report)
                if in_game is not None:
                    writers.write_injury_report(out, day, *in_game, roster, playing)
                n_reports += 1
                n_post_tip += 1
            writers.record_finals(finals, playing, result, roster, state)

            # Grade each posted player's consensus points line of the latest pre-game snapshot (late for games
            # tipping after it, opening otherwise) against his points; players who did not play are voids.
            scored = {(playing[int(gi) // 2].nba_game_id, int(p)): int(v)
                      for gi, p, v in zip(result.group, result.player, result.pts)}  # fmt: skip
            for snap_games, snap, latest in (
                (open_games, open_lines, lambda g: g.tip_utc <= late_at),  # noqa: B023 (used in this iteration)
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

        n_player_rows = writers.write_box_scores(out, season, box_parts)
        writers.write_schedule(out, season, schedule, days, finals, state)

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
        n_player_rows=n_player_rows,
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


def _post_tip_report(day: date, playing: list[sch.Game], result: lg.DayGames,
                     report: lg.DayReport) -> tuple[datetime, lg.DayReport] | None:  # fmt: skip
    """The weekly report captured POST_TIP_REPORT_DELAY after the day's earliest tip: the pre-tip report
    plus one player of that game ruled out in-game (he played: the box score has his row). Nothing known
    before that game's tip may use it; later games of the day may (it precedes their tips)."""
    first = min(range(len(playing)), key=lambda gi: (playing[gi].tip_utc, playing[gi].nba_game_id))
    rows = np.flatnonzero((result.group // 2 == first) & (report.status[result.player] == lg.STATUS_NONE))
    if len(rows) == 0:  # pragma: no cover - a game always has unlisted players
        return None
    top = rows[np.lexsort((result.player[rows], -result.minutes[rows]))[0]]
    i = int(result.player[top])
    status, part, back = report.status.copy(), report.part.copy(), report.return_day.copy()
    status[i], part[i], back[i] = lg.STATUS_OUT, lg.BODY_PARTS.index("ankle"), (day + timedelta(days=1)).toordinal()
    in_game = lg.DayReport(status=status, plays=report.plays, rest=report.rest, return_day=back, part=part)
    return playing[first].tip_utc + POST_TIP_REPORT_DELAY, in_game
