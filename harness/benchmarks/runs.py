"""Running the real code location in-process, isolated in a work folder, and reading back how
long each step took (from the run's event log) and what each asset reported (its metadata)."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.isolation import IsolatedPlatform

if TYPE_CHECKING:  # Dagster loads only when a run starts: `npl bench parse` never pays for it
    import dagster as dg


class ManifestMissing(FileNotFoundError):
    """dbt's manifest is not prepared; the code location cannot load without it."""


class RunFailed(RuntimeError):
    """A benchmark run failed; says which steps, why, and how long the others took."""

    def __init__(self, message: str, steps: dict[str, float]) -> None:
        super().__init__(message)
        self.steps = steps


@dataclass
class RunFigures:
    """One timed run: wall seconds, each step's seconds and each asset's metadata."""

    seconds: float
    steps: dict[str, float]
    metadata: dict[str, dict[str, Any]]

    def total(self, steps: tuple[str, ...] | set[str]) -> float:
        return sum(self.steps.get(step, 0.0) for step in steps)


def prepare_dbt(platform: IsolatedPlatform) -> None:
    """`dbt parse` for this platform's warehouse path, as `make manifest` does for the real one:
    dbt's partial-parse file is keyed by the vars and profile (the dbt asset passes the
    warehouse as vars, WarehouseResource.dbt_vars), and dagster-dbt copies it from
    DBT_TARGET_PATH into each invocation. Parsed with other vars, every dbt build here would
    parse the whole project again ("Unable to do partial parsing because config vars ...
    have changed"), which production does not."""
    import json
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
            "--vars",
            json.dumps(dbt_vars(platform), sort_keys=True),
        ],
        cwd=project,
        env=platform.env(),
        stdin=subprocess.DEVNULL,
        check=True,
        timeout=300,
    )


def dbt_vars(platform: IsolatedPlatform) -> dict[str, str]:
    """The vars the platform's dbt asset passes (its warehouse resource's)."""
    from npl_assets.warehouse.recovery import embedded_dbt_vars

    return embedded_dbt_vars(str(platform.warehouse))


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
    platform: IsolatedPlatform,
    selection: dg.AssetSelection | Sequence[dg.AssetKey] | None = None,
    run_config: dict | None = None,
    instance: dg.DagsterInstance | None = None,
    source_url: str | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialise the real assets and checks in-process on `platform` (crawling `source_url`,
    else the platform's built site)."""
    import dagster as dg

    defs = code_location()
    instance = instance or dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        materializable(defs),
        selection=selection,
        instance=instance,
        resources=platform.resources(source_url),
        run_config=quiet_run_config(run_config),
        raise_on_error=False,
    )
    if not result.success:
        raise RunFailed(failure_summary(result), step_seconds(instance, result.run_id))
    return result


@contextmanager
def in_process(platform: IsolatedPlatform) -> Iterator[tuple[dg.Definitions, dg.DagsterInstance]]:
    """The code location and an ephemeral instance, with dbt parsed for `platform` and this
    process's settings pointed at it for the block: what every in-process benchmark run needs."""
    import dagster as dg

    defs = code_location()
    prepare_dbt(platform)
    with platform.active():
        yield defs, dg.DagsterInstance.ephemeral()


def timed_materialize(
    platform: IsolatedPlatform,
    instance: dg.DagsterInstance,
    selection: dg.AssetSelection | Sequence[dg.AssetKey] | None = None,
    run_config: dict | None = None,
    source_url: str | None = None,
) -> RunFigures:
    """`materialize`, with its wall time, its steps' times and its assets' metadata."""
    started = time.perf_counter()
    result = materialize(platform, selection, run_config, instance, source_url)
    seconds = time.perf_counter() - started
    return RunFigures(seconds, step_seconds(instance, result.run_id), asset_metadata(result))


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
