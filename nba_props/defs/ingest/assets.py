"""Ingest assets: schedule, box scores, prop-line snapshots, injury report.

Each source is one step (a multi-asset) that reads its game-date window from the provider in one
call (a single-run backfill of a season is one read) and materializes two assets: the clean rows
(`schedule`, ...) with their checks, and the rows that could not be parsed (`schedule_quarantine`,
...), stored together in the table `ingest_quarantine` (column `asset` names the source; each
quarantine asset owns its own rows there) with the count per partition in its metadata.
"""

from collections.abc import Iterator, Mapping
from datetime import date

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import (
    add_partitions_metadata,
    check_spec,
    column_schema,
    daily_asset_kwargs,
    labels,
    record_partition_metadata,
    rows_check,
    unique_key_spec,
)
from nba_props.lib import ingest_checks, schemas
from nba_props.lib.identity import TRICODES
from nba_props.lib.lines import load_line_config
from nba_props.lib.sources.base import Parsed
from nba_props.partitions import date_range_of
from nba_props.resources import ClockResource, ProviderResource, SettingsResource

GROUP = "ingest"
WARN = dg.AssetCheckSeverity.WARN
INGEST_RANGE = load_line_config().ingest_range  # config/lines.yaml
QUARANTINE_TABLE = "ingest_quarantine"
QUARANTINE_OUTPUT = "quarantine"


SOURCES_GROUP = "sources"
# What each ingest step reads from the provider (files or an API). Dagster does not materialize
# these; they stand in the graph so the lineage shows where the clean rows and the quarantined
# rows of a source come from (one read, two assets).
FEEDS = {
    "schedule": "The provider's schedule feed (NBA CDN schedule JSON or nba_api schedule CSVs).",
    "box_scores": "The provider's box-score feed (nba_api LeagueGameLog CSVs).",
    "prop_line_snapshots": "The provider's points-line snapshots (The Odds API snapshots, DFS boards).",
    "injury_report": "The provider's injury reports (balldontlie injury JSON captures).",
}


def quarantine_asset_name(source: str) -> str:
    return f"{source}_quarantine"


def feed_asset_name(source: str) -> str:
    return f"{source}_feed"


feeds = [
    dg.AssetSpec(
        feed_asset_name(source),
        description=description,
        group_name=SOURCES_GROUP,
        kinds={"file"},
        **labels(SOURCES_GROUP, "external"),
    )
    for source, description in FEEDS.items()
]


def _ingest_step(source: str, description: str, check_specs: list[dg.AssetCheckSpec], **ins: dg.AssetIn):
    """One step, two assets: `source` (the clean rows) and `<source>_quarantine` (its unparseable rows).
    Not subsettable: the quarantine always comes from the same read as the rows."""
    kwargs = daily_asset_kwargs(source, description, GROUP)
    main = dg.AssetOut(
        key=source,
        description=description,
        group_name=GROUP,
        kinds=kwargs["kinds"],
        metadata=kwargs["metadata"],
        owners=kwargs["owners"],
        tags=kwargs["tags"],
    )
    quarantine = dg.AssetOut(
        key=quarantine_asset_name(source),
        description=f"Rows of the {source} source that could not be parsed, with the reason and the raw row "
        f"(table {QUARANTINE_TABLE}, asset = '{source}'); undated rows count on the first day of the run's window.",
        group_name=GROUP,
        kinds=kwargs["kinds"],
        owners=kwargs["owners"],
        tags=kwargs["tags"],
        metadata={
            "dagster/column_schema": column_schema(QUARANTINE_TABLE),
            "partition_expr": "game_date",
            "table": QUARANTINE_TABLE,
            "table_scope": {"asset": source},
        },
    )
    feed = dg.AssetKey(feed_asset_name(source))
    return dg.multi_asset(
        name=source,
        outs={source: main, QUARANTINE_OUTPUT: quarantine},
        ins=ins or None,
        deps=[feed],
        internal_asset_deps={source: {feed, *(dg.AssetKey(k) for k in ins)}, QUARANTINE_OUTPUT: {feed}},
        check_specs=check_specs,
        partitions_def=kwargs["partitions_def"],
        backfill_policy=kwargs["backfill_policy"],
        pool=kwargs["pool"],
        can_subset=False,
    )


def _outputs(
    context: dg.AssetExecutionContext,
    settings: SettingsResource,
    source: str,
    parsed: Parsed,
    start: date,
    end: date,
    figures: Mapping[str, pl.Expr],
) -> Iterator[dg.Output]:
    """The quarantine output and the rows output. Each partition gets its own row count and
    `figures` (one group-by, `record_partition_metadata`); the outputs' own metadata describes the
    run's whole window under names that say so (`run_rows`, `window`)."""
    quarantine = parsed.quarantine_of_window(source, start, end)
    quarantined = record_partition_metadata(
        context, quarantine, asset_key=quarantine_asset_name(source), figures={"quarantined_rows": pl.len()}
    )
    by_reason = dict(quarantine.group_by("reason").len().sort("reason").iter_rows()) if quarantine.height else {}
    yield dg.Output(
        quarantine,
        output_name=QUARANTINE_OUTPUT,
        metadata={
            "run_quarantined_rows": quarantine.height,
            "run_by_reason": dg.MetadataValue.json(by_reason),
            "source": source,
        },
    )
    rows = parsed.rows
    record_partition_metadata(context, rows, asset_key=source, figures=figures)
    # the day's quarantined rows beside its own rows
    add_partitions_metadata(context, {p: {"quarantined_rows": v["quarantined_rows"]} for p, v in quarantined.items()},
                            asset_key=source)  # fmt: skip
    metadata: dict[str, object] = {
        "run_rows": rows.height,
        "run_quarantined_rows": quarantine.height,
        "run_game_dates_with_rows": rows.get_column("game_date").n_unique() if rows.height else 0,
        "window": f"{start} .. {end}",
        "settings": settings.metadata(),
        **{f"run_skipped_{reason}": n for reason, n in sorted(parsed.skipped.items())},
    }
    yield dg.Output(rows, output_name=source, metadata=metadata)


@_ingest_step(
    "schedule",
    "Games of the date: teams, UTC tip time, status, final scores where known.",
    [
        unique_key_spec("schedule"),
        check_spec("schedule", "valid_status", "status is one of scheduled/live/final/postponed/cancelled"),
        check_spec("schedule", "known_teams", "home and away are two different known tricodes"),
    ],
)
def schedule(
    context: dg.AssetExecutionContext, provider: ProviderResource, settings: SettingsResource, clock: ClockResource
) -> Iterator:
    start, end = date_range_of(context)
    parsed = provider.get().schedule(start, end, as_of=clock.as_of())
    rows = parsed.rows
    yield from _outputs(
        context,
        settings,
        "schedule",
        parsed,
        start,
        end,
        {
            "games": pl.col("game_id").n_unique(),
            **{f"status_{status}": (pl.col("status") == status).sum() for status in schemas.SCHEDULE_STATUSES},
        },
    )
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


@_ingest_step(
    "box_scores",
    "One row per player per game played (DNP rows when the source has them).",
    [
        unique_key_spec("box_scores"),
        check_spec("box_scores", "non_negative_stats", "minutes and points are never negative"),
        check_spec("box_scores", "games_in_schedule", "every box-score game is in the schedule of its date"),
        check_spec(
            "box_scores", "points_match_team_totals", "player points sum to the team score where the source has it"
        ),
        check_spec("box_scores", "final_games_have_box_scores", "every final game has player rows"),
    ],
    schedule=dg.AssetIn("schedule"),  # the day's games, for the consistency checks
)
def box_scores(
    context: dg.AssetExecutionContext,
    schedule: pl.DataFrame,
    provider: ProviderResource,
    settings: SettingsResource,
    clock: ClockResource,
) -> Iterator:
    start, end = date_range_of(context)
    parsed = provider.get().box_scores(start, end, as_of=clock.as_of())
    rows = parsed.rows
    yield from _outputs(
        context,
        settings,
        "box_scores",
        parsed,
        start,
        end,
        {
            "games": pl.col("game_id").n_unique(),
            "players": pl.col("player_id").n_unique(),
            "dnp_rows": (~pl.col("played")).sum(),
            "points": pl.col("points").sum(),
        },
    )
    yield rows_check("unique_key", ingest_checks.duplicate_keys(rows, schemas.BOX_SCORES_KEY))
    yield rows_check("non_negative_stats", ingest_checks.negative_values(rows, ["minutes", "points"]))
    yield rows_check("games_in_schedule", ingest_checks.games_missing_from_schedule(rows, schedule))
    yield rows_check("points_match_team_totals", ingest_checks.team_points_mismatches(rows, schedule))
    yield rows_check(
        "final_games_have_box_scores", ingest_checks.final_games_without_box_scores(rows, schedule), severity=WARN
    )


@_ingest_step(
    "prop_line_snapshots",
    "Every points line of every book and snapshot (alternate-line ladders kept).",
    [
        unique_key_spec("prop_line_snapshots"),
        check_spec(
            "prop_line_snapshots",
            "line_in_range",
            f"every line is a plausible points line, in [{INGEST_RANGE.min_line:g}, {INGEST_RANGE.max_line:g}]",
        ),
        check_spec("prop_line_snapshots", "points_market_only", "only the player_points market is stored"),
    ],
)
def prop_line_snapshots(
    context: dg.AssetExecutionContext, provider: ProviderResource, settings: SettingsResource, clock: ClockResource
) -> Iterator:
    start, end = date_range_of(context)
    parsed = provider.get().prop_line_snapshots(start, end, as_of=clock.as_of())
    rows = parsed.rows
    yield from _outputs(
        context,
        settings,
        "prop_line_snapshots",
        parsed,
        start,
        end,
        {
            "games": pl.col("game_id").n_unique(),
            "players": pl.col("player_lookup").n_unique(),
            "bookmakers": pl.col("bookmaker").n_unique(),
            "snapshots": pl.col("captured_at").n_unique(),
            "lines": pl.struct("game_id", "player_lookup", "bookmaker", "line").n_unique(),
        },
    )
    yield rows_check("unique_key", ingest_checks.duplicate_keys(rows, schemas.PROP_LINE_SNAPSHOTS_KEY))
    low, high = INGEST_RANGE.min_line, INGEST_RANGE.max_line
    yield rows_check("line_in_range", ingest_checks.lines_out_of_range(rows, low, high), min_line=low, max_line=high)
    yield rows_check("points_market_only", rows.filter(pl.col("market") != "player_points"))


@_ingest_step(
    "injury_report",
    "Every injury report of the date per player and capture time (empty when the source has none); "
    "features and expected players use the newest one captured before each game's tip.",
    [
        unique_key_spec("injury_report"),
        check_spec("injury_report", "valid_status", "status is available/probable/questionable/doubtful/out"),
    ],
)
def injury_report(
    context: dg.AssetExecutionContext, provider: ProviderResource, settings: SettingsResource, clock: ClockResource
) -> Iterator:
    start, end = date_range_of(context)
    parsed = provider.get().injury_report(start, end, as_of=clock.as_of())
    rows = parsed.rows
    yield from _outputs(
        context,
        settings,
        "injury_report",
        parsed,
        start,
        end,
        {
            "players": pl.col("player_lookup").n_unique(),
            "players_out": pl.col("player_lookup").filter(pl.col("status") == "out").n_unique(),
        },
    )
    yield rows_check("unique_key", ingest_checks.duplicate_keys(rows, schemas.INJURY_REPORT_KEY))
    yield rows_check("valid_status", rows.filter(~pl.col("status").is_in(schemas.INJURY_STATUSES)))
