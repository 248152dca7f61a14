"""dbt models (staging, projects, marts) as Dagster assets; dbt tests become asset checks."""

import json
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
    # The warehouse dbt builds into is the resource's, passed as vars that profiles.yml reads
    # (never through the environment); secrets stay in the deployment's environment.
    variables = duckdb.dbt_vars()
    if config.as_of:
        # Only when set: a var that changes every run would force a full dbt re-parse; without
        # it open_listings takes the database's clock (Asia/Shanghai) once per build.
        variables["as_of"] = as_of_var(parse_as_of(config.as_of))
    args = ["build", "--vars", json.dumps(variables, sort_keys=True)]
    invocation = dbt.cli(args, context=context)
    try:
        yield from invocation.stream()
    finally:
        prune_invocation_folders(invocation.target_path.parent)


# dagster-dbt gives every invocation a target folder of its own (about 4 MB: manifest, run
# results, logs); kept forever they fill the disk, a few are worth keeping for debugging.
KEPT_INVOCATIONS = 10
INVOCATION_PREFIX = "npl_dbt_models-"


def prune_invocation_folders(target: Path, keep: int = KEPT_INVOCATIONS) -> list[Path]:
    """Delete all but the `keep` newest dbt invocation folders under `target`."""
    if not target.is_dir():
        return []
    folders = [p for p in target.iterdir() if p.is_dir() and p.name.startswith(INVOCATION_PREFIX)]
    folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
    return folders[keep:]
