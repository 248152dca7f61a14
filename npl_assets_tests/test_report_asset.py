"""The market_report asset: wired below the four marts, and materialised on hand-made marts it
writes the pages and carries the same content as markdown in its metadata."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from npl_assets.resources import Locations, platform_resources
from npl_assets_tests.test_report_unit import make_marts


def test_market_report_depends_on_the_marts(dbt_manifest: Path) -> None:
    from npl_assets.assets.market_report import market_report
    from npl_assets.assets.transform import npl_dbt_models
    from npl_assets.resources import default_resources

    defs = dg.Definitions(assets=[npl_dbt_models, market_report], resources=default_resources())
    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey("market_report"))
    marts = ("seller_quarterly_metrics", "market_quarterly_metrics", "buyer_league", "projects")
    assert {dg.AssetKey(m) for m in marts} <= set(node.parent_keys)
    assert node.group_name == "reports"


def test_market_report_writes_pages_and_markdown(dbt_manifest: Path, isolated_env: Path) -> None:
    from npl_assets.assets.market_report import market_report

    db = isolated_env / "npl.duckdb"
    make_marts(db)
    result = dg.materialize(
        [market_report], resources=platform_resources(Locations.under(isolated_env))
    )
    assert result.success
    metadata = result.asset_materializations_for_node("market_report")[0].metadata
    reports = isolated_env / "reports"
    assert sorted(p.name for p in reports.glob("*.html")) == [
        "2022Q4.html",
        "2023Q3.html",
        "2023Q4.html",
        "2024Q1.html",
        "index.html",
    ]
    assert metadata["latest_quarter"].value == "2024Q1"
    markdown = metadata["report_2023Q4"].value
    assert markdown.startswith("# Yindeng NPL transfers: market report 2023Q4")
    # 2023Q4's unpaid total listed, summed by hand from the hand-made projects: 25.17亿元
    assert "| unpaid total listed (未偿本息) | 25.17亿元 |" in markdown
    # in the warehouse the coverage notes can count the raw tables where they exist
    assert "| parse failures | not in this database" in markdown
