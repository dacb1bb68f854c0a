"""Calibration (empirical residual CDF + isotonic PAV), per-model prediction rows and the
quarantine of poisoned model-days. Hand-computed values; a small real CatBoost model."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nba_props.lib.models.calibration import Calibration, IsotonicMap, fit_calibration, fit_isotonic, pav
from nba_props.lib.models.predict import (
    MARKET_INPUT,
    PREDICTIONS_SCHEMA,
    apply_quarantine,
    feature_matrix,
    input_columns,
    poisoned_dates,
    poisoned_games,
    predict_rows,
)

D1, D2 = date(2025, 1, 6), date(2025, 1, 7)


# ---------------------------------------------------------------------------------------------
# isotonic regression


def test_pav_known_sequences():
    # 3,2 and 4,3 violate: pooled to their means.
    assert pav(np.array([1.0, 3, 2, 4, 3, 5])).tolist() == [1, 2.5, 2.5, 3.5, 3.5, 5]
    # fully decreasing: one block at the mean.
    assert pav(np.array([5.0, 4, 3, 2, 1])).tolist() == [3, 3, 3, 3, 3]
    # cascade: 1, 4, 2 -> (4+2)/2=3; then 3, 0 -> ... 1,3,3,0 -> (3+3+0)/3=2 -> 1,2,2,2
    assert pav(np.array([1.0, 4, 2, 0])).tolist() == [1, 2, 2, 2]
    # weights: (3*1 + 1*3) / 4 = 1.5
    assert pav(np.array([3.0, 1.0]), np.array([1.0, 3.0])).tolist() == [1.5, 1.5]
    assert pav(np.array([])).tolist() == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=40))
def test_pav_is_monotone_and_keeps_the_mean(values):
    y = np.array(values)
    fitted = pav(y)
    assert np.all(np.diff(fitted) >= -1e-9)
    assert fitted.sum() == pytest.approx(y.sum(), abs=1e-6)


def test_fit_isotonic_pools_ties_and_interpolates_between_block_centres():
    # x=1 twice (y 1, 0 -> 0.5), x=2 (0): violation -> (0.5*2 + 0) / 3 = 1/3, one block,
    # centre (1*2 + 2*1) / 3 = 4/3.
    iso = fit_isotonic(np.array([1.0, 1.0, 2.0]), np.array([1.0, 0.0, 0.0]))
    assert iso.x == pytest.approx([4 / 3]) and iso.y == pytest.approx([1 / 3])
    assert iso(np.array([0.0, 1.5, 9.0])) == pytest.approx([1 / 3] * 3)  # flat outside
    # 0,0,0,1,0,1,1 at x=1..7 -> blocks {1,2,3}: 0 (centre 2), {4,5}: 0.5 (4.5), {6,7}: 1 (6.5)
    iso = fit_isotonic(np.arange(1.0, 8.0), np.array([0.0, 0, 0, 1, 0, 1, 1]))
    assert iso.x.tolist() == [2, 4.5, 6.5] and iso.y.tolist() == [0, 0.5, 1]
    assert iso(np.array([1.0, 3.25, 4.5, 5.5, 9.0])) == pytest.approx([0, 0.25, 0.5, 0.75, 1])
    # minimum block weight 3: the 2-row blocks pool into the closer neighbour. {4,5} (0.5) is
    # equally close to 0 and 1 -> pooled left: {1..5} mean 1/5, then {6,7} (weight 2) pools
    # into it: one block, mean 3/7.
    iso = fit_isotonic(np.arange(1.0, 8.0), np.array([0.0, 0, 0, 1, 0, 1, 1]), min_block_weight=3)
    assert iso.x.tolist() == [4.0] and iso.y == pytest.approx([3 / 7])
    assert pav(np.array([0.0, 0, 0, 1, 0, 1, 1]), min_block_weight=2).tolist() == [0, 0, 0, 0.5, 0.5, 1, 1]
    assert IsotonicMap()(np.array([0.3])).tolist() == [0.3]  # no knots: identity


# ---------------------------------------------------------------------------------------------
# calibration


def _eval_frame(pred, actual, line=None) -> pl.DataFrame:
    line = [None] * len(pred) if line is None else line
    return pl.DataFrame(
        {"prediction": pred, "actual": actual, "line": line},
        schema={"prediction": pl.Float64, "actual": pl.Float64, "line": pl.Float64},
    )


def test_raw_p_over_by_hand():
    # residuals -2, -1, 0, 1, 2 (n=5): p = (#{r > line - pred} + 0.5) / 6
    cal = fit_calibration(_eval_frame([10.0] * 5, [8.0, 9, 10, 11, 12]))
    assert cal.n_residuals == 5 and cal.isotonic.is_identity
    p = cal.p_over(np.array([20.0, 20, 20, 20, 20]), np.array([20.5, 19.5, 18.0, 30.0, 10.0]))
    assert p == pytest.approx([2.5 / 6, 3.5 / 6, 4.5 / 6, 0.5 / 6, 5.5 / 6])
    # a residual equal to the threshold is not "over": line - pred = 1 -> r in {2}
    assert cal.p_over(np.array([20.0]), np.array([21.0])) == pytest.approx([1.5 / 6])
    assert np.isnan(cal.p_over(np.array([20.0]), np.array([np.nan]))[0])


def test_empty_eval_frame_gives_a_coin_flip():
    cal = fit_calibration(_eval_frame([], []))
    assert cal.p_over(np.array([20.0, 5.0]), np.array([10.0, 30.0])).tolist() == [0.5, 0.5]


def _synthetic_tail(n: int, seed: int, *, bias: float = 0.0, scale: float = 5.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    pred = rng.uniform(5, 35, n)
    actual = np.round(pred + bias + rng.normal(0, scale, n))
    line = np.round(pred + rng.uniform(-4, 4, n)) + 0.5
    integer = rng.random(n) < 0.1
    line[integer] = np.round(line[integer] - 0.5)  # a few integer lines (pushes possible)
    return _eval_frame(pred.tolist(), actual.tolist(), line.tolist())


def test_isotonic_needs_200_decided_rows():
    small = fit_calibration(_synthetic_tail(150, 1))
    assert small.isotonic.is_identity and small.n_isotonic == 0
    big_frame = _synthetic_tail(600, 2)
    big = fit_calibration(big_frame)
    decided = big_frame.filter(pl.col("line").is_not_null() & (pl.col("actual") != pl.col("line"))).height
    assert not big.isotonic.is_identity and big.n_isotonic == decided < 600
    assert fit_calibration(big_frame, min_isotonic_rows=10_000).isotonic.is_identity


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def test_calibrated_p_over_tracks_the_true_probability():
    # actual = round(pred + N(0, 5)): over line L (x.5) <=> noise >= L - pred
    cal = fit_calibration(_synthetic_tail(3000, 3))
    lines = np.array([18.5, 22.5, 25.5, 28.5, 32.5])
    truth = [_normal_sf((line - 25.0) / 5.0) for line in lines]
    assert cal.raw_p_over(np.full(5, 25.0), lines) == pytest.approx(truth, abs=0.03)
    # the tail's lines lie within pred +- 4.5: inside that range the isotonic stage agrees
    assert cal.p_over(np.full(3, 25.0), lines[1:4]) == pytest.approx(truth[1:4], abs=0.05)
    # beyond it the map is flat at the end blocks' observed rates: never more confident than
    # the tail's evidence (conservative), still inside (0, 1) and ordered
    far = cal.p_over(np.full(4, 25.0), np.array([5.5, 18.5, 32.5, 45.5]))
    inside = cal.p_over(np.full(2, 25.0), np.array([22.5, 28.5]))
    assert far[0] == far[1] and far[2] == far[3]
    assert inside[0] <= far[1] < truth[0] and truth[-1] < far[2] <= inside[1]


def _informative_lines(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The line (noise 1) knows the mean better than the model (noise 3): the raw residual CDF
    is overconfident about the model's side; the isotonic stage must pull it toward 0.5."""
    rng = np.random.default_rng(seed)
    mean = rng.uniform(5, 35, n)
    return mean + rng.normal(0, 3, n), np.round(mean + rng.normal(0, 1, n)) + 0.5, np.round(mean + rng.normal(0, 5, n))


def test_isotonic_stage_fixes_an_overconfident_raw_probability():
    pred, line, actual = _informative_lines(3000, 1)
    cal = fit_calibration(_eval_frame(pred.tolist(), actual.tolist(), line.tolist()))
    pred, line, actual = _informative_lines(5000, 2)  # fresh rows
    outcome = (actual > line).astype(float)
    brier_raw = np.mean((cal.raw_p_over(pred, line) - outcome) ** 2)
    brier = np.mean((cal.p_over(pred, line) - outcome) ** 2)
    assert brier < brier_raw - 0.01


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.sampled_from([40, 250, 800]),
    pred=st.floats(0, 60),
    lines=st.lists(st.floats(0.5, 70), min_size=2, max_size=30),
)
def test_p_over_is_in_open_unit_interval_and_monotone_in_line(seed, n, pred, lines):
    cal = fit_calibration(_synthetic_tail(n, seed, bias=seed % 5 - 2.0))
    grid = np.sort(np.array(lines))
    p = cal.p_over(np.full(grid.size, pred), grid)
    assert np.all((p > 0) & (p < 1))
    assert np.all(np.diff(p) <= 1e-12), "P(over) must not increase with the line"
    # and non-decreasing in the prediction for a fixed line
    preds = np.sort(np.linspace(0, 60, 25))
    q = cal.p_over(preds, np.full(preds.size, grid[0]))
    assert np.all(np.diff(q) >= -1e-12)


def test_calibration_round_trips_through_json():
    cal = fit_calibration(_synthetic_tail(500, 4))
    restored = Calibration.from_dict(json.loads(json.dumps(cal.to_dict())))
    pred, line = np.linspace(0, 60, 50), np.linspace(60, 0, 50) + 0.5
    assert restored.p_over(pred, line) == pytest.approx(cal.p_over(pred, line))
    assert restored.n_isotonic == cal.n_isotonic
    identity = fit_calibration(_synthetic_tail(50, 5))
    assert Calibration.from_dict(json.loads(json.dumps(identity.to_dict()))).isotonic.is_identity
    with pytest.raises(ValueError, match="format_version"):
        Calibration.from_dict({**cal.to_dict(), "format_version": 99})


# ---------------------------------------------------------------------------------------------
# predict_rows


FEATURES = ["f_avg", "f_min"]


def _features(n: int, seed: int, *, day: date = D1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    avg, minutes = rng.uniform(2, 32, n), rng.uniform(10, 38, n)
    line = np.round(avg + rng.normal(0, 2, n)) + 0.5
    has_line = rng.random(n) < 0.7
    return pl.DataFrame(
        {
            "game_date": [day] * n,
            "game_id": [f"g{i % 5}" for i in range(n)],
            "player_lookup": [f"p{i}" for i in range(n)],
            "f_avg": avg,
            "f_min": minutes,
            "line": [float(v) if h else None for v, h in zip(line, has_line, strict=True)],
            "is_quality_ready": rng.random(n) < 0.85,
        }
    )


@pytest.fixture(scope="module")
def catboost_model():
    from catboost import CatBoostRegressor, Pool

    rng = np.random.default_rng(0)
    n = 400
    x = np.column_stack([rng.uniform(2, 32, n), rng.uniform(10, 38, n)])
    y = x[:, 0] * 0.9 + (x[:, 1] - 24) * 0.2 + rng.normal(0, 4, n)
    model = CatBoostRegressor(iterations=60, depth=3, loss_function="MAE", random_seed=1, verbose=False,
                              allow_writing_files=False, thread_count=1)  # fmt: skip
    model.fit(Pool(x, y, feature_names=FEATURES))
    tail = _eval_frame(model.predict(x[:300]).tolist(), y[:300].round().tolist(), (x[:300, 0].round() + 0.5).tolist())
    return model, fit_calibration(tail)


def test_predict_rows_with_a_real_catboost_model(catboost_model):
    model, cal = catboost_model
    feats = _features(120, 11)
    out = predict_rows(feats, model, FEATURES, cal, model_id="m1", family_id="v9_mae", loss="MAE", edge_threshold=1.0)
    assert out.schema == PREDICTIONS_SCHEMA
    ready = feats.filter(pl.col("is_quality_ready"))
    assert out.height == ready.height and sorted(out["player_lookup"]) == sorted(ready["player_lookup"])
    assert out.select("game_id", "player_lookup", "model_id").is_unique().all()
    assert out["predicted_points"].is_between(0, 60).all() and out["predicted_points"].null_count() == 0
    assert not out["quarantined"].any() and out["quarantine_reason"].null_count() == out.height
    assert (out["model_id"] == "m1").all() and (out["family"] == "v9_mae").all()

    no_line = out.filter(pl.col("line").is_null())
    assert no_line.height > 0
    assert (no_line["recommendation"] == "NO_LINE").all()
    for col in ("edge", "direction", "p_over", "confidence"):
        assert no_line[col].null_count() == no_line.height, col

    lined = out.filter(pl.col("line").is_not_null())
    assert lined.height > 0
    assert lined["confidence"].is_between(0, 1).all() and lined["p_over"].is_between(0, 1, closed="none").all()
    for r in lined.iter_rows(named=True):
        assert r["edge"] == pytest.approx(abs(r["predicted_points"] - r["line"]))
        assert r["direction"] == ("OVER" if r["predicted_points"] > r["line"] else "UNDER")
        assert r["confidence"] == pytest.approx(abs(2 * r["p_over"] - 1))
        agrees = (r["p_over"] >= 0.5) if r["direction"] == "OVER" else (r["p_over"] <= 0.5)
        expected = r["direction"] if r["edge"] >= 1.0 and agrees else "PASS"
        assert r["recommendation"] == expected
    # predictions match the model on the ready rows
    direct = np.clip(
        model.predict(ready.sort("game_date", "game_id", "player_lookup").select(FEATURES).to_numpy()), 0, 60
    )
    assert out["predicted_points"].to_numpy() == pytest.approx(direct)


class FakeModel:
    """Predicts column 0 as is (a stand-in with `.predict` and `feature_names`)."""

    def __init__(self, feature_names=FEATURES):
        self.feature_names = list(feature_names)

    def predict(self, matrix):
        return np.asarray(matrix)[:, 0].astype(float)


def _rows(preds, lines, day=D1) -> pl.DataFrame:
    n = len(preds)
    return pl.DataFrame(
        {
            "game_date": [day] * n,
            "game_id": ["g1"] * n,
            "player_lookup": [f"p{i:02d}" for i in range(n)],
            "f_avg": preds,
            "f_min": [30.0] * n,
            "line": lines,
            "is_quality_ready": [True] * n,
        },
        schema_overrides={"line": pl.Float64, "f_avg": pl.Float64},
    )


def test_recommendation_rules_and_clamping():
    # The model under-predicts by 10: residuals all +10, so p_over is high for any line < pred + 10.
    cal = Calibration(residuals=np.full(50, 10.0))
    feats = _rows([20.0, 20.0, 20.0, -5.0, 80.0, 20.0], [15.5, 25.5, 31.5, 5.5, None, 19.5])
    out = predict_rows(feats, FakeModel(), FEATURES, cal, model_id="m", family_id="q", loss="Quantile",
                       edge_threshold=4.0).sort("player_lookup")  # fmt: skip
    rec = dict(zip(out["player_lookup"], out["recommendation"], strict=True))
    assert rec["p00"] == "OVER"  # edge 4.5 >= 4, p_over 50.5/51 agrees
    assert rec["p01"] == "PASS"  # UNDER by 5.5 but p_over = P(30 > 25.5) high: disagree
    assert rec["p02"] == "UNDER"  # line 31.5 > 20 + 10: p_over 0.5/51, agrees
    assert rec["p05"] == "PASS"  # edge 0.5 < 4
    assert out["predicted_points"].to_list()[3:5] == [0.0, 60.0]  # clamped
    assert rec["p04"] == "NO_LINE" and out.filter(pl.col("player_lookup") == "p04")["predicted_points"][0] == 60.0
    assert out.filter(pl.col("player_lookup") == "p03")["edge"][0] == pytest.approx(5.5)  # from the clamped 0
    # edge exactly at the threshold counts
    exact = predict_rows(_rows([24.5], [20.5]), FakeModel(), FEATURES, cal, model_id="m", family_id="q",
                         loss="Quantile", edge_threshold=4.0)  # fmt: skip
    assert exact["recommendation"][0] == "OVER"


def test_predict_rows_filters_dates_and_checks_inputs():
    cal = Calibration(residuals=np.zeros(10))
    feats = pl.concat([_rows([10.0, 12.0], [9.5, None], D1), _rows([10.0], [12.5], D2)])
    kw = dict(model_id="m", family_id="f", loss="MAE", edge_threshold=1.0)
    assert predict_rows(feats, FakeModel(), FEATURES, cal, game_dates=[D2], **kw).height == 1
    assert predict_rows(feats.clear(), FakeModel(), FEATURES, cal, **kw).schema == PREDICTIONS_SCHEMA
    with pytest.raises(ValueError, match="duplicated"):
        predict_rows(pl.concat([_rows([1.0], [0.5]), _rows([1.0], [0.5])]), FakeModel(), FEATURES, cal, **kw)
    with pytest.raises(ValueError, match="feature names"):
        predict_rows(feats, FakeModel(["f_min", "f_avg"]), FEATURES, cal, **kw)
    with pytest.raises(KeyError):
        predict_rows(feats.drop("f_min"), FakeModel(), FEATURES, cal, **kw)
    with pytest.raises(ValueError, match="loss"):
        predict_rows(feats, FakeModel(), FEATURES, cal, **{**kw, "loss": "Huber"})


def test_market_type_is_copied_from_the_feature_row_and_is_not_a_feature():
    cal = Calibration(residuals=np.zeros(10))
    feats = _rows([20.0, 21.0, 22.0], [18.5, 25.5, None]).with_columns(
        market_type=pl.Series(["dfs", "sportsbook", None], dtype=pl.Utf8)
    )
    kw = dict(model_id="m", family_id="f", loss="MAE", edge_threshold=1.0)
    out = predict_rows(feats, FakeModel(), FEATURES, cal, **kw).sort("player_lookup")
    assert out.schema == PREDICTIONS_SCHEMA
    assert out.select("player_lookup", "market_type", "recommendation").rows() == [
        ("p00", "dfs", "OVER"), ("p01", "sportsbook", "UNDER"), ("p02", None, "NO_LINE"),
    ]  # fmt: skip
    # The model never sees it: the same predictions with the column changed or absent.
    flipped = predict_rows(feats.with_columns(market_type=pl.lit("dfs")), FakeModel(), FEATURES, cal, **kw)
    absent = predict_rows(feats.drop("market_type"), FakeModel(), FEATURES, cal, **kw)
    assert flipped["predicted_points"].to_list() == absent["predicted_points"].to_list() == [20.0, 21.0, 22.0]
    assert absent["market_type"].null_count() == 3


def test_market_is_dfs_is_built_from_market_type_by_the_one_matrix_builder():
    """`market_is_dfs` (a family's market_type_feature) is not a column of the feature row:
    feature_matrix derives it from market_type (dfs 1.0, sportsbook 0.0) in its registry position,
    and refuses a row without a market type (NULL or unknown) as line_start refuses a row without
    a line."""
    feats = _rows([20.0, 21.0, 22.0], [18.5, 25.5, 19.5]).with_columns(
        market_type=pl.Series(["dfs", "sportsbook", "dfs"], dtype=pl.Utf8)
    )
    names = ["f_avg", MARKET_INPUT, "f_min"]
    assert input_columns(names) == ["f_avg", "market_type", "f_min"]
    assert MARKET_INPUT not in feats.columns
    assert feature_matrix(feats, names).tolist() == [[20.0, 1.0, 30.0], [21.0, 0.0, 30.0], [22.0, 1.0, 30.0]]
    assert feature_matrix(feats, FEATURES).tolist() == [[20.0, 30.0], [21.0, 30.0], [22.0, 30.0]]  # not asked: absent
    for bad in (None, "exchange"):
        broken = feats.with_columns(market_type=pl.Series(["dfs", bad, "sportsbook"], dtype=pl.Utf8))
        with pytest.raises(ValueError, match=r"fam reads the line's market type \(market_is_dfs\); 1 rows have none"):
            feature_matrix(broken, names, "fam")
    with pytest.raises(KeyError, match="market_type"):
        feature_matrix(feats.drop("market_type"), names)


def test_predict_rows_serves_market_is_dfs_through_the_same_builder():
    """Serving: a model whose registry features end with market_is_dfs reads 1.0 / 0.0 from each
    row's market type (the fake model predicts its first input, here the market input); a row
    without one is refused loudly, never served with a default."""
    cal = Calibration(residuals=np.zeros(10))
    names = [MARKET_INPUT, *FEATURES]
    feats = _rows([20.0, 21.0, 22.0], [0.5, 0.5, 0.5]).with_columns(
        market_type=pl.Series(["dfs", "sportsbook", "dfs"], dtype=pl.Utf8)
    )
    kw = dict(model_id="m", family_id="f", loss="MAE", edge_threshold=1.0)
    out = predict_rows(feats, FakeModel(names), names, cal, **kw).sort("player_lookup")
    assert out["predicted_points"].to_list() == [1.0, 0.0, 1.0]
    assert out["market_type"].to_list() == ["dfs", "sportsbook", "dfs"]
    with pytest.raises(ValueError, match="model m reads the line's market type"):
        predict_rows(feats.with_columns(market_type=pl.lit(None, dtype=pl.Utf8)), FakeModel(names), names, cal, **kw)
    with pytest.raises(KeyError, match="market_type"):
        predict_rows(feats.drop("market_type"), FakeModel(names), names, cal, **kw)
    # a model trained with the input is never served with a different input list
    with pytest.raises(ValueError, match="differ from the registry"):
        predict_rows(feats, FakeModel(names), FEATURES, cal, **kw)


# ---------------------------------------------------------------------------------------------
# quarantine


def _predictions(model_id: str, day: date, recs: list[str], bias: float = 0.5) -> pl.DataFrame:
    n = len(recs)
    return pl.DataFrame(
        {
            "game_date": [day] * n,
            "game_id": ["g"] * n,
            "player_lookup": [f"{model_id}_{i}" for i in range(n)],
            "model_id": [model_id] * n,
            "family": ["fam"] * n,
            "predicted_points": [20.0 + (bias if r != "UNDER" else -bias) for r in recs],
            "line": [20.0] * n,
            "market_type": ["sportsbook"] * n,
            "edge": [bias] * n,
            "direction": ["UNDER" if r == "UNDER" else "OVER" for r in recs],
            "p_over": [0.5] * n,
            "confidence": [0.0] * n,
            "recommendation": recs,
            "quarantined": [False] * n,
            "quarantine_reason": [None] * n,
        },
        schema=PREDICTIONS_SCHEMA,
    )


def test_poisoned_model_days():
    skewed = _predictions("skewed", D1, ["OVER"] * 29 + ["UNDER"])  # 96.7% OVER
    balanced = _predictions("balanced", D1, ["OVER"] * 15 + ["UNDER"] * 15)
    few = _predictions("few", D1, ["OVER"] * 9)  # below min_picks
    shifted = _predictions("shifted", D2, ["PASS"] * 20, bias=3.5)  # mean(pred - line) = +3.5
    at_limit = _predictions("at_limit", D2, ["OVER"] * 19 + ["UNDER"])  # exactly 95%: not > 95%
    poisoned = poisoned_dates(pl.concat([skewed, balanced, few, shifted, at_limit]))
    reasons = dict(zip(poisoned["model_id"], poisoned["reason"], strict=True))
    assert set(reasons) == {"skewed", "shifted"}
    assert reasons["skewed"].startswith("one_direction: 96.7% OVER of 30 picks")
    assert reasons["shifted"].startswith("mean_bias: 3.5")
    assert poisoned.schema == pl.Schema({"game_date": pl.Date, "model_id": pl.Utf8, "reason": pl.Utf8})
    # the bias rule needs min_lined rows
    assert poisoned_dates(_predictions("s", D2, ["PASS"] * 5, bias=4.0)).height == 0


def test_poisoned_on_the_direction_basis_counts_every_lined_prediction():
    # A deliberate UNDER-lean family: every pick UNDER, but its lined predictions 70/30.
    lean = _predictions("q43", D1, ["UNDER"] * 12 + ["PASS"] * 8)
    lean = lean.with_columns(direction=pl.Series(["UNDER"] * 14 + ["OVER"] * 6))
    assert poisoned_dates(lean)["reason"].to_list() == ["one_direction: 100.0% UNDER of 12 picks"]
    assert poisoned_dates(lean, basis="direction").height == 0
    skewed = lean.with_columns(direction=pl.lit("UNDER"))
    assert poisoned_dates(skewed, basis="direction")["reason"].to_list() == [
        "one_direction: 100.0% UNDER of 20 lined predictions"
    ]
    with pytest.raises(ValueError, match="basis"):
        poisoned_dates(lean, basis="edge")


def _timing(frame: pl.DataFrame, captured: datetime, tip: datetime) -> pl.DataFrame:
    """player_lines-like timing of every row of `frame`: its line captured at `captured`, its game tipping at `tip`."""
    return frame.select("game_id", "player_lookup").with_columns(
        line_captured_at=pl.lit(captured, dtype=pl.Datetime("us", "UTC")),
        tip_time_utc=pl.lit(tip, dtype=pl.Datetime("us", "UTC")),
    )


MORNING, EARLY_TIP = datetime(2025, 1, 6, 17, 0, tzinfo=UTC), datetime(2025, 1, 7, 0, 0, tzinfo=UTC)
LATE_POST, LATE_TIP = datetime(2025, 1, 7, 1, 0, tzinfo=UTC), datetime(2025, 1, 7, 3, 0, tzinfo=UTC)


def test_apply_quarantine_marks_and_keeps_rows():
    frame = pl.concat([
        _predictions("skewed", D1, ["OVER"] * 29 + ["UNDER"]),
        _predictions("balanced", D1, ["OVER"] * 15 + ["UNDER"] * 15),
        _predictions("skewed", D2, ["OVER"] * 15 + ["UNDER"] * 15),
    ])  # fmt: skip
    timing = _timing(frame, MORNING, EARLY_TIP)  # every line posted before the one game's tip: the whole slate
    out = apply_quarantine(frame, timing)
    assert out.height == frame.height and out.columns == frame.columns and out.schema == PREDICTIONS_SCHEMA
    assert out.select("player_lookup", "game_date").equals(frame.select("player_lookup", "game_date"))  # order kept
    flagged = out.filter(pl.col("quarantined"))
    assert flagged.height == 30 and set(flagged["model_id"]) == {"skewed"} and set(flagged["game_date"]) == {D1}
    assert flagged["quarantine_reason"].str.starts_with("one_direction: 96.7% OVER of 30 picks").all()
    assert out.filter(~pl.col("quarantined"))["quarantine_reason"].null_count() == 60
    assert apply_quarantine(out, timing).equals(out)  # idempotent
    assert apply_quarantine(frame.clear(), timing).height == 0
    with pytest.raises(KeyError, match="line_captured_at"):  # no timing: refused, not the whole slate silently
        apply_quarantine(frame)


def _game(game_id: str, recs: list[str], captured: datetime, tip: datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    rows = _predictions("m", D1, recs).with_columns(
        game_id=pl.lit(game_id), player_lookup=pl.format(game_id + "_{}", pl.col("player_lookup"))
    )
    return rows, _timing(rows, captured, tip)


def _slate(*games: tuple[pl.DataFrame, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
    return pl.concat([g[0] for g in games]), pl.concat([g[1] for g in games])


def _flagged(out: pl.DataFrame) -> dict[str, int]:
    return dict(out.filter(pl.col("quarantined")).group_by("game_id").len().sort("game_id").iter_rows())


def test_late_lines_do_not_quarantine_an_early_game():
    # Early game: 5 OVER + 5 UNDER picks, lines posted in the morning. Late game: 190 OVER
    # picks whose lines were posted after the early tip. Whole slate: 195 of 200 OVER (97.5%),
    # so the old whole-day rule quarantined the early game on lines that did not exist before it tipped.
    predictions, timing = _slate(
        _game("early", ["OVER"] * 5 + ["UNDER"] * 5, MORNING, EARLY_TIP),
        _game("late", ["OVER"] * 190, LATE_POST, LATE_TIP),
    )
    assert poisoned_dates(predictions)["reason"].to_list() == ["one_direction: 97.5% OVER of 200 picks"]
    games = poisoned_games(predictions, timing)
    assert games.select("game_id", "reason").rows() == [
        ("late", "one_direction: 97.5% OVER of 200 picks (lines posted by the tip)")
    ]
    out = apply_quarantine(predictions, timing)
    assert _flagged(out) == {"late": 190}  # the early game's 10 rows stay in


def test_an_early_game_is_judged_on_the_lines_posted_by_its_tip():
    # By the early tip: 6 early-game OVER picks + 6 late-game OVER picks posted in the morning
    # (12 of 12 OVER: poisoned). 10 UNDER picks of the late game are posted after the early tip,
    # so the whole slate (12 of 22 OVER) looks fine and the old rule quarantined nothing.
    late_morning = _game("late", ["OVER"] * 6, MORNING, LATE_TIP)
    late_evening = _game("late", ["UNDER"] * 10, LATE_POST, LATE_TIP)
    late_evening = (late_evening[0].with_columns(player_lookup=pl.col("player_lookup") + "_pm"),
                    late_evening[1].with_columns(player_lookup=pl.col("player_lookup") + "_pm"))  # fmt: skip
    predictions, timing = _slate(_game("early", ["OVER"] * 6, MORNING, EARLY_TIP), late_morning, late_evening)
    assert poisoned_dates(predictions).height == 0
    games = poisoned_games(predictions, timing)
    assert games.select("game_id", "reason").rows() == [
        ("early", "one_direction: 100.0% OVER of 12 picks (lines posted by the tip)")
    ]
    assert _flagged(apply_quarantine(predictions, timing)) == {"early": 6}


def test_a_games_own_lines_stamped_at_its_tip_count_and_a_game_without_tip_sees_the_whole_day():
    # Lines stamped exactly at the tip (DFS boards without a capture time) are the game's own pre-tip lines.
    at_tip = _game("dfs", ["OVER"] * 12, EARLY_TIP, EARLY_TIP)
    assert poisoned_games(*at_tip)["game_id"].to_list() == ["dfs"]
    # The tip can also come with the predictions; a game without a tip is decided on the whole model-day.
    predictions, timing = _slate(
        _game("early", ["UNDER"] * 2, MORNING, EARLY_TIP), _game("late", ["OVER"] * 60, LATE_POST, LATE_TIP)
    )
    with_timing = predictions.join(timing, on=["game_id", "player_lookup"]).with_columns(
        tip_time_utc=pl.when(pl.col("game_id") == "early").then(None).otherwise(pl.col("tip_time_utc"))
    )
    assert poisoned_games(with_timing)["game_id"].to_list() == ["early", "late"]  # 60 of 62 OVER = 96.8%
    # with its tip the early game sees only its own 2 picks (below min_picks)
    assert poisoned_games(predictions, timing)["game_id"].to_list() == ["late"]
