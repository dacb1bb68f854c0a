"""Simulated sportsbook market: points (and some rebounds / assists) lines, books, ladders, line moves.

The market's estimate of a player's points, from information available at capture time:

    expected minutes  (the rotation's base minutes rescaled to 240 given the injury report: players listed
                       Out / Doubtful / Questionable count with their probability of playing; times the
                       player's observed ratio of actual to such expected minutes, shrunk to 1 with
                       MINUTES_PRIOR minutes: blowouts and coaches' habits are learned from the box scores)
  x scoring rate      (0.75 x season points-per-minute shrunk to a pre-season projection (6% error) with
                       300 minutes of weight + 0.25 x last-10-games rate shrunk to the season rate with
                       120 minutes)
  x usage bump        (teammates expected out, same formula as the league)
  x home court x pace (both teams)

The late snapshot (17:00 ET, or an hour before the day's earliest tip, so every game gets one) uses the
day's injury report and the "sharp money" move: a noisy read of the gap between that estimate and the
player's true current expectation (talent and form, relative to the rest of the board), taken with the
weight a Bayesian would give it (SHARP_WEIGHT = var(gap) / var(read)), at most MAX_LATE_MOVE points. The
move is an efficient update of the centre: what is left of the gap after it is uncorrelated with it.
Measured on seed 7's full season, betting the direction of draftkings' open-to-late line change at its
late line and price: 8,254 bets, HR 47.8%, ROI -7.1% (the opposite side ~52%, about break-even after the
vig; the half-point rounding of a moved line overshoots its centre). Before this change the move went a
fixed 35% of the way and the same bet won 52.4%, ROI +2.6% (5,686 bets): an undocumented edge through
`line_move`. Lines are conditional on the player playing.

THE DOCUMENTED INEFFICIENCY: the market never prices the opponent's defence (a +-6.5% factor on points in
the league model) nor back-to-back fatigue (-6% on the second night). Those two features predict
over / under beyond the line; everything else the market prices. Everything is small on purpose: lines
stay within ~1 point of the truth-ish expectation, MAE vs actual ~5 points, over rate ~50%.

Books: six post one main line per player (x.5 mostly, ~5% whole numbers), prices from the book's own
normal approximation plus a vig (~5%); bovada (5-9 rungs) and betrivers (4-6 rungs) post alternate-line
ladders at 1-point steps around their main line (rungs priced beyond ~+-730 are dropped). Not every book
prices every player; only the top 6-9 scorers of a team by expected points with >= MIN_EXPECTED_MINUTES
get lines (~7.4 per team-game). Players listed Questionable / Day-To-Day are posted late only, if at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nba_props.sim import league as lg

MAIN_BOOKS = ("draftkings", "fanduel", "betmgm", "williamhill_us", "fanatics", "betonlineag")
LADDER_BOOKS = ("bovada", "betrivers")
BOOKS = MAIN_BOOKS + LADDER_BOOKS
BOOK_COVERAGE = np.array([0.93, 0.91, 0.90, 0.88, 0.90, 0.82, 0.90, 0.62])
BOOK_OVERROUND = np.array([0.050, 0.055, 0.055, 0.050, 0.055, 0.045, 0.070, 0.065])
BOOK_NOISE_SD = 0.30  # points, per book and player-game (persistent across the day's snapshots)
WHOLE_LINE_P = 0.05  # main lines on a whole number (pushes possible)
LADDER_RUNGS = {"bovada": ((2, 4), (2, 4)), "betrivers": ((1, 2), (2, 3))}  # (below range, above range)
LADDER_PRICE_STEP = {"bovada": 5, "betrivers": 1}
LADDER_MIN_P = 0.12  # rungs priced beyond ~-730 / +730 are not posted
SIDE_MARKET_BOOKS = ("draftkings", "fanduel", "betmgm", "fanatics")  # post player_rebounds / player_assists
SIDE_MARKET_COVERAGE = 0.7

# Lines sit at the median, below the (right-skewed) mean: shift = base + per_point * expectation.
LINE_SHIFT_BASE, LINE_SHIFT_PER_POINT = 0.1, 0.063
SHARP_WEIGHT = 0.35
MAX_LATE_MOVE = 1.5
PRIOR_MINUTES, RECENT_PRIOR_MINUTES, SEASON_WEIGHT = 300.0, 120.0, 0.75
MINUTES_PRIOR = 150.0
N_RECENT = 10
MIN_EXPECTED_MINUTES = 14.0
LINES_PER_TEAM = (6, 9)  # inclusive
LATE_ONLY_P = 0.03  # players books only post in the late snapshot
LATE_QUESTIONABLE_POST_P = 0.6


@dataclass
class DayDraws:
    """Per-day randomness shared by the day's snapshots (drawn for every player: no order dependence)."""

    presence: np.ndarray  # (P, n_books) bool
    noise: np.ndarray  # (P, n_books) points
    whole: np.ndarray  # (P, n_books) bool
    ladder: np.ndarray  # (P, 2 ladder books, 2) rungs below / above
    side_presence: np.ndarray  # (P, n_side_books, 2 markets)
    side_noise: np.ndarray  # (P, 2 markets)
    late_only: np.ndarray  # (P,) bool
    late_questionable_post: np.ndarray  # (P,) bool
    n_lines: np.ndarray  # (n_teams,) lines per team today
    sharp_read: np.ndarray  # (P,) standard normal: the noise of the sharp money's read of the gap


def day_draws(n_players: int, rng: np.random.Generator) -> DayDraws:
    ladder = np.empty((n_players, len(LADDER_BOOKS), 2), dtype=np.int64)
    for b, book in enumerate(LADDER_BOOKS):
        (blo, bhi), (alo, ahi) = LADDER_RUNGS[book]
        ladder[:, b, 0] = rng.integers(blo, bhi + 1, n_players)
        ladder[:, b, 1] = rng.integers(alo, ahi + 1, n_players)
    return DayDraws(
        presence=rng.random((n_players, len(BOOKS))) < BOOK_COVERAGE,
        noise=rng.normal(0.0, BOOK_NOISE_SD, (n_players, len(BOOKS))),
        whole=rng.random((n_players, len(BOOKS))) < WHOLE_LINE_P,
        ladder=ladder,
        side_presence=rng.random((n_players, len(SIDE_MARKET_BOOKS), 2)) < SIDE_MARKET_COVERAGE,
        side_noise=rng.normal(0.0, 0.25, (n_players, 2)),
        late_only=rng.random(n_players) < LATE_ONLY_P,
        late_questionable_post=rng.random(n_players) < LATE_QUESTIONABLE_POST_P,
        n_lines=rng.integers(LINES_PER_TEAM[0], LINES_PER_TEAM[1] + 1, lg.N_TEAMS),
        sharp_read=rng.standard_normal(n_players),
    )


@dataclass
class Tallies:
    """What the market (and any model) can see of past games: season and recent points / minutes."""

    pts: np.ndarray
    minutes: np.ndarray
    alloc_minutes: np.ndarray  # the market's pre-game allocation for the same games (minutes ratio)
    recent_pts: np.ndarray  # (P, N_RECENT), newest last
    recent_min: np.ndarray

    @classmethod
    def empty(cls, n: int) -> Tallies:
        z = np.zeros(n)
        return cls(z.copy(), z.copy(), z.copy(), np.zeros((n, N_RECENT)), np.zeros((n, N_RECENT)))

    def add(self, players: np.ndarray, pts: np.ndarray, minutes: np.ndarray, alloc: np.ndarray) -> None:
        self.pts[players] += pts
        self.minutes[players] += minutes
        self.alloc_minutes[players] += alloc
        self.recent_pts[players] = np.column_stack([self.recent_pts[players, 1:], pts])
        self.recent_min[players] = np.column_stack([self.recent_min[players, 1:], minutes])

    def market_rate(self, prior: np.ndarray) -> np.ndarray:
        season = (self.pts + PRIOR_MINUTES * prior) / (self.minutes + PRIOR_MINUTES)
        recent = (self.recent_pts.sum(1) + RECENT_PRIOR_MINUTES * season) / (
            self.recent_min.sum(1) + RECENT_PRIOR_MINUTES
        )
        return SEASON_WEIGHT * season + (1.0 - SEASON_WEIGHT) * recent

    def minutes_ratio(self) -> np.ndarray:
        return (self.minutes + MINUTES_PRIOR) / (self.alloc_minutes + MINUTES_PRIOR)


@dataclass
class Estimates:
    """The market's view of every roster player of the games in a snapshot."""

    player: np.ndarray
    game: np.ndarray  # index into the snapshot's game list
    team: np.ndarray
    opp: np.ndarray
    is_home: np.ndarray
    alloc_minutes: np.ndarray  # allocation given the report, before the player's observed minutes ratio
    exp_minutes: np.ndarray
    points: np.ndarray  # market expectation (after the sharp move in the late snapshot)
    rebounds: np.ndarray
    assists: np.ndarray


def estimate(roster: lg.Roster, games: list[tuple[int, int]], status: np.ndarray, tallies: Tallies,
             pace: np.ndarray, form: np.ndarray, sharp_read: np.ndarray | None = None) -> Estimates:  # fmt: skip
    """Market expectations for every player on the rosters of `games` ((home, away) team pairs).

    `sharp_read` (standard normals per player, `DayDraws.sharp_read`) applies the late sharp move."""
    players, grp, team, opp, is_home = lg.participants(roster, games)
    n_groups = 2 * len(games)
    present = lg.PLAY_P[status[players]] * lg.PARTICIPATION[roster.role[players]]
    # Lines are conditional on the player playing: his own weight is 1, teammates count with their
    # probability of playing (one-step cap: a star's minutes stop at his cap).
    weight = roster.base_min[players] * present
    own = roster.base_min[players] * lg.PARTICIPATION[roster.role[players]]
    denom = np.bincount(grp, weight, n_groups)[grp] - weight + own
    alloc = np.minimum(roster.cap[players], own * lg.TEAM_MINUTES / denom)
    exp_min = alloc * tallies.minutes_ratio()[players]
    context = lg.expected_points_factors(roster, pace, players, team, opp, is_home)
    usage = lg.usage_bump(roster, players, grp, n_groups, present, exclude_self=True)
    rate = tallies.market_rate(roster.prior_ppm)[players]
    points = exp_min * rate * usage * context
    if sharp_read is not None:
        # Sharp money: relative to the rest of the board (the day's median gap is removed, so the move
        # carries player-specific information, never a market-wide drift). It reads the gap with noise
        # of variance var(gap) (1 - w) / w and moves w of the read: E[gap | move] = move (efficient).
        truth = exp_min * roster.ppm[players] * np.exp(form[players]) * usage * context
        valid = (points > 0) & (truth > 0)
        gap = np.zeros(len(points))
        gap[valid] = np.log(truth[valid] / points[valid])
        if valid.any():
            gap[valid] -= np.median(gap[valid])
        noise_sd = np.sqrt(gap[valid].var() * (1.0 - SHARP_WEIGHT) / SHARP_WEIGHT) if valid.sum() > 1 else 0.0
        read = np.where(valid, gap + noise_sd * sharp_read[players], 0.0)
        moved = points * np.exp(SHARP_WEIGHT * read)
        points = points + np.clip(moved - points, -MAX_LATE_MOVE, MAX_LATE_MOVE)
    return Estimates(
        player=players,
        game=grp // 2,
        team=team,
        opp=opp,
        is_home=is_home,
        alloc_minutes=alloc,
        exp_minutes=exp_min,
        points=points,
        rebounds=exp_min * (roster.reb_o + roster.reb_d)[players],
        assists=exp_min * roster.ast[players],
    )


def posted(est: Estimates, status: np.ndarray, draws: DayDraws, late: bool) -> np.ndarray:
    """Mask of the players books post in this snapshot (top 7-9 per team by expected points)."""
    st = status[est.player]
    ok = est.exp_minutes >= MIN_EXPECTED_MINUTES
    clean = (st == lg.STATUS_NONE) | (st == lg.STATUS_PROBABLE)
    if late:
        doubt = (st == lg.STATUS_QUESTIONABLE) | (st == lg.STATUS_DTD)
        ok &= clean | (doubt & draws.late_questionable_post[est.player])
    else:
        ok &= clean & ~draws.late_only[est.player]
    # rank within team-game by expected points among eligible players
    key = np.where(ok, est.points, -1.0)
    grp = est.game * 2 + (~est.is_home)
    order = np.lexsort((-key, grp))
    rank = np.empty(len(key), dtype=np.int64)
    starts = np.searchsorted(grp[order], np.arange(grp.max() + 1 if len(grp) else 0))
    rank[order] = np.arange(len(key)) - starts[grp[order]]
    return ok & (rank < draws.n_lines[est.team])


def _phi(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7; vectorised, deterministic)."""
    z = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf_abs = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.sign(x) * erf_abs)


def american(q: np.ndarray, step: int = 1) -> np.ndarray:
    """Implied probability (with vig) -> American odds, rounded to `step`."""
    q = np.clip(q, 0.03, 0.97)
    odds = np.where(q >= 0.5, -100.0 * q / (1.0 - q), 100.0 * (1.0 - q) / q)
    odds = np.rint(odds / step) * step
    return np.where(np.abs(odds) < 100, np.where(q >= 0.5, -100.0, 100.0), odds)


def prices(line: np.ndarray, center: np.ndarray, sd: np.ndarray, overround: np.ndarray,
           step: int = 1) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    p_over = 1.0 - _phi((line - center) / sd)
    return american(p_over * (1.0 + overround), step), american((1.0 - p_over) * (1.0 + overround), step)


@dataclass
class SnapshotLines:
    """Rows of one snapshot (book level) plus each posted player's consensus points line."""

    game: np.ndarray
    player: np.ndarray
    market: np.ndarray  # 0 points, 1 rebounds, 2 assists
    book: np.ndarray
    line: np.ndarray
    over: np.ndarray
    under: np.ndarray
    consensus_game: np.ndarray
    consensus_player: np.ndarray
    consensus_line: np.ndarray
    consensus_expected: np.ndarray


MARKETS = ("player_points", "player_rebounds", "player_assists")


def lines(est: Estimates, mask: np.ndarray, draws: DayDraws) -> SnapshotLines:
    idx = np.flatnonzero(mask)
    p = est.player[idx]
    center_pts = est.points[idx] * (1.0 - LINE_SHIFT_PER_POINT) - LINE_SHIFT_BASE
    sd_pts = 1.5 + 0.3 * est.points[idx]
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("game", "player", "market", "book", "line", "over", "under")}

    def emit(rows: np.ndarray, market: int, book: int, line: np.ndarray, over: np.ndarray, under: np.ndarray):
        out["game"].append(est.game[idx][rows])
        out["player"].append(p[rows])
        out["market"].append(np.full(len(rows), market))
        out["book"].append(np.full(len(rows), book))
        out["line"].append(line)
        out["over"].append(over)
        out["under"].append(under)

    main_lines = np.full((len(idx), len(BOOKS)), np.nan)
    for b, book in enumerate(BOOKS):
        has = draws.presence[p, b]
        c = center_pts + draws.noise[p, b]
        half = np.floor(c) + 0.5
        if book in MAIN_BOOKS:
            line = np.where(draws.whole[p, b], np.rint(c), half)
            line = np.maximum(line, 0.5)
            rows = np.flatnonzero(has)
            over, under = prices(line[rows], c[rows], sd_pts[rows], BOOK_OVERROUND[b])
            emit(rows, 0, b, line[rows], over, under)
            main_lines[rows, b] = line[rows]
        else:
            lb = LADDER_BOOKS.index(book)
            rows = np.flatnonzero(has)
            below = draws.ladder[p[rows], lb, 0]
            above = draws.ladder[p[rows], lb, 1]
            main = np.maximum(half[rows], 0.5)
            main_lines[rows, b] = main
            n_rungs = below + above + 1
            rr = np.repeat(np.arange(len(rows)), n_rungs)
            offset = np.arange(len(rr)) - np.repeat(np.cumsum(n_rungs) - n_rungs, n_rungs) - np.repeat(below, n_rungs)
            rung_line = main[rr] + offset
            src = rows[rr]
            p_over = 1.0 - _phi((rung_line - c[src]) / sd_pts[src])
            keep = (rung_line >= 0.5) & (p_over >= LADDER_MIN_P) & (p_over <= 1.0 - LADDER_MIN_P)
            keep |= offset == 0
            rr, rung_line, src = rr[keep], rung_line[keep], src[keep]
            over, under = prices(rung_line, c[src], sd_pts[src], BOOK_OVERROUND[b], LADDER_PRICE_STEP[book])
            emit(src, 0, b, rung_line, over, under)
    for m, expected in ((1, est.rebounds[idx]), (2, est.assists[idx])):
        c = expected - 0.25 + draws.side_noise[p, m - 1]
        line = np.floor(c) + 0.5
        sd = 1.0 + 0.35 * expected
        for sb, book in enumerate(SIDE_MARKET_BOOKS):
            rows = np.flatnonzero(draws.side_presence[p, sb, m - 1] & (line >= 1.5))
            b = BOOKS.index(book)
            over, under = prices(line[rows], c[rows], sd[rows], BOOK_OVERROUND[b])
            emit(rows, m, b, line[rows], over, under)
    cat = np.concatenate
    any_line = ~np.all(np.isnan(main_lines), axis=1)
    consensus = np.full(len(idx), np.nan)
    consensus[any_line] = np.nanmedian(main_lines[any_line], axis=1)
    empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
    return SnapshotLines(
        game=cat(out["game"]) if out["game"] else empty_i,
        player=cat(out["player"]) if out["player"] else empty_i,
        market=cat(out["market"]) if out["market"] else empty_i,
        book=cat(out["book"]) if out["book"] else empty_i,
        line=cat(out["line"]) if out["line"] else empty_f,
        over=cat(out["over"]) if out["over"] else empty_f,
        under=cat(out["under"]) if out["under"] else empty_f,
        consensus_game=est.game[idx][any_line],
        consensus_player=p[any_line],
        consensus_line=consensus[any_line],
        consensus_expected=est.points[idx][any_line],
    )
