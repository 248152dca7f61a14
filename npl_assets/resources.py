"""The platform's resources, built in one place from one description of where things are. The
code location builds them from the environment (definitions.py); tests and the harness build
them for a temp folder, and hand subprocesses the same description as environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from npl_assets import profiles, settings
from npl_assets.alerts.sensor import AlertsResource
from npl_assets.dbt_project import dbt_cli_resource, dbt_project
from npl_assets.locations import DataPaths, YindengSite
from npl_assets.warehouse.recovery import WarehouseResource


@dataclass(frozen=True)
class Locations:
    """Where one platform keeps its data, and which site it crawls (source_url None: the bundled
    site under site_dir, served on loopback for each crawl)."""

    data_dir: Path
    site_dir: Path
    raw_dir: Path
    warehouse: Path
    serving: Path
    source_url: str | None = None

    @classmethod
    def from_environment(cls) -> Locations:
        """The checkout's defaults (data/), each overridable by its variable (settings.py)."""
        return cls(
            data_dir=settings.data_dir(),
            site_dir=settings.site_dir(),
            raw_dir=settings.raw_dir(),
            warehouse=settings.duckdb_path(),
            serving=settings.serving_path(),
            source_url=settings.source_url(),
        )

    @classmethod
    def under(
        cls, data_dir: Path, site_dir: Path | None = None, source_url: str | None = None
    ) -> Locations:
        """Everything in one folder (a test's, a benchmark's), crawling `site_dir`."""
        data_dir = Path(data_dir)
        return cls(
            data_dir=data_dir,
            site_dir=Path(site_dir) if site_dir else settings.site_dir(),
            raw_dir=data_dir / "raw",
            warehouse=data_dir / "npl.duckdb",
            serving=data_dir / "npl_serving.duckdb",
            source_url=source_url,
        )

    def environment(self) -> dict[str, str]:
        """The variables that make another process's definitions (`dagster dev`, a daemon, a
        run worker, the `npl` commands) build these same locations."""
        variables = {
            "NPL_DATA_DIR": str(self.data_dir),
            "NPL_SITE_DIR": str(self.site_dir),
            "NPL_RAW_DIR": str(self.raw_dir),
            "DUCKDB_DATABASE": str(self.warehouse),
            "NPL_SERVING_DATABASE": str(self.serving),
        }
        if self.source_url:
            variables["NPL_SOURCE_URL"] = self.source_url
        return variables


def warehouse_resource(path: Path) -> WarehouseResource:
    """The embedded DuckDB file at `path`. It frees, as each run starts, the pool slot a killed
    run left claimed, and keeps other runs out until it is done."""
    return WarehouseResource(database=str(path))


def dbt_resource() -> DbtCliResource:
    return dbt_cli_resource(dbt_project)


def platform_resources(
    locations: Locations, profile: str = profiles.EMBEDDED
) -> Mapping[str, dg.ConfigurableResource]:
    """Every resource the definitions use. The team profile keeps the warehouse and the content
    store in its DuckLake and S3 (profiles.TeamSettings); the rest is the same."""
    if profile == profiles.TEAM:
        from npl_assets.team.warehouse import LakeWarehouseResource

        team = profiles.TeamSettings.from_env()
        duckdb: WarehouseResource = LakeWarehouseResource.from_settings(team)
        content_store = team.content_store_url
    else:
        duckdb = warehouse_resource(locations.warehouse)
        content_store = str(locations.raw_dir)
    return {
        "duckdb": duckdb,
        "dbt": dbt_resource(),
        "site": YindengSite(url=locations.source_url, site_dir=str(locations.site_dir)),
        "paths": DataPaths(
            data_dir=str(locations.data_dir),
            content_store=content_store,
            serving_database=str(locations.serving),
        ),
        "alerts": AlertsResource(
            rules_path=str(locations.data_dir / "alerts.yaml"),
            state_path=str(locations.data_dir / "alerts.sqlite"),
            serving_path=str(locations.serving),
        ),
    }


def default_resources() -> Mapping[str, dg.ConfigurableResource]:
    """The resources of this process's environment: the checkout's data/ and the embedded
    profile unless NPL_* variables and NPL_PROFILE say otherwise."""
    return platform_resources(Locations.from_environment(), profiles.profile())
