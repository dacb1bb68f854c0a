"""The admin files and the model-health banner: `signal-best-bets/{date}.json` + `latest.json`
(the full pick payload with model / signal health, blacklist, direction health, filter summary,
edge distribution, health gate), `admin/dashboard.json`, `admin/picks/{date}.json` (every candidate
of every model, selected or with the filter that rejected it) and `systems/model-health.json`
(public). Built by `lib/exports/admin_files.py`; written by `writer.publish_files` in the publish
step (`step.py`)."""

from collections.abc import Iterator
from datetime import date

import polars as pl

from nba_props.dagster_helpers import rows_of_partitions
from nba_props.defs.publish import writer
from nba_props.defs.publish.inputs import HEALTH_INPUTS, PICKS_INPUTS, Published, algorithm_version, run_days
from nba_props.io.artifacts import ArtifactStore
from nba_props.lib import publish, selection
from nba_props.lib.exports import admin_files, common
from nba_props.lib.models.registry import load_models_config
from nba_props.partitions import DATE_FMT, date_range_of
from nba_props.resources import ClockResource

SIGNAL_BEST_BETS, DASHBOARD, PICKS, MODEL_HEALTH = (
    "signal_best_bets_json", "admin_dashboard_json", "admin_picks_json", "model_health_json",
)  # fmt: skip
# loaded once and handed to every builder (their defaults would re-load them per call)
CONFIGS = {"models": load_models_config(), "selection": selection.load_selection_config()}


class _Run:
    """What every admin asset derives the same way for its run: the days, the picks' history, the
    clock's now, the version, each day's best_bets / predictions rows (split once)."""

    def __init__(self, context, clock: ClockResource, ledger, graded, best_bets, predictions=None) -> None:
        self.days = run_days(*date_range_of(context.partition_time_window))
        keys = [d.strftime(DATE_FMT) for d in self.days]
        # the graded published picks as rows, once: every day's records read them
        self.history = admin_files.PickHistory(common.picks_frame(ledger, graded, best_bets))
        self.candidates = rows_of_partitions(best_bets, keys)
        self.predictions = rows_of_partitions(predictions, keys) if predictions is not None else {}
        self.generated_at, self.version = clock.now(), algorithm_version()
        # each day's picks, candidate counts, per-model summary: one group_by for the run
        self.figures = admin_files.day_figures(best_bets, predictions, self.days, CONFIGS["selection"])

    def as_of(self, frame: pl.DataFrame, key: str, date_col: str = "game_date") -> admin_files.AsOf:
        """Each day's newest row per key as of the day and the day before (the health gate and the
        champion of a day read the rows before it), for the whole run in one pass."""
        return admin_files.AsOf(frame, key, self.days, date_col)

    def of(self, day: date) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        key = day.strftime(DATE_FMT)
        return self.candidates[key], self.predictions.get(key)

    def stamp(self, day: date) -> dict:
        return {"generated_at": self.generated_at, "algorithm_version": self.version, **CONFIGS,
                "figures": self.figures[day]}  # fmt: skip


def _pick_figures(model) -> dict[str, object]:
    return {"picks": len(model.picks)}


def _signal_best_bets(
    context,
    store: ArtifactStore,
    clock: ClockResource,
    ledger: pl.DataFrame,
    graded: pl.DataFrame,
    best_bets: pl.DataFrame,
    schedule: pl.DataFrame,
    performance: pl.DataFrame,
    signal_health: pl.DataFrame,
) -> Iterator:
    run = _Run(context, clock, ledger, graded, best_bets)
    perf, signal = run.as_of(performance, "family"), run.as_of(signal_health, "name")
    models = {
        day: admin_files.build_signal_best_bets(run.of(day)[0], run.history, perf, signal, day, **run.stamp(day))
        for day in run.days
    }
    excuses = publish.excuses_of(schedule, run.days, best_bets=best_bets, ledger=ledger)
    yield from writer.publish_files(context, SIGNAL_BEST_BETS, store, models, excuses)


def _dashboard(
    context,
    store: ArtifactStore,
    clock: ClockResource,
    ledger: pl.DataFrame,
    graded: pl.DataFrame,
    best_bets: pl.DataFrame,
    schedule: pl.DataFrame,
    performance: pl.DataFrame,
    signal_health: pl.DataFrame,
    registry: pl.DataFrame,
    predictions: pl.DataFrame,
    alerts: pl.DataFrame,
) -> Iterator:
    run = _Run(context, clock, ledger, graded, best_bets, predictions)
    perf, signal = run.as_of(performance, "family"), run.as_of(signal_health, "name")
    trained = run.as_of(registry, "family", "week_start")
    models = {
        day: admin_files.build_dashboard(
            *run.of(day), run.history, perf, signal, trained, alerts, day, **run.stamp(day)
        )
        for day in run.days
    }
    excuses = publish.excuses_of(schedule, run.days, best_bets=best_bets, ledger=ledger)
    yield from writer.publish_files(context, DASHBOARD, store, models, excuses, figures=_dashboard_figures)


def _dashboard_figures(model: admin_files.AdminDashboard) -> dict[str, object]:
    summary = model.pipeline_summary
    return {"total_candidates": summary.total_candidates, "edge_5_plus": summary.edge_5_plus,
            "bottleneck": summary.bottleneck or "none", "open_alerts": len(model.open_alerts)}  # fmt: skip


def _picks(
    context,
    store: ArtifactStore,
    clock: ClockResource,
    ledger: pl.DataFrame,
    graded: pl.DataFrame,
    best_bets: pl.DataFrame,
    schedule: pl.DataFrame,
    predictions: pl.DataFrame,
) -> Iterator:
    run = _Run(context, clock, ledger, graded, best_bets, predictions)
    # every candidate row of the run in one pass, then split per day
    rows = admin_files.admin_candidates(predictions, best_bets, keep_date=True)
    rows_of = {k[0]: part for k, part in rows.partition_by("game_date", as_dict=True, include_key=False).items()}
    no_rows = rows.clear().drop("game_date")
    heads = {
        day: admin_files.admin_picks_head(
            *run.of(day), run.history, day, **run.stamp(day), candidate_rows=rows_of.get(day, no_rows)
        )  # fmt: skip
        for day in run.days
    }
    excuses = publish.excuses_of(schedule, run.days, best_bets=best_bets, ledger=ledger)
    yield from writer.publish_files(context, PICKS, store, {d: h[0] for d, h in heads.items()}, excuses,
                                    markdown=admin_files.admin_picks_markdown, figures=_pick_figures,
                                    frames={d: {"candidates": h[1]} for d, h in heads.items()})  # fmt: skip


def _model_health(
    context,
    store: ArtifactStore,
    clock: ClockResource,
    performance: pl.DataFrame,
    registry: pl.DataFrame,
    schedule: pl.DataFrame,
) -> Iterator:
    days = run_days(*date_range_of(context.partition_time_window))
    now = clock.now()
    perf = admin_files.AsOf(performance, "family", days)
    trained = admin_files.AsOf(registry, "family", days, "week_start")
    models = {
        day: admin_files.build_model_health(perf, trained, day, generated_at=now, models=CONFIGS["models"])
        for day in days
    }
    no_games = publish.excuses_of(schedule, days)
    yield from writer.publish_files(context, MODEL_HEALTH, store, models, no_games)


ADMIN = (
    Published(
        SIGNAL_BEST_BETS,
        "The day's full pick payload: picks with every field, the champion health gate, model health and signal "
        "health as of the day, the blacklist, direction health, filter summary, edge distribution and the signals "
        "evaluated.",
        (*PICKS_INPUTS, *HEALTH_INPUTS),
        _signal_best_bets,
    ),
    Published(
        DASHBOARD,
        "The admin dashboard: the best-bets model and champion state, every family's health with its registry "
        "row, signal health, today's picks with full metadata, the pipeline summary and its bottleneck, the "
        "ultra gate's progress, candidate summaries per model, the filter summary and the open alerts.",
        (*PICKS_INPUTS, *HEALTH_INPUTS, "registry", "predictions", "alerts"),
        _dashboard,
    ),
    Published(
        PICKS,
        "The day for an admin: every candidate of every model with line, edge, quality, selected or the filter "
        "that rejected it; the picks with full metadata; the live ultra records. The materialization shows the "
        "day as markdown (picks, rejected candidates by filter, the bottleneck).",
        (*PICKS_INPUTS, "predictions"),
        _picks,
    ),
    Published(
        MODEL_HEALTH,
        "The public model-health banner: per model its state with a sentence, 7 / 14-day hit rates, picks in 7 "
        "days, days since training and a banner flag (BLOCKED / DEGRADING).",
        ("performance", "registry", "schedule"),
        _model_health,
    ),
)
