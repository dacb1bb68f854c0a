"""The signal features of issue 11: `player_features` columns in no model feature set, read by
the pick signals and filters only. Hand-made box scores, every expected value computed by hand.

Player-history features (2024-25 games on Nov 1..6, team AAA of six players; mia's teammates'
minutes decide the starter proxy):

  game  mia min  teammates' minutes     started (why)                 3PM/3PA  +/-  REB
  g1    25       40 38 36 34 32         no  (5 teammates with more)    1/4       5   2
  g2    30       40 38 36 20 10         yes (3 with more)              2/5      -3   2
  g3    35       40 38 30 20 10         no  (starter flag False wins)  0/0      -1   2
  g4    30       40 38 36 30 10         yes (3 with more; a tie)       3/6       0   2
  g5    20       40 38 36 35 20         yes (4 with more: tie at 5th)  0/2      -2   2
  g6    40       40 38 36 35 20         yes (none with more)           2/4      -4   2

  minutes_avg_last_3 = (30 + 20 + 40) / 3 = 30; minutes_prev_game = 40; minutes_avg_season =
  180 / 6 = 30; starter_share_last_5 = g2..g6 = 4 / 5; fg3a_per_game_season = 21 / 6 = 3.5;
  fg3_pct_season = 8 / 21; fg3_pct_last_3 = (3 + 0 + 2) / (6 + 2 + 4) = 5 / 12;
  fg3_pct_std_season = stdev(1/4, 2/5, 3/6, 0/2, 2/4) (g3 has no 3PA); negative streak = 2
  (g5, g6; g4's 0 ends it); rebounds per 36 = 36 * 12 / 180 = 2.4 -> not a big man.

bo (CCC, alone on his team): six 2023-24 games (30 min, 10 REB, 0/1 3P, +/- -1) and two 2024-25
games (Nov 1 and 3: 20 and 22 min, 0/0 3P, +/- NULL then -2). Fewer than 5 games this season:
the season features come from 2023-24 (source prior_season).
"""

from __future__ import annotations

import statistics
from datetime import date, timedelta

import polars as pl
import pytest
from pydantic import ValidationError

from nba_props.lib import schemas
from nba_props.lib.features.build import build_player_features
from nba_props.lib.features.contract import FEATURE_SETS, FeatureContract, load_contract
from nba_props.lib.features.inputs import KEY_COLUMNS, FeatureInputs, source_column
from nba_props.lib.features.player_history import player_history_features
from nba_props.lib.features.team_context import team_context_features

CONTRACT = load_contract()
RULES = CONTRACT.signal_features

# The shared contract of issue 11: names other helpers read (signals, filters, best bets).
SIGNAL_FEATURES = (
    "minutes_avg_last_3", "minutes_avg_season", "minutes_prev_game", "starter_share_last_5",
    "fg3a_per_game_season", "fg3_pct_season", "fg3_pct_last_3", "fg3_pct_std_season",
    "negative_plus_minus_streak", "is_big_man", "team_days_rest", "opponent_days_rest",
    "games_vs_opponent_season", "teammates_out_points_prev_game",
)  # fmt: skip
PLAYER_HISTORY_SIGNALS = SIGNAL_FEATURES[:10]
TEAM_CONTEXT_SIGNALS = SIGNAL_FEATURES[10:]

# The model feature sets as they were before issue 11 (names and order): the signal features
# must not change any model.
V9 = [
    "points_avg_last_5", "points_avg_last_10", "points_avg_season", "points_std_last_10", "games_last_7_days",
    "fatigue_score", "pace_diff", "usage_diff_vs_opponent", "rest_advantage", "injury_risk", "recent_trend",
    "minutes_change_vs_season", "opp_def_rating", "opp_pace", "is_home", "is_back_to_back", "is_playoff_game",
    "three_pt_attempt_rate", "free_throw_rate", "team_pace", "team_off_rating", "team_win_pct", "vegas_points_line",
    "vegas_opening_line", "vegas_line_move", "has_vegas_line", "avg_points_vs_opponent", "games_vs_opponent",
    "minutes_avg_last_10", "points_per_minute_last_10",
]  # fmt: skip
V12_EXTRA = [
    "dnp_rate", "points_slope_last_10", "points_zscore_last_5", "breakout_flag", "star_teammates_out", "game_total",
    "game_spread", "implied_team_total", "days_rest", "minutes_last_7_days", "points_avg_last_3",
    "scoring_slope_last_7", "deviation_last_3_vs_60d", "consecutive_games_below_avg", "usage_rate_last_5",
    "games_since_structural_change", "multi_book_line_std", "prop_over_streak", "prop_under_streak",
    "line_vs_season_avg", "prop_line_delta",
]  # fmt: skip
V12 = V9 + V12_EXTRA
LINE_DERIVED = {
    "vegas_points_line", "vegas_opening_line", "vegas_line_move", "has_vegas_line", "multi_book_line_std",
    "prop_over_streak", "prop_under_streak", "line_vs_season_avg", "prop_line_delta",
}  # fmt: skip
V12_NOVEG = [f for f in V12 if f not in LINE_DERIVED]

TARGET_DAY = date(2024, 11, 8)
NOV = [date(2024, 11, d) for d in range(1, 7)]


# ---------------------------------------------------------------------------------------------
# hand-made data


def box(day, player, team, opp, minutes, *, pts=10, fg3m=0, fg3a=0, reb=0, pm=0, starter=None, game_id=None):
    return {
        "game_date": day,
        "game_id": game_id or f"{day:%Y%m%d}_{opp}_{team}",
        "player_id": sum(map(ord, player)),
        "player_name": player,
        "player_lookup": player,
        "team": team,
        "opponent": opp,
        "is_home": True,
        "played": True,
        "starter": starter,
        "minutes": minutes,
        "points": pts,
        "fga": max(fg3a, 4),
        "fgm": 2,
        "fg3m": fg3m,
        "fg3a": fg3a,
        "fta": 2,
        "oreb": 0,
        "dreb": reb,
        "reb": reb,
        "tov": 1,
        "plus_minus": pm,
    }


MIA = [  # (minutes, teammates' minutes, 3PM, 3PA, +/-, starter flag)
    (25.0, (40, 38, 36, 34, 32), 1, 4, 5, None),
    (30.0, (40, 38, 36, 20, 10), 2, 5, -3, None),
    (35.0, (40, 38, 30, 20, 10), 0, 0, -1, False),
    (30.0, (40, 38, 36, 30, 10), 3, 6, 0, None),
    (20.0, (40, 38, 36, 35, 20), 0, 2, -2, None),
    (40.0, (40, 38, 36, 35, 20), 2, 4, -4, None),
]


def history_rows() -> list[dict]:
    rows = []
    for day, (minutes, mates, fg3m, fg3a, pm, flag) in zip(NOV, MIA, strict=True):
        rows.append(box(day, "mia", "AAA", "BBB", minutes, fg3m=fg3m, fg3a=fg3a, reb=2, pm=pm, starter=flag))
        rows += [box(day, f"t{i}", "AAA", "BBB", float(m)) for i, m in enumerate(mates, start=1)]
    # bo: 2023-24 (six games), then two 2024-25 games
    for i in range(6):
        rows.append(box(date(2024, 3, 1 + i), "bo", "CCC", "ZZZ", 30.0, fg3m=0, fg3a=1, reb=10, pm=-1))
    rows.append(box(date(2024, 11, 1), "bo", "CCC", "ZZZ", 20.0, reb=8, pm=None))
    rows.append(box(date(2024, 11, 3), "bo", "CCC", "ZZZ", 22.0, reb=8, pm=-2))
    # the big-man and 3P% thresholds, exactly at each boundary (five 36-minute games each):
    #   cy:  50 REB -> 10.0 per 36 (>= 10), 3PA 2,2,2,2,1 = 1.8 per game (< 2) -> big; 9 3PA (< 10)
    #   dee: 50 REB, 3PA 2 each = 2.0 per game (not < 2) -> not big; 10 3PA, 4 made -> 0.4
    #   eve: 45 REB -> 9.0 per 36 (< 10), no 3PA -> not big; no game with a 3PA -> no 3P% at all
    for i, day in enumerate(NOV[:5]):
        rows.append(box(day, "cy", "DDD", "ZZZ", 36.0, fg3a=1 if i == 4 else 2, reb=10, pm=-1 if i < 4 else None))
        rows.append(box(day, "dee", "EEE", "ZZZ", 36.0, fg3m=1 if i < 4 else 0, fg3a=2, reb=10, pm=-1))
        rows.append(box(day, "eve", "FFF", "ZZZ", 36.0, reb=9, pm=1))
    # fay: one game only
    rows.append(box(NOV[5], "fay", "GGG", "ZZZ", 12.0, fg3m=1, fg3a=3, reb=1, pm=-6))
    return rows


def box_frame(rows) -> pl.DataFrame:
    return schemas.conform(pl.DataFrame(rows, infer_schema_length=None), schemas.BOX_SCORES)


TEAMS = {"mia": ("AAA", "BBB"), "bo": ("CCC", "ZZZ"), "cy": ("DDD", "ZZZ"), "dee": ("EEE", "ZZZ"),
         "eve": ("FFF", "ZZZ"), "fay": ("GGG", "ZZZ"), "ghost": ("HHH", "ZZZ")}  # fmt: skip


def targets_frame(day=TARGET_DAY, teams=TEAMS) -> pl.DataFrame:
    rows = [
        {"game_date": day, "game_id": f"{day:%Y%m%d}_{opp}_{team}", "player_lookup": p, "player_name": p,
         "team": team, "opponent": opp, "is_home": True}
        for p, (team, opp) in teams.items()
    ]  # fmt: skip
    return schemas.conform(pl.DataFrame(rows), schemas.PLAYER_LINES)


def inputs(box_rows=None, targets=None) -> FeatureInputs:
    t = targets if targets is not None else targets_frame()
    return FeatureInputs(
        targets=t,
        box_history=box_frame(history_rows() if box_rows is None else box_rows),
        line_history=t.head(0),
        schedule=schemas.empty(schemas.SCHEDULE),
        injuries=schemas.empty(schemas.INJURY_REPORT),
    )


def row_of(frame: pl.DataFrame, player: str, day: date | None = None) -> dict:
    rows = frame.filter(
        (pl.col("player_lookup") == player) & ((pl.col("game_date") == day) if day else pl.lit(True))
    ).to_dicts()
    assert len(rows) == 1, (player, len(rows))
    return rows[0]


def check(r: dict, name: str, value, source: str) -> None:
    if value is None:
        assert r[name] is None, (name, r[name])
    else:
        assert r[name] == pytest.approx(value, rel=1e-12, abs=1e-12), (name, r[name], value)
    assert r[source_column(name)] == source, (name, r[source_column(name)], source)


@pytest.fixture(scope="module")
def history() -> pl.DataFrame:
    return player_history_features(inputs())


# ---------------------------------------------------------------------------------------------
# the contract: in no model set, optional, NULL default, thresholds in the YAML


def test_signal_features_are_the_agreed_columns_in_no_model_set():
    assert CONTRACT.signal_feature_names == SIGNAL_FEATURES
    for name in SIGNAL_FEATURES:
        spec = CONTRACT.feature(name)
        assert spec.sets == () and spec.is_signal, name
        assert not spec.required and spec.default is None and not spec.line_derived, name
        assert spec.min < spec.max and spec.unit and spec.description, name
        assert "no model set" in spec.column_description()
    assert {s.name for s in CONTRACT.of_block("player_history") if s.is_signal} == set(PLAYER_HISTORY_SIGNALS)
    assert {s.name for s in CONTRACT.of_block("team_context") if s.is_signal} == set(TEAM_CONTEXT_SIGNALS)


V13_ADDS = ["minutes_avg_last_3", "minutes_prev_game", "minutes_avg_season", "starter_share_last_5"]


def test_model_feature_sets_are_unchanged_names_and_order():
    """v9 / v12 / v12_noveg exactly as before issue 11 (membership and column order); a signal
    feature reaches a model only through an extension set that names it (v13_noveg, issue 13)."""
    assert CONTRACT.feature_columns("v9") == V9
    assert CONTRACT.feature_columns("v12") == V12
    assert CONTRACT.feature_columns("v12_noveg") == V12_NOVEG
    assert CONTRACT.feature_columns("v13_noveg") == V12_NOVEG + V13_ADDS
    assert CONTRACT.feature_columns("v14_noveg") == V12_NOVEG + V13_ADDS + ["teammates_out_points_prev_game"]
    for set_name in FEATURE_SETS:
        added = set(CONTRACT.sets[set_name].adds)
        assert set(CONTRACT.feature_columns(set_name)) & set(SIGNAL_FEATURES) == added, set_name
        assert not set(CONTRACT.required_of(set_name)) & set(SIGNAL_FEATURES)


def test_training_selects_the_family_set_only():
    """The training frame of every configured family (and so its model and the registry's
    feature list the predictions use) holds its set's columns, never a signal feature its set
    does not add."""
    from nba_props.lib.models.registry import load_models_config
    from nba_props.lib.models.training import LABEL, training_frame

    week_start = date(2024, 11, 11)
    features = build_player_features(inputs(targets=targets_frame(day=NOV[5])), CONTRACT).with_columns(
        is_quality_ready=pl.lit(True), line=pl.lit(12.5)
    )
    labels = box_frame(history_rows()).filter(pl.col("game_date") == NOV[5])
    assert set(SIGNAL_FEATURES) <= set(features.columns)
    families = load_models_config().families
    assert families
    for family in families:
        frame = training_frame(features, labels, family, CONTRACT, week_start=week_start)
        assert frame.height > 0, family.id
        columns = [c for c in frame.columns if c in set(CONTRACT.names)]
        assert columns == CONTRACT.feature_columns(family.feature_set), family.id
        assert set(frame.columns) & set(SIGNAL_FEATURES) == set(CONTRACT.sets[family.feature_set].adds), family.id
        assert LABEL in frame.columns


def _raw() -> dict:
    return CONTRACT.model_dump(mode="json")


def _spec(raw: dict, name: str) -> dict:
    return next(f for f in raw["features"] if f["name"] == name)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: _spec(r, "is_big_man").update(required=True), "cannot be required"),
        # a NULL default stays reserved to line-derived and signal features
        (lambda r: _spec(r, "points_avg_last_3").update(default=None), "NULL default is only allowed"),
        # a required model feature cannot leave every set (an optional one moved out is caught by
        # test_model_feature_sets_are_unchanged_names_and_order, the lists as they were)
        (lambda r: _spec(r, "points_avg_last_3").update(sets=[]), "in no set .* cannot be required"),
        (lambda r: r["signal_features"].update(fg3_std_min_games=1), "fg3_std_min_games"),
        (lambda r: r["signal_features"]["big_man"].update(min_reb_per_36=0), "min_reb_per_36"),
        (lambda r: r["signal_features"].update(minutes_last_3_min_games=4), "minutes_last_3_min_games"),
        (lambda r: r["signal_features"].pop("starter_proxy_players"), "starter_proxy_players"),
    ],
)
def test_contract_validation_of_signal_features(mutate, message):
    raw = _raw()
    mutate(raw)
    with pytest.raises(ValidationError, match=message):
        FeatureContract.model_validate(raw)


def test_thresholds_are_read_from_the_yaml():
    assert (RULES.minutes_last_3_min_games, RULES.starter_share_min_games, RULES.starter_proxy_players) == (2, 3, 5)
    assert (RULES.fg3_last_3_min_games, RULES.fg3_last_3_min_attempts, RULES.fg3_season_min_attempts) == (2, 1, 10)
    assert (RULES.fg3_std_game_min_attempts, RULES.fg3_std_min_games) == (1, 5)
    assert (RULES.big_man.min_reb_per_36, RULES.big_man.max_fg3a_per_game) == (10.0, 2.0)


# ---------------------------------------------------------------------------------------------
# the player-history signal features


def test_minutes_features(history):
    r = row_of(history, "mia")
    check(r, "minutes_avg_last_3", 30.0, "box_scores")  # 30, 20, 40
    check(r, "minutes_prev_game", 40.0, "box_scores")
    check(r, "minutes_avg_season", 30.0, "box_scores")  # 180 / 6


def test_season_boundary_prior_season_and_cross_season_windows(history):
    r = row_of(history, "bo")
    # last 3 games run across the season boundary: 30 (2024-03-06), 20, 22
    check(r, "minutes_avg_last_3", 24.0, "box_scores")
    check(r, "minutes_prev_game", 22.0, "box_scores")
    # two games this season (< 5): the season features are 2023-24's
    check(r, "minutes_avg_season", 30.0, "prior_season")
    check(r, "fg3a_per_game_season", 1.0, "prior_season")
    check(r, "fg3_pct_season", None, "default")  # 6 3PA < 10
    check(r, "fg3_pct_std_season", 0.0, "prior_season")  # six games at 0/1: a real 0
    check(r, "is_big_man", 1.0, "prior_season")  # 36 * 60 / 180 = 12 per 36, 1 3PA per game
    # 0 3PM in 1 3PA over the last 3 games: exactly the 1-attempt minimum
    check(r, "fg3_pct_last_3", 0.0, "box_scores")
    # a game without a plus-minus inside the run ends it: -1 x6, NULL, -2 -> 1
    check(r, "negative_plus_minus_streak", 1.0, "box_scores")


def test_season_features_switch_to_the_current_season_at_five_games():
    """mia's Nov 6 target sees five games of 2024-25 (the season rule's minimum): real current values."""
    out = player_history_features(inputs(targets=targets_frame(day=NOV[5])))
    r = row_of(out, "mia")
    check(r, "minutes_avg_season", (25 + 30 + 35 + 30 + 20) / 5, "box_scores")
    check(r, "fg3a_per_game_season", 17 / 5, "box_scores")
    check(r, "fg3_pct_season", 6 / 17, "box_scores")
    # 3P% games: 1/4, 2/5, 3/6, 0/2 -> 4 games < 5: no std
    check(r, "fg3_pct_std_season", None, "default")
    # bo on Nov 2 (one game this season) still reads 2023-24
    r = row_of(player_history_features(inputs(targets=targets_frame(day=date(2024, 11, 2)))), "bo")
    check(r, "minutes_avg_season", 30.0, "prior_season")


def test_starter_share_from_the_flag_and_the_five_highest_minutes(history):
    # g2 yes, g3 no (flag), g4 yes, g5 yes (tie at 5th), g6 yes
    check(row_of(history, "mia"), "starter_share_last_5", 4 / 5, "box_scores")
    # alone on his team: top minutes every game; last 5 = 2023-24 x3 + 2 this season
    check(row_of(history, "bo"), "starter_share_last_5", 1.0, "box_scores")
    check(row_of(history, "fay"), "starter_share_last_5", None, "default")  # 1 game < 3


def test_starter_share_minimum_games_and_unknown_minutes():
    """3 known games of the last 5 is enough; a game with NULL minutes and no flag is unknown."""
    rows = [box(NOV[i], "gus", "AAA", "BBB", 30.0 if i != 1 else None) for i in range(4)]
    rows += [box(NOV[i], f"x{k}", "AAA", "BBB", 40.0) for i in range(4) for k in range(5)]
    out = player_history_features(inputs(rows, targets_frame(teams={"gus": ("AAA", "BBB")})))
    # every game: 5 teammates with 40 > 30 -> not started; game 2 unknown -> 0 / 3
    check(row_of(out, "gus"), "starter_share_last_5", 0.0, "box_scores")
    out = player_history_features(inputs(rows[:3] + rows[4:], targets_frame(teams={"gus": ("AAA", "BBB")})))
    check(row_of(out, "gus"), "starter_share_last_5", None, "default")  # 2 known games < 3


def test_three_point_features(history):
    r = row_of(history, "mia")
    check(r, "fg3a_per_game_season", 21 / 6, "box_scores")
    check(r, "fg3_pct_season", 8 / 21, "box_scores")
    check(r, "fg3_pct_last_3", 5 / 12, "box_scores")
    check(r, "fg3_pct_std_season", statistics.stdev([1 / 4, 2 / 5, 3 / 6, 0 / 2, 2 / 4]), "box_scores")
    check(row_of(history, "cy"), "fg3_pct_season", None, "default")  # 9 3PA < 10
    check(row_of(history, "dee"), "fg3_pct_season", 0.4, "box_scores")  # exactly 10 3PA
    check(row_of(history, "dee"), "fg3_pct_std_season", statistics.stdev([0.5] * 4 + [0.0]), "box_scores")
    eve = row_of(history, "eve")
    check(eve, "fg3a_per_game_season", 0.0, "box_scores")
    check(eve, "fg3_pct_season", None, "default")
    check(eve, "fg3_pct_last_3", None, "default")  # 0 3PA in the window
    check(eve, "fg3_pct_std_season", None, "default")  # no game with a 3PA
    fay = row_of(history, "fay")
    check(fay, "fg3_pct_last_3", None, "default")  # 1 game < 2
    check(fay, "minutes_avg_last_3", None, "default")
    check(fay, "minutes_prev_game", 12.0, "box_scores")


def test_missing_three_point_stats_default_what_needs_them():
    rows = history_rows()
    for r in rows:
        if r["player_lookup"] == "mia" and r["game_date"] == NOV[4]:
            r["fg3m"] = None
    out = player_history_features(inputs(rows))
    r = row_of(out, "mia")
    for name in ("fg3a_per_game_season", "fg3_pct_season", "fg3_pct_last_3", "fg3_pct_std_season", "is_big_man"):
        check(r, name, None, "default")
    check(r, "minutes_avg_last_3", 30.0, "box_scores")


def test_negative_plus_minus_streak(history):
    check(row_of(history, "mia"), "negative_plus_minus_streak", 2.0, "box_scores")  # g4's 0 ends it
    check(row_of(history, "dee"), "negative_plus_minus_streak", 5.0, "box_scores")
    check(row_of(history, "eve"), "negative_plus_minus_streak", 0.0, "box_scores")  # newest game +1
    check(row_of(history, "cy"), "negative_plus_minus_streak", None, "default")  # newest game has none
    check(row_of(history, "fay"), "negative_plus_minus_streak", 1.0, "box_scores")


def test_big_man_thresholds(history):
    check(row_of(history, "cy"), "is_big_man", 1.0, "box_scores")  # 10.0 per 36 (>=), 1.8 3PA (<)
    check(row_of(history, "dee"), "is_big_man", 0.0, "box_scores")  # 3PA exactly 2.0: not below
    check(row_of(history, "eve"), "is_big_man", 0.0, "box_scores")  # 9.0 per 36
    check(row_of(history, "mia"), "is_big_man", 0.0, "box_scores")  # 2.4 per 36


def test_unknown_player_has_every_signal_feature_defaulted(history):
    r = row_of(history, "ghost")
    for name in PLAYER_HISTORY_SIGNALS:
        check(r, name, None, "default")


# ---------------------------------------------------------------------------------------------
# the team-context signal features: rest from the team games, games vs the opponent this season


def team_rows() -> list[dict]:
    """2023-24: mia vs BBB on Apr 10. 2024-25: AAA-BBB Oct 25, AAA-CCC Oct 27, BBB-DDD Oct 28;
    FFF's last game is 2024-03-01 (the cap)."""
    games = [
        (date(2024, 4, 10), "AAA", "BBB"),
        (date(2024, 10, 25), "AAA", "BBB"),
        (date(2024, 10, 27), "AAA", "CCC"),
        (date(2024, 10, 28), "BBB", "DDD"),
        (date(2024, 3, 1), "FFF", "CCC"),
    ]
    rows = []
    for day, home, away in games:
        gid = f"{day:%Y%m%d}_{away}_{home}"
        for team, opp in ((home, away), (away, home)):
            player = "mia" if team == "AAA" else f"p_{team}"
            rows.append(box(day, player, team, opp, 30.0, game_id=gid))
    return rows


D29 = date(2024, 10, 29)
TEAM_TARGETS = [  # (player, team, opponent)
    ("mia", "AAA", "BBB"),  # rest 2 vs 1, one game vs BBB this season (two in all)
    ("mia2", "AAA", "EEE"),  # a new player: team rest known, nothing of his own
    ("p_CCC", "CCC", "FFF"),  # opponent's last game 2024-03-01: capped at 30
    ("p_DDD", "DDD", "AAA"),  # history, never met AAA: 0 this season
]


def team_out(box_rows=None, day=D29) -> pl.DataFrame:
    rows = [
        {"game_date": day, "game_id": f"{day:%Y%m%d}_{opp}_{team}", "player_lookup": p, "player_name": p,
         "team": team, "opponent": opp, "is_home": True}
        for p, team, opp in TEAM_TARGETS
    ]  # fmt: skip
    targets = schemas.conform(pl.DataFrame(rows), schemas.PLAYER_LINES)
    return team_context_features(inputs(team_rows() if box_rows is None else box_rows, targets))


def test_team_and_opponent_days_rest():
    out = team_out()
    mia = row_of(out, "mia")
    check(mia, "team_days_rest", 2.0, "box_scores")  # Oct 29 - Oct 27
    check(mia, "opponent_days_rest", 1.0, "box_scores")  # BBB played Oct 28: back-to-back
    check(row_of(out, "mia2"), "team_days_rest", 2.0, "box_scores")
    check(row_of(out, "mia2"), "opponent_days_rest", None, "default")  # EEE never played
    ccc = row_of(out, "p_CCC")
    check(ccc, "team_days_rest", 2.0, "box_scores")
    check(ccc, "opponent_days_rest", float(CONTRACT.team_context.days_rest_cap), "box_scores")  # capped
    assert CONTRACT.team_context.days_rest_cap == 30


def test_games_vs_opponent_season_counts_this_season_only():
    out = team_out()
    mia = row_of(out, "mia")
    check(mia, "games_vs_opponent_season", 1.0, "box_scores")
    check(mia, "games_vs_opponent", 2.0, "box_scores")  # the model feature: any season
    check(row_of(out, "p_DDD"), "games_vs_opponent_season", 0.0, "box_scores")  # 0 is real
    check(row_of(out, "mia2"), "games_vs_opponent_season", None, "default")  # no history
    # on opening night of 2025-26 the 2024-25 meeting no longer counts
    nxt = row_of(team_out(day=date(2025, 10, 22)), "mia")
    check(nxt, "games_vs_opponent_season", 0.0, "box_scores")
    check(nxt, "games_vs_opponent", 2.0, "box_scores")


# ---------------------------------------------------------------------------------------------
# leak-free, the orchestrator, quality


def _signal_columns(frame: pl.DataFrame, names) -> pl.DataFrame:
    return frame.select(*KEY_COLUMNS, *[c for n in names for c in (n, source_column(n))]).sort(*KEY_COLUMNS)


def test_future_and_same_day_box_scores_change_no_signal_feature():
    """Box-score rows dated on or after the target date (extreme values, every player, both
    teams) change none of the new columns."""
    future = []
    for day in (TARGET_DAY, TARGET_DAY + timedelta(days=1), TARGET_DAY + timedelta(days=30)):
        for player, (team, opp) in TEAMS.items():
            future.append(
                box(day, player, team, opp, 48.0, fg3m=9, fg3a=10, reb=25, pm=-30, starter=True,
                    game_id=f"{day:%Y%m%d}_{opp}_{team}")
            )  # fmt: skip
            future.append(box(day, f"opp_{opp}", opp, team, 48.0, game_id=f"{day:%Y%m%d}_{opp}_{team}"))
    honest = player_history_features(inputs())
    leaked = player_history_features(inputs(history_rows() + future))
    assert _signal_columns(leaked, PLAYER_HISTORY_SIGNALS).equals(_signal_columns(honest, PLAYER_HISTORY_SIGNALS))
    team_future = [
        box(day, "mia", "AAA", "BBB", 30.0, game_id=f"{day:%Y%m%d}_BBB_AAA") for day in (D29, D29 + timedelta(days=1))
    ] + [box(D29, "p_BBB", "BBB", "AAA", 30.0, game_id=f"{D29:%Y%m%d}_BBB_AAA")]
    honest = team_out()
    leaked = team_out(team_rows() + team_future)
    assert _signal_columns(leaked, TEAM_CONTEXT_SIGNALS).equals(_signal_columns(honest, TEAM_CONTEXT_SIGNALS))
    # the guard sees a planted change: the same frames differ when a past game is added
    changed = team_out(team_rows() + [box(D29 - timedelta(days=1), "mia", "AAA", "BBB", 30.0)])
    assert not _signal_columns(changed, TEAM_CONTEXT_SIGNALS).equals(_signal_columns(honest, TEAM_CONTEXT_SIGNALS))


def test_build_stores_signal_features_with_null_defaults_and_they_do_not_score_quality():
    built = build_player_features(inputs(), CONTRACT)
    ghost = row_of(built, "ghost")
    for name in SIGNAL_FEATURES[:-3]:  # the player's own; team rest needs no player history
        check(ghost, name, None, "default")
    mia = row_of(built, "mia")
    check(mia, "minutes_avg_last_3", 30.0, "box_scores")
    assert not set(mia["default_feature_names"]) & set(SIGNAL_FEATURES)

    # the same build with every signal feature defaulted scores the same quality
    def no_signals(block):
        def wrapped(i: FeatureInputs) -> pl.DataFrame:
            out = block(i)
            names = [n for n in SIGNAL_FEATURES if n in out.columns]
            return out.with_columns(
                *[pl.lit(None, dtype=pl.Float64).alias(n) for n in names],
                *[pl.lit("default").alias(source_column(n)) for n in names],
            )

        return wrapped

    blocks = {"player_history": no_signals(player_history_features), "team_context": no_signals(team_context_features)}
    stripped = build_player_features(inputs(), CONTRACT, blocks=blocks)
    quality = ["feature_quality_score", "quality_tier", "default_feature_names", "is_quality_ready", "block_reason"]
    assert stripped.select(*KEY_COLUMNS, *quality).equals(built.select(*KEY_COLUMNS, *quality))
    assert stripped.select(pl.col(list(SIGNAL_FEATURES)).is_null().all()).row(0) == (True,) * len(SIGNAL_FEATURES)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r["sets"]["v13_noveg"].update(adds=[]), "must `adds` features"),
        (lambda r: r["sets"]["v13_noveg"].update(adds=["nope"]), "adds unknown features"),
        (lambda r: r["sets"]["v13_noveg"].update(adds=["points_avg_last_5"]), "already holds"),
        (lambda r: r["sets"]["v13_noveg"].update(adds=["prop_line_delta"]), "line-derived"),
        (lambda r: r["sets"]["v13_noveg"].update(extends="v13_noveg"), "not a plain set"),
        (lambda r: _spec(r, "points_avg_last_5")["sets"].append("v13_noveg"), "list its features in `adds`"),
    ],
)
def test_contract_validation_of_extension_sets(mutate, message):
    from nba_props.lib.features.contract import FeatureContract

    raw = _raw()
    mutate(raw)
    with pytest.raises(ValueError, match=message):
        FeatureContract.model_validate(raw)


def test_games_vs_opponent_count_the_season_rules_history_only():
    """A meeting more than season_rule.history_days (640) before the date does not count: a run
    loads that much box-score history behind each of its dates, so a one-day run and a long
    backfill (more history behind its later dates) agree. mia met BBB on 2022-10-20 (740 days
    before 2024-10-29, 40 points), 2024-04-10 and 2024-10-25 (10 points each)."""
    assert CONTRACT.season_rule.history_days == 640
    old = box(date(2022, 10, 20), "mia", "AAA", "BBB", 30.0, pts=40, game_id="20221020_BBB_AAA")
    mia = row_of(team_out(team_rows() + [old]), "mia")
    check(mia, "games_vs_opponent", 2.0, "box_scores")
    check(mia, "avg_points_vs_opponent", 10.0, "box_scores")  # the 40-point game is outside
    # the first day inside the window counts: 2023-01-28 is exactly 640 days before 2024-10-29
    edge = box(date(2023, 1, 28), "mia", "AAA", "BBB", 30.0, pts=40, game_id="20230128_BBB_AAA")
    mia = row_of(team_out(team_rows() + [old, edge]), "mia")
    check(mia, "games_vs_opponent", 3.0, "box_scores")
    check(mia, "avg_points_vs_opponent", 20.0, "box_scores")  # (10 + 10 + 40) / 3
