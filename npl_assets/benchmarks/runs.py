"""Running the real code location in-process, isolated in a work folder, and reading back how
long each step took (from the run's event log) and what each asset reported (its metadata)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Dagster loads only when a run starts: `npl bench parse` never pays for it
    import dagster as dg

# Environment of one isolated platform: every path the assets read from `settings`.
ISOLATED_VARS = (
    "NPL_DATA_DIR",
    "NPL_RAW_DIR",
    "NPL_SITE_DIR",
    "DUCKDB_DATABASE",
    "NPL_SERVING_DATABASE",
    "NPL_SOURCE_URL",
    "DAGSTER_HOME",
    "DBT_TARGET_PATH",
    "GX_ANALYTICS_ENABLED",
    "DO_NOT_TRACK",
)


class ManifestMissing(FileNotFoundError):
    """dbt's manifest is not prepared; the code location cannot load without it."""


class RunFailed(RuntimeError):
    """A benchmark run failed; says which steps, why, and how long the others took."""

    def __init__(self, message: str, steps: dict[str, float]) -> None:
        super().__init__(message)
        self.steps = steps


@dataclass(frozen=True)
class Platform:
    """The paths of one isolated platform under `root`."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def raw(self) -> Path:
        return self.data / "raw"

    @property
    def warehouse(self) -> Path:
        return self.data / "npl.duckdb"

    @property
    def serving(self) -> Path:
        return self.data / "npl_serving.duckdb"

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def dbt_target(self) -> Path:
        """dagster-dbt's target folder (DBT_TARGET_PATH): each dbt invocation leaves ~4 MB in a
        folder of its own there, so the benchmark keeps them out of dbt_project/target."""
        return self.root / "dbt_target"

    def env(self, site: Path | None = None) -> dict[str, str]:
        env = {
            "NPL_DATA_DIR": str(self.data),
            "NPL_RAW_DIR": str(self.raw),
            "DUCKDB_DATABASE": str(self.warehouse),
            "NPL_SERVING_DATABASE": str(self.serving),
            "DAGSTER_HOME": str(self.home),
            "DBT_TARGET_PATH": str(self.dbt_target),
            "GX_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        }
        if site is not None:
            env["NPL_SITE_DIR"] = str(site)
        return env

    def prepare(self) -> Platform:
        """Folders, and the repository's dagster.yaml (one DuckDB writer, one run at a time)."""
        from npl_assets import settings

        self.data.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        template = settings.PROJECT_ROOT / "dagster.yaml"
        if template.is_file():
            (self.home / "dagster.yaml").write_text(template.read_text(encoding="utf-8"))
        return self


def prepare_dbt(platform: Platform) -> None:
    """`dbt parse` for this platform's warehouse path, as `make manifest` does for the real one:
    dbt's partial-parse file is keyed by the profile (which holds the DuckDB path), and
    dagster-dbt copies it from DBT_TARGET_PATH into each invocation. Without it every dbt build
    here would parse the whole project again, which production does not."""
    import subprocess

    from npl_assets import settings

    platform.prepare()
    project = settings.PROJECT_ROOT / "dbt_project"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "parse",
            "--quiet",
            "--profiles-dir",
            str(project),
            "--project-dir",
            str(project),
            "--target-path",
            str(platform.dbt_target),
        ],
        cwd=project,
        env={**os.environ, **platform.env()},
        stdin=subprocess.DEVNULL,
        check=True,
        timeout=300,
    )


def subprocess_env(platform: Platform, site: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess on `platform`: the venv first on PATH (dagster-dbt
    looks for `dbt` there) and no NPL_SOURCE_URL unless given."""
    env = {k: v for k, v in os.environ.items() if k != "NPL_SOURCE_URL"}
    env.update(platform.env(site))
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


@contextmanager
def isolated(platform: Platform, site: Path | None = None) -> Iterator[Platform]:
    """Point this process's settings at `platform` for the duration, then restore them."""
    saved = {name: os.environ.get(name) for name in ISOLATED_VARS}
    os.environ.pop("NPL_SOURCE_URL", None)
    os.environ.update(platform.prepare().env(site))
    try:
        yield platform
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def check_manifest() -> None:
    from npl_assets.dbt_project import dbt_project

    if not dbt_project.manifest_path.exists():
        raise ManifestMissing(
            f"dbt manifest missing at {dbt_project.manifest_path}: run `make manifest` "
            "(make bench does it for you)"
        )


def code_location() -> dg.Definitions:
    check_manifest()
    from npl_assets.definitions import defs

    return defs


def materializable(defs: dg.Definitions) -> list[Any]:
    """The code location's assets and asset checks, as `dg.materialize` takes them."""
    return [*(defs.assets or []), *(defs.asset_checks or [])]


def quiet_run_config(run_config: dict | None = None) -> dict:
    """Dagster's console logger at WARNING: the step-by-step DEBUG stream is not the point."""
    return {**(run_config or {}), "loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def materialize(
    platform: Platform,
    selection: dg.AssetSelection | Sequence[dg.AssetKey] | None = None,
    run_config: dict | None = None,
    instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialise the real assets and checks in-process against `platform`'s warehouse."""
    import dagster as dg

    from npl_assets.resources import dbt_resource, warehouse_resource

    defs = code_location()
    instance = instance or dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        materializable(defs),
        selection=selection,
        instance=instance,
        # The location's resources, with the warehouse (and dbt, which reads it) re-pointed.
        resources={
            **(defs.resources or {}),
            "duckdb": warehouse_resource(platform.warehouse),
            "dbt": dbt_resource(),
        },
        run_config=quiet_run_config(run_config),
        raise_on_error=False,
    )
    if not result.success:
        raise RunFailed(failure_summary(result), step_seconds(instance, result.run_id))
    return result


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Wall seconds of every step of a run, from its STEP_START and STEP_SUCCESS/FAILURE."""
    import dagster as dg

    kinds = {
        dg.DagsterEventType.STEP_START,
        dg.DagsterEventType.STEP_SUCCESS,
        dg.DagsterEventType.STEP_FAILURE,
    }
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for entry in instance.all_logs(run_id, of_type=kinds):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = entry.timestamp
        elif event.step_key in started:
            seconds[event.step_key] = entry.timestamp - started[event.step_key]
    return seconds


def asset_metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """Each materialised asset's metadata values, by asset key string."""
    out: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        out[materialization.asset_key.to_user_string()] = {
            name: value.value for name, value in materialization.metadata.items()
        }
    return out


def check_step_keys(defs: dg.Definitions) -> set[str]:
    """Step keys of the Python asset checks (GX suites, reconciliation), which run as steps of
    their own; dbt's data tests run inside the dbt step."""
    return {check.node_def.name for check in defs.asset_checks or []}


# dbt's closing line, e.g. "Finished running 2 seeds, 7 table models, 65 data tests in 0 hours
# 0 minutes and 4.10 seconds (4.10s)."
DBT_FINISHED = re.compile(r"Finished running .*? in .*?\((\d+(?:\.\d+)?)s\)")


def dbt_reported_seconds(log: Path) -> list[float]:
    """dbt's own run times (nodes only: no start-up, parsing or Dagster event handling), in the
    order the invocations ran, from a log that captured their output."""
    if not log.is_file():
        return []
    text = log.read_text(encoding="utf-8", errors="replace")
    return [float(m.group(1)) for m in DBT_FINISHED.finditer(text)]


def failure_summary(result: dg.ExecuteInProcessResult, lines: int = 8) -> str:
    """The failed steps and the first lines of each one's innermost error."""
    parts = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        message = (error.message if error is not None else "").strip().splitlines()[:lines]
        parts.append(f"step {event.step_key} failed: " + " | ".join(m.strip() for m in message))
    return "; ".join(parts) or "the run failed"
