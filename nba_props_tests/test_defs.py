"""Invariants of the loaded definitions: one partitions definition, checks, policies, resources."""

import dagster as dg
import pytest

from nba_props.lib import tables
from nba_props.partitions import game_date_partitions

INGEST_ASSETS = ("schedule", "box_scores", "prop_line_snapshots", "injury_report")


@pytest.fixture
def defs(nba_home):
    from nba_props import definitions

    return definitions.defs()


def _assets(defs):
    graph = defs.resolve_asset_graph()
    return {node.key.path[-1]: node for node in graph.asset_nodes}


def test_every_daily_asset_uses_the_one_game_date_partitions_definition(defs):
    assets = _assets(defs)
    assert set(INGEST_ASSETS) <= set(assets)
    for name in INGEST_ASSETS:
        assert assets[name].partitions_def == game_date_partitions, name


def test_ingest_assets_declare_unique_key_checks_and_single_run_backfills(defs):
    assets = _assets(defs)
    for name in INGEST_ASSETS:
        node = assets[name]
        check_names = {key.name for key in node.check_keys}
        assert "unique_key" in check_names, name
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), name
        assert node.group_name == "ingest"
        schema = node.metadata["dagster/column_schema"]
        assert [c.name for c in schema.columns] == list(tables.TABLE_SCHEMAS[name]), name


def test_box_scores_reads_the_same_days_schedule(defs):
    assets = _assets(defs)
    assert dg.AssetKey("schedule") in assets["box_scores"].parent_keys


def test_main_job_and_resources_are_bound(defs):
    job = defs.resolve_job_def("nba_props_daily")
    assert job.partitions_def == game_date_partitions
    resources = defs.get_repository_def().get_top_level_resources()
    assert {"io_manager", "warehouse", "artifacts", "provider"} <= set(resources)


def test_the_io_manager_stores_through_the_one_warehouse_resource(nba_home):
    """The DuckDB file is configured once: the IO manager's storage is the `warehouse` resource."""
    from nba_props.resources import build_resources
    from nba_props.settings import load_settings

    settings = load_settings()
    resources = build_resources(settings)
    assert resources["io_manager"].storage == resources["warehouse"]
    assert resources["warehouse"].warehouse().path == settings.duckdb_path


def test_bigquery_storage_is_refused_with_a_clear_message(nba_home, monkeypatch):
    from nba_props import definitions

    monkeypatch.setenv("NBA_PROPS_STORAGE", "bigquery")
    with pytest.raises(Exception) as raised:
        definitions.defs()
    # The defs-folder loader wraps the error; the cause a user reads names the variable.
    chain, error = [], raised.value
    while error is not None:
        chain.append(error)
        error = error.__cause__
    assert any(isinstance(e, NotImplementedError) and "NBA_PROPS_STORAGE" in str(e) for e in chain)


def test_each_sources_rows_and_quarantine_come_from_one_feed_in_the_lineage(defs):
    """The UI draws feed -> source and feed -> source_quarantine: where quarantined rows come from."""
    graph = defs.resolve_asset_graph()
    for name in INGEST_ASSETS:
        feed = dg.AssetKey(f"{name}_feed")
        assert not graph.get(feed).is_executable, name  # the provider's files/API: read, never materialized
        assert feed in graph.get(dg.AssetKey(name)).parent_keys, name
        assert graph.get(dg.AssetKey(f"{name}_quarantine")).parent_keys == {feed}, name
    job = defs.resolve_job_def("nba_props_daily")
    assert not {k.to_user_string() for k in job.asset_layer.executable_asset_keys} & {
        f"{n}_feed" for n in INGEST_ASSETS
    }
