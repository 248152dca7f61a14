"""Configuration reaches the code location's assets, checks and sensors as resources: no body
reads `settings` or `profiles` or the environment, none writes the environment, and importing
the code location changes no global state."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest

# Modules whose functions say where things are or which deployment this is: configuration the
# definitions turn into resources, never something an asset body asks for itself.
CONFIG_MODULES = {"settings", "profiles"}


def body_functions(defs: dg.Definitions) -> Iterator[tuple[str, Callable]]:
    """Every user function Dagster calls for an asset, a check or a sensor of `defs`."""
    for assets_def in defs.assets or []:
        if isinstance(assets_def, dg.AssetsDefinition) and assets_def.is_executable:
            fn = assets_def.op.compute_fn.decorated_fn
            yield f"asset {assets_def.op.name}", fn
    for checks_def in defs.asset_checks or []:
        yield f"check {checks_def.node_def.name}", checks_def.node_def.compute_fn.decorated_fn
    for sensor in defs.sensors or []:
        fn = getattr(sensor, "_raw_fn", None)
        if fn is not None:
            yield f"sensor {sensor.name}", fn
    for schedule in defs.schedules or []:
        fn = getattr(schedule, "_execution_fn", None)
        if inspect.isfunction(fn) and fn.__module__.startswith("npl_assets"):
            yield f"schedule {schedule.name}", fn


def configuration_reads(fn: Callable) -> list[str]:
    """Calls to `settings.*` / `profiles.*`, reads and writes of `os.environ`, and `os.getenv`
    / `os.putenv` in the function's own source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not isinstance(node.value, ast.Name):
            continue
        owner, name = node.value.id, node.attr
        if owner in CONFIG_MODULES or (owner == "os" and name in {"environ", "getenv", "putenv"}):
            found.append(f"{owner}.{name} (line {node.lineno})")
    return found


def test_the_checker_sees_a_settings_call_and_an_environment_write() -> None:
    from npl_assets import settings

    def reads_settings() -> Path:
        return settings.data_dir()

    def writes_environment() -> None:
        import os

        os.environ["DUCKDB_DATABASE"] = "elsewhere.duckdb"

    def takes_a_resource(paths: object) -> object:
        return paths

    assert configuration_reads(reads_settings) == ["settings.data_dir (line 2)"]
    assert configuration_reads(writes_environment) == ["os.environ (line 4)"]
    assert configuration_reads(takes_a_resource) == []


def test_no_asset_check_or_sensor_body_reads_configuration(dbt_manifest: Path) -> None:
    from npl_assets.definitions import defs

    bodies = dict(body_functions(defs))
    # Every kind is inspected (a refactor that hid them from this test would pass it vacuously).
    kinds = {name.split()[0] for name in bodies}
    assert {"asset", "check", "sensor"} <= kinds
    assert {"asset raw_documents", "asset serving_database", "sensor new_announcements_sensor"} <= (
        set(bodies)
    )
    offenders = {name: reads for name, fn in bodies.items() if (reads := configuration_reads(fn))}
    assert offenders == {}


def test_the_crawl_parse_publish_and_report_take_their_locations_as_resources(
    dbt_manifest: Path,
) -> None:
    from npl_assets.definitions import defs

    required = {
        "raw_documents": {"duckdb", "site", "paths"},
        "listings": {"duckdb", "paths"},
        "serving_database": {"duckdb", "paths"},
        "market_report": {"duckdb", "paths"},
        "npl_dbt_models": {"duckdb", "dbt"},
    }
    by_op = {a.op.name: a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)}
    for name, keys in required.items():
        assert keys <= by_op[name].required_resource_keys, name


WRITING_CALLS = ("os.environ.update", "os.environ.setdefault", "os.environ.pop", "os.putenv")
# Commands, not the code location: `npl team up` hands its fresh settings to the instance it
# creates in the same process.
COMMAND_MODULES = {"team/cli.py"}


def environment_writes(source: str) -> list[int]:
    """Lines that assign to os.environ[...] or call a writing method of it."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign):
            targets = [node.target]
        assigned = any(ast.unparse(t).startswith("os.environ[") for t in targets)
        called = isinstance(node, ast.Call) and ast.unparse(node.func).startswith(WRITING_CALLS)
        if assigned or called:
            lines.append(node.lineno)
    return lines


def test_the_write_finder_finds_writes_and_only_writes() -> None:
    source = 'import os\nos.environ["PATH"] = "x"\nos.environ.update(a=1)\nos.environ.get("B")\n'
    assert environment_writes(source) == [2, 3]


def test_no_product_module_writes_the_environment() -> None:
    """Not even under `dagster dev` (dbt_project.py once put the venv on PATH there)."""
    from npl_assets.settings import PROJECT_ROOT

    package = PROJECT_ROOT / "npl_assets"
    writers = {
        path.relative_to(package).as_posix(): lines
        for path in sorted(package.rglob("*.py"))
        if (lines := environment_writes(path.read_text(encoding="utf-8")))
    }
    assert set(writers) <= COMMAND_MODULES, writers


IMPORT_PROBE = """
import json, os, sys
before = (dict(os.environ), list(sys.path), os.getcwd())
import npl_assets.definitions
after = (dict(os.environ), list(sys.path), os.getcwd())
changed = sorted(k for k in set(before[0]) | set(after[0]) if before[0].get(k) != after[0].get(k))
print(json.dumps({"environ": changed, "path": before[1] != after[1], "cwd": before[2] != after[2]}))
"""


def test_importing_the_code_location_changes_no_global_state(
    dbt_manifest: Path, isolated_env: Path
) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_IS_DEV_CLI"}
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == {
        "environ": [],
        "path": False,
        "cwd": False,
    }


@pytest.mark.heavy  # re-parses the dbt project into dbt_project/target, which the suite reads
def test_dg_check_defs_passes_without_the_venv_on_path(dbt_manifest: Path, tmp_path: Path) -> None:
    """`dg check defs` (which, like `dagster dev`, prepares the dbt project) finds the venv's
    dbt by itself: the code location no longer puts it on PATH."""
    import os

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DUCKDB_DATABASE", "DAGSTER_IS_DEV_CLI", "VIRTUAL_ENV"}
    }
    env.update(PATH="/usr/bin:/bin", DAGSTER_HOME=str(tmp_path))
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("dg")), "check", "defs"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-3000:]
    assert "All definitions loaded successfully" in completed.stdout + completed.stderr
