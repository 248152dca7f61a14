"""The dbt project handle, in a module of its own so that
`dagster-dbt project prepare-and-package --file npl_assets/dbt_project.py` can import it alone."""

import json
import shutil
import sys
from functools import cached_property
from importlib import metadata
from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtCliResource, DbtProject
from packaging import version

from npl_assets import settings
from npl_assets.warehouse.recovery import embedded_dbt_vars

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


def dbt_executable() -> str:
    """The venv's dbt, so that a PATH without the venv still finds the right one."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")


class VenvDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource. Before each invocation dagster-dbt asks the executable its
    version (`dbt --version`, a 2 s process on 2 cores); the venv's dbt is this environment's
    dbt-core, whose version its package metadata has. Another executable is still asked."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) == Path(sys.executable).with_name("dbt"):
            return version.parse(metadata.version("dbt-core"))
        return super()._cli_version


def dbt_cli_resource(project: DbtProject) -> DbtCliResource:
    return VenvDbtCliResource(project_dir=project, dbt_executable=dbt_executable())


class VenvDbtPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer (parse the project under `dagster dev` / `dg`), with the venv's
    dbt and the run's vars, whatever PATH and the environment hold."""

    def prepare(self, project: DbtProject) -> None:
        # The vars a run on the default warehouse passes: the run's parse then stays partial.
        variables = embedded_dbt_vars(str(settings.duckdb_path()))
        args = ["parse", "--quiet", "--vars", json.dumps(variables, sort_keys=True)]
        dbt = dbt_cli_resource(project)
        dbt.cli(args, target_path=project.target_path).wait()


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Only under `dagster dev` and `dg` (the preparer checks); elsewhere the manifest is prepared by
# make and the tests.
VenvDbtPreparer().prepare_if_dev(dbt_project)
