"""The dbt project handle, in a module of its own so that
`dagster-dbt project prepare-and-package --file npl_assets/dbt_project.py` can import it alone."""

import os
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Only under `dagster dev` (`make dev` puts the venv's dbt first on PATH); elsewhere the manifest
# is prepared by make and the test session.
if os.environ.get("DAGSTER_IS_DEV_CLI"):
    dbt_project.prepare_if_dev()
