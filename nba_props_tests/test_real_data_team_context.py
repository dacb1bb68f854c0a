"""Team-context block on the real 2024-25 season (../shared/data/nba; skipped when absent).

Targets are every 2024-25 box-score player-game (the players who actually played), history is
2023-24 + 2024-25. Hand checks recompute values from the CSV rows with plain Python.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from datetime import date

import polars as pl
import pytest

from nba_props.lib import schemas
from nba_props.lib.features.inputs import FeatureInputs, source_column
from nba_props.lib.features.team_context import FEATURES, team_context_features
from nba_props.lib.sources.files import FilesProvider
from nba_props_tests.conftest import shared_data_or_skip

pytestmark = pytest.mark.real_data


DATA = shared_data_or_skip("box_scores/player_logs_2024-25.csv")

SEASON_START, SEASON_END = date(2024, 10, 1), date(2025, 6, 30)
HISTORY_START = date(2023, 10, 1)
# The named check: Boston at Toronto on 2025-01-15, from Jayson Tatum's row.
DAY, TEAM, OPP, PLAYER = date(2025, 1, 15), "BOS", "TOR", "Jayson Tatum"


@pytest.fixture(scope="module")
def real() -> dict:
    provider = FilesProvider(DATA)
    box = provider.box_scores(HISTORY_START, SEASON_END).rows
    schedule = provider.schedule(SEASON_START, SEASON_END).rows
    targets = schemas.conform(box.filter(pl.col("season") == "2024-25"), schemas.PLAYER_LINES)
    inputs = FeatureInputs(
        targets=targets,
        box_history=box,
        line_history=targets.head(0),
        schedule=schedule,
        injuries=schemas.empty(schemas.INJURY_REPORT),
    )
    team_context_features(inputs)  # warm-up
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        out = team_context_features(inputs)
        timings.append(time.perf_counter() - start)
    print(f"\nteam_context_features: {targets.height} targets, {box.height} history rows, "
          f"best {min(timings):.3f}s, runs {[round(t, 3) for t in timings]}")  # fmt: skip
    return {"box": box, "targets": targets, "inputs": inputs, "out": out}


def _csv_rows(season: str) -> list[dict]:
    with open(DATA / "box_scores" / f"player_logs_{season}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _target_row(real: dict) -> dict:
    targets, out = real["targets"], real["out"]
    lookup = targets.filter((pl.col("player_name") == PLAYER) & (pl.col("game_date") == DAY))["player_lookup"].item()
    rows = out.filter((pl.col("game_date") == DAY) & (pl.col("player_lookup") == lookup)).to_dicts()
    assert len(rows) == 1
    return rows[0]


def test_one_row_per_target_in_order(real):
    out, targets = real["out"], real["targets"]
    assert out.height == targets.height
    assert out.select("game_id", "player_lookup").equals(targets.select("game_id", "player_lookup"))


def test_hand_computed_boston_at_toronto(real):
    """TOR's defensive rating, BOS's offence / pace / record and Tatum's history, from the CSV."""
    day = DAY.isoformat()
    season_rows = [r for r in _csv_rows("2024-25") if r["GAME_DATE"] < day]
    totals: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    wl: dict[tuple[str, str], str] = {}
    for r in season_rows:
        t = totals[(r["GAME_ID"], r["TEAM_ABBREVIATION"])]
        for col in ("PTS", "FGA", "FTA", "OREB", "TOV", "MIN"):
            t[col] += float(r[col] or 0)
        wl[(r["GAME_ID"], r["TEAM_ABBREVIATION"])] = r["WL"]

    def poss(t):
        return t["FGA"] - t["OREB"] + t["TOV"] + 0.44 * t["FTA"]

    def game_minutes(t):
        return 48 + 5 * max(0, round((t["MIN"] / 5 - 48) / 5))

    def games_of(team):
        ids = sorted(g for g, tm in totals if tm == team)
        return [(totals[(g, team)], next(totals[(g, o)] for gg, o in totals if gg == g and o != team), g) for g in ids]

    tor = games_of(OPP)
    against, opp_poss = sum(o["PTS"] for _, o, _ in tor), sum(poss(o) for _, o, _ in tor)
    bos = games_of(TEAM)
    bos_pts, bos_poss = sum(s["PTS"] for s, _, _ in bos), sum(poss(s) for s, _, _ in bos)
    bos_minutes = sum(game_minutes(s) for s, _, _ in bos)
    bos_wins = sum(wl[(g, TEAM)] == "W" for _, _, g in bos)
    assert len(tor) >= 30 and len(bos) >= 30

    r = _target_row(real)
    print(f"\n{TEAM}@{OPP} {DAY}: TOR def rating {r['opp_def_rating']:.2f} ({len(tor)} games, "
          f"{against:.0f} pts / {opp_poss:.1f} poss), BOS off {r['team_off_rating']:.2f}, "
          f"pace {r['team_pace']:.2f}, win pct {r['team_win_pct']:.3f}")  # fmt: skip
    assert r["opp_def_rating"] == pytest.approx(100 * against / opp_poss, rel=1e-9)
    assert r["team_off_rating"] == pytest.approx(100 * bos_pts / bos_poss, rel=1e-9)
    assert r["team_pace"] == pytest.approx(48 * bos_poss / bos_minutes, rel=1e-9)
    assert r["team_win_pct"] == pytest.approx(bos_wins / len(bos), rel=1e-9)  # W/L column agrees
    for name in ("opp_def_rating", "team_off_rating", "team_pace", "team_win_pct", "opp_pace"):
        assert r[source_column(name)] == "box_scores"

    # Tatum: games and points against Toronto over 2023-24 and 2024-25 before the day; rest days.
    mine = [
        x for s in ("2023-24", "2024-25") for x in _csv_rows(s) if x["PLAYER_NAME"] == PLAYER and x["GAME_DATE"] < day
    ]
    vs = [x for x in mine if OPP in x["MATCHUP"].split()[1:]]
    assert r["games_vs_opponent"] == len(vs) > 0
    assert r["avg_points_vs_opponent"] == pytest.approx(sum(int(x["PTS"]) for x in vs) / len(vs))
    last = max(date.fromisoformat(x["GAME_DATE"]) for x in mine)
    assert r["days_rest"] == min((DAY - last).days, 30)


def test_values_in_sane_ranges(real):
    out = real["out"]
    ranges = {
        "opp_def_rating": (85, 130),
        "team_off_rating": (85, 130),
        "opp_pace": (90, 110),
        "team_pace": (90, 110),
        "pace_diff": (-15, 15),
        "team_win_pct": (0, 1),
        "usage_diff_vs_opponent": (-25, 60),
        "rest_advantage": (-2, 2),
        "days_rest": (1, 30),  # calendar days, 1 = back-to-back, capped at 30
        "is_home": (0, 1),
        "is_back_to_back": (0, 1),
        "is_playoff_game": (0, 0),  # the player logs are regular season only
        "games_last_7_days": (0, 5),
        "minutes_last_7_days": (0, 5 * 53),
        "fatigue_score": (0, 100),
        "avg_points_vs_opponent": (0, 80),  # max 70: Embiid 70 v SAS (one game)
        "games_vs_opponent": (0, 10),
    }
    summary = {}
    for name, (low, high) in ranges.items():
        values = out[name].drop_nulls()
        summary[name] = (round(values.min(), 2), round(values.median(), 2), round(values.max(), 2))
        assert values.min() >= low and values.max() <= high, (name, summary[name])
    print("\n" + "\n".join(f"{k}: min/median/max {v}" for k, v in summary.items()))
    # Once every team has 20 games, ratings settle in the usual NBA band.
    settled = out.filter(pl.col("game_date") >= date(2024, 12, 15))
    for name in ("opp_def_rating", "team_off_rating"):
        assert settled[name].min() > 100 and settled[name].max() < 125, name
    assert settled["team_pace"].min() > 94 and settled["team_pace"].max() < 110  # MEM ~108 by this formula
    # Sources: every team value is computable (2023-24 gives the fallback); prior_season only early.
    for name in ("opp_def_rating", "team_pace", "team_win_pct", "rest_advantage", "is_playoff_game"):
        assert out[name].null_count() == 0, name
    # Player-history features are NULL only for players with no box-score row before the date.
    new = out.filter(pl.col("days_rest").is_null())
    assert 0 < new.height < 200 and new["fatigue_score"].is_null().all()
    prior = out.filter(pl.col(source_column("opp_def_rating")) == "prior_season")
    assert prior.height > 0 and prior["game_date"].max() < date(2024, 11, 15)
    for name in ("game_total", "game_spread", "implied_team_total", "star_teammates_out", "injury_risk"):
        assert (out[source_column(name)] == "default").all(), name  # no game lines / injury files here
    assert set(FEATURES) <= set(out.columns)


def test_no_leakage_on_a_real_day(real):
    inputs, out = real["inputs"], real["out"]
    day_targets = inputs.targets.filter(pl.col("game_date") == DAY)
    expected = out.filter(pl.col("game_date") == DAY)
    for box in (inputs.box_history, inputs.box_history.filter(pl.col("game_date") < DAY)):
        got = team_context_features(
            FeatureInputs(day_targets, box, inputs.line_history, inputs.schedule, inputs.injuries)
        )
        assert got.equals(expected)
