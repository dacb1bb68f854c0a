"""`best_bets` (group `picks`, pre-game): one row per candidate player-game of the day, selected or
not, with the filters' verdicts, rank, ultra tier and angles. The rules are
config/filters.yaml; the logic is `lib/selection.py` (its module doc explains why every history
figure comes from graded PREDICTIONS: the ledger is downstream of this asset)."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import (
    add_partitions_metadata,
    check_spec,
    daily_asset_kwargs,
    partition_figures,
    rows_check,
    rows_of_partitions,
    unique_key_spec,
)
from nba_props.lib import champion, health, selection, tables
from nba_props.lib.ingest_checks import duplicate_keys
from nba_props.lib.models.registry import load_models_config
from nba_props.partitions import DATE_FMT, INPUT_COLUMNS, date_range_of, history_input, previous_n_game_days

GROUP = "picks"
ASSET = selection.TABLE
CONFIG = selection.load_selection_config()
MODELS = load_models_config()
SEED = MODELS.champion  # the configured champion: used on a day whose previous day has no health row
FAMILIES = selection.family_table(MODELS.families)
# the graded history a day's figures read: season-to-date before the day (the longest season
# label's span) - derived, never typed twice
HISTORY_DAYS = max(health.season_span_days(), CONFIG.angles.direction_health.window_days)
ANGLE_CHECK = "angles_quote_computed_figures"


def _figures() -> dict[str, pl.Expr]:
    selected = pl.col("selected")
    figures = {
        "candidates": pl.len(),
        "selected": selected.sum(),
        "ultra": (selected & pl.col("ultra")).sum(),
        "ultra_public": pl.col("ultra_public").sum(),
        "health_gate": pl.col("health_gate_active").any().cast(pl.Int64),
        "mean_edge_selected": pl.col("edge").filter(selected).mean(),
    }
    for f in CONFIG.filters:
        if f.mode == selection.ENFORCE:
            figures[f"rejected_{f.id}"] = (pl.col("rejected_by") == f.id).sum()
        else:
            figures[f"would_block_{f.id}"] = pl.col("observed_by").list.contains(f.id).sum()
    return figures


def _history_figures(day: pl.DataFrame) -> dict[str, object]:
    """The day's graded-candidate history as of X - 1 (numbers that plot): the ultra tier's live
    record, the ultra OVER record and whether ultra OVER picks are public."""
    if day.height == 0:
        return {}
    r = day.row(0, named=True)
    out: dict[str, object] = {"ultra_over_public": int(bool(r["ultra_over_public"]))}
    for prefix in ("ultra", "ultra_over"):
        n, wins = r[f"{prefix}_n"] or 0, r[f"{prefix}_wins"] or 0
        out[f"{prefix}_live_n"] = n
        if n:
            out[f"{prefix}_live_hr"] = wins / n
    return out


@dg.asset(
    **daily_asset_kwargs(
        ASSET,
        f"Before the games, one row per candidate player-game (the recommended lined prediction with the largest "
        f"edge): the day's champion's health gate (chosen by evidence: model_performance_daily's next_champion "
        f"of the day before; {SEED} without one), {len(CONFIG.filters)} filters (enforce / observe, "
        "config/filters.yaml), rank by edge, ultra tier and up to five angles quoting only hit rates computed from "
        "graded history as of the day before.",
        GROUP,
    ),
    ins={
        "predictions": dg.AssetIn("predictions"),
        "signal_tags": dg.AssetIn("signal_tags"),
        "player_lines": dg.AssetIn("player_lines"),
        # the few columns it reads of the wide feature table
        "player_features": dg.AssetIn(
            "player_features", metadata={INPUT_COLUMNS: ["game_date", *selection.FEATURE_COLUMNS.names()]}
        ),
        # the day before only: health and signal health a day uses are as of X - 1
        "performance": history_input("model_performance_daily", previous_n_game_days(1)),
        "signal_health": history_input("signal_health_daily", previous_n_game_days(1)),
        # graded predictions of the days BEFORE the partition (the ledger is downstream: see lib/selection)
        "accuracy": history_input("prediction_accuracy", previous_n_game_days(HISTORY_DAYS)),
    },
    check_specs=[
        unique_key_spec(ASSET),
        check_spec(ASSET, "ranks_contiguous", "each day's selected picks are ranked exactly 1..n"),
        check_spec(ASSET, "gate_closed_no_picks", "zero selected picks on a day the health gate is active"),
        check_spec(ASSET, "edge_floor_selected", "every selected pick's edge >= the edge floor (when it enforces)"),
        check_spec(ASSET, ANGLE_CHECK, "every number an angle quotes is a figure computed from graded history"),
    ],
)
def best_bets(
    context: dg.AssetExecutionContext,
    predictions: pl.DataFrame,
    signal_tags: pl.DataFrame,
    player_lines: pl.DataFrame,
    player_features: pl.DataFrame,
    performance: pl.DataFrame,
    signal_health: pl.DataFrame,
    accuracy: pl.DataFrame,
) -> Iterator:
    start, end = date_range_of(context.partition_time_window)
    champions = champion.champions_for_days(performance, selection.days_between(start, end), SEED)
    rows, counts, angle_figures, history = selection.best_bets(
        predictions, signal_tags, player_lines, player_features, performance, signal_health, accuracy,
        start=start, end=end, champion=champions, families=FAMILIES, config=CONFIG,
        combos=selection.anti_pattern_combos(),
    )  # fmt: skip
    recorded = partition_figures(rows, context.partition_keys, figures=_figures())
    rows_of, counts_of = rows_of_partitions(rows, recorded), rows_of_partitions(counts, recorded)
    history_of = rows_of_partitions(history, recorded)
    champion_of = {d.strftime(DATE_FMT): c for d, c in champions.iter_rows()}
    for key, values in recorded.items():
        day, day_counts = rows_of[key], counts_of[key]
        values["champion"] = champion_of[key]
        reason = day.get_column("health_gate_reason").drop_nulls()
        values["health_gate_reason"] = reason[0] if reason.len() else ""
        values |= _history_figures(history_of[key])
        values["filter_summary"] = dg.MetadataValue.md(selection.filter_summary_markdown(day_counts))
        values["picks"] = dg.MetadataValue.md(selection.picks_markdown(day))
    add_partitions_metadata(context, recorded, asset_key=ASSET)
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "run_selected": int(rows.get_column("selected").sum()),
            "run_history_rows": accuracy.height,
            "history_days": HISTORY_DAYS,
            "seed_champion": SEED,
            "champions": dg.MetadataValue.json(sorted(set(champions.get_column("champion").to_list()))),
            "filters_config_version": CONFIG.version,
            "filter_modes": dg.MetadataValue.json({f.id: f.mode for f in CONFIG.filters}),
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, tables.TABLE_KEYS[ASSET]))
    yield rows_check("ranks_contiguous", selection.invalid_ranks(rows))
    yield rows_check("gate_closed_no_picks", selection.gate_violations(rows))
    yield rows_check("edge_floor_selected", selection.below_floor(rows, CONFIG), edge_floor=CONFIG.edge_floor)
    yield rows_check(ANGLE_CHECK, selection.unexplained_angle_numbers(angle_figures), angles=angle_figures.height)
