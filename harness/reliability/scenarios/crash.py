"""kill -9 of the main job at each crash point, then a plain run that must recover by itself.

The chain, on one platform: a crash in the crawl, the load, the parse and dbt (as chosen), then
a recovery run; then a crash in the publish step and a second recovery run (or, sized down, two
runs at once of which the first to publish is killed there and the other must finish alone).
After each kill the process group must be gone and the serving file byte for byte the last good
one; after each recovery the warehouse must hold every published document once, whole and
parsed, and the serving file must equal the one an uninterrupted run gives (`reference`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.isolation import IsolatedPlatform
from harness.reliability import invariants
from harness.reliability.child import CRASH_POINTS
from harness.reliability.job_runs import JobRun, file_digest, run_job

if TYPE_CHECKING:
    from harness.reliability.scenarios.concurrency import ConcurrencyResult


@dataclass
class CrashResult:
    points: tuple[str, ...]
    runs: list[JobRun] = field(default_factory=list)
    kills: int = 0
    recoveries: int = 0
    documents: int = 0
    duplicates: int = 0
    lost: int = 0
    fingerprint: dict[str, tuple[int, str]] = field(default_factory=dict)
    concurrency: ConcurrencyResult | None = None
    leftover_temp_files: list[str] = field(default_factory=list)  # in the content store
    problems: list[str] = field(default_factory=list)


def serving_leftovers(serving: Path) -> list[str]:
    return sorted(p.name for p in serving.parent.glob(serving.name + ".tmp*"))


def _crash(
    platform: IsolatedPlatform,
    result: CrashResult,
    point: str,
    timeout: float,
    crash_pdfs: int | None = None,
    rebuild: bool = False,
) -> None:
    before = file_digest(platform.serving)
    run = run_job(
        platform,
        f"crash-{point}",
        crash_at=point,
        timeout=timeout,
        crash_pdfs=crash_pdfs,
        rebuild=rebuild,
    )
    result.runs.append(run)
    if not run.killed:
        result.problems.append(f"crash point {point} never reached: {run.describe()}\n{run.tail()}")
        return
    result.kills += 1
    if run.leftover_processes:
        result.problems.append(f"crash at {point}: processes survived the kill: {run.leftovers}")
    if file_digest(platform.serving) != before:
        result.problems.append(f"crash at {point}: the serving file changed")
    if platform.serving.is_file():
        result.problems += [f"crash at {point}: {p}" for p in serving_view(platform.serving)]
    if platform.warehouse.is_file():
        # Whatever the kill left, nothing half-done may show as a document (documents not
        # stored yet are expected: the next run fetches them).
        docs = invariants.check_documents(
            platform.warehouse, platform.raw, platform.built_site, may_fail=True
        )
        half_done = [p for p in docs.problems if "documents lost" not in p]
        result.problems += [f"after the crash at {point}: {p}" for p in half_done]


def serving_view(serving: Path) -> list[str]:
    from npl_assets.sql import connect_serving

    con = connect_serving(serving)
    try:
        return invariants.read_serving_consistently(con)
    finally:
        con.close()


def _recover(
    platform: IsolatedPlatform,
    result: CrashResult,
    label: str,
    timeout: float,
    rebuild: bool = False,
) -> None:
    run = run_job(platform, label, timeout=timeout, rebuild=rebuild)
    result.runs.append(run)
    if not run.succeeded:
        result.problems.append(f"{label} did not recover: {run.describe()}\n{run.tail()}")
        return
    if run.leftover_processes:
        result.problems.append(f"{label} left processes behind: {run.leftovers}")
    _check_recovered(platform, result, label)


def _race_with_a_crash(
    platform: IsolatedPlatform, result: CrashResult, point: str, timeout: float
) -> None:
    """Two runs at once, both armed to crash at `point`: the first there is killed, the other
    waits for the warehouse meanwhile and must then finish the job by itself."""
    from harness.reliability.scenarios.concurrency import run_concurrency_scenario

    race = run_concurrency_scenario(platform, timeout=timeout, crash_once_at=point)
    result.concurrency = race
    result.runs += race.runs
    result.problems += [f"two runs, one killed at {point}: {p}" for p in race.problems]
    if race.killed is None or race.problems:
        return
    result.kills += 1
    _check_recovered(platform, result, f"the run left after the kill at {point}")


def _check_recovered(platform: IsolatedPlatform, result: CrashResult, label: str) -> None:
    result.recoveries += 1
    docs = invariants.check_documents(platform.warehouse, platform.raw, platform.built_site)
    parsed = invariants.check_parsed(platform.warehouse)
    result.documents = docs.rows
    result.leftover_temp_files = docs.leftover_files
    result.duplicates = max(result.duplicates, docs.duplicates)
    result.lost = max(result.lost, len(docs.lost))
    result.problems += [f"{label}: {p}" for p in docs.problems + parsed.problems]
    if parsed.failed:
        result.problems.append(f"{label}: {parsed.failed} parse failures {parsed.failure_types}")
    left = serving_leftovers(platform.serving)
    if left:
        result.problems.append(f"{label}: serving leftovers {left}")
    result.problems += [f"{label}: {p}" for p in serving_view(platform.serving)]
    fingerprint = invariants.serving_fingerprint(platform.serving)
    if result.fingerprint and fingerprint != result.fingerprint:
        result.problems.append(f"{label}: serving differs from the previous recovery")
    result.fingerprint = fingerprint


def run_crash_scenario(
    platform: IsolatedPlatform,
    points: tuple[str, ...] = CRASH_POINTS,
    reference: dict[str, tuple[int, str]] | None = None,
    timeout: float = 300.0,
    crash_pdfs: int | None = None,
    race_at_publish: bool = False,
) -> CrashResult:
    """`crash_pdfs`: how far the crawl gets before its kill (PDFs served). `race_at_publish`:
    the publish crash and the second recovery are two runs started at once, the first to
    publish killed there (with a reader on the serving file throughout), which saves a run where
    time is short and also shows a waiting run taking over from a killed one."""
    unknown = set(points) - set(CRASH_POINTS)
    if unknown:
        raise ValueError(f"unknown crash points {sorted(unknown)}; known: {CRASH_POINTS}")
    platform.prepare()
    result = CrashResult(points=tuple(points))
    for point in (p for p in CRASH_POINTS if p in points and p != "publish"):
        _crash(platform, result, point, timeout, crash_pdfs)
    _recover(platform, result, "recovery-1", timeout)
    if "publish" in points and result.recoveries:
        if race_at_publish:
            _race_with_a_crash(platform, result, "publish", timeout)
        else:
            good = file_digest(platform.serving)
            # After a complete recovery nothing is new: only a rebuild gets to publish again.
            _crash(platform, result, "publish", timeout, rebuild=True)
            if file_digest(platform.serving) != good:
                result.problems.append("crash in publish: serving is not the last good file")
            # A plain run: it must see by itself that the last run stopped after its crawl.
            _recover(platform, result, "recovery-2", timeout)
    if reference is not None and result.fingerprint and result.fingerprint != reference:
        differing = sorted(t for t in reference if reference[t] != result.fingerprint.get(t))
        result.problems.append(f"serving differs from an uninterrupted run in {differing}")
    return result
