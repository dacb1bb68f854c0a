"""In-process walk-forward on a small simulated season: ingest → features for 40 days, train the
week after, predict that week, grade and report."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from nba_props_tests.conftest import TRAINED_WEEK as WEEK
from nba_props_tests.conftest import _point_at


@pytest.fixture(scope="module")
def week_league(trained_league, tmp_path_factory) -> Path:
    """The trained league (conftest) with the rest of the week ingested and featured: built once per
    module (read-only template), copied per test by `week_home`."""
    from nba_props.cli import run_backfill

    home = tmp_path_factory.mktemp("week") / "home"
    shutil.copytree(trained_league.home, home)
    with pytest.MonkeyPatch.context() as env:
        _point_at(env, home, trained_league.sim)
        summary = run_backfill(WEEK + timedelta(days=1), WEEK + timedelta(days=6), exclude=["predictions"])
    assert not any(f.get("failed") for f in summary.values()), summary
    return home


@pytest.fixture
def week_home(week_league, trained_league, tmp_path, monkeypatch) -> Path:
    """A copy of `week_league` (warehouse, artifacts, Dagster instance), the environment pointing at it."""
    home = tmp_path / "home"
    shutil.copytree(week_league, home)
    _point_at(monkeypatch, home, trained_league.sim)
    return home


def test_training_reads_only_its_declared_inputs(trained_league):
    _assert_reads_only_declared_inputs("trained_models", set(trained_league.training_reads))


@contextmanager
def _tables_read(monkeypatch):
    """Every table read from the warehouse meanwhile (by the IO manager or through the resource)."""
    from nba_props.io.warehouse import Warehouse

    read: set[str] = set()
    load = Warehouse.load

    def recording_load(self, table, *args, **kwargs):
        read.add(table)
        return load(self, table, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Warehouse, "load", recording_load)
        yield read


def _assert_reads_only_declared_inputs(asset: str, read: set[str]) -> None:
    """A run of `asset` alone reads only the tables the graph shows upstream of it (its own table aside)."""
    from nba_props import definitions

    graph = definitions.defs().resolve_asset_graph()
    declared = {key.path[-1] for key in graph.get(dg.AssetKey(asset)).parent_keys}
    assert read, asset
    assert read - {asset} <= declared, (asset, sorted(read - {asset} - declared))


def _warehouse():
    from nba_props.io.warehouse import Warehouse
    from nba_props.settings import load_settings

    return Warehouse(load_settings().duckdb_path)


def test_training_registers_each_family_once_on_games_before_the_week(week_home):
    registry = _warehouse().load("trained_models")
    assert registry.height >= 4  # families with enough rows in 35 days
    assert registry.select("week_start", "family").is_unique().all()
    assert (registry["train_end"] < WEEK).all() and (registry["eval_end"] < WEEK).all()
    assert (registry["train_end"] < registry["eval_start"]).all()  # train and evaluation never overlap
    assert set(registry["lifecycle_state"]) <= {"active", "champion", "blocked"}
    assert registry.filter(pl.col("family") == "v9_mae")["lifecycle_state"].to_list() in (["champion"], ["blocked"])


def test_predictions_use_the_weeks_models_and_grade(week_home, monkeypatch):
    from nba_props.cli import run_backfill, run_evaluation

    with _tables_read(monkeypatch) as read:
        summary = run_backfill(WEEK, WEEK + timedelta(days=6), select=["predictions"])
    assert not summary["predictions"].get("failed"), summary
    _assert_reads_only_declared_inputs("predictions", read)
    summary = run_backfill(WEEK, WEEK + timedelta(days=6), select=["prediction_accuracy"])  # the report reads it
    assert not summary["prediction_accuracy"].get("failed"), summary
    warehouse = _warehouse()
    predictions = warehouse.load("predictions")
    registry = warehouse.load("trained_models")
    serving = registry.filter(pl.col("lifecycle_state").is_in(["active", "champion"]))
    assert set(predictions["model_id"]) == set(serving["model_id"])
    assert predictions.select("game_id", "player_lookup", "model_id").is_unique().all()
    assert predictions["predicted_points"].is_between(0, 60).all()
    lined = predictions.filter(pl.col("line").is_not_null())
    assert lined["p_over"].is_between(0, 1).all() and lined["direction"].is_in(["OVER", "UNDER"]).all()
    assert predictions.filter(pl.col("line").is_null())["recommendation"].eq("NO_LINE").all()
    # Vegas families predict lined rows only; no-vegas families also predict players without a line.
    v9 = predictions.filter(pl.col("family") == "v9_mae")
    assert v9.height == 0 or v9["line"].is_not_null().all()

    # the single run of the week recorded each date's own figures on its partition
    with dg.DagsterInstance.from_config(str(week_home / "dagster_home")) as instance:
        for offset in range(7):
            day = WEEK + timedelta(days=offset)
            (record,) = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey("predictions"), asset_partitions=[day.isoformat()]), limit=1
            ).records
            metadata = {k: v.value for k, v in record.asset_materialization.metadata.items()}
            of_day = predictions.filter(pl.col("game_date") == day)
            assert metadata["dagster/row_count"] == of_day.height, day
            assert metadata["run_rows"] == predictions.height
            assert metadata["recommended"] == of_day["recommendation"].is_in(["OVER", "UNDER"]).sum(), day
            for family in set(predictions["family"]):
                assert metadata[f"predictions_{family}"] == of_day.filter(pl.col("family") == family).height
        (week,) = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("trained_models"), asset_partitions=[WEEK.isoformat()]), limit=1
        ).records
        assert week.asset_materialization.metadata["dagster/row_count"].value == registry.height

    with _tables_read(monkeypatch) as read:
        markdown, report = run_evaluation(WEEK, WEEK + timedelta(days=6))
    _assert_reads_only_declared_inputs("model_evaluation", read)
    assert report["champion"] == "v9_mae"
    predicted = set(predictions["family"])
    for family, figures in report["families"].items():
        assert family in markdown
        if family not in predicted:  # e.g. blocked by governance this week: listed, with why
            assert figures["n"] == 0 and figures["why_no_predictions"], family
            continue
        assert figures["n"] > 0 and 0 < figures["mae"] < 15, family
        assert set(figures["hr"]) == {"1", "3", "5"}
