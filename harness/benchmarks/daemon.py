"""The bundled-site full run, as `make run` does it (`dagster job execute` in a subprocess), and
the freshness latency on the same instance: with `dagster-daemon run` polling the site every
NPL_SENSOR_INTERVAL seconds, how long a listing newly put on the index takes to reach the
serving file through the new-announcement sensor's crawl and the declarative automation after it.

Every process started here is started in a session of its own and stopped by its id (SIGTERM to
the process group it leads, SIGKILL after a grace period)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.benchmarks.runs import prepare_dbt
from harness.benchmarks.sites import HeldBackListing
from harness.isolation import IsolatedPlatform

CODE_LOCATION = ("-m", "npl_assets.definitions")
SERVING_STEP = "serving_database"
NEW_ANNOUNCEMENTS_SENSOR = "new_announcements_sensor"
AUTOMATION_SENSOR = "downstream_automation_sensor"
# Issue 17: a new listing served within 30 s when the sensor polls every 10 s (before: about
# 90 s with a 30 s interval).
SENSOR_INTERVAL = 10
FRESHNESS_TARGET_SECONDS = 30.0
STOP_GRACE_SECONDS = 20.0


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@dataclass
class FullRunFigures:
    seconds: float
    returncode: int
    documents: int
    log: str


@dataclass
class FreshnessFigures:
    seconds: float | None
    sensor_interval: int
    sha256: str
    title: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    # Ticks after the listing went on page 1 that started a run: which sensor, when (seconds
    # after), how long the tick took, the runs it requested.
    ticks: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    log: str = ""

    @property
    def met(self) -> bool:
        return self.seconds is not None and self.seconds <= FRESHNESS_TARGET_SECONDS


def full_run(platform: IsolatedPlatform, log_file: Path, timeout: float = 600) -> FullRunFigures:
    """`dagster job execute -j npl_pipeline` on an empty warehouse, with the platform's site
    served by the crawl runner itself (no NPL_SOURCE_URL), timed from process start."""
    from npl_assets import warehouse

    prepare_dbt(platform)  # `make run` has the manifest step do this
    env = platform.env()
    command = [_bin("dagster"), "job", "execute", *CODE_LOCATION, "-j", "npl_pipeline"]
    started = time.perf_counter()
    with log_file.open("wb") as log, process_group(command, env, log) as process:
        returncode = process.wait(timeout=timeout)
    seconds = time.perf_counter() - started
    documents = 0
    if returncode == 0 and platform.warehouse.exists():
        with warehouse.connect(platform.warehouse, read_only=True) as con:
            documents = con.execute("select count(*) from raw.documents").fetchone()[0]
    return FullRunFigures(round(seconds, 2), returncode, documents, str(log_file))


@contextmanager
def process_group(
    command: list[str], env: dict[str, str], log: Any, cwd: Path | None = None
) -> Iterator[subprocess.Popen]:
    """Start `command` (in `cwd`, default the checkout) leading a new process group; on exit
    stop that group by its id."""
    from npl_assets import settings

    process = subprocess.Popen(
        command,
        cwd=cwd or settings.PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM to the group `process` leads (it and the code servers and runs it started),
    then SIGKILL to whatever is left after `grace` seconds."""
    pgid = process.pid  # start_new_session: the process leads a group of its own id
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    process.wait(timeout=5)


def set_sensor_cursor(env: dict[str, str], cursor: str, log: Any) -> None:
    """Start the sensor from what page 1 shows now, as a daemon that has been running would:
    otherwise its first tick counts every item on page 1 as new and starts a crawl. Setting a
    cursor stores the sensor as stopped, so it is started again (which keeps the cursor)."""
    from npl_assets import settings

    for args in (
        ("cursor", NEW_ANNOUNCEMENTS_SENSOR, "--set", cursor),
        ("start", NEW_ANNOUNCEMENTS_SENSOR),
    ):
        completed = subprocess.run(
            [_bin("dagster"), "sensor", *args, *CODE_LOCATION],
            cwd=settings.PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=120,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"`dagster sensor {args[0]}` failed (exit {completed.returncode})")


def page_one_cursor(base_url: str) -> str:
    from npl_assets.crawler import index_watch

    outcome = index_watch.check_indexes(base_url, {})
    if outcome.errors:
        raise RuntimeError(f"cannot read page 1 of the indexes: {outcome.errors}")
    return index_watch.encode_cursor(index_watch.next_cursor({}, outcome))


def _instance(platform: IsolatedPlatform) -> Any:
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(platform.home)))


def ticks_since(instance: Any, name: str, since: float) -> list[Any]:
    """Completed ticks of the sensor `name` after `since` (a Unix time)."""
    ticks = []
    for state in instance.all_instigator_state():
        if state.instigator_name != name:
            continue
        for tick in instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=20):
            if tick.timestamp >= since and tick.is_completed:
                ticks.append(tick)
    return ticks


def active_runs(instance: Any) -> list[Any]:
    import dagster as dg

    statuses = [
        dg.DagsterRunStatus.QUEUED,
        dg.DagsterRunStatus.NOT_STARTED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.CANCELING,
    ]
    return list(instance.get_runs(filters=dg.RunsFilter(statuses=statuses)))


def serving_has(serving: Path, sha256: str) -> bool:
    """Whether the published stg_listings holds the document; False while not yet published."""
    import duckdb

    if not serving.exists():
        return False
    try:
        con = duckdb.connect(str(serving), read_only=True)
    except duckdb.Error:
        return False  # mid-swap on a file system without atomic rename semantics
    try:
        (count,) = con.execute(
            "select count(*) from stg_listings where sha256 = ?", [sha256]
        ).fetchone()
    except duckdb.Error:
        return False
    finally:
        con.close()
    return count > 0


# Run lifecycle events: when the queue let the run go, when its process began executing.
def _run_event_times(instance: Any, run_id: str) -> dict[str, float]:
    import dagster as dg

    names = {
        dg.DagsterEventType.RUN_ENQUEUED: "enqueued",
        dg.DagsterEventType.RUN_DEQUEUED: "dequeued",
        dg.DagsterEventType.RUN_STARTING: "launched",
        dg.DagsterEventType.STEP_START: "first_step",
    }
    success = dg.DagsterEventType.STEP_SUCCESS
    times: dict[str, float] = {}
    for entry in instance.all_logs(run_id, of_type={*names, success}):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == success:
            # The end of the step that publishes the serving file, if the run had it.
            if event.step_key == SERVING_STEP:
                times["serving_published"] = entry.timestamp
        else:
            times.setdefault(names[event.event_type], entry.timestamp)  # the first of each kind
    return times


def _after(timestamp: float | None, since: float) -> float | None:
    return None if timestamp is None else round(timestamp - since, 1)


def _run_rows(instance: Any, since: float) -> list[dict[str, Any]]:
    """The runs created after `since`: when each was queued, dequeued, launched, began, ran its
    first step and ended (seconds after `since`), and each step's seconds."""
    from harness.benchmarks.runs import step_seconds

    rows = []
    for record in instance.get_run_records():
        if (record.create_timestamp.timestamp()) < since:
            continue
        run = record.dagster_run
        events = _run_event_times(instance, run.run_id)
        rows.append(
            {
                "run_id": run.run_id[:8],
                "job": run.job_name,
                "trigger": run.tags.get("dagster/sensor_name") or run.tags.get("npl/trigger") or "",
                "status": run.status.value,
                "created_after_s": round(record.create_timestamp.timestamp() - since, 1),
                # The sensor daemon creates the run, then submits it to the queue.
                "enqueued_after_s": _after(events.get("enqueued"), since),
                "dequeued_after_s": _after(events.get("dequeued"), since),
                # The queue let it go and the launcher starts its process...
                "launched_after_s": _after(events.get("launched"), since),
                # ...which has loaded the code location and begins executing.
                "started_after_s": round(record.start_time - since, 1)
                if record.start_time
                else None,
                "first_step_after_s": _after(events.get("first_step"), since),
                "serving_published_after_s": _after(events.get("serving_published"), since),
                "ended_after_s": round(record.end_time - since, 1) if record.end_time else None,
                "assets": len(run.asset_selection or ()),
                "steps": {k: round(v, 2) for k, v in step_seconds(instance, run.run_id).items()},
            }
        )
    return sorted(rows, key=lambda r: r["created_after_s"])


def _tick_rows(instance: Any, since: float) -> list[dict[str, Any]]:
    """The sensor ticks after `since` that requested runs."""
    rows = []
    for name in (NEW_ANNOUNCEMENTS_SENSOR, AUTOMATION_SENSOR):
        for tick in ticks_since(instance, name, since):
            if not tick.run_ids:
                continue
            end = tick.end_timestamp
            rows.append(
                {
                    "sensor": name,
                    "after_s": round(tick.timestamp - since, 1),
                    "tick_seconds": round(end - tick.timestamp, 1) if end else None,
                    "runs": [run_id[:8] for run_id in tick.run_ids],
                }
            )
    return sorted(rows, key=lambda r: r["after_s"])


def _wait(predicate: Any, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def measure_freshness(
    platform: IsolatedPlatform,
    held: HeldBackListing,
    log_dir: Path,
    interval: int = SENSOR_INTERVAL,
    timeout: float = 300.0,
) -> FreshnessFigures:
    """Daemon up, sensors settled, then the held-back listing goes on page 1: seconds until the
    serving file holds it. `platform` must already hold everything else (the full run)."""
    from npl_assets.site.server import SiteServer

    figures = FreshnessFigures(None, interval, held.sha256, held.title)
    log_file = log_dir / "daemon.log"
    figures.log = str(log_file)
    with SiteServer(platform.built_site) as server, log_file.open("wb") as log:
        env = platform.env(server.base_url, NPL_SENSOR_INTERVAL=str(interval))
        set_sensor_cursor(env, page_one_cursor(server.base_url), log)
        instance = _instance(platform)
        started = time.time()
        command = [_bin("dagster-daemon"), "run", *CODE_LOCATION]
        with process_group(command, env, log) as daemon:

            def settled() -> bool:
                if daemon.poll() is not None:
                    raise RuntimeError(
                        f"dagster-daemon exited ({daemon.returncode}); see {log_file}"
                    )
                return bool(
                    ticks_since(instance, AUTOMATION_SENSOR, started)
                    and ticks_since(instance, NEW_ANNOUNCEMENTS_SENSOR, started)
                    and not active_runs(instance)
                )

            # Automation's first tick only records state: publishing before it would go unseen.
            if not _wait(settled, timeout=180):
                figures.error = "the daemon's sensors did not tick within 180 s"
                return figures
            held.publish()
            published = time.time()
            appeared = _wait(lambda: serving_has(platform.serving, held.sha256), timeout, 1.0)
            if appeared:
                figures.seconds = round(time.time() - published, 1)
            else:
                figures.error = f"not in the serving file after {timeout:.0f} s"
            # Let the runs the listing set off finish before stopping the daemon.
            _wait(lambda: not active_runs(instance), 120, 1.0)
            figures.runs = _run_rows(instance, published)
            figures.ticks = _tick_rows(instance, published)
    return figures


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
