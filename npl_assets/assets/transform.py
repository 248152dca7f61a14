"""dbt models (staging, projects, marts) as Dagster assets; dbt tests become asset checks."""

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from pydantic import Field

from npl_assets.assets.conditions import downstream_condition
from npl_assets.dbt_project import dbt_project
from npl_assets.openings.clock import as_of_var, parse_as_of
from npl_assets.warehouse.recovery import WarehouseResource


class NplDbtTranslator(DagsterDbtTranslator):
    """Groups models by their folder (staging, marts); sources keep the keys given in their
    `meta.dagster.asset_key`, which are the Python assets' keys."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn") or []
        return fqn[1] if len(fqn) > 2 else "marts"

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        # Every model follows its parents: a crawl flows to the marts with no manual step.
        return downstream_condition()


class DbtBuildConfig(dg.Config):
    """Run config of the dbt build."""

    as_of: str | None = Field(
        default=None,
        description=(
            "The build time open_listings is computed for ('YYYY-MM-DD' or 'YYYY-MM-DD HH:MM', "
            "Beijing time); empty means now. Set it to rebuild what was open on another day."
        ),
    )


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=NplDbtTranslator(),
    pool="duckdb",
)
def npl_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    duckdb: WarehouseResource,
    config: DbtBuildConfig,
):
    """Builds seeds, staging models and marts, and runs their tests, with dbt-duckdb."""
    args = ["build"]
    if config.as_of:
        # Only when set: a var that changes every run would force a full dbt re-parse; without
        # it open_listings takes the database's clock (Asia/Shanghai) once per build.
        args += ["--vars", json.dumps({"as_of": as_of_var(parse_as_of(config.as_of))})]
    # profiles.yml reads the warehouse (file, or DuckLake in the team profile) from the
    # environment; the resource is the truth.
    os.environ.update(duckdb.dbt_environment())
    # A subset run (automation builds the seeds alone on a fresh instance) must not pick up a
    # test whose other parent is not selected (dbt's default "eager" does, and then fails on a
    # table that does not exist yet). dagster-dbt still overrides this when it needs "empty".
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "cautious")
    try:
        yield from dbt.cli(args, context=context).stream()
    finally:
        prune_invocation_folders(dbt_target_dir())


# dagster-dbt gives every invocation a target folder of its own (about 4 MB: manifest, run
# results, logs); kept forever they fill the disk, a few are worth keeping for debugging.
KEPT_INVOCATIONS = 10
INVOCATION_PREFIX = "npl_dbt_models-"


def dbt_target_dir() -> Path:
    """Where dagster-dbt puts its invocation folders: DBT_TARGET_PATH (relative to the dbt
    project, as dbt reads it), else the project's target/."""
    configured = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    return configured if configured.is_absolute() else dbt_project.project_dir / configured


def prune_invocation_folders(target: Path, keep: int = KEPT_INVOCATIONS) -> list[Path]:
    """Delete all but the `keep` newest dbt invocation folders under `target`."""
    if not target.is_dir():
        return []
    folders = [p for p in target.iterdir() if p.is_dir() and p.name.startswith(INVOCATION_PREFIX)]
    folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
    return folders[keep:]
