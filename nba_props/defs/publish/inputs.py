"""What the publish assets read, declared once: the season-to-date windows of the ledger, its
grading and best_bets (a published pick never disappears: history comes from the ledger), and
the few shared derivations (the picks frame, the upstream's excuses, the algorithm version)."""

from datetime import date

import dagster as dg
import polars as pl

from nba_props.lib import health, publish, selection
from nba_props.lib.exports import common
from nba_props.lib.models.registry import load_models_config
from nba_props.partitions import history_input, last_n_game_days

# season to date: the longest a season label spans (lib/health.season_span_days)
SEASON = last_n_game_days(health.season_span_days())
# what the content guard's excuses read of best_bets besides the picks frame's columns
GATE_COLUMNS = ("health_gate_active", "health_gate_reason")


def picks_inputs(best_bets_columns: tuple[str, ...] | None = (*common.BEST_BETS_COLUMNS, *GATE_COLUMNS)) -> dict:
    """The ledger, its grading and best_bets over the season to date; the day's schedule."""
    return {
        # withdrawn_reason: the content guard's excuse when the ledger withdrew picks (lib/publish.excuses_of)
        "ledger": history_input("published_picks", SEASON, columns=(*common.LEDGER_COLUMNS, "withdrawn_reason")),
        "graded": history_input("pick_accuracy", SEASON, columns=("game_date", *common.GRADED_COLUMNS)),
        "best_bets": history_input("best_bets", SEASON, columns=best_bets_columns),
        "schedule": dg.AssetIn("schedule", metadata={"columns": ["game_date", "status"]}),
    }


def run_days(start: date, end: date) -> list[date]:
    return pl.date_range(start, end, "1d", eager=True).to_list()


def algorithm_version() -> str:
    config = publish.load_publish_config()
    return publish.algorithm_version(
        config, {"models": load_models_config().version, "filters": selection.load_selection_config().version}
    )
