"""Feature-store assets: `player_lines` (the candidate set with its chosen line) and
`player_features` (leak-free features with quality gates).

History inputs use partition mappings that end the day BEFORE the partition, so the asset
graph itself says what each date may see.
"""

import time
from collections.abc import Iterator, Mapping

import dagster as dg
import polars as pl

from nba_props.dagster_helpers import (
    check_spec,
    counts_of,
    daily_asset_kwargs,
    record_partition_metadata,
    rows_check,
    unique_key_spec,
)
from nba_props.lib import schemas, tables
from nba_props.lib.features.build import Block, build_player_features
from nba_props.lib.features.checks import (
    constant_feature_dates,
    leak_differences,
    leak_sample_dates,
    leak_summary,
)
from nba_props.lib.features.contract import load_contract
from nba_props.lib.features.inputs import FeatureInputs
from nba_props.lib.features.quality import feature_range_violations, quality_summary
from nba_props.lib.features.rules import history_windows
from nba_props.lib.ingest_checks import duplicate_keys
from nba_props.lib.lines import build_player_lines_with_diagnostics, load_line_config
from nba_props.partitions import date_range_of, history_input, last_n_game_days, previous_n_game_days
from nba_props.resources import SettingsResource

GROUP = "features"
WARN = dg.AssetCheckSeverity.WARN

LINE_CONFIG = load_line_config()
CONTRACT = load_contract()
LEAK = CONTRACT.leak_check
CHECKS = CONTRACT.checks
# The history each input reads, derived from the rules (config/lines.yaml, config/features.yaml;
# lib/features/rules.history_windows): player_lines reads box scores for appearances and the
# newest team, snapshots for line moves; player_features reads box scores for the season rule
# (the whole previous season) and earlier player_lines for the prop streaks.
WINDOWS = history_windows(CONTRACT, LINE_CONFIG)


@dg.asset(
    **daily_asset_kwargs(
        "player_lines",
        "One row per game and player with a points line or expected to play: the chosen line "
        "(book priority, newest snapshot before tip, ladder main line), consensus, moves, diagnostic.",
        GROUP,
    ),
    ins={
        "snapshots": history_input("prop_line_snapshots", last_n_game_days(WINDOWS.lines_snapshots + 1)),
        "schedule": dg.AssetIn("schedule"),
        "recent_box_scores": history_input("box_scores", previous_n_game_days(WINDOWS.lines_box_scores)),
        "injuries": dg.AssetIn("injury_report"),
    },
    check_specs=[
        unique_key_spec("player_lines"),
        check_spec("player_lines", "valid_diagnostic", "every row has LINE_SOURCE / NO_PROP_LINE / LINE_SANITY_REJECT"),
        check_spec(
            "player_lines",
            "line_in_sanity_band",
            f"chosen lines lie in the sanity band [{LINE_CONFIG.sanity_min:g}, {LINE_CONFIG.sanity_max:g}]",
        ),
        check_spec("player_lines", "probabilities_in_unit_interval", "de-vigged over probability in [0, 1]"),
    ],
)
def player_lines(
    context: dg.AssetExecutionContext,
    snapshots: pl.DataFrame,
    schedule: pl.DataFrame,
    recent_box_scores: pl.DataFrame,
    injuries: pl.DataFrame,
    settings: SettingsResource,
) -> Iterator:
    start, end = date_range_of(context.partition_time_window)
    rows, selection = build_player_lines_with_diagnostics(
        snapshots, schedule, recent_box_scores, injuries, start=start, end=end, config=LINE_CONFIG
    )
    record_partition_metadata(
        context,
        rows,
        figures={
            "games": pl.col("game_id").n_unique(),
            "players": pl.col("player_lookup").n_unique(),
            "with_line": pl.col("has_line").sum(),
            "chosen_lines": pl.col("line").is_not_null().sum(),
            "books": pl.col("line_book").n_unique(),  # NULL (no chosen line) counts as one
        },
    )
    yield dg.Output(
        rows,
        metadata={
            "run_rows": rows.height,
            "run_with_line": rows.filter(pl.col("has_line")).height,
            "run_diagnostics": dg.MetadataValue.json(counts_of(rows, "line_diagnostic")),
            "run_chosen_books": dg.MetadataValue.json(
                counts_of(rows.filter(pl.col("line").is_not_null()), "line_book")
            ),
            "run_line_selection": dg.MetadataValue.json(selection),
            "run_expected_reasons": dg.MetadataValue.json(counts_of(rows, "expected_reason")),
            "line_config": dg.MetadataValue.json(LINE_CONFIG.model_dump(mode="json")),
            "settings": settings.metadata(),
        },
    )
    yield rows_check("unique_key", duplicate_keys(rows, tables.TABLE_KEYS["player_lines"]))
    yield rows_check("valid_diagnostic", rows.filter(~pl.col("line_diagnostic").is_in(schemas.LINE_DIAGNOSTICS)))
    low, high = LINE_CONFIG.sanity_min, LINE_CONFIG.sanity_max
    yield rows_check(
        "line_in_sanity_band",
        rows.filter(pl.col("line").is_not_null() & ~pl.col("line").is_between(low, high)),
        min_line=low,
        max_line=high,
    )
    yield rows_check(
        "probabilities_in_unit_interval",
        rows.filter(pl.col("implied_over_prob").is_not_null() & ~pl.col("implied_over_prob").is_between(0.0, 1.0)),
    )


def build_player_features_asset(blocks: Mapping[str, Block] | None = None) -> dg.AssetsDefinition:
    """The `player_features` asset. `blocks` replaces library feature blocks by name, in the
    build and in its leak check alike (tests plant a leaky block this way); production uses none."""

    @dg.asset(
        **daily_asset_kwargs(
            "player_features",
            "Leak-free features per candidate (only games before the date), per-feature source and "
            "default flags, quality score and tier, and the zero-tolerance readiness gate.",
            GROUP,
        ),
        ins={
            "candidate_lines": history_input("player_lines", last_n_game_days(WINDOWS.features_lines + 1)),
            "box_history": history_input("box_scores", previous_n_game_days(WINDOWS.features_box_scores)),
            "schedule": dg.AssetIn("schedule"),
            "injuries": dg.AssetIn("injury_report"),
        },
        check_specs=[
            unique_key_spec("player_features"),
            check_spec("player_features", "values_in_declared_range", "every feature value lies in its contract range"),
            check_spec(
                "player_features",
                "varying_columns_vary",
                f"features that must vary across a date's ready players are not constant ({', '.join(CHECKS.must_vary)})",
            ),
            check_spec(
                "player_features",
                "ready_share_above_floor",
                f"at least {CHECKS.ready_share_floor:.0%} of candidates are quality-ready",
            ),
            check_spec(
                "player_features",
                "leak_free",
                f"{LEAK.sample_dates} dates spread over the run (first and last included; all when fewer), each "
                f"rebuilt for up to {LEAK.players_per_date} of its candidates ({LEAK.players_per_team} or more of "
                "every team of every game) from inputs cut strictly before it, are identical in every column; "
                "every stored row of those dates matches a candidate",
                blocking=True,
            ),
        ],
    )
    def player_features(
        context: dg.AssetExecutionContext,
        candidate_lines: pl.DataFrame,
        box_history: pl.DataFrame,
        schedule: pl.DataFrame,
        injuries: pl.DataFrame,
        settings: SettingsResource,
    ) -> Iterator:
        start, end = date_range_of(context.partition_time_window)
        targets = candidate_lines.filter(pl.col("game_date").is_between(start, end))
        inputs = FeatureInputs(
            targets=targets,
            box_history=box_history,
            line_history=candidate_lines,
            schedule=schedule,
            injuries=injuries,
        )
        started = time.perf_counter()
        rows = build_player_features(inputs, CONTRACT, blocks=blocks)
        build_seconds = time.perf_counter() - started
        summary = quality_summary(rows, CONTRACT)
        record_partition_metadata(
            context,
            rows,
            figures={
                "games": pl.col("game_id").n_unique(),
                "ready_rows": pl.col("is_quality_ready").sum(),
                "ready_share": pl.col("is_quality_ready").mean(),  # left out on a day without candidates
                "mean_quality_score": pl.col("feature_quality_score").mean(),
            },
        )
        yield dg.Output(
            rows,
            metadata={
                "run_rows": rows.height,
                "run_ready_rows": summary["ready_rows"],
                "run_ready_share": summary["ready_share"],
                "run_quality_tiers": dg.MetadataValue.json(summary["tiers"]),
                "run_defaults_by_feature": dg.MetadataValue.json(summary["defaults_by_feature"]),
                "run_block_reasons": dg.MetadataValue.json(summary["block_reasons"]),
                "run_line_diagnostics": dg.MetadataValue.json(counts_of(targets, "line_diagnostic")),
                "feature_set": CONTRACT.default_set,
                "box_history_window": _span(box_history),
                "build_seconds": round(build_seconds, 3),
                "settings": settings.metadata(),
            },
        )
        yield rows_check("unique_key", duplicate_keys(rows, tables.TABLE_KEYS["player_features"]))
        yield rows_check("values_in_declared_range", feature_range_violations(rows, CONTRACT))
        yield rows_check(
            "varying_columns_vary",
            constant_feature_dates(rows, CHECKS.must_vary),
            severity=WARN,
            must_vary=dg.MetadataValue.json(list(CHECKS.must_vary)),
        )
        share = summary["ready_share"]
        yield dg.AssetCheckResult(
            check_name="ready_share_above_floor",
            passed=rows.height == 0 or share >= CHECKS.ready_share_floor,
            severity=WARN,
            metadata={"ready_share": share, "floor": CHECKS.ready_share_floor},
        )
        yield _leak_check(inputs, rows, build_seconds, blocks)

    return player_features


def _leak_check(
    inputs: FeatureInputs, rows: pl.DataFrame, build_seconds: float, blocks: Mapping[str, Block] | None
) -> dg.AssetCheckResult:
    started = time.perf_counter()
    candidate_dates = pl.concat([inputs.targets.get_column("game_date"), rows.get_column("game_date")]).unique()
    dates = leak_sample_dates(candidate_dates.to_list(), LEAK.sample_dates)
    differences = leak_differences(inputs, rows, dates, CONTRACT, tolerance=LEAK.float_tolerance, blocks=blocks)
    seconds = time.perf_counter() - started
    summary = leak_summary(differences, dates, LEAK.max_players_reported)
    return rows_check(
        "leak_free",
        differences,
        **{k: dg.MetadataValue.json(v) if isinstance(v, list | dict) else v for k, v in summary.items()},
        check_seconds=round(seconds, 3),
        share_of_build_time=round(seconds / build_seconds, 3),
        leak_check_config=dg.MetadataValue.json(LEAK.model_dump(mode="json")),
    )


player_features = build_player_features_asset()


def _span(frame: pl.DataFrame) -> str:
    if frame.height == 0:
        return "empty"
    return f"{frame['game_date'].min()} .. {frame['game_date'].max()} ({frame.height} rows)"
