"""dbt models (staging, projects, marts) as Dagster assets; dbt tests become asset checks."""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from npl_assets.automation.conditions import downstream_condition
from npl_assets.dbt_project import dbt_project


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


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=NplDbtTranslator(),
    pool="duckdb",
)
def npl_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource):
    """Builds seeds, staging models and marts, and runs their tests, with dbt-duckdb."""
    # profiles.yml reads the warehouse path from the environment; the resource is the truth.
    os.environ["DUCKDB_DATABASE"] = str(duckdb.database)
    # A subset run (automation builds the seeds alone on a fresh instance) must not pick up a
    # test whose other parent is not selected (dbt's default "eager" does, and then fails on a
    # table that does not exist yet). dagster-dbt still overrides this when it needs "empty".
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "cautious")
    yield from dbt.cli(["build"], context=context).stream()
