"""Team-context block on hand-made box scores, every expected value computed by hand.

The league (two players per team, constant per-player shooting lines, points varying):

  AAA  a1: 36 min, FGA 20, FTA 6, OREB 2, TOV 3   a2: 30 min, FGA 15, FTA 4, OREB 3, TOV 2
       team: FGA 35, FTA 10, OREB 5, TOV 5 -> plays 44.4, possessions 39.4
  BBB  b1: 34 min, FGA 18, FTA 5, OREB 1, TOV 4   b2: 32 min, FGA 16, FTA 5, OREB 2, TOV 1
       team: FGA 34, FTA 10, OREB 3, TOV 5 -> plays 43.4, possessions 40.4
  CCC  c1: 35 min, FGA 19, FTA 8, OREB 4, TOV 2   c2: 31 min, FGA 14, FTA 2, OREB 1, TOV 3
       team: FGA 33, FTA 10, OREB 5, TOV 5 -> plays 42.4, possessions 37.4
  Team minutes 66 -> every game is 48 game minutes (regulation).

  2023-24  P1 2024-04-10 BBB@AAA  a1 40 a2 10 (50) - b1 30 b2 14 (44)
           P2 2024-04-12 AAA@CCC  a1 20 a2 10 (30) - c1 25 c2 20 (45)
  2024-25  G1 2024-10-22 BBB@AAA  a1 30 a2 10 (40) - b1 20 b2 15 (35)
           G2 2024-10-23 AAA@BBB  a1 25 a2 12 (37) - b1 22 b2 20 (42)
           G6 2024-10-24 CCC@BBB  c1 30 c2 10 (40) - b1 15 b2 15 (30)
           G3 2024-10-25 BBB@AAA  a1 28 a2 14 (42) - b1 18 b2 16 (34)
           G4 2024-10-27 AAA@BBB  a1 22 a2  8 (30) - b1 25 b2 10 (35)
           G5 2024-10-28 BBB@AAA  a1 35 a2  5 (40) - b1 20 b2 19 (39)
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from nba_props.lib import schemas
from nba_props.lib.features import team_context
from nba_props.lib.features import team_logs as tl
from nba_props.lib.features.inputs import KEY_COLUMNS, SOURCES, FeatureInputs, source_column
from nba_props.lib.features.team_context import FEATURES, team_context_features

LINES = {  # player: (team, minutes, fga, fta, oreb, tov)
    "a1": ("AAA", 36, 20, 6, 2, 3),
    "a2": ("AAA", 30, 15, 4, 3, 2),
    "b1": ("BBB", 34, 18, 5, 1, 4),
    "b2": ("BBB", 32, 16, 5, 2, 1),
    "c1": ("CCC", 35, 19, 8, 4, 2),
    "c2": ("CCC", 31, 14, 2, 1, 3),
}
GAMES = [  # (date, away, home, {player: points})
    (date(2024, 4, 10), "BBB", "AAA", {"a1": 40, "a2": 10, "b1": 30, "b2": 14}),
    (date(2024, 4, 12), "AAA", "CCC", {"a1": 20, "a2": 10, "c1": 25, "c2": 20}),
    (date(2024, 10, 22), "BBB", "AAA", {"a1": 30, "a2": 10, "b1": 20, "b2": 15}),
    (date(2024, 10, 23), "AAA", "BBB", {"a1": 25, "a2": 12, "b1": 22, "b2": 20}),
    (date(2024, 10, 24), "CCC", "BBB", {"c1": 30, "c2": 10, "b1": 15, "b2": 15}),
    (date(2024, 10, 25), "BBB", "AAA", {"a1": 28, "a2": 14, "b1": 18, "b2": 16}),
    (date(2024, 10, 27), "AAA", "BBB", {"a1": 22, "a2": 8, "b1": 25, "b2": 10}),
    (date(2024, 10, 28), "BBB", "AAA", {"a1": 35, "a2": 5, "b1": 20, "b2": 19}),
]
D29, D30 = date(2024, 10, 29), date(2024, 10, 30)


def gid(day: date, away: str, home: str) -> str:
    return f"{day:%Y%m%d}_{away}_{home}"


def box_rows(games=GAMES, lines=LINES) -> pl.DataFrame:
    rows = []
    for day, away, home, points in games:
        for player, pts in points.items():
            team, minutes, fga, fta, oreb, tov = lines[player]
            rows.append(
                {
                    "game_date": day,
                    "game_id": gid(day, away, home),
                    "season": tl_season(day),
                    "player_id": sum(map(ord, player)),
                    "player_name": player,
                    "player_lookup": player,
                    "team": team,
                    "opponent": home if team == away else away,
                    "is_home": team == home,
                    "played": True,
                    "minutes": float(minutes),
                    "points": pts,
                    "fga": fga,
                    "fta": fta,
                    "oreb": oreb,
                    "tov": tov,
                    "source": "test",
                }
            )
    return schemas.conform(pl.DataFrame(rows), schemas.BOX_SCORES)


def tl_season(day: date) -> str:
    year = day.year if day.month >= 10 else day.year - 1
    return f"{year}-{(year + 1) % 100:02d}"


TARGETS = [  # (date, player, team, opponent, is_home, game_id)
    (D30, "a1", "AAA", "BBB", False, gid(D30, "AAA", "BBB")),  # T1
    (D30, "b1", "BBB", "AAA", True, gid(D30, "AAA", "BBB")),  # T2
    (D29, "c1", "CCC", "BBB", True, gid(D29, "BBB", "CCC")),  # T3: CCC on prior season; no injury report
    (D30, "ghost", "DDD", "EEE", True, gid(D30, "EEE", "DDD")),  # T4: nothing known
    (D29, "a2", "AAA", "DDD", False, gid(D29, "AAA", "DDD")),  # T5: back-to-back
    (D30, "a2", "AAA", "BBB", False, gid(D30, "AAA", "BBB")),  # T6: star teammate out
    (date(2025, 4, 25), "a1", "AAA", "BBB", True, gid(date(2025, 4, 25), "BBB", "AAA")),  # T7: playoffs
]


def targets_frame(targets=TARGETS) -> pl.DataFrame:
    if not targets:
        return schemas.empty(schemas.PLAYER_LINES)
    frame = pl.DataFrame(
        [
            {"game_date": d, "game_id": g, "player_lookup": p, "player_name": p, "team": t, "opponent": o, "is_home": h}
            for d, p, t, o, h, g in targets
        ]
    )
    return schemas.conform(frame, schemas.PLAYER_LINES)


def schedule_frame() -> pl.DataFrame:
    rows = [
        {"game_date": D30, "game_id": gid(D30, "AAA", "BBB"), "season": "2024-25", "season_type": "regular",
         "away_team": "AAA", "home_team": "BBB", "status": "scheduled"},
        {"game_date": date(2025, 4, 25), "game_id": gid(date(2025, 4, 25), "BBB", "AAA"), "season": "2024-25",
         "season_type": "playoffs", "away_team": "BBB", "home_team": "AAA", "status": "scheduled"},
    ]  # fmt: skip
    return schemas.conform(pl.DataFrame(rows), schemas.SCHEDULE)


def injuries_frame() -> pl.DataFrame:
    rows = [
        {"game_date": D30, "player_lookup": "a1", "player_name": "a1", "team": "AAA", "status": "out"},
        {"game_date": D30, "player_lookup": "b2", "player_name": "b2", "team": "BBB", "status": "out"},
        {"game_date": D30, "player_lookup": "b1", "player_name": "b1", "team": "BBB", "status": "probable"},
    ]
    return schemas.conform(pl.DataFrame(rows), schemas.INJURY_REPORT)


def run(box=None, targets=None, injuries=None, schedule=None) -> pl.DataFrame:
    t = targets_frame() if targets is None else targets
    inputs = FeatureInputs(
        targets=t,
        box_history=box_rows() if box is None else box,
        line_history=t.head(0),
        schedule=schedule_frame() if schedule is None else schedule,
        injuries=injuries_frame() if injuries is None else injuries,
    )
    return team_context_features(inputs)


@pytest.fixture(scope="module")
def out() -> pl.DataFrame:
    return run()


def row(out: pl.DataFrame, day: date, player: str) -> dict:
    rows = out.filter((pl.col("game_date") == day) & (pl.col("player_lookup") == player)).to_dicts()
    assert len(rows) == 1
    return rows[0]


def check(r: dict, name: str, value, source: str) -> None:
    if value is None:
        assert r[name] is None, (name, r[name])
    else:
        assert r[name] == pytest.approx(value, rel=1e-12, abs=1e-12), (name, r[name], value)
    assert r[source_column(name)] == source, (name, r[source_column(name)], source)


# ---------------------------------------------------------------------------------------------
# shape


def test_shape_keys_order_and_types(out):
    assert out.columns == [*KEY_COLUMNS, *[c for f in FEATURES for c in (f, source_column(f))]]
    assert out.select(KEY_COLUMNS).rows() == [(d, g, p) for d, p, _t, _o, _h, g in TARGETS]
    for name in FEATURES:
        assert out.schema[name] == pl.Float64
        assert out.schema[source_column(name)] == pl.Utf8
        assert set(out[source_column(name)].unique()) <= set(SOURCES)
        # "default" iff the value is NULL
        assert (out[name].is_null() == (out[source_column(name)] == "default")).all(), name


def test_empty_inputs_give_the_columns():
    empty = run(box=schemas.empty(schemas.BOX_SCORES), targets=targets_frame([]),
                injuries=schemas.empty(schemas.INJURY_REPORT), schedule=schemas.empty(schemas.SCHEDULE))  # fmt: skip
    assert empty.height == 0
    assert empty.columns == [*KEY_COLUMNS, *[c for f in FEATURES for c in (f, source_column(f))]]


# ---------------------------------------------------------------------------------------------
# team logs


def test_team_game_logs_sums_possessions_and_overtime():
    logs = tl.team_game_logs(box_rows())
    g1 = logs.filter(pl.col("game_id") == gid(date(2024, 10, 22), "BBB", "AAA")).sort("team").to_dicts()
    aaa, bbb = g1
    assert (aaa["pts"], aaa["fga"], aaa["fta"], aaa["oreb"], aaa["tov"]) == (40, 35, 10, 5, 5)
    assert aaa["plays"] == pytest.approx(35 + 0.44 * 10 + 5)  # 44.4
    assert aaa["poss"] == pytest.approx(44.4 - 5)  # 39.4
    assert aaa["opp_pts"] == 35 and aaa["opp_poss"] == pytest.approx(40.4) and aaa["win"] == 1.0
    assert bbb["win"] == 0.0 and bbb["game_minutes"] == 48.0

    # Game length from summed (rounded) player minutes: 239 -> regulation, 265 -> 1 OT, 290 -> 2 OT.
    def game(minutes: list[float]) -> float:
        rows = [
            {"game_date": date(2024, 11, 1), "game_id": "g", "season": "2024-25", "player_id": i,
             "player_lookup": f"p{i}", "team": "XXX", "opponent": "YYY", "played": True, "minutes": m,
             "points": 1, "fga": 1, "fta": 0, "oreb": 0, "tov": 0}
            for i, m in enumerate(minutes)
        ]  # fmt: skip
        return tl.team_game_logs(schemas.conform(pl.DataFrame(rows), schemas.BOX_SCORES))["game_minutes"][0]

    assert game([48, 48, 48, 48, 47]) == 48.0
    assert game([48, 48, 48, 48, 49]) == 48.0
    assert game([53] * 5) == 53.0
    assert game([58] * 5) == 58.0
    assert tl.team_game_logs(box_rows())["complete"].all()


# ---------------------------------------------------------------------------------------------
# team strength (T1: a1 of AAA at BBB on 10-30)

AAA_POSS, BBB_POSS, CCC_POSS = 39.4, 40.4, 37.4
AAA_PLAYS, BBB_PLAYS, CCC_PLAYS = 44.4, 43.4, 42.4


def test_team_ratings_pace_and_win_pct(out):
    t1 = row(out, D30, "a1")
    # AAA, 5 games G1..G5: points 40+37+42+30+40 = 189, possessions 5 * 39.4 = 197, 3 wins.
    check(t1, "team_off_rating", 100 * 189 / 197, "box_scores")
    check(t1, "team_pace", 48 * 197 / 240, "box_scores")  # 39.4
    check(t1, "team_win_pct", 3 / 5, "box_scores")
    # BBB, 6 games (G1..G6): points against 189 + 40 = 229, opponents' possessions 197 + 37.4 = 234.4,
    # own possessions 6 * 40.4 = 242.4 over 288 game minutes.
    check(t1, "opp_def_rating", 100 * 229 / 234.4, "box_scores")
    check(t1, "opp_pace", 48 * 242.4 / 288, "box_scores")  # 40.4
    check(t1, "pace_diff", 39.4 - 40.4, "calculated")

    t2 = row(out, D30, "b1")  # the other side of the same game
    check(t2, "team_off_rating", 100 * 215 / 242.4, "box_scores")  # 35+42+30+34+35+39 = 215
    check(t2, "team_win_pct", 2 / 6, "box_scores")
    check(t2, "opp_def_rating", 100 * 185 / 202, "box_scores")  # against AAA: 185 over 5 * 40.4
    check(t2, "opp_pace", 39.4, "box_scores")
    check(t2, "pace_diff", 1.0, "calculated")


def test_prior_season_fallback_at_season_start(out):
    t3 = row(out, D29, "c1")  # CCC has 1 game of 2024-25 (< 5): its 2023-24 final values (P2 only)
    check(t3, "team_off_rating", 100 * 45 / 37.4, "prior_season")
    check(t3, "team_pace", 37.4, "prior_season")
    check(t3, "team_win_pct", 1.0, "prior_season")
    check(t3, "opp_def_rating", 100 * 229 / 234.4, "box_scores")  # BBB before 10-29 = before 10-30
    check(t3, "pace_diff", 37.4 - 40.4, "prior_season")  # the weaker source of the two


def test_partial_current_season_without_prior_season():
    # Only G1 and G2 in the history: AAA has 2 games (< 5) and no 2023-24 -> the partial season.
    out = run(box=box_rows(GAMES[2:4]), targets=targets_frame(TARGETS[:1]))
    t1 = row(out, D30, "a1")
    check(t1, "team_off_rating", 100 * (40 + 37) / (2 * 39.4), "box_scores")
    check(t1, "team_win_pct", 0.5, "box_scores")
    check(t1, "opp_def_rating", 100 * 77 / (2 * 39.4), "box_scores")


def test_usage_diff_vs_opponent(out):
    # League (2024-25 before 10-30): 12 team-games, plays 5*44.4 + 5*43.4 + 43.4 + 42.4 = 524.8 in 576 min.
    league_rate = 524.8 / 576
    # a1: per game P = 20 + 0.44*6 + 3 = 25.64 (5 games), minutes 180, team plays 222, game minutes 240.
    usg_a1 = 100 * (5 * 25.64) * 240 / (180 * 222)
    # BBB concedes 5*44.4 (AAA) + 42.4 (CCC) = 264.4 plays in 288 minutes.
    allowed_bbb = 20 * (264.4 / 288) / league_rate
    check(row(out, D30, "a1"), "usage_diff_vs_opponent", usg_a1 - allowed_bbb, "calculated")

    # c1 (1 game this season) uses his 2023-24 line: P = 19 + 3.52 + 2 = 24.52, 35 min, team 42.4 plays.
    usg_c1 = 100 * 24.52 * 48 / (35 * 42.4)
    check(row(out, D29, "c1"), "usage_diff_vs_opponent", usg_c1 - allowed_bbb, "prior_season")

    # b1 against AAA: AAA concedes 5 * 43.4 = 217 plays in 240 minutes.
    usg_b1 = 100 * (6 * (18 + 0.44 * 5 + 4)) * 288 / (6 * 34 * 6 * 43.4)
    check(row(out, D30, "b1"), "usage_diff_vs_opponent", usg_b1 - 20 * (217 / 240) / league_rate, "calculated")


# ---------------------------------------------------------------------------------------------
# rest, fatigue, schedule


def test_rest_advantage_and_clamp(out):
    check(row(out, D30, "a1"), "rest_advantage", 0.0, "calculated")  # both last played 10-28: 1 - 1
    # CCC last played 10-24: 4 days (capped to 3); BBB played 10-28: 0 -> +3, clamped to +2.
    check(row(out, D29, "c1"), "rest_advantage", 2.0, "calculated")
    check(row(out, D29, "a2"), "rest_advantage", None, "default")  # DDD has no earlier game
    check(row(out, D30, "ghost"), "rest_advantage", None, "default")


def test_player_rest_windows_and_back_to_back(out):
    t1 = row(out, D30, "a1")
    check(t1, "days_rest", 2.0, "box_scores")  # last game 10-28: two calendar days
    check(t1, "is_back_to_back", 0.0, "box_scores")
    check(t1, "games_last_7_days", 4.0, "box_scores")  # 10-23 .. 10-29: G2 G3 G4 G5 (G1 on 10-22 is out)
    check(t1, "minutes_last_7_days", 144.0, "box_scores")
    t5 = row(out, D29, "a2")
    check(t5, "days_rest", 1.0, "box_scores")  # 1 = back-to-back
    check(t5, "is_back_to_back", 1.0, "box_scores")
    check(t5, "games_last_7_days", 5.0, "box_scores")  # 10-22 .. 10-28
    check(t5, "minutes_last_7_days", 150.0, "box_scores")
    check(row(out, D29, "c1"), "days_rest", 5.0, "box_scores")  # 10-24 -> 10-29
    check(row(out, date(2025, 4, 25), "a1"), "days_rest", 30.0, "box_scores")  # 179 days, capped at 30
    check(row(out, date(2025, 4, 25), "a1"), "games_last_7_days", 0.0, "box_scores")  # real zero
    ghost = row(out, D30, "ghost")  # no history at all: unknown, not rested
    for name in ("days_rest", "is_back_to_back", "games_last_7_days", "minutes_last_7_days", "games_vs_opponent"):
        check(ghost, name, None, "default")


def test_fatigue_score_arithmetic(out):
    # a1 on 10-30: days_rest 2 (no bonus); 4 games in 7 days -10; 144 min; 36 mpg > 35 -8;
    # back-to-back second legs in 10-16..10-29: 10-23, 10-28 -> two -12.  100 - 10 - 8 - 12 = 70.
    check(row(out, D30, "a1"), "fatigue_score", 70.0, "calculated")
    # b1 on 10-30: 5 games -10; 170 min; 34 mpg; second legs 10-23, 10-24, 10-25, 10-28 -> -12.  78.
    check(row(out, D30, "b1"), "fatigue_score", 78.0, "calculated")
    # a2 on 10-29: back-to-back -15; 5 games -10; 150 min; 30 mpg; legs 10-23, 10-28 -12.  63.
    check(row(out, D29, "a2"), "fatigue_score", 63.0, "calculated")
    # c1 on 10-29: days_rest 5 -> +5; 1 game; 35 mpg (not > 35) -> 105, clamped to 100.
    check(row(out, D29, "c1"), "fatigue_score", 100.0, "calculated")
    # a1 in the playoffs: days_rest 30 -> +5; nothing in 7 / 14 days; 36 mpg over his last 10 -8.  97.
    check(row(out, date(2025, 4, 25), "a1"), "fatigue_score", 97.0, "calculated")
    check(row(out, D30, "ghost"), "fatigue_score", None, "default")


def test_fatigue_heavy_minutes_penalty():
    # Four 62-minute games on 10-23, 10-25, 10-27, 10-29: 248 minutes > 240 in 7 days.
    lines = {**LINES, "a1": ("AAA", 62, 20, 6, 2, 3)}
    days = [date(2024, 10, 23), date(2024, 10, 25), date(2024, 10, 27), date(2024, 10, 29)]
    games = [(d, "BBB", "AAA", {"a1": 10, "b1": 5}) for d in days]
    out = run(box=box_rows(games, lines), targets=targets_frame(TARGETS[:1]))
    # last game 10-29, D 10-30 -> back-to-back -15; 4 games -10; 248 min -10;
    # 62 mpg -8; second legs in 10-16..10-29: none.  100 - 15 - 10 - 10 - 8 = 57.
    t1 = row(out, D30, "a1")
    check(t1, "minutes_last_7_days", 248.0, "box_scores")
    check(t1, "fatigue_score", 57.0, "calculated")


def test_home_and_playoff_flags(out):
    check(row(out, D30, "a1"), "is_home", 0.0, "schedule")
    check(row(out, D30, "b1"), "is_home", 1.0, "schedule")
    check(row(out, D30, "a1"), "is_playoff_game", 0.0, "schedule")
    check(row(out, date(2025, 4, 25), "a1"), "is_playoff_game", 1.0, "schedule")
    check(row(out, D29, "c1"), "is_playoff_game", 0.0, "calculated")  # not in the schedule frame: calendar


def test_no_game_lines_source_yet(out):
    for name in ("game_total", "game_spread", "implied_team_total"):
        assert out[name].is_null().all()
        assert (out[source_column(name)] == "default").all()


# ---------------------------------------------------------------------------------------------
# history against the opponent


def test_points_vs_opponent_across_seasons(out):
    t1 = row(out, D30, "a1")  # vs BBB: P1 40, G1 30, G2 25, G3 28, G4 22, G5 35
    check(t1, "games_vs_opponent", 6.0, "box_scores")
    check(t1, "avg_points_vs_opponent", 180 / 6, "box_scores")
    t3 = row(out, D29, "c1")  # vs BBB: G6 only (P2 was against AAA)
    check(t3, "games_vs_opponent", 1.0, "box_scores")
    check(t3, "avg_points_vs_opponent", 30.0, "box_scores")
    t5 = row(out, D29, "a2")  # never met DDD
    check(t5, "games_vs_opponent", 0.0, "box_scores")
    check(t5, "avg_points_vs_opponent", None, "default")


# ---------------------------------------------------------------------------------------------
# injuries


def test_star_teammates_out_and_injury_risk(out):
    # a1 (out on 10-30): 140 points in 5 games = 28 ppg -> a star; b2 (out): 95/6 < 20 -> not.
    check(row(out, D30, "a2"), "star_teammates_out", 1.0, "injuries")
    check(row(out, D30, "a2"), "injury_risk", 0.0, "injuries")  # not listed
    check(row(out, D30, "a1"), "star_teammates_out", 0.0, "injuries")  # himself is not a teammate
    check(row(out, D30, "a1"), "injury_risk", 3.0, "injuries")
    check(row(out, D30, "b1"), "star_teammates_out", 0.0, "injuries")
    check(row(out, D30, "b1"), "injury_risk", 1.0, "injuries")  # probable
    check(row(out, D30, "ghost"), "star_teammates_out", 0.0, "injuries")
    # No report at all for 10-29: unknown, not zero.
    check(row(out, D29, "c1"), "star_teammates_out", None, "default")
    check(row(out, D29, "c1"), "injury_risk", None, "default")


def test_star_thresholds():
    # b1: 120 points in 6 games = exactly 20 ppg -> a star; c1 has 1 game this season (< 5) -> not.
    injuries = schemas.conform(
        pl.DataFrame(
            [
                {"game_date": D30, "player_lookup": "b1", "team": "BBB", "status": "out"},
                {"game_date": D30, "player_lookup": "c1", "team": "CCC", "status": "out"},
                {"game_date": D30, "player_lookup": "b2", "team": "BBB", "status": "questionable"},
            ]
        ),
        schemas.INJURY_REPORT,
    )
    targets = targets_frame(
        [
            (D30, "b2", "BBB", "AAA", True, gid(D30, "AAA", "BBB")),
            (D30, "c2", "CCC", "DDD", True, gid(D30, "DDD", "CCC")),
        ]
    )
    out = run(targets=targets, injuries=injuries)
    check(row(out, D30, "b2"), "star_teammates_out", 1.0, "injuries")
    check(row(out, D30, "b2"), "injury_risk", 2.0, "injuries")
    check(row(out, D30, "c2"), "star_teammates_out", 0.0, "injuries")


# ---------------------------------------------------------------------------------------------
# leakage


def test_no_leakage_from_target_date_or_later_rows(out):
    # For each target date D: add games ON D (the target games themselves, absurd numbers) and
    # after D; the targets of D must not change.
    for day in sorted({d for d, *_ in TARGETS}):
        leaks = [
            (day, "AAA", "BBB", {"a1": 99, "a2": 0, "b1": 1, "b2": 1}),
            (day, "DDD", "CCC", {"c1": 80, "c2": 80}),
            (day + timedelta(days=1), "CCC", "AAA", {"a1": 1, "a2": 1, "c1": 50, "c2": 50}),
            (day + timedelta(days=400), "BBB", "CCC", {"b1": 60, "c1": 0}),
        ]
        keep = [i for i, t in enumerate(TARGETS) if t[0] == day]
        targets = targets_frame([TARGETS[i] for i in keep])
        leaky = run(box=box_rows(GAMES + leaks), targets=targets)
        expected = out.with_row_index("_i").filter(pl.col("_i").is_in(keep)).drop("_i")
        assert leaky.equals(expected), day
        shuffled = box_rows(GAMES + leaks).sample(fraction=1.0, shuffle=True, seed=3)
        assert run(box=shuffled, targets=targets).equals(expected), day


def test_no_leakage_property_every_cutoff():
    # For every target date, the output equals the output computed from rows strictly before it.
    full = box_rows()
    days = sorted({d for d, *_ in GAMES}) + [D29, D30]
    targets = targets_frame(
        [(d + timedelta(days=1), "a1", "AAA", "BBB", False, gid(d + timedelta(days=1), "AAA", "BBB")) for d in days]
    )
    everything = run(box=full, targets=targets)
    for i, day in enumerate(days):
        cutoff = day + timedelta(days=1)
        one = targets.slice(i, 1)
        alone = run(box=full.filter(pl.col("game_date") < cutoff), targets=one)
        assert alone.equals(everything.slice(i, 1)), cutoff


def test_reports_captured_after_tip_do_not_count_for_that_game():
    """D30 AAA@BBB tips 23:30 UTC. a1 (a star, 28 ppg) is probable at 16:00 UTC and ruled out at
    00:15 UTC (after tip, in-game); b1 is only listed after tip. For the game: a1 probable (risk 1),
    a2 has no star teammate out (0, not 1), b1's report is unknown for the game -> the date's only
    pre-tip report counts: b1 not listed -> 0 (the old newest-of-the-day rule gave 3, 1 and 3).
    A game of the same date with an unknown tip keeps the newest report of the date."""
    from datetime import UTC, datetime

    tip, before, after = (datetime(2024, 10, 30, 23, 30, tzinfo=UTC), datetime(2024, 10, 30, 16, tzinfo=UTC),
                          datetime(2024, 10, 31, 0, 15, tzinfo=UTC))  # fmt: skip
    injuries = schemas.conform(
        pl.DataFrame(
            [
                {"game_date": D30, "player_lookup": "a1", "team": "AAA", "status": "probable", "reported_at": before},
                {"game_date": D30, "player_lookup": "a1", "team": "AAA", "status": "out", "reported_at": after},
                {"game_date": D30, "player_lookup": "b1", "team": "BBB", "status": "out", "reported_at": after},
                {"game_date": D30, "player_lookup": "c1", "team": "CCC", "status": "out", "reported_at": after},
            ]
        ),
        schemas.INJURY_REPORT,
    )
    targets = targets_frame(
        [(D30, p, t, o, h, gid(D30, "AAA", "BBB")) for p, t, o, h in
         (("a1", "AAA", "BBB", False), ("a2", "AAA", "BBB", False), ("b1", "BBB", "AAA", True))]
        + [(D30, "c2", "CCC", "DDD", True, gid(D30, "DDD", "CCC"))]
    ).with_columns(tip_time_utc=pl.when(pl.col("team") != "CCC").then(pl.lit(tip, dtype=schemas.UTC_TS)))  # fmt: skip
    out = run(targets=targets, injuries=injuries)
    check(row(out, D30, "a1"), "injury_risk", 1.0, "injuries")
    check(row(out, D30, "a2"), "star_teammates_out", 0.0, "injuries")
    check(row(out, D30, "a2"), "injury_risk", 0.0, "injuries")
    check(row(out, D30, "b1"), "injury_risk", 0.0, "injuries")
    # unknown tip (CCC's game): the newest report of the date, c1 out; c2 not listed
    check(row(out, D30, "c2"), "injury_risk", 0.0, "injuries")
    # Only post-tip reports and a known tip: nothing was known before the game -> NULL (default).
    only_after = injuries.filter(pl.col("player_lookup") != "a1")
    out = run(targets=targets.filter(pl.col("team") != "CCC"), injuries=only_after)
    check(row(out, D30, "b1"), "injury_risk", None, "default")
    check(row(out, D30, "a2"), "star_teammates_out", None, "default")
    # The tip can also come from the schedule alone (targets without a tip).
    sched = schedule_frame().with_columns(
        tip_time_utc=pl.when(pl.col("game_date") == D30).then(pl.lit(tip, dtype=schemas.UTC_TS))
    )
    out = run(targets=targets.drop("tip_time_utc").filter(pl.col("team") != "CCC"), injuries=injuries, schedule=sched)
    check(row(out, D30, "a1"), "injury_risk", 1.0, "injuries")


# ---------------------------------------------------------------------------------------------
# teammates_out_points_prev_game (issue 13 item 5): a league of its own, values by hand
#
#   AAA: x1 36 min, x2 30 min, x3 22 min, x4 10 min, x5 24 min; BBB: y1, y2; CCC: x5 (traded), z1
#   2023-24 Q0 04-10 x1..x5 play
#   2024-25 Q1 10-22, Q2 10-23, Q3 10-24, Q4 10-25  x1 x2 x3 x4 x5 play (x3 Q1..Q4 only)
#           Q5 10-26  x1 x2 x4 x5          Q7 10-27 (CCC) x5 for CCC
#           Q6 10-28  x2 x4 play; x1 has a DNP row; x3 (4 games < 5), x5 (now CCC) absent
#   x1 before 10-28: 30 + 20 + 25 + 35 + 30 = 140 in 5 games, 36 min -> a regular, 28 ppg.

TM_LINES = {p: (t, m, 10, 2, 1, 1) for p, t, m in [
    ("x1", "AAA", 36), ("x2", "AAA", 30), ("x3", "AAA", 22), ("x4", "AAA", 10), ("x5", "AAA", 24),
    ("y1", "BBB", 34), ("y2", "BBB", 34), ("z1", "CCC", 34), ("x5c", "CCC", 24),
]}  # fmt: skip
TM_GAMES = [
    (date(2024, 4, 10), "BBB", "AAA", {"x1": 9, "x2": 9, "x3": 9, "x4": 9, "x5": 9, "y1": 9, "y2": 9}),
    (date(2024, 10, 22), "BBB", "AAA", {"x1": 30, "x2": 10, "x3": 8, "x4": 2, "x5": 10, "y1": 9, "y2": 9}),
    (date(2024, 10, 23), "AAA", "BBB", {"x1": 20, "x2": 12, "x3": 6, "x4": 4, "x5": 10, "y1": 9, "y2": 9}),
    (date(2024, 10, 24), "BBB", "AAA", {"x1": 25, "x2": 14, "x3": 10, "x4": 0, "x5": 10, "y1": 9, "y2": 9}),
    (date(2024, 10, 25), "AAA", "BBB", {"x1": 35, "x2": 8, "x3": 12, "x4": 3, "x5": 10, "y1": 9, "y2": 9}),
    (date(2024, 10, 26), "BBB", "AAA", {"x1": 30, "x2": 16, "x4": 5, "x5": 10, "y1": 9, "y2": 9}),
    (date(2024, 10, 27), "CCC", "BBB", {"x5c": 10, "z1": 9, "y1": 9, "y2": 9}),
    (date(2024, 10, 28), "AAA", "BBB", {"x2": 20, "x4": 6, "y1": 9, "y2": 9}),
]
TM_D = date(2024, 10, 30)


def tm_box(games=TM_GAMES) -> pl.DataFrame:
    box = box_rows(games, TM_LINES).with_columns(
        player_lookup=pl.col("player_lookup").replace("x5c", "x5"),
        player_name=pl.col("player_name").replace("x5c", "x5"),
    )
    dnp = box.filter((pl.col("player_lookup") == "x2") & (pl.col("game_date") == date(2024, 10, 28))).with_columns(
        player_lookup=pl.lit("x1"), player_name=pl.lit("x1"), played=pl.lit(False), minutes=None, points=None
    )
    return pl.concat([box, dnp])


def tm_run(targets, box=None, **cfg) -> pl.DataFrame:
    frame = targets_frame([(d, p, t, "BBB", False, gid(d, t, "BBB")) for d, p, t in targets])
    inputs = FeatureInputs(
        targets=frame, box_history=tm_box() if box is None else box, line_history=frame.head(0),
        schedule=schemas.empty(schemas.SCHEDULE), injuries=schemas.empty(schemas.INJURY_REPORT),
    )  # fmt: skip
    config = team_context.DEFAULT_CONFIG.model_copy(update=cfg)
    return team_context_features(inputs, config)


def test_teammates_out_points_prev_game_by_hand():
    targets = [(TM_D, "x2", "AAA"), (TM_D, "x1", "AAA"), (TM_D, "x4", "AAA"),
               (date(2024, 10, 27), "x2", "AAA"), (date(2024, 10, 22), "x2", "AAA"), (TM_D, "y1", "BBB"),
               (TM_D, "nobody", None)]  # fmt: skip
    out = tm_run(targets)
    name = "teammates_out_points_prev_game"
    # G = 10-28: x1 (28 ppg, a DNP row is absent) is out; x3 has 4 games (< 5); x5 plays for CCC now
    check(row(out, TM_D, "x2"), name, 28.0, "box_scores")
    check(row(out, TM_D, "x4"), name, 28.0, "box_scores")
    check(row(out, TM_D, "x1"), name, 0.0, "box_scores")  # himself is not his teammate
    # G = 10-26: x3 (4 games, 22 min, 36 points before 10-26) is not a regular yet -> 0
    check(row(out, date(2024, 10, 27), "x2"), name, 0.0, "box_scores")
    # the season's first game: no earlier game of 2024-25 (the 2023-24 one does not count)
    check(row(out, date(2024, 10, 22), "x2"), name, None, "default")
    check(row(out, TM_D, "y1"), name, 0.0, "box_scores")  # BBB: nobody missed 10-28
    check(row(out, TM_D, "nobody"), name, None, "default")  # no team
    # thresholds from the config: 5 games -> 4 makes x3 a regular of 10-26 (36 / 4 = 9 ppg) ...
    looser = tm_run([(date(2024, 10, 27), "x2", "AAA")], regular_min_games=4)
    check(row(looser, date(2024, 10, 27), "x2"), name, 9.0, "box_scores")
    # ... 36 minutes excludes x1 (36 is enough, 36.5 is not)
    check(row(tm_run([(TM_D, "x2", "AAA")], regular_mpg=36.0), TM_D, "x2"), name, 28.0, "box_scores")
    check(row(tm_run([(TM_D, "x2", "AAA")], regular_mpg=36.5), TM_D, "x2"), name, 0.0, "box_scores")


def test_teammates_out_needs_a_recent_game_for_the_team():
    # x1 misses 10-28, 10-29 and 10-31 too: team games after his last (10-26, number 5 of AAA):
    # 10-28 is 1 later, 10-29 2, 10-31 3. With regular_recent_games 2 he counts for 11-01's
    # previous game 10-31 only when the rule allows 3.
    more = [
        (date(2024, 10, 29), "BBB", "AAA", {"x2": 20, "x4": 6, "y1": 9, "y2": 9}),
        (date(2024, 10, 31), "AAA", "BBB", {"x2": 20, "x4": 6, "y1": 9, "y2": 9}),
    ]
    box = tm_box(TM_GAMES + more)
    name = "teammates_out_points_prev_game"
    for recent, day, expected in [
        (2, date(2024, 10, 30), 28.0),
        (2, date(2024, 11, 1), 0.0),
        (3, date(2024, 11, 1), 28.0),
    ]:
        out = tm_run([(day, "x2", "AAA")], box=box, regular_recent_games=recent)
        check(row(out, day, "x2"), name, expected, "box_scores")


def test_teammates_out_no_leakage_from_the_date_or_later():
    # games ON the target date and after it (x1 absent, absurd points) change nothing; and every
    # target equals its value computed from the rows strictly before its date
    targets = [(date(2024, 10, d), p, "AAA") for d in (23, 25, 27, 29, 30) for p in ("x1", "x2", "x4")]
    full = tm_run(targets)
    leaks = [
        (TM_D, "AAA", "BBB", {"x1": 99, "x3": 99, "y1": 9, "y2": 9}),  # x1 back, x2 out
        (TM_D + timedelta(days=1), "BBB", "AAA", {"x2": 0, "y1": 9, "y2": 9}),
    ]
    leaky = tm_run(targets, box=tm_box(TM_GAMES + leaks))
    assert leaky.equals(full)
    for i, (day, player, team) in enumerate(targets):
        alone = tm_run([(day, player, team)], box=tm_box().filter(pl.col("game_date") < day))
        assert alone.equals(full.slice(i, 1)), (day, player)
