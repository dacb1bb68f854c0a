"""Simulated players and games: rosters, trades, form, injuries, minutes, points and full box-score lines.

Generative model (all multiplicative factors are documented constants below):

- Rosters: 14-15 players per team with roles star / starter / rotation / bench / deep bench. Each player has
  base minutes (share of the 240 team minutes), points per minute, position-driven rebound / assist / shot
  profile. Each team's rates are scaled so its healthy roster expects ~TEAM_POINTS (sd ~4.5 across
  teams). A few 1-for-1 trades of similar players move a player (same PLAYER_ID) to another team.
- Form: a slow AR(1) random walk on log scoring rate (sd ~0.075, ~35-game memory).
- Availability: injuries happen in games (multi-game absences: 1-3 days minor, 4-20 or 21-60 days), a few
  illnesses appear before games; the daily report gives statuses by days left (Out / Doubtful /
  Questionable / Day-To-Day, Probable on the return day). Out never plays; Doubtful 15%, Questionable 50%,
  Day-To-Day 60%, Probable 90%. Stars sometimes rest on the second night of a back-to-back (listed Out).
  Bench players play ~40% and deep-bench ~10% of games (coach's decision), almost always in blowouts;
  the 8 best available players always play.
- Minutes: base minutes of the players who play, scaled to 240 with caps by role (a star absent pushes the
  others up), noise, blowout adjustment (starters -18%, bench and deep bench up) when the margin reaches
  BLOWOUT_MARGIN.
- Points: minutes x rate x exp(form) x usage bump (absent teammates' scoring share) x home court x pace x
  OPPONENT DEFENCE x BACK-TO-BACK FATIGUE, drawn Poisson with a normal night-to-night factor, then
  rescaled (largest remainders) to the team total. The game script comes first: each team's total is
  drawn around the summed expectation (log sd TEAM_TOTAL_SD), its margin decides blowouts and so minutes;
  teammates' points are negatively correlated like real usage and team scores have a realistic spread
  (sd ~12). Ties go to overtime (five more minutes for each team's top five, more points).
- Box line: free throws, threes and twos are drawn so that PTS = 2*FGM + FG3M + FTM holds exactly, attempts
  add misses; the opponent's defence changes efficiency, not volume (attempts are those an average
  defence would allow), so a team's defensive rating (points per 100 opponent possessions) carries it; rebounds, assists, steals, blocks, turnovers, fouls are Poisson per minute; plus-minus sums to
  five times the margin per team.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from nba_props.lib import identity

N_TEAMS = len(identity.TEAMS)
STAR, STARTER, ROTATION, BENCH, DEEP = range(5)
ROLE_NAMES = ("star", "starter", "rotation", "bench", "deep_bench")
ROSTER_TEMPLATE = (STAR, STARTER, STARTER, STARTER, STARTER, ROTATION, ROTATION, ROTATION, ROTATION,
                   BENCH, BENCH, BENCH, DEEP, DEEP, DEEP)  # fmt: skip
SLOT_POSITIONS = ("X", "G", "G", "F", "C", "G", "F", "C", "G", "G", "F", "C", "G", "F", "C")  # X: drawn

# role -> (base minutes mean, sd, points per minute mean, sd, minutes cap)
ROLE_PARAMS = {
    STAR: (36.0, 1.5, 0.78, 0.04, 42.0),
    STARTER: (29.0, 2.5, 0.50, 0.08, 39.0),
    ROTATION: (18.0, 3.0, 0.37, 0.07, 36.0),
    BENCH: (8.0, 2.5, 0.34, 0.07, 30.0),
    DEEP: (4.0, 1.5, 0.30, 0.06, 24.0),
}
TEAM_MINUTES = 240.0
TEAM_POINTS = 111.0  # each team's rates are scaled so a healthy roster expects ~this (log sd TEAM_OFFENCE_SD)
TEAM_OFFENCE_SD = 0.04
PRIOR_NOISE_SD = 0.06  # error of the market's pre-season projection of a player's scoring rate
OT_MINUTES = 5.0

# --- factors of the points model ------------------------------------------------------------------
HOME_FACTOR = 1.015  # home players score 1.5% more, away 1.5% less (the market prices this)
PACE_RANGE = (0.97, 1.03)  # team pace, averaged over the two teams (the market prices this)
DEFENCE_RANGE = (0.935, 1.065)  # opponent factor: 0.935 = best defence (NOT priced by the market)
BACK_TO_BACK_FACTOR = 0.94  # second night of a back-to-back (NOT priced by the market)
USAGE_BUMP = 0.35  # rate x (1 + 0.35 * scoring share of absent teammates) (priced when known)
FORM_RHO, FORM_SD = 0.985, 0.013  # AR(1) per game day on log scoring rate
GAME_NOISE_SD = 0.36  # points ~ Poisson(mu * max(0.05, 1 + GAME_NOISE_SD * z)): over-dispersed, mildly skewed
MINUTES_NOISE = {STAR: 0.09, STARTER: 0.14, ROTATION: 0.22, BENCH: 0.30, DEEP: 0.45}
BLOWOUT_MARGIN = 24  # final margin from which starters sit late (~12% of games)
BLOWOUT_STARTER_MINUTES, BLOWOUT_BENCH_MINUTES = 0.82, 1.6
# Probability an available player gets in the game (coach's decision), normal game / blowout, by role.
PARTICIPATION = np.array([1.0, 1.0, 1.0, 0.40, 0.10])
PARTICIPATION_BLOWOUT = np.array([1.0, 1.0, 1.0, 0.97, 0.90])
MIN_ROTATION = 8  # the 8 best available players always play
TEAM_TOTAL_SD = 0.085  # log sd of the team's total around the players' summed expectation

# --- availability ---------------------------------------------------------------------------------
INJURY_P_PER_GAME = 0.016
ILLNESS_P_PER_DAY = 0.002
REST_P_STAR_B2B = 0.12
N_TRADES = 3
# status code -> (report text, probability of playing)
STATUS_NONE, STATUS_PROBABLE, STATUS_QUESTIONABLE, STATUS_DTD, STATUS_DOUBTFUL, STATUS_OUT = range(6)
STATUS_TEXT = ("", "Probable", "Questionable", "Day-To-Day", "Doubtful", "Out")
PLAY_P = np.array([1.0, 0.9, 0.5, 0.6, 0.15, 0.0])
BODY_PARTS = ("ankle", "knee", "hamstring", "calf", "back", "hip", "foot", "groin", "wrist", "shoulder",
              "quad", "Achilles", "concussion", "finger", "illness")  # fmt: skip


# --- names ------------------------------------------------------------------------------------------
FIRST_NAMES = (
    "Aaron", "Adrian", "Alec", "Andre", "Anthony", "Austin", "Bennett", "Blake", "Brandon", "Brice", "Cade",
    "Caleb", "Cameron", "Carter", "Chris", "Cody", "Colin", "Corey", "Damon", "Darius", "Dante", "Davion",
    "Dean", "Derrick", "Devin", "Dillon", "Dominic", "Donovan", "Dwayne", "Elijah", "Emmett", "Eric", "Ethan",
    "Evan", "Garrett", "Gavin", "Grant", "Hunter", "Isaac", "Isaiah", "Jalen", "Jamal", "Jared", "Jaylen",
    "Jerome", "Jordan", "Josh", "Julian", "Justin", "Kai", "Keegan", "Kendall", "Kevin", "Kobe", "Kyle",
    "Lamar", "Lance", "Landry", "Leon", "Logan", "Lonnie", "Malik", "Marcus", "Mason", "Max", "Miles",
    "Myles", "Nate", "Noah", "Obi", "Omar", "Parker", "Quentin", "Reggie", "Rashad", "Ricky", "Ryan",
    "Scottie", "Seth", "Shane", "Terrence", "Trey", "Tyler", "Tyrese", "Victor", "Wesley", "Xavier", "Zach",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Allen", "Anderson", "Bailey", "Baker", "Barnes", "Bell", "Bennett", "Brooks", "Brown",
    "Bryant", "Butler", "Campbell", "Carter", "Clark", "Coleman", "Collins", "Cooper", "Crawford", "Cunningham",
    "Davis", "Dawson", "Dixon", "Edwards", "Ellis", "Evans", "Fisher", "Fleming", "Foster", "Freeman",
    "Garland", "Gibson", "Gordon", "Graham", "Grant", "Gray", "Green", "Griffin", "Hall", "Hamilton",
    "Harper", "Harris", "Hayes", "Henderson", "Hill", "Holmes", "Howard", "Hughes", "Hunter", "Jackson",
    "James", "Jenkins", "Johnson", "Jones", "Jordan", "Keller", "Kennedy", "King", "Lawson", "Lewis",
    "Lockhart", "Lyons", "Marshall", "Martin", "Mason", "Matthews", "McCoy", "Miller", "Mitchell", "Moore",
    "Morgan", "Morris", "Murphy", "Murray", "Nelson", "Owens", "Palmer", "Parker", "Patterson", "Payne",
    "Perry", "Phillips", "Porter", "Powell", "Price", "Reed", "Reynolds", "Richardson", "Riley", "Roberts",
    "Robinson", "Rogers", "Ross", "Russell", "Sanders", "Shaw", "Simmons", "Spencer", "Stewart", "Sullivan",
    "Taylor", "Thomas", "Thompson", "Tucker", "Turner", "Wade", "Walker", "Wallace", "Warren", "Washington",
    "Watson", "Webb", "Wells", "White", "Whitfield", "Williams", "Wilson", "Wright", "Young",
)  # fmt: skip
# Names with diacritics or characters the normaliser must handle (ø, Ł): a handful per league.
ACCENTED_NAMES = (
    ("Nikola", "Marković"), ("Luka", "Šimunović"), ("Dario", "Vukčević"), ("Bogdan", "Petrović"),
    ("José", "Núñez"), ("Álvaro", "Pérez"), ("Jonas", "Müller"), ("Mikael", "Søndergaard"),
    ("Łukasz", "Kowalczyk"), ("Dāvis", "Bērziņš"), ("Théo", "Lefèvre"), ("Alperen", "Şahin"),
)  # fmt: skip
SUFFIXES = ("Jr.", "II", "III", "Jr.", "Sr.")
COLLEGES = ("Duke", "Kentucky", "Kansas", "UCLA", "Arizona", "Gonzaga", "Villanova", "Michigan", "Baylor",
            "Texas", "Florida", "Houston", "Auburn", "Alabama", "None")  # fmt: skip
COUNTRIES = ("USA",) * 8 + ("Canada", "France", "Australia", "Serbia", "Germany", "Spain", "Nigeria")


@dataclass
class Roster:
    """Per-player arrays (index = player) plus names. `team` changes with trades."""

    player_id: np.ndarray  # NBA.com-like ids
    bdl_id: np.ndarray  # balldontlie ids (a different id space: join by name, as with the real sources)
    first: list[str]
    last: list[str]  # includes the suffix: "Jaquez Jr."
    team: np.ndarray
    role: np.ndarray
    position: list[str]  # balldontlie style: G, F, C, G-F, F-C
    base_min: np.ndarray
    ppm: np.ndarray  # true points per minute
    prior_ppm: np.ndarray  # the market's pre-season projection of ppm
    cap: np.ndarray
    reb_o: np.ndarray
    reb_d: np.ndarray
    ast: np.ndarray
    stl: np.ndarray
    blk: np.ndarray
    tov: np.ndarray
    pf: np.ndarray
    three_share: np.ndarray
    fta_rate: np.ndarray
    ft_pct: np.ndarray
    bio: list[dict] = field(default_factory=list)  # balldontlie extra player fields

    @property
    def n(self) -> int:
        return len(self.player_id)

    def name(self, i: int) -> str:
        """NBA.com display name (accents and suffix kept)."""
        return f"{self.first[i]} {self.last[i]}"


def _ascii(text: str) -> str:
    text = text.replace("ø", "o").replace("Ø", "O").replace("Ł", "L").replace("ł", "l").replace("ı", "i")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def odds_name(roster: Roster, i: int) -> str:
    """The sportsbook spelling: no diacritics, suffix without the period ("Jabari Smith Jr")."""
    return _ascii(roster.name(i)).replace("Jr.", "Jr").replace("Sr.", "Sr")


def bdl_names(roster: Roster, i: int) -> tuple[str, str]:
    """balldontlie first / last name: no diacritics, suffix kept in the last name."""
    return _ascii(roster.first[i]), _ascii(roster.last[i])


def _names(n: int, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """n league-unique names (unique after identity normalisation, so suffixes never disambiguate)."""
    firsts: list[str] = []
    lasts: list[str] = []
    seen: set[str] = set()
    accented = list(ACCENTED_NAMES)
    accent_slots = set(rng.choice(n, size=len(accented), replace=False).tolist())
    suffix_slots = set(rng.choice(n, size=max(6, n // 25), replace=False).tolist()) - accent_slots
    for i in range(n):
        while True:
            if i in accent_slots and accented:
                first, last = accented.pop(0)
            else:
                first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
                last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
            key = identity.normalize_player_name(f"{first} {last}")
            if key not in seen:
                break
        seen.add(key)
        if i in suffix_slots:
            last = f"{last} {SUFFIXES[int(rng.integers(len(SUFFIXES)))]}"
        firsts.append(first)
        lasts.append(last)
    return firsts, lasts


def _ids(n: int, rng: np.random.Generator) -> np.ndarray:
    """NBA-like ids: mostly 7-digit (1626xxx-1642xxx), some 6-digit (20xxxx) and a few 4-digit veterans."""
    pool = np.concatenate([np.arange(1626000, 1643000), np.arange(200750, 204100), np.arange(1500, 2800)])
    weights = np.concatenate([np.full(17000, 0.80 / 17000), np.full(3350, 0.17 / 3350), np.full(1300, 0.03 / 1300)])
    return rng.choice(pool, size=n, replace=False, p=weights).astype(np.int64)


def make_roster(rng: np.random.Generator) -> Roster:
    roles: list[int] = []
    teams: list[int] = []
    slots: list[int] = []
    for t in range(N_TEAMS):
        template = list(ROSTER_TEMPLATE)
        u = rng.random()
        if u < 0.25:
            template[1] = STAR  # two stars
        elif u < 0.45:
            template[0] = STARTER  # no star
        size = 14 if rng.random() < 0.35 else 15
        for s in range(size):
            roles.append(template[s])
            teams.append(t)
            slots.append(s)
    n = len(roles)
    role = np.array(roles, dtype=np.int64)
    slot = np.array(slots, dtype=np.int64)
    params = np.array([ROLE_PARAMS[r] for r in roles])
    base_min = np.clip(rng.normal(params[:, 0], params[:, 1]), 2.0, 38.0)
    ppm = np.clip(rng.normal(params[:, 2], params[:, 3]), 0.18, 1.0)
    team_arr = np.array(teams, dtype=np.int64)
    offence = TEAM_POINTS * np.exp(rng.normal(0.0, TEAM_OFFENCE_SD, N_TEAMS))
    share = base_min * PARTICIPATION[role]
    healthy_minutes = share * (TEAM_MINUTES / np.bincount(team_arr, share, N_TEAMS))[team_arr]
    ppm *= (offence / np.bincount(team_arr, healthy_minutes * ppm, N_TEAMS))[team_arr]
    prior_ppm = ppm * np.exp(rng.normal(0.0, PRIOR_NOISE_SD, n))
    pos_core = []
    for i in range(n):
        p = SLOT_POSITIONS[slot[i]]
        if p == "X":
            p = ("G", "F", "C")[int(rng.choice(3, p=[0.45, 0.4, 0.15]))]
        pos_core.append(p)
    core_idx = np.array(["GFC".index(p) for p in pos_core])
    display = []
    for p in pos_core:
        u = rng.random()
        display.append({"G": "G" if u < 0.7 else "G-F", "F": "F" if u < 0.6 else ("G-F" if u < 0.8 else "F-C"),
                        "C": "C" if u < 0.7 else "F-C"}[p])  # fmt: skip

    def rate(values: tuple[float, float, float], sd: float = 0.2) -> np.ndarray:
        return np.array(values)[core_idx] * np.exp(rng.normal(0.0, sd, n))

    star = (role == STAR).astype(float)
    firsts, lasts = _names(n, rng)
    bio = []
    for i in range(n):
        height_in = int(np.clip(rng.normal((75, 79, 83)[core_idx[i]], 1.5), 70, 88))
        drafted = rng.random() < 0.8
        bio.append(
            {
                "height": f"{height_in // 12}-{height_in % 12}",
                "weight": str(int(np.clip(rng.normal((195, 220, 245)[core_idx[i]], 10), 165, 290))),
                "jersey_number": str(int(rng.integers(0, 100))),
                "college": COLLEGES[int(rng.integers(len(COLLEGES)))],
                "country": COUNTRIES[int(rng.integers(len(COUNTRIES)))],
                "draft_year": int(rng.integers(2012, 2025)) if drafted else None,
                "draft_round": int(rng.integers(1, 3)) if drafted else None,
                "draft_number": int(rng.integers(1, 61)) if drafted else None,
            }
        )
    return Roster(
        player_id=_ids(n, rng),
        bdl_id=rng.choice(np.arange(1, 2_000_000), size=n, replace=False).astype(np.int64),
        first=firsts,
        last=lasts,
        team=team_arr,
        role=role,
        position=display,
        base_min=base_min,
        ppm=ppm,
        prior_ppm=prior_ppm,
        cap=params[:, 4],
        reb_o=rate((0.025, 0.05, 0.10)),
        reb_d=rate((0.11, 0.15, 0.23)),
        ast=rate((0.16, 0.08, 0.07)) * (1 + 0.4 * star),
        stl=rate((0.035, 0.03, 0.025)),
        blk=rate((0.01, 0.02, 0.055)),
        tov=rate((0.05, 0.04, 0.05)) * (1 + 0.5 * star),
        pf=rate((0.065, 0.075, 0.09), 0.1),
        three_share=np.clip(rate((0.42, 0.34, 0.10), 0.3), 0.0, 0.7),
        fta_rate=(0.05 + 0.12 * ppm) * np.exp(rng.normal(0.0, 0.25, n)),
        ft_pct=np.clip(rng.normal(np.array([0.81, 0.77, 0.68])[core_idx], 0.06), 0.45, 0.95),
        bio=bio,
    )


@dataclass(frozen=True)
class Trade:
    day: date
    player_a: int
    player_b: int


def make_trades(roster: Roster, first_day: date, last_day: date, rng: np.random.Generator) -> list[Trade]:
    """N_TRADES 1-for-1 swaps of starters / rotation players between different teams, around the deadline."""
    span = (last_day - first_day).days
    trades = []
    used: set[int] = set()
    eligible = np.flatnonzero((roster.role == STARTER) | (roster.role == ROTATION))
    for k in range(N_TRADES):
        for _ in range(10_000):
            a, b = (int(x) for x in rng.choice(eligible, size=2, replace=False))
            if roster.team[a] != roster.team[b] and roster.role[a] == roster.role[b] and not {a, b} & used:
                break
        else:  # pragma: no cover - 30 teams always have a pair
            raise RuntimeError("no trade pair found")
        used.update((a, b))
        day = first_day + timedelta(days=int(span * (0.55 + 0.03 * k)) + int(rng.integers(0, 4)))
        trades.append(Trade(day, a, b))
    return trades


def allocate_minutes(weight: np.ndarray, group: np.ndarray, n_groups: int, cap: np.ndarray,
                     total: float = TEAM_MINUTES) -> np.ndarray:  # fmt: skip
    """Scale weights to `total` minutes per group with per-player caps (excess goes to uncapped players)."""
    w = np.maximum(weight, 1e-9)
    m = w * (total / np.bincount(group, w, n_groups))[group]
    for _ in range(6):
        over = m > cap
        if not over.any():
            break
        m = np.minimum(m, cap)
        missing = total - np.bincount(group, m, n_groups)
        free = np.where(m < cap - 1e-9, m, 0.0)
        free_sum = np.bincount(group, free, n_groups)
        m = m + free * np.divide(missing, free_sum, out=np.zeros(n_groups), where=free_sum > 0)[group]
    return m


def expected_points_factors(roster: Roster, pace: np.ndarray, players: np.ndarray, team: np.ndarray,
                            opp: np.ndarray, is_home: np.ndarray) -> np.ndarray:  # fmt: skip
    """Factors the market prices: home court and the two teams' pace."""
    home = np.where(is_home, HOME_FACTOR, 1.0 / HOME_FACTOR)
    return home * 0.5 * (pace[team] + pace[opp])


def usage_bump(roster: Roster, players: np.ndarray, group: np.ndarray, n_groups: int, present: np.ndarray,
               exclude_self: bool = False) -> np.ndarray:  # fmt: skip
    """1 + USAGE_BUMP * (expected-points share of the group's non-deep players that are absent).

    `present` is a weight in [0, 1] (probability of playing for the market's view, 0/1 for the game).
    `exclude_self` leaves the player's own absence out (a line is conditional on the player playing).
    """
    base = roster.base_min[players] * roster.ppm[players] * (roster.role[players] != DEEP)
    total = np.bincount(group, base, n_groups)[group]
    missing = np.bincount(group, base * (1.0 - present), n_groups)[group]
    if exclude_self:
        missing = missing - base * (1.0 - present)
    share = np.divide(missing, total, out=np.zeros(len(base)), where=total > 0)
    return 1.0 + USAGE_BUMP * share


THREE_MISS_RATIO, TWO_MISS_RATIO = 1.75, 0.92  # misses per make at an average defence (~36% / ~52%)


def decompose(pts: np.ndarray, minutes: np.ndarray, mu: np.ndarray, players: np.ndarray, roster: Roster,
              rng: np.random.Generator, defence: np.ndarray | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    """Shooting splits and counting stats consistent with PTS = 2*FGM + FG3M + FTM.

    `defence` (the opponent's factor on points, 1 = average) acts on efficiency, not volume: the
    expected field-goal attempts are those of an average defence (mu / defence), and a weak defence
    turns more of them into makes. So points per possession, hence the opponent's defensive rating
    computed from box scores, carries the defence effect.
    """
    pts = pts.astype(np.int64)
    n = len(pts)
    fta = rng.poisson(roster.fta_rate[players] * minutes)
    ftm = np.minimum(rng.binomial(fta, roster.ft_pct[players]), pts)
    rest = pts - ftm
    fg3m = rng.binomial(rest // 3, roster.three_share[players])
    odd = (rest - 3 * fg3m) % 2 == 1
    down = odd & (fg3m > 0) & (rng.random(n) < 0.5)
    up = odd & ~down & (3 * (fg3m + 1) <= rest)
    fg3m = fg3m - down + up
    to_ft = odd & ~down & ~up  # rest == 1 and no three: one more free throw made
    ftm = ftm + to_ft
    fta = np.maximum(fta, ftm)
    fg2m = (pts - ftm - 3 * fg3m) // 2
    eff = np.ones(n) if defence is None else defence
    fg_pts = 0.8 * mu / eff  # the made field-goal points an average defence would allow
    share3 = roster.three_share[players]
    # expected attempts = fg_pts-made x (1 + ratio), whatever the defence; makes scale with it
    fg3a = fg3m + rng.poisson(np.maximum(0.05, (1.0 + THREE_MISS_RATIO - eff) * share3 * fg_pts / 3.0))
    fg2a = fg2m + rng.poisson(np.maximum(0.1, (1.0 + TWO_MISS_RATIO - eff) * (1.0 - share3) * fg_pts / 2.0))
    oreb = rng.poisson(roster.reb_o[players] * minutes)
    dreb = rng.poisson(roster.reb_d[players] * minutes)
    return {
        "FGM": fg2m + fg3m,
        "FGA": fg2a + fg3a,
        "FG3M": fg3m,
        "FG3A": fg3a,
        "FTM": ftm,
        "FTA": fta,
        "OREB": oreb,
        "DREB": dreb,
        "REB": oreb + dreb,
        "AST": rng.poisson(roster.ast[players] * minutes),
        "STL": rng.poisson(roster.stl[players] * minutes),
        "BLK": rng.poisson(roster.blk[players] * minutes),
        "TOV": rng.poisson(roster.tov[players] * minutes),
        "PF": np.minimum(rng.poisson(roster.pf[players] * minutes), 6),
    }


def plus_minus(group_margin: np.ndarray, minutes: np.ndarray, group: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Integer plus-minus per player; per team-game it sums exactly to five times the team's margin."""
    n_groups = len(group_margin)
    total_min = np.bincount(group, minutes, n_groups)
    share = minutes / total_min[group]
    noise = rng.normal(0.0, 5.0, len(minutes)) * np.sqrt(minutes / 48.0)
    noise -= share * np.bincount(group, noise, n_groups)[group]
    value = 5.0 * group_margin[group] * share + noise
    base = np.floor(value).astype(np.int64)
    frac = value - base
    need = 5 * group_margin.astype(np.int64) - np.bincount(group, base, n_groups).round().astype(np.int64)
    order = np.lexsort((-frac, group))
    starts = np.searchsorted(group[order], np.arange(n_groups))
    rank = np.empty(len(value), dtype=np.int64)
    rank[order] = np.arange(len(value)) - starts[group[order]]
    return base + (rank < need[group])


def round_to_totals(values: np.ndarray, group: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Scale non-negative values so each group sums to its integer total; largest remainders round."""
    n_groups = len(totals)
    sums = np.bincount(group, values, n_groups)
    scale = np.divide(totals, sums, out=np.zeros(n_groups), where=sums > 0)
    value = values * scale[group]
    base = np.floor(value).astype(np.int64)
    need = np.where(sums > 0, totals - np.bincount(group, base, n_groups).round().astype(np.int64), 0)
    order = np.lexsort((-(value - base), group))
    starts = np.searchsorted(group[order], np.arange(n_groups))
    rank = np.empty(len(value), dtype=np.int64)
    rank[order] = np.arange(len(value)) - starts[group[order]]
    return base + (rank < need[group])


def participants(roster: Roster, games: list[tuple[int, int]]):
    """Every roster player of the (home, away) games: player, team-game group (2g home, 2g+1 away), team,
    opponent, is_home."""
    players, grp, team, opp, is_home = [], [], [], [], []
    for g, (home, away) in enumerate(games):
        for side, (t, o) in enumerate(((home, away), (away, home))):
            members = np.flatnonzero(roster.team == t)
            players.append(members)
            grp.append(np.full(len(members), 2 * g + side, dtype=np.int64))
            team.append(np.full(len(members), t, dtype=np.int64))
            opp.append(np.full(len(members), o, dtype=np.int64))
            is_home.append(np.full(len(members), side == 0))
    if not players:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e, e, np.zeros(0, dtype=bool)
    cat = np.concatenate
    return cat(players), cat(grp), cat(team), cat(opp), cat(is_home)


@dataclass
class DayReport:
    """The day's injury report and who will actually play (decided when the report is made)."""

    status: np.ndarray  # status code per player (STATUS_NONE when not listed)
    plays: np.ndarray  # bool per player: available to play today
    rest: np.ndarray  # bool: listed Out for rest (not injured)
    return_day: np.ndarray  # ordinal of the expected return (0 when not injured)
    part: np.ndarray  # index into BODY_PARTS (-1 when none)


@dataclass
class DayGames:
    """Box-score rows of one day, one per player who played, plus team scores per team-game group."""

    player: np.ndarray
    group: np.ndarray  # 2g home, 2g+1 away (g indexes the day's played games)
    team: np.ndarray
    opp: np.ndarray
    is_home: np.ndarray
    minutes: np.ndarray
    pts: np.ndarray
    stats: dict[str, np.ndarray]
    score: np.ndarray  # per group
    overtimes: np.ndarray  # per game


class LeagueState:
    """Everything that evolves day by day: team of each player, form, injuries, records."""

    def __init__(self, roster: Roster, rng: np.random.Generator):
        self.roster = roster
        n = roster.n
        self.defence = rng.permutation(np.linspace(*DEFENCE_RANGE, N_TEAMS))
        self.pace = rng.permutation(np.linspace(*PACE_RANGE, N_TEAMS))
        self.form = rng.normal(0.0, 0.05, n)
        self.inj_return = np.zeros(n, dtype=np.int64)
        self.inj_minor = np.zeros(n, dtype=bool)
        self.inj_part = np.full(n, -1, dtype=np.int64)
        self.status_prev = np.zeros(n, dtype=np.int64)  # last published report (the market's morning view)
        self.last_played = np.full(N_TEAMS, -10, dtype=np.int64)
        self.wins = np.zeros(N_TEAMS, dtype=np.int64)
        self.losses = np.zeros(N_TEAMS, dtype=np.int64)

    def trade(self, trade: Trade) -> None:
        a, b = trade.player_a, trade.player_b
        self.roster.team[a], self.roster.team[b] = self.roster.team[b], self.roster.team[a]

    def advance_form(self, rng: np.random.Generator) -> None:
        self.form = FORM_RHO * self.form + rng.normal(0.0, FORM_SD, self.roster.n)

    def back_to_back(self, day: date) -> np.ndarray:
        return self.last_played == day.toordinal() - 1

    def report(self, day: date, teams_today: np.ndarray, rng: np.random.Generator) -> DayReport:
        """Injury report before the day's games; `teams_today` is a bool mask of teams with a game."""
        r = self.roster
        n = r.n
        d = day.toordinal()
        u = rng.random((5, n))
        ill = (self.inj_return <= d) & (u[0] < ILLNESS_P_PER_DAY)
        self.inj_return = np.where(ill, d + 1 + (u[1] * 3).astype(np.int64), self.inj_return)
        self.inj_minor |= ill
        self.inj_part = np.where(ill, BODY_PARTS.index("illness"), self.inj_part)
        injured = self.inj_return > d
        rem = self.inj_return - d
        major, minor = injured & ~self.inj_minor, injured & self.inj_minor
        returning = (self.inj_return == d) & ~self.inj_minor & (self.inj_part >= 0) & (u[2] < 0.6)
        rest = ~injured & (r.role == STAR) & teams_today[r.team] & self.back_to_back(day)[r.team]
        rest &= u[3] < REST_P_STAR_B2B
        status = np.select(
            [
                major & (rem >= 3),
                major & (rem == 2),
                major & (rem == 1),
                minor & (rem >= 2),
                minor & (rem == 1),
                returning,
                rest,
            ],
            [
                STATUS_OUT,
                STATUS_DOUBTFUL,
                np.where(u[2] < 0.7, STATUS_QUESTIONABLE, STATUS_DTD),
                np.where(u[2] < 0.4, STATUS_OUT, STATUS_DTD),
                np.where(u[2] < 0.5, STATUS_QUESTIONABLE, STATUS_DTD),
                STATUS_PROBABLE,
                STATUS_OUT,
            ],
            default=STATUS_NONE,
        ).astype(np.int64)
        return DayReport(
            status=status,
            plays=u[4] < PLAY_P[status],
            rest=rest,
            return_day=np.where(injured | returning, self.inj_return, 0),
            part=np.where(injured | returning, self.inj_part, -1),
        )

    def play(self, day: date, games: list[tuple[int, int]], report: DayReport,
             rng: np.random.Generator) -> DayGames:  # fmt: skip
        r = self.roster
        players, grp, team, opp, is_home = participants(r, games)
        n, n_groups = len(players), 2 * len(games)
        role = r.role[players]
        avail = report.plays[players]
        # the 8 best available players (by role, then base minutes) always play
        order = np.lexsort((-r.base_min[players], np.where(avail, role, 99), grp))
        starts = np.searchsorted(grp[order], np.arange(n_groups))
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n) - starts[grp[order]]
        forced = avail & (rank < MIN_ROTATION)
        cap = r.cap[players]
        rate = (
            r.ppm[players]
            * np.exp(self.form[players])
            * expected_points_factors(r, self.pace, players, team, opp, is_home)
            * self.defence[opp]
            * np.where(self.back_to_back(day)[team], BACK_TO_BACK_FACTOR, 1.0)
        )
        # Game script first: team totals around the expectation; the margin decides blowouts (minutes).
        likely = avail * np.where(forced, 1.0, PARTICIPATION[role])
        m0 = allocate_minutes(r.base_min[players] * likely, grp, n_groups, cap)
        expected = np.bincount(grp, m0 * rate * usage_bump(r, players, grp, n_groups, likely), n_groups)
        target = np.rint(expected * np.exp(rng.normal(0.0, TEAM_TOTAL_SD, n_groups))).astype(np.int64)
        blowout = np.abs(target[0::2] - target[1::2]) >= BLOWOUT_MARGIN
        blow = blowout[grp // 2]
        part_p = np.where(blow, PARTICIPATION_BLOWOUT[role], PARTICIPATION[role])
        played = avail & (forced | (rng.random(n) < part_p))
        noise_sd = np.array([MINUTES_NOISE[k] for k in range(5)])[role]
        weight = r.base_min[players] * np.exp(rng.normal(0.0, 1.0, n) * noise_sd)
        weight *= np.where(blow, np.where(role <= STARTER, BLOWOUT_STARTER_MINUTES,
                                          np.where(role >= BENCH, BLOWOUT_BENCH_MINUTES, 1.0)), 1.0)  # fmt: skip
        minutes = allocate_minutes(weight * played, grp, n_groups, cap)
        minutes = np.where(played, np.maximum(minutes, 1.0), 0.0)
        usage = usage_bump(r, players, grp, n_groups, played.astype(float))
        mu = minutes * rate * usage
        raw = rng.poisson(mu * np.maximum(0.05, 1.0 + GAME_NOISE_SD * rng.standard_normal(n))) * played
        pts = round_to_totals(raw.astype(float), grp, target)
        score = np.bincount(grp, pts, n_groups).astype(np.int64)
        overtimes = np.zeros(len(games), dtype=np.int64)
        while True:
            tied = np.flatnonzero(score[0::2] == score[1::2])
            if len(tied) == 0:
                break
            for g in tied:
                overtimes[g] += 1
                for gi in (2 * g, 2 * g + 1):
                    rows = np.flatnonzero((grp == gi) & played)
                    top = rows[np.argsort(-minutes[rows], kind="stable")[:5]]
                    extra_mu = OT_MINUTES * rate[top] * usage[top]
                    minutes[top] += OT_MINUTES
                    mu[top] += extra_mu
                    pts[top] += rng.poisson(extra_mu)
            score = np.bincount(grp, pts, n_groups).astype(np.int64)
        keep = np.flatnonzero(played)
        minutes_int = np.rint(minutes[keep]).astype(np.int64)
        stats = decompose(pts[keep], minutes[keep], mu[keep], players[keep], r, rng, self.defence[opp[keep]])
        margin = score - score[np.arange(n_groups) ^ 1]
        stats["PLUS_MINUS"] = plus_minus(margin, minutes[keep], grp[keep], rng)
        stats["MIN"] = np.maximum(minutes_int, 1)
        return DayGames(
            player=players[keep],
            group=grp[keep],
            team=team[keep],
            opp=opp[keep],
            is_home=is_home[keep],
            minutes=minutes[keep],
            pts=pts[keep].astype(np.int64),
            stats=stats,
            score=score,
            overtimes=overtimes,
        )

    def after(self, day: date, games: list[tuple[int, int]], result: DayGames, report: DayReport,
              rng: np.random.Generator) -> None:  # fmt: skip
        """New injuries from the day's games, healed players, team records, the report becomes public."""
        d = day.toordinal()
        n = self.roster.n
        u = rng.random((4, n))
        played = np.zeros(n, dtype=bool)
        played[result.player] = True
        hurt = played & (u[0] < INJURY_P_PER_GAME)
        kind = u[1]
        days_out = np.where(
            kind < 0.45,
            1 + (u[2] * 3).astype(np.int64),
            np.where(kind < 0.85, 4 + (u[2] * 17).astype(np.int64), 21 + (u[2] * 40).astype(np.int64)),
        )
        healed = (self.inj_return <= d) & ~hurt
        self.inj_part = np.where(healed, -1, self.inj_part)
        self.inj_minor = np.where(healed, False, self.inj_minor)
        self.inj_return = np.where(hurt, d + 1 + days_out, self.inj_return)
        self.inj_minor = np.where(hurt, days_out <= 3, self.inj_minor)
        self.inj_part = np.where(hurt, (u[3] * (len(BODY_PARTS) - 1)).astype(np.int64), self.inj_part)
        for g, (home, away) in enumerate(games):
            self.last_played[[home, away]] = d
            home_won = result.score[2 * g] > result.score[2 * g + 1]
            winner, loser = (home, away) if home_won else (away, home)
            self.wins[winner] += 1
            self.losses[loser] += 1
        self.status_prev = report.status
