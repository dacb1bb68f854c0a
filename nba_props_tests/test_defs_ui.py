"""What a user sees in the UI: column descriptions, owners and tags, each partition's own figures."""

from datetime import date

import polars as pl
import pytest

from nba_props.dagster_helpers import ROW_COUNT, partition_figures
from nba_props.lib import tables


@pytest.fixture
def asset_nodes(nba_home):
    from nba_props import definitions

    return {node.key.path[-1]: node for node in definitions.defs().resolve_asset_graph().asset_nodes}


def test_every_column_of_every_column_schema_has_a_description(asset_nodes):
    described = 0
    for name, node in asset_nodes.items():
        schema = node.metadata.get("dagster/column_schema")
        if schema is None:
            assert name.endswith("_feed") or name == "model_evaluation", name  # no table behind it
            continue
        empty = [column.name for column in schema.columns if not (column.description or "").strip()]
        assert not empty, (name, empty)
        described += len(schema.columns)
    assert described > 250  # player_features alone has 132 columns
    features = asset_nodes["player_features"].metadata["dagster/column_schema"]
    by_name = {column.name: column.description for column in features.columns}
    # from the contract entry: its description, unit, range and default
    assert by_name["points_avg_last_5"].startswith("Mean points over the player's last 5 games")
    assert "valid [0, 100]; default 10;" in by_name["points_avg_last_5"]
    assert by_name["points_avg_last_5__source"].startswith("Where points_avg_last_5 came from")


def test_a_column_without_a_description_is_found(monkeypatch):
    docs = dict(tables.COLUMN_DESCRIPTIONS)
    docs["schedule"] = {k: v for k, v in docs["schedule"].items() if k != "status"} | {"status": " "}
    docs["box_scores"] = {**docs["box_scores"], "not_a_column": "stale"}
    monkeypatch.setattr(tables, "COLUMN_DESCRIPTIONS", docs)
    assert tables.undescribed_columns() == {"schedule": ["status"], "box_scores": ["not_a_column (not a column)"]}


def test_every_asset_has_an_owner_and_domain_and_cadence_tags(asset_nodes):
    for name, node in asset_nodes.items():
        assert node.owners == ["team:nba-props"], name
        assert node.tags["domain"] == node.group_name, name
    assert asset_nodes["box_scores"].tags["cadence"] == "daily"
    assert asset_nodes["trained_models"].tags["cadence"] == "weekly"


def test_partition_figures_are_each_days_own_from_one_group_by():
    frame = pl.DataFrame(
        {
            "game_date": [date(2025, 3, 10)] * 3 + [date(2025, 3, 12)],
            "game_id": ["a", "a", "b", "c"],
            "points": [10, 20, 30, 7],
        }
    )
    figures = {"games": pl.col("game_id").n_unique(), "mean_points": pl.col("points").mean()}
    got = partition_figures(frame, ["2025-03-10", "2025-03-11", "2025-03-12"], figures=figures)
    assert got == {
        "2025-03-10": {ROW_COUNT: 3, "games": 2, "mean_points": 20.0},
        # a day without rows: 0 rows, 0 games, and no mean (NULL) rather than a made-up value
        "2025-03-11": {ROW_COUNT: 0, "games": 0},
        "2025-03-12": {ROW_COUNT: 1, "games": 1, "mean_points": 7.0},
    }
    weekly = pl.DataFrame({"week_start": [date(2025, 3, 10)] * 2, "family": ["x", "y"]})
    assert partition_figures(weekly, ["2025-03-10"], column="week_start") == {"2025-03-10": {ROW_COUNT: 2}}


def _partition_metadata_asset(bulk: bool):
    import dagster as dg

    from nba_props.dagster_helpers import add_partitions_metadata

    days = dg.DailyPartitionsDefinition(start_date="2025-03-10", end_date="2025-03-14")

    @dg.asset(name="bulk" if bulk else "public", partitions_def=days)
    def _asset(context: dg.AssetExecutionContext) -> None:
        first = {key: {"n": i, "kept": "first"} for i, key in enumerate(context.partition_keys)}
        later = {key: {"n": 10 * i} for i, key in enumerate(context.partition_keys)}  # merged over `first`
        for figures in (first, later):
            if bulk:
                add_partitions_metadata(context, figures)
            else:
                for key, values in figures.items():
                    context.add_asset_metadata(values, partition_key=key)

    return _asset


def test_bulk_partition_metadata_records_what_the_public_call_records_per_partition():
    import dagster as dg

    instance = dg.DagsterInstance.ephemeral()
    seen = {}
    for bulk in (True, False):
        asset = _partition_metadata_asset(bulk)
        result = dg.materialize([asset], instance=instance, tags={"dagster/asset_partition_range_start": "2025-03-10",
                                                                  "dagster/asset_partition_range_end": "2025-03-13"})  # fmt: skip
        assert result.success
        seen[bulk] = {
            m.partition: {k: v.value for k, v in m.metadata.items()} for m in result.asset_materializations_for_node(
                asset.op.name)
        }  # fmt: skip
    assert seen[True] == seen[False]
    assert seen[True]["2025-03-12"] == {"n": 20, "kept": "first"}
    assert sorted(seen[True]) == ["2025-03-10", "2025-03-11", "2025-03-12", "2025-03-13"]


def test_bulk_partition_metadata_refuses_a_partition_the_run_does_not_target():
    import dagster as dg

    from nba_props.dagster_helpers import add_partitions_metadata

    days = dg.DailyPartitionsDefinition(start_date="2025-03-10", end_date="2025-03-14")

    @dg.asset(partitions_def=days)
    def stray(context: dg.AssetExecutionContext) -> None:
        add_partitions_metadata(context, {"2025-03-13": {"n": 1}})

    with pytest.raises(dg.DagsterInvariantViolationError, match="not targeted by this run"):
        dg.materialize([stray], partition_key="2025-03-10", instance=dg.DagsterInstance.ephemeral())
