"""What the publish assets read, declared once: the season-to-date windows of the ledger, its
grading and best_bets (a published pick never disappears: history comes from the ledger), the
health and registry history, and the few shared derivations (the run's days, the algorithm
version). `INPUTS` are the publish step's inputs (each loaded once per run); `Published` says
which of them each asset reads (its lineage) and how it builds its files."""

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date

import dagster as dg
import polars as pl

from nba_props.io.artifacts import ArtifactStore
from nba_props.lib import health, publish, selection
from nba_props.lib.exports import common
from nba_props.lib.models.registry import load_models_config
from nba_props.partitions import history_input, last_n_game_days
from nba_props.resources import ClockResource

# season to date: the longest a season label spans (lib/health.season_span_days)
SEASON = last_n_game_days(health.season_span_days())
# what the content guard's excuses read of best_bets besides the picks frame's columns
GATE_COLUMNS = ("health_gate_active", "health_gate_reason")
# what the public files read of best_bets (the admin files read every column)
PUBLIC_BEST_BETS_COLUMNS = (*common.BEST_BETS_COLUMNS, *GATE_COLUMNS)

INPUTS: dict[str, dg.AssetIn] = {
    # withdrawn_reason: the content guard's excuse when the ledger withdrew picks (lib/publish.excuses_of)
    "ledger": history_input("published_picks", SEASON, columns=(*common.LEDGER_COLUMNS, "withdrawn_reason")),
    "graded": history_input("pick_accuracy", SEASON, columns=("game_date", *common.GRADED_COLUMNS)),
    "best_bets": history_input("best_bets", SEASON),
    "schedule": dg.AssetIn("schedule", metadata={"columns": ["game_date", "status"]}),
    # the newest health row per family / signal as of the day, the newest trained model
    "performance": history_input("model_performance_daily", SEASON),
    "signal_health": history_input("signal_health_daily", SEASON),
    "registry": history_input("trained_models", SEASON),
    "predictions": dg.AssetIn("predictions"),
    # unpartitioned: the alert sink's table, open as of the clock's now
    "alerts": dg.AssetIn("alerts"),
}
PICKS_INPUTS = ("ledger", "graded", "best_bets", "schedule")
HEALTH_INPUTS = ("performance", "signal_health")


@dataclass(frozen=True)
class Published:
    """One publish asset: its description, the inputs it reads (names of `INPUTS`) and its build,
    called with the step's context, the artifact store, the clock and those inputs by name."""

    name: str
    description: str
    inputs: tuple[str, ...]
    build: Callable[..., Iterator]

    def upstream(self) -> set[dg.AssetKey]:
        return {INPUTS[name].key for name in self.inputs}

    def run(self, context, store: ArtifactStore, clock: ClockResource, loaded: Mapping[str, pl.DataFrame]) -> Iterator:
        """The build's events; its output carries `build_seconds` (from the start of the build to
        its output: models, files, table rows), the asset's own share of the shared step."""
        started = time.perf_counter()
        for event in self.build(context, store, clock, **{name: loaded[name] for name in self.inputs}):
            if isinstance(event, dg.Output):
                seconds = round(time.perf_counter() - started, 3)
                event = dg.Output(event.value, event.output_name, {**event.metadata, "build_seconds": seconds})
            yield event


def run_days(start: date, end: date) -> list[date]:
    return pl.date_range(start, end, "1d", eager=True).to_list()


def algorithm_version() -> str:
    config = publish.load_publish_config()
    return publish.algorithm_version(
        config, {"models": load_models_config().version, "filters": selection.load_selection_config().version}
    )
