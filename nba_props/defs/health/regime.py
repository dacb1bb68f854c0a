"""Health assets of the market: `market_regime` (after the games, from the graded
`prediction_accuracy` history) and `pre_game_signal` (before them, from the day's predictions and
schedule). The rules live in config/regime.yaml; the logic in `lib/regime.py`. The champion both
report on is the day's champion chosen by evidence (lib/champion.py `champions_for_days`:
model_performance_daily's `next_champion` of the day before, the configured champion without one),
as best_bets uses it."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import (
    add_partitions_metadata,
    check_spec,
    counts_of,
    daily_asset_kwargs,
    partition_figures,
    rows_check,
    unique_key_spec,
)
from nba_props.lib import regime, selection, tables
from nba_props.lib.champion import champions_for_days
from nba_props.lib.ingest_checks import duplicate_keys
from nba_props.lib.models.registry import load_models_config
from nba_props.partitions import DATE_FMT, date_range_of, history_input, last_n_game_days, previous_n_game_days

GROUP = "health"
CONFIG = regime.load_regime_config()
MARKET = CONFIG.market_regime
SIGNAL = CONFIG.pre_game_signal
SEED = load_models_config().champion  # the configured champion: used on a day whose previous day has no health row
# what the day's champion is read from: model_performance_daily of the day before, these columns only
CHAMPION_INPUT = history_input(
    "model_performance_daily", previous_n_game_days(1), columns=("game_date", "next_champion")
)
COLOUR_VALUES = {regime.GREEN: 2, regime.YELLOW: 1, regime.RED: 0}  # a plottable number per colour


def _first(column: str) -> pl.Expr:
    """The champion's row of the partition (is_champion: the day's champion by evidence)."""
    return pl.col(column).filter(pl.col("is_champion")).first()


def _colour_number(column: str) -> pl.Expr:
    return _first(column).replace_strict(COLOUR_VALUES, default=None, return_dtype=pl.Int64)


def _champions(performance: pl.DataFrame, start, end) -> tuple[pl.DataFrame, dict[str, str]]:
    """(game_date, champion) of each day of the run (the one helper best_bets uses), and the same
    as {partition key: champion} for the partitions' metadata."""
    champions = champions_for_days(performance, selection.days_between(start, end), SEED)
    return champions, {d.strftime(DATE_FMT): c for d, c in champions.iter_rows()}


@dg.asset(
    **daily_asset_kwargs(
        "market_regime",
        "The market's edge supply after the games, per model family, is_champion marking the day's champion "
        f"(chosen by evidence: model_performance_daily's next_champion of the day before; {SEED} without one): "
        "the day's max edge and "
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
        # the day before only: the day's champion is its next_champion (as best_bets reads it)
        "performance": CHAMPION_INPUT,
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
def market_regime(
    context: dg.AssetExecutionContext, accuracy: pl.DataFrame, picks: pl.DataFrame, performance: pl.DataFrame
) -> Iterator:
    start, end = date_range_of(context.partition_time_window)
    champions, champion_of = _champions(performance, start, end)
    rows = regime.market_regime(accuracy, champions, start, end, MARKET, picks=picks)
    # per partition the day's champion and its row's figures (is_champion; none when it has no row);
    # dagster/row_count counts every family's row
    recorded = partition_figures(
        rows,
        context.partition_keys,
        figures={
            "picks": pl.col("picks").filter(pl.col("is_champion")).sum(),  # 0 without a champion row
            "max_edge": _first("max_edge"),
            "picks_edge_high": pl.col("picks_edge_high").filter(pl.col("is_champion")).sum(),
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
    add_partitions_metadata(context, {k: {"champion": champion_of[k], **v} for k, v in recorded.items()})
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "run_pick_rows": picks.height,
            "seed_champion": SEED,
            "champions": dg.MetadataValue.json(sorted(set(champion_of.values()))),
            "run_regime_colours": dg.MetadataValue.json(counts_of(rows.filter(pl.col("is_champion")), "regime_colour")),
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
        "with a one-line explanation. The rows read only the day's predictions and schedule; the champion_* figures "
        "are the day's champion's (chosen by evidence: model_performance_daily's next_champion of the day before; "
        f"{SEED} without one).",
        GROUP,
    ),
    ins={
        "predictions": dg.AssetIn("predictions"),
        "schedule": dg.AssetIn("schedule"),
        # the day before only: the day's champion (the champion_* figures), as market_regime reads it
        "performance": CHAMPION_INPUT,
    },
    check_specs=[unique_key_spec("pre_game_signal")],
)
def pre_game_signal(
    context: dg.AssetExecutionContext, predictions: pl.DataFrame, schedule: pl.DataFrame, performance: pl.DataFrame
) -> Iterator:
    start, end = date_range_of(context.partition_time_window)
    rows = regime.pre_game_signal(predictions, schedule, SIGNAL)
    champions, champion_of = _champions(performance, start, end)
    # the day's champion on each row (a metadata aid only: the table's rows are the models')
    champion = pl.col("family") == pl.col("_champion")
    marked = rows.join(champions.rename({"champion": "_champion"}), on="game_date", how="left")
    recorded = partition_figures(
        marked,
        context.partition_keys,
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
    add_partitions_metadata(context, {k: {"champion": champion_of[k], **v} for k, v in recorded.items()})
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "seed_champion": SEED,
            "run_signals": dg.MetadataValue.json(counts_of(rows, "signal")),
            "signal_config": dg.MetadataValue.json(SIGNAL.model_dump(mode="json")),
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, tables.TABLE_KEYS["pre_game_signal"]))
