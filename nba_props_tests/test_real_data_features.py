"""Feature store on the real 2023-24 / 2024-25 box scores (../shared/data/nba; skipped when absent).

Targets are built from the box rows of the target dates (the players who actually played, line
columns NULL), so these tests do not depend on the line selection. Hand checks recompute values
from the CSV rows with the csv module and plain Python, never with the code under test.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from datetime import date, timedelta
from functools import lru_cache

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from nba_props.lib import schemas
from nba_props.lib.features.build import build_player_features
from nba_props.lib.features.contract import load_contract, player_features_schema
from nba_props.lib.features.inputs import KEY_COLUMNS, FeatureInputs
from nba_props.lib.features.player_history import player_history_features
from nba_props.lib.features.quality import feature_range_violations, quality_summary
from nba_props.lib.features.vegas import vegas_features
from nba_props.lib.sources.files import FilesProvider
from nba_props_tests.conftest import shared_data_or_skip

pytestmark = pytest.mark.real_data


DATA = shared_data_or_skip("box_scores/player_logs_2024-25.csv")

HISTORY_START, SEASON_START, SEASON_END = date(2023, 10, 1), date(2024, 10, 1), date(2025, 6, 30)
OPENING_NIGHT = date(2024, 10, 22)
LEAK_WEEK = [date(2025, 1, 13) + timedelta(days=i) for i in range(7)]
CONTRACT = load_contract()


@pytest.fixture(scope="module")
def provider() -> FilesProvider:
    return FilesProvider(DATA)


@pytest.fixture(scope="module")
def box(provider) -> pl.DataFrame:
    parsed = provider.box_scores(HISTORY_START, SEASON_END)
    assert parsed.quarantine.height == 0
    return parsed.rows


@pytest.fixture(scope="module")
def schedule(provider) -> pl.DataFrame:
    return provider.schedule(SEASON_START, SEASON_END).rows


def targets_of(box: pl.DataFrame, days) -> pl.DataFrame:
    """Player_lines-shaped targets from the box rows of the given dates (no lines)."""
    rows = box.filter(pl.col("game_date").is_in(list(days))).select(
        "game_date", "game_id", "player_lookup", "player_name", "player_id", "team", "opponent", "is_home"
    )
    return schemas.conform(
        rows.with_columns(line_diagnostic=pl.lit("NO_PROP_LINE"), has_line=pl.lit(False)), schemas.PLAYER_LINES
    )


def synthetic_line_history(box: pl.DataFrame) -> pl.DataFrame:
    """A chosen line for every past player-game, half a point off the actual score (over or under
    by a deterministic rule): enough to exercise the streaks and their leakage."""
    over = ((pl.col("player_id") + pl.col("game_date").dt.day()) % 3) == 0
    lines = box.select(
        "game_date",
        "game_id",
        "player_lookup",
        line=pl.col("points").cast(pl.Float64) + pl.when(over).then(-0.5).otherwise(0.5),
    )
    return schemas.conform(lines, schemas.PLAYER_LINES)


def inputs_for(targets, box, schedule, line_history=None) -> FeatureInputs:
    return FeatureInputs(
        targets=targets,
        box_history=box,
        line_history=line_history if line_history is not None else schemas.empty(schemas.PLAYER_LINES),
        schedule=schedule,
        injuries=schemas.empty(schemas.INJURY_REPORT),
    )


# ---------------------------------------------------------------------------------------------
# leakage


def _my_blocks(inputs: FeatureInputs) -> pl.DataFrame:
    return player_history_features(inputs).join(vegas_features(inputs), on=list(KEY_COLUMNS), how="left")


@pytest.mark.parametrize("build", ["blocks", "full"])
def test_leakage_a_week_of_dates(box, schedule, build):
    """Features of each date of a week, computed (a) with the whole history (the week's own rows
    and every later row present), (b) with that date's own rows removed, (c) with only rows
    strictly before the date: all three are identical."""
    compute = _my_blocks if build == "blocks" else (lambda inp: build_player_features(inp, CONTRACT))
    lines = synthetic_line_history(box)
    # the targets carry a line of their own: a target without one has no line features (issue 7),
    # so without it the streaks against past lines would not be exercised
    targets = targets_of(box, LEAK_WEEK).with_columns(
        line=pl.lit(15.5), has_line=pl.lit(True), line_diagnostic=pl.lit("LINE_SOURCE")
    )
    everything = compute(inputs_for(targets, box, schedule, lines)).sort(*KEY_COLUMNS)
    per_date_without, per_date_before = [], []
    for day in LEAK_WEEK:
        day_targets = targets.filter(pl.col("game_date") == day)
        assert day_targets.height > 100, day
        without_day = box.filter(pl.col("game_date") != day)
        lines_without_day = lines.filter(pl.col("game_date") != day)
        per_date_without.append(compute(inputs_for(day_targets, without_day, schedule, lines_without_day)))
        before = box.filter(pl.col("game_date") < day)
        per_date_before.append(
            compute(inputs_for(day_targets, before, schedule, lines.filter(pl.col("game_date") < day)))
        )
    assert_frame_equal(everything, pl.concat(per_date_without).sort(*KEY_COLUMNS))
    assert_frame_equal(everything, pl.concat(per_date_before).sort(*KEY_COLUMNS))
    # the week really is informative: most rows have real windows and real streaks
    assert (everything["points_avg_last_10__source"] == "box_scores").mean() > 0.9
    assert (everything["prop_over_streak__source"] == "calculated").mean() > 0.9


def test_player_cut_leaves_player_logs_unchanged(box):
    """The blocks compute player-level logs for the targets' players only (`of_players`, a cheap
    single-date rebuild for the leak check). Pinned: on real rows up to 2025-01-20, with the
    players of 2025-01-06..20 (about half the league), the cut logs equal the logs of every
    player restricted to them, exactly (team totals and usage still see every teammate)."""
    from nba_props.lib.features import team_logs as tl
    from nba_props.lib.features.player_history import P, player_game_log

    history = box.filter(pl.col("game_date") <= date(2025, 1, 20))
    players = history.filter(pl.col("game_date") >= date(2025, 1, 6)).get_column(P).unique()
    assert 0 < players.len() < history.get_column(P).n_unique()
    mine = pl.col(P).is_in(players.implode())
    assert_frame_equal(player_game_log(history, players), player_game_log(history).filter(mine), check_exact=True)
    logs = tl.team_game_logs(history)
    key = [P, "game_date", "game_id"]
    assert_frame_equal(
        tl.player_game_logs(history, logs, players=players).sort(key, maintain_order=True),
        tl.player_game_logs(history, logs).filter(mine).sort(key, maintain_order=True),
        check_exact=True,
    )


# ---------------------------------------------------------------------------------------------
# hand-computed expectations from the CSV rows


@lru_cache(maxsize=1)
def _csv_games() -> dict[str, list[tuple[date, int]]]:
    games: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for season in ("2023-24", "2024-25"):
        with open(DATA / "box_scores" / f"player_logs_{season}.csv", newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                games[row["PLAYER_ID"]].append((date.fromisoformat(row["GAME_DATE"][:10]), int(row["PTS"])))
    return {pid: sorted(rows) for pid, rows in games.items()}


# (player, NBA player id, date): back-to-backs, ordinary rest, a trade after a long absence,
# opening night with last season as the season average.
CASES = [
    ("LeBron James", "2544", date(2025, 1, 28)),
    ("Stephen Curry", "201939", date(2025, 1, 23)),
    ("Stephen Curry", "201939", date(2025, 1, 20)),
    ("Nikola Jokić", "203999", date(2025, 1, 17)),
    ("Luka Dončić", "1629029", date(2025, 2, 10)),
    ("Victor Wembanyama", "1641705", date(2024, 10, 24)),
]


@pytest.fixture(scope="module")
def case_features(box, schedule) -> pl.DataFrame:
    targets = targets_of(box, sorted({day for _, _, day in CASES}))
    return build_player_features(inputs_for(targets, box, schedule), CONTRACT)


@pytest.mark.parametrize("name, player_id, day", CASES, ids=[f"{n}-{d}" for n, _, d in CASES])
def test_hand_computed_windows(case_features, name, player_id, day):
    past = [(d, pts) for d, pts in _csv_games()[player_id] if d < day]
    assert any(d == day for d, _ in _csv_games()[player_id]), "the player plays on that date"
    last5 = [pts for _, pts in past[-5:]]
    last10 = [pts for _, pts in past[-10:]]
    row = case_features.filter((pl.col("game_date") == day) & (pl.col("player_id") == int(player_id))).to_dicts()
    assert len(row) == 1
    row = row[0]
    assert row["points_avg_last_5"] == pytest.approx(sum(last5) / 5)
    assert row["points_avg_last_10"] == pytest.approx(sum(last10) / 10)
    assert row["points_avg_last_5__source"] == "box_scores"


@pytest.mark.parametrize("name, player_id, day", CASES, ids=[f"{n}-{d}" for n, _, d in CASES])
def test_hand_computed_rest(case_features, name, player_id, day):
    last_game = max(d for d, _ in _csv_games()[player_id] if d < day)
    rest = min((day - last_game).days, 30)
    row = case_features.filter((pl.col("game_date") == day) & (pl.col("player_id") == int(player_id))).row(
        0, named=True
    )
    assert row["days_rest"] == rest
    assert row["is_back_to_back"] == (1.0 if rest == 1 else 0.0)


def test_hand_computed_special_cases(case_features):
    games = _csv_games()

    def row(player_id, day):
        return case_features.filter((pl.col("game_date") == day) & (pl.col("player_id") == int(player_id))).row(
            0, named=True
        )

    # Opening night: Wembanyama's season average is his 2023-24 one (prior_season).
    wemby = [pts for d, pts in games["1641705"] if d < date(2024, 10, 1)]
    w = row("1641705", date(2024, 10, 24))
    assert w["points_avg_season"] == pytest.approx(sum(wemby) / len(wemby))
    assert w["points_avg_season__source"] == "prior_season"
    # Doncic's first Lakers game, after a 47-day absence: a structural change.
    assert row("1629029", date(2025, 2, 10))["games_since_structural_change"] == 0.0
    # Curry on 2025-01-20: current-season average from the 2024-25 rows before the date.
    curry = [pts for d, pts in games["201939"] if date(2024, 10, 1) <= d < date(2025, 1, 20)]
    c = row("201939", date(2025, 1, 20))
    assert c["points_avg_season"] == pytest.approx(sum(curry) / len(curry))
    assert c["points_avg_season__source"] == "box_scores"


# ---------------------------------------------------------------------------------------------
# season start


def test_opening_week_rookies_are_blocked_veterans_use_last_season(box, schedule):
    days = [OPENING_NIGHT + timedelta(days=i) for i in range(3)]
    targets = targets_of(box, days)
    features = _my_blocks(inputs_for(targets, box, schedule))
    assert features.height == targets.height
    veterans = features.filter(pl.col("points_avg_season__source") == "prior_season")
    assert veterans.height > 0.8 * features.height
    # Risacher (the 2024 first pick) debuts on 2024-10-23 without any history.
    rookie = features.filter(
        (pl.col("player_lookup") == "zaccharierisacher") & (pl.col("game_date") == date(2024, 10, 23))
    )
    assert rookie.height == 1
    assert rookie["points_avg_last_3__source"].item() == "default"
    assert rookie["points_avg_season__source"].item() == "default"
    built = build_player_features(inputs_for(targets, box, schedule), CONTRACT)
    r = built.filter((pl.col("player_lookup") == "zaccharierisacher") & (pl.col("game_date") == date(2024, 10, 23)))
    assert r["is_quality_ready"].item() is False
    assert r["block_reason"].item().startswith("required_defaults: points_avg_last_5")
    assert built["is_quality_ready"].mean() > 0.8


def test_season_start_with_empty_history(box, schedule):
    targets = targets_of(box, [OPENING_NIGHT])
    out = build_player_features(inputs_for(targets, schemas.empty(schemas.BOX_SCORES), schedule), CONTRACT)
    assert out.height == targets.height and out.schema == player_features_schema(CONTRACT)
    assert not out["is_quality_ready"].any()
    for spec in CONTRACT.of_block("player_history"):
        assert (out[f"{spec.name}__source"] == "default").all(), spec.name
        if spec.default is None:  # signal features: NULL when not computable
            assert out[spec.name].is_null().all(), spec.name
        else:
            assert (out[spec.name] == spec.default).all(), spec.name
    assert (out["required_default_count"] > 0).all()


# ---------------------------------------------------------------------------------------------
# the whole season (timing printed, never asserted)


def test_full_season_build(box, schedule):
    targets = targets_of(box, box.filter(pl.col("game_date") >= SEASON_START)["game_date"].unique())
    inputs = inputs_for(targets, box, schedule, synthetic_line_history(box))
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        out = build_player_features(inputs, CONTRACT)
        timings.append(time.perf_counter() - start)
    start = time.perf_counter()
    player_history_features(inputs)
    history_time = time.perf_counter() - start
    start = time.perf_counter()
    vegas_features(inputs)
    vegas_time = time.perf_counter() - start
    print(
        f"\nfull 2024-25 season: {targets.height} targets, {box.height} box rows: build "
        f"{min(timings):.2f}s (first {timings[0]:.2f}s); player_history {history_time:.2f}s, vegas {vegas_time:.2f}s"
    )
    assert out.height == targets.height
    violations = feature_range_violations(out, CONTRACT)
    assert violations.height == 0, violations.group_by("feature").len()
    summary = quality_summary(out, CONTRACT)
    print(f"ready share {summary['ready_share']}, tiers {summary['tiers']}")
    assert summary["ready_share"] > 0.9
