"""The quality checks wire into the code location: keys resolve against the dbt manifest, the
right checks block, the quarantine sits between `listings` and stg_listings, and importing the
quality package costs no Great Expectations import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from npl_assets.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def quality_defs(dbt_manifest: Path) -> dg.Definitions:
    from npl_assets.assets.parsed import listings, results
    from npl_assets.assets.transform import npl_dbt_models
    from npl_assets.quality.asset_checks import build_quality_checks
    from npl_assets.quality.assets import listing_quarantine
    from npl_assets.resources import default_resources

    return dg.Definitions(
        assets=[listings, results, npl_dbt_models, listing_quarantine],
        asset_checks=build_quality_checks(npl_dbt_models),
        resources=default_resources(),
    )


def test_checks_target_the_expected_assets(quality_defs: dg.Definitions) -> None:
    graph = quality_defs.resolve_asset_graph()
    checks = {
        (key.asset_key.to_user_string(), key.name): graph.get_check_spec(key)
        for key in graph.asset_check_keys
        if not graph.get_check_spec(key).name.startswith(("not_null", "unique", "accepted"))
    }
    expected_blocking = {
        ("stg_listings", "hard_expectations"): True,
        ("projects", "reconciles_with_stg_listings"): True,
        ("seller_quarterly_metrics", "reconciles_with_projects"): True,
        ("market_quarterly_metrics", "reconciles_with_projects"): True,
        ("listing_quarantine", "hard_expectations"): False,
        ("listing_quarantine", "soft_expectations"): False,
        ("results", "hard_expectations"): False,
        ("results", "soft_expectations"): False,
        ("listings", "completeness"): False,
        ("results", "completeness"): False,
        ("stg_sellers", "all_sellers_classified"): False,
        ("stg_buyers", "all_buyers_classified"): False,
    }
    assert {k: checks[k].blocking for k in expected_blocking} == expected_blocking


def test_the_quarantine_sits_between_listings_and_stg_listings(
    quality_defs: dg.Definitions,
) -> None:
    graph = quality_defs.resolve_asset_graph()
    assert dg.AssetKey("listings") in graph.get(dg.AssetKey("listing_quarantine")).parent_keys
    # Needs the `listing_quarantine` source in dbt_project/models/staging/_sources.yml.
    assert dg.AssetKey("listing_quarantine") in graph.get(dg.AssetKey("stg_listings")).parent_keys


def test_importing_the_checks_does_not_import_great_expectations() -> None:
    code = (
        "import sys; import npl_assets.quality.asset_checks, npl_assets.quality.assets; "
        "print('great_expectations' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
