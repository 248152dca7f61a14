"""The quarterly market report as an asset: HTML pages under data/reports/ and the same content
as markdown in the asset's metadata, so the Dagster UI shows it."""

# No `from __future__ import annotations` here: Dagster 1.13 reads the `context` and resource
# annotations of an asset function at definition time and rejects them as strings.
import dagster as dg
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from npl_assets.assets.conditions import downstream_condition
from npl_assets.assets.transform import npl_dbt_models
from npl_assets.locations import DataPaths

REPORT_MARTS = ("seller_quarterly_metrics", "market_quarterly_metrics", "buyer_league", "projects")


@dg.asset(
    group_name="reports",
    kinds={"duckdb", "html"},
    deps=[get_asset_key_for_model([npl_dbt_models], model) for model in REPORT_MARTS],
    pool="duckdb",
    automation_condition=downstream_condition(),
)
def market_report(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: DataPaths
) -> dg.MaterializeResult:
    """The quarterly market report Yindeng stopped publishing: for each quarter of first
    listing, a self-contained HTML page (headline figures with changes, seller and asset
    types, top sellers and buyers, starting-price ratio, overdue-days distribution, methods)
    in data/reports/, linked from data/reports/index.html. Built from the marts only."""
    from npl_assets.report.build import build_reports

    out_dir = paths.reports_dir()
    with duckdb.get_connection() as con:
        built = build_reports(con, out_dir)
    metadata: dict[str, object] = {
        "index": dg.MetadataValue.path(str(out_dir / "index.html")),
        "quarters": dg.MetadataValue.json([b.report.quarter for b in built]),
    }
    if built:
        latest = built[-1]
        metadata["latest_quarter"] = latest.report.quarter
        metadata["latest_report"] = dg.MetadataValue.md(latest.markdown)
    # Every quarter's report in full, newest first in the UI's metadata list.
    for item in reversed(built):
        metadata[f"report_{item.report.quarter}"] = dg.MetadataValue.md(item.markdown)
    context.log.info("wrote %d quarterly reports to %s", len(built), out_dir)
    return dg.MaterializeResult(metadata=metadata)
