"""One isolated platform under a work folder: its own data folder, content store, warehouse,
serving file, dbt target folder and DAGSTER_HOME (with the repository's dagster.yaml), optionally
pointed at a built site. The benchmarks and the reliability scenarios run the real code on one,
in-process (with `resources()`, the product's own platform_resources for these locations) or as
`dagster` subprocesses (with `env()`, the same locations as variables), and never touch the
checkout's own data."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from npl_assets import settings
from npl_assets.resources import Locations, platform_resources

# Variables that would point a run at the checkout's own sources (or change what a dbt run
# selects) instead of the platform: unset for subprocesses.
CLEARED_VARS = ("NPL_SOURCE_URL", "DBT_INDIRECT_SELECTION")


@dataclass(frozen=True)
class IsolatedPlatform:
    root: Path
    site: Path | None = None  # the built site the crawl serves itself; None: the default

    @property
    def data(self) -> Path:
        return self.root / "data"

    # The files inside the data folder are laid out by Locations.under, as for the tests.
    @property
    def raw(self) -> Path:
        return self.locations().raw_dir

    @property
    def warehouse(self) -> Path:
        return self.locations().warehouse

    @property
    def serving(self) -> Path:
        return self.locations().serving

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def built_site(self) -> Path:
        """The site, where the caller needs one."""
        if self.site is None:
            raise ValueError(f"the platform at {self.root} was given no site")
        return self.site

    @property
    def dbt_target(self) -> Path:
        """dagster-dbt's target folder (DBT_TARGET_PATH): each dbt invocation leaves ~4 MB in a
        folder of its own there, which stays out of dbt_project/target this way."""
        return self.root / "dbt_target"

    def locations(self, source_url: str | None = None) -> Locations:
        """Where this platform's data lives; it crawls `source_url`, else its built site."""
        return Locations.under(self.data, site_dir=self.site, source_url=source_url)

    def resources(self, source_url: str | None = None) -> dict[str, object]:
        """The platform's resources for an in-process run on this platform."""
        return dict(platform_resources(self.locations(source_url)))

    def prepare(self) -> IsolatedPlatform:
        """Folders, the repository's dagster.yaml (one DuckDB writer, one run at a time) and the
        instance's storage. Safe to repeat while no run is going on."""
        for folder in (self.data, self.home, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(settings.PROJECT_ROOT / "dagster.yaml", self.home / "dagster.yaml")
        prepare_dagster_home(self.home)
        return self

    def variables(self, source_url: str | None = None) -> dict[str, str]:
        """The variables that point another process's code location at this platform."""
        return {
            **self.locations(source_url).environment(),
            "DAGSTER_HOME": str(self.home),
            "DBT_TARGET_PATH": str(self.dbt_target),
            "DO_NOT_TRACK": "1",
        }

    def env(self, source_url: str | None = None, **extra: str) -> dict[str, str]:
        """The whole environment of a subprocess run on this platform (crawling `source_url`,
        else its built site), plus `extra`."""
        env = {k: v for k, v in os.environ.items() if k not in CLEARED_VARS}
        env.update(self.variables(source_url), PYTHONUNBUFFERED="1")
        # dagster-dbt looks for `dbt` on PATH; the venv's comes first.
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.update(extra)
        return env

    @contextmanager
    def active(self) -> Iterator[IsolatedPlatform]:
        """Prepared, for in-process runs that take `resources()`. dagster-dbt reads its target
        folder from DBT_TARGET_PATH alone, so that one variable is set for the block."""
        self.prepare()
        with environment(DBT_TARGET_PATH=str(self.dbt_target)):
            yield self


def prepare_dagster_home(home: Path) -> None:
    """Create the instance's storage once, before any run. Two Dagster processes that both find
    the SQLite storage missing both create it, and about every other time leave two rows in
    `alembic_version`: every later Dagster command on that home then fails ("more than one head
    present"). Runs started at once on a prepared home are safe."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_run_records(limit=1)


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set environment variables for the block (a None value unsets one), then restore them:
    in-process runs read their settings from the environment."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        _set_environment(values)
        yield
    finally:
        _set_environment(saved)


def _set_environment(values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
