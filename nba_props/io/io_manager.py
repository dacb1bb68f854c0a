"""Dagster IO manager and resource over the DuckDB `Warehouse` (polars frames, one table per asset).

Outputs
    * time-window partitioned asset (daily, weekly, ...): the rows of the run's window are
      replaced in one transaction (a single partition or the key range of a single-run
      backfill). The window [start, end) becomes the inclusive game dates start .. end - 1 day
      of the partition column, ``game_date`` unless the asset's metadata sets
      ``partition_expr`` (a weekly asset whose table has ``week_start`` can set
      ``partition_expr="week_start"``: its window's 7 days contain exactly its week_start).
    * unpartitioned asset: the whole table is replaced.
    * ``None``: nothing is written (assets that write through a resource themselves).
    The frame is conformed to ``tables.TABLE_SCHEMAS[name]`` when declared (same columns,
    cast to the declared dtypes; a missing or unexpected column is an error, not a NULL).

Inputs
    * time-window partitioned upstream: the mapped window (same partition, a last-N-days
      ``TimeWindowPartitionMapping``, a backfill range); an empty mapping (no history before the
      first partition) gives an empty frame with the declared columns.
    * unpartitioned upstream, or a downstream that depends on every upstream partition (an
      unpartitioned downstream): the whole table, also into a partitioned downstream (once per
      run, whatever its window; e.g. the external ``alerts`` asset, written outside runs). A table
      never written gives an empty frame with its declared columns (``tables.TABLE_SCHEMAS``); an
      undeclared one is an error (``LookupError``).

The table is ``<schema_name>.<last component of the asset key>`` unless the asset's metadata names
another with ``table``; ``table_scope`` ({column: value}) then makes the asset own only the rows
with those values (several assets sharing one table, e.g. each ingest source's quarantine in
``ingest_quarantine`` scoped by ``asset``): its writes replace and its reads load only those rows.

The table is ``<schema_name>.<last component of the asset key>``. The database file and schema are configured
once, on the nested `WarehouseResource` (the same resource the assets that write tables themselves use).

Why our own IO manager: the upstream integrations do not work with the pinned stack (dagster 1.13.27,
duckdb 2.0.1, polars 2.1.0). dagster-duckdb-polars 0.29.27 (with dagster-duckdb 0.29.27) writes, but every
input load fails: it calls ``DuckDBPyConnection.arrow()``, which duckdb 2.x no longer has (it also returns
an untyped ``pl.DataFrame()`` for an empty partition window). dagster-polars 0.27.12 installs with polars 2.x
but stores Parquet / Delta / BigQuery, not DuckDB. Checked 2026-11; revisit when either releases for
duckdb 2.x.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import dagster as dg
import polars as pl
from dagster import InputContext, OutputContext

from nba_props.io.warehouse import Warehouse
from nba_props.lib import schemas, tables
from nba_props.partitions import CALENDAR_WINDOW, INPUT_COLUMNS, window_dates

DEFAULT_PARTITION_COLUMN = "game_date"


def _partition_column(metadata: Any) -> str:
    value = (metadata or {}).get("partition_expr")
    if value is None:
        return DEFAULT_PARTITION_COLUMN
    return str(getattr(value, "value", value))


def _metadata_value(metadata: Any, key: str) -> Any:
    value = (metadata or {}).get(key)
    return getattr(value, "value", value)


def _table_and_scope(key: dg.AssetKey, metadata: Any) -> tuple[str, dict[str, str]]:
    """The table an asset is stored in and the column values scoping its rows (see module doc)."""
    metadata = metadata or {}
    table = metadata.get("table")
    scope = metadata.get("table_scope")
    return (
        str(getattr(table, "value", table)) if table is not None else key.path[-1],
        {str(k): str(v) for k, v in (getattr(scope, "value", scope) or {}).items()},
    )


def _is_time_window(partitions_def: dg.PartitionsDefinition) -> bool:
    return isinstance(partitions_def, dg.TimeWindowPartitionsDefinition)


# one step's inputs read with the warehouse held open (Warehouse.held): the first load opens the
# database, the others reuse it (~0.4 ms instead of ~25 ms or more a load, several loads a step); released
# after the step's last input (so the compute and other processes do not wait on it), on a failed
# load, at the step's output, and by any other step's first load (a step whose inputs were not all
# loaded)
_HOLDS: dict[tuple[str, str], list] = {}  # (run id, step key) -> [ExitStack, inputs left]


def _release(key: tuple[str, str] | None = None) -> None:
    for k in [k for k in _HOLDS if key is None or k == key]:
        _HOLDS.pop(k)[0].close()


def _step_of(context: InputContext | OutputContext) -> tuple[tuple[str, str], int] | None:
    """(run id, step key) and the number of inputs the step loads; None outside a run's step."""
    try:
        step = context.step_context
    except Exception:  # a context built outside a run (tests): no hold
        return None
    inputs = sum(1 for d in step.op_def.input_defs if not d.dagster_type.is_nothing)
    return (step.run_id, step.step.key), inputs


def _held_load(context: InputContext, warehouse: Warehouse, load: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    step = _step_of(context)
    if step is None or not warehouse.path.exists():  # (holding would create the file)
        return load()
    key, inputs = step
    if key not in _HOLDS:
        _release()  # another step's hold left over
        stack = ExitStack()
        stack.enter_context(warehouse.held())
        _HOLDS[key] = [stack, inputs]
    try:
        frame = load()
    except BaseException:
        _release(key)
        raise
    _HOLDS[key][1] -= 1
    if _HOLDS[key][1] <= 0:
        _release(key)
    return frame


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse (file and schema), configured once: the IO manager stores through it and assets
    that read or write tables themselves (quarantine, training, evaluation) use it directly."""

    database: str
    schema_name: str = "nba_props"

    def warehouse(self) -> Warehouse:
        return Warehouse(self.database, schema=self.schema_name)


class DuckDBPolarsIOManager(dg.ConfigurableIOManager):
    """Stores polars frames in DuckDB tables ``<schema_name>.<asset name>`` (see module doc)."""

    storage: WarehouseResource

    # ------------------------------------------------------------------ outputs

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        step = _step_of(context)
        if step is not None:
            _release(step[0])  # the step's inputs are read (a hold left by inputs not all loaded)
        if obj is None:
            return
        if isinstance(obj, pl.LazyFrame):
            obj = obj.collect()
        if not isinstance(obj, pl.DataFrame):
            raise TypeError(
                f"{type(self).__name__} stores polars DataFrames; asset {context.asset_key.to_user_string()} "
                f"returned {type(obj).__name__}"
            )
        name, scope = _table_and_scope(context.asset_key, context.definition_metadata)
        declared = tables.TABLE_SCHEMAS.get(name)
        if declared is not None:  # an asset's output has exactly its declared columns
            frame = schemas.conform(obj, declared, missing="error", extra="error",
                                    what=f"asset {name!r} (tables.TABLE_SCHEMAS[{name!r}])")  # fmt: skip
        else:
            frame = obj
        warehouse = self.storage.warehouse()

        if context.has_asset_partitions:
            partitions_def = context.asset_partitions_def
            if not _is_time_window(partitions_def):
                raise NotImplementedError(
                    f"asset {name!r}: {type(self).__name__} only stores time-window partitions "
                    f"(got {type(partitions_def).__name__})"
                )
            start, end = window_dates(context.asset_partitions_time_window)
            column = _partition_column(context.definition_metadata)
            rows = warehouse.replace_partitions(
                name, frame, start=start, end=end, partition_column=column, declared=declared, where=scope
            )
            window_text = f"{start} .. {end}"
            # the rows of the run's whole window (a single-run backfill: every partition of a range);
            # over a range each partition's own `dagster/row_count` is the asset's to record
            # (dagster_helpers.record_partition_metadata), never this total
            count = {"run_rows": rows}
            if len(context.asset_partition_keys) == 1:
                count["dagster/row_count"] = rows
        else:
            if scope:
                raise NotImplementedError(f"asset {name!r}: a table_scope needs a time-window partitioned asset")
            rows = warehouse.replace_table(name, frame, declared=declared)
            window_text = "whole table"
            count = {"dagster/row_count": rows}

        context.add_output_metadata(
            {
                **count,
                "table": warehouse.qualified(name),
                "partition_window": window_text,
            }
        )

    # ------------------------------------------------------------------ inputs

    def load_input(self, context: InputContext) -> pl.DataFrame | pl.LazyFrame:
        upstream_metadata = context.upstream_output.definition_metadata if context.upstream_output is not None else None
        name, scope = _table_and_scope(context.asset_key, upstream_metadata)
        declared = tables.TABLE_SCHEMAS.get(name)
        warehouse = self.storage.warehouse()
        column = _partition_column(upstream_metadata)
        # an input may read only some columns of a wide table (its AssetIn metadata `columns`)
        wanted = _metadata_value(context.definition_metadata, INPUT_COLUMNS)
        load = functools.partial(warehouse.load, columns=list(wanted) if wanted is not None else None)
        frame = _held_load(context, warehouse, lambda: self._load(context, load, name, declared, column, scope))
        typing_type = getattr(context.dagster_type, "typing_type", None)
        return frame.lazy() if typing_type is pl.LazyFrame else frame

    def _load(
        self,
        context: InputContext,
        load: Callable[..., pl.DataFrame],
        name: str,
        declared: pl.Schema | None,
        column: str,
        scope: dict[str, str],
    ) -> pl.DataFrame:
        if not context.has_asset_partitions:
            return load(name, declared=declared, where=scope)
        partitions_def = context.asset_partitions_def
        keys = context.asset_partition_keys
        calendar_days = _metadata_value(context.definition_metadata, CALENDAR_WINDOW)
        if _is_time_window(partitions_def):
            if not keys:  # e.g. the days before the first partition: no history yet
                start = partitions_def.start.date()
                return load(
                    name,
                    start=start,
                    end=start - timedelta(days=1),
                    declared=declared,
                    partition_column=column,
                    where=scope,
                )
            start, end = window_dates(context.asset_partitions_time_window)
            if calendar_days is not None:  # a history input: its calendar days, whatever the exclusions
                first, last = window_dates(context.step_context.partition_time_window)
                start = max(start, first + timedelta(days=int(calendar_days[0])))
                end = min(end, last + timedelta(days=int(calendar_days[1])))
            elif self._covers_every_partition(partitions_def, keys):
                return load(name, declared=declared, where=scope)
            return load(name, start=start, end=end, declared=declared, partition_column=column, where=scope)
        if self._covers_every_partition(partitions_def, keys):
            return load(name, declared=declared, where=scope)
        raise NotImplementedError(
            f"input {name!r}: {type(self).__name__} only loads time-window partitions or the whole "
            f"table (got a subset of {type(partitions_def).__name__})"
        )

    @staticmethod
    def _covers_every_partition(partitions_def: dg.PartitionsDefinition, keys: list[str]) -> bool:
        """True when the input maps to every upstream partition (an unpartitioned downstream)."""
        try:
            return len(keys) >= partitions_def.get_num_partitions()
        except Exception:  # e.g. dynamic partitions without an instance: fall back to the window
            return False
