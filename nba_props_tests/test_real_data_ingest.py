"""The files provider on the real data in ../shared/data/nba (skipped when the folder is absent).

The numbers asserted here were measured on that folder; see its README for what each file is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from nba_props.lib import ingest_checks, schemas
from nba_props.lib.matching import classify_unmatched_lines, match_rate
from nba_props.lib.sources.files import FilesProvider
from nba_props_tests.conftest import shared_data_or_skip

pytestmark = pytest.mark.real_data


DATA = shared_data_or_skip("box_scores")

# Regular-season player rows per season (the 2025-26 file runs 2025-10-21 .. 2026-01-26).
BOX_ROWS = {"2021-22": 26_039, "2022-23": 25_895, "2023-24": 26_401, "2024-25": 26_306, "2025-26": 14_991}
SEASON_SPAN = {s: (date(int(s[:4]), 10, 1), date(int(s[:4]) + 1, 6, 30)) for s in BOX_ROWS}
COMPLETE_SEASONS = ("2021-22", "2022-23", "2023-24", "2024-25")
ODDS_SPAN = (date(2025, 10, 21), date(2025, 11, 23))
DFS_SPAN = (date(2024, 10, 22), date(2025, 1, 12))


@pytest.fixture(scope="module")
def provider() -> FilesProvider:
    return FilesProvider(DATA)


@pytest.fixture(scope="module")
def box(provider) -> dict[str, pl.DataFrame]:
    out = {}
    for season, (start, end) in SEASON_SPAN.items():
        parsed = provider.box_scores(start, end)
        assert parsed.quarantine.height == 0, parsed.quarantine.head()
        out[season] = parsed.rows
    return out


@pytest.fixture(scope="module")
def schedule(provider) -> pl.DataFrame:
    parsed = provider.schedule(SEASON_SPAN["2021-22"][0], SEASON_SPAN["2025-26"][1])
    assert parsed.quarantine.height == 0, parsed.quarantine.head()
    return parsed.rows


@pytest.fixture(scope="module")
def odds_api_lines(provider) -> pl.DataFrame:
    parsed = provider.prop_line_snapshots(*ODDS_SPAN)
    assert parsed.quarantine.height == 0, parsed.quarantine.head()
    return parsed.rows.filter(pl.col("source") == "the_odds_api")


def test_box_score_row_counts_per_season(box):
    assert {season: frame.height for season, frame in box.items()} == BOX_ROWS
    for frame in box.values():
        assert frame.schema == schemas.BOX_SCORES
        assert ingest_checks.duplicate_keys(frame, schemas.BOX_SCORES_KEY).height == 0
        assert frame.get_column("played").all() and frame.get_column("starter").is_null().all()
        assert frame.select(pl.col("points").min(), pl.col("minutes").min()).row(0) >= (0, 0.0)


def test_player_points_sum_to_team_points(box):
    """Every 2021-22 .. 2024-25 regular-season team-game: summed player points == team PTS."""
    team_games = pl.concat(
        pl.read_csv(DATA / "team_games" / f"team_games_{s}.csv", infer_schema=False) for s in COMPLETE_SEASONS
    ).filter(pl.col("SEASON_ID").str.starts_with("2"))
    official = team_games.select(
        nba_game_id=pl.col("GAME_ID"), team=pl.col("TEAM_ABBREVIATION"), pts=pl.col("PTS").cast(pl.Int64)
    )
    summed = (
        pl.concat(box[s] for s in COMPLETE_SEASONS)
        .group_by("nba_game_id", "team")
        .agg(player_points=pl.col("points").sum().cast(pl.Int64))
    )
    joined = official.join(summed, on=["nba_game_id", "team"], how="full", coalesce=True)
    assert joined.height == 4 * 2 * 1230
    assert joined.filter(pl.col("pts") != pl.col("player_points")).height == 0
    assert joined.null_count().sum_horizontal().item() == 0


def test_schedule_seasons_and_agreement_with_box_scores(schedule, box):
    regular = schedule.filter(pl.col("season_type") == "regular").group_by("season").len().sort("season")
    assert dict(regular.iter_rows()) == dict.fromkeys(BOX_ROWS, 1230)
    assert schedule.filter(pl.col("season") == "2025-26", pl.col("season_type") == "regular").height == 1230
    assert ingest_checks.duplicate_keys(schedule, schemas.SCHEDULE_KEY).height == 0
    all_box = pl.concat(box.values())
    # Same canonical game ids in both tables, neutral-site games included (Mexico City, Paris,
    # Berlin, London, Las Vegas: nba_api writes "@" on both team rows there).
    assert ingest_checks.games_missing_from_schedule(all_box, schedule).height == 0
    # Final scores come from team_games (2021-22 .. 2024-25) and agree with the box scores.
    assert ingest_checks.team_points_mismatches(all_box, schedule).height == 0
    scored = schedule.filter(pl.col("season").is_in(COMPLETE_SEASONS), pl.col("home_points").is_not_null())
    assert scored.height == schedule.filter(pl.col("season").is_in(COMPLETE_SEASONS)).height


def test_cdn_schedule_json_with_the_team_row_csvs(tmp_path):
    """The real CDN payloads (from fixtures/, linked into a schedule/ folder) read through the provider."""
    folder = tmp_path / "schedule"
    folder.mkdir()
    for name in ("schedule_api_2024-25_full.json.gz", "schedule_cdn_2025-26_excerpt.json"):
        (folder / name).symlink_to(DATA / "fixtures" / "nba_stats" / name)
    for csv in (DATA / "schedule").glob("2024-25_*.csv"):
        (folder / csv.name).symlink_to(csv)
    (tmp_path / "team_games").mkdir()
    (tmp_path / "team_games" / "team_games_2024-25.csv").symlink_to(DATA / "team_games" / "team_games_2024-25.csv")
    provider = FilesProvider(tmp_path)

    full = provider.schedule(date(2024, 10, 1), date(2025, 6, 30))
    # 1,400 games in the payload; the 10 against non-NBA teams (Breakers, Ulm, the All-Star
    # teams) are quarantined, never silently dropped.
    assert full.rows.height == 1390 and full.quarantine.height == 10
    assert full.quarantine.get_column("reason").str.starts_with("unknown_team:").all()
    assert set(full.rows.get_column("source")) == {"nba_cdn"}  # the JSON wins over the CSVs
    kinds = dict(full.rows.group_by("season_type").len().iter_rows())
    assert kinds == {"preseason": 69, "regular": 1230, "playoffs": 84, "play_in": 6, "cup_final": 1}
    # The CSV-only reading (no JSON) gives the same canonical ids for the same games.
    csv_only = FilesProvider(DATA).schedule(date(2024, 10, 1), date(2025, 6, 30)).rows
    json_ids = full.rows.filter(pl.col("season_type").is_in(["regular", "play_in", "playoffs"]))
    assert set(json_ids.get_column("game_id")) == set(csv_only.get_column("game_id"))

    excerpt = provider.schedule(date(2025, 10, 17), date(2025, 10, 17)).rows
    # 22:30 ET tip = 02:30 UTC on the 18th: it stays on the ET date.
    assert excerpt.filter(pl.col("game_id") == "20251017_SAC_LAL").select("tip_time_utc", "status").row(0) == (
        datetime(2025, 10, 18, 2, 30, tzinfo=UTC),
        "scheduled",
    )


def test_odds_api_snapshots(provider, odds_api_lines):
    parsed = provider.prop_line_snapshots(*ODDS_SPAN)
    assert parsed.skipped["other_market"] == 124_198
    assert odds_api_lines.height == 47_585
    assert ingest_checks.duplicate_keys(odds_api_lines, schemas.PROP_LINE_SNAPSHOTS_KEY).height == 0
    assert odds_api_lines.get_column("bookmaker").n_unique() == 8

    durant = odds_api_lines.filter(pl.col("game_date") == date(2025, 10, 21), pl.col("player_lookup") == "kevindurant")
    assert durant.filter(pl.col("bookmaker") == "draftkings").select(
        "game_id", "line", "over_price", "under_price", "captured_at"
    ).rows() == [("20251021_HOU_OKC", 23.5, -119, -107, datetime(2025, 10, 21, 17, tzinfo=UTC))]
    # bovada posts an alternate-line ladder: every rung is kept.
    assert durant.filter(pl.col("bookmaker") == "bovada").get_column("line").to_list() == [
        20.5, 21.5, 22.5, 23.5, 24.5, 25.5, 26.5, 27.5, 28.5
    ]  # fmt: skip

    # New Orleans @ LA Clippers tipped at 22:30 ET on Oct 31 (02:30 UTC on Nov 1).
    late = odds_api_lines.filter(pl.col("game_id").str.ends_with("_NOP_LAC"))
    assert late.select("game_date", "game_id", "tip_time_utc").unique().rows() == [
        (date(2025, 10, 31), "20251031_NOP_LAC", datetime(2025, 11, 1, 2, 30, tzinfo=UTC))
    ]


def test_single_day_reads_match_the_range_read(provider, odds_api_lines):
    day = date(2025, 10, 31)
    single = provider.prop_line_snapshots(day, day).rows.filter(pl.col("source") == "the_odds_api")
    assert single.equals(odds_api_lines.filter(pl.col("game_date") == day))
    assert provider.prop_line_snapshots(day, day, as_of=datetime(2025, 10, 31, 16, tzinfo=UTC)).rows.height == 0


def test_lines_join_box_scores(provider, odds_api_lines, box):
    """≥ 90% of 2025-26 points-line player-games find a box-score row on (game_date, player_lookup)."""
    classified = classify_unmatched_lines(odds_api_lines, box["2025-26"])
    rate = match_rate(classified)
    print(f"\n2025-26 line/box-score join: {rate:.2%} of {classified.height} player-games")
    assert rate >= 0.90
    assert set(classified.get_column("match_status")) == {"matched", "did_not_play"}
    # Nothing dropped: one status per player-game with a line.
    assert classified.height == odds_api_lines.select("game_date", "player_lookup").n_unique()
    # Every did-not-play is a real absence: the game was played (its box score exists) and the
    # name is one the box scores know (so it is not a normalisation miss).
    dnp = classified.filter(pl.col("match_status") == "did_not_play")
    assert dnp.join(box["2025-26"].select("game_id").unique(), on="game_id", how="anti").height == 0
    assert dnp.join(box["2025-26"].select("player_lookup").unique(), on="player_lookup", how="anti").height == 0


def test_dfs_boards(provider):
    parsed = provider.prop_line_snapshots(*DFS_SPAN)
    dfs = parsed.rows.filter(pl.col("source") == "dfs")
    assert set(dfs.get_column("bookmaker")) == {"prizepicks", "underdog"}
    assert dfs.get_column("over_price").is_null().all() and dfs.get_column("under_price").is_null().all()
    # Each board is one snapshot stamped with its file date at 00:00 UTC (issue 7: formerly every
    # board was stamped at the tip and a game's boards merged into one "ladder").
    stamps = dfs.get_column("captured_at")
    assert (stamps.dt.hour() == 0).all() and (stamps.dt.minute() == 0).all()
    assert stamps.n_unique() == 84  # the 84 boards 2024-10-22 .. 2025-01-13 (the last lists Jan 12 games)
    # Every board lists only games tipping at or after its stamp, but one: the 2025-01-05 ORL game
    # "starting" 23:40:53 UTC on the 01_06 board.
    late = dfs.filter(pl.col("captured_at") > pl.col("tip_time_utc"))
    assert late.select("game_id", "captured_at").unique().rows() == [
        ("20250105_UTA_ORL", datetime(2025, 1, 6, tzinfo=UTC))
    ]
    assert ingest_checks.duplicate_keys(dfs, schemas.PROP_LINE_SNAPSHOTS_KEY).height == 0
    # 14 exact duplicate rows in the boards; 15 one-sided promo lines beside a two-sided line.
    assert dict(parsed.quarantine.group_by("reason").len().iter_rows()) == {"duplicate": 14}
    assert parsed.skipped["one_sided_alternate"] == 15 and parsed.skipped["other_market"] > 0
    # A single day read gives exactly that day's lines of the range read (boards list games up
    # to two days ahead; the file window covers it).
    for day in (date(2024, 10, 24), date(2024, 12, 19)):  # both have lines only on a board 2 days earlier
        single = provider.prop_line_snapshots(day, day).rows
        assert single.equals(dfs.filter(pl.col("game_date") == day)), day


def test_injuries_are_absent_in_the_real_folder(provider):
    parsed = provider.injury_report(date(2025, 10, 21), date(2025, 10, 21))
    assert parsed.rows.height == 0 and parsed.rows.schema == schemas.INJURY_REPORT
