"""The one launcher of the runs the project starts itself (CLI, demo, evaluate, replay).

A run launched here is recorded like a run launched from the UI: with the remote job origin of
the code location of `workspace.yaml` (location `nba_props`, module `nba_props.definitions`) and
its job code origin, so the UI re-executes it without the "may be a different version" warning
and lists it on the Overview timeline. It executes synchronously in the calling process with the
in-process executor (DuckDB has one writer).

Settings travel as the code location's environment: the definitions are loaded once per process
from `nba_props.definitions` with the environment's `NBA_PROPS_*` settings, as the webserver loads
them (hence the same job snapshot). A caller passing other `Settings` (the evaluation's own
warehouse) gets the same definitions with resources built from them (see `code_location`).
`run_config` still overrides top-level resources per run (the replay's frozen `clock`).

Crash recovery: every run carries the launching process (`nba_props/pid`, `nba_props/host`,
`nba_props/process_start`) so `recover_orphaned_runs` can decide that its process is gone, mark
it FAILURE with a reason and free its pool slots. Before launching, `launch` waits (sleeping,
with backoff) for a free slot of every pool the run's steps use, instead of letting the
executor's loop spin on a blocked step; a wait beyond `config/runs.yaml` `pool_wait.limit_seconds`
raises `PoolWaitTimeout` (logged at ERROR).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import dagster as dg

from nba_props import freshness
from nba_props.lib.runs_config import RunsConfig, load_runs_config
from nba_props.settings import Settings, load_settings

log = logging.getLogger(__name__)

# The code location of workspace.yaml (a test keeps them in step).
LOCATION_NAME = "nba_props"
DEFINITIONS_MODULE = "nba_props.definitions"
DEFINITIONS_ATTRIBUTE = "defs"

LAUNCHERS = ("cli", "demo", "evaluate", "replay", "sensor", "automation")
TAG_PREFIX = "nba_props/"
LAUNCHED_BY_TAG = f"{TAG_PREFIX}launched_by"
PID_TAG = f"{TAG_PREFIX}pid"
HOST_TAG = f"{TAG_PREFIX}host"
PROCESS_START_TAG = f"{TAG_PREFIX}process_start"
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


# --------------------------------------------------------------------------------------------
# the code location, loaded once per process


@dataclass(frozen=True)
class CodeLocation:
    """The definitions of the `nba_props` code location as this process loaded them."""

    repository: Any  # RepositoryDefinition
    recon_repository: Any  # ReconstructableRepository: gives the job code origin
    repository_origin: Any  # RemoteRepositoryOrigin: gives the remote job origin (what the UI matches)
    settings: Settings  # the settings its resources were built from
    subsets: dict = field(default_factory=dict, compare=False, repr=False)  # see job_subset

    def job(self, name: str) -> dg.JobDefinition:
        return self.repository.get_job(name)

    def job_subset(
        self, name: str, assets: frozenset[dg.AssetKey], checks: frozenset[dg.AssetCheckKey]
    ) -> dg.JobDefinition:
        """`name` narrowed to these assets and checks, built once per selection (a replay or a
        sensor launches the same few selections again and again; a subset takes ~50 ms)."""
        key = (name, assets, checks)
        if key not in self.subsets:
            self.subsets[key] = self.job(name).get_subset(
                asset_selection=set(assets), asset_check_selection=set(checks)
            )
        return self.subsets[key]

    def remote_job_origin(self, job_name: str):
        from dagster._core.remote_origin import RemoteJobOrigin

        return RemoteJobOrigin(repository_origin=self.repository_origin, job_name=job_name)

    def job_code_origin(self, job_name: str):
        return self.recon_repository.get_reconstructable_job(job_name).get_python_origin()


def code_location(settings: Settings | None = None) -> CodeLocation:
    """The code location's definitions, loaded once per process and settings.

    Without `settings` (or with the environment's): loaded from `nba_props.definitions` exactly
    as the webserver's code location loads it from the same environment, hence the same job
    snapshot (no re-execution warning). With other settings (the evaluation's own warehouse):
    the same definitions with resources built from them (`definitions.defs_with_settings`); the
    runs keep the location's origin, and the UI rightly says the loaded version may differ (the
    resources' config is part of the job snapshot). Run config cannot carry these settings: the
    IO manager's warehouse is a nested resource, which run config does not reach."""
    environment = load_settings()
    settings = settings or environment
    return _load_location(_settings_key(settings), _settings_key(environment), settings)


def _settings_key(settings: Settings) -> tuple:
    return tuple(sorted(settings.public_dict().items()))


@lru_cache(maxsize=4)
def _load_location(key: tuple, environment_key: tuple, settings: Settings) -> CodeLocation:
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.remote_origin import RemoteRepositoryOrigin
    from dagster._core.workspace.load import location_origin_from_module_name

    from nba_props import definitions

    recon = ReconstructableRepository.for_module(
        DEFINITIONS_MODULE, DEFINITIONS_ATTRIBUTE, working_directory=os.getcwd()
    )
    if key == environment_key:
        repository = recon.get_definition()
    else:
        repository = definitions.defs_with_settings(settings).get_repository_def()
    location_origin = location_origin_from_module_name(DEFINITIONS_MODULE, None, None, LOCATION_NAME)
    return CodeLocation(
        repository=repository,
        recon_repository=recon,
        repository_origin=RemoteRepositoryOrigin(location_origin, repository.name),
        settings=settings,
    )


# --------------------------------------------------------------------------------------------
# the launching process, recorded in the run's tags


def _process_start(pid: int) -> str | None:
    """The start time (clock ticks since boot) of process `pid` from /proc, None when unknown:
    with the pid it identifies a process even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces: fields after the last ')' start at field 3
    return stat.rsplit(")", 1)[1].split()[19]


def process_tags() -> dict[str, str]:
    pid = os.getpid()
    tags = {PID_TAG: str(pid), HOST_TAG: socket.gethostname()}
    start = _process_start(pid)
    if start is not None:
        tags[PROCESS_START_TAG] = start
    return tags


def _process_alive(tags: Mapping[str, str]) -> bool | None:
    """Whether the process recorded in a run's tags is alive: None when undecidable (another host,
    or no process tags: a run of the webserver / daemon, left to Dagster's run monitoring)."""
    if PID_TAG not in tags or tags.get(HOST_TAG) != socket.gethostname():
        return None
    pid = int(tags[PID_TAG])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        pass
    recorded = tags.get(PROCESS_START_TAG)
    return recorded is None or _process_start(pid) in (None, recorded)


# --------------------------------------------------------------------------------------------
# crash recovery


@dataclass(frozen=True)
class RecoveredRun:
    run_id: str
    job_name: str
    status_before: str
    reason: str
    freed_slots: bool


def recover_orphaned_runs(
    instance: dg.DagsterInstance, config: RunsConfig | None = None, *, run_workers: bool = False
) -> list[RecoveredRun]:
    """Mark FAILURE every unfinished run whose launching process (recorded in its tags, on this
    host) is gone, and free the pool slots of those and of any finished run still holding some.

    With `run_workers` (only where this process runs beside the code server, i.e. in the
    `orphaned_runs` sensor), also a run the daemon launched through the default run launcher
    whose run worker (the pid it logged at start) is gone: Dagster's run monitoring cannot check
    those. A run of a live process, of another host, or of unknown process is never touched."""
    from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

    config = config or load_runs_config()
    statuses = [DagsterRunStatus(status) for status in config.orphans.statuses]
    recovered: list[RecoveredRun] = []
    for record in instance.get_run_records(filters=RunsFilter(statuses=statuses)):
        run = record.dagster_run
        alive = _process_alive(run.tags)
        if alive is None and run_workers and PID_TAG not in run.tags:
            pid = _run_worker_pid(instance, run)
            alive = None if pid is None else _process_alive({PID_TAG: pid, HOST_TAG: socket.gethostname()})
            process = f"run worker (pid {pid})"
        else:
            process = f"process that launched this run (pid {run.tags.get(PID_TAG)} on {run.tags.get(HOST_TAG)})"
        if alive is not False:
            continue
        reason = (
            f"the {process} is gone (killed or crashed) while the run was {run.status.value}; "
            "marked failed by nba_props recovery"
        )
        instance.report_run_failed(run, reason)
        freed = _free_slots(instance, run.run_id)
        log.error("orphaned run %s (%s): %s; pool slots freed: %s", run.run_id, run.job_name, reason, freed)
        recovered.append(RecoveredRun(run.run_id, run.job_name, run.status.value, reason, freed))
    _free_slots_of_finished_runs(instance)
    return recovered


def _run_worker_pid(instance: dg.DagsterInstance, run) -> str | None:
    """The pid a run worker of the default run launcher logged at start (None: not started yet, or
    another launcher, whose workers may live on other hosts)."""
    from dagster._core.launcher import DefaultRunLauncher

    if not isinstance(instance.run_launcher, DefaultRunLauncher) or run.remote_job_origin is None:
        return None
    if run.remote_job_origin.repository_origin.code_location_origin.location_name != LOCATION_NAME:
        return None  # another location's code server launched it, maybe elsewhere
    for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        if event is not None and (event.message or "").startswith("Started process for run"):
            pid = event.engine_event_data.metadata.get("pid")
            if pid is not None:
                return str(pid.value)
    return None


def _free_slots(instance: dg.DagsterInstance, run_id: str) -> bool:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits or run_id not in storage.get_concurrency_run_ids():
        return False
    storage.free_concurrency_slots_for_run(run_id)
    return True


def _free_slots_of_finished_runs(instance: dg.DagsterInstance) -> None:
    """Slots still held by finished runs (what the daemon's `free_slots_after_run_end_seconds`
    does; a CLI has no daemon)."""
    from dagster._core.storage.dagster_run import FINISHED_STATUSES, RunsFilter

    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    holders = storage.get_concurrency_run_ids()
    if holders:
        for record in instance.get_run_records(filters=RunsFilter(run_ids=list(holders), statuses=FINISHED_STATUSES)):
            storage.free_concurrency_slots_for_run(record.dagster_run.run_id)


# --------------------------------------------------------------------------------------------
# waiting for the pool


@dataclass(frozen=True)
class PoolWait:
    """How a launch waited for its pools: `waited_seconds`, the pools still blocked and who holds
    them when the wait gave up (`timed_out`)."""

    pools: tuple[str, ...]
    waited_seconds: float
    polls: int
    timed_out: bool = False
    blocked_pools: tuple[str, ...] = ()
    holders: tuple[str, ...] = ()  # run ids holding the blocked pools' slots
    recovered: tuple[str, ...] = ()  # orphaned runs recovered while waiting

    def message(self) -> str:
        return (
            f"waited {self.waited_seconds:.0f} s for a free slot of pool(s) {', '.join(self.blocked_pools)} "
            f"(held by run(s) {', '.join(self.holders) or 'unknown'}); gave up"
        )


class PoolWaitTimeout(RuntimeError):
    """A launch waited longer than `pool_wait.limit_seconds` for a pool slot."""

    def __init__(self, wait: PoolWait):
        super().__init__(wait.message())
        self.wait = wait


def _blocked(instance: dg.DagsterInstance, pools: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Pools without a free slot -> the runs holding their slots."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    blocked = {}
    for pool in pools:
        info = storage.get_concurrency_info(pool)
        capacity = info.slot_count or info.limit
        if capacity is not None and len(info.claimed_slots) >= capacity:
            blocked[pool] = tuple(sorted(info.active_run_ids))
    return blocked


def wait_for_pools(
    instance: dg.DagsterInstance, pools: Iterable[str], config: RunsConfig | None = None, *, sleep=time.sleep
) -> PoolWait:
    """Sleep (with backoff) until every pool has a free slot, recovering orphaned runs on each
    poll (a crashed holder frees its slot this way). Past `limit_seconds`: a `timed_out` result."""
    config = config or load_runs_config()
    pools = tuple(sorted(set(pools)))
    started = time.monotonic()
    recovered: list[str] = []
    polls = 0
    for delay in config.pool_wait.polls():
        blocked = _blocked(instance, pools)
        if not blocked:
            return PoolWait(pools, time.monotonic() - started, polls, recovered=tuple(recovered))
        recovered += [run.run_id for run in recover_orphaned_runs(instance, config)]
        if _blocked(instance, pools) != blocked:
            continue
        waited = time.monotonic() - started
        if waited >= config.pool_wait.limit_seconds:
            holders = tuple(sorted({run_id for ids in blocked.values() for run_id in ids}))
            return PoolWait(pools, waited, polls, True, tuple(sorted(blocked)), holders, tuple(recovered))
        polls += 1
        sleep(min(delay, max(config.pool_wait.limit_seconds - waited, 0.01)))
    raise AssertionError("unreachable: polls() is endless")


# --------------------------------------------------------------------------------------------
# launching


@dataclass(frozen=True)
class LaunchedRun:
    run_id: str
    job_name: str
    success: bool
    status: str
    pool_wait: PoolWait | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


def _alert_pool_wait(settings: Settings | None, job_name: str, partition: str | None, wait: PoolWait) -> None:
    """A launch that gave up waiting for its pool raises an alert (log, table, webhook); a locked
    alerts table must not hide the timeout itself, so that failure is only logged."""
    from nba_props.io.warehouse import WarehouseLockedError
    from nba_props.resources import build_resources

    sink = build_resources(settings or load_settings())["alert_sink"]
    try:
        sink.send(
            "pool_wait", f"{job_name} not launched: {wait.message()}", asset=f"job:{job_name}", partition=partition
        )
    except WarehouseLockedError as error:
        log.error("pool-wait alert not stored: %s", error)


def held_warehouse(settings: Settings | None):
    """`Warehouse.held` on the settings' DuckDB file (nothing for another storage)."""
    from nba_props.io.warehouse import Warehouse

    settings = settings or load_settings()
    return Warehouse(settings.duckdb_path).held() if settings.storage == "duckdb" else nullcontext()


def launch(
    instance: dg.DagsterInstance,
    job_name: str,
    *,
    launched_by: str,
    asset_selection: Sequence[dg.AssetKey] | None = None,
    partition_key: str | None = None,
    partition_range: tuple[str, str] | None = None,
    run_config: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
    tags: Mapping[str, str] | None = None,
    config: RunsConfig | None = None,
    hold_warehouse: bool = False,
) -> LaunchedRun:
    """Run `job_name` of the code location (optionally only `asset_selection`, widened to the
    assets the same step materializes) for one partition or a range (single-run backfill),
    synchronously in this process, recorded in `instance` with the code-location origin and the
    launcher + process tags. `settings` other than the environment's build the resources (see
    `code_location`); `run_config` is the run's config (e.g. the replay's
    `{"resources": {"clock": {"config": {"frozen_at": ...}}}}`).

    First waits, sleeping, for a free slot of every pool the run's steps use (recovering crashed
    holders); raises `PoolWaitTimeout` when they stay busy longer than the configured limit
    (nothing is recorded then). `hold_warehouse`: keep the DuckDB file open for the run
    (`Warehouse.held`): faster steps, but other processes cannot open the file meanwhile."""
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.api import create_execution_plan, execute_run
    from dagster._core.snap import snapshot_from_execution_plan

    if launched_by not in LAUNCHERS:
        raise ValueError(f"launched_by={launched_by!r}: expected one of {LAUNCHERS}")
    if partition_key is not None and partition_range is not None:
        raise ValueError("give a partition_key or a partition_range, not both")
    location = code_location(settings)
    job = location.job(job_name)
    full_config = dict(run_config or {})
    run_tags = {**(tags or {}), LAUNCHED_BY_TAG: launched_by, **process_tags()}
    if partition_key is not None:
        run_tags[PARTITION_TAG] = partition_key
    if partition_range is not None:
        run_tags[RANGE_START_TAG], run_tags[RANGE_END_TAG] = partition_range

    # with the assets the same step materializes (an ingest source and its quarantine)
    selection = (
        set(
            dg.AssetSelection.assets(*asset_selection)
            .required_multi_asset_neighbors()
            .resolve(job.asset_layer.asset_graph)
        )
        if asset_selection
        else None
    )
    # selecting assets selects their checks; partition_fresh is the freshness sensor's, never a run's
    checks = freshness.run_check_selection(job.asset_layer.asset_graph, selection) if selection else None
    subset = location.job_subset(job_name, frozenset(selection), frozenset(checks)) if selection else job
    plan = create_execution_plan(subset, run_config=full_config, instance_ref=instance.get_ref(), tags=run_tags)
    pools = {step.pool for step in plan.get_steps_to_execute_in_topo_order() if step.pool}
    wait = wait_for_pools(instance, pools, config)
    if wait.timed_out:
        log.error("%s run of %s not launched: %s", launched_by, job_name, wait.message())
        _alert_pool_wait(settings, job_name, partition_key or (partition_range and "...".join(partition_range)), wait)
        raise PoolWaitTimeout(wait)

    # instance.create_run_for_job without its one gap: it cannot record a check selection
    run = instance.create_run(
        job_name=job_name,
        run_id=None,
        run_config=full_config,
        op_selection=None,
        asset_selection=frozenset(selection) if selection else None,
        asset_check_selection=frozenset(checks) if checks is not None else None,
        resolved_op_selection=None,
        step_keys_to_execute=plan.step_keys_to_execute,
        status=None,
        tags=run_tags,
        root_run_id=None,
        parent_run_id=None,
        job_snapshot=subset.get_job_snapshot(),
        execution_plan_snapshot=snapshot_from_execution_plan(plan, subset.get_job_snapshot_id()),
        parent_job_snapshot=subset.get_parent_job_snapshot(),
        remote_job_origin=location.remote_job_origin(job_name),
        job_code_origin=location.job_code_origin(job_name),
        asset_graph=subset.asset_layer.asset_graph,
    )
    # The loaded definition is executed (no reload per run); the origins above say where it came from.
    with held_warehouse(settings) if hold_warehouse else nullcontext():
        result = execute_run(InMemoryJob(job), run, instance)
    return LaunchedRun(run.run_id, job_name, result.success, result.dagster_run.status.value, wait, run_tags)
