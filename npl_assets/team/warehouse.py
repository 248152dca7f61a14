"""The team profile's warehouse resource: the DuckLake attached as `lake` on an in-memory DuckDB
for each connection, one run at a time by a Postgres advisory lock, and the same recovery of
killed runs as the embedded resource (warehouse/recovery.py). Its settings are its config;
definitions.py fills them in (secrets as dg.EnvVar, never stored in the run config)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from pydantic import Field

from npl_assets import profiles
from npl_assets.team.lock import AdvisoryWarehouseLock
from npl_assets.warehouse.recovery import WarehouseResource

# Read from the deployment's environment by name, by this resource and by dbt's team target.
SECRET_VARIABLES = {
    "pg_password": "NPL_PG_PASSWORD",
    "s3_key_id": "NPL_S3_KEY_ID",
    "s3_secret": "NPL_S3_SECRET",
}


class LakeWarehouseResource(WarehouseResource):
    """A WarehouseResource whose connections see the DuckLake as their current database, so
    every asset's SQL (`raw.documents`, `main.projects`) runs unchanged. DuckLake commits each
    transaction as a snapshot: readers elsewhere see the last committed one, never a partial
    write, and a killed run's uncommitted work is simply not in the catalog."""

    database: str = ":memory:"
    pg_host: str = Field(description="Postgres host of the DuckLake catalog (and Dagster).")
    pg_port: int = 5432
    pg_user: str
    pg_password: str
    dagster_db: str = "dagster"
    catalog_db: str = "ducklake"
    s3_endpoint: str = Field(description="host:port of the S3 service, no scheme.")
    s3_use_ssl: bool = True
    s3_url_style: str = "vhost"
    s3_region: str = "us-east-1"
    s3_key_id: str
    s3_secret: str
    s3_bucket: str
    s3_prefix: str = Field(default="", description="Under the bucket: lake/ and raw/.")

    @classmethod
    def from_settings(cls, team: profiles.TeamSettings) -> LakeWarehouseResource:
        """The resource for these settings, its secrets read from the environment at run time
        (dg.EnvVar) so that they never show in the UI's resource config."""
        values: dict[str, object] = dataclasses.asdict(team)
        for field, variable in SECRET_VARIABLES.items():
            values[field] = dg.EnvVar(variable)
        return cls(**values)

    def team(self) -> profiles.TeamSettings:
        names = [f.name for f in dataclasses.fields(profiles.TeamSettings)]
        return profiles.TeamSettings(**{name: getattr(self, name) for name in names})

    def dbt_vars(self) -> dict[str, str]:
        team = self.team()
        return {
            "npl_target": "team",
            "npl_catalog": team.catalog_dsn(include_password=False),
            "npl_lake_data_path": team.lake_data_path,
            "npl_duckdb_extensions": str(profiles.extension_directory()),
            "npl_s3_endpoint": team.s3_endpoint,
            "npl_s3_region": team.s3_region,
            "npl_s3_url_style": team.s3_url_style,
            "npl_s3_use_ssl": str(team.s3_use_ssl).lower(),
        }

    def warehouse_lock(self) -> AdvisoryWarehouseLock:
        return AdvisoryWarehouseLock(self.team())

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = profiles.open_lake(self.team(), config=self.connection_config or None)
        try:
            yield con
        finally:
            con.close()
