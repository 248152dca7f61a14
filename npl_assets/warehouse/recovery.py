"""Recover from a run whose process died without saying so (kill -9, OOM killer, power loss).

Dagster records a DuckDB pool slot as claimed by a run and frees it when the run ends. A killed
run never ends: its slot stays claimed and its status stays STARTED, and every later run waits for
the slot forever ("Step blocked by limit for pool duckdb"). Dagster's daemon frees slots only of
runs that have *finished*, and `dagster job execute` has no daemon anyway.

`release_dead_runs` marks such runs failed and frees their slots. It runs when the warehouse
resource is set up, i.e. at the start of every run, before the run's first step asks for a slot,
and after the run has taken the warehouse lock (lock.py), so no other run is using the warehouse.
A run counts as dead only when every process that reported its events is gone (or its process id
now belongs to a process started later): a live run, here or in another process, is never
touched. DuckDB's own file lock needs no such care: the kernel drops it with the process."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from npl_assets.warehouse.lock import WarehouseLock

log = logging.getLogger(__name__)

POOL = "duckdb"
# Seconds of slack between a run's start event and its process' start time (clock ticks, rounding).
START_SLACK = 5.0


@dataclass(frozen=True)
class ReleasedRun:
    run_id: str
    status_before: str
    pids: tuple[int, ...]
    reason: str


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def process_started_at(pid: int) -> float | None:
    """The process' start as a Unix time (Linux /proc), or None if unknown or gone."""
    boot = _boot_time()
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 2 (comm) may contain spaces and parentheses: split after its closing parenthesis.
    fields = stat[stat.rfind(")") + 2 :].split()
    if boot is None or len(fields) < 20:
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def pid_alive(pid: int, not_started_after: float | None = None) -> bool:
    """Whether `pid` is a live process that may be the one that reported at `not_started_after`:
    a zombie, or a process started later (the id was reused), does not count."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours to judge
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    if state in ("Z", "X"):
        return False
    started = process_started_at(pid)
    if not_started_after is not None and started is not None:
        return started <= not_started_after + START_SLACK
    return True


def run_processes(instance: dg.DagsterInstance, run_id: str) -> dict[int, float]:
    """Process id -> earliest event time of the processes that ran the run and its steps."""
    from dagster._core.events import DagsterEventType

    pids: dict[int, float] = {}
    for event_type in (DagsterEventType.RUN_START, DagsterEventType.STEP_START):
        records = instance.get_records_for_run(run_id, of_type=event_type, limit=1000).records
        for record in records:
            event = record.event_log_entry.dagster_event
            if event is not None and event.pid is not None:
                seen = record.event_log_entry.timestamp
                pids[event.pid] = min(seen, pids.get(event.pid, seen))
    return pids


def _candidate_runs(instance: dg.DagsterInstance) -> set[str]:
    storage = instance.event_log_storage
    run_ids = set(storage.get_concurrency_run_ids())
    info = storage.get_concurrency_info(POOL)
    run_ids |= {slot.run_id for slot in info.claimed_slots}
    started = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]), limit=1000
    )
    run_ids |= {record.dagster_run.run_id for record in started}
    return run_ids


def release_dead_runs(instance: dg.DagsterInstance, skip: Iterable[str] = ()) -> list[ReleasedRun]:
    """Fail the runs whose processes are all gone and free every pool slot of finished or dead
    runs. `skip`: run ids never to touch (the caller's own run). Returns what was released."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    released: list[ReleasedRun] = []
    for run_id in sorted(_candidate_runs(instance) - set(skip)):
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            status = "deleted" if run is None else run.status.value
            storage.free_concurrency_slots_for_run(run_id)
            released.append(ReleasedRun(run_id, status, (), f"run is {status.lower()}"))
            continue
        if run.status != dg.DagsterRunStatus.STARTED:
            continue  # queued or starting: no process of its own yet
        processes = run_processes(instance, run_id)
        if not processes or any(pid_alive(p, t) for p, t in processes.items()):
            continue
        pids = tuple(sorted(processes))
        reason = (
            f"its process{'es' if len(pids) > 1 else ''} {', '.join(map(str, pids))} ended "
            "without finishing the run (killed?); its DuckDB pool slot is freed"
        )
        instance.report_run_failed(run, message=f"Run {run_id} is dead: {reason}.")
        storage.free_concurrency_slots_for_run(run_id)
        released.append(ReleasedRun(run_id, run.status.value, pids, reason))
    return released


def embedded_dbt_vars(database: str) -> dict[str, str]:
    """The vars dbt's profiles.yml reads to build into the DuckDB file `database`."""
    return {"npl_target": "dev", "npl_duckdb_path": database}


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse, one run at a time. Set-up takes the warehouse lock (waiting while
    another run holds it, see lock.py), then releases what killed runs left claimed, so a run
    after a crash starts by itself; teardown gives the lock back."""

    _lock: WarehouseLock | None = PrivateAttr(default=None)

    def warehouse_lock(self) -> WarehouseLock | None:
        """The lock that keeps other runs out (None: nothing to lock, an in-memory database).
        The team profile's resource locks in Postgres instead (npl_assets/team/warehouse.py)."""
        if self.database and self.database != ":memory:":
            return WarehouseLock(Path(self.database))
        return None

    def dbt_vars(self) -> dict[str, str]:
        """The vars dbt's profiles.yml reads to reach this same warehouse."""
        return embedded_dbt_vars(str(self.database))

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if context.run is not None and context.run.is_finished:
            # `dagster job execute` sets the resources up once more after the run, to read its
            # outputs back: no step runs then, and waiting for the lock would only stall it.
            return
        run_id = context.run.run_id if context.run is not None else None
        self._lock = self.warehouse_lock()
        if self._lock is not None:
            waited = self._lock.acquire(f"run {run_id or '(no run)'}", on_wait=context.log.info)
            if waited >= 1:
                context.log.info("waited %.0f s for the warehouse", waited)
        instance = context.instance
        if instance is None:
            return
        try:
            released = release_dead_runs(instance, skip=[run_id] if run_id else [])
        except Exception:  # recovery must never be the reason a healthy run fails
            context.log.warning("could not check for dead runs", exc_info=True)
            return
        for run in released:
            context.log.warning(
                "released run %s (%s): %s", run.run_id, run.status_before, run.reason
            )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
