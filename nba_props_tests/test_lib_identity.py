import re
from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nba_props.lib import identity
from nba_props.lib.identity import (
    TEAMS,
    canonical_game_id,
    game_id_expr,
    normalize_player_name,
    player_lookup_expr,
    team_tricode,
    team_tricode_expr,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEY_RE = re.compile(r"^[a-z0-9]*$")

# --- strategies -----------------------------------------------------------------------------
ACCENTED = {
    "a": "áàâäãå",
    "c": "çčć",
    "e": "éèêë",
    "i": "íìîï",
    "n": "ñń",
    "o": "óòôöõø",
    "s": "šś",
    "u": "úùûü",
    "z": "žź",
    "l": "ł",
    "d": "đ",
}
SUFFIX_WORDS = set(identity.GENERATIONAL_SUFFIXES)


def _is_plain_word(word: str) -> bool:
    return word not in SUFFIX_WORDS


plain_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10).filter(_is_plain_word)
plain_name = st.lists(plain_word, min_size=1, max_size=4)


@st.composite
def accented_words(draw):
    """(plain words, the same words with some letters accented)."""
    words = draw(plain_name)
    accented = []
    for word in words:
        letters = []
        for ch in word:
            if ch in ACCENTED and draw(st.booleans()):
                letters.append(draw(st.sampled_from(ACCENTED[ch])))
            else:
                letters.append(ch)
        accented.append("".join(letters))
    return words, accented


def _title(words: list[str]) -> str:
    return " ".join(w.capitalize() for w in words)


# --- properties -----------------------------------------------------------------------------
@FAST
@given(st.text())
def test_output_is_lowercase_ascii_alnum_for_any_text(text):
    assert KEY_RE.match(normalize_player_name(text))


@FAST
@given(st.text())
def test_normalising_a_normalised_key_returns_it(text):
    key = normalize_player_name(text)
    assert normalize_player_name(key) == key


@FAST
@given(plain_name)
def test_normalised_names_are_idempotent_and_concatenated(words):
    key = normalize_player_name(_title(words))
    assert normalize_player_name(key) == key
    assert key == identity.PLAYER_ALIASES.get("".join(words), "".join(words))


@FAST
@given(plain_name, st.sampled_from([str.upper, str.lower, str.title, str.swapcase]))
def test_invariant_to_case(words, case):
    name = _title(words)
    assert normalize_player_name(case(name)) == normalize_player_name(name)


@FAST
@given(plain_name, st.lists(st.sampled_from([" ", "  ", "\t", "\u00a0", "\n"]), min_size=5, max_size=5))
def test_invariant_to_extra_whitespace(words, gaps):
    name = _title(words)
    spaced = gaps[0] + (gaps[1] + " ").join(words) + gaps[2]
    assert normalize_player_name(spaced) == normalize_player_name(name)


@FAST
@given(accented_words())
def test_invariant_to_accents(pair):
    plain, accented = pair
    assert normalize_player_name(_title(accented)) == normalize_player_name(_title(plain))


@FAST
@given(plain_name, st.data())
def test_invariant_to_periods_and_apostrophes_anywhere(words, data):
    name = _title(words)
    chars = list(name)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(chars)))
        chars.insert(at, data.draw(st.sampled_from([".", "'", "\u2019"])))
    assert normalize_player_name("".join(chars)) == normalize_player_name(name)


@FAST
@given(st.lists(plain_word, min_size=2, max_size=4), st.data())
def test_invariant_to_hyphens_between_words(words, data):
    seps = [data.draw(st.sampled_from([" ", "-", " - ", "- ", ", "])) for _ in words[1:]]
    joined = words[0] + "".join(sep + w for sep, w in zip(seps, words[1:], strict=True))
    assert normalize_player_name(joined) == normalize_player_name(" ".join(words))


@FAST
@given(
    plain_name,
    st.sampled_from([" Jr.", " Jr", " JR", " jr.", " Sr.", " II", " III", " IV", ", Jr.", " Jr.,", "-II", " V"]),
)
def test_invariant_to_trailing_generational_suffix(words, suffix):
    name = _title(words)
    assert normalize_player_name(name + suffix) == normalize_player_name(name)


# --- examples -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Nikola Jokić", "nikolajokic"),
        ("Shai Gilgeous-Alexander", "shaigilgeousalexander"),
        ("De'Aaron Fox", "deaaronfox"),
        ("De\u2019Aaron Fox", "deaaronfox"),
        ("Luka Dončić", "lukadoncic"),
        ("Alperen Şengün", "alperensengun"),
        ("Kristaps Porziņģis", "kristapsporzingis"),
        ("Jusuf Nurkić", "jusufnurkic"),
        ("Dāvis Bertāns", "davisbertans"),
        ("Nikola Đurišić", "nikoladurisic"),
        ("P.J. Washington", "pjwashington"),
        ("PJ Washington", "pjwashington"),
        ("Gary Trent Jr.", "garytrent"),
        ("Jaren Jackson Jr.", "jarenjackson"),
        ("Jaime Jaquez Jr.", "jaimejaquez"),
        ("Trent, Gary Jr.", "trentgary"),
        ("  KARL-ANTHONY   TOWNS ", "karlanthonytowns"),
        ("", ""),
        (None, ""),
    ],
)
def test_examples(raw, key):
    assert normalize_player_name(raw) == key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nicolas Claxton", "Nic Claxton"),
        ("Herb Jones", "Herbert Jones"),
        ("Carlton Carrington", "Bub Carrington"),
        ("Ron Holland", "Ronald Holland II"),
        ("Ron Holland II", "Ronald Holland"),
        ("Vincent Williams Jr.", "Vince Williams Jr."),
        ("Vincent Williams", "Vince Williams Jr"),
    ],
)
def test_aliases_map_to_the_same_key(a, b):
    assert normalize_player_name(a) == normalize_player_name(b)
    assert normalize_player_name(a) in identity.PLAYER_ALIASES.values()


def test_alias_values_are_not_alias_keys():
    # otherwise normalising twice would move a key again
    assert not set(identity.PLAYER_ALIASES.values()) & set(identity.PLAYER_ALIASES)
    for target in identity.PLAYER_ALIASES.values():
        assert KEY_RE.match(target)


def test_a_lone_suffix_word_is_kept():
    assert normalize_player_name("Jr.") == "jr"
    assert normalize_player_name("II") == "ii"


@FAST
@given(
    st.lists(st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["Nic Claxton", "Nikola Jokić"])), max_size=30)
)
def test_player_lookup_expr_equals_scalar(names):
    frame = pl.DataFrame({"name": names}, schema={"name": pl.Utf8})
    got = frame.select(player_lookup_expr(pl.col("name")))["name"].to_list()
    want = [None if n is None else normalize_player_name(n) for n in names]
    assert got == want


def test_player_lookup_expr_on_frame_with_nulls():
    frame = pl.DataFrame({"name": ["Nikola Jokić", None, "Herb Jones", "Herbert Jones", None, "Gary Trent Jr."]})
    out = frame.with_columns(player_lookup=player_lookup_expr(pl.col("name")))
    assert out["player_lookup"].to_list() == [
        "nikolajokic",
        None,
        "herbertjones",
        "herbertjones",
        None,
        "garytrent",
    ]
    assert out.schema["player_lookup"] == pl.Utf8
    empty = pl.DataFrame({"name": []}, schema={"name": pl.Utf8})
    assert empty.select(player_lookup_expr(pl.col("name"))).height == 0


# --- teams ----------------------------------------------------------------------------------
def test_thirty_unique_teams():
    assert len(TEAMS) == 30
    assert len(identity.TRICODES) == 30
    assert len({t.nba_id for t in TEAMS}) == 30
    assert len({t.full_name for t in TEAMS}) == 30
    assert len({t.nickname for t in TEAMS}) == 30


@pytest.mark.parametrize("team", TEAMS, ids=lambda t: t.tricode)
def test_team_tricode_all_spellings(team):
    for spelling in (
        team.tricode,
        team.tricode.lower(),
        team.full_name,
        team.full_name.upper(),
        f"  {team.full_name}  ",
        team.full_name.replace(" ", "  "),
        team.nickname,
        team.nba_id,
        str(team.nba_id),
    ):
        assert team_tricode(spelling) == team.tricode, spelling
    assert identity.team(team.tricode) is team
    assert identity.tricode_from_balldontlie_id(team.balldontlie_id) == team.tricode


@pytest.mark.parametrize(
    ("raw", "tricode"),
    [
        ("LA Clippers", "LAC"),
        ("Los Angeles Clippers", "LAC"),
        ("Los Angeles Lakers", "LAL"),
        ("LA Lakers", "LAL"),
        ("PHO", "PHX"),
        ("Phoenix Suns", "PHX"),
        ("Portland Trail Blazers", "POR"),
        ("Philadelphia 76ers", "PHI"),
        ("GS", "GSW"),
        ("NY", "NYK"),
        ("SA", "SAS"),
        ("NO", "NOP"),
        ("BRK", "BKN"),
        ("CHO", "CHA"),
        ("Seattle SuperSonics", None),
        ("Los Angeles", None),
        ("LA", None),
        ("New Jersey Nets", None),
        ("", None),
        (None, None),
        (0, None),
    ],
)
def test_team_tricode_special_cases(raw, tricode):
    assert team_tricode(raw) == tricode


def test_team_tricode_expr_matches_scalar():
    raw = ["LA Clippers", None, "PHO", "Seattle SuperSonics", "Boston Celtics", "1610612747", "Los Angeles"]
    frame = pl.DataFrame({"team": raw})
    assert frame.select(team_tricode_expr(pl.col("team")))["team"].to_list() == [team_tricode(r) for r in raw]
    ids = pl.DataFrame({"team": [1610612747, None, 1610612738]})
    assert ids.select(team_tricode_expr(pl.col("team")))["team"].to_list() == ["LAL", None, "BOS"]


# --- game key -------------------------------------------------------------------------------
def test_canonical_game_id_example():
    assert canonical_game_id(date(2025, 1, 15), "BOS", "LAL") == "20250115_BOS_LAL"


@FAST
@given(
    st.lists(
        st.tuples(
            st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
            st.sampled_from(sorted(identity.TRICODES)),
            st.sampled_from(sorted(identity.TRICODES)),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_game_id_expr_agrees_with_scalar(rows):
    frame = pl.DataFrame(rows, schema={"game_date": pl.Date, "away": pl.Utf8, "home": pl.Utf8}, orient="row")
    got = frame.select(game_id_expr(pl.col("game_date"), pl.col("away"), pl.col("home")).alias("id"))["id"]
    assert got.to_list() == [canonical_game_id(*row) for row in rows]
