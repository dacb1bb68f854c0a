"""The project's Dagster instance: Dagster's SQLite storage, keeping one SQLAlchemy engine and a
pooled connection per database file instead of building, opening and closing them per statement.

Dagster's SQLite run and event-log storages call `create_engine` (with `NullPool`) on every
connection. So every event a run writes (~24 per step: inputs, outputs, check evaluations, ...)
paid for a new engine, recompiled its INSERT, opened the file, fsynced its commit and, closing the
file's last connection, ran a WAL checkpoint. On the replay that was most of Dagster's bookkeeping
(bench/replay.py; the issue 9 note has the figures). Here each file keeps its engine (the
compiled-statement cache) and a small pool of open connections, with `synchronous=NORMAL`, the
setting SQLite recommends for WAL databases (Dagster's files are WAL): a crash of the process
loses nothing committed and never corrupts; an OS crash or power loss may lose the last commits.
Other processes (webserver, daemon, run workers) share the files exactly as before (SQLite's own
locking; readers never block in WAL). Engines of run shards are bounded (least recently used), so
a long-lived process does not keep every run's file open.

Two of Dagster's questions, asked per step and per check, are answered with less work: whether the
asset_keys table has a column (reflected on every call; remembered once present) and which is the
newest materialization of an asset partition (asked after every check a partitioned step yields:
one indexed query, and the event this process stored or parsed before; `_newest_of_partition`).

`dagster.yaml` selects it with `instance_class` (nba_props/dagster_instance.yaml), whose
`config_defaults` put this storage where Dagster's default SQLite storage would be: the same
folders under the instance's home, so no path or environment variable is written in the file.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from threading import Lock

import yaml
from dagster._core.definitions.asset_key import AssetKey
from dagster._core.event_api import AssetRecordsFilter, EventLogCursor, EventLogRecord, EventRecordsResult
from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.instance import DagsterInstance, InstanceRef
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, QueuePool

# Run shards touched recently (a run's own, the index shard, the UI's reads): enough to keep the
# active ones without keeping a file open for every run the instance has ever had.
MAX_ENGINES = 16
# Open connections kept per file; more are opened (and closed after use) when threads overlap.
POOL_SIZE, MAX_OVERFLOW = 1, 8
# Materialization events remembered for the newest-of-partition lookups (a season's backfill of
# one asset stores ~250 partitions; each event is a few KB)
REMEMBERED_EVENTS = 1024


def _on_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class EngineCache:
    """SQLAlchemy engines (pooled connections, `synchronous=NORMAL`) by connection string, the
    least recently used disposed (its connections closed) beyond `size`."""

    def __init__(self, size: int = MAX_ENGINES, **engine_kwargs) -> None:
        self._size, self._kwargs = size, engine_kwargs
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._lock = Lock()
        self.created = 0  # engines built (a test reads it)

    def get(self, conn_string: str) -> Engine:
        with self._lock:
            engine = self._engines.get(conn_string)
            if engine is None:
                engine = create_engine(
                    conn_string, poolclass=QueuePool, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW, **self._kwargs
                )
                event.listen(engine, "connect", _on_connect)
                self._engines[conn_string] = engine
                self.created += 1
                if len(self._engines) > self._size:
                    _, evicted = self._engines.popitem(last=False)
                    evicted.dispose()
            else:
                self._engines.move_to_end(conn_string)
            return engine

    def dispose(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


class CachedEngineSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's run-sharded SQLite event log with its engines kept (see the module docstring)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self.engines = EngineCache(connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        self._tables_present: set[str] = set()
        self._asset_key_columns_present: set[str] = set()
        # the newest materialization lookups (`_newest_of_partition`): this process's stored events
        # by (asset, partition) and the records answered, by storage id
        self._stored = _Recent(REMEMBERED_EVENTS)
        self._records = _Recent(REMEMBERED_EVENTS)
        self.newest_of_partition_answers = 0  # a test reads it
        self._shard_template: bytes | None = None
        self.shards_from_template = 0  # a test reads it
        super().__init__(base_dir, inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # Dagster's `_connect`, with the engine from the cache instead of a new one per call
        with self._db_lock:
            engine = self.engines.get(self.conn_string_for_shard(shard))
            if shard not in self._initialized_dbs:
                if not self._new_shard_from_template(shard):
                    self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _new_shard_from_template(self, shard: str) -> bool:
        """A new run's shard as a copy of an empty shard Dagster initialised once in this process:
        Dagster's `_initdb` (create the tables, load alembic's scripts, stamp the revision) costs
        ~0.1 s a run. The copy is linked into place atomically and never over an existing file
        (another process's shard is initialised the usual way). False: not done."""
        path = self.path_for_shard(shard)
        if shard == INDEX_SHARD_NAME or os.path.exists(path):
            return False
        if self._shard_template is None:
            self._shard_template = self._empty_shard()
        staging = f"{path}.{os.getpid()}.{threading.get_ident()}.new"  # not *.db: never taken for a run
        try:
            with open(staging, "wb") as out:
                out.write(self._shard_template)
            os.link(staging, path)
        except FileExistsError:
            return False
        finally:
            with suppress(FileNotFoundError):
                os.unlink(staging)
        self.shards_from_template += 1
        return True

    def _empty_shard(self) -> bytes:
        with tempfile.TemporaryDirectory(prefix="nba-props-shard-") as folder:
            path = os.path.join(folder, "template.db")
            engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
            try:
                self._initdb(engine)
                with engine.connect() as conn:  # everything in the main file, nothing left in the WAL
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                engine.dispose()
            with open(path, "rb") as template:
                return template.read()

    def has_table(self, table_name: str) -> bool:
        # Dagster's asks SQLite with a new engine on every call, and asks per asset check event
        # (`supports_asset_checks`); a table once present stays (a migration only adds tables)
        if table_name in self._tables_present:
            return True
        engine = self.engines.get(self.conn_string_for_shard(INDEX_SHARD_NAME))
        with engine.connect() as conn:
            present = bool(engine.dialect.has_table(conn, table_name))
        if present:
            self._tables_present.add(table_name)
        return present

    def has_asset_key_col(self, column_name: str) -> bool:
        # Dagster's reflects the asset_keys table (PRAGMA table_info) on every call, several per
        # automation evaluation and per materialization; a column once present stays
        if column_name in self._asset_key_columns_present:
            return True
        present = super().has_asset_key_col(column_name)
        if present:
            self._asset_key_columns_present.add(column_name)
        return present

    def store_event(self, event: EventLogEntry) -> None:
        super().store_event(event)
        if event.dagster_event_type == DagsterEventType.ASSET_MATERIALIZATION:
            partition = event.get_dagster_event().partition
            if partition is not None:
                self._stored.put((event.get_dagster_event().asset_key.to_string(), partition), event)

    def fetch_materializations(
        self,
        records_filter: AssetKey | AssetRecordsFilter,
        limit: int,
        cursor: str | None = None,
        ascending: bool = False,
    ) -> EventRecordsResult:
        newest = None
        if limit == 1 and cursor is None and not ascending and _one_partition(records_filter):
            newest = self._newest_of_partition(records_filter.asset_key, records_filter.asset_partitions[0])
        return newest or super().fetch_materializations(records_filter, limit, cursor, ascending)

    def _newest_of_partition(self, asset_key: AssetKey, partition: str) -> EventRecordsResult | None:
        """The newest materialization of one asset partition, as Dagster's query returns it: what a
        step asks after each check it yields (the check's target; ~5 ms a time in Dagster's query,
        its asset-details lookup and the event's parse; 44 checks in a lines run). One indexed
        query for the row's id and run; the record is this process's own event when it stored
        that row (an asset partition is materialized once per run), else remembered by id (a
        stored event never changes). None (Dagster answers): no row, or a wiped asset."""
        key = asset_key.to_string()
        with self.index_connection() as conn:
            row = conn.exec_driver_sql(_NEWEST_OF_PARTITION, (key, _MATERIALIZATION, partition)).first()
        if row is None or row[2] is not None or row[3] is not None:
            return None
        storage_id, run_id = row[0], row[1]
        record = self._records.get(storage_id)
        if record is None:
            stored = self._stored.get((key, partition))
            if stored is not None and stored.run_id == run_id:
                record = EventLogRecord(storage_id=storage_id, event_log_entry=stored)
            else:
                result = super().fetch_materializations(
                    AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition]), limit=1
                )
                if not result.records or result.records[0].storage_id != storage_id:
                    return result
                record = result.records[0]
            self._records.put(storage_id, record)
        self.newest_of_partition_answers += 1
        cursor = EventLogCursor.from_storage_id(storage_id).to_string()
        return EventRecordsResult(records=[record], cursor=cursor, has_more=True)

    def dispose(self) -> None:
        super().dispose()
        self.engines.dispose()


def _one_partition(records_filter: object) -> bool:
    """An asset key and one partition, nothing else (the shape of a check's target lookup)."""
    return (
        isinstance(records_filter, AssetRecordsFilter)
        and records_filter.asset_partitions is not None
        and len(records_filter.asset_partitions) == 1
        and records_filter
        == AssetRecordsFilter(asset_key=records_filter.asset_key, asset_partitions=records_filter.asset_partitions)
    )


class _Recent(OrderedDict):
    """A bounded mapping, the least recently used entries dropped."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size
        self._lock = Lock()

    def get(self, key, default=None):
        with self._lock:
            if key not in self:
                return default
            self.move_to_end(key)
            return self[key]

    def put(self, key, value) -> None:
        with self._lock:
            self[key] = value
            self.move_to_end(key)
            if len(self) > self._size:
                self.popitem(last=False)


_MATERIALIZATION = DagsterEventType.ASSET_MATERIALIZATION.value
# the index shard's newest materialization of an asset partition, with the asset's wipe fields
_NEWEST_OF_PARTITION = (
    "SELECT e.id, e.run_id, k.asset_details, k.wipe_timestamp FROM event_logs e "
    "LEFT JOIN asset_keys k ON k.asset_key = e.asset_key "
    "WHERE e.asset_key = ? AND e.dagster_event_type = ? AND e.partition = ? ORDER BY e.id DESC LIMIT 1"
)


class CachedEngineSqliteRunStorage(SqliteRunStorage):
    """Dagster's SQLite run storage with its one engine kept."""

    def __init__(self, conn_string: str, inst_data: ConfigurableClassData | None = None) -> None:
        super().__init__(conn_string, inst_data)
        self.engines = EngineCache(size=1)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engines.get(self._conn_string).connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        super().dispose()
        self.engines.dispose()


class CachedEngineSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (same folders under `base_dir`) built from the classes above."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self.base_dir = base_dir
        self._run_storage = CachedEngineSqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = CachedEngineSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        DagsterStorage.__init__(self)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping) -> CachedEngineSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)


class NbaPropsInstance(DagsterInstance):
    """A `DagsterInstance` whose default storage (no `storage:` in dagster.yaml) is
    `CachedEngineSqliteStorage` in the instance's home; every other default is Dagster's."""

    @classmethod
    def config_schema(cls) -> dict:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, ConfigurableClassData | None]:
        storage = ConfigurableClassData(
            __name__, CachedEngineSqliteStorage.__name__, yaml.dump({"base_dir": base_dir}, default_flow_style=False)
        )
        return {**InstanceRef.config_defaults(base_dir), "storage": storage}
