"""Shared fixtures. The bundled site is built once per `make test` into a temp folder that the
xdist workers share; the tests that read the one full pipeline run are kept on one worker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from npl_assets import settings

# No per-example deadline (a loaded 2-core CI machine is slow in bursts, which is not a bug) and
# no example database written into the checkout (.hypothesis/).
hypothesis_settings.register_profile("npl", deadline=None, database=None)
hypothesis_settings.load_profile("npl")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = settings.shared_dir()
    if not (path / "data" / "yindeng_2023_listings.csv").exists():
        pytest.skip(f"shared folder with the 2023 dataset not found at {path}")
    return path


@pytest.fixture(scope="session")
def samples_dir(shared_dir: Path) -> Path:
    return shared_dir / "domain" / "samples"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Path:
    """The full bundled site from the real 2023 data (606 PDFs), built by the first worker that
    asks; the others wait on a file lock and read the same folder."""
    import fcntl

    from npl_assets.site.build import build_site

    # Under xdist each worker's basetemp is a sibling in one run folder; alone, it is its own.
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    out = root / "bundled-site"
    with (root / "bundled-site.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "manifest.json").is_file():
            build_site(out, shared_dir=shared_dir)
    return out


@pytest.fixture(scope="session")
def site_server(built_site: Path) -> Iterator[str]:
    """The bundled site served on a free loopback port; yields its base URL."""
    from npl_assets.site.server import SiteServer

    with SiteServer(built_site) as server:
        yield server.base_url


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every data path of the platform in a temp folder, for the code that reads the
    environment: the `npl` commands and other processes' definitions. In-process runs take
    `platform_resources(Locations.under(isolated_env))` instead."""
    from npl_assets.resources import Locations

    data = tmp_path / "data"
    data.mkdir()
    for key, value in Locations.under(data).environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("NPL_SOURCE_URL", raising=False)
    # The embedded profile, whatever the developer's shell says (test_team_profile sets its own).
    monkeypatch.setenv("NPL_PROFILE", "embedded")
    return data


def prepare_dbt_manifest() -> Path:
    """dbt's manifest, parsed when missing or older than the dbt sources (never at import)."""
    import subprocess
    import sys
    import tempfile

    from npl_assets.dbt_project import DBT_PROJECT_DIR

    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    sources = [p for p in DBT_PROJECT_DIR.rglob("*") if p.suffix in {".sql", ".yml", ".csv"}]
    sources = [p for p in sources if "target" not in p.parts and "logs" not in p.parts]
    stale = not manifest.exists() or any(
        p.stat().st_mtime > manifest.stat().st_mtime for p in sources
    )
    if stale:
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ)
            env.setdefault("DUCKDB_DATABASE", str(Path(tmp) / "parse.duckdb"))
            dbt = str(Path(sys.executable).with_name("dbt"))
            subprocess.run(
                [dbt, "parse", "--quiet", "--project-dir", ".", "--profiles-dir", "."],
                cwd=DBT_PROJECT_DIR,
                env=env,
                check=True,
            )
    return manifest


SESSION_STARTED = pytest.StashKey[float]()
# `make test` sets it: where the session records its wall time for `make bench` to show.
TIMING_FILE_ENV = "NPL_TEST_TIMING_FILE"


def pytest_sessionstart(session: pytest.Session) -> None:
    import time

    session.config.stash[SESSION_STARTED] = time.monotonic()
    # Test modules import the definitions, which need the manifest, while being collected.
    # Under xdist the controller prepares it before any worker starts.
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        prepare_dbt_manifest()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """The session's wall time and outcome, for `make bench` (data/bench/make_test.json)."""
    import json
    import time
    from datetime import UTC, datetime

    target = os.environ.get(TIMING_FILE_ENV)
    if not target or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    stats = terminalreporter.stats
    record = {
        "seconds": round(time.monotonic() - config.stash[SESSION_STARTED], 1),
        "passed": len(stats.get("passed", [])),
        "failed": len(stats.get("failed", [])) + len(stats.get("error", [])),
        "skipped": len(stats.get("skipped", [])),
        "workers": getattr(config.option, "numprocesses", None) or 0,
        "markers": config.option.markexpr or "",
        "exit_status": int(exitstatus),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


# tryfirst: xdist's worker reads the groups in its own collection hook, which otherwise runs
# before this one (a marker added after it is ignored).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # One full pipeline run per `make test`: every test that reads it goes to the same worker
    # (--dist loadgroup), which runs the session fixture once. Every other test stays with its
    # module, so a module-scoped fixture (a crash chain, a crawl) runs once, not once a worker.
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        if "full_pipeline" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("full_pipeline"))
        else:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


def pytest_collection_finish(session: pytest.Session) -> None:
    # pytest 9 with pytest-xdist 3.8 silently stopped grouping (xdist tags the nodeid, which
    # pytest 9 no longer reads back): every session fixture then ran on both workers.
    if getattr(session.config.option, "loadgroup", False) and session.items:
        untagged = [item.nodeid for item in session.items if "@" not in item.nodeid]
        if untagged:
            raise pytest.UsageError(
                f"--dist loadgroup did not tag {len(untagged)} tests with their group (e.g. "
                f"{untagged[0]}): pytest and pytest-xdist disagree; see pyproject's pin"
            )


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    return prepare_dbt_manifest()


@pytest.fixture(scope="session")
def full_pipeline(
    tmp_path_factory: pytest.TempPathFactory, built_site: Path, dbt_manifest: Path
) -> dict:
    """The whole graph materialised once, in-process, on a temp DuckDB against the bundled site
    (served by the crawl asset itself), with the platform's resources for a temp folder. `env`
    is the environment that points the `npl` commands at the same folder."""
    import time

    import dagster as dg

    from npl_assets.definitions import defs
    from npl_assets.resources import Locations, platform_resources

    work = tmp_path_factory.mktemp("pipeline")
    locations = Locations.under(work, site_dir=built_site)
    env = {**locations.environment(), "NPL_PROFILE": "embedded"}
    instance = dg.DagsterInstance.ephemeral()
    started = time.monotonic()
    result = dg.materialize(
        list(defs.assets or []),
        resources=platform_resources(locations),
        instance=instance,
        raise_on_error=True,
    )
    seconds = time.monotonic() - started
    return {
        "env": env,
        "locations": locations,
        "instance": instance,  # its history: this one run
        "result": result,
        "work": work,
        "db": work / "npl.duckdb",
        "serving": work / "npl_serving.duckdb",
        "reports": work / "reports",
        "seconds": seconds,
    }
