"""The public best-bets files: `best-bets/all.json` (the season: records, streaks, weeks of
days, today's picks with results) and `best-bets/today.json` (today's picks, no results). Built
by `lib/exports/best_bets_files.py` from the ledger's published picks; written by
`writer.publish_files` (validated, guarded, atomic) in the publish step (`step.py`)."""

from collections.abc import Iterator

import polars as pl

from nba_props.defs.publish import writer
from nba_props.defs.publish.inputs import PICKS_INPUTS, PUBLIC_BEST_BETS_COLUMNS, Published, algorithm_version, run_days
from nba_props.io.artifacts import ArtifactStore
from nba_props.lib import publish
from nba_props.lib.exports import best_bets_files, common
from nba_props.partitions import date_range_of
from nba_props.resources import ClockResource

ALL, TODAY = "best_bets_all_json", "best_bets_today_json"


def _publish(context, asset: str, builder, store: ArtifactStore, clock: ClockResource, ledger: pl.DataFrame,
             graded: pl.DataFrame, best_bets: pl.DataFrame, schedule: pl.DataFrame, **shown) -> Iterator:  # fmt: skip
    """The one body of both public assets: the run's picks frame, every day's model (one builder call for
    the run), the guard's excuses."""
    best_bets = best_bets.select(PUBLIC_BEST_BETS_COLUMNS)  # what the public files read of it
    days = run_days(*date_range_of(context.partition_time_window))
    picks = common.picks_frame(ledger, graded, best_bets)
    generated_at, version = clock.now(), algorithm_version()
    models = builder(picks, days, generated_at=generated_at, algorithm_version=version)
    excuses = publish.excuses_of(schedule, days, best_bets=best_bets, ledger=ledger)
    yield from writer.publish_files(context, asset, store, models, excuses, **shown)


def _figures(model: best_bets_files.BestBetsAll) -> dict[str, object]:
    season = model.record.season
    out: dict[str, object] = {"season_wins": season.wins, "season_losses": season.losses,
                              "season_pushes": season.pushes, "total_picks": model.total_picks}  # fmt: skip
    if season.pct is not None:
        out["season_pct"] = season.pct
    return out


def _all(context, store, clock, **inputs) -> Iterator:
    yield from _publish(context, ALL, best_bets_files.build_all_days, store, clock, **inputs, figures=_figures)


def _today(context, store, clock, **inputs) -> Iterator:
    yield from _publish(context, TODAY, best_bets_files.build_today_days, store, clock, **inputs,
                        markdown=best_bets_files.today_markdown)  # fmt: skip


PUBLIC = (
    Published(
        ALL,
        "The season's best bets for the website: records (season, month, week, last 10), ultra record, streaks, "
        "today's picks with results, every week of days (sweep / split / miss / pending / void) from opening "
        "night; history from the published-picks ledger, so a published pick never disappears.",
        PICKS_INPUTS,
        _all,
    ),
    Published(TODAY, "Today's best bets for the website (no results) with the season record.", PICKS_INPUTS, _today),
)
