"""Canonical keys: one player key (`player_lookup`), one team key (tricode), one game key.

Every source maps onto these before anything is joined. Scalar helpers exist for tests and
one-off use; the `*_expr` variants are vectorised polars expressions used by the readers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import polars as pl

# Generational suffixes are dropped from the key (the display name keeps them): sources
# disagree on them ("Ron Holland" vs "Ronald Holland II", "Vincent Williams Jr" vs
# "Vince Williams Jr."), and no two concurrently active players differ only by a suffix.
GENERATIONAL_SUFFIXES = ("jr", "sr", "ii", "iii", "iv", "v")

# Alias lookups (after normalisation) -> the lookup NBA.com box scores use. NBA.com is the
# reference because box scores decide grading.
PLAYER_ALIASES: dict[str, str] = {
    "nicolasclaxton": "nicclaxton",
    "herbjones": "herbertjones",
    "carltoncarrington": "bubcarrington",
    "ronholland": "ronaldholland",
    "vincentwilliams": "vincewilliams",
}

# Letters that Unicode decomposition does not reduce to ASCII.
_TRANSLITERATE = str.maketrans(
    {
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ı": "i",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "þ": "th",
        "Þ": "Th",
        "ð": "d",
        "Ð": "D",
    }
)
# Periods and apostrophes join letters ("P.J." -> "pj", "De'Aaron" -> "deaaron"); any other
# non-alphanumeric character separates words, so a suffix is recognised wherever the
# punctuation sits ("Jr.,", "Holland-II", ", Jr.").
_JOINERS_RE = re.compile(r"[.'\u2019\u2018`\u00b4]")
_SEPARATORS_RE = re.compile(r"[^a-z0-9]+")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_player_name(name: str) -> str:
    """`"Nikola Jokić"` -> `"nikolajokic"`; `"Gary Trent Jr."` -> `"garytrent"`; aliases applied.

    The result is lowercase ASCII letters and digits only, and normalising it again returns it.
    """
    text = _JOINERS_RE.sub("", _strip_accents(name or "").lower())
    words = [w for w in _SEPARATORS_RE.split(text) if w]
    while len(words) > 1 and words[-1] in GENERATIONAL_SUFFIXES:
        words.pop()
    key = "".join(words)
    return PLAYER_ALIASES.get(key, key)


def player_lookup_expr(name: pl.Expr) -> pl.Expr:
    """Vectorised `normalize_player_name`: unique names are normalised once, then mapped."""
    return name.map_batches(_normalize_series, return_dtype=pl.Utf8)


def _normalize_series(names: pl.Series) -> pl.Series:
    uniques = names.unique().drop_nulls().to_list()
    mapping = {raw: normalize_player_name(raw) for raw in uniques}
    return names.replace_strict(mapping, default=None, return_dtype=pl.Utf8)


@dataclass(frozen=True)
class Team:
    tricode: str
    nba_id: int
    city: str
    nickname: str
    balldontlie_id: int

    @property
    def full_name(self) -> str:
        return f"{self.city} {self.nickname}"


TEAMS: tuple[Team, ...] = (
    Team("ATL", 1610612737, "Atlanta", "Hawks", 1),
    Team("BOS", 1610612738, "Boston", "Celtics", 2),
    Team("BKN", 1610612751, "Brooklyn", "Nets", 3),
    Team("CHA", 1610612766, "Charlotte", "Hornets", 4),
    Team("CHI", 1610612741, "Chicago", "Bulls", 5),
    Team("CLE", 1610612739, "Cleveland", "Cavaliers", 6),
    Team("DAL", 1610612742, "Dallas", "Mavericks", 7),
    Team("DEN", 1610612743, "Denver", "Nuggets", 8),
    Team("DET", 1610612765, "Detroit", "Pistons", 9),
    Team("GSW", 1610612744, "Golden State", "Warriors", 10),
    Team("HOU", 1610612745, "Houston", "Rockets", 11),
    Team("IND", 1610612754, "Indiana", "Pacers", 12),
    Team("LAC", 1610612746, "LA", "Clippers", 13),
    Team("LAL", 1610612747, "Los Angeles", "Lakers", 14),
    Team("MEM", 1610612763, "Memphis", "Grizzlies", 15),
    Team("MIA", 1610612748, "Miami", "Heat", 16),
    Team("MIL", 1610612749, "Milwaukee", "Bucks", 17),
    Team("MIN", 1610612750, "Minnesota", "Timberwolves", 18),
    Team("NOP", 1610612740, "New Orleans", "Pelicans", 19),
    Team("NYK", 1610612752, "New York", "Knicks", 20),
    Team("OKC", 1610612760, "Oklahoma City", "Thunder", 21),
    Team("ORL", 1610612753, "Orlando", "Magic", 22),
    Team("PHI", 1610612755, "Philadelphia", "76ers", 23),
    Team("PHX", 1610612756, "Phoenix", "Suns", 24),
    Team("POR", 1610612757, "Portland", "Trail Blazers", 25),
    Team("SAC", 1610612758, "Sacramento", "Kings", 26),
    Team("SAS", 1610612759, "San Antonio", "Spurs", 27),
    Team("TOR", 1610612761, "Toronto", "Raptors", 28),
    Team("UTA", 1610612762, "Utah", "Jazz", 29),
    Team("WAS", 1610612764, "Washington", "Wizards", 30),
)
TRICODES: frozenset[str] = frozenset(t.tricode for t in TEAMS)

# Spellings seen across sources that are not derivable from the table above.
_EXTRA_TEAM_NAMES: dict[str, str] = {
    "los angeles clippers": "LAC",
    "la lakers": "LAL",
    "blazers": "POR",
    "sixers": "PHI",
    "cavs": "CLE",
    "mavs": "DAL",
    "wolves": "MIN",
    "pels": "NOP",
    "phoenix suns": "PHX",
    # legacy / alternate tricodes
    "pho": "PHX",
    "gs": "GSW",
    "ny": "NYK",
    "sa": "SAS",
    "no": "NOP",
    "nor": "NOP",
    "utah": "UTA",
    "brk": "BKN",
    "bkn": "BKN",
    "cho": "CHA",
    "wsh": "WAS",
    "nj": "BKN",
}


def _name_key(text: str) -> str:
    return re.sub(r"\s+", " ", _strip_accents(str(text)).strip().lower())


def _build_team_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for team in TEAMS:
        for spelling in (team.tricode, team.full_name, team.nickname, team.city, str(team.nba_id)):
            index[_name_key(spelling)] = team.tricode
    # "LA" and "Los Angeles" are both cities of two teams: never resolve a bare city there.
    for ambiguous in ("la", "los angeles"):
        index.pop(ambiguous, None)
    index.update(_EXTRA_TEAM_NAMES)
    return index


_TEAM_INDEX = _build_team_index()
_BY_TRICODE = {t.tricode: t for t in TEAMS}
_BY_BALLDONTLIE = {t.balldontlie_id: t.tricode for t in TEAMS}


def team_tricode(name_or_id: str | int | None) -> str | None:
    """Tricode from a tricode, full name, nickname, city or NBA team id; None when unknown."""
    if name_or_id is None:
        return None
    return _TEAM_INDEX.get(_name_key(name_or_id))


def team_tricode_expr(name: pl.Expr) -> pl.Expr:
    return name.cast(pl.Utf8).map_batches(
        lambda s: s.replace_strict(
            {raw: team_tricode(raw) for raw in s.unique().drop_nulls().to_list()},
            default=None,
            return_dtype=pl.Utf8,
        ),
        return_dtype=pl.Utf8,
    )


def team(tricode: str) -> Team:
    return _BY_TRICODE[tricode]


def tricode_from_balldontlie_id(team_id: int) -> str | None:
    return _BY_BALLDONTLIE.get(team_id)


def canonical_game_id(game_date: date, away: str, home: str) -> str:
    """One key for a game in every source: ET game date + away + home tricodes."""
    return f"{game_date:%Y%m%d}_{away}_{home}"


def game_id_expr(game_date: pl.Expr, away: pl.Expr, home: pl.Expr) -> pl.Expr:
    return pl.concat_str([game_date.dt.strftime("%Y%m%d"), away, home], separator="_")
