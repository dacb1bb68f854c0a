"""The signal registry and tags (lib/signals.py, config/signals.yaml): every signal on hand-built
candidates with values exactly at each threshold (fires at the bound, not past it), the
confidence scale (registry and input), NULL / defaulted inputs, model_health's X - 1 detail,
no ghosts, the combo API; and signal health on a constructed history with hand-computed hit
rates, regimes and statuses."""

from datetime import date, timedelta

import polars as pl
import pytest
import yaml
from pydantic import ValidationError

from nba_props.lib import grading, signals
from nba_props.lib.models.predict import PREDICTIONS_SCHEMA

REGISTRY = signals.load_signal_registry()
DAY = date(2025, 12, 15)


# ---------------------------------------------------------------------------------------------
# hand-built candidates

PREDICTION = {
    "game_date": DAY,
    "game_id": "20251215_AAA_BBB",
    "model_id": "v9_mae_2025-12-08",
    "family": "v9_mae",
    "predicted_points": 24.0,
    "line": 20.5,
    "market_type": "sportsbook",
    "edge": 3.5,
    "direction": "OVER",
    "p_over": 0.65,
    "confidence": 0.30,
    "recommendation": "OVER",
    "quarantined": False,
}
LINE_COLUMNS = tuple(signals.LINE_INPUTS.names())


def frames(cases: dict[str, dict]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """predictions / player_features / player_lines of one candidate per case (player = case
    name): the baseline prediction above with the case's prediction fields, its features and
    line fields (every other input NULL)."""
    preds, feats, lines = [], [], []
    for player, case in cases.items():
        pred = {**PREDICTION, "player_lookup": player}
        pred |= {k: v for k, v in case.items() if k in PREDICTIONS_SCHEMA}
        if "direction" in case and "recommendation" not in case:
            pred["recommendation"] = case["direction"]
        preds.append(pred)
        feat = {"game_date": DAY, "game_id": pred["game_id"], "player_lookup": player}
        for name in signals.FEATURE_INPUTS:
            feat[name] = case.get(name)
            feat[f"{name}__source"] = case.get(f"{name}__source", "calculated")
        feats.append(feat)
        lines.append({"game_id": pred["game_id"], "player_lookup": player, **{c: case.get(c) for c in LINE_COLUMNS}})
    feature_schema = {"game_date": pl.Date, "game_id": pl.Utf8, "player_lookup": pl.Utf8}
    for name in signals.FEATURE_INPUTS:
        feature_schema |= {name: pl.Float64, f"{name}__source": pl.Utf8}
    return (
        pl.DataFrame(preds).cast({k: v for k, v in PREDICTIONS_SCHEMA.items() if k in preds[0]}),
        pl.DataFrame(feats, schema=feature_schema),
        pl.DataFrame(lines, schema={"game_id": pl.Utf8, "player_lookup": pl.Utf8, **signals.LINE_INPUTS}),
    )


def fired(cases: dict[str, dict], registry=REGISTRY, health=None) -> dict[str, set[str]]:
    rows = signals.signal_tags(*frames(cases), health, registry)
    out = {player: set() for player in cases}
    for player, signal in rows.select("player_lookup", "signal").iter_rows():
        out[player].add(signal)
    return out


def test_the_baseline_candidate_fires_only_model_health():
    assert fired({"base": {}}) == {"base": {"model_health"}}
    assert fired({"base": {"direction": "UNDER", "p_over": 0.35}}) == {"base": {"model_health"}}


# (signal, the case at its bound: fires, the case just past it: does not fire)
BOUNDS = [
    ("high_edge", {"edge": 5.0}, {"edge": 4.99}),
    ("high_edge", {"edge": 5.0, "direction": "UNDER"}, {"edge": 4.99, "direction": "UNDER"}),
    ("edge_spread_optimal", {"edge": 5.0, "confidence": 0.70}, {"edge": 5.0, "confidence": 0.6999}),
    ("edge_spread_optimal", {"edge": 5.0, "confidence": 0.8799}, {"edge": 5.0, "confidence": 0.88}),
    ("edge_spread_optimal", {"edge": 5.0, "confidence": 0.9001}, {"edge": 5.0, "confidence": 0.90}),
    ("edge_spread_optimal", {"edge": 5.0, "confidence": 0.75}, {"edge": 4.99, "confidence": 0.75}),
    (
        "combo_he_ms",
        {"edge": 5.0, "minutes_avg_last_3": 33.0, "minutes_avg_season": 30.0},
        {"edge": 5.0, "minutes_avg_last_3": 32.99, "minutes_avg_season": 30.0},
    ),
    (
        "combo_he_ms",
        {"edge": 5.0, "minutes_avg_last_3": 33.0, "minutes_avg_season": 30.0},
        {"edge": 5.0, "minutes_avg_last_3": 33.0, "minutes_avg_season": 30.0, "direction": "UNDER"},
    ),
    (
        "combo_3way",
        {"edge": 5.0, "confidence": 0.70, "minutes_avg_last_3": 33.0, "minutes_avg_season": 30.0},
        {"edge": 5.0, "confidence": 0.89, "minutes_avg_last_3": 33.0, "minutes_avg_season": 30.0},
    ),
    (
        "combo_3way",
        {"edge": 5.0, "confidence": 0.70, "minutes_avg_last_3": 33.0, "minutes_avg_season": 30.0},
        {"edge": 5.0, "confidence": 0.70, "minutes_avg_last_3": 32.99, "minutes_avg_season": 30.0},
    ),
    (
        "bench_under",
        {"direction": "UNDER", "starter_share_last_5": 0.4},
        {"direction": "UNDER", "starter_share_last_5": 0.5},
    ),
    ("bench_under", {"direction": "UNDER", "starter_share_last_5": 0.0}, {"starter_share_last_5": 0.0}),
    (
        "3pt_bounce",
        {"fg3a_per_game_season": 4.0, "fg3_pct_season": 0.36, "fg3_pct_std_season": 0.10, "fg3_pct_last_3": 0.2599},
        {"fg3a_per_game_season": 4.0, "fg3_pct_season": 0.36, "fg3_pct_std_season": 0.10, "fg3_pct_last_3": 0.26},
    ),
    (
        "3pt_bounce",
        {"fg3a_per_game_season": 4.0, "fg3_pct_season": 0.36, "fg3_pct_std_season": 0.10, "fg3_pct_last_3": 0.2},
        {"fg3a_per_game_season": 3.99, "fg3_pct_season": 0.36, "fg3_pct_std_season": 0.10, "fg3_pct_last_3": 0.2},
    ),
    (
        "b2b_fatigue_under",
        {"direction": "UNDER", "days_rest": 1.0, "minutes_avg_season": 35.0},
        {"direction": "UNDER", "days_rest": 1.0, "minutes_avg_season": 34.99},
    ),
    (
        "b2b_fatigue_under",
        {"direction": "UNDER", "days_rest": 1.0, "minutes_avg_season": 35.0},
        {"direction": "UNDER", "days_rest": 2.0, "minutes_avg_season": 35.0},
    ),
    (
        "rest_advantage_2d",
        {"team_days_rest": 2.0, "opponent_days_rest": 1.0},
        {"team_days_rest": 1.0, "opponent_days_rest": 1.0},
    ),
    (
        "rest_advantage_2d",
        {"team_days_rest": 2.0, "opponent_days_rest": 1.0},
        {"team_days_rest": 2.0, "opponent_days_rest": 2.0},
    ),
    ("prop_line_drop_over", {"prop_line_delta": -2.0}, {"prop_line_delta": -1.99}),
    ("book_disagreement", {"multi_book_line_std": 1.5, "n_books": 5}, {"multi_book_line_std": 1.49, "n_books": 5}),
    (
        "book_disagreement",
        {"multi_book_line_std": 1.5, "n_books": 5, "direction": "UNDER"},
        {"multi_book_line_std": 1.5, "n_books": 4},
    ),
    (
        "blowout_recovery",
        {"is_big_man": 0.0, "minutes_avg_season": 30.0, "minutes_prev_game": 24.0},
        {"is_big_man": 0.0, "minutes_avg_season": 30.0, "minutes_prev_game": 24.01},
    ),
    (
        "blowout_recovery",
        {"is_big_man": 0.0, "minutes_avg_season": 30.0, "minutes_prev_game": 24.0},
        {"is_big_man": 1.0, "minutes_avg_season": 30.0, "minutes_prev_game": 24.0},
    ),
    # shadow signals
    ("line_rising_over", {"line_move": 1.0}, {"line_move": 0.99}),
    ("home_under", {"direction": "UNDER", "is_home": True}, {"direction": "UNDER", "is_home": False}),
    ("elite_line_under", {"direction": "UNDER", "line": 25.0}, {"direction": "UNDER", "line": 24.99}),
    (
        "volatile_starter_under",
        {"direction": "UNDER", "starter_share_last_5": 0.8, "points_std_last_10": 8.0},
        {"direction": "UNDER", "starter_share_last_5": 0.79, "points_std_last_10": 8.0},
    ),
    (
        "over_streak_reversion_under",
        {"direction": "UNDER", "prop_over_streak": 3.0},
        {"direction": "UNDER", "prop_over_streak": 2.0},
    ),  # fmt: skip
    (
        "consistent_scorer_over",
        {"points_std_last_10": 4.0, "points_avg_last_10": 21.5},
        {"points_std_last_10": 4.01, "points_avg_last_10": 21.5},
    ),
    (
        "consistent_scorer_over",
        {"points_std_last_10": 4.0, "points_avg_last_10": 21.5},
        {"points_std_last_10": 4.0, "points_avg_last_10": 21.49},
    ),
    ("minutes_load_over", {"minutes_avg_last_3": 36.0}, {"minutes_avg_last_3": 35.99}),
    (
        "high_line_under",
        {"direction": "UNDER", "line_vs_season_avg": 3.0},
        {"direction": "UNDER", "line_vs_season_avg": 2.99},
    ),  # fmt: skip
    (
        "downtrend_under",
        {"direction": "UNDER", "points_slope_last_10": -0.5},
        {"direction": "UNDER", "points_slope_last_10": -0.49},
    ),  # fmt: skip
    (
        "mean_reversion_under",
        {"direction": "UNDER", "points_zscore_last_5": 1.0},
        {"direction": "UNDER", "points_zscore_last_5": 0.99},
    ),  # fmt: skip
]


@pytest.mark.parametrize(
    ("signal", "at_bound", "past_bound"), BOUNDS, ids=[f"{b[0]}-{i}" for i, b in enumerate(BOUNDS)]
)
def test_each_signal_fires_at_its_bound_and_not_past_it(signal, at_bound, past_bound):
    tags = fired({"at": at_bound, "past": past_bound})
    assert signal in tags["at"]
    assert signal not in tags["past"]


def test_every_active_and_shadow_signal_has_a_bound_test():
    assert {b[0] for b in BOUNDS} | {"model_health"} == set(REGISTRY.tracked)


def test_direction_is_enforced_and_null_or_defaulted_inputs_do_not_fire():
    over_case = {"team_days_rest": 2.0, "opponent_days_rest": 1.0}
    tags = fired(
        {
            "under": {**over_case, "direction": "UNDER"},  # an OVER signal on an UNDER candidate
            "null": {"team_days_rest": 2.0},  # opponent rest unknown
            "defaulted": {**over_case, "team_days_rest__source": "default"},  # a default is no information
            "big_null": {"minutes_avg_season": 30.0, "minutes_prev_game": 20.0},  # is_big_man NULL: not "not a big"
        }
    )
    assert tags == {k: {"model_health"} for k in tags}


def test_a_feature_column_the_store_lacks_reads_as_null():
    preds, feats, lines = frames({"p": {"starter_share_last_5": 0.0, "direction": "UNDER"}})
    rows = signals.signal_tags(preds, feats.drop("starter_share_last_5"), lines, None, REGISTRY)
    assert rows.get_column("signal").to_list() == ["model_health"]


def test_only_candidates_are_tagged():
    tags = fired(
        {
            "pass": {"edge": 6.0, "recommendation": "PASS"},
            "quarantined": {"edge": 6.0, "quarantined": True},
            "no_line": {"edge": None, "line": None, "recommendation": "NO_LINE"},
            "ok": {"edge": 6.0},
        }
    )
    assert tags == {"pass": set(), "quarantined": set(), "no_line": set(), "ok": {"model_health", "high_edge"}}


def test_tag_rows_carry_the_state_the_candidate_and_a_detail_with_the_values():
    preds, feats, lines = frames({"p": {"edge": 5.4, "confidence": 0.74, "line_move": 1.5}})
    rows = signals.signal_tags(preds, feats, lines, None, REGISTRY)
    assert rows.schema == signals.TAGS_SCHEMA
    by_signal = {r["signal"]: r for r in rows.iter_rows(named=True)}
    assert set(by_signal) == {"model_health", "high_edge", "edge_spread_optimal", "line_rising_over"}
    assert by_signal["high_edge"]["detail"] == "edge 5.4 >= 5"
    assert by_signal["edge_spread_optimal"]["detail"] == "edge 5.4 >= 5; confidence 0.74 >= 0.7, not in [0.88, 0.9]"
    assert by_signal["line_rising_over"]["state"] == "shadow" and by_signal["high_edge"]["state"] == "active"
    assert by_signal["high_edge"]["model_dependent"] and not by_signal["line_rising_over"]["model_dependent"]
    assert (by_signal["high_edge"]["edge"], by_signal["high_edge"]["confidence"]) == (5.4, 0.74)
    assert by_signal["model_health"]["detail"] == signals.NO_HEALTH_ROW


def test_model_health_reads_the_family_state_of_the_day_before_only():
    health = pl.DataFrame(
        {
            "game_date": [DAY - timedelta(days=1), DAY],
            "family": ["v9_mae", "v9_mae"],
            "state": ["WATCH", "BLOCKED"],  # the day's own row (after its games) is never read
            "hr_7d": [0.625, 0.1],
            "n_7d": [16, 20],
        }
    )
    preds, feats, lines = frames({"p": {}, "q": {}})
    preds = preds.with_columns(family=pl.Series(["v9_mae", "v12_mae"]))
    rows = signals.signal_tags(preds, feats, lines, health, REGISTRY)
    details = dict(rows.select("player_lookup", "detail").iter_rows())
    assert details == {"p": "v9_mae WATCH on 2025-12-14 (7d HR 62.5%, N 16)", "q": signals.NO_HEALTH_ROW}


def test_confidence_is_a_fraction_everywhere():
    preds, feats, lines = frames({"p": {"edge": 6.0, "confidence": 74.0}})  # a 0-100 value
    with pytest.raises(ValueError, match=r"confidence outside \[0, 1\]"):
        signals.signal_tags(preds, feats, lines, None, REGISTRY)


def _registry_yaml(tmp_path, edit) -> str:
    raw = yaml.safe_load(signals.SIGNALS_CONFIG_PATH.read_text())
    edit(raw)
    path = tmp_path / "signals.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def _spec(raw, tag):
    return next(s for s in raw["signals"] if s["tag"] == tag)


def test_the_registry_rejects_a_confidence_on_the_wrong_scale_and_bad_entries(tmp_path):
    def seventy(raw):
        _spec(raw, "edge_spread_optimal")["parameters"]["min_confidence"] = 70

    with pytest.raises(ValidationError, match="not on \\[0, 1\\]"):
        signals.load_signal_registry(_registry_yaml(tmp_path, seventy))

    def share(raw):
        _spec(raw, "bench_under")["parameters"]["starter_share_below"] = 50

    with pytest.raises(ValidationError, match="not on \\[0, 1\\]"):
        signals.load_signal_registry(_registry_yaml(tmp_path, share))

    def literal_missing(raw):
        del _spec(raw, "high_edge")["parameters"]

    with pytest.raises(ValidationError, match="parameters"):
        signals.load_signal_registry(_registry_yaml(tmp_path, literal_missing))

    def unknown(raw):
        raw["signals"].append({**_spec(raw, "home_under"), "tag": "made_up"})

    with pytest.raises(ValidationError, match="no condition"):
        signals.load_signal_registry(_registry_yaml(tmp_path, unknown))

    def combo_on_removed(raw):
        _spec(raw, "book_disagreement")["state"] = "removed"

    with pytest.raises(ValidationError, match="high_edge_split_books"):
        signals.load_signal_registry(_registry_yaml(tmp_path, combo_on_removed))


def _without(raw, tag):
    _spec(raw, tag)["state"] = "removed"
    raw["combos"] = [c for c in raw["combos"] if tag not in c["signals"]]


def test_a_removed_signal_is_never_tagged_and_a_planted_ghost_is_caught(tmp_path):
    registry = signals.load_signal_registry(_registry_yaml(tmp_path, lambda raw: _without(raw, "high_edge")))
    assert "high_edge" in registry.removed and "high_edge" not in registry.tracked
    # combo_he_ms still fires (its own edge parameter), high_edge does not
    case = {"edge": 9.0, "minutes_avg_last_3": 35.0, "minutes_avg_season": 30.0}
    tags = fired({"p": case}, registry)["p"]
    assert "high_edge" not in tags and "combo_he_ms" in tags
    rows = signals.signal_tags(*frames({"p": case}), None, REGISTRY)  # tags of the registry before the removal
    ghosts = signals.invalid_tags(rows, registry)
    assert ghosts.get_column("signal").to_list() == ["high_edge"]
    assert signals.invalid_tags(rows, REGISTRY).height == 0
    wrong_state = rows.with_columns(state=pl.lit("shadow"))
    assert signals.invalid_tags(wrong_state, REGISTRY).height == rows.filter(pl.col("state") == "active").height


def test_anti_pattern_api():
    assert [c.id for c in REGISTRY.anti_patterns] == ["high_edge_split_books", "bench_under_heavy_minutes"]
    assert signals.anti_pattern_hits(["model_health", "high_edge", "book_disagreement"]) == ["high_edge_split_books"]
    assert signals.anti_pattern_hits(["model_health", "high_edge"]) == []
    assert signals.anti_pattern_hits(["high_edge", "combo_he_ms"]) == []  # SYNERGISTIC: not an anti-pattern
    frame = pl.DataFrame(
        {"signals": [["high_edge", "book_disagreement"], ["high_edge"], [], ["bench_under", "b2b_fatigue_under"]]}
    )
    hits = frame.select(signals.anti_pattern_hits_expr(pl.col("signals")).alias("hits")).get_column("hits")
    assert hits.to_list() == [["high_edge_split_books"], [], [], ["bench_under_heavy_minutes"]]


# ---------------------------------------------------------------------------------------------
# signal health on a constructed history

END = DAY
PREVIOUS_SEASON = date(2025, 4, 1)  # in the history window, not in the 2025-26 season


def _history(units: list[tuple[date, str, str, str, int]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(day, player, signals "a+b", result, models): one tag per (model, signal) and one graded
    prediction per model."""
    tags, accuracy = [], []
    for day, player, names, result, models in units:
        for m in range(models):
            model = f"m{m}"
            game = f"g{day:%Y%m%d}"
            accuracy.append(
                {"game_date": day, "game_id": game, "player_lookup": player, "model_id": model, "result": result}
            )
            for name in names.split("+"):
                tags.append(
                    {"game_date": day, "game_id": game, "player_lookup": player, "model_id": model,
                     "family": "v9_mae", "signal": name, "state": "active", "model_dependent": True,
                     "direction": "OVER", "edge": 5.0, "confidence": 0.5, "detail": ""}
                )  # fmt: skip
    return (
        pl.DataFrame(tags, schema=signals.TAGS_SCHEMA),
        pl.DataFrame(accuracy, schema={"game_date": pl.Date, "game_id": pl.Utf8, "player_lookup": pl.Utf8,
                                       "model_id": pl.Utf8, "result": pl.Utf8}),
    )  # fmt: skip


def _spread(name: str, wins: int, losses: int, first: int, models: int = 1) -> list:
    """wins then losses, one unit a day from END - first going forward (distinct players)."""
    out = []
    for i in range(wins + losses):
        out.append((END - timedelta(days=first - i), f"{name}_{first}_{i}", name,
                    "WIN" if i < wins else "LOSS", models))  # fmt: skip
    return out


def constructed_history() -> tuple[pl.DataFrame, pl.DataFrame]:
    units = []
    # high_edge (model-dependent): 7d 4-1 (each unit tagged by 3 models: counted once), 8..14 days
    # back 2-2, 15..30 back 3-1, earlier this season 5-2, last season 3-0 -> season 14-6 (70%),
    # 7d 80%: divergence exactly +10 -> HOT
    units += _spread("high_edge", 4, 1, first=6, models=3)
    units += _spread("high_edge", 2, 2, first=13)
    units += _spread("high_edge", 3, 1, first=29)
    units += _spread("high_edge", 5, 2, first=44)
    units += [(PREVIOUS_SEASON + timedelta(days=i), f"old{i}", "high_edge", "WIN", 1) for i in range(3)]
    # pushes, voids and pending do not count
    units += [(END, "push", "high_edge", "PUSH", 1), (END, "void", "high_edge", "VOID", 1),
              (END, "pending", "high_edge", None, 1)]  # fmt: skip
    # bench_under (not model-dependent): 7d 3-3 (50%), season 6-4 (60%): exactly -10 -> COLD -> WATCH
    units += _spread("bench_under", 3, 3, first=6)
    units += _spread("bench_under", 3, 1, first=40)
    # edge_spread_optimal (model-dependent): 7d 2-3 (40%), season 6-4 (60%): -20 -> COLD -> DEGRADING
    units += _spread("edge_spread_optimal", 2, 3, first=6)
    units += _spread("edge_spread_optimal", 4, 1, first=40)
    # b2b_fatigue_under (not model-dependent): 7d 0-4, earlier 6-0
    units += _spread("b2b_fatigue_under", 0, 4, first=6)
    units += _spread("b2b_fatigue_under", 6, 0, first=40)
    # combos: a high_edge 7d WIN also tagged combo_he_ms (high_edge_minutes_surge 1-0); a
    # bench_under loss that is also b2b_fatigue_under (bench_under_heavy_minutes 0-1)
    units += [(END - timedelta(days=1), "combo_win", "high_edge+combo_he_ms", "WIN", 1)]
    units += [(END - timedelta(days=2), "combo_loss", "bench_under+b2b_fatigue_under", "LOSS", 1)]
    # a signal removed since: its tags stay in the history
    units += _spread("home_under", 5, 0, first=4)
    return _history(units)


def _row(rows: pl.DataFrame, name: str) -> dict:
    return rows.filter((pl.col("game_date") == END) & (pl.col("name") == name)).row(0, named=True)


def test_signal_health_windows_regimes_and_statuses_by_hand():
    tags, accuracy = constructed_history()
    rows = signals.signal_health(tags, accuracy, start=END, end=END, registry=REGISTRY)
    assert rows.schema == signals.health_schema(REGISTRY.health)
    assert set(rows.get_column("name")) == {*REGISTRY.tracked, *(c.id for c in REGISTRY.combos)}
    assert signals.invalid_health_rows(rows, REGISTRY).height == 0

    he = _row(rows, "high_edge")  # + the combo_win unit (a 7d WIN)
    assert (he["wins_7d"], he["losses_7d"], he["n_7d"]) == (5, 1, 6)
    assert (he["wins_14d"], he["losses_14d"]) == (7, 3)
    assert (he["wins_30d"], he["losses_30d"]) == (10, 4)
    assert (he["wins_season"], he["losses_season"], he["n_season"]) == (15, 6, 21)
    assert he["hr_season"] == pytest.approx(15 / 21)
    low, high = grading.wilson_interval(15, 21)
    assert (he["hr_season_low"], he["hr_season_high"]) == (pytest.approx(low), pytest.approx(high))
    assert he["divergence_points"] == pytest.approx((5 / 6 - 15 / 21) * 100)  # +11.9
    assert (he["regime"], he["status"], he["kind"], he["state"]) == ("HOT", "HEALTHY", "signal", "active")

    bench = _row(rows, "bench_under")  # + the combo_loss unit: 7d 3-4, season 6-5
    assert (bench["wins_7d"], bench["losses_7d"], bench["wins_season"], bench["losses_season"]) == (3, 4, 6, 5)

    eso = _row(rows, "edge_spread_optimal")
    assert (eso["n_7d"], eso["hr_7d"], eso["hr_season"]) == (5, pytest.approx(0.4), pytest.approx(0.6))
    assert eso["divergence_points"] == pytest.approx(-20.0)
    assert (eso["regime"], eso["status"]) == ("COLD", "DEGRADING")

    b2b = _row(rows, "b2b_fatigue_under")  # + the combo_loss: 7d 0-5 -> N 5: COLD, not model-dependent
    assert (b2b["n_7d"], b2b["hr_7d"], b2b["n_season"]) == (5, 0.0, 11)
    assert (b2b["regime"], b2b["status"]) == ("COLD", "WATCH")

    surge = _row(rows, "high_edge_minutes_surge")
    assert (surge["kind"], surge["wins_7d"], surge["losses_7d"], surge["n_season"]) == ("combo", 1, 0, 1)
    assert surge["regime"] == "NORMAL"  # N 1 < regime_min_n
    anti = _row(rows, "bench_under_heavy_minutes")
    assert (anti["wins_7d"], anti["losses_7d"], anti["model_dependent"]) == (0, 1, False)
    nothing = _row(rows, "line_rising_over")
    assert (nothing["n_season"], nothing["hr_season"], nothing["regime"], nothing["state"]) == (0, None, "NORMAL",
                                                                                                 "shadow")  # fmt: skip


def test_regime_bounds_exactly_at_plus_and_minus_ten_points():
    units = _spread("high_edge", 4, 1, first=6) + _spread("high_edge", 10, 5, first=45)  # 80% vs 70%: +10
    units += _spread("bench_under", 3, 3, first=6) + _spread("bench_under", 3, 1, first=45)  # 50% vs 60%: -10
    units += _spread("book_disagreement", 4, 1, first=6) + _spread("book_disagreement", 11, 5, first=45)  # +8.6
    units += _spread("3pt_bounce", 0, 4, first=6) + _spread("3pt_bounce", 6, 0, first=45)  # -60 but N 4 < 5
    rows = signals.signal_health(*_history(units), start=END, end=END, registry=REGISTRY)
    assert _row(rows, "high_edge")["divergence_points"] == pytest.approx(10.0)
    assert _row(rows, "high_edge")["regime"] == "HOT"
    assert _row(rows, "bench_under")["divergence_points"] == pytest.approx(-10.0)
    assert (_row(rows, "bench_under")["regime"], _row(rows, "bench_under")["status"]) == ("COLD", "WATCH")
    assert _row(rows, "book_disagreement")["divergence_points"] == pytest.approx((0.8 - 15 / 21) * 100)
    assert _row(rows, "book_disagreement")["regime"] == "NORMAL"
    bounce = _row(rows, "3pt_bounce")
    assert (bounce["n_7d"], bounce["divergence_points"], bounce["regime"]) == (4, pytest.approx(-60.0), "NORMAL")


def test_five_models_tagging_one_player_game_count_once():
    one = signals.signal_health(*_history([(END, "p", "high_edge", "WIN", 1)]), start=END, end=END)
    five = signals.signal_health(*_history([(END, "p", "high_edge", "WIN", 5)]), start=END, end=END)
    assert one.equals(five)
    assert _row(five, "high_edge")["n_7d"] == 1


def test_a_removed_signal_with_tags_in_history_gets_no_row(tmp_path):
    registry = signals.load_signal_registry(_registry_yaml(tmp_path, lambda raw: _without(raw, "home_under")))
    tags, accuracy = constructed_history()
    assert tags.filter(pl.col("signal") == "home_under").height == 5
    rows = signals.signal_health(tags, accuracy, start=END - timedelta(days=2), end=END, registry=registry)
    assert "home_under" not in set(rows.get_column("name"))
    assert rows.height == 3 * (len(registry.tracked) + len(registry.combos))
    # with the default registry it is a shadow signal and has its row (5-0)
    rows = signals.signal_health(tags, accuracy, start=END, end=END, registry=REGISTRY)
    assert _row(rows, "home_under")["wins_7d"] == 5
    # the guard catches a ghost: rows of the signal computed before its removal
    assert signals.invalid_health_rows(rows, registry).get_column("name").to_list() == ["home_under"]


def test_a_range_equals_single_days():
    tags, accuracy = constructed_history()
    whole = signals.signal_health(tags, accuracy, start=END - timedelta(days=9), end=END)
    for back in (0, 4, 9):
        day = END - timedelta(days=back)
        single = signals.signal_health(tags, accuracy, start=day, end=day)
        assert whole.filter(pl.col("game_date") == day).equals(single)


def test_the_confidence_check_catches_a_planted_off_scale_tag():
    rows = signals.signal_tags(*frames({"p": {"edge": 6.0, "confidence": 0.8}}), None, REGISTRY)
    assert signals.off_scale_confidence(rows).height == 0
    planted = rows.with_columns(confidence=pl.when(pl.col("signal") == "high_edge").then(80.0).otherwise("confidence"))
    assert signals.off_scale_confidence(planted).get_column("signal").to_list() == ["high_edge"]
