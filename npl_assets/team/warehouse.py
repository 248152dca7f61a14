"""The team profile's warehouse resource: the DuckLake attached as `lake` on an in-memory DuckDB
for each connection, one run at a time by a Postgres advisory lock, and the same recovery of
killed runs as the embedded resource (warehouse/recovery.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from npl_assets import profiles
from npl_assets.team.lock import AdvisoryWarehouseLock
from npl_assets.warehouse.recovery import WarehouseResource


class LakeWarehouseResource(WarehouseResource):
    """A WarehouseResource whose connections see the DuckLake as their current database, so
    every asset's SQL (`raw.documents`, `main.projects`) runs unchanged. DuckLake commits each
    transaction as a snapshot: readers elsewhere see the last committed one, never a partial
    write, and a killed run's uncommitted work is simply not in the catalog."""

    database: str = ":memory:"

    def dbt_environment(self) -> dict[str, str]:
        return profiles.dbt_env()

    def warehouse_lock(self) -> AdvisoryWarehouseLock:
        return AdvisoryWarehouseLock(profiles.team_settings())

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = profiles.open_lake(config=self.connection_config or None)
        try:
            yield con
        finally:
            con.close()
