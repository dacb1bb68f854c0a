"""`model_performance_daily` on the real 2025-26 window of ../shared/data/nba (2025-10-21 ..
2025-11-23, the days with real sportsbook lines; skipped when the folder is absent): W/L per
model and window cross-checked by an INDEPENDENT DuckDB SQL query over the same
`prediction_accuracy` rows, in the same warehouse file.

Until the grading stage's `prediction_accuracy` asset is merged, the graded rows are built here
in the simplest honest way this branch has: real chosen lines (`build_player_lines` on the real
snapshots), three naive "families" predicting each lined player's mean points over his last 5 /
10 / 20 games strictly before the game date (box scores of 2024-25 and 2025-26; a pick is the
side of the mean with edge >= 1), graded by the project's one grading path
(`lib/models/graded.graded_predictions`: real box scores, real schedule statuses, real prices).
AFTER THE MERGE: write these rows with the real `prediction_accuracy` asset (or materialize it
over the window from real predictions) instead of `graded_accuracy`; the SQL cross-check stays
as it is."""

from __future__ import annotations

import time
from datetime import date, timedelta

import dagster as dg
import duckdb
import polars as pl
import pytest

from nba_props.io.warehouse import Warehouse
from nba_props.lib import health
from nba_props.lib.health import ACCURACY_CONTRACT
from nba_props.lib.lines import LineConfig, build_player_lines
from nba_props.lib.models.graded import graded_predictions
from nba_props.lib.sources.files import FilesProvider
from nba_props_tests.conftest import shared_data_or_skip
from nba_props_tests.test_health import materialize, stored

pytestmark = [pytest.mark.real_data]

DATA = shared_data_or_skip("odds/the_odds_api_snapshots", "box_scores")
START, END = date(2025, 10, 21), date(2025, 11, 23)
FAMILIES = {"last5": 5, "last10": 10, "last20": 20}
CHAMPION = "last10"
PICK_EDGE = 1.0


def graded_accuracy() -> pl.DataFrame:
    provider = FilesProvider(DATA)
    config = LineConfig()
    box = provider.box_scores(date(2024, 10, 1), END).rows
    schedule = provider.schedule(START, END).rows
    snapshots = provider.prop_line_snapshots(START - timedelta(days=config.lookback_days), END).rows
    injuries = provider.injury_report(START, END).rows
    lines = build_player_lines(snapshots, schedule, box, injuries, start=START, end=END, config=config)
    lines = lines.filter(pl.col("line").is_not_null())
    played = box.filter(pl.col("played")).sort("player_lookup", "game_date")
    frames = []
    for family, n in FAMILIES.items():
        history = played.with_columns(
            mean=pl.col("points").cast(pl.Float64).rolling_mean(window_size=n, min_samples=1).over("player_lookup")
        ).select("player_lookup", "game_date", "mean")
        rows = (
            lines.select("game_date", "game_id", "player_lookup", "line", "market_type")
            .sort("game_date")
            .join_asof(
                history.sort("game_date"),
                on="game_date",
                by="player_lookup",
                allow_exact_matches=False,
                check_sortedness=False,
            )  # fmt: skip
            .filter(pl.col("mean").is_not_null())
            .with_columns(
                model_id=pl.lit(f"{family}_naive"),
                family=pl.lit(family),
                predicted_points=pl.col("mean"),
                edge=(pl.col("mean") - pl.col("line")).abs(),
                direction=pl.when(pl.col("mean") > pl.col("line")).then(pl.lit("OVER")).otherwise(pl.lit("UNDER")),
                p_over=(0.5 + (pl.col("mean") - pl.col("line")) / 40).clip(0.05, 0.95),
                quarantined=pl.lit(False),
            )
            .with_columns(
                recommendation=pl.when(pl.col("edge") >= PICK_EDGE).then(pl.col("direction")).otherwise(pl.lit("PASS")),
                confidence=(2 * pl.col("p_over") - 1).abs(),
            )
            .drop("mean", "market_type")
        )
        frames.append(rows)
    predictions = pl.concat(frames)
    graded = graded_predictions(predictions, box, lines, schedule)
    return graded.with_columns(
        price=pl.when(pl.col("direction") == "OVER").then(pl.col("over_price")).otherwise(pl.col("under_price")),
        abs_error=(pl.col("predicted_points") - pl.col("actual_points")).abs(),
        signed_error=pl.col("predicted_points") - pl.col("actual_points"),
        graded_at=pl.lit(None, dtype=pl.Datetime("us", "UTC")),
    ).select([pl.col(name).cast(dtype) for name, dtype in ACCURACY_CONTRACT.items()])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    database = str(tmp_path_factory.mktemp("health") / "w.duckdb")
    accuracy = graded_accuracy()
    Warehouse(database).replace_partitions(
        "prediction_accuracy", accuracy, start=START, end=END, declared=ACCURACY_CONTRACT
    )
    with dg.instance_for_test() as instance:
        tags = {"dagster/asset_partition_range_start": START.isoformat(), "dagster/asset_partition_range_end":
                END.isoformat()}  # fmt: skip
        began = time.perf_counter()
        result = materialize(database, instance, tags=tags)
        seconds = time.perf_counter() - began
        assert result.success
    return database, accuracy, seconds


def test_win_loss_per_model_matches_an_independent_sql_query(warehouse):
    database, accuracy, seconds = warehouse
    config = health.load_health_config()
    perf = stored(database)
    days = (END - START).days + 1
    assert perf.get_column("game_date").n_unique() == days
    sql_windows = ",\n".join(
        f"""count(*) FILTER (WHERE p.result = 'WIN' AND p.game_date > m.game_date - {w}) AS wins_{w}d,
            count(*) FILTER (WHERE p.result = 'LOSS' AND p.game_date > m.game_date - {w}) AS losses_{w}d"""
        for w in config.windows
    )
    query = f"""
        WITH picks AS (
            SELECT family, game_date, result FROM nba_props.prediction_accuracy
            WHERE recommendation IN ('OVER', 'UNDER') AND NOT coalesce(quarantined, false)
              AND edge >= {config.edge_floor} - 1e-9 AND result IN ('WIN', 'LOSS')
        )
        SELECT m.family, m.game_date, {sql_windows},
            count(*) FILTER (WHERE p.result = 'WIN' AND p.game_date >= DATE '{START}') AS wins_season,
            count(*) FILTER (WHERE p.result = 'LOSS' AND p.game_date >= DATE '{START}') AS losses_season,
            count(*) FILTER (WHERE p.result = 'WIN' AND p.game_date = m.game_date) AS wins_day,
            count(*) FILTER (WHERE p.result = 'LOSS' AND p.game_date = m.game_date) AS losses_day
        FROM nba_props.model_performance_daily m
        LEFT JOIN picks p ON p.family = m.family AND p.game_date <= m.game_date
        GROUP BY m.family, m.game_date ORDER BY m.family, m.game_date
    """
    with duckdb.connect(database, read_only=True) as con:
        expected = con.sql(query).pl().filter(pl.col("family").is_in(list(FAMILIES)))
    columns = [c for c in expected.columns if c.startswith(("wins_", "losses_"))]
    ours = perf.filter(pl.col("family").is_in(list(FAMILIES))).sort("family", "game_date")
    assert ours.height == expected.height == days * len(FAMILIES)
    got = ours.select("family", "game_date", *columns)
    assert got.equals(expected.select("family", "game_date", *[pl.col(c).cast(pl.Int64) for c in columns]))
    totals = ours.filter(pl.col("game_date") == END).select("family", "wins_season", "losses_season", "hr_season")
    champion = ours.filter(pl.col("family") == CHAMPION).select("game_date", "state", "n_7d", "hr_7d", "transition")
    assert totals.get_column("wins_season").sum() > 100  # the window really counts picks
    print(f"\naccuracy rows {accuracy.height}; backfill of {days} days in one run: {seconds:.1f}s")
    print(totals)
    print("champion (naive last10) timeline:", [(str(d), s) for d, s, *_ in champion.iter_rows()])
