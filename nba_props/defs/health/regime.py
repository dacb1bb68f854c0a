"""Health assets of the market: `market_regime` (after the games, from the graded
`prediction_accuracy` history) and `pre_game_signal` (before them, from the day's predictions and
schedule only). The rules live in config/regime.yaml; the logic in `lib/regime.py`."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import (
    check_spec,
    counts_of,
    daily_asset_kwargs,
    record_partition_metadata,
    rows_check,
    unique_key_spec,
)
from nba_props.lib import regime, tables
from nba_props.lib.ingest_checks import duplicate_keys
from nba_props.lib.models.registry import load_models_config
from nba_props.partitions import date_range_of, history_input, last_n_game_days

GROUP = "health"
CONFIG = regime.load_regime_config()
MARKET = CONFIG.market_regime
SIGNAL = CONFIG.pre_game_signal
CHAMPION = load_models_config().champion
COLOUR_VALUES = {regime.GREEN: 2, regime.YELLOW: 1, regime.RED: 0}  # a plottable number per colour


def _first(column: str) -> pl.Expr:
    return pl.col(column).first()


def _colour_number(column: str) -> pl.Expr:
    return pl.col(column).replace_strict(COLOUR_VALUES, default=None, return_dtype=pl.Int64).first()


@dg.asset(
    **daily_asset_kwargs(
        "market_regime",
        f"The market's edge supply for the champion ({CHAMPION}) after the games: the day's max edge and "
        f"edge {MARKET.edge_floors.low:g}+ / {MARKET.edge_floors.high:g}+ picks, compression "
        f"({MARKET.windows.short} vs {MARKET.windows.long} days), edge-{MARKET.edge_floors.high:g}+ supply per "
        "day, residual bias, the line's MAE and the model's gap, each GREEN / YELLOW / RED; and the best bets' "
        f"{MARKET.best_bets.windows.hit_rate}-day hit rate and OVER / UNDER {MARKET.best_bets.windows.direction}-day "
        "divergence from the ledger's graded picks, with their own colours.",
        GROUP,
    ),
    ins={
        # the graded history: the longest window, ending on the partition's own day (after its games)
        "accuracy": history_input("prediction_accuracy", last_n_game_days(MARKET.history_days)),
        # the ledger's graded picks: the longer best-bet window, ending on the partition's day
        "picks": history_input("pick_accuracy", last_n_game_days(MARKET.best_bets.history_days)),
    },
    # After the games: the automation requests it when its grading lands (automation.yaml
    # post_game_assets), not at midnight when nothing of the new day is graded.
    check_specs=[
        unique_key_spec("market_regime"),
        check_spec(
            "market_regime",
            "valid_colours",
            "every colour is GREEN / YELLOW / RED / NO_DATA and every line state TIGHT / NORMAL / LOOSE / NO_DATA",
        ),
    ],
)
def market_regime(context: dg.AssetExecutionContext, accuracy: pl.DataFrame, picks: pl.DataFrame) -> Iterator:
    start, end = date_range_of(context.partition_time_window)
    rows = regime.market_regime(accuracy, CHAMPION, start, end, MARKET, picks=picks)
    record_partition_metadata(
        context,
        rows,
        figures={
            "picks": pl.col("picks").sum(),
            "max_edge": _first("max_edge"),
            "picks_edge_high": pl.col("picks_edge_high").sum(),
            "compression": _first("compression"),
            "avg_max_edge_short": _first("avg_max_edge_short"),
            "edge_high_per_day_short": _first("edge_high_per_day_short"),
            "residual_bias_short": _first("residual_bias_short"),
            "line_mae_short": _first("line_mae_short"),
            "mae_gap_short": _first("mae_gap_short"),
            "line_mae_medium": _first("line_mae_medium"),
            # colours as text (the partition's table) and as a number (GREEN 2, YELLOW 1, RED 0: the plot)
            "regime_colour": _first("regime_colour"),
            "compression_colour": _first("compression_colour"),
            "max_edge_colour": _first("max_edge_colour"),
            "edge_high_colour": _first("edge_high_colour"),
            "line_state_short": _first("line_state_short"),
            "regime_level": _colour_number("regime_colour"),
            "compression_level": _colour_number("compression_colour"),
            "best_bets_hr": _first("best_bets_hr"),
            "best_bets_n": _first("best_bets_n"),
            "best_bets_over_hr": _first("best_bets_over_hr"),
            "best_bets_under_hr": _first("best_bets_under_hr"),
            "best_bets_divergence": _first("best_bets_divergence"),
            "best_bets_hr_colour": _first("best_bets_hr_colour"),
            "best_bets_divergence_colour": _first("best_bets_divergence_colour"),
            "best_bets_hr_level": _colour_number("best_bets_hr_colour"),
        },
    )
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "run_pick_rows": picks.height,
            "family": CHAMPION,
            "run_regime_colours": dg.MetadataValue.json(counts_of(rows, "regime_colour")),
            "regime_config": dg.MetadataValue.json(MARKET.model_dump(mode="json")),
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, tables.TABLE_KEYS["market_regime"]))
    colours = ("compression_colour", "max_edge_colour", "edge_high_colour", "regime_colour", "best_bets_hr_colour",
               "best_bets_divergence_colour")  # fmt: skip
    states = ("line_state_short", "line_state_medium")
    yield rows_check(
        "valid_colours",
        rows.filter(
            pl.any_horizontal(~pl.col(c).is_in(regime.COLOURS).fill_null(False) for c in colours)
            | pl.any_horizontal(
                ~pl.col(c).is_in((regime.TIGHT, regime.NORMAL, regime.LOOSE, regime.NO_DATA)).fill_null(False)
                for c in states
            )
        ),
    )


@dg.asset(
    **daily_asset_kwargs(
        "pre_game_signal",
        f"Before the games, per model with >= {SIGNAL.min_lined_predictions} lined predictions: high-edge "
        f"(>= {SIGNAL.high_edge:g}) count, % OVER / UNDER, skew, volume and the day's signal RED / YELLOW / GREEN "
        "with a one-line explanation. Reads only the day's predictions and schedule.",
        GROUP,
    ),
    ins={"predictions": dg.AssetIn("predictions"), "schedule": dg.AssetIn("schedule")},
    check_specs=[unique_key_spec("pre_game_signal")],
)
def pre_game_signal(context: dg.AssetExecutionContext, predictions: pl.DataFrame, schedule: pl.DataFrame) -> Iterator:
    rows = regime.pre_game_signal(predictions, schedule, SIGNAL)
    champion = pl.col("family") == CHAMPION
    record_partition_metadata(
        context,
        rows,
        figures={
            "models": pl.len(),
            "slate_games": pl.col("slate_games").max(),
            "red_models": (pl.col("signal") == regime.RED).sum(),
            "champion_signal": pl.col("signal").filter(champion).first(),
            "champion_explanation": pl.col("explanation").filter(champion).first(),
            "champion_pct_over": pl.col("pct_over").filter(champion).first(),
            "champion_high_edge": pl.col("high_edge").filter(champion).first(),
            "champion_signal_level": pl.col("signal")
            .filter(champion)
            .replace_strict(COLOUR_VALUES, default=None, return_dtype=pl.Int64)
            .first(),
        },
    )
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "run_signals": dg.MetadataValue.json(counts_of(rows, "signal")),
            "signal_config": dg.MetadataValue.json(SIGNAL.model_dump(mode="json")),
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, tables.TABLE_KEYS["pre_game_signal"]))
