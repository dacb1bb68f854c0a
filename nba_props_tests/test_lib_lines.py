"""Line selection and expected players (`lib/lines.py`, `lib/expected_players.py`) on tiny hand-made frames.

Every expected number below is computed by hand in the comment next to it.
"""

from __future__ import annotations

import math
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from pydantic import ValidationError

from nba_props.lib import schemas
from nba_props.lib.lines import (
    DEFAULT_CONFIG_PATH,
    LineConfig,
    build_player_lines,
    build_player_lines_with_diagnostics,
    devig_over_prob,
    implied_prob,
    load_line_config,
)

D = date(2025, 1, 15)
GAME = "20250115_HOU_OKC"
TIP = datetime(2025, 1, 16, 0, 30, tzinfo=UTC)  # 19:30 ET on D
AM, PM = datetime(2025, 1, 15, 15, 0, tzinfo=UTC), datetime(2025, 1, 15, 22, 0, tzinfo=UTC)


def snap(player: str, book: str, line: float, over: int | None = -110, under: int | None = -110, *,
         at: datetime = PM, day: date = D, game: str = GAME, tip: datetime | None = TIP,
         market: str = "player_points", source: str = "the_odds_api") -> dict:  # fmt: skip
    away, home = game.split("_")[1:]
    return {
        "game_date": day, "game_id": game, "away_team": away, "home_team": home, "tip_time_utc": tip,
        "player_name": player.title(), "player_lookup": player, "market": market, "bookmaker": book,
        "line": line, "over_price": over, "under_price": under, "captured_at": at, "source": source,
    }  # fmt: skip


def frame(rows: list[dict], schema: pl.Schema) -> pl.DataFrame:
    if not rows:
        return schemas.empty(schema)
    return schemas.conform(pl.DataFrame(rows, infer_schema_length=None), schema)


def game(game_id: str, day: date = D, tip: datetime | None = TIP, status: str = "scheduled") -> dict:
    away, home = game_id.split("_")[1:]
    return {"game_date": day, "game_id": game_id, "away_team": away, "home_team": home,
            "tip_time_utc": tip, "status": status}  # fmt: skip


def box(player: str, team: str, day: date, played: bool = True, player_id: int | None = None) -> dict:
    return {"game_date": day, "game_id": f"{day:%Y%m%d}_{team}_XXX", "player_id": player_id or zlib.crc32(player.encode()),
            "player_name": player.title(), "player_lookup": player, "team": team, "played": played}  # fmt: skip


def injury(player: str, status: str, day: date = D) -> dict:
    return {"game_date": day, "player_lookup": player, "status": status}


def run(snaps: list[dict], games: list[dict] | None = None, boxes: list[dict] | None = None,
        injuries: list[dict] | None = None, *, start: date = D, end: date = D, **kw) -> pl.DataFrame:  # fmt: skip
    out = build_player_lines(
        frame(snaps, schemas.PROP_LINE_SNAPSHOTS),
        frame([game(GAME)] if games is None else games, schemas.SCHEDULE),
        frame(boxes or [], schemas.BOX_SCORES),
        frame(injuries or [], schemas.INJURY_REPORT),
        start=start, end=end, **kw,
    )  # fmt: skip
    assert out.schema == schemas.PLAYER_LINES
    assert out.select(schemas.PLAYER_LINES_KEY).is_duplicated().sum() == 0
    assert out.equals(out.sort("game_date", "game_id", "player_lookup"))
    assert out.get_column("line_diagnostic").is_in(schemas.LINE_DIAGNOSTICS).all()
    return out


def row(out: pl.DataFrame, player: str, game_id: str = GAME) -> dict:
    hit = out.filter((pl.col("player_lookup") == player) & (pl.col("game_id") == game_id))
    assert hit.height == 1, hit
    return hit.row(0, named=True)


# ---------------------------------------------------------------------------------------------
# configuration


def test_config_defaults_are_the_packaged_yaml():
    assert DEFAULT_CONFIG_PATH.is_file()
    assert load_line_config() == LineConfig()
    cfg = LineConfig()
    assert cfg.book_priority == ("draftkings", "fanduel", "betmgm", "williamhill_us")
    assert (cfg.sanity.min_line, cfg.sanity.max_line, cfg.lookback_days) == (5.0, 70.0, 30)
    assert (cfg.sanity_min, cfg.sanity_max) == (5.0, 70.0)
    assert cfg.ladder_books == ("bovada", "betrivers")
    assert {"prizepicks", "underdog"} <= set(cfg.dfs_books) and cfg.dfs_sources == ("dfs",)
    assert (cfg.appearance_window_days, cfg.team_lookback_days, cfg.box_history_days) == (30, 400, 400)


def test_config_validation(tmp_path: Path):
    with pytest.raises(ValidationError):
        LineConfig(book_priority=("draftkings", "DraftKings"))
    with pytest.raises(ValidationError):
        LineConfig.model_validate({"sanity": {"min_line": 30.0, "max_line": 20.0}})
    with pytest.raises(ValidationError):
        LineConfig.model_validate({"lookback_days": 0})
    with pytest.raises(ValidationError, match="team_lookback_days"):
        LineConfig.model_validate({"appearance_window_days": 60, "team_lookback_days": 30})
    with pytest.raises(ValidationError):
        LineConfig.model_validate({"bok_priority": ["fanduel"]})  # typo: unknown keys are refused
    with pytest.raises(ValidationError, match="ladder_books"):
        LineConfig(ladder_books=("bovada", " Bovada"))
    assert LineConfig(dfs_books=(" PrizePicks",)).dfs_books == ("prizepicks",)
    path = tmp_path / "lines.yaml"
    path.write_text("book_priority: [FanDuel, draftkings]\nsanity: {min_line: 4.0, max_line: 60.0}\n")
    cfg = load_line_config(path)
    assert cfg.book_priority == ("fanduel", "draftkings") and cfg.sanity.min_line == 4.0
    assert cfg.lookback_days == 30  # unspecified keys keep their defaults


# ---------------------------------------------------------------------------------------------
# odds math


def test_implied_probability_and_devig():
    prices = pl.DataFrame(
        {"over": [-110, 150, -119, 100, -100, None, 50], "under": [-110, -170, -107, -120, None, -110, -110]},
        schema={"over": pl.Int32, "under": pl.Int32},
    )
    got = prices.select(p=implied_prob(pl.col("over")), fair=devig_over_prob(pl.col("over"), pl.col("under")))
    p, fair = got.get_column("p").to_list(), got.get_column("fair").to_list()
    assert p[:5] == pytest.approx([110 / 210, 100 / 250, 119 / 219, 0.5, 0.5])
    assert p[5] is None and p[6] is None  # missing / not an American price (|a| < 100)
    assert fair[0] == pytest.approx(0.5)
    # +150 / -170: 0.4 / (0.4 + 170/270 = 0.62963) = 0.388489
    assert fair[1] == pytest.approx(0.4 / (0.4 + 170 / 270)) and fair[1] == pytest.approx(0.388489, abs=1e-6)
    # -119 / -107: 0.543379 / (0.543379 + 0.516908) = 0.512483
    assert fair[2] == pytest.approx(0.512483, abs=1e-6)
    # +100 / -120: 0.5 / (0.5 + 0.545455) = 0.478261
    assert fair[3] == pytest.approx(0.478261, abs=1e-6)
    assert fair[4] is None and fair[5] is None and fair[6] is None


# ---------------------------------------------------------------------------------------------
# choosing the line


@pytest.mark.parametrize(
    ("books", "chosen"),
    [
        (["fanatics", "williamhill_us", "betmgm", "fanduel", "draftkings"], "draftkings"),
        (["fanatics", "williamhill_us", "betmgm", "fanduel"], "fanduel"),
        (["fanatics", "williamhill_us", "betmgm"], "betmgm"),
        (["fanatics", "williamhill_us", "bovada"], "williamhill_us"),
        (["fanatics", "bovada", "betonlineag"], "betonlineag"),  # other books: alphabetical
    ],
)
def test_book_priority(books, chosen):
    lines = {"draftkings": 20.5, "fanduel": 21.5, "betmgm": 22.5, "williamhill_us": 23.5,
             "betonlineag": 24.5, "bovada": 25.5, "fanatics": 26.5}  # fmt: skip
    r = row(run([snap("jsmith", b, lines[b]) for b in books]), "jsmith")
    assert (r["line_book"], r["line"], r["line_diagnostic"], r["diagnostic_detail"]) == (
        chosen,
        lines[chosen],
        "LINE_SOURCE",
        chosen,
    )
    assert r["n_books"] == len(books)


def test_ladder_main_line_is_the_rung_closest_to_even():
    # bovada rungs, de-vigged over probability:
    #   22.5 -160/+120: 0.615385 / (0.615385 + 0.454545) = 0.575163  |p - .5| = 0.075163
    #   23.5 -130/+100: 0.565217 / (0.565217 + 0.5)      = 0.530612  |p - .5| = 0.030612
    #   24.5 -105/-125: 0.512195 / (0.512195 + 0.555556) = 0.479695  |p - .5| = 0.020305  <- main
    rungs = [(22.5, -160, 120), (23.5, -130, 100), (24.5, -105, -125)]
    r = row(run([snap("kd", "bovada", *rung) for rung in rungs]), "kd")
    assert (r["line"], r["over_price"], r["under_price"], r["line_book"]) == (24.5, -105, -125, "bovada")
    assert r["implied_over_prob"] == pytest.approx(0.479695, abs=1e-6)
    assert r["n_books"] == 1 and r["consensus_line"] == 24.5 and r["multi_book_line_std"] is None


def test_ladder_tie_takes_the_lower_line():
    # 20.5 +105/-125: 0.487805 / (0.487805 + 0.555556) = 0.467532  |p - .5| = 0.032468
    # 21.5 -125/+105: 0.555556 / (0.555556 + 0.487805) = 0.532468  |p - .5| = 0.032468  (tie -> 20.5)
    r = row(run([snap("kd", "betrivers", 21.5, -125, 105), snap("kd", "betrivers", 20.5, 105, -125)]), "kd")
    assert (r["line"], r["over_price"], r["under_price"]) == (20.5, 105, -125)


def test_unpriced_ladder_takes_the_median_rung_and_dfs_rows_at_tip_count():
    dfs = {"at": TIP, "over": None, "under": None, "source": "dfs"}  # a board listing the game at its tip
    three = [snap("a", "prizepicks", x, **dfs) for x in (21.5, 19.5, 20.5)]
    two = [snap("b", "underdog", x, **dfs) for x in (14.5, 13.5)]
    out = run(three + two)
    a, b = row(out, "a"), row(out, "b")
    assert (a["line"], a["line_book"], a["over_price"], a["implied_over_prob"]) == (20.5, "prizepicks", None, None)
    assert b["line"] == 13.5  # even count: the lower middle rung
    # The same stamp from a sportsbook source is not "before the tip".
    late = run([snap("c", "draftkings", 20.5, at=TIP)], [game(GAME)], [box("c", "OKC", D - timedelta(days=2))])
    assert row(late, "c")["line_diagnostic"] == "NO_PROP_LINE"


def test_newest_snapshot_before_tip_wins_and_later_ones_are_ignored():
    rows = [
        snap("kd", "draftkings", 21.5, -115, -105, at=AM),
        snap("kd", "draftkings", 22.5, -120, 100, at=PM),
        snap("kd", "draftkings", 24.5, at=TIP),  # at the tip: not before it
        snap("kd", "draftkings", 25.5, at=TIP + timedelta(minutes=20)),  # in-game
    ]
    r = row(run(rows), "kd")
    assert (r["line"], r["line_captured_at"], r["over_price"], r["under_price"]) == (22.5, PM, -120, 100)
    assert (r["opening_line"], r["line_move"]) == (21.5, 1.0)
    # as_of between the snapshots: the morning line is all there was.
    r = row(run(rows, as_of=PM - timedelta(hours=1)), "kd")
    assert (r["line"], r["line_captured_at"], r["opening_line"], r["line_move"]) == (21.5, AM, 21.5, 0.0)
    with pytest.raises(ValueError, match="timezone"):
        run(rows, as_of=datetime(2025, 1, 15, 12))


def test_schedule_tip_overrides_snapshot_tip():
    early = datetime(2025, 1, 15, 20, 0, tzinfo=UTC)  # the schedule says 15:00 ET: the PM snapshot is late
    out = run([snap("kd", "draftkings", 22.5, at=PM), snap("kd", "draftkings", 21.5, at=AM)], [game(GAME, tip=early)])
    r = row(out, "kd")
    assert (r["line"], r["tip_time_utc"]) == (21.5, early)


def test_a_book_whose_newest_line_is_rejected_keeps_its_earlier_sane_line():
    rows = [snap("kd", "draftkings", 21.5, at=AM), snap("kd", "draftkings", 2.5, at=PM), snap("kd", "fanduel", 22.5)]
    r = row(run(rows), "kd")
    assert (r["line_book"], r["line"], r["line_captured_at"], r["n_books"], r["consensus_line"]) == (
        "draftkings", 21.5, AM, 2, 22.0
    )  # fmt: skip


def test_opening_line_of_the_chosen_book():
    rows = [
        snap("kd", "fanduel", 20.5, at=AM),
        snap("kd", "fanduel", 21.5, at=PM),
        snap("kd", "draftkings", 22.5, at=PM),  # draftkings posted late only: its own line is its opening
    ]
    r = row(run(rows), "kd")
    assert (r["line_book"], r["line"], r["opening_line"], r["line_move"]) == ("draftkings", 22.5, 22.5, 0.0)
    # two books: draftkings 22.5, fanduel 21.5 (newest): median 22.0, std sqrt((0.25 + 0.25) / 1) = 0.707107
    assert (r["n_books"], r["consensus_line"]) == (2, 22.0)
    assert r["multi_book_line_std"] == pytest.approx(math.sqrt(0.5))
    r = row(run(rows[:2]), "kd")
    assert (r["line_book"], r["line"], r["opening_line"], r["line_move"]) == ("fanduel", 21.5, 20.5, 1.0)


def test_n_books_std_and_consensus():
    # main lines 20.5, 21.5 and a bovada ladder whose main rung is 23.5 (the 24.5 rung is ignored):
    # median 21.5; mean 21.8333; sample std sqrt((1.7778 + 0.1111 + 2.7778) / 2) = 1.527525
    rows = [
        snap("kd", "fanduel", 20.5),
        snap("kd", "betmgm", 21.5),
        snap("kd", "bovada", 23.5, -110, -110),
        snap("kd", "bovada", 24.5, 120, -150),
    ]
    r = row(run(rows), "kd")
    assert (r["n_books"], r["consensus_line"], r["line_book"]) == (3, 21.5, "fanduel")
    assert r["multi_book_line_std"] == pytest.approx(1.527525, abs=1e-6)


def test_a_rerun_gives_the_same_spread_to_the_last_bit():
    # eight books on each of 300 players: polars sums each group's lines in no fixed order
    books = ["fanduel", "betmgm", "draftkings", "bovada", "caesars", "pointsbet", "espnbet", "betrivers"]
    rows = [
        snap(f"p{p:03d}", book, 10.5 + ((p * 7 + b * 3) % 9) * 0.5) for p in range(300) for b, book in enumerate(books)
    ]
    first = run(rows)
    spreads = {tuple(run(rows)["multi_book_line_std"].to_list()) for _ in range(6)}
    assert spreads == {tuple(first["multi_book_line_std"].to_list())}


def test_prop_line_delta_uses_the_previous_line_date():
    prev, older, ancient = D - timedelta(days=3), D - timedelta(days=5), D - timedelta(days=31)
    g_prev, g_older, g_ancient = f"{prev:%Y%m%d}_HOU_DAL", f"{older:%Y%m%d}_HOU_MEM", f"{ancient:%Y%m%d}_HOU_UTA"

    def on(day, g, book, line):
        return snap("kd", book, line, day=day, game=g, at=datetime.combine(day, PM.time(), UTC), tip=None)

    history = [
        on(older, g_older, "draftkings", 18.5),
        on(prev, g_prev, "draftkings", 19.5),  # previous line date: consensus median(19.5, 20.5) = 20.0
        on(prev, g_prev, "fanduel", 20.5),
        on(ancient, g_ancient, "draftkings", 10.5),
    ]
    today = [snap("kd", "fanduel", 22.5), snap("kd", "betmgm", 23.5)]  # consensus 23.0, chosen fanduel 22.5
    r = row(run(today + history), "kd")
    assert (r["consensus_line"], r["prop_line_delta"]) == (23.0, 3.0)
    # A previous date whose only line was rejected does not count (it had no usable line).
    r = row(
        run(
            today + history + [on(D - timedelta(days=1), f"{D - timedelta(days=1):%Y%m%d}_HOU_SAS", "draftkings", 3.5)]
        ),
        "kd",
    )
    assert r["prop_line_delta"] == 3.0
    # Only the 31-day-old line: outside the 30-day lookback.
    assert row(run(today + history[3:]), "kd")["prop_line_delta"] is None
    assert row(run(today + history[3:], config=LineConfig(lookback_days=31)), "kd")["prop_line_delta"] == 23.0 - 10.5
    # First line ever: NULL.
    assert row(run(today), "kd")["prop_line_delta"] is None


def test_sanity_reject():
    only_low = row(run([snap("lowguy", "draftkings", 3.5)]), "lowguy")
    assert only_low["line_diagnostic"] == "LINE_SANITY_REJECT"
    assert (only_low["line"], only_low["rejected_line"], only_low["n_books"]) == (None, 3.5, 0)
    assert only_low["diagnostic_detail"] == "line_below_min (draftkings)"
    assert only_low["has_line"] is True and only_low["expected_reason"] == "has_line"
    assert only_low["line_book"] is None and only_low["consensus_line"] is None

    mixed = row(run([snap("m", "draftkings", 3.5), snap("m", "fanduel", 12.5)]), "m")
    assert (mixed["line_diagnostic"], mixed["line"], mixed["line_book"]) == ("LINE_SOURCE", 12.5, "fanduel")
    assert (mixed["n_books"], mixed["consensus_line"], mixed["rejected_line"]) == (1, 12.5, None)

    high = row(run([snap("h", "fanduel", 75.5)]), "h")
    assert (high["diagnostic_detail"], high["rejected_line"]) == ("line_above_max (fanduel)", 75.5)
    reb = row(run([snap("r", "draftkings", 9.5, market="player_rebounds")]), "r")
    assert (reb["line_diagnostic"], reb["diagnostic_detail"]) == (
        "LINE_SANITY_REJECT",
        "not_points_market (draftkings)",
    )
    # The band is inclusive.
    edges = run([snap("lo", "draftkings", 5.0), snap("hi", "draftkings", 70.0)])
    assert edges.get_column("line").to_list() == [70.0, 5.0]  # sorted by player_lookup: hi, lo


def test_no_prop_line_for_an_expected_player_without_lines():
    out = run(
        [snap("kd", "draftkings", 22.5)],
        boxes=[box("bench", "OKC", D - timedelta(days=2)), box("kd", "HOU", D - timedelta(days=2))],
    )
    r = row(out, "bench")
    assert (r["line_diagnostic"], r["line"], r["n_books"], r["has_line"]) == ("NO_PROP_LINE", None, 0, False)
    assert (r["diagnostic_detail"], r["rejected_line"], r["consensus_line"], r["expected_reason"]) == (
        None, None, None, "recent_appearance"
    )  # fmt: skip
    assert (r["team"], r["opponent"], r["is_home"], r["game_status"], r["tip_time_utc"]) == (
        "OKC",
        "HOU",
        True,
        "scheduled",
        TIP,
    )
    kd = row(out, "kd")
    assert (kd["expected_reason"], kd["team"], kd["opponent"], kd["is_home"]) == ("both", "HOU", "OKC", False)


# ---------------------------------------------------------------------------------------------
# expected players


def _appear(out: pl.DataFrame) -> set[str]:
    return set(out.get_column("player_lookup").to_list())


def test_appearance_window_edge():
    boxes = [box("edge30", "OKC", D - timedelta(days=30)), box("edge31", "OKC", D - timedelta(days=31)),
             box("dnp", "OKC", D - timedelta(days=2), played=False)]  # fmt: skip
    out = run([], boxes=boxes)
    assert _appear(out) == {"edge30"}


def test_traded_player_follows_his_newest_team():
    boxes = [
        box("traded", "DAL", D - timedelta(days=10), player_id=7),
        box("traded", "HOU", D - timedelta(days=3), player_id=7),
    ]
    r = row(run([], boxes=boxes), "traded")
    assert (r["team"], r["opponent"], r["is_home"], r["player_id"]) == ("HOU", "OKC", False, 7)
    # His old team plays D, his new one does not: not expected.
    assert run([], [game("20250115_DAL_SAS")], boxes).height == 0
    # Newest row is a DNP for the new team: he has not appeared for it.
    dnp = [box("traded", "DAL", D - timedelta(days=10)), box("traded", "HOU", D - timedelta(days=3), played=False)]
    assert run([], [game("20250115_DAL_SAS"), game("20250115_HOU_OKC")], dnp).height == 0


def test_out_players_excluded_unless_they_have_a_line():
    boxes = [box(p, "OKC", D - timedelta(days=1)) for p in ("hurt", "maybe", "hurtline")]
    injuries = [injury("hurt", "out"), injury("maybe", "questionable"), injury("hurtline", "out")]
    out = run([snap("hurtline", "draftkings", 14.5)], boxes=boxes, injuries=injuries)
    assert _appear(out) == {"maybe", "hurtline"}
    assert row(out, "maybe")["injury_status"] == "questionable"
    r = row(out, "hurtline")
    assert (r["expected_reason"], r["injury_status"], r["line"]) == ("has_line", "out", 14.5)
    # A report published after as_of was not known yet.
    late = [{**injury("hurt", "out"), "reported_at": PM}]
    assert "hurt" in _appear(run([], boxes=boxes, injuries=late, as_of=AM))
    assert "hurt" not in _appear(run([], boxes=boxes, injuries=late, as_of=PM))
    # Another date's report does not apply to D.
    assert "hurt" in _appear(run([], boxes=boxes, injuries=[injury("hurt", "out", D - timedelta(days=1))]))


def test_only_reports_captured_before_the_games_tip_count():
    """TIP is 00:30 UTC (19:30 ET); LATE_GAME tips 03:00 UTC (22:00 ET) on the same date; AFTER is
    01:00 UTC, after TIP and before LATE_GAME's tip (old rule: the day's newest report, for every game)."""
    after, late_tip, late_game = (
        datetime(2025, 1, 16, 1, 0, tzinfo=UTC),
        datetime(2025, 1, 16, 3, 0, tzinfo=UTC),
        "20250115_LAL_POR",
    )
    games = [game(GAME), game(late_game, tip=late_tip), game("20250115_MIA_NYK", tip=None)]
    boxes = [box("ingame", "OKC", D - timedelta(days=1)), box("scratch", "OKC", D - timedelta(days=1)),
             box("later", "POR", D - timedelta(days=1)), box("notip", "NYK", D - timedelta(days=1))]  # fmt: skip
    injuries = [
        {**injury("ingame", "questionable"), "reported_at": PM},  # before TIP ...
        {**injury("ingame", "out"), "reported_at": after},  # ... ruled out in-game: ignored for his game
        {**injury("scratch", "out"), "reported_at": after},  # only after TIP: nothing known for his game
        {**injury("linep", "out"), "reported_at": after},  # a line player, only after TIP
        {**injury("later", "out"), "reported_at": after},  # before LATE_GAME's tip: counts
        {**injury("notip", "out"), "reported_at": after},  # unknown tip: newest report of the date
    ]
    out = run([snap("linep", "draftkings", 12.5)], games, boxes, injuries)
    assert _appear(out) == {"ingame", "scratch", "linep"}
    assert row(out, "ingame")["injury_status"] == "questionable"
    assert row(out, "scratch")["injury_status"] is None
    assert row(out, "linep")["injury_status"] is None
    assert "later" not in set(out["player_lookup"]) and "notip" not in set(out["player_lookup"])


def test_line_only_player_without_history():
    r = row(run([snap("rookie", "draftkings", 8.5)]), "rookie")
    assert (r["team"], r["opponent"], r["is_home"], r["player_id"]) == (None, None, None, None)
    assert (r["game_id"], r["tip_time_utc"], r["expected_reason"], r["player_name"]) == (
        GAME,
        TIP,
        "has_line",
        "Rookie",
    )


LAST_SEASON = date(2024, 4, 14)  # 276 days before D: inside team_lookback_days (400), outside the 30-day window


def test_opening_night_line_player_takes_his_previous_team_from_the_game():
    """Issue 7: a player with a line and no box row in the last 30 days takes his newest team of
    the lookback when it is one of the line's two teams (the old build left team NULL, which
    blocks the row on every team feature)."""
    boxes = [box("stay", "DAL", date(2024, 1, 10), player_id=1), box("stay", "OKC", LAST_SEASON, player_id=1),
             box("away", "HOU", LAST_SEASON, player_id=2), box("gone", "DAL", LAST_SEASON, player_id=3),
             box("old", "OKC", D - timedelta(days=401), player_id=4)]  # fmt: skip
    snaps = [snap(p, "draftkings", 10.5) for p in ("stay", "away", "gone", "old")]
    out = run(snaps, boxes=boxes)
    s, a, g, o = (row(out, p) for p in ("stay", "away", "gone", "old"))
    # newest team OKC (not the older DAL) is the home team of HOU @ OKC
    assert (s["team"], s["opponent"], s["is_home"], s["player_id"], s["expected_reason"]) == (
        "OKC",
        "HOU",
        True,
        1,
        "has_line",
    )
    assert (a["team"], a["opponent"], a["is_home"], a["player_id"]) == ("HOU", "OKC", False, 2)
    # moved in the off-season to a team the box scores do not know: no guess, but his id is known
    assert (g["team"], g["opponent"], g["is_home"], g["player_id"]) == (None, None, None, 3)
    # beyond the lookback: nothing known
    assert (o["team"], o["player_id"]) == (None, None)
    # without a line, last season's appearance does not make anyone expected (30-day window)
    assert run([], boxes=boxes).height == 0
    # a shorter configured lookback is honoured
    short = run(snaps, boxes=boxes, config=LineConfig(team_lookback_days=200))
    assert row(short, "stay")["team"] is None and row(short, "stay")["player_id"] is None


def test_line_player_team_uses_only_rows_before_the_date():
    """The game's two teams are pre-game facts; box rows dated D or later are not."""
    history = [box("vet", "DAL", LAST_SEASON, player_id=5)]
    future = [box("vet", "OKC", D, player_id=5), box("vet", "OKC", D + timedelta(days=2), player_id=5)]
    snaps = [snap("vet", "draftkings", 9.5)]
    assert row(run(snaps, boxes=history + future), "vet")["team"] is None
    assert_frame_equal(run(snaps, boxes=history + future), run(snaps, boxes=history))


def test_line_in_another_game_moves_the_player():
    """A line on a game of another team than his newest (a trade the box scores do not know yet)."""
    other = "20250115_DAL_SAS"
    out = run([snap("moved", "draftkings", 11.5, game=other)], [game(GAME), game(other)],
              [box("moved", "OKC", D - timedelta(days=2), player_id=9)])  # fmt: skip
    assert out.height == 1
    r = row(out, "moved", other)
    assert (r["team"], r["opponent"], r["is_home"], r["player_id"], r["expected_reason"]) == (
        None,
        None,
        None,
        9,
        "has_line",
    )


def test_box_scores_of_the_target_date_and_later_are_ignored():
    history = [box("a", "OKC", D - timedelta(days=4)), box("b", "HOU", D - timedelta(days=40)),
               box("c", "OKC", D - timedelta(days=3)), box("c", "HOU", D - timedelta(days=20))]  # fmt: skip
    future = [box("a", "DAL", D), box("b", "HOU", D), box("newguy", "OKC", D), box("c", "HOU", D + timedelta(days=1))]
    snaps = [snap("a", "draftkings", 12.5), snap("newguy", "fanduel", 6.5)]
    without = run(snaps, boxes=history)
    assert_frame_equal(run(snaps, boxes=history + future), without)
    assert _appear(without) == {"a", "c", "newguy"}


def test_empty_inputs_give_an_empty_frame_with_the_schema():
    out = run([], [])
    assert out.height == 0 and out.schema == schemas.PLAYER_LINES
    with pytest.raises(ValueError, match="after"):
        run([], start=D, end=D - timedelta(days=1))


# ---------------------------------------------------------------------------------------------
# a range at once == its days one by one (simulated league: several snapshots a day, ladders, injuries)


@pytest.fixture(scope="module")
def sim_inputs(sim_data_dir):
    from nba_props.lib.sources.files import FilesProvider

    provider = FilesProvider(sim_data_dir)
    first, last = date(2024, 10, 1), date(2025, 6, 30)
    sched = provider.schedule(first, last).rows
    days = sorted(sched.filter(pl.col("status") == "final").get_column("game_date").unique().to_list())
    return {
        "days": days,
        "snapshots": provider.prop_line_snapshots(days[0], days[-1]).rows,
        "schedule": sched,
        "box": provider.box_scores(days[0], days[-1]).rows,
        "injuries": provider.injury_report(days[0], days[-1]).rows,
    }


def _window(inputs, start: date, end: date) -> pl.DataFrame:
    """build_player_lines with exactly the inputs its contract asks for."""
    cfg = LineConfig()

    def span(f, lo, hi):
        return f.filter(pl.col("game_date").is_between(lo, hi))

    return build_player_lines(
        span(inputs["snapshots"], start - timedelta(days=cfg.lookback_days), end),
        span(inputs["schedule"], start, end),
        span(inputs["box"], start - timedelta(days=cfg.box_history_days), max(inputs["days"])),  # later rows too
        span(inputs["injuries"], start, end),
        start=start,
        end=end,
        config=cfg,
    )


def test_range_at_once_equals_concatenated_days(sim_inputs):
    days = sim_inputs["days"]
    assert len(days) >= 10
    start, end = days[3], days[-1]
    whole = _window(sim_inputs, start, end)
    singles = pl.concat([_window(sim_inputs, d, d) for d in days[3:]])
    assert_frame_equal(whole, singles)
    counts = dict(whole.group_by("line_diagnostic").len().iter_rows())
    assert counts["LINE_SOURCE"] > 0 and counts["NO_PROP_LINE"] > 0
    sourced = whole.filter(pl.col("line_diagnostic") == "LINE_SOURCE")
    assert sourced.get_column("line").is_between(5.0, 70.0).all()
    assert (sourced.get_column("line_book") == "draftkings").mean() > 0.8  # draftkings prices ~93% of lines
    assert sourced.get_column("opening_line").is_not_null().all()
    assert whole.filter(pl.col("line_diagnostic") != "LINE_SOURCE").get_column("line").is_null().all()
    # Whole season timing is a benchmark matter; here only correctness.


# ---------------------------------------------------------------------------------------------
# line history (issue 7): board order, ladders only for ladder books, market type, pulled lines


def run_diag(snaps: list[dict], games: list[dict] | None = None, boxes: list[dict] | None = None, **kw):
    out, diag = build_player_lines_with_diagnostics(
        frame(snaps, schemas.PROP_LINE_SNAPSHOTS),
        frame([game(GAME)] if games is None else games, schemas.SCHEDULE),
        frame(boxes or [], schemas.BOX_SCORES),
        frame([], schemas.INJURY_REPORT),
        start=D, end=D, **kw,
    )  # fmt: skip
    assert out.schema == schemas.PLAYER_LINES
    return out, diag


def _board(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    """A DFS board file: (player, book, side, line) rows of the HOU @ OKC game of D (tip TIP)."""
    header = "player,market,bookmaker,side,line,price,home_team,away_team,game_id,commence_time\n"
    body = "".join(
        f"{p},player_points,{b},{side},{line},-137,Oklahoma City Thunder,Houston Rockets,g1,2025-01-16T00:30:00Z\n"
        for p, b, side, line in rows
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + body)


def test_newest_dfs_board_supersedes_older_boards(tmp_path: Path):
    """Two boards list the 19:30 ET game of D; the line moved from 20.5 to 22.5 (PrizePicks) and
    from 14.5 to 13.5 (Underdog). Formerly both boards were stamped at the tip and became rungs of
    one ladder: the lower middle rung won (20.5, 13.5). Now the newest board (01_16, stamped
    00:00 UTC Jan 16, before the 00:30 UTC tip) wins, and the older board is the opening line."""
    from nba_props.lib.sources.files import FilesProvider

    two_sided = lambda p, b, line: [(p, b, "Over", line), (p, b, "Under", line)]  # noqa: E731
    folder = tmp_path / "odds" / "dfs_lines"
    _board(
        folder / "01_15_2025.csv",
        two_sided("Kevin Durant", "PrizePicks", "20.5") + two_sided("Jalen Green", "Underdog", "14.5"),
    )
    _board(
        folder / "01_16_2025.csv",
        two_sided("Kevin Durant", "PrizePicks", "22.5")
        + two_sided("Jalen Green", "Underdog", "13.5")
        + [("Kevin Durant", "PrizePicks", "Over", "17.5")],
    )  # a one-sided promo line beside 22.5: not a rung
    snaps = FilesProvider(tmp_path).prop_line_snapshots(D - timedelta(days=1), D).rows
    assert sorted(snaps.get_column("captured_at").unique().to_list()) == [
        datetime(2025, 1, 15, tzinfo=UTC),
        datetime(2025, 1, 16, tzinfo=UTC),
    ]
    out, diag = run_diag(snaps.to_dicts())
    kd, jg = row(out, "kevindurant"), row(out, "jalengreen")
    assert (kd["line"], kd["opening_line"], kd["line_move"], kd["line_book"], kd["market_type"]) == (
        22.5,
        20.5,
        2.0,
        "prizepicks",
        "dfs",
    )
    assert (jg["line"], jg["opening_line"], jg["line_move"], jg["market_type"]) == (13.5, 14.5, -1.0, "dfs")
    assert kd["line_captured_at"] == datetime(2025, 1, 16, tzinfo=UTC)
    assert diag["duplicate_line_snapshots"] == {} and diag["ladder_snapshots"] == 0
    assert diag["chosen_market_types"] == {"dfs": 2}


def test_ladders_only_for_ladder_books_and_duplicates_are_counted():
    # bovada (a ladder book) 21.5 / 22.5 / 23.5 unpriced: a ladder, median rung 22.5.
    # fanduel (not a ladder book) posts 24.5 and 25.5 in one snapshot: a duplicate, picked by the
    # same deterministic rule (prices closest to even: 24.5 -110/-110 is 0.5, 25.5 +120/-150 is
    # 0.4545/(0.4545+0.6) = 0.4310) and counted.
    rows = [snap("kd", "bovada", x, None, None) for x in (23.5, 21.5, 22.5)]
    rows += [snap("kd", "fanduel", 24.5), snap("kd", "fanduel", 25.5, 120, -150), snap("jg", "fanduel", 12.5)]
    out, diag = run_diag(rows)
    kd = row(out, "kd")
    assert (kd["line_book"], kd["line"], kd["n_books"], kd["consensus_line"]) == ("fanduel", 24.5, 2, 23.5)
    assert diag["ladder_snapshots"] == 1 and diag["duplicate_line_snapshots"] == {"fanduel": 1}
    # Declared a ladder book, fanduel's two lines are a ladder, not a duplicate.
    _, diag = run_diag(rows, config=LineConfig(ladder_books=("bovada", "fanduel")))
    assert diag["ladder_snapshots"] == 2 and diag["duplicate_line_snapshots"] == {}


def test_market_type_of_the_chosen_line():
    rows = [
        snap("kd", "draftkings", 24.5),
        snap("kd", "prizepicks", 25.5, None, None, source="dfs"),  # a DFS book: dfs, but draftkings is chosen
        snap("jg", "prizepicks", 14.5, None, None),  # dfs by its book even from another source
        snap("sg", "newdfs", 18.5, None, None, source="dfs"),  # dfs by its source
        snap("low", "draftkings", 2.5),  # rejected: no chosen line
    ]
    out, diag = run_diag(rows, boxes=[box("bench", "OKC", D - timedelta(days=1))])
    got = {r["player_lookup"]: (r["market_type"], r["line"]) for r in out.iter_rows(named=True)}
    assert got == {
        "kd": ("sportsbook", 24.5),
        "jg": ("dfs", 14.5),
        "sg": ("dfs", 18.5),
        "low": (None, None),
        "bench": (None, None),
    }
    assert diag["chosen_market_types"] == {"dfs": 2, "sportsbook": 1}


def test_a_pulled_line_is_not_used():
    """draftkings' newest pre-tip snapshot of the game (PM) lists jg but no longer kd: kd's
    draftkings line (AM) was pulled, so fanduel's line is used. betmgm lists kd at AM only but
    its PM snapshot does not list the game at all (only another game): not pulled. A snapshot
    after the tip does not count as the newest."""
    other = "20250115_DAL_SAS"
    rows = [
        snap("kd", "draftkings", 24.5, at=AM), snap("jg", "draftkings", 14.5, at=AM),
        snap("jg", "draftkings", 15.5, at=PM),  # kd missing from draftkings' PM snapshot
        snap("kd", "fanduel", 25.5, at=PM),
        snap("kd", "betmgm", 23.5, at=AM),
        snap("lk", "betmgm", 20.5, at=PM, game=other),  # betmgm's PM snapshot of another game
        snap("jg", "fanduel", 14.5, at=PM),
        snap("zz", "fanduel", 9.5, at=TIP + timedelta(minutes=5)),  # in-game: unusable, pulls nobody
    ]  # fmt: skip
    out, diag = run_diag(rows, [game(GAME), game(other)])
    kd, jg = row(out, "kd"), row(out, "jg")
    # kd: fanduel 25.5 (draftkings pulled) and betmgm 23.5: median 24.5; formerly draftkings 24.5 was chosen
    assert (kd["line_book"], kd["line"], kd["n_books"], kd["consensus_line"]) == ("fanduel", 25.5, 2, 24.5)
    assert (jg["line_book"], jg["line"], jg["opening_line"], jg["n_books"]) == ("draftkings", 15.5, 14.5, 2)
    assert diag["pulled_lines"] == {"draftkings": 1} and diag["pulled_without_other_line"] == 0
    # Pulled by his only book: no line left.
    alone = [snap("kd", "draftkings", 24.5, at=AM), snap("jg", "draftkings", 14.5, at=PM)]
    out, diag = run_diag(alone, boxes=[box("kd", "OKC", D - timedelta(days=2))])
    assert (row(out, "kd")["line_diagnostic"], row(out, "kd")["line"]) == ("NO_PROP_LINE", None)
    assert diag["pulled_lines"] == {"draftkings": 1} and diag["pulled_without_other_line"] == 1
    # Before the PM snapshot existed (as_of), kd was listed.
    out, diag = run_diag(alone, as_of=PM - timedelta(hours=1))
    assert row(out, "kd")["line"] == 24.5 and diag["pulled_lines"] == {}


def test_simulated_post_tip_report_is_ignored_for_its_game(sim_inputs):
    """The simulator's weekly report captured after the earliest tip rules out a player who played in
    that game. For that game he keeps his pre-tip status (not listed -> NULL, expected as a recent
    appearance) in player_lines and injury_risk 0 in the features; the old newest-of-the-day rule
    made him "out" (and dropped him from the recent-appearance set)."""
    from nba_props.lib.features.inputs import FeatureInputs
    from nba_props.lib.features.team_context import team_context_features

    inj, sched = sim_inputs["injuries"], sim_inputs["schedule"]
    day = next(d for d in sim_inputs["days"] if d.isocalendar()[:2] != sim_inputs["days"][0].isocalendar()[:2])
    todays = inj.filter(pl.col("game_date") == day)
    last = todays["reported_at"].max()
    earlier = todays.filter(pl.col("reported_at") < last)["player_lookup"]
    (player,) = todays.filter((pl.col("reported_at") == last) & ~pl.col("player_lookup").is_in(earlier))[
        "player_lookup"
    ]
    assert todays.filter(pl.col("player_lookup") == player)["status"].to_list() == ["out"]
    lines = _window(sim_inputs, day, day)
    r = lines.filter(pl.col("player_lookup") == player).to_dicts()
    assert len(r) == 1 and r[0]["tip_time_utc"] < last
    assert r[0]["injury_status"] is None and r[0]["expected_reason"] in ("recent_appearance", "both")
    box = sim_inputs["box"]
    features = team_context_features(
        FeatureInputs(targets=lines, box_history=box.filter(pl.col("game_date") < day), line_history=lines,
                      schedule=sched.filter(pl.col("game_date") == day), injuries=inj.filter(pl.col("game_date") == day))
    )  # fmt: skip
    assert features.filter(pl.col("player_lookup") == player)["injury_risk"].to_list() == [0.0]
