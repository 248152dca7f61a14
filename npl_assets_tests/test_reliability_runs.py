"""kill -9 of the main job (`dagster job execute`, in its own process group) during the crawl,
the load, dbt and the publish step; two runs started at once with a reader on the serving file.

One chain on one platform, sized down (`make reliability` runs every crash point on the real
bundled site): crash in the crawl, the load and dbt; a plain run that must recover by itself;
then two runs started at once while a reader queries the serving file, both armed to crash in
the publish step: the first to get there is killed mid-copy, the other waits for the warehouse
meanwhile and must then finish alone. Expectations come from the site's manifest (every document
stored once, whole, parsed) and from the serving file's own bytes before the crash, never from
the pipeline's output."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.isolation import IsolatedPlatform
from harness.reliability.scenarios.crash import CrashResult, run_crash_scenario
from harness.reliability.sites import build_site, load_manifest

# The crash chain (a module fixture) runs some eight jobs: more than the default 600 s timeout
# allows on a slow machine.
# heavy: some eight `dagster job execute` runs, 3-4 minutes; `make test-heavy` (and CI) runs it,
# `make reliability` runs every crash point on the real bundled site.
pytestmark = [pytest.mark.slow, pytest.mark.heavy, pytest.mark.timeout(1500)]

POINTS = ("crawl", "load", "dbt", "publish")


@pytest.fixture(scope="session")
def chain(
    tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path
) -> tuple[IsolatedPlatform, CrashResult]:
    site = build_site(tmp_path_factory.mktemp("site"), synthetic=30, seed=3)
    platform = IsolatedPlatform(tmp_path_factory.mktemp("crash"), site)
    result = run_crash_scenario(platform, POINTS, timeout=240, race_at_publish=True)
    for run in result.runs:
        print(run.describe(), run.leftovers)
    print("\n".join(result.problems))
    return platform, result


def test_every_crash_point_was_reached_and_killed(
    chain: tuple[IsolatedPlatform, CrashResult],
) -> None:
    _, result = chain
    killed = [r for r in result.runs if r.killed]
    assert [r.crash_at for r in killed] == list(POINTS)
    assert [r.leftovers for r in result.runs if r.leftovers] == []  # Scrapy and dbt died too
    assert result.kills == len(POINTS) and result.recoveries == 2


def test_each_recovery_runs_by_itself_with_nothing_lost_or_doubled(
    chain: tuple[IsolatedPlatform, CrashResult],
) -> None:
    platform, result = chain
    assert result.problems == []
    assert result.documents == len(load_manifest(platform.built_site))
    assert (result.duplicates, result.lost) == (0, 0)
    # A killed run leaves its pool slot claimed; the next run released it and said so.
    released = [r for r in result.runs if "released run" in r.log.read_text(errors="replace")]
    assert len(released) == len(POINTS)  # after each kill


def test_the_serving_file_survives_a_kill_in_publish(
    chain: tuple[IsolatedPlatform, CrashResult],
) -> None:
    platform, result = chain
    publish = next(r for r in result.runs if r.crash_at == "publish" and r.killed)
    assert "tables in the .tmp file" in publish.marker  # killed mid-copy
    # The file stayed the last good one at the kill (else a problem), and no .tmp is left.
    assert not [p for p in result.problems if "serving" in p]
    assert sorted(p.name for p in platform.serving.parent.glob("npl_serving.duckdb*")) == [
        "npl_serving.duckdb"
    ]


def test_two_runs_at_once_take_turns_and_the_reader_never_errs(
    chain: tuple[IsolatedPlatform, CrashResult],
) -> None:
    _, result = chain
    race = result.concurrency
    assert race is not None and race.killed is not None
    survivor = next(r for r in race.runs if r.label != race.killed)
    assert survivor.succeeded
    assert race.overlaps == []
    assert race.waits > 0  # the survivor waited for the warehouse while the other ran
    assert race.reader.errors == []
    assert race.reader.reads > 0
    assert race.reader.files_seen >= 2  # it read across a replacement of the file
