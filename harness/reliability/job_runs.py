"""Run the main job as users do (`dagster job execute -m npl_assets.definitions -j npl_pipeline`)
in its own process group, optionally killing the whole group with SIGKILL at a crash point."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness.isolation import IsolatedPlatform
from harness.reliability.child import CRASH_ENV, MARKER_ENV, ONCE_ENV, PDFS_ENV
from npl_assets import settings

JOB_ARGS = ("job", "execute", "-m", "npl_assets.definitions", "-j", "npl_pipeline")
DEFAULT_TIMEOUT = 600.0
EXIT_GRACE = 5.0  # seconds for a finished run's helper processes to end by themselves
LOG_TAIL = 30


@dataclass(frozen=True)
class JobRun:
    label: str
    crash_at: str | None
    returncode: int | None
    killed: bool  # killed at its crash point
    timed_out: bool
    seconds: float
    log: Path
    marker: str  # what the child reported at its crash point
    leftover_processes: int  # processes of its group alive after the kill or the end
    leftovers: str = ""  # what they were

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0 and not self.killed and not self.timed_out

    def tail(self, lines: int = LOG_TAIL) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.is_file() else ""
        return "\n".join(text.splitlines()[-lines:])

    def describe(self) -> str:
        if self.killed:
            return f"{self.label}: killed at {self.marker or self.crash_at} ({self.seconds:.1f} s)"
        if self.timed_out:
            return f"{self.label}: no end after {self.seconds:.0f} s (hung), killed"
        return f"{self.label}: exit code {self.returncode} ({self.seconds:.1f} s)"


# Run config that makes the crawl count as an update even with nothing new (CrawlConfig.rebuild):
# a run after a complete one would otherwise skip every step below the crawl, and a scenario
# that kills a run in dbt or publish, or races two writers, needs runs that get there.
REBUILD_CONFIG = "ops:\n  raw_documents:\n    config:\n      rebuild: true\n"


def job_command(executable: str | None = None, config: Path | None = None) -> list[str]:
    """The child: `dagster` itself with crash hooks (armed only by its environment)."""
    command = [executable or sys.executable, "-m", "harness.reliability.child", *JOB_ARGS]
    return [*command, "-c", str(config)] if config else command


def rebuild_config(platform: IsolatedPlatform) -> Path:
    path = platform.logs / "rebuild.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(REBUILD_CONFIG, encoding="utf-8")
    return path


def marker_path(platform: IsolatedPlatform, label: str) -> Path:
    return platform.logs / f"{label}.marker"


def start_job(
    platform: IsolatedPlatform,
    label: str,
    crash_at: str | None = None,
    crash_pdfs: int | None = None,
    marker: Path | None = None,
    once: bool = False,
    rebuild: bool = False,
) -> subprocess.Popen:
    """Start the job; with `crash_at` it writes `marker` (default: <label>.marker) when it gets
    there, and waits for the kill. `once`: runs sharing a marker crash only the first there.
    `rebuild`: every step runs even if the crawl finds nothing new."""
    env = platform.env()
    if crash_at:
        env[CRASH_ENV] = crash_at
        env[MARKER_ENV] = str(marker or marker_path(platform, label))
        if crash_pdfs:
            env[PDFS_ENV] = str(crash_pdfs)
        if once:
            env[ONCE_ENV] = "1"
    log = (platform.logs / f"{label}.log").open("wb")
    try:
        return subprocess.Popen(
            job_command(config=rebuild_config(platform) if rebuild else None),
            cwd=settings.PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill takes Scrapy and dbt too
        )
    finally:
        log.close()


def describe_processes(pids: list[int]) -> str:
    names = []
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            command = "?"
        names.append(f"{pid} {command.strip()[:120]}")
    return "; ".join(names)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of the process group; zombies wait only for their reaper."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel about the group as a whole
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def kill_group(process: subprocess.Popen, settle: float = 10.0) -> None:
    """SIGKILL the process' group (it leads one) and reap it; waits up to `settle` seconds for
    the rest of the group to go."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    deadline = time.monotonic() + settle
    while group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def finish_job(
    process: subprocess.Popen,
    label: str,
    log: Path,
    started: float,
    crash_at: str | None = None,
    marker: str = "",
    killed: bool = False,
    timed_out: bool = False,
) -> JobRun:
    """The record of an ended (or killed) job. A finished run must leave no process behind (a
    Scrapy child, dbt, a site server); helpers that end when their parent does (multiprocessing's
    resource tracker) get a moment to notice."""
    returncode = process.wait()
    deadline = time.monotonic() + (0 if killed or timed_out else EXIT_GRACE)
    while group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = group_members(process.pid)
    leftovers = describe_processes(survivors)
    if survivors:
        kill_group(process)
    return JobRun(
        label=label,
        crash_at=crash_at,
        returncode=returncode,
        killed=killed,
        timed_out=timed_out,
        seconds=round(time.monotonic() - started, 1),
        log=log,
        marker=marker,
        leftover_processes=len(survivors),
        leftovers=leftovers,
    )


def read_marker(marker: Path) -> tuple[str, int | None]:
    """(what the child reported, its process id)."""
    lines = marker.read_text(encoding="utf-8").splitlines()
    return (lines[0] if lines else ""), (int(lines[1]) if len(lines) > 1 else None)


def wait_job(
    platform: IsolatedPlatform,
    process: subprocess.Popen,
    label: str,
    crash_at: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    started: float | None = None,
) -> JobRun:
    started = started or time.monotonic()
    marker = marker_path(platform, label)
    killed = timed_out = False
    try:
        while True:
            if crash_at and marker.is_file():
                kill_group(process)
                killed = True
                break
            if process.poll() is not None:
                break
            if time.monotonic() - started > timeout:
                kill_group(process)
                timed_out = True
                break
            time.sleep(0.02)
    except BaseException:
        # Interrupted (Ctrl-C, a test timeout): the run must not live on holding the warehouse.
        kill_group(process)
        raise
    what = read_marker(marker)[0] if marker.is_file() else ""
    return finish_job(
        process, label, platform.logs / f"{label}.log", started, crash_at, what, killed, timed_out
    )


def run_job(
    platform: IsolatedPlatform,
    label: str,
    crash_at: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    crash_pdfs: int | None = None,
    rebuild: bool = False,
) -> JobRun:
    started = time.monotonic()
    marker_path(platform, label).unlink(missing_ok=True)
    process = start_job(platform, label, crash_at, crash_pdfs, rebuild=rebuild)
    return wait_job(platform, process, label, crash_at, timeout, started)


def file_digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
