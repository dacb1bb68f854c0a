"""The public best-bets files: `best-bets/all.json` (the season: records, streaks, weeks of
days, today's picks with results) and `best-bets/today.json` (today's picks, no results). Built
by `lib/exports/best_bets_files.py` from the ledger's published picks; written by
`writer.publish_files` (validated, guarded, atomic)."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from nba_props.defs.publish import writer
from nba_props.defs.publish.inputs import algorithm_version, picks_inputs, run_days
from nba_props.io.artifacts import ArtifactStoreResource
from nba_props.lib import publish
from nba_props.lib.exports import best_bets_files, common
from nba_props.partitions import date_range_of
from nba_props.resources import ClockResource

ALL, TODAY = "best_bets_all_json", "best_bets_today_json"


def _publish(context, asset: str, builder, artifacts, clock, ledger, graded, best_bets, schedule, **shown) -> Iterator:
    """The one body of both public assets: the run's picks frame, every day's model (one builder call for
    the run), the guard's excuses."""
    days = run_days(*date_range_of(context.partition_time_window))
    picks = common.picks_frame(ledger, graded, best_bets)
    generated_at, version = clock.now(), algorithm_version()
    models = builder(picks, days, generated_at=generated_at, algorithm_version=version)
    excuses = publish.excuses_of(schedule, days, best_bets=best_bets, ledger=ledger)
    yield from writer.publish_files(context, asset, artifacts.store(), models, excuses, **shown)


def _figures(model: best_bets_files.BestBetsAll) -> dict[str, object]:
    season = model.record.season
    out: dict[str, object] = {"season_wins": season.wins, "season_losses": season.losses,
                              "season_pushes": season.pushes, "total_picks": model.total_picks}  # fmt: skip
    if season.pct is not None:
        out["season_pct"] = season.pct
    return out


@dg.asset(
    **writer.asset_kwargs(
        ALL,
        "The season's best bets for the website: records (season, month, week, last 10), ultra record, streaks, "
        "today's picks with results, every week of days (sweep / split / miss / pending / void) from opening "
        "night; history from the published-picks ledger, so a published pick never disappears.",
    ),
    ins=picks_inputs(),
)
def best_bets_all_json(
    context: dg.AssetExecutionContext,
    artifacts: ArtifactStoreResource,
    clock: ClockResource,
    ledger: pl.DataFrame,
    graded: pl.DataFrame,
    best_bets: pl.DataFrame,
    schedule: pl.DataFrame,
) -> Iterator:
    yield from _publish(context, ALL, best_bets_files.build_all_days, artifacts, clock, ledger, graded, best_bets, schedule,
                        figures=_figures)  # fmt: skip


@dg.asset(
    **writer.asset_kwargs(TODAY, "Today's best bets for the website (no results) with the season record."),
    ins=picks_inputs(),
)
def best_bets_today_json(
    context: dg.AssetExecutionContext,
    artifacts: ArtifactStoreResource,
    clock: ClockResource,
    ledger: pl.DataFrame,
    graded: pl.DataFrame,
    best_bets: pl.DataFrame,
    schedule: pl.DataFrame,
) -> Iterator:
    yield from _publish(context, TODAY, best_bets_files.build_today_days, artifacts, clock, ledger, graded, best_bets,
                        schedule, markdown=best_bets_files.today_markdown)  # fmt: skip
