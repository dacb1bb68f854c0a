"""Training: the leak-free training frame and its window, the time-ordered three-way split
(train / early stopping / calibration) and what each part is used for, the calibration's
market, min-rows skips, tail metrics and governance, the registry row, reproducibility, artifacts, and
whether training learns a market inefficiency on held-out later weeks.

Data: the first 90 game days of a simulated season (seed 7) read back through the files
provider, player_lines + player_features built by the lib functions the assets call. Built once
per module; CatBoost iterations are cut by a config override to keep the file fast.
"""

from __future__ import annotations

import functools
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from nba_props.lib.features.build import build_player_features
from nba_props.lib.features.contract import load_contract
from nba_props.lib.features.inputs import FeatureInputs
from nba_props.lib.lines import build_player_lines, load_line_config
from nba_props.lib.models.calibration import Calibration, fit_market_calibration
from nba_props.lib.models.predict import MARKET_INPUT, predict_rows
from nba_props.lib.models.registry import REGISTRY_SCHEMA, feature_hash, load_models_config
from nba_props.lib.models.runner import with_line_markets
from nba_props.lib.models.training import (
    GATE_FAILED,
    GATE_INSUFFICIENT,
    LABEL,
    MARKET_COLUMNS,
    Skipped,
    TrainedModel,
    evaluate_tail,
    feature_matrix,
    governance_gates,
    lifecycle_after_gates,
    load_model_bytes,
    model_bytes,
    model_features,
    predict_points,
    requires_line,
    split_windows,
    train_family,
    training_frame,
)

SEASON, SEED, N_DAYS, TRAIN_DAYS = "2024-25", 7, 90, 60
CONTRACT = load_contract()
CONFIG = load_models_config().with_catboost(iterations=200, learning_rate=0.1)


def simulated_features(out: Path, seed: int = SEED) -> tuple[pl.DataFrame, pl.DataFrame]:
    from nba_props.sim.season import simulate_season

    simulate_season(season=SEASON, seed=seed, out_dir=out, n_days=N_DAYS)
    return features_of_simulation(out)


@functools.cache
def _simulation_inputs(out: Path) -> tuple[date, date, pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(start, end, box scores, schedule, injuries, snapshots) of the simulation in `out`, read once."""
    from nba_props import seasons
    from nba_props.lib.sources.files import FilesProvider

    provider = FilesProvider(out)
    start = seasons.season(SEASON).opening_night
    box = provider.box_scores(start - timedelta(days=30), start + timedelta(days=400)).rows
    end = box["game_date"].max()
    lookback = load_line_config().lookback_days
    return (
        start, end, box, provider.schedule(start, end).rows, provider.injury_report(start, end).rows,
        provider.prop_line_snapshots(start - timedelta(days=lookback), end).rows,
    )  # fmt: skip


def features_of_simulation(
    out: Path, *, day: date | None = None, edit_box=None, edit_snapshots=None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(features with the lines' market columns, box scores) of the simulation in `out`: every
    game date, or only `day`'s rows; `edit_box` / `edit_snapshots` rewrite the inputs first."""
    start, end, box, schedule, injuries, snapshots = _simulation_inputs(out)
    config = load_line_config()
    if day is not None:
        start = end = day
        schedule = schedule.filter(pl.col("game_date") == day)
        injuries = injuries.filter(pl.col("game_date") == day)
        snapshots = snapshots.filter(pl.col("game_date").is_between(day - timedelta(days=config.lookback_days), day))
    box = edit_box(box) if edit_box else box
    snapshots = edit_snapshots(snapshots, schedule) if edit_snapshots else snapshots
    lines = build_player_lines(snapshots, schedule, box, injuries, start=start, end=end, config=config)
    features = build_player_features(
        FeatureInputs(targets=lines, box_history=box, line_history=lines, schedule=schedule, injuries=injuries),
        CONTRACT,
    )
    # what runner.train_weeks does: the chosen lines' market columns (prices) for the calibration
    return with_line_markets(features, lines), box


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory) -> Path:
    from nba_props.sim.season import simulate_season

    out = tmp_path_factory.mktemp("models_sim")
    simulate_season(season=SEASON, seed=SEED, out_dir=out, n_days=N_DAYS)
    return out


@pytest.fixture(scope="module")
def season(sim_dir) -> tuple[pl.DataFrame, pl.DataFrame]:
    return features_of_simulation(sim_dir)


@pytest.fixture(scope="module")
def cut(season) -> date:
    """The first held-out game date: day TRAIN_DAYS + 1 of the simulation."""
    features, _ = season
    return features.get_column("game_date").unique().sort()[TRAIN_DAYS]


@pytest.fixture(scope="module")
def champion_fit(season, cut) -> TrainedModel:
    features, box = season
    family = CONFIG.family("v9_mae")
    result = train_family(training_frame(features, box, family, CONTRACT, week_start=cut), family, CONTRACT, CONFIG,
                          week_start=cut)  # fmt: skip
    assert isinstance(result, TrainedModel)
    return result


def held_out(features: pl.DataFrame, box: pl.DataFrame, cut: date) -> pl.DataFrame:
    """Days after the cut: quality-ready rows with a line and a decided outcome (no push)."""
    actual = box.filter("played").select("game_id", "player_lookup", actual=pl.col("points").cast(pl.Float64))
    return (
        features.filter((pl.col("game_date") >= cut) & pl.col("is_quality_ready") & pl.col("line").is_not_null())
        .join(actual, on=["game_id", "player_lookup"])
        .filter(pl.col("actual") != pl.col("line"))
    )


def scored(model: TrainedModel, rows: pl.DataFrame) -> pl.DataFrame:
    prediction = model.model.predict(feature_matrix(rows, model.feature_names))
    return rows.with_columns(prediction=pl.Series(prediction)).with_columns(
        edge=(pl.col("prediction") - pl.col("line")).abs(),
        win=(pl.col("prediction") > pl.col("line")) == (pl.col("actual") > pl.col("line")),
    )


# ---------------------------------------------------------------------------------------------
# training frame


def test_training_frame_is_before_the_week_and_within_the_window(season, cut):
    features, box = season
    for family_id in ("v9_mae", "v12_noveg_mae"):
        family = CONFIG.family(family_id).model_copy(update={"window_game_days": 20})
        frame = training_frame(features, box, family, CONTRACT, week_start=cut)
        assert frame.height > 0
        assert frame.filter(pl.col("game_date") >= cut).height == 0  # never on or after week_start
        assert frame["game_date"].max() < cut
        dates = frame["game_date"].unique().sort()
        assert dates.len() == 20  # exactly the window, counted in game dates
        earlier = features.filter((pl.col("game_date") < cut) & (pl.col("game_date") > dates.max()))
        assert earlier.filter(pl.col("is_quality_ready")).height == 0  # the window ends at the newest date
        assert frame.columns == [
            "game_date", "game_id", "player_lookup", *CONTRACT.feature_columns(family.feature_set), "line", "actual_points",
            *[c for c in MARKET_COLUMNS if c in features.columns],
        ]  # fmt: skip
        assert {"over_price", "under_price"} <= set(frame.columns)  # carried for the calibration, not model inputs
        assert frame.select(pl.col("actual_points").null_count()).item() == 0
        assert frame.select(pl.struct("game_id", "player_lookup").is_duplicated().any()).item() is False


def test_vegas_families_train_on_rows_with_a_line_only(season, cut):
    features, box = season
    assert requires_line(CONFIG.family("v9_mae"), CONTRACT) and requires_line(CONFIG.family("v12_q43"), CONTRACT)
    assert not requires_line(CONFIG.family("v12_noveg_q45"), CONTRACT)
    lined = training_frame(features, box, CONFIG.family("v12_mae"), CONTRACT, week_start=cut)
    everyone = training_frame(features, box, CONFIG.family("v12_noveg_mae"), CONTRACT, week_start=cut)
    assert lined.height > 0 and lined["line"].null_count() == 0
    assert everyone["line"].null_count() > 0 and everyone.height > lined.height


def test_training_frame_keeps_quality_ready_played_rows_only(season, cut):
    features, box = season
    frame = training_frame(features, box, CONFIG.family("v12_noveg_mae"), CONTRACT, week_start=cut)
    keys = frame.select("game_id", "player_lookup")
    not_ready = features.filter(~pl.col("is_quality_ready")).select("game_id", "player_lookup")
    assert keys.join(not_ready, on=["game_id", "player_lookup"]).height == 0
    dnp = box.filter(~pl.col("played")).select("game_id", "player_lookup")
    assert keys.join(dnp, on=["game_id", "player_lookup"]).height == 0
    expected = box.filter("played").select("game_id", "player_lookup", pts=pl.col("points").cast(pl.Float64))
    joined = frame.join(expected, on=["game_id", "player_lookup"])
    assert joined.height == frame.height and (joined["pts"] == joined["actual_points"]).all()


def test_the_window_spans_the_off_season(season):
    # Months after the last game, the window still holds the last N game dates with data.
    features, box = season
    family = CONFIG.family("v12_noveg_mae").model_copy(update={"window_game_days": 30})
    frame = training_frame(
        features, box, family, CONTRACT, week_start=features["game_date"].max() + timedelta(days=150)
    )
    assert frame["game_date"].n_unique() == 30
    assert frame["game_date"].max() == features.filter("is_quality_ready")["game_date"].max()


def test_empty_history_gives_an_empty_frame_with_columns(season):
    features, box = season
    family = CONFIG.family("v9_mae")
    frame = training_frame(features, box, family, CONTRACT, week_start=features["game_date"].min())
    assert frame.height == 0 and "actual_points" in frame.columns and frame.schema["game_date"] == pl.Date
    result = train_family(frame, family, CONTRACT, CONFIG, week_start=features["game_date"].min())
    assert isinstance(result, Skipped) and "0 training rows" in result.reason


# ---------------------------------------------------------------------------------------------
# the three-way split


def test_split_is_time_ordered_and_disjoint(season, cut):
    features, box = season
    frame = training_frame(features, box, CONFIG.family("v12_noveg_mae"), CONTRACT, week_start=cut)
    train, stop, calib = split_windows(frame, 0.15, 0.15)
    parts = [set(part["game_date"].to_list()) for part in (train, stop, calib)]
    assert all(parts) and not (parts[0] & parts[1] or parts[1] & parts[2] or parts[0] & parts[2])
    assert max(parts[0]) < min(parts[1]) and max(parts[1]) < min(parts[2])  # train < early stopping < calibration
    assert train.height + stop.height + calib.height == frame.height
    n_dates = len(parts[0] | parts[1] | parts[2])
    assert n_dates == frame["game_date"].n_unique() > 40
    assert len(parts[2]) == len(parts[1]) == round(0.15 * n_dates)
    assert max(parts[2]) == frame["game_date"].max()  # calibration is the newest part


def test_split_edge_cases():
    def days(n: int) -> pl.DataFrame:
        return pl.DataFrame({"game_date": [date(2025, 1, 1) + timedelta(days=i) for i in range(n)], "x": range(n)})

    train, stop, calib = split_windows(days(2), 0.15, 0.15)  # fewer than three dates: nothing held out
    assert train.height == 2 and stop.height == 0 and calib.height == 0
    train, stop, calib = split_windows(days(3), 0.15, 0.15)  # one date each
    assert (train["x"].to_list(), stop["x"].to_list(), calib["x"].to_list()) == ([0], [1], [2])
    # 10 dates, 0.5 / 0.4: 5 + 4 leaves exactly one train date
    train, stop, calib = split_windows(days(10), 0.5, 0.4)
    assert (train.height, stop.height, calib.height) == (1, 5, 4)
    # 4 dates, 0.45 / 0.45: 2 + 2 would leave none; the larger (calibration on a tie) gives up one
    train, stop, calib = split_windows(days(4), 0.45, 0.45)
    assert (train.height, stop.height, calib.height) == (1, 2, 1)
    train, stop, calib = split_windows(days(20), 0.1, 0.2)  # round(2.0), round(4.0)
    assert (train.height, stop.height, calib.height) == (14, 2, 4)


def _fit(frame: pl.DataFrame, cut: date) -> TrainedModel:
    family = CONFIG.family("v9_mae")
    result = train_family(frame, family, CONTRACT, CONFIG, week_start=cut)
    assert isinstance(result, TrainedModel)
    return result


def test_calibration_rows_are_never_seen_by_early_stopping_or_the_fit(season, cut, champion_fit):
    # Scramble the labels of the calibration part only: the model (its trees, hence every
    # prediction) must not change. With one tail for early stopping and calibration (version 1)
    # the best iteration was picked on these rows, so scrambling them changed the model.
    features, box = season
    frame = training_frame(features, box, CONFIG.family("v9_mae"), CONTRACT, week_start=cut)
    _, stop, calib = split_windows(frame, CONFIG.training.early_stopping_fraction, CONFIG.training.calibration_fraction)
    assert calib["game_date"].min() == champion_fit.registry_row["eval_start"]
    in_calib = pl.col("game_date") >= calib["game_date"].min()
    scrambled = frame.with_columns(pl.when(in_calib).then(60.0 - pl.col(LABEL)).otherwise(pl.col(LABEL)).alias(LABEL))
    refit = _fit(scrambled, cut)
    X = feature_matrix(frame, champion_fit.feature_names)
    assert np.array_equal(refit.model.predict(X), champion_fit.model.predict(X))
    assert refit.metrics["best_iteration"] == champion_fit.metrics["best_iteration"]
    # ... while the calibration (fitted on those rows) does see them
    assert not np.array_equal(refit.calibration.residuals, champion_fit.calibration.residuals)
    # Control: scrambling the early-stopping part does change the model (the test can fail).
    in_stop = pl.col("game_date").is_between(stop["game_date"].min(), stop["game_date"].max())
    moved_labels = pl.when(in_stop).then(60.0 - pl.col(LABEL)).otherwise(pl.col(LABEL)).alias(LABEL)
    moved = _fit(frame.with_columns(moved_labels), cut)
    assert not np.array_equal(moved.model.predict(X), champion_fit.model.predict(X))


def test_registry_row_dates_are_three_ordered_parts(champion_fit, cut):
    row, m = champion_fit.registry_row, champion_fit.metrics
    assert row["train_start"] <= row["train_end"] < row["stop_start"] <= row["stop_end"] < row["eval_start"]
    assert row["eval_start"] <= row["eval_end"] < cut
    n_dates = m["n_train_dates"] + m["n_stop_dates"] + m["n_eval_dates"]
    assert m["n_stop_dates"] == m["n_eval_dates"] == round(0.15 * n_dates)
    assert row["n_stop"] > 0 and row["n_eval"] == champion_fit.eval_frame.height
    assert m["refit_after_early_stopping"] is True and m["tree_count"] == m["best_iteration"] + 1
    # the calibration (residuals of the served model) comes from the calibration part only
    expected = np.sort((champion_fit.eval_frame["actual"] - champion_fit.eval_frame["prediction"]).to_numpy())
    assert np.allclose(champion_fit.calibration.residuals, expected)


# ---------------------------------------------------------------------------------------------
# the calibration's market (hand-made)


def _market_frame(with_market_type: bool = True, with_prices: bool = True) -> pl.DataFrame:
    # residuals 5, -5, 2, 3 (sorted -5, 2, 3, 5); rows 1-2 sportsbook at -110/-110, rows 3-4 DFS (no prices)
    frame = pl.DataFrame(
        {
            "prediction": [20.0, 20.0, 20.0, 20.0],
            "actual": [25.0, 15.0, 22.0, 23.0],
            "line": [20.5, 20.5, 19.5, 23.5],
            "market_type": ["sportsbook", "sportsbook", "dfs", "dfs"],
            "over_price": [-110, -110, None, None],
            "under_price": [-110, -110, None, None],
        },
        schema_overrides={"over_price": pl.Int32, "under_price": pl.Int32},
    )
    if not with_market_type:
        frame = frame.drop("market_type")
    return frame if with_prices else frame.drop("over_price", "under_price")


def test_calibration_uses_sportsbook_rows_when_they_exist():
    # Sportsbook rows 1, 2 (threshold line - pred = 0.5; #{r > 0.5} = 3 of the 4 residuals):
    #   row 1 own residual 5 > 0.5 counted -> LOO (3 - 1 + 0.5) / 4 = 0.625, over -> (0.625 - 1)^2 = 0.140625
    #   row 2 own residual -5 not counted -> (3 + 0.5) / 4 = 0.875, under -> 0.875^2 = 0.765625
    #   Brier (0.140625 + 0.765625) / 2 = 0.453125; market 0.5 on both -> 0.25
    for frame in (_market_frame(), _market_frame(with_market_type=False)):  # market_type, else "both prices"
        cal, figures = fit_market_calibration(frame, min_isotonic_rows=2, min_block_rows=1)
        assert cal.market == figures["market"] == "sportsbook"
        assert (figures["n_sportsbook"], figures["n_rows"], figures["n_priced"]) == (2, 2, 2)
        assert figures["brier_raw_loo"] == 0.4531 and figures["brier_raw_loo_priced"] == 0.4531
        assert figures["market_brier"] == 0.25
        # isotonic on the two sportsbook rows only: x 0.625 -> 1, 0.875 -> 0 violate, pooled to 0.5
        assert cal.n_isotonic == 2 and cal.isotonic.y.tolist() == [0.5]
        assert figures["brier_calibrated_in_sample"] == 0.25
        assert cal.n_residuals == 4  # the residual spread uses every calibration row


def test_calibration_falls_back_to_every_lined_row_without_sportsbook_rows():
    # No sportsbook rows: all four decided rows. Rows 1, 2 as above (0.625 over, 0.875 under);
    # row 3 threshold -0.5, #{r > -0.5} = 3, own 2 counted -> 0.625, over (22 > 19.5) -> 0.140625;
    # row 4 threshold 3.5, #{r > 3.5} = 1, own 3 not counted -> 0.375, under (23 < 23.5) -> 0.140625.
    # Brier (0.140625 + 0.765625 + 0.140625 + 0.140625) / 4 = 0.296875
    dfs_only = _market_frame().with_columns(market_type=pl.lit("dfs"))
    cal, figures = fit_market_calibration(dfs_only, min_isotonic_rows=2, min_block_rows=1)
    assert cal.market == figures["market"] == "all_lined" and figures["n_rows"] == 4 and cal.n_isotonic == 4
    assert figures["brier_raw_loo"] == 0.2969
    assert figures["n_priced"] == 2 and figures["market_brier"] == 0.25  # the priced rows among them
    _, no_prices = fit_market_calibration(_market_frame(with_market_type=False, with_prices=False))
    assert no_prices["market"] == "all_lined" and no_prices["n_priced"] == 0 and no_prices["market_brier"] is None
    # the calibration's market survives the artifact round trip
    assert Calibration.from_dict(cal.to_dict()).market == "all_lined"


def test_the_registry_metrics_say_which_market_the_calibration_came_from(champion_fit):
    stored = json.loads(champion_fit.registry_row["metrics"])["calibration"]
    assert stored["market"] == champion_fit.calibration.market == "sportsbook"  # the simulated books are priced
    frame = champion_fit.eval_frame
    decided = frame.filter(pl.col("actual") != pl.col("line"))
    assert stored["n_rows"] == decided.height == stored["n_priced"]
    assert stored["market_brier"] is not None and 0.2 < stored["market_brier"] < 0.3


def test_a_family_below_min_rows_is_skipped_with_the_count(season, cut):
    features, box = season
    family = CONFIG.family("v12_mae").model_copy(update={"min_train_rows": 10_000_000})
    frame = training_frame(features, box, family, CONTRACT, week_start=cut)
    result = train_family(frame, family, CONTRACT, CONFIG, week_start=cut)
    assert isinstance(result, Skipped)
    assert result.family == "v12_mae"
    assert f"{frame.height} training rows" in result.reason and "min_train_rows 10000000" in result.reason


def test_a_frame_with_rows_after_the_week_is_refused(season, cut):
    features, box = season
    family = CONFIG.family("v12_noveg_mae")
    frame = training_frame(features, box, family, CONTRACT, week_start=cut + timedelta(days=7))
    with pytest.raises(ValueError, match="on or after week_start"):
        train_family(frame, family, CONTRACT, CONFIG, week_start=cut)


# ---------------------------------------------------------------------------------------------
# metrics and governance (hand-made)


def test_evaluate_tail_by_hand():
    rows = pl.DataFrame(
        {
            "prediction": [25.0, 15.0, 23.0, 17.0, 21.0, 10.0],
            "actual": [30.0, 10.0, 18.0, 20.0, 25.0, 12.0],
            "line": [20.0, 20.0, 20.0, 20.0, 20.0, None],
            "points_avg_season": [27.0, 18.0, 16.0, 8.0, 3.0, 3.0],
        }
    )
    m = evaluate_tail(rows)
    assert m["n_eval"] == 6 and m["mae"] == pytest.approx(4.0)
    assert m["n_lined"] == 5
    assert m["mae_lined"] == pytest.approx(4.4) and m["line_mae"] == pytest.approx(5.4)
    assert m["bias_vs_line"] == pytest.approx(0.2)
    # edge >= 3: OVER win, UNDER win, OVER loss; the push (actual == line) is excluded
    assert (m["n_edge3"], m["hr_edge3"]) == (3, pytest.approx(2 / 3, abs=1e-4))
    assert (m["n_edge1"], m["hr_edge1"]) == (4, 0.75)
    assert (m["n_over_edge3"], m["over_hr_edge3"]) == (2, 0.5)
    assert (m["n_under_edge3"], m["under_hr_edge3"]) == (1, 1.0)
    assert m["n_edge5"] == 2 and m["hr_edge5"] == 1.0
    assert m["tier_bias"] == {
        "star_25_plus": {"n": 1, "bias": -5.0},
        "starter_15_25": {"n": 2, "bias": 5.0},
        "role_5_15": {"n": 1, "bias": -3.0},
        "bench_under_5": {"n": 2, "bias": -3.0},
    }


def metrics(**overrides) -> dict:
    base = {
        "n_lined": 500, "mae_lined": 5.0, "line_mae": 5.0, "bias_vs_line": 0.2,
        "n_edge3": 200, "hr_edge3": 0.56, "n_over_edge3": 100, "over_hr_edge3": 0.55,
        "n_under_edge3": 100, "under_hr_edge3": 0.57,
        "tier_bias": {"star_25_plus": {"n": 30, "bias": -1.0}, "bench_under_5": {"n": 5, "bias": 9.0}},
    }  # fmt: skip
    return {**base, **overrides}


def test_gates_pass_and_small_tiers_do_not_count():
    gates = governance_gates(metrics(), CONFIG.governance)
    assert set(gates) == {"mae_vs_line", "hr_edge3", "bias_vs_line", "tier_bias", "over_hr_edge3", "under_hr_edge3"}
    assert all(g["status"] == "passed" and g["passed"] is True for g in gates.values())
    assert gates["tier_bias"]["tier"] == "star_25_plus"  # bench (n=5 < tier_min_n) ignored despite bias 9
    assert gates["mae_vs_line"]["threshold"] == pytest.approx(5.0 + CONFIG.governance.mae_margin)
    assert lifecycle_after_gates(gates) == "active"


@pytest.mark.parametrize(
    ("overrides", "gate"),
    [
        ({"hr_edge3": 0.50}, "hr_edge3"),
        ({"mae_lined": 6.0}, "mae_vs_line"),
        ({"bias_vs_line": -1.6}, "bias_vs_line"),
        ({"under_hr_edge3": 0.45}, "under_hr_edge3"),
        ({"tier_bias": {"star_25_plus": {"n": 30, "bias": -5.5}}}, "tier_bias"),
    ],
)
def test_a_failed_gate_blocks(overrides, gate):
    gates = governance_gates(metrics(**overrides), CONFIG.governance)
    assert gates[gate]["status"] == GATE_FAILED and gates[gate]["passed"] is False
    assert lifecycle_after_gates(gates) == "blocked"


def test_insufficient_samples_are_recorded_and_do_not_block():
    # 20 picks at edge >= 3 with a 30% hit rate: too few to judge, so recorded, not blocking
    gates = governance_gates(
        metrics(n_edge3=20, hr_edge3=0.30, n_over_edge3=0, over_hr_edge3=None, n_under_edge3=20, under_hr_edge3=0.3,
                tier_bias={"bench_under_5": {"n": 3, "bias": 9.0}}),
        CONFIG.governance,
    )  # fmt: skip
    for name in ("hr_edge3", "over_hr_edge3", "under_hr_edge3", "tier_bias"):
        assert gates[name]["status"] == GATE_INSUFFICIENT and gates[name]["passed"] is None
    assert gates["hr_edge3"]["value"] == 0.30 and gates["hr_edge3"]["n"] == 20
    assert lifecycle_after_gates(gates) == "active"


# ---------------------------------------------------------------------------------------------
# a real fit: registry row, eval frame, reproducibility, artifacts


def test_registry_row_conforms_to_the_schema(champion_fit, cut):
    trained, row = champion_fit, champion_fit.registry_row
    frame = pl.DataFrame([row], schema=REGISTRY_SCHEMA)
    assert frame.schema == REGISTRY_SCHEMA and set(row) == set(REGISTRY_SCHEMA)
    assert row["week_start"] == cut and row["family"] == "v9_mae" and row["feature_set"] == "v9"
    assert row["loss"] == "MAE" and row["quantile_alpha"] is None
    iso = cut.isocalendar()
    assert row["model_id"] == trained.model_id == f"catboost_v9_mae_{iso.year}w{iso.week:02d}"
    assert row["train_start"] <= row["train_end"] < row["eval_start"] <= row["eval_end"] < cut
    assert row["features"] == trained.feature_names == CONTRACT.feature_columns("v9")
    assert row["feature_hash"] == feature_hash(CONTRACT.feature_columns("v9"))
    assert row["n_eval"] == trained.eval_frame.height and row["n_train"] > row["n_eval"] > 0
    assert set(json.loads(row["framework_versions"])) >= {"catboost", "polars", "python"}
    stored_metrics = json.loads(row["metrics"])
    assert stored_metrics["mae"] == trained.metrics["mae"] and stored_metrics["n_eval"] == row["n_eval"]
    gates = json.loads(row["governance"])
    assert all({"passed", "value", "threshold", "status"} <= set(g) for g in gates.values())
    failed = any(g["status"] == "failed" for g in gates.values())
    assert row["lifecycle_state"] == ("blocked" if failed else "active")
    assert row["config_version"] == CONFIG.version and row["artifact_uri"] is None
    assert row["trained_at"].tzinfo is not None


def test_eval_frame_holds_tail_residuals(champion_fit):
    frame = champion_fit.eval_frame
    assert frame.columns == [
        "game_date", "game_id", "player_lookup", "prediction", "actual", "line",
        *[c for c in MARKET_COLUMNS if c in frame.columns], "residual",
    ]  # fmt: skip
    assert frame["game_date"].min() == champion_fit.registry_row["eval_start"]
    assert (frame["residual"] - (frame["actual"] - frame["prediction"])).abs().max() < 1e-9
    assert frame["line"].null_count() == 0  # v9 trains on lined rows only


def test_fit_uses_the_configured_loss_and_threads(season, cut):
    features, box = season
    config = CONFIG.with_catboost(iterations=30)
    family = config.family("v12_noveg_q43")  # the family carries its CatBoost parameters
    trained = train_family(training_frame(features, box, family, CONTRACT, week_start=cut), family, CONTRACT, config,
                           week_start=cut)  # fmt: skip
    params = trained.model.get_params()
    assert params["loss_function"] == "Quantile:alpha=0.43"
    assert params["thread_count"] == CONFIG.training.thread_count and params["allow_writing_files"] is False
    assert trained.registry_row["loss"] == "Quantile" and trained.registry_row["quantile_alpha"] == 0.43
    assert trained.model.tree_count_ <= 30


def test_two_fits_give_identical_predictions_and_artifacts_round_trip(season, cut, champion_fit):
    features, box = season
    family = CONFIG.family("v9_mae")
    again = train_family(training_frame(features, box, family, CONTRACT, week_start=cut), family, CONTRACT, CONFIG,
                         week_start=cut)  # fmt: skip
    rows = held_out(features, box, cut)
    X = feature_matrix(rows, champion_fit.feature_names)
    first, second = champion_fit.model.predict(X), again.model.predict(X)
    assert np.array_equal(first, second)
    assert again.model_id == champion_fit.model_id
    assert again.eval_frame.equals(champion_fit.eval_frame)
    blob = model_bytes(champion_fit)
    assert isinstance(blob, bytes) and len(blob) > 1000
    assert np.array_equal(load_model_bytes(blob).predict(X), first)


# ---------------------------------------------------------------------------------------------
# learning the documented inefficiency on held-out later weeks (train days 1-60, score 61-90)
#
# Honest note (measured on this simulation, seeds 3 / 7 / 11): the DEFAULT simulated market is
# beatable only through back-to-back fatigue (-6%, ~1 point for a 20-point scorer); its other
# documented inefficiency, opponent defence, does not reach the features: the simulator applies
# defence to scoring VOLUME (the opponents' FGA / FTA / TOV scale with their points), so
# `opp_def_rating` (points per 100 possessions) is flat across defences (r = 0.13 with points
# allowed per game; over rate by opponent ranges 40%-56%). With ~1-point true edges, picks at
# edge >= 3 are model noise: on days 61-90 the champion scores ~50% at edge >= 3 (N ~130) and
# ~52% at edge >= 2 (N ~310) -- NOT clearly above 52.4%, so that is not asserted. What IS
# asserted on the default market: the model learned the fatigue direction (it shades back-to-back
# rows down vs rested rows) and its back-to-back UNDER calls hit above 52.4% (~57%, N ~380).
# The edge >= 3 claim is asserted on the same league with the fatigue inefficiency amplified to
# -20% (still unpriced): there the pipeline's features + training find it, ~64-71% at edge >= 3
# (N 140-290 over the three seeds).


def test_learns_back_to_back_fatigue_on_the_default_market(season, cut, champion_fit):
    features, box = season
    rows = scored(champion_fit, held_out(features, box, cut))
    shade = rows.group_by("is_back_to_back").agg((pl.col("prediction") - pl.col("line")).mean().alias("shade"))
    by_flag = dict(shade.iter_rows())
    assert by_flag[1.0] < by_flag[0.0] - 0.15, by_flag  # learned: lower vs the line on the second night
    under_calls = rows.filter((pl.col("is_back_to_back") == 1.0) & (pl.col("prediction") < pl.col("line")))
    assert under_calls.height >= 200
    assert under_calls["win"].mean() > 0.524, (under_calls.height, under_calls["win"].mean())


@pytest.fixture(scope="module")
def amplified_season(tmp_path_factory) -> tuple[pl.DataFrame, pl.DataFrame]:
    from nba_props.sim import league as sim_league

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sim_league, "BACK_TO_BACK_FACTOR", 0.80)  # unpriced by the market, as documented
        return simulated_features(tmp_path_factory.mktemp("models_sim_amplified"))


def test_learns_an_unpriced_inefficiency_at_edge_3_on_later_weeks(amplified_season):
    features, box = amplified_season
    cut = features.get_column("game_date").unique().sort()[TRAIN_DAYS]
    family = CONFIG.family("v9_mae")
    trained = train_family(training_frame(features, box, family, CONTRACT, week_start=cut), family, CONTRACT, CONFIG,
                           week_start=cut)  # fmt: skip
    rows = scored(trained, held_out(features, box, cut))
    assert rows["game_date"].min() >= cut  # every scored row is later than every training row
    picks = rows.filter(pl.col("edge") >= 3.0)
    assert picks.height >= 80, picks.height
    assert picks["win"].mean() > 0.58, (picks.height, picks["win"].mean())  # measured ~0.71 (N ~140) for seed 7


# ---------------------------------------------------------------------------------------------
# a family that starts from the line (`baseline: line`)


def _line_family(**catboost):
    family = CONFIG.family("v12_noveg_mae").model_copy(update={"id": "noveg_line_residual", "baseline": "line"})
    return family.model_copy(update={"catboost": family.catboost.model_copy(update=catboost)}) if catboost else family


def test_a_line_baseline_family_needs_a_line_and_trains_on_lined_rows(season, cut):
    features, box = season
    family = _line_family()
    assert requires_line(family, CONTRACT)  # although its feature set holds no line feature
    assert not requires_line(CONFIG.family("v12_noveg_mae"), CONTRACT)
    frame = training_frame(features, box, family, CONTRACT, week_start=cut)
    assert frame.height > 0 and frame.get_column("line").null_count() == 0


def test_with_empty_trees_a_line_baseline_family_predicts_the_line(season, cut):
    """Trees whose leaves are ~0 (learning rate 1e-6, 5 trees: each leaf moves < 1e-5 points): every prediction is the row's line,
    in training (the calibration part) and in serving (predict_rows)."""
    from nba_props.lib.models.predict import predict_rows

    features, box = season
    family = _line_family(learning_rate=1e-6, iterations=5, early_stopping_rounds=5)
    trained = train_family(training_frame(features, box, family, CONTRACT, week_start=cut), family, CONTRACT, CONFIG,
                           week_start=cut)  # fmt: skip
    assert isinstance(trained, TrainedModel)
    tail = trained.eval_frame
    np.testing.assert_allclose(tail["prediction"].to_numpy(), tail["line"].to_numpy(), atol=1e-4)
    rows = features.filter((pl.col("game_date") >= cut) & pl.col("is_quality_ready") & pl.col("line").is_not_null())
    served = predict_rows(rows, trained.model, trained.feature_names, trained.calibration, model_id="m",
                          family_id=family.id, loss=family.loss, edge_threshold=1.0, line_baseline=True)  # fmt: skip
    assert served.height == rows.height
    np.testing.assert_allclose(served["predicted_points"].to_numpy(), served["line"].to_numpy(), atol=1e-4)
    assert served["edge"].max() < 1e-4 and set(served["recommendation"]) == {"PASS"}
    with pytest.raises(ValueError, match="starts from the line"):
        predict_rows(rows.with_columns(line=pl.lit(None, dtype=pl.Float64)), trained.model, trained.feature_names,
                     trained.calibration, model_id="m", family_id=family.id, loss=family.loss, edge_threshold=1.0,
                     line_baseline=True)  # fmt: skip


def test_a_line_baseline_family_moves_away_from_the_line_where_the_features_say_so(season, cut):
    """The simulated books set the line without the back-to-back fatigue the simulator plays
    (see test_learns_back_to_back_fatigue...): a line-baseline model learns a negative residual
    on back-to-backs and keeps the rest near the line."""
    features, box = season
    family = _line_family()
    trained = train_family(training_frame(features, box, family, CONTRACT, week_start=cut), family, CONTRACT, CONFIG,
                           week_start=cut)  # fmt: skip
    assert isinstance(trained, TrainedModel)
    rows = held_out(features, box, cut)
    from nba_props.lib.models.training import predict_points

    shift = rows.with_columns(
        shift=pl.Series(predict_points(trained.model, family, rows, trained.feature_names)) - pl.col("line")
    )
    by_b2b = dict(shift.group_by("is_back_to_back").agg(pl.col("shift").mean()).iter_rows())
    assert by_b2b[1.0] < by_b2b[0.0] - 0.15, by_b2b  # as the v9 family's test; measured -0.23 vs +0.16
    assert abs(by_b2b[0.0]) < 0.5, by_b2b


# ---------------------------------------------------------------------------------------------
# the line's market type as a model input (`market_type_feature`, issue 13 item 1)


def _market_family(**update):
    return _line_family().model_copy(update={"id": "line_market", "market_type_feature": True, **update})


def test_the_market_input_is_the_last_model_feature_of_the_registry_row(season, cut):
    """The registry row's features (and hash) end with market_is_dfs, built from each row's
    market_type in training; without the option the list is the set's features."""
    features, box = season
    family = _market_family()
    names = model_features(family, CONTRACT)
    assert names == [*CONTRACT.feature_columns(family.feature_set), MARKET_INPUT]
    assert model_features(_line_family(), CONTRACT) == CONTRACT.feature_columns(family.feature_set)
    assert MARKET_INPUT not in CONTRACT.names  # derived, never a contract column
    trained = train_family(training_frame(features, box, family, CONTRACT, week_start=cut), family, CONTRACT, CONFIG,
                           week_start=cut)  # fmt: skip
    assert isinstance(trained, TrainedModel)
    row = trained.registry_row
    assert row["features"] == trained.feature_names == names
    assert row["feature_hash"] == feature_hash(names) != feature_hash(CONTRACT.feature_columns(family.feature_set))
    assert list(trained.model.feature_names_) == names
    # a family whose rows may lack a line cannot have the input (model_copy skips the YAML's validation)
    with pytest.raises(ValueError, match="trains on lined rows only"):
        model_features(CONFIG.family("v12_noveg_mae").model_copy(update={"market_type_feature": True}), CONTRACT)


def test_a_training_row_without_a_market_type_is_refused(season, cut):
    features, box = season
    family = _market_family()
    frame = training_frame(features, box, family, CONTRACT, week_start=cut)
    assert frame.get_column("market_type").null_count() == 0
    broken = frame.with_columns(
        market_type=pl.when(pl.int_range(pl.len()) == 7).then(None).otherwise(pl.col("market_type"))
    )
    with pytest.raises(ValueError, match=r"line_market reads the line's market type \(market_is_dfs\); 1 rows"):
        train_family(broken, family, CONTRACT, CONFIG, week_start=cut)


def _market_rows(n_dates: int, per_date: int, seed: int, first: date) -> pl.DataFrame:
    """Lined rows where a DFS line is 3 points low (actual = line + 3 + noise) and a sportsbook
    line is right (actual = line + noise); the line is distributed alike in both markets, every
    other feature is NULL, so only the market input can tell the two apart."""
    rng = np.random.default_rng(seed)
    n = n_dates * per_date
    line = rng.uniform(8.0, 30.0, n).round() + 0.5
    dfs = rng.random(n) < 0.5
    actual = line + np.where(dfs, 3.0, 0.0) + rng.normal(0.0, 1.5, n)
    names = CONTRACT.feature_columns(_line_family().feature_set)
    return pl.DataFrame(
        {
            "game_date": [first + timedelta(days=i // per_date) for i in range(n)],
            "game_id": [f"g{i // per_date}" for i in range(n)],
            "player_lookup": [f"p{i:05d}" for i in range(n)],
            **{name: pl.Series([None] * n, dtype=pl.Float64) for name in names},
            "line": line,
            LABEL: actual,
            "market_type": np.where(dfs, "dfs", "sportsbook"),
            "is_quality_ready": [True] * n,
        }
    ).with_columns(points_avg_season=pl.col("line"))  # the tier proxy: independent of the market


def test_with_the_market_input_the_residuals_separate_by_market_without_it_they_do_not():
    """Hand-checkable: DFS lines 3 points low, sportsbook lines right. With the input, a
    line-baseline MAE model moves DFS rows ~+3 and sportsbook rows ~0 (residuals ~0 in both
    markets); without it, it cannot tell them apart and the residuals keep the market gap. Checked
    on later rows in training (predict_points) and serving (predict_rows): the same predictions."""
    week = date(2025, 1, 6)
    frame = _market_rows(30, 60, seed=1, first=week - timedelta(days=30))
    later = _market_rows(3, 200, seed=2, first=week)
    shifts = {}
    for option in (True, False):
        family = _market_family(market_type_feature=option, min_train_rows=100)
        trained = train_family(frame, family, CONTRACT, CONFIG, week_start=week)
        assert isinstance(trained, TrainedModel)
        predicted = predict_points(trained.model, family, later, trained.feature_names)
        served = predict_rows(later, trained.model, trained.feature_names, trained.calibration, model_id="m",
                              family_id=family.id, loss=family.loss, edge_threshold=1.0, line_baseline=True)  # fmt: skip
        assert np.allclose(served.sort("player_lookup")["predicted_points"].to_numpy(), predicted)
        by_market = (
            later.with_columns(
                shift=pl.Series(predicted) - pl.col("line"), residual=pl.col(LABEL) - pl.Series(predicted)
            )
            .group_by("market_type")
            .agg(pl.col("shift").mean(), pl.col("residual").mean())
        )
        shifts[option] = {m: (round(s, 2), round(r, 2)) for m, s, r in by_market.iter_rows()}
    (dfs_on, dfs_res_on), (sb_on, sb_res_on) = shifts[True]["dfs"], shifts[True]["sportsbook"]
    (dfs_off, dfs_res_off), (sb_off, sb_res_off) = shifts[False]["dfs"], shifts[False]["sportsbook"]
    assert dfs_on - sb_on > 2.5 and abs(dfs_res_on) < 0.5 and abs(sb_res_on) < 0.5, shifts
    assert abs(dfs_off - sb_off) < 0.3 and dfs_res_off - sb_res_off > 2.5, shifts


def _as_dfs(players: set[str]):
    """Every snapshot of `players` becomes a DFS board's (prizepicks, no prices): their chosen
    line is a DFS line."""

    def edit(snapshots: pl.DataFrame, schedule: pl.DataFrame) -> pl.DataFrame:
        mine = pl.col("player_lookup").is_in(list(players))
        return snapshots.with_columns(
            bookmaker=pl.when(mine).then(pl.lit("prizepicks")).otherwise(pl.col("bookmaker")),
            over_price=pl.when(mine).then(None).otherwise(pl.col("over_price")),
            under_price=pl.when(mine).then(None).otherwise(pl.col("under_price")),
        )

    return edit


def _plus_other_market(players: set[str], chosen: pl.DataFrame, after_tip: timedelta):
    """`_as_dfs(players)`, then each chosen line of `chosen` (game_id, player_lookup, line) copied
    into the other market (a DFS player's to draftkings, first in book priority; anyone else's to
    prizepicks), captured `after_tip` after the game's tip."""

    def edit(snapshots: pl.DataFrame, schedule: pl.DataFrame) -> pl.DataFrame:
        base = _as_dfs(players)(snapshots, schedule)
        tips = schedule.select("game_id", _tip=pl.col("tip_time_utc"))
        mine = pl.col("player_lookup").is_in(list(players))
        copies = (
            base.drop("line")
            .unique(["game_id", "player_lookup"], keep="first")
            .join(chosen.select("game_id", "player_lookup", "line"), on=["game_id", "player_lookup"])
            .join(tips, on="game_id")
            .with_columns(
                bookmaker=pl.when(mine).then(pl.lit("draftkings")).otherwise(pl.lit("prizepicks")),
                captured_at=pl.col("_tip") + after_tip,
            )
        )
        return pl.concat([base, copies.select(base.columns)])

    return edit


def test_the_market_input_is_pre_game_future_box_scores_and_late_lines_do_not_change_it(sim_dir, season, cut):
    """The model input of a day's rows (features + market_is_dfs, through feature_matrix) is the
    same when the box scores of that day and later are rewritten and when every player gets a line
    of the other market after the tip; a line of the other market posted BEFORE the tip does
    change it (the comparison can fail)."""
    day = cut
    names = model_features(_market_family(), CONTRACT)
    lined = season[0].filter((pl.col("game_date") == day) & pl.col("line").is_not_null()).sort("player_lookup")
    players = set(lined.get_column("player_lookup").to_list()[::2])
    chosen = lined.select("game_id", "player_lookup", "line")
    assert len(players) > 20

    def inputs(**edits) -> tuple[pl.DataFrame, np.ndarray]:
        features, _ = features_of_simulation(sim_dir, day=day, **edits)
        rows = features.filter(pl.col("line").is_not_null()).sort("game_id", "player_lookup")
        return rows.select("game_id", "player_lookup", "market_type"), feature_matrix(rows, names)

    def future_box(box: pl.DataFrame) -> pl.DataFrame:
        late = pl.col("game_date") >= day
        return box.with_columns(
            points=pl.when(late).then(pl.col("points") + 25).otherwise(pl.col("points")),
            minutes=pl.when(late).then(pl.lit(48.0)).otherwise(pl.col("minutes")).cast(box.schema["minutes"]),
        )

    keys, honest = inputs(edit_snapshots=_as_dfs(players))
    market = honest[:, names.index(MARKET_INPUT)]
    assert set(market.tolist()) == {0.0, 1.0}  # both markets on the day
    assert (market == 1.0).sum() == keys.filter(pl.col("market_type") == "dfs").height == len(players)
    leaky_keys, leaky = inputs(
        edit_snapshots=_plus_other_market(players, chosen, timedelta(minutes=30)), edit_box=future_box
    )
    assert leaky_keys.equals(keys)
    np.testing.assert_array_equal(leaky, honest)
    # planted: the other market's line posted 30 minutes before the tip is the chosen one for the
    # DFS players (draftkings comes first), so their input flips to sportsbook
    # (the copies also change other players' lines: a newer snapshot of a book "pulls" its older
    # rows of the game, so compare the DFS players only)
    early_keys, early = inputs(edit_snapshots=_plus_other_market(players, chosen, -timedelta(minutes=30)))
    mine = pl.col("player_lookup").is_in(list(players))
    compared = (
        keys.with_columns(honest=market)
        .join(early_keys.with_columns(early=early[:, names.index(MARKET_INPUT)]), on=["game_id", "player_lookup"])
        .filter(mine)
    )
    assert compared.height == len(players)
    assert (compared["honest"] == 1.0).all() and (compared["early"] == 0.0).all()
