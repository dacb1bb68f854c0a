"""Simulated regular-season schedule: 1,230 games, 82 per team (41 home), realistic tip times.

Construction (deterministic given the generator):
- Match-ups: every ordered pair once (a double round robin: 58 games per team, 29 home) plus 12 rounds of
  a 1-factorisation of the 30 teams played twice with the home side swapped (24 games, 12 home). Every team
  ends on exactly 82 games, 41 at home.
- Game days: every day from opening night to `regular_season_end` except Thanksgiving, Christmas Eve, the
  All-Star break (Friday to Tuesday around the third Sunday of February) and two quiet days: 165 days.
- Days are filled greedily with a per-day target (weekday profile, two games on opening night, five on
  Christmas). Teams that are behind their pace are preferred; a penalty on back-to-backs and a ban on
  three games in three days give ~15 back-to-backs per team, like the real league. No team plays twice a day.
- Tip times follow the home team's time zone (19:00-22:30 ET); some weekend games tip in the afternoon.
- Postponements: ~3 games keep their original date with status PPD; each gets a make-up game with a new
  game id on a later day when both teams are free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from nba_props import seasons
from nba_props.lib import identity

N_TEAMS = len(identity.TEAMS)
GAMES_PER_TEAM = 82
EXTRA_ROUNDS = 12  # rounds of the 1-factorisation played twice: 58 + 2 * 12 = 82
TARGET_BACK_TO_BACKS = 15.0  # per team and season (2024-25: 13-17, mean 15)
BACK_TO_BACK_PENALTY = 0.1  # base score penalty of a back-to-back
BACK_TO_BACK_FEEDBACK = 0.1  # extra penalty per back-to-back above the team's pro-rata target
N_POSTPONED = 3
N_QUIET_DAYS = 2
MAKEUP_MIN_GAP_DAYS = 10

# Home-team time zone -> (ET tip times, probabilities). Afternoon slots are for weekends and holidays.
_EASTERN = ("ATL", "BOS", "BKN", "CHA", "CLE", "DET", "IND", "MIA", "NYK", "ORL", "PHI", "TOR", "WAS")
_CENTRAL = ("CHI", "DAL", "HOU", "MEM", "MIL", "MIN", "NOP", "OKC", "SAS")
_MOUNTAIN = ("DEN", "UTA", "PHX")
_PACIFIC = ("GSW", "LAC", "LAL", "POR", "SAC")
_EVENING_SLOTS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "eastern": (("19:00", "19:30", "20:00"), (0.48, 0.42, 0.10)),
    "central": (("19:30", "20:00", "20:30"), (0.15, 0.70, 0.15)),
    "mountain": (("21:00", "21:30", "22:00"), (0.70, 0.15, 0.15)),
    "pacific": (("22:00", "22:30"), (0.65, 0.35)),
}
_AFTERNOON_SLOTS = ("12:00", "13:00", "15:00", "15:30", "17:00", "18:00")
_AFTERNOON_SHARE = 0.2  # of weekend / holiday games
_WEEKDAY_WEIGHT = (1.00, 0.95, 1.25, 0.80, 1.20, 1.00, 0.85)  # Mon .. Sun


def _zone(tricode: str) -> str:
    if tricode in _EASTERN:
        return "eastern"
    if tricode in _CENTRAL:
        return "central"
    if tricode in _MOUNTAIN:
        return "mountain"
    return "pacific"


@dataclass(frozen=True)
class Game:
    """One schedule entry. A postponed game keeps its date; its make-up is a separate entry."""

    nba_game_id: str
    game_date: date  # ET date
    tip_utc: datetime  # aware, UTC
    home: int  # index into identity.TEAMS
    away: int
    postponed: bool = False
    makeup_of: str | None = None  # nba_game_id of the postponed original

    @property
    def home_team(self) -> identity.Team:
        return identity.TEAMS[self.home]

    @property
    def away_team(self) -> identity.Team:
        return identity.TEAMS[self.away]

    @property
    def game_id(self) -> str:
        return identity.canonical_game_id(self.game_date, self.away_team.tricode, self.home_team.tricode)

    @property
    def tip_et(self) -> datetime:
        return self.tip_utc.astimezone(seasons.GAME_TZ)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def game_days(label: str, rng: np.random.Generator) -> list[date]:
    """Dates between opening night and the end of the regular season that host games."""
    s = seasons.season(label)
    year = s.start_year
    all_days = [s.opening_night + timedelta(days=i) for i in range((s.regular_season_end - s.opening_night).days + 1)]
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    all_star_sunday = _nth_weekday(year + 1, 2, 6, 3)
    off = {thanksgiving, date(year, 12, 24)}
    off.update(all_star_sunday + timedelta(days=k) for k in range(-2, 3))
    # Two quiet days (no games) in November-March, never next to another off day.
    candidates = [
        d for d in all_days[14:-14] if d not in off and all(d + timedelta(days=k) not in off for k in (-1, 1))
    ]
    quiet = rng.choice(len(candidates), size=N_QUIET_DAYS, replace=False)
    off.update(candidates[int(i)] for i in sorted(quiet))
    return [d for d in all_days if d not in off]


def _matchups(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(home, away) team indices of the 1,230 games (unordered; days are assigned later)."""
    home, away = [], []
    for h in range(N_TEAMS):
        for a in range(N_TEAMS):
            if h != a:
                home.append(h)
                away.append(a)
    # Circle-method 1-factorisation of K30 over a shuffled team order: 29 perfect matchings.
    order = rng.permutation(N_TEAMS)
    n = N_TEAMS - 1
    rounds = []
    for r in range(n):
        pairs = [(n, r)] + [((r + i) % n, (r - i) % n) for i in range(1, N_TEAMS // 2)]
        rounds.append([(int(order[a]), int(order[b])) for a, b in pairs])
    for r in sorted(rng.choice(n, size=EXTRA_ROUNDS, replace=False).tolist()):
        for a, b in rounds[r]:
            home += [a, b]
            away += [b, a]
    return np.array(home, dtype=np.int64), np.array(away, dtype=np.int64)


def _day_targets(days: list[date], total: int, label: str) -> np.ndarray:
    year = seasons.season(label).start_year
    christmas = date(year, 12, 25)
    weights = np.array([_WEEKDAY_WEIGHT[d.weekday()] for d in days], dtype=np.float64)
    fixed = np.zeros(len(days))
    fixed[0] = 2  # opening night: two national-TV games
    for i, d in enumerate(days):
        if d == christmas:
            fixed[i] = 5
    free = fixed == 0
    weights[~free] = 0.0
    target = fixed.copy()
    target[free] = weights[free] * (total - fixed.sum()) / weights[free].sum()
    return target


def _assign_days(
    days: list[date], home: np.ndarray, away: np.ndarray, label: str, rng: np.random.Generator
) -> np.ndarray:
    """Day index of every game; greedy, pace-driven, no team twice a day, no three games in three days."""
    n_games = len(home)
    day_of = np.full(n_games, -1, dtype=np.int64)
    ordinals = np.array([d.toordinal() for d in days], dtype=np.int64)
    targets = _day_targets(days, n_games, label)
    remaining = np.ones(n_games, dtype=bool)
    team_left = np.full(N_TEAMS, GAMES_PER_TEAM, dtype=np.float64)
    played_on: list[set[int]] = [set() for _ in range(N_TEAMS)]  # ordinals
    b2b_count = np.zeros(N_TEAMS)
    carry = 0.0
    for k, ordinal in enumerate(ordinals):
        days_left = len(days) - k
        want = targets[k] + carry
        n_today = int(min(N_TEAMS // 2, max(1, round(want))))
        cand = np.flatnonzero(remaining)
        urgency = team_left / days_left
        yesterday = np.array([ordinal - 1 in p for p in played_on])
        two_days = yesterday & np.array([ordinal - 2 in p for p in played_on])
        h, a = home[cand], away[cand]
        score = urgency[h] + urgency[a] + rng.normal(0.0, 0.12, len(cand))
        b2b_pen = BACK_TO_BACK_PENALTY + BACK_TO_BACK_FEEDBACK * (b2b_count - TARGET_BACK_TO_BACKS * k / len(days))
        score -= b2b_pen[h] * yesterday[h] + b2b_pen[a] * yesterday[a]
        score += 5.0 * ((urgency[h] >= 1.0) | (urgency[a] >= 1.0))
        score -= 50.0 * (two_days[h] | two_days[a])
        busy = np.zeros(N_TEAMS, dtype=bool)
        taken = 0
        for idx in np.argsort(-score, kind="stable"):
            if taken >= n_today:
                break
            g = cand[idx]
            if busy[home[g]] or busy[away[g]] or score[idx] < -10.0:
                continue
            busy[home[g]] = busy[away[g]] = True
            day_of[g] = k
            remaining[g] = False
            team_left[home[g]] -= 1
            team_left[away[g]] -= 1
            played_on[home[g]].add(int(ordinal))
            played_on[away[g]].add(int(ordinal))
            b2b_count[home[g]] += yesterday[home[g]]
            b2b_count[away[g]] += yesterday[away[g]]
            taken += 1
        carry = want - taken
    # Repair: any game left over goes on the latest day where both teams are free (fewest new back-to-backs).
    for g in np.flatnonzero(remaining):
        best, best_cost = -1, None
        for k in range(len(days) - 1, -1, -1):
            o = int(ordinals[k])
            th, ta = played_on[home[g]], played_on[away[g]]
            if o in th or o in ta:
                continue
            cost = sum(
                (o - 1 in t)
                + (o + 1 in t)
                + 100 * ((o - 2 in t and o - 1 in t) or (o + 1 in t and o + 2 in t))
                + 100 * (o - 1 in t and o + 1 in t)
                for t in (th, ta)
            )
            if best_cost is None or cost < best_cost:
                best, best_cost = k, cost
                if cost == 0:
                    break
        day_of[g] = best
        played_on[home[g]].add(int(ordinals[best]))
        played_on[away[g]].add(int(ordinals[best]))
    return day_of


def _tip_et(d: date, home_tricode: str, holiday: bool, rng: np.random.Generator) -> time:
    afternoon_ok = d.weekday() >= 5 or holiday
    if afternoon_ok and rng.random() < _AFTERNOON_SHARE:
        slots = _AFTERNOON_SLOTS[2:] if _zone(home_tricode) == "pacific" else _AFTERNOON_SLOTS
        chosen = slots[int(rng.integers(len(slots)))]
    else:
        slots, probs = _EVENING_SLOTS[_zone(home_tricode)]
        chosen = slots[int(rng.choice(len(slots), p=np.array(probs)))]
    hh, mm = chosen.split(":")
    return time(int(hh), int(mm))


def _to_utc(d: date, t: time) -> datetime:
    return datetime.combine(d, t, tzinfo=seasons.GAME_TZ).astimezone(UTC)


def game_id_prefix(label: str) -> str:
    """'0022400' for 2024-25: league 00, regular season 2, two-digit start year."""
    return f"002{seasons.parse_label(label) % 100:02d}"


def build_schedule(label: str, rng: np.random.Generator) -> list[Game]:
    """The full regular season, sorted by (date, tip, home), postponements and make-ups included."""
    days = game_days(label, rng)
    home, away = _matchups(rng)
    perm = rng.permutation(len(home))  # no dependence on construction order
    home, away = home[perm], away[perm]
    day_of = _assign_days(days, home, away, label, rng)
    year = seasons.season(label).start_year
    holidays = {date(year, 12, 25), date(year + 1, 1, 1), _nth_weekday(year + 1, 1, 0, 3)}
    tips = []
    for g in range(len(home)):
        d = days[int(day_of[g])]
        tips.append(_tip_et(d, identity.TEAMS[int(home[g])].tricode, d in holidays, rng))
    order = sorted(
        range(len(home)),
        key=lambda g: (int(day_of[g]), tips[g], identity.TEAMS[int(home[g])].tricode),
    )
    prefix = game_id_prefix(label)
    games: list[Game] = []
    for seq, g in enumerate(order, start=1):
        d = days[int(day_of[g])]
        games.append(
            Game(
                nba_game_id=f"{prefix}{seq:05d}",
                game_date=d,
                tip_utc=_to_utc(d, tips[g]),
                home=int(home[g]),
                away=int(away[g]),
            )
        )
    return _postpone(games, days, holidays, rng)


def _postpone(games: list[Game], days: list[date], holidays: set[date], rng: np.random.Generator) -> list[Game]:
    """Mark N_POSTPONED games PPD (distinct dates, mid-season) and add their make-ups."""
    n_days = len(days)
    lo, hi = days[int(n_days * 0.15)], days[int(n_days * 0.80)]
    pool = [i for i, g in enumerate(games) if lo <= g.game_date <= hi]
    chosen: list[int] = []
    for i in rng.permutation(len(pool)).tolist():
        gi = pool[i]
        if all(abs((games[gi].game_date - games[c].game_date).days) > 14 for c in chosen):
            chosen.append(gi)
        if len(chosen) == N_POSTPONED:
            break
    chosen.sort()
    playing: dict[int, set[date]] = {t: set() for t in range(N_TEAMS)}
    for g in games:
        playing[g.home].add(g.game_date)
        playing[g.away].add(g.game_date)
    out = list(games)
    next_seq = len(games) + 1
    prefix = games[0].nba_game_id[:5]
    makeups: list[Game] = []
    for gi in chosen:
        orig = games[gi]
        out[gi] = Game(orig.nba_game_id, orig.game_date, orig.tip_utc, orig.home, orig.away, postponed=True)
        teams = (orig.home, orig.away)
        later = [d for d in days if d >= orig.game_date + timedelta(days=MAKEUP_MIN_GAP_DAYS)]

        def cost(d: date) -> int:
            """Back-to-backs the make-up creates; +99 for three games in three days, 999 when a team is busy."""
            total = 0
            for t in teams:  # noqa: B023 (called within this iteration only)
                busy = [d + timedelta(days=k) in playing[t] for k in (-2, -1, 0, 1, 2)]
                if busy[2]:
                    return 999
                three_in_three = (busy[0] and busy[1]) or (busy[1] and busy[3]) or (busy[3] and busy[4])
                total += busy[1] + busy[3] + 99 * three_in_three
            return total

        costs = [(cost(d), d) for d in later if d not in holidays]
        day = next((d for c, d in costs if c == 0), None)
        if day is None and costs:
            best = min(c for c, _ in costs)
            day = next(d for c, d in costs if c == best) if best < 999 else None
        if day is None:  # pragma: no cover - a full season always has room
            continue
        for t in teams:
            playing[t].add(day)
        tip = _tip_et(day, identity.TEAMS[orig.home].tricode, False, rng)
        makeups.append(
            Game(
                nba_game_id=f"{prefix}{next_seq:05d}",
                game_date=day,
                tip_utc=_to_utc(day, tip),
                home=orig.home,
                away=orig.away,
                makeup_of=orig.nba_game_id,
            )
        )
        next_seq += 1
    out.extend(makeups)
    out.sort(key=lambda g: (g.game_date, g.tip_utc, g.home_team.tricode))
    return out
