"""Dagster glue every asset module shares (kept out of `defs/` so the loader sees only definitions):
partitions, backfill policy, pool, column schema, check specs, and turning a rule's offending rows
(from `lib`) into an AssetCheckResult with counts and a sample."""

from __future__ import annotations

import dagster as dg
import polars as pl

from nba_props.lib import tables
from nba_props.partitions import game_date_partitions


def column_schema(table: str) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name, str(dtype)) for name, dtype in tables.TABLE_SCHEMAS[table].items()]
    )


def daily_asset_kwargs(name: str, description: str, group: str) -> dict[str, object]:
    return dict(
        name=name,
        description=description,
        group_name=group,
        partitions_def=game_date_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"duckdb", "polars"},
        pool="duckdb",
        metadata={"dagster/column_schema": column_schema(name), "partition_expr": "game_date"},
    )


def check_spec(asset: str, name: str, description: str, blocking: bool = False) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(name=name, asset=asset, description=description, blocking=blocking)


def unique_key_spec(asset: str) -> dg.AssetCheckSpec:
    key = ", ".join(tables.TABLE_KEYS[asset])
    return check_spec(asset, "unique_key", f"({key}) is unique within the partition", blocking=True)


def counts_of(frame, column: str) -> dict[str, int]:
    if frame.height == 0:
        return {}
    return {str(k): int(v) for k, v in frame.group_by(column).len().sort(column).iter_rows()}


SAMPLE_ROWS = 5


def rows_check(
    check_name: str,
    offending: pl.DataFrame,
    *,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    **extra_metadata: object,
) -> dg.AssetCheckResult:
    metadata: dict[str, object] = {"offending_rows": offending.height, **extra_metadata}
    if offending.height:
        metadata["sample"] = dg.MetadataValue.md(_markdown(offending.head(SAMPLE_ROWS)))
    return dg.AssetCheckResult(
        check_name=check_name, passed=offending.height == 0, severity=severity, metadata=metadata
    )


def _markdown(frame: pl.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *body])
