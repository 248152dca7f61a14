"""The code location loads and is wired as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from npl_assets.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def defs(dbt_manifest: Path) -> dg.Definitions:
    from npl_assets.definitions import defs

    return defs


def test_definitions_load_with_expected_assets_and_jobs(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    expected = {
        "raw_documents",
        "listings",
        "results",
        "stg_listings",
        "stg_results",
        "projects",
        "seller_quarterly_metrics",
        "market_quarterly_metrics",
        "buyer_league",
        "serving_database",
        "listing_quarantine",
        "market_report",
        "market_chart",
    }
    assert expected <= keys
    assert defs.resolve_job_def("npl_pipeline") is not None


def test_dbt_sources_are_the_python_assets(defs: dg.Definitions) -> None:
    """The most common dagster-dbt bug is a broken lineage edge between Python and dbt."""
    graph = defs.resolve_asset_graph()
    stg_listings = graph.get(dg.AssetKey("stg_listings"))
    stg_results = graph.get(dg.AssetKey("stg_results"))
    assert dg.AssetKey("listings") in stg_listings.parent_keys
    assert dg.AssetKey("results") in stg_results.parent_keys
    serving = graph.get(dg.AssetKey("serving_database"))
    assert dg.AssetKey("seller_quarterly_metrics") in serving.parent_keys


def test_definitions_import_is_light(dbt_manifest: Path) -> None:
    """Nothing heavy at import: no Scrapy, no GX, no parser, no DuckDB connection."""
    heavy_modules = ("scrapy", "great_expectations", "pypdfium2", "twisted")
    code = (
        "import sys; import npl_assets.definitions; "
        f"print([m for m in {heavy_modules!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout
    heavy = out.strip()
    assert heavy == "[]", f"heavy modules imported by definitions: {heavy}"


def test_the_dbt_resource_knows_the_venv_dbt_version_without_asking_it() -> None:
    """dagster-dbt would run `dbt --version` before every invocation; the resource reads the
    same version from dbt-core's metadata, and it must be the executable's."""
    from npl_assets.resources import dbt_resource

    dbt = dbt_resource()
    reported = subprocess.run(
        [dbt.dbt_executable, "--version"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert f"installed: {dbt._cli_version}" in reported
