"""Two runs of the main job started at the same moment on one DAGSTER_HOME, and a reader
querying the serving file in a loop meanwhile.

DuckDB lets one process write: a run takes the warehouse lock as its DuckDB resource is set up
(lock.py; the "duckdb" pool of dagster.yaml alone can hand its one slot to two runs at once), so
the second run waits. Checked from the instance's event log: no DuckDB step of one run runs while
a DuckDB step of the other does. The reader opens the serving file as `npl sql` does; every read
must succeed and see every table, consistent, and it must have read across a replacement of the
file. Optionally both runs are armed to crash at one point: the first there is killed (its
process group, SIGKILL) and the other, waiting for the warehouse, must take over by itself."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations

from harness.isolation import IsolatedPlatform
from harness.reliability import invariants
from harness.reliability.job_runs import (
    JobRun,
    file_digest,
    finish_job,
    kill_group,
    read_marker,
    start_job,
)

POOL = "duckdb"


@dataclass
class ReaderStats:
    reads: int = 0
    not_yet_published: int = 0
    files_seen: int = 0  # distinct serving files (inodes) the reader got answers from
    errors: list[str] = field(default_factory=list)


@dataclass
class ConcurrencyResult:
    runs: list[JobRun] = field(default_factory=list)
    reader: ReaderStats = field(default_factory=ReaderStats)
    waits: int = 0  # "waiting for the warehouse" and "Step blocked by limit for pool duckdb"
    overlaps: list[str] = field(default_factory=list)
    documents: int = 0
    duplicates: int = 0
    lost: int = 0
    fingerprint: dict[str, tuple[int, str]] = field(default_factory=dict)
    killed: str | None = None  # the run killed at the crash point, if one was armed
    problems: list[str] = field(default_factory=list)


def read_loop(
    platform: IsolatedPlatform, stop: threading.Event, stats: ReaderStats, pause: float
) -> None:
    from npl_assets.sql import ServingNotFoundError, connect_serving

    inodes: set[int] = set()
    while not stop.is_set():
        try:
            con = connect_serving(platform.serving)
        except ServingNotFoundError:
            stats.not_yet_published += 1
            time.sleep(pause)
            continue
        except Exception as exc:
            stats.errors.append(f"open: {type(exc).__name__}: {exc}")
            time.sleep(pause)
            continue
        try:
            problems = invariants.read_serving_consistently(con)
            stats.errors += problems
            stats.reads += 1
            try:
                inodes.add(platform.serving.stat().st_ino)
            except FileNotFoundError:
                stats.errors.append("the serving file vanished")
        except Exception as exc:
            stats.errors.append(f"query: {type(exc).__name__}: {exc}")
        finally:
            con.close()
        time.sleep(pause)
    stats.files_seen = len(inodes)


def pooled_steps() -> set[str]:
    from npl_assets.definitions import defs

    job = defs.resolve_job_def("npl_pipeline")
    return {n.name for n in job.graph.nodes if getattr(n.definition, "pool", None) == POOL}


def step_intervals(
    platform: IsolatedPlatform, since: float
) -> dict[str, list[tuple[str, float, float]]]:
    """Run id -> (step, start, end) of its steps, for the runs created after `since` (a Unix
    time), from the platform's Dagster instance. Earlier runs (killed ones, say) are not part of
    the race."""
    import dagster as dg
    from dagster._core.events import DagsterEventType

    ends = (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE)
    with dg.DagsterInstance.from_config(str(platform.home)) as instance:
        intervals: dict[str, list[tuple[str, float, float]]] = {}
        for record in instance.get_run_records():
            if record.create_timestamp.timestamp() < since:
                continue
            run_id = record.dagster_run.run_id
            starts: dict[str, float] = {}
            done: dict[str, float] = {}
            for kind, into in ((DagsterEventType.STEP_START, starts), *((e, done) for e in ends)):
                for event in instance.get_records_for_run(run_id, of_type=kind).records:
                    entry = event.event_log_entry
                    if entry.step_key:
                        into[entry.step_key] = entry.timestamp
            # A killed run's last step never ends: it ended when the run was marked failed.
            end = record.end_time or float("inf")
            intervals[run_id] = [(step, t, done.get(step, end)) for step, t in starts.items()]
        return intervals


def overlapping_steps(
    intervals: dict[str, list[tuple[str, float, float]]], pooled: set[str]
) -> list[str]:
    found = []
    for (run_a, steps_a), (run_b, steps_b) in combinations(intervals.items(), 2):
        for step_a, start_a, end_a in steps_a:
            for step_b, start_b, end_b in steps_b:
                if step_a in pooled and step_b in pooled and start_a < end_b and start_b < end_a:
                    when = datetime.fromtimestamp(max(start_a, start_b)).strftime("%H:%M:%S")
                    found.append(f"{run_a[:8]}:{step_a} and {run_b[:8]}:{step_b} at {when}")
    return found


def _race(
    platform: IsolatedPlatform,
    result: ConcurrencyResult,
    runs: int,
    timeout: float,
    crash_once_at: str | None,
    rebuild: bool,
) -> None:
    """Start the runs at once and wait for them; with `crash_once_at`, kill the one that gets
    there first as soon as it says so, and check the serving file right then."""
    marker = platform.logs / "concurrent.marker"
    for stale in (marker, marker.with_name(marker.name + ".claimed")):
        stale.unlink(missing_ok=True)
    good = file_digest(platform.serving)
    started = time.monotonic()
    labels = [f"concurrent-{n}" for n in range(1, runs + 1)]
    processes = {
        label: start_job(platform, label, crash_once_at, marker=marker, once=True, rebuild=rebuild)
        for label in labels
    }
    ended: dict[str, JobRun] = {}
    try:
        while len(ended) < len(processes):
            if crash_once_at and marker.is_file() and result.killed is None:
                what, pid = read_marker(marker)
                label = next((lb for lb, p in processes.items() if p.pid == pid), None)
                if label is None:
                    raise RuntimeError(f"{marker} names process {pid}, none of the runs")
                kill_group(processes[label])
                result.killed = label
                ended[label] = finish_job(
                    processes[label],
                    label,
                    platform.logs / f"{label}.log",
                    started,
                    crash_once_at,
                    what,
                    killed=True,
                )
                if file_digest(platform.serving) != good:
                    result.problems.append(f"{label} killed at {what}: the serving file changed")
            for label, process in processes.items():
                if label not in ended and process.poll() is not None:
                    ended[label] = finish_job(
                        process, label, platform.logs / f"{label}.log", started
                    )
            if time.monotonic() - started > timeout:
                for label, process in processes.items():
                    if label not in ended:
                        kill_group(process)
                        ended[label] = finish_job(
                            process, label, platform.logs / f"{label}.log", started, timed_out=True
                        )
            time.sleep(0.02)
    except BaseException:
        # Interrupted (Ctrl-C, a test timeout): no run may live on holding the warehouse.
        for label, process in processes.items():
            if label not in ended:
                kill_group(process)
        raise
    result.runs = [ended[label] for label in labels]


def run_concurrency_scenario(
    platform: IsolatedPlatform,
    runs: int = 2,
    timeout: float = 900.0,
    pause: float = 0.05,
    crash_once_at: str | None = None,
    rebuild: bool = True,
) -> ConcurrencyResult:
    """`crash_once_at`: every run is armed to crash there, and the first to get there is killed
    with SIGKILL (its process group) while the others wait for the warehouse: they must then
    take over by themselves, and the serving file must stay the last good one meanwhile.
    `rebuild` (default): every run goes through every step, so each one replaces the serving
    file under the reader, even the one that finds nothing new after the other."""
    platform.prepare()
    result = ConcurrencyResult()
    stop = threading.Event()
    reader = threading.Thread(
        target=read_loop, args=(platform, stop, result.reader, pause), daemon=True
    )
    reader.start()
    wall_start = time.time()
    try:
        _race(platform, result, runs, timeout, crash_once_at, rebuild)
        time.sleep(pause * 4)  # a few reads of the final file
    finally:
        stop.set()
        reader.join(timeout=30)
    for run in result.runs:
        if run.label != result.killed and not run.succeeded:
            result.problems.append(f"{run.describe()}\n{run.tail()}")
        if run.leftover_processes:
            result.problems.append(
                f"{run.label} left {run.leftover_processes} processes: {run.leftovers}"
            )
        log = run.log.read_text(errors="replace")
        result.waits += log.count("waiting for the warehouse") + log.count(
            f"blocked by limit for pool {POOL}"
        )
    if crash_once_at and result.killed is None:
        result.problems.append(f"no run reached the crash point {crash_once_at}")
    result.overlaps = overlapping_steps(step_intervals(platform, wall_start), pooled_steps())
    if result.overlaps:
        result.problems.append(
            f"DuckDB steps of two runs ran at once: {'; '.join(result.overlaps[:5])}"
        )
    reader_stats = result.reader
    result.problems += [f"reader: {e}" for e in reader_stats.errors[:5]]
    if reader_stats.reads == 0:
        result.problems.append("the reader never read the serving file")
    if platform.warehouse.is_file():
        docs = invariants.check_documents(platform.warehouse, platform.raw, platform.built_site)
        parsed = invariants.check_parsed(platform.warehouse)
        result.documents, result.duplicates = docs.rows, docs.duplicates
        result.lost = len(docs.lost)
        result.problems += docs.problems + parsed.problems
    if platform.serving.is_file():
        result.fingerprint = invariants.serving_fingerprint(platform.serving)
    return result
