"""Ingest assets: schedule, box scores, prop-line snapshots, injury report.

Each reads its game-date window from the provider in one call (a single-run backfill of a
season is one read), records unparseable rows in `ingest_quarantine`, and checks its rows.
"""


from collections.abc import Iterator
from datetime import date

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import rows_check
from nba_props.dagster_helpers import check_spec, daily_asset_kwargs, settings_metadata, unique_key_spec
from nba_props.resources import ProviderResource
from nba_props.io.io_manager import WarehouseResource
from nba_props.lib import ingest_checks, schemas
from nba_props.lib.identity import TRICODES
from nba_props.lib.lines import load_line_config
from nba_props.lib.sources.base import Parsed
from nba_props.partitions import date_range_of

GROUP = "ingest"
WARN = dg.AssetCheckSeverity.WARN
INGEST_RANGE = load_line_config().ingest_range  # config/lines.yaml


def _asset_kwargs(name: str, description: str) -> dict[str, object]:
    return daily_asset_kwargs(name, description, GROUP)


def _record_quarantine(warehouse: WarehouseResource, asset: str, parsed: Parsed, start: date, end: date) -> int:
    """Replace this asset's quarantine rows for the window; undated rows are attributed to the
    window's first day (the run that read them)."""
    quarantine = (
        parsed.quarantine.with_columns(game_date=pl.col("game_date").fill_null(start), asset=pl.lit(asset))
        .filter(pl.col("game_date").is_between(start, end))
    )
    warehouse.warehouse().replace_partitions(
        "ingest_quarantine", quarantine, start=start, end=end, declared=schemas.QUARANTINE, where={"asset": asset}
    )
    return quarantine.height


def _output(parsed: Parsed, quarantined: int, start: date, end: date, **extra: object) -> dg.Output:
    rows = parsed.rows
    metadata: dict[str, object] = {
        "rows": rows.height,
        "quarantined_rows": quarantined,
        "game_dates_with_rows": rows.get_column("game_date").n_unique() if rows.height else 0,
        "window": f"{start} .. {end}",
        "settings": settings_metadata(),
        **{f"skipped_{reason}": n for reason, n in sorted(parsed.skipped.items())},
        **extra,
    }
    return dg.Output(rows, metadata=metadata)


@dg.asset(
    **_asset_kwargs("schedule", "Games of the date: teams, UTC tip time, status, final scores where known."),
    check_specs=[
        unique_key_spec("schedule"),
        check_spec("schedule", "valid_status", "status is one of scheduled/live/final/postponed/cancelled"),
        check_spec("schedule", "known_teams", "home and away are two different known tricodes"),
    ],
)
def schedule(context: dg.AssetExecutionContext, provider: ProviderResource, warehouse: WarehouseResource) -> Iterator:
    start, end = date_range_of(context)
    parsed = provider.get().schedule(start, end)
    quarantined = _record_quarantine(warehouse, "schedule", parsed, start, end)
    rows = parsed.rows
    status_counts = dict(rows.group_by("status").len().iter_rows()) if rows.height else {}
    yield _output(parsed, quarantined, start, end, games=rows.height, **{f"status_{k}": v for k, v in status_counts.items()})
    yield rows_check("unique_key", ingest_checks.duplicate_keys(rows, schemas.SCHEDULE_KEY))
    yield rows_check("valid_status", rows.filter(~pl.col("status").is_in(schemas.SCHEDULE_STATUSES)))
    yield rows_check(
        "known_teams",
        rows.filter(
            ~pl.col("home_team").is_in(sorted(TRICODES))
            | ~pl.col("away_team").is_in(sorted(TRICODES))
            | (pl.col("home_team") == pl.col("away_team"))
        ),
    )


@dg.asset(
    **_asset_kwargs("box_scores", "One row per player per game played (DNP rows when the source has them)."),
    check_specs=[
        unique_key_spec("box_scores"),
        check_spec("box_scores", "non_negative_stats", "minutes and points are never negative"),
        check_spec("box_scores", "games_in_schedule", "every box-score game is in the schedule of its date"),
        check_spec("box_scores", "points_match_team_totals", "player points sum to the team score where the source has it"),
        check_spec("box_scores", "final_games_have_box_scores", "every final game has player rows"),
    ],
)
def box_scores(
    context: dg.AssetExecutionContext,
    schedule: pl.DataFrame,
    provider: ProviderResource,
    warehouse: WarehouseResource,
) -> Iterator:
    start, end = date_range_of(context)
    parsed = provider.get().box_scores(start, end)
    quarantined = _record_quarantine(warehouse, "box_scores", parsed, start, end)
    rows = parsed.rows
    yield _output(
        parsed, quarantined, start, end,
        games=rows.get_column("game_id").n_unique() if rows.height else 0,
        players=rows.get_column("player_id").n_unique() if rows.height else 0,
        dnp_rows=rows.filter(~pl.col("played")).height,
    )
    yield rows_check("unique_key", ingest_checks.duplicate_keys(rows, schemas.BOX_SCORES_KEY))
    yield rows_check("non_negative_stats", ingest_checks.negative_values(rows, ["minutes", "points"]))
    yield rows_check("games_in_schedule", ingest_checks.games_missing_from_schedule(rows, schedule))
    yield rows_check("points_match_team_totals", ingest_checks.team_points_mismatches(rows, schedule))
    yield rows_check(
        "final_games_have_box_scores", ingest_checks.final_games_without_box_scores(rows, schedule), severity=WARN
    )


@dg.asset(
    **_asset_kwargs(
        "prop_line_snapshots", "Every points line of every book and snapshot (alternate-line ladders kept)."
    ),
    check_specs=[
        unique_key_spec("prop_line_snapshots"),
        check_spec("prop_line_snapshots", "line_in_range",
                   f"every line is a plausible points line, in [{INGEST_RANGE.min_line:g}, {INGEST_RANGE.max_line:g}]"),
        check_spec("prop_line_snapshots", "points_market_only", "only the player_points market is stored"),
    ],
)
def prop_line_snapshots(
    context: dg.AssetExecutionContext, provider: ProviderResource, warehouse: WarehouseResource
) -> Iterator:
    start, end = date_range_of(context)
    parsed = provider.get().prop_line_snapshots(start, end)
    quarantined = _record_quarantine(warehouse, "prop_line_snapshots", parsed, start, end)
    rows = parsed.rows
    yield _output(
        parsed, quarantined, start, end,
        players=rows.select("game_date", "player_lookup").n_unique() if rows.height else 0,
        bookmakers=rows.get_column("bookmaker").n_unique() if rows.height else 0,
        snapshots=rows.get_column("captured_at").n_unique() if rows.height else 0,
    )
    yield rows_check("unique_key", ingest_checks.duplicate_keys(rows, schemas.PROP_LINE_SNAPSHOTS_KEY))
    low, high = INGEST_RANGE.min_line, INGEST_RANGE.max_line
    yield rows_check("line_in_range", ingest_checks.lines_out_of_range(rows, low, high), min_line=low, max_line=high)
    yield rows_check("points_market_only", rows.filter(pl.col("market") != "player_points"))


@dg.asset(
    **_asset_kwargs("injury_report", "Every injury report of the date per player and capture time (empty when the source has none); "
                      "features and expected players use the newest one captured before each game's tip."),
    check_specs=[
        unique_key_spec("injury_report"),
        check_spec("injury_report", "valid_status", "status is available/probable/questionable/doubtful/out"),
    ],
)
def injury_report(
    context: dg.AssetExecutionContext, provider: ProviderResource, warehouse: WarehouseResource
) -> Iterator:
    start, end = date_range_of(context)
    parsed = provider.get().injury_report(start, end)
    quarantined = _record_quarantine(warehouse, "injury_report", parsed, start, end)
    rows = parsed.rows
    yield _output(parsed, quarantined, start, end, players_out=rows.filter(pl.col("status") == "out").select("game_date", "player_lookup").n_unique())
    yield rows_check("unique_key", ingest_checks.duplicate_keys(rows, schemas.INJURY_REPORT_KEY))
    yield rows_check("valid_status", rows.filter(~pl.col("status").is_in(schemas.INJURY_STATUSES)))

