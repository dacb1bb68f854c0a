"""Feature contract, player-history and vegas blocks, quality scoring and the orchestrator, on
hand-made frames with hand-computed values.

The team-context block is replaced by a stub defined here (its own tests live elsewhere), so
these tests pin the orchestration and the two blocks of this module only.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from pydantic import ValidationError

from nba_props.lib import schemas
from nba_props.lib.features.build import FeatureContractError, build_player_features
from nba_props.lib.features.contract import (
    FEATURE_SETS,
    FeatureContract,
    feature_columns,
    load_contract,
    player_features_schema,
)
from nba_props.lib.features.inputs import KEY_COLUMNS, SOURCES, FeatureInputs
from nba_props.lib.features.player_history import player_history_features
from nba_props.lib.features.quality import (
    feature_range_violations,
    quality_summary,
    score_quality,
    tier_expr,
)
from nba_props.lib.features.vegas import vegas_features

TARGET_DAY = date(2024, 11, 20)
NOV = [date(2024, 11, d) for d in range(1, 13)]  # AAA's 12 games


# ---------------------------------------------------------------------------------------------
# hand-made data


def game(day, player, team, opp, pts, minutes=20.0, fga=4, fg3a=1, fta=2, tov=1, home=True, played=True):
    away, home_team = (opp, team) if home else (team, opp)
    return {
        "game_date": day,
        "game_id": f"{day:%Y%m%d}_{away}_{home_team}",
        "season": None,
        "player_id": abs(hash(player)) % 10_000_000,
        "player_name": player,
        "player_lookup": player,
        "team": team,
        "opponent": opp,
        "is_home": home,
        "played": played,
        "minutes": minutes,
        "points": pts,
        "fga": fga,
        "fg3a": fg3a,
        "fta": fta,
        "tov": tov,
    }


def box_frame(rows) -> pl.DataFrame:
    return schemas.conform(pl.DataFrame(rows, infer_schema_length=None), schemas.BOX_SCORES)


def history_rows() -> list[dict]:
    rows = []
    # alpha (AAA): points k in AAA game k; echo misses games 4, 11, 12; foxtrot joins at game 9.
    for k, day in enumerate(NOV, start=1):
        rows.append(game(day, "alpha", "AAA", "BBB", k))
        if k not in (4, 11, 12):
            rows.append(game(day, "echo", "AAA", "BBB", 5))
        if k in (9, 10, 12):
            rows.append(game(day, "foxtrot", "AAA", "BBB", 5))
    # bravo (CCC): six games last season (10..20, 30 min), two this season (35 min).
    for i, pts in enumerate((10, 12, 14, 16, 18, 20)):
        rows.append(game(date(2024, 1, 10 + i), "bravo", "CCC", "ZZZ", pts, minutes=30.0))
    rows.append(game(date(2024, 11, 10), "bravo", "CCC", "ZZZ", 30, minutes=35.0))
    rows.append(game(date(2024, 11, 11), "bravo", "CCC", "ZZZ", 40, minutes=35.0))
    # charlie (EEE): a rookie with two games.
    rows.append(game(date(2024, 11, 18), "charlie", "EEE", "ZZZ", 8))
    rows.append(game(date(2024, 11, 19), "charlie", "EEE", "ZZZ", 10))
    # golf (DDD): six games at 20, then 10, 12, 30, 5, 8 (games on Nov 1..11).
    for i, pts in enumerate((20, 20, 20, 20, 20, 20, 10, 12, 30, 5, 8)):
        rows.append(game(date(2024, 11, 1 + i), "golf", "DDD", "ZZZ", pts))
    # uniform (UUU) with teammate victor: usage from team totals.
    for i in range(3):
        short = i == 2
        rows.append(
            game(date(2024, 11, 1 + i), "uniform", "UUU", "VVV", 10,
                 minutes=20.0 if short else 30.0, fga=5 if short else 10, fta=0 if short else 5, tov=1 if short else 2)
        )  # fmt: skip
        rows.append(game(date(2024, 11, 1 + i), "victor", "UUU", "VVV", 20,
                         minutes=220.0 if short else 210.0, fga=40, fta=10, tov=8))  # fmt: skip
    return rows


TARGET_TEAMS = {
    "alpha": ("AAA", "BBB"), "bravo": ("CCC", "ZZZ"), "charlie": ("EEE", "ZZZ"), "delta": ("FFF", "ZZZ"),
    "echo": ("AAA", "BBB"), "foxtrot": ("AAA", "BBB"), "golf": ("DDD", "ZZZ"), "uniform": ("UUU", "VVV"),
}  # fmt: skip


def targets_frame(day: date = TARGET_DAY, lines: dict | None = None) -> pl.DataFrame:
    lines = lines or {}
    rows = []
    for player, (team, opp) in TARGET_TEAMS.items():
        line = lines.get(player, {})
        rows.append(
            {
                "game_date": day,
                "game_id": f"{day:%Y%m%d}_{opp}_{team}",
                "player_lookup": player,
                "player_name": player.title(),
                "team": team,
                "opponent": opp,
                "is_home": True,
                "has_line": "line" in line,
                "line_diagnostic": "LINE_SOURCE" if "line" in line else "NO_PROP_LINE",
                **line,
            }
        )
    return schemas.conform(pl.DataFrame(rows, infer_schema_length=None), schemas.PLAYER_LINES)


TARGET_LINES = {
    "alpha": {"line": 12.5, "opening_line": 11.5, "line_move": 1.0, "n_books": 3, "multi_book_line_std": 0.5,
              "prop_line_delta": 1.0},
    "golf": {"line": 15.0, "n_books": 1},
}  # fmt: skip


def line_history_frame() -> pl.DataFrame:
    """alpha: under, over, push, over, over (Nov 8..12), a void on Nov 13, today's and a future
    line; bravo: two unders."""
    rows = []
    for day, line in ((8, 9.5), (9, 8.5), (10, 10.0), (11, 10.5), (12, 11.5), (13, 3.5), (20, 25.5), (25, 1.5)):
        rows.append({"game_date": date(2024, 11, day), "game_id": f"{date(2024, 11, day):%Y%m%d}_BBB_AAA",
                     "player_lookup": "alpha", "line": line})  # fmt: skip
    for day, line in ((10, 35.5), (11, 41.5)):
        rows.append({"game_date": date(2024, 11, day), "game_id": f"{date(2024, 11, day):%Y%m%d}_ZZZ_CCC",
                     "player_lookup": "bravo", "line": line})  # fmt: skip
    return schemas.conform(pl.DataFrame(rows), schemas.PLAYER_LINES)


def make_inputs(targets=None, box=None, line_history=None) -> FeatureInputs:
    return FeatureInputs(
        targets=targets if targets is not None else targets_frame(lines=TARGET_LINES),
        box_history=box if box is not None else box_frame(history_rows()),
        line_history=line_history if line_history is not None else line_history_frame(),
        schedule=schemas.empty(schemas.SCHEDULE),
        injuries=schemas.empty(schemas.INJURY_REPORT),
    )


def row_of(frame: pl.DataFrame, player: str) -> dict:
    rows = frame.filter(pl.col("player_lookup") == player).to_dicts()
    assert len(rows) == 1, f"{player}: {len(rows)} rows"
    return rows[0]


def ols_slope(ys: list[float]) -> float:
    n = len(ys)
    xs = range(1, n + 1)
    mx, my = sum(xs) / n, sum(ys) / n
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def sample_std(ys: list[float]) -> float:
    m = sum(ys) / len(ys)
    return math.sqrt(sum((y - m) ** 2 for y in ys) / (len(ys) - 1))


# ---------------------------------------------------------------------------------------------
# stub team-context block (the real one is tested in its own module)

CONTRACT = load_contract()
TEAM_CONTEXT = [s for s in CONTRACT.features if s.block == "team_context"]


def stub_team_context(overrides: dict[tuple[str, str], float] | None = None):
    """Every team-context feature real (source box_scores) at its contract default, with
    (player, feature) -> value overrides."""
    overrides = overrides or {}

    def block(inputs: FeatureInputs) -> pl.DataFrame:
        out = inputs.targets.select(KEY_COLUMNS)
        exprs = []
        for spec in TEAM_CONTEXT:
            value = pl.lit(spec.default)
            for (player, feature), v in overrides.items():
                if feature == spec.name:
                    value = pl.when(pl.col("player_lookup") == player).then(pl.lit(v)).otherwise(value)
            exprs += [value.cast(pl.Float64).alias(spec.name), pl.lit("box_scores").alias(f"{spec.name}__source")]
        return out.with_columns(exprs)

    return block


def build(inputs=None, **kwargs) -> pl.DataFrame:
    blocks = {"team_context": kwargs.pop("team_context", stub_team_context())}
    return build_player_features(inputs or make_inputs(), CONTRACT, blocks=blocks, **kwargs)


# ---------------------------------------------------------------------------------------------
# the contract


def test_contract_sets_and_counts():
    v9, v12, noveg, v13_noveg, v14_noveg = (CONTRACT.feature_columns(s) for s in FEATURE_SETS)
    # issue 7: v12_noveg lost the five line-derived features it held (47 -> 42); issue 13: v13_noveg
    # is v12_noveg plus four minutes / role features, v14_noveg v13_noveg plus teammates out
    assert (len(v9), len(v12), len(noveg), len(v13_noveg), len(v14_noveg)) == (30, 51, 42, 46, 47)
    assert v13_noveg[:42] == noveg
    assert v14_noveg[:46] == v13_noveg
    assert set(v9) <= set(v12)
    assert set(noveg) == set(v12) - set(CONTRACT.line_derived_features)
    assert feature_columns("v9") == v9
    assert all(not s.required for s in CONTRACT.features if s.category == "vegas")
    assert {s.name for s in CONTRACT.required_of("v12")} >= {"points_avg_last_5", "opp_def_rating", "days_rest"}
    with pytest.raises(ValueError, match="unknown feature set"):
        CONTRACT.features_of("v14")


def test_contract_team_context_names_are_the_agreed_ones():
    agreed = {
        "opp_def_rating", "opp_pace", "team_pace", "team_off_rating", "team_win_pct", "pace_diff",
        "usage_diff_vs_opponent", "rest_advantage", "is_home", "is_back_to_back", "is_playoff_game",
        "avg_points_vs_opponent", "games_vs_opponent", "star_teammates_out", "game_total", "game_spread",
        "implied_team_total", "injury_risk", "days_rest", "games_last_7_days", "minutes_last_7_days", "fatigue_score",
        # signal features (issue 11, in no model set)
        "team_days_rest", "opponent_days_rest", "games_vs_opponent_season",
        # issue 13 item 5 (added to the model set v14_noveg)
        "teammates_out_points_prev_game",
    }  # fmt: skip
    assert {s.name for s in TEAM_CONTEXT} == agreed


def test_blocks_declare_exactly_their_contract_features():
    from nba_props.lib.features import player_history, vegas

    assert set(player_history.FEATURES) == {s.name for s in CONTRACT.of_block("player_history")}
    assert set(vegas.FEATURES) == {s.name for s in CONTRACT.of_block("vegas")}


def _raw_contract() -> dict:
    return CONTRACT.model_dump(mode="json")


def _spec(raw: dict, name: str) -> dict:
    return next(f for f in raw["features"] if f["name"] == name)


LINE_DERIVED = {
    "vegas_points_line", "vegas_opening_line", "vegas_line_move", "has_vegas_line", "multi_book_line_std",
    "prop_over_streak", "prop_under_streak", "line_vs_season_avg", "prop_line_delta",
}  # fmt: skip


def test_contract_line_derived_features_and_no_vegas_sets():
    """Audit (issue 7): every vegas-block feature is computed from a prop line; nothing in the
    other blocks reads a line. The no-vegas set holds none of them, the other sets are unchanged."""
    assert set(CONTRACT.line_derived_features) == LINE_DERIVED == {s.name for s in CONTRACT.of_block("vegas")}
    assert CONTRACT.vegas_line_features == CONTRACT.line_derived_features
    assert CONTRACT.no_vegas_sets == ("v12_noveg", "v13_noveg", "v14_noveg")
    assert not set(CONTRACT.feature_columns("v12_noveg")) & LINE_DERIVED
    assert LINE_DERIVED <= set(CONTRACT.feature_columns("v12"))
    assert {"vegas_points_line", "vegas_opening_line", "vegas_line_move", "has_vegas_line"} <= set(
        CONTRACT.feature_columns("v9")
    )
    # "cannot be computed" is NULL for line features (never 0 = "line equals average" / "books
    # agree" / "unchanged"); only has_vegas_line, which is never defaulted, keeps a number.
    for name in LINE_DERIVED - {"has_vegas_line"}:
        assert CONTRACT.feature(name).default is None, name
    # game lines are not prop lines (no source yet): they stay in the no-vegas set
    assert {"game_total", "game_spread", "implied_team_total"} <= set(CONTRACT.feature_columns("v12_noveg"))


def test_contract_file_with_a_line_feature_in_the_no_vegas_set_is_refused(tmp_path):
    """The packaged YAML with line_vs_season_avg put back into v12_noveg (the old contract) fails at load."""
    from nba_props.lib.features.contract import DEFAULT_PATH

    text = DEFAULT_PATH.read_text(encoding="utf-8")
    marker = "  - name: line_vs_season_avg\n"
    head, tail = text.split(marker)
    tail = tail.replace("    sets: [v12]\n", "    sets: [v12, v12_noveg]\n", 1)
    bad = tmp_path / "features.yaml"
    bad.write_text(head + marker + tail, encoding="utf-8")
    with pytest.raises(ValidationError, match="no_vegas set v12_noveg holds line-derived features"):
        load_contract(bad)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r["features"].append(dict(r["features"][0])), "duplicate feature names"),
        (lambda r: r["features"][0].update(default=500.0), "min <= default <= max"),
        (lambda r: r["features"][0].update(sets=["v9", "v99"]), "v99"),
        (lambda r: r["features"][0].update(sets=["v12"]), "v12_noveg must be v12 minus"),
        (lambda r: r["features"][0].update(sets=["v9", "v12_noveg"]), "v9 must be a subset of v12"),
        (
            lambda r: next(f for f in r["features"] if f["name"] == "has_vegas_line").update(required=True),
            "cannot be required",
        ),
        # "no vegas" means no line at all (issue 7)
        (
            lambda r: _spec(r, "line_vs_season_avg").update(sets=["v12", "v12_noveg"]),
            r"no_vegas set v12_noveg holds line-derived features: \['line_vs_season_avg'\]",
        ),
        (
            lambda r: _spec(r, "prop_over_streak").update(line_derived=False, default=0.0),
            "v12_noveg must be v12 minus the line-derived",
        ),
        (lambda r: r["sets"]["v12_noveg"].update(no_vegas=False), "its name says no vegas"),
        (lambda r: r["sets"]["v9"].update(no_vegas=True), "no_vegas set v9 holds line-derived features"),
        (lambda r: _spec(r, "points_avg_last_5").update(default=None), "NULL default is only allowed"),
        (lambda r: _spec(r, "recent_trend").update(line_derived=True), "must have category vegas"),
        (lambda r: r["features"][0].update(name="line"), "clash"),
        (lambda r: r["features"][0].update(block="lines"), "block"),
    ],
)
def test_contract_validation_rejects(mutate, message):
    raw = _raw_contract()
    mutate(raw)
    with pytest.raises(ValidationError, match=message):
        FeatureContract.model_validate(raw)


def test_player_features_schema_columns():
    schema = player_features_schema(CONTRACT)
    assert list(schema)[:3] == list(KEY_COLUMNS)
    for spec in CONTRACT.features:
        assert schema[spec.name] == pl.Float64 and schema[f"{spec.name}__source"] == pl.Utf8
    assert schema["default_feature_names"] == pl.List(pl.Utf8)
    assert schema["is_quality_ready"] == pl.Boolean and schema["out_of_range_features"] == pl.Int32
    assert {f"quality_{c}" for c in ("player_history", "team_context", "matchup", "vegas", "game_context")} <= set(
        schema
    )


# ---------------------------------------------------------------------------------------------
# the player-history block


@pytest.fixture(scope="module")
def history() -> pl.DataFrame:
    return player_history_features(make_inputs())


def test_history_one_row_per_target_with_sources(history):
    assert history.height == len(TARGET_TEAMS)
    sources = set()
    for spec in CONTRACT.of_block("player_history"):
        sources |= set(history[f"{spec.name}__source"].unique())
        # a NULL value always comes with source default, and vice versa
        nulls = history.filter(pl.col(spec.name).is_null() != (pl.col(f"{spec.name}__source") == "default"))
        assert nulls.height == 0, spec.name
    assert sources <= set(SOURCES)


def test_history_windows_and_season(history):
    a = row_of(history, "alpha")  # points 1..12 in 12 games, 20 minutes each
    assert a["points_avg_last_3"] == 11.0
    assert a["points_avg_last_5"] == 10.0
    assert a["points_avg_last_10"] == 7.5
    assert a["points_avg_season"] == 6.5 and a["points_avg_season__source"] == "box_scores"
    assert a["points_std_last_10"] == pytest.approx(math.sqrt(82.5 / 9))
    assert a["recent_trend"] == pytest.approx(10.0 - 5.0)
    assert a["points_slope_last_10"] == pytest.approx(1.0)
    assert a["scoring_slope_last_7"] == pytest.approx(1.0)
    assert a["minutes_avg_last_10"] == 20.0
    assert a["minutes_change_vs_season"] == 0.0 and a["minutes_change_vs_season__source"] == "calculated"
    assert a["points_per_minute_last_10"] == pytest.approx(75 / 200)
    assert a["three_pt_attempt_rate"] == pytest.approx(10 / 40)
    assert a["free_throw_rate"] == pytest.approx(20 / 40)
    z = (10.0 - 6.5) / math.sqrt(13.0)  # season std of 1..12 = sqrt(13)
    assert a["points_zscore_last_5"] == pytest.approx(z)
    assert a["breakout_flag"] == 0.0  # z < 1
    assert a["deviation_last_3_vs_60d"] == pytest.approx(11.0 - 6.5)
    assert a["consecutive_games_below_avg"] == 0.0 and a["consecutive_games_below_avg__source"] == "calculated"
    assert a["usage_rate_last_5"] == pytest.approx(
        20.0
    )  # identical teammates: 4 * 5.88 * 20 / (20 * 4 * 5.88) * 100 / ...
    assert a["games_since_structural_change"] == 12.0
    assert a["dnp_rate"] == 0.0


def test_history_prior_season_fallback_and_cross_season_windows(history):
    b = row_of(history, "bravo")  # last season 10,12,..,20 (30 min); this season 30, 40 (35 min)
    assert b["points_avg_season"] == 15.0 and b["points_avg_season__source"] == "prior_season"
    assert b["points_avg_last_3"] == pytest.approx(30.0) and b["points_avg_last_3__source"] == "box_scores"
    assert b["points_avg_last_5"] == pytest.approx((16 + 18 + 20 + 30 + 40) / 5)
    assert b["points_avg_last_10"] == 20.0  # 8 games >= 5
    assert b["minutes_change_vs_season"] == pytest.approx(250 / 8 - 30.0)
    assert b["minutes_change_vs_season__source"] == "prior_season"
    z = (24.8 - 15.0) / math.sqrt(14.0)
    assert b["points_zscore_last_5"] == pytest.approx(z) and b["points_zscore_last_5__source"] == "prior_season"
    assert b["breakout_flag"] == 1.0 and b["breakout_flag__source"] == "prior_season"
    assert b["recent_trend"] is None and b["recent_trend__source"] == "default"  # 8 games < 10
    assert b["games_since_structural_change"] == 2.0  # the 300-day gap made game 7 a change
    assert b["deviation_last_3_vs_60d__source"] == "default"  # 2 games in 60 days < 3


def test_history_rookie_and_unknown_player_are_defaulted(history):
    c = row_of(history, "charlie")  # two games: 8, 10
    assert c["points_avg_last_3"] == 9.0 and c["points_avg_last_3__source"] == "box_scores"
    for name in ("points_avg_last_5", "points_avg_last_10", "points_avg_season", "usage_rate_last_5"):
        assert c[name] is None and c[f"{name}__source"] == "default", name
    d = row_of(history, "delta")  # never seen
    for spec in CONTRACT.of_block("player_history"):
        assert d[spec.name] is None and d[f"{spec.name}__source"] == "default", spec.name


def test_history_below_average_streak_and_slopes(history):
    g = row_of(history, "golf")  # 20 x6, then 10, 12, 30, 5, 8
    # entering means: 20 (10 below), 130/7 (12 below), 142/8 (30 not), 172/9 (5 below), 177/10 (8 below)
    assert g["consecutive_games_below_avg"] == 2.0
    points = [20, 20, 20, 20, 20, 20, 10, 12, 30, 5, 8]
    assert g["scoring_slope_last_7"] == pytest.approx(-322 / 196)
    assert g["scoring_slope_last_7"] == pytest.approx(ols_slope(points[-7:]))
    assert g["points_slope_last_10"] == pytest.approx(ols_slope(points[-10:]))
    assert g["points_std_last_10"] == pytest.approx(sample_std(points[-10:]))


def test_history_dnp_rate_counts_roster_games_only(history):
    assert row_of(history, "echo")["dnp_rate"] == pytest.approx(0.3)  # played 7 of AAA games 3..12
    assert row_of(history, "foxtrot")["dnp_rate"] == pytest.approx(0.25)  # joined at game 9: 3 of 4


def test_history_usage_rate_from_team_totals(history):
    u = row_of(history, "uniform")
    # poss = FGA + 0.44 FTA + TOV: uniform 14.2, 14.2, 6; team 66.6, 66.6, 58.4; team minutes 240
    num = 14.2 * 48 * 2 + 6 * 48
    den = 30 * 66.6 * 2 + 20 * 58.4
    assert u["usage_rate_last_5"] == pytest.approx(100 * num / den)
    assert u["usage_rate_last_5"] == pytest.approx(100 * 1651.2 / 5164)


def test_history_structural_change_at_the_target():
    targets = targets_frame().with_columns(
        team=pl.when(pl.col("player_lookup") == "alpha").then(pl.lit("QQQ")).otherwise(pl.col("team"))
    )
    out = player_history_features(make_inputs(targets=targets))
    assert row_of(out, "alpha")["games_since_structural_change"] == 0.0
    late = player_history_features(make_inputs(targets=targets_frame(day=date(2024, 12, 20))))
    assert row_of(late, "golf")["games_since_structural_change"] == 0.0  # 39 days since his last game


def test_history_missing_stats_default_only_what_needs_them():
    rows = [game(date(2024, 11, 1 + i), "alpha", "AAA", "BBB", 10, tov=None) for i in range(6)]
    out = player_history_features(make_inputs(box=box_frame(rows)))
    a = row_of(out, "alpha")
    assert a["usage_rate_last_5__source"] == "default"
    assert a["minutes_avg_last_10"] == 20.0 and a["three_pt_attempt_rate"] == pytest.approx(0.25)


def test_history_ignores_future_and_same_day_rows():
    rows = history_rows()
    future = [
        game(TARGET_DAY, "alpha", "AAA", "BBB", 99),
        game(TARGET_DAY + timedelta(days=1), "alpha", "AAA", "BBB", 99),
        game(TARGET_DAY + timedelta(days=3), "bravo", "CCC", "ZZZ", 99),
        game(date(2025, 3, 1), "golf", "DDD", "ZZZ", 99),
    ]
    base = player_history_features(make_inputs(box=box_frame(rows)))
    leaky = player_history_features(make_inputs(box=box_frame(rows + future)))
    assert_frame_equal(base, leaky)
    vegas_base = vegas_features(make_inputs(box=box_frame(rows)))
    vegas_leaky = vegas_features(make_inputs(box=box_frame(rows + future)))
    assert_frame_equal(vegas_base, vegas_leaky)


def test_history_dnp_rows_are_not_games():
    rows = history_rows() + [game(date(2024, 11, 13), "alpha", "AAA", "BBB", 0, played=False, minutes=None)]
    rows += [game(date(2024, 11, 13), "echo", "AAA", "BBB", 7)]
    out = player_history_features(make_inputs(box=box_frame(rows)))
    a = row_of(out, "alpha")
    assert a["points_avg_last_3"] == 11.0  # the DNP row is not a game
    assert a["dnp_rate"] == pytest.approx(0.1)  # but AAA's 13th game counts as missed


# ---------------------------------------------------------------------------------------------
# the vegas block


def test_vegas_target_lines_and_streaks():
    out = vegas_features(make_inputs())
    a = row_of(out, "alpha")
    assert (a["vegas_points_line"], a["vegas_opening_line"], a["vegas_line_move"]) == (12.5, 11.5, 1.0)
    assert a["has_vegas_line"] == 1.0 and a["vegas_points_line__source"] == "lines"
    assert a["multi_book_line_std"] == 0.5
    # Nov 8 under, 9 over, 10 push, 11 over, 12 over; Nov 13 is a void; today's / future lines unseen
    assert (a["prop_over_streak"], a["prop_under_streak"]) == (2.0, 0.0)
    assert a["prop_over_streak__source"] == "calculated"
    assert a["line_vs_season_avg"] == pytest.approx(12.5 - 6.5) and a["line_vs_season_avg__source"] == "calculated"
    assert a["prop_line_delta"] == 1.0

    b = row_of(out, "bravo")  # no line today; two unders in history; season from last season
    assert b["has_vegas_line"] == 0.0 and b["has_vegas_line__source"] == "lines"
    for name in ("vegas_points_line", "vegas_opening_line", "vegas_line_move", "multi_book_line_std",
                 "line_vs_season_avg", "prop_line_delta"):  # fmt: skip
        assert b[name] is None and b[f"{name}__source"] == "default", name
    # issue 7: line-derived features of a player without a line are not computed, not even from
    # his past lines (two unders in history used to give prop_under_streak = 2)
    for name in ("prop_over_streak", "prop_under_streak"):
        assert b[name] is None and b[f"{name}__source"] == "default", name

    g = row_of(out, "golf")  # one book, no opening line, no graded history
    assert g["vegas_points_line"] == 15.0
    assert g["multi_book_line_std__source"] == "default" and g["vegas_opening_line__source"] == "default"
    assert g["vegas_line_move__source"] == "default"
    assert g["prop_over_streak__source"] == "default"
    assert g["line_vs_season_avg"] == pytest.approx(15.0 - 185 / 11)


def test_vegas_line_vs_prior_season_average_is_prior_season():
    targets = targets_frame(lines={"bravo": {"line": 20.5}})
    b = row_of(vegas_features(make_inputs(targets=targets)), "bravo")
    assert b["line_vs_season_avg"] == pytest.approx(5.5) and b["line_vs_season_avg__source"] == "prior_season"


# ---------------------------------------------------------------------------------------------
# quality scoring


def _quality_frame(sources_by_row: list[dict[str, str]], values: dict | None = None) -> pl.DataFrame:
    rows = []
    for i, overrides in enumerate(sources_by_row):
        row = {"game_date": TARGET_DAY, "game_id": "g", "player_lookup": f"p{i}"}
        for spec in CONTRACT.features:
            row[spec.name] = (values or {}).get((i, spec.name), spec.default)
            row[f"{spec.name}__source"] = overrides.get(spec.name, "box_scores")
        rows.append(row)
    return pl.DataFrame(rows)


def test_quality_scores_caps_and_tiers():
    required = [s.name for s in CONTRACT.required_of("v12")]
    assert len(required) == 18
    frame = _quality_frame(
        [
            {},  # all real
            {required[0]: "prior_season", required[1]: "prior_season"},
            {"recent_trend": "default", "vegas_points_line": "default"},  # optional defaults only
            {required[0]: "default"},  # one required default
            {name: "default" for name in required[:5]},  # five required defaults
            {name: "prior_season" for name in required},  # every required from last season
        ]
    )
    out = score_quality(frame, CONTRACT, "v12")
    scores = out["feature_quality_score"].to_list()
    assert scores[0] == 100.0
    assert scores[1] == pytest.approx((16 * 100 + 2 * 90) / 18)
    assert scores[2] == 100.0
    assert scores[3] == 69.0  # (17*100 + 40)/18 = 96.7, capped
    assert scores[4] == 49.0  # (13*100 + 5*40)/18 = 83.3, capped
    assert scores[5] == 90.0
    assert out["quality_tier"].to_list() == ["gold", "gold", "gold", "poor", "critical", "silver"]
    assert out["is_quality_ready"].to_list() == [True, True, True, False, False, True]
    assert out["required_default_count"].to_list() == [0, 0, 0, 1, 5, 0]
    assert out["default_feature_names"][2].to_list() == ["recent_trend", "vegas_points_line"]
    assert out["default_feature_count"][2] == 2
    assert out["block_reason"][3] == f"required_defaults: {required[0]}"
    assert out["block_reason"][0] is None
    # quality_vegas of row 2: 12 vegas-category features in v12, one defaulted
    assert out["quality_vegas"][2] == pytest.approx((11 * 100 + 40) / 12)
    assert out["quality_player_history"][2] == pytest.approx((19 * 100 + 40) / 20)
    assert out["feature_set"].unique().to_list() == ["v12"]


def test_quality_depends_on_the_feature_set():
    frame = _quality_frame([{"usage_rate_last_5": "default", "vegas_points_line": "default"}])
    v12 = score_quality(frame, CONTRACT, "v12")
    v9 = score_quality(frame, CONTRACT, "v9")
    noveg = score_quality(frame, CONTRACT, "v12_noveg")
    assert not v12["is_quality_ready"][0] and v9["is_quality_ready"][0]
    assert v9["default_feature_names"][0].to_list() == ["vegas_points_line"]
    assert noveg["default_feature_names"][0].to_list() == ["usage_rate_last_5"]


@pytest.mark.parametrize(
    "score, tier",
    [(100, "gold"), (95, "gold"), (94.99, "silver"), (85, "silver"), (84.9, "bronze"), (70, "bronze"),
     (69, "poor"), (50, "poor"), (49.9, "critical"), (0, "critical")],
)  # fmt: skip
def test_quality_tier_thresholds(score, tier):
    assert pl.select(tier_expr(pl.lit(float(score)))).item() == tier


def test_out_of_range_blocks_and_is_reported():
    frame = _quality_frame([{}, {}], values={(1, "opp_pace"): 300.0, (1, "dnp_rate"): float("nan")})
    out = score_quality(frame, CONTRACT, "v12")
    assert out["out_of_range_features"].to_list() == [0, 2]
    assert out["out_of_range_feature_names"][1].to_list() == ["opp_pace", "dnp_rate"]
    assert out["is_quality_ready"].to_list() == [True, False]
    assert out["block_reason"][1] == "out_of_range: opp_pace, dnp_rate"
    violations = feature_range_violations(out, CONTRACT)
    assert violations.select("player_lookup", "feature").rows() == [("p1", "dnp_rate"), ("p1", "opp_pace")]
    assert violations.filter(pl.col("feature") == "opp_pace")["max"].item() == 130.0


# ---------------------------------------------------------------------------------------------
# the orchestrator


@pytest.fixture(scope="module")
def built() -> pl.DataFrame:
    return build()


def test_build_schema_rows_and_order(built):
    assert built.schema == player_features_schema(CONTRACT)
    assert built.height == len(TARGET_TEAMS)
    assert sorted(built["player_lookup"].to_list()) == sorted(TARGET_TEAMS)
    assert built.select(KEY_COLUMNS).rows() == sorted(built.select(KEY_COLUMNS).rows())
    assert built["season"].unique().to_list() == ["2024-25"]
    assert built["feature_set"].unique().to_list() == ["v12"]
    assert row_of(built, "alpha")["line"] == 12.5 and row_of(built, "bravo")["line"] is None


def test_market_type_passes_through_and_is_not_a_feature(built):
    """player_lines' market_type (sportsbook | dfs, NULL without a line) is an identity column:
    copied as is, never a contract feature, and no feature depends on it."""
    assert "market_type" not in {spec.name for spec in CONTRACT.features}
    assert built["market_type"].null_count() == built.height  # the targets carry none
    marked = {
        "alpha": {**TARGET_LINES["alpha"], "market_type": "dfs"},
        "golf": {**TARGET_LINES["golf"], "market_type": "sportsbook"},
    }
    out = build(make_inputs(targets=targets_frame(lines={**TARGET_LINES, **marked})))
    assert (row_of(out, "alpha")["market_type"], row_of(out, "golf")["market_type"], row_of(out, "bravo")["market_type"]) == (
        "dfs", "sportsbook", None
    )  # fmt: skip
    assert_frame_equal(out.drop("market_type"), built.drop("market_type"))


def test_build_fills_defaults_and_keeps_sources(built):
    for spec in CONTRACT.features:
        defaulted = pl.col(f"{spec.name}__source") == "default"
        if spec.default is None:  # line-derived: defaulted = NULL (issue 7), computed = a value
            assert (built[spec.name].is_null() == built.select(defaulted).to_series()).all(), spec.name
        else:
            assert built[spec.name].null_count() == 0, spec.name
            assert (built.filter(defaulted)[spec.name] == spec.default).all(), spec.name
    d = row_of(built, "delta")
    assert d["points_avg_season"] == 10.0 and d["points_avg_season__source"] == "default"
    assert d["vegas_points_line"] is None and d["has_vegas_line"] == 0.0 and d["has_vegas_line__source"] == "lines"


def test_build_no_line_player_line_features_are_defaults_not_zero_differences(built):
    """bravo has no line today but a season mean (15, prior season) and two lines in history:
    every line-derived feature but has_vegas_line is NULL with source default and listed among his
    defaults. The old build wrote line_vs_season_avg = 0.0 ("line equals average") and computed
    his under streak (2) from past lines."""
    b = row_of(built, "bravo")
    assert b["has_vegas_line"] == 0.0
    for name in LINE_DERIVED - {"has_vegas_line"}:
        assert b[name] is None and b[f"{name}__source"] == "default", name
        assert name in b["default_feature_names"], name
    # the v12_noveg models never see them; a lined single-book player's book spread is NULL too,
    # not 0.0 ("books agree")
    g = row_of(built, "golf")
    assert g["multi_book_line_std"] is None and g["multi_book_line_std__source"] == "default"
    assert g["line_vs_season_avg"] == pytest.approx(15.0 - 185 / 11)


def test_build_readiness(built):
    a, b, c, d = (row_of(built, p) for p in ("alpha", "bravo", "charlie", "delta"))
    assert a["is_quality_ready"] and a["quality_tier"] == "gold" and a["feature_quality_score"] == 100.0
    assert a["quality_player_history"] == 100.0 and a["quality_vegas"] == 100.0
    assert b["is_quality_ready"] and b["feature_quality_score"] == pytest.approx((17 * 100 + 90) / 18)
    # bravo's vegas: no line today -> 8 of the 12 vegas-category features of v12 defaulted (the
    # streaks vs past lines too since issue 7; has_vegas_line and 3 stub game lines are real)
    assert b["quality_vegas"] == pytest.approx((4 * 100 + 8 * 40) / 12)
    assert not c["is_quality_ready"] and c["quality_tier"] == "critical" and c["feature_quality_score"] == 49.0
    assert c["required_default_count"] == 7
    assert c["block_reason"] == (
        "required_defaults: points_avg_last_5, points_avg_last_10, points_avg_season, points_std_last_10, "
        "minutes_avg_last_10, points_per_minute_last_10, usage_rate_last_5"
    )
    assert not d["is_quality_ready"] and d["required_default_count"] == 8
    summary = quality_summary(built, CONTRACT)
    assert summary["rows"] == 8 and summary["block_reasons"] == {
        "required_defaults": summary["rows"] - summary["ready_rows"]
    }
    # foxtrot and uniform have 3 games each and no previous season: no season average yet
    blocked = built.filter(~pl.col("is_quality_ready"))["player_lookup"].sort().to_list()
    assert blocked == ["charlie", "delta", "foxtrot", "uniform"]
    assert summary["blocking_features"]["points_avg_season"] == 4


def test_build_other_feature_sets():
    v9 = build(feature_set="v9")
    assert v9["feature_set"].unique().to_list() == ["v9"]
    assert row_of(v9, "charlie")["required_default_count"] == 6  # usage is not in v9
    with pytest.raises(ValueError, match="unknown feature set"):
        build(feature_set="v10")


def test_build_out_of_range_is_counted_not_clipped():
    out = build(team_context=stub_team_context({("alpha", "opp_pace"): 300.0}))
    a = row_of(out, "alpha")
    assert a["opp_pace"] == 300.0 and a["out_of_range_features"] == 1
    assert not a["is_quality_ready"] and a["block_reason"] == "out_of_range: opp_pace"
    assert row_of(out, "echo")["out_of_range_features"] == 0


def test_build_empty_targets_and_empty_history():
    empty_targets = build(make_inputs(targets=schemas.empty(schemas.PLAYER_LINES)))
    assert empty_targets.height == 0 and empty_targets.schema == player_features_schema(CONTRACT)
    cold = build(make_inputs(box=schemas.empty(schemas.BOX_SCORES), line_history=schemas.empty(schemas.PLAYER_LINES)))
    assert cold.height == len(TARGET_TEAMS)
    assert not cold["is_quality_ready"].any()
    assert (cold["points_avg_season__source"] == "default").all()
    assert cold["block_reason"].str.starts_with("required_defaults: points_avg_last_5").all()


def _bad_block(kind: str):
    good = stub_team_context()

    def block(inputs):
        out = good(inputs)
        if kind == "missing":
            return out.drop("opp_pace", "opp_pace__source")
        if kind == "foreign":
            return out.with_columns(points_avg_last_5=pl.lit(1.0), points_avg_last_5__source=pl.lit("box_scores"))
        if kind == "unknown":
            return out.with_columns(mystery=pl.lit(1.0), mystery__source=pl.lit("box_scores"))
        if kind == "unpaired":
            return out.drop("opp_pace__source")
        if kind == "duplicate_keys":
            return pl.concat([out, out.head(1)])
        if kind == "bad_source":
            return out.with_columns(opp_pace__source=pl.lit("vibes"))
        raise AssertionError(kind)

    return block


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", "produced by no block: \\['opp_pace'\\]"),
        ("foreign", "points_avg_last_5 produced by blocks player_history and team_context"),
        ("unknown", "not contract features: \\['mystery'\\]"),
        ("unpaired", "value/source pair"),
        ("duplicate_keys", "duplicated keys"),
        ("bad_source", "unknown feature sources"),
    ],
)
def test_build_rejects_blocks_that_break_the_contract(kind, message):
    with pytest.raises(FeatureContractError, match=message):
        build(team_context=_bad_block(kind))


def test_build_rejects_duplicate_targets():
    targets = targets_frame()
    with pytest.raises(ValueError, match="not unique"):
        build(make_inputs(targets=pl.concat([targets, targets.head(1)])))


def test_build_with_the_library_team_context_block():
    """The real team-context block satisfies the contract on hand-made data."""
    out = build_player_features(make_inputs(), CONTRACT)
    assert out.schema == player_features_schema(CONTRACT) and out.height == len(TARGET_TEAMS)
    assert row_of(out, "delta")["is_quality_ready"] is False
