"""`build_player_lines` on the real data in ../shared/data/nba (skipped when the folder is absent).

The 2025-26 Odds API snapshots (2025-10-21 .. 2025-11-23, one snapshot a day at 17:00 UTC, eight
books, bovada / betrivers ladders) and the 2024-25 DFS boards (PrizePicks / Underdog, no prices).
"""

from __future__ import annotations

import math
import time
from datetime import date, timedelta

import polars as pl
import pytest

from nba_props.lib import schemas
from nba_props.lib.lines import LineConfig, build_player_lines
from nba_props.lib.sources.files import FilesProvider
from nba_props_tests.conftest import shared_data_or_skip

pytestmark = pytest.mark.real_data


DATA = shared_data_or_skip("odds/the_odds_api_snapshots", "box_scores")

ODDS_SPAN = (date(2025, 10, 21), date(2025, 11, 23))
DFS_SPAN = (date(2024, 10, 22), date(2025, 1, 12))
CONFIG = LineConfig()


def _build(start: date, end: date) -> tuple[pl.DataFrame, pl.DataFrame, float]:
    provider = FilesProvider(DATA)
    snapshots = provider.prop_line_snapshots(start - timedelta(days=CONFIG.lookback_days), end).rows
    schedule = provider.schedule(start, end).rows
    box = provider.box_scores(start - timedelta(days=CONFIG.box_history_days), end).rows
    injuries = provider.injury_report(start, end).rows
    began = time.perf_counter()
    out = build_player_lines(snapshots, schedule, box, injuries, start=start, end=end, config=CONFIG)
    seconds = time.perf_counter() - began
    return out, snapshots, seconds


@pytest.fixture(scope="module")
def odds_window():
    out, snapshots, seconds = _build(*ODDS_SPAN)
    counts = dict(out.group_by("line_diagnostic").len().iter_rows())
    print(f"\nplayer_lines {ODDS_SPAN[0]}..{ODDS_SPAN[1]}: {out.height} rows in {seconds:.3f}s; {counts}")
    return out, snapshots


def _priority_rank(book: pl.Expr) -> pl.Expr:
    ranks = {b: i for i, b in enumerate(CONFIG.book_priority)}
    return book.replace_strict(ranks, default=len(ranks), return_dtype=pl.Int32)


def test_kevin_durant_opening_night():
    """raw_20251021_170000.csv, Kevin Durant player_points rows (HOU @ OKC, tip 23:35 UTC):
    draftkings 23.5 -119/-107, fanduel 23.5, williamhill_us 23.5, betonlineag 24.5, fanatics 24.5,
    betmgm 24.5; bovada ladder 20.5..28.5 whose rung closest to even is 24.5 -105/-125 (de-vigged
    0.4797; 23.5 -130/+100 is 0.5306); betrivers ladder 22.5..25.5 whose main is 23.5 -124/-107
    (0.5171; 24.5 -105/-127 is 0.4779). Eight books: four at 23.5, four at 24.5 -> median 24.0,
    sample std sqrt(8 * 0.25 / 7) = 0.534522."""
    raw = pl.read_csv(DATA / "odds" / "the_odds_api_snapshots" / "raw_20251021_170000.csv")
    kd_raw = raw.filter((pl.col("player") == "Kevin Durant") & (pl.col("market") == "player_points"))
    assert kd_raw.get_column("bookmaker").n_unique() == 8

    out, _, _ = _build(ODDS_SPAN[0], ODDS_SPAN[0])
    kd = out.filter(pl.col("player_lookup") == "kevindurant")
    assert kd.height == 1
    r = kd.row(0, named=True)
    assert (r["game_id"], r["line_diagnostic"], r["diagnostic_detail"]) == (
        "20251021_HOU_OKC",
        "LINE_SOURCE",
        "draftkings",
    )
    assert (r["line_book"], r["line"], r["over_price"], r["under_price"]) == ("draftkings", 23.5, -119, -107)
    p_over, p_under = 119 / 219, 107 / 207
    assert r["implied_over_prob"] == pytest.approx(p_over / (p_over + p_under))
    assert (r["n_books"], r["consensus_line"]) == (8, 24.0)
    assert r["multi_book_line_std"] == pytest.approx(math.sqrt(2 / 7))
    assert (r["opening_line"], r["line_move"], r["prop_line_delta"], r["rejected_line"]) == (23.5, 0.0, None, None)
    # Opening night: no box score before it, so the line alone makes him expected.
    assert (r["expected_reason"], r["team"], r["has_line"]) == ("has_line", None, True)


def test_odds_window_rows_and_diagnostics(odds_window):
    out, _ = odds_window
    assert out.schema == schemas.PLAYER_LINES and out.height > 0
    assert out.select(schemas.PLAYER_LINES_KEY).is_duplicated().sum() == 0
    assert out.equals(out.sort("game_date", "game_id", "player_lookup"))
    assert out.get_column("game_date").is_between(*ODDS_SPAN).all()
    assert out.get_column("line_diagnostic").is_in(schemas.LINE_DIAGNOSTICS).all()
    source = pl.col("line_diagnostic") == "LINE_SOURCE"
    assert out.filter(source).get_column("line").is_between(CONFIG.sanity.min_line, CONFIG.sanity.max_line).all()
    assert out.filter(~source).get_column("line").is_null().all()
    assert out.filter(source).get_column("market_type").eq("sportsbook").all()  # The Odds API books are priced
    assert out.filter(~source).get_column("market_type").is_null().all()
    rejected = pl.col("line_diagnostic") == "LINE_SANITY_REJECT"
    assert out.select((pl.col("rejected_line").is_not_null() == rejected).all()).item()
    assert out.filter(source).select((pl.col("line_book") == pl.col("diagnostic_detail")).all()).item()
    # No sentinels: a missing line is NULL, never 0 or 20.
    assert out.filter(pl.col("line_diagnostic") == "NO_PROP_LINE").get_column("has_line").not_().all()
    assert out.get_column("tip_time_utc").is_not_null().all()  # schedule has no tips: taken from the snapshots
    assert set(out.get_column("expected_reason").unique()) == {"recent_appearance", "has_line", "both"}


def test_odds_window_books_follow_the_priority(odds_window):
    """The chosen book is never outranked by a book whose every points row that day was sane
    (then its main line is sane, whatever rung is main)."""
    out, snapshots = odds_window
    band = CONFIG.sanity
    sane_books = (
        snapshots.filter(pl.col("market") == CONFIG.points_market)
        .group_by("game_id", "player_lookup", "bookmaker")
        .agg(all_sane=pl.col("line").is_between(band.min_line, band.max_line).all())
        .filter("all_sane")
        .group_by("game_id", "player_lookup")
        .agg(best_rank=_priority_rank(pl.col("bookmaker")).min())
    )
    chosen = out.filter(pl.col("line_diagnostic") == "LINE_SOURCE").with_columns(
        rank=_priority_rank(pl.col("line_book"))
    )
    checked = chosen.join(sane_books, on=["game_id", "player_lookup"], how="inner")
    assert checked.height > 0.95 * chosen.height
    assert checked.filter(pl.col("rank") > pl.col("best_rank")).height == 0
    books = chosen.group_by("line_book").len().sort("len", descending=True)
    print("\nLINE_SOURCE books:", dict(books.iter_rows()))
    assert books.row(0)[0] == "draftkings"


def test_dfs_window_uses_unpriced_board_lines():
    out, _, seconds = _build(*DFS_SPAN)
    counts = dict(out.group_by("line_diagnostic").len().iter_rows())
    print(f"\nplayer_lines {DFS_SPAN[0]}..{DFS_SPAN[1]} (DFS): {out.height} rows in {seconds:.3f}s; {counts}")
    sourced = out.filter(pl.col("line_diagnostic") == "LINE_SOURCE")
    assert sourced.height > 0
    assert set(sourced.get_column("line_book").unique()) <= {"prizepicks", "underdog"}
    assert sourced.get_column("over_price").is_null().all() and sourced.get_column("implied_over_prob").is_null().all()


def _newest_board_lines() -> pl.DataFrame:
    """Straight from the raw boards (not through the reader): per (game, player, book) of the DFS
    window, the number of distinct points lines over all boards and the newest board's line
    (a two-sided line before a one-sided promo line of the same board)."""
    from datetime import datetime

    from nba_props.lib import identity

    frames = []
    for path in sorted((DATA / "odds" / "dfs_lines").glob("*.csv")):
        board = datetime.strptime(path.stem, "%m_%d_%Y").date()
        frames.append(pl.read_csv(path, infer_schema=False).with_columns(board=pl.lit(board)))
    tip = pl.col("commence_time").str.to_datetime(time_zone="UTC")
    raw = (
        pl.concat(frames, how="diagonal_relaxed")
        .filter(pl.col("market") == "player_points")
        .with_columns(
            game_date=tip.dt.convert_time_zone("America/New_York").dt.date(),
            player_lookup=identity.player_lookup_expr(pl.col("player")),
            bookmaker=pl.col("bookmaker").str.to_lowercase(),
            line=pl.col("line").cast(pl.Float64),
        )
        .with_columns(
            game_id=identity.game_id_expr(
                pl.col("game_date"),
                identity.team_tricode_expr(pl.col("away_team")),
                identity.team_tricode_expr(pl.col("home_team")),
            )
        )
        .filter(pl.col("game_date").is_between(*DFS_SPAN))
    )
    key = ["game_id", "player_lookup", "bookmaker"]
    sides = raw.group_by("board", *key, "line").agg(n_sides=pl.col("side").n_unique())
    newest = (
        sides.sort("board", "n_sides", "line", descending=[True, True, False])
        .unique(key, keep="first", maintain_order=True)
        .select(*key, newest="line")
    )
    return sides.group_by(key).agg(n_lines=pl.col("line").n_unique()).join(newest, on=key)


def test_dfs_chosen_line_is_the_newest_boards_line():
    """Issue 7: the same game appears on two or three daily boards with moved lines. Measured
    before the fix on this window: 465 of 10,684 (game, player, book) keys have 2+ lines; the
    chosen line differed from the newest board's for 311 of them, by -1.03 points on average
    (-0.69 over all 464 with a line): a bias towards OVER. Now every board is its own snapshot
    and the newest one wins: no difference, no bias."""
    provider = FilesProvider(DATA)
    start, end = DFS_SPAN
    snapshots = provider.prop_line_snapshots(start - timedelta(days=CONFIG.lookback_days), end).rows
    schedule = provider.schedule(start, end).rows
    box = provider.box_scores(start - timedelta(days=CONFIG.appearance_window_days), end).rows
    injuries = provider.injury_report(start, end).rows
    per_book = []
    for book in ("prizepicks", "underdog"):  # one book at a time: each book's own chosen line
        out = build_player_lines(snapshots.filter(pl.col("bookmaker") == book), schedule, box, injuries,
                                 start=start, end=end, config=CONFIG)  # fmt: skip
        assert out.filter(pl.col("line").is_not_null()).get_column("market_type").eq("dfs").all()
        per_book.append(
            out.filter(pl.col("line").is_not_null()).select(
                "game_id", "player_lookup", bookmaker="line_book", chosen="line"
            )
        )
    chosen = pl.concat(per_book)
    boards = _newest_board_lines()
    multi = boards.filter(pl.col("n_lines") >= 2).join(
        chosen, on=["game_id", "player_lookup", "bookmaker"], how="inner"
    )
    differ = multi.filter(pl.col("chosen") != pl.col("newest"))
    bias = (multi["chosen"] - multi["newest"]).mean()
    print(f"\nDFS keys {boards.height}, with 2+ lines {boards.filter(pl.col('n_lines') >= 2).height}, "
          f"of them with a chosen line {multi.height}; chosen != newest: {differ.height}; mean(chosen - newest) {bias:+.3f}")  # fmt: skip
    assert boards.height > 10_000 and multi.height > 400
    assert differ.height == 0, differ.head()
    assert bias == 0.0
    # Keys with a single line everywhere keep it too (when the book still lists the player).
    single = boards.filter(pl.col("n_lines") == 1).join(
        chosen, on=["game_id", "player_lookup", "bookmaker"], how="inner"
    )
    assert single.height > 9_000 and single.filter(pl.col("chosen") != pl.col("newest")).height == 0


OPENING_WEEK = (date(2025, 10, 21), date(2025, 10, 27))


def test_opening_week_line_players_get_their_team_from_the_game():
    """Issue 7: opening week 2025-10-21..27 has 764 rows with a line (752 with a chosen one); with
    only the last 30 days of box scores 220 of them had no team (the 218 chosen-line ones all
    blocked on the team features). A lined player now
    takes his newest team of the 400-day lookback (last season's) when it plays the line's game.
    What stays NULL are rookies and off-season moves (51 measured): none of them has a newest
    team in the line's game.

    Hand check from box_scores/player_logs_2024-25.csv: Shai Gilgeous-Alexander's last 2024-25
    row is 2025-04-02, OKC ("OKC vs. DET") -> OKC, home against HOU on 2025-10-21; Kevin Durant's
    is PHX and Al Horford's BOS, teams not in HOU @ OKC / GSW @ LAL -> NULL (moved)."""
    out, _, _ = _build(*OPENING_WEEK)
    lined = out.filter(pl.col("has_line"))
    null_team = lined.filter(pl.col("team").is_null())
    print(f"\nopening week: {lined.height} lined rows, {null_team.height} without a team")
    assert lined.height > 700
    assert null_team.height < 0.1 * lined.height  # was 220 / 764 with 30 days of box scores
    sga = out.filter((pl.col("player_lookup") == "shaigilgeousalexander") & (pl.col("game_date") == OPENING_WEEK[0]))
    assert sga.select("game_id", "team", "opponent", "is_home", "player_id").row(0) == (
        "20251021_HOU_OKC", "OKC", "HOU", True, 1628983
    )  # fmt: skip
    first = out.filter(pl.col("game_date") == OPENING_WEEK[0])
    for player, game_id in (("kevindurant", "20251021_HOU_OKC"), ("alhorford", "20251021_GSW_LAL")):
        r = first.filter(pl.col("player_lookup") == player).row(0, named=True)
        assert (r["game_id"], r["team"], r["has_line"]) == (game_id, None, True), player
    # every remaining NULL team is a player whose newest box team (before the date) is not in the game
    box = (
        FilesProvider(DATA)
        .box_scores(OPENING_WEEK[0] - timedelta(days=CONFIG.team_lookback_days), OPENING_WEEK[1])
        .rows
    )
    newest = (
        null_team.select("game_date", "game_id", "player_lookup")
        .join(box.select("player_lookup", "team", box_date="game_date"), on="player_lookup", how="left")
        .filter(pl.col("box_date").is_null() | (pl.col("box_date") < pl.col("game_date")))
        .sort("box_date", nulls_last=False)
        .group_by("game_date", "game_id", "player_lookup")
        .agg(pl.col("team").last())
    )
    in_game = (
        newest.filter(pl.col("team").is_not_null())
        .with_columns(sides=pl.col("game_id").str.split("_").list.slice(1, 2))
        .filter(pl.col("sides").list.contains(pl.col("team")))
    )
    assert in_game.height == 0
