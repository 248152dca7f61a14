"""An isolated platform for one scenario: its own data folder, warehouse, serving file, content
store and DAGSTER_HOME (with the repository's dagster.yaml), pointed at a built site."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from npl_assets import settings

# Variables that would point a subprocess at the checkout's own data instead of the workspace.
CLEARED_ENV = ("NPL_SOURCE_URL", "NPL_SENSOR_URL", "DBT_INDIRECT_SELECTION")


@dataclass(frozen=True)
class Workspace:
    root: Path
    site: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def raw(self) -> Path:
        return self.data / "raw"

    @property
    def db(self) -> Path:
        return self.data / "npl.duckdb"

    @property
    def serving(self) -> Path:
        return self.data / "npl_serving.duckdb"

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def create(self) -> Workspace:
        for folder in (self.data, self.home, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(settings.PROJECT_ROOT / "dagster.yaml", self.home / "dagster.yaml")
        prepare_dagster_home(self.home)
        return self

    def variables(self) -> dict[str, str]:
        """The platform's path settings for this workspace."""
        return {
            "DAGSTER_HOME": str(self.home),
            "NPL_DATA_DIR": str(self.data),
            "NPL_SITE_DIR": str(self.site),
            "NPL_RAW_DIR": str(self.raw),
            "DUCKDB_DATABASE": str(self.db),
            "NPL_SERVING_DATABASE": str(self.serving),
        }

    def env(self) -> dict[str, str]:
        """The whole environment of a subprocess run in this workspace."""
        env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
        env.update(self.variables())
        env.update(GX_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", PYTHONUNBUFFERED="1")
        # dagster-dbt looks for `dbt` on PATH; the venv's comes first.
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    def manifest(self) -> list[dict]:
        return load_manifest(self.site)


def prepare_dagster_home(home: Path) -> None:
    """Create the instance's storage once, before any run. Two Dagster processes that both find
    the SQLite storage missing both create it, and about every other time leave two rows in
    `alembic_version`: every later Dagster command on that home then fails ("more than one head
    present"). Runs started at once on a prepared home are safe."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_run_records(limit=1)


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for the block (in-process scenarios read settings from them)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def load_manifest(site: Path) -> list[dict]:
    """What the built site published: one entry per document (doc_type, paths, sha256)."""
    return json.loads((site / "manifest.json").read_text(encoding="utf-8"))["documents"]


def build_site(out: Path, synthetic: int | None, shared: Path | None = None, seed: int = 0) -> Path:
    """Build a site once: the real 2023 data (`synthetic=None`) or N synthetic listings."""
    from npl_assets.site.build import build_site as build

    if not (out / "manifest.json").is_file():
        build(out, shared_dir=shared or settings.shared_dir(), synthetic=synthetic, seed=seed)
    return out
