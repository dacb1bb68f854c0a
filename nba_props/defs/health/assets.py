"""Model health: daily `model_performance_daily` (one row per model family) from the graded
predictions (`prediction_accuracy`) and the training registry, with the champion's business
alert `champion_health`. The rules are lib/health.py + config/health.yaml; the history read is
derived from them (`HealthConfig.history_days`, `staleness.lookback_days`)."""

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
from nba_props.lib import champion, health, tables
from nba_props.lib.ingest_checks import duplicate_keys
from nba_props.lib.models.registry import load_models_config
from nba_props.partitions import DATE_FMT, date_range_of, history_input, last_n_game_days
from nba_props.resources import SettingsResource

GROUP = "health"
ASSET = health.TABLE
CHAMPION_CHECK = "champion_health"
WARN = dg.AssetCheckSeverity.WARN
CONFIG = health.load_health_config()
MODELS_CONFIG = load_models_config()
SEED = MODELS_CONFIG.champion  # the configured champion: each season label's champion scan starts from it
FAMILIES = tuple(f.id for f in MODELS_CONFIG.enabled_families)
STATE = CONFIG.state_label


def _figures() -> dict[str, pl.Expr]:
    """Per partition, numbers (and the state as text) that plot in the UI: the champion's, then
    each family's state-window HR / N and state."""

    def of(family: str, column: str) -> pl.Expr:
        return pl.col(column).filter(pl.col("family") == family).first()

    def champ(column: str) -> pl.Expr:  # the day's champion, chosen by evidence (is_champion)
        return pl.col(column).filter(pl.col("is_champion")).first()

    figures = {
        "champion": champ("family"),
        f"champion_hr_{STATE}": champ(f"hr_{STATE}"),
        f"champion_n_{STATE}": champ(f"n_{STATE}"),
        "champion_hr_season": champ(f"hr_{health.SEASON_WINDOW}"),
        "champion_mae": champ("mae_day"),
        "champion_roi": champ("roi_day"),
        "champion_state": champ("state"),
        # the state as a number (BLOCKED 0 .. HEALTHY 3) so the Plots tab draws it over the season
        "champion_state_rank": health.state_rank_expr(champ("state")),
        "champion_days_since_training": champ("days_since_training"),
        # the choice for the next day (config/health.yaml champion_selection): 1 on a switch
        "next_champion": pl.col("next_champion").first(),
        "champion_switch": (pl.col("champion_transition").first() == champion.SWITCH).cast(pl.Int64),
        "families_below_watch": pl.col("state").is_in(health.BELOW_WATCH).sum(),
        "challengers": pl.col("challenger").sum(),
        "market_crash": pl.col("market_crash").any().cast(pl.Int64),
    }
    for family in FAMILIES:
        figures |= {
            f"hr_{STATE}_{family}": of(family, f"hr_{STATE}"),
            f"n_{STATE}_{family}": of(family, f"n_{STATE}"),
            f"mae_{family}": of(family, "mae_day"),
            f"state_{family}": of(family, "state"),
        }
    return figures


@dg.asset(
    **daily_asset_kwargs(
        ASSET,
        "Per model family and day: rolling "
        + "/".join(str(w) for w in CONFIG.windows)
        + f"-day and season-to-date W/L/N/HR (Wilson CI) of graded recommended picks at edge >= "
        f"{CONFIG.edge_floor:g}, the day's ROI at real prices, MAE / bias / Brier, state, transition, "
        "days since training, decay signals (challenger, cross-model crash) and the champion by evidence "
        "(is_champion; next_champion, champion_transition SWITCH / KEEP with its reason).",
        GROUP,
    ),
    ins={
        # every window ends on the partition date: the day and the days before it, as far back
        # as the rules need (derived: HealthConfig.history_days)
        # (derived: HealthConfig.input_days, which also covers the champion scan from the first
        # day of the season label)
        "accuracy": history_input("prediction_accuracy", last_n_game_days(CONFIG.input_days)),
        # the weeks whose models may still be the newest within the staleness lookback, from the
        # season label's first day (the champion scan's "serving a model")
        "registry": dg.AssetIn("trained_models", partition_mapping=last_n_game_days(CONFIG.registry_days)),
    },
    check_specs=[
        unique_key_spec(ASSET),
        check_spec(ASSET, "counts_consistent", "n = wins + losses, hit rates in [0, 1], windows nested, known states"),
        check_spec(
            ASSET,
            CHAMPION_CHECK,
            "the day's champion (chosen by evidence, seeded by " + SEED + ") is not BLOCKED or DEGRADING on the "
            "run's last day (a business alert, kind model_health)",
        ),
    ],
)
def model_performance_daily(
    context: dg.AssetExecutionContext,
    accuracy: pl.DataFrame,
    registry: pl.DataFrame,
    settings: SettingsResource,
) -> Iterator:
    start, end = date_range_of(context.partition_time_window)
    # computed from opening night on: the season timeline of the run's last day reads those
    # rows (the history input already holds them); only start .. end is stored
    choices: list[pl.DataFrame] = []
    season = health.model_performance(
        accuracy, registry, start=min(start, health.season_start(end)), end=end, champion=SEED, families=FAMILIES,
        config=CONFIG, choices=choices,
    )  # fmt: skip
    rows = season.filter(pl.col("game_date") >= start)
    recorded = partition_figures(rows, context.partition_keys, figures=_figures())
    rows_of = rows_of_partitions(rows, recorded)
    for key, values in recorded.items():
        day_rows = rows_of[key]
        values["model_states"] = dg.MetadataValue.md(health.states_markdown(day_rows, CONFIG))
        if day_rows.height:
            values["champion_decision"] = day_rows.get_column("champion_reason")[0] or ""
        if key == end.strftime(DATE_FMT):
            values["champion_season_timeline"] = dg.MetadataValue.md(health.timeline_markdown(season, None, CONFIG))
    add_partitions_metadata(context, recorded, asset_key=ASSET)
    alert_days = rows.filter(pl.col("is_champion") & pl.col("state").is_in(health.ALERT_STATES))
    # the switches decided in the run's days (effective the next day): the registry of champion transitions
    switches = choices[0].filter(
        (pl.col("transition") == champion.SWITCH) & pl.col("evidence_date").is_between(start, end)
    )
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "run_accuracy_rows": accuracy.height,
            "history_days": CONFIG.history_days,
            "input_days": CONFIG.input_days,
            "seed_champion": SEED,
            "champion_selection": dg.MetadataValue.json(CONFIG.champion_selection.model_dump(mode="json")),
            "run_champion_switches": switches.height,
            "champion_switches": dg.MetadataValue.md(champion.switches_markdown(switches)),
            "run_champion_alert_days": alert_days.height,
            "settings": settings.metadata(),
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, tables.TABLE_KEYS[ASSET]))
    yield rows_check("counts_consistent", health.valid_rows(rows, CONFIG))
    passed, message = health.champion_alert(rows, end)
    end_champion = rows.filter((pl.col("game_date") == end) & pl.col("is_champion")).get_column("family")
    yield dg.AssetCheckResult(
        check_name=CHAMPION_CHECK,
        passed=passed,
        severity=WARN,
        description=message,
        metadata={
            "champion": end_champion[0] if end_champion.len() else SEED,
            "day": end.strftime(DATE_FMT),
            "alert_states": dg.MetadataValue.json(list(health.ALERT_STATES)),
            "run_alert_days": dg.MetadataValue.json(
                [d.strftime(DATE_FMT) for d in alert_days.get_column("game_date").to_list()]
            ),
        },
    )
