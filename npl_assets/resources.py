"""Resources: the DuckDB warehouse and the dbt CLI, configured from `settings`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from npl_assets import profiles, settings
from npl_assets.alerts.sensor import AlertsResource
from npl_assets.dbt_project import dbt_project
from npl_assets.warehouse.recovery import WarehouseResource


def dbt_executable() -> str:
    """The venv's dbt, so that a PATH without the venv still finds the right one."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")


def warehouse_resource(path: Path | None = None) -> DuckDBResource:
    """The embedded DuckDB file (at `path`, default DUCKDB_DATABASE), or, in the team profile
    and without a `path`, the DuckLake. Either one frees, as each run starts, the pool slot a
    killed run left claimed, and keeps other runs out until it is done."""
    if path is None and profiles.is_team():
        from npl_assets.team.warehouse import LakeWarehouseResource

        return LakeWarehouseResource()
    return WarehouseResource(database=str(path or settings.duckdb_path()))


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())


def default_resources() -> dict[str, object]:
    # alerts: defaults under the data dir (rule file data/alerts.yaml, delivery table
    # data/alerts.sqlite); a deployment overrides them here.
    return {"duckdb": warehouse_resource(), "dbt": dbt_resource(), "alerts": AlertsResource()}
