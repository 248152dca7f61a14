"""Jobs: the main job materialises the whole graph, crawl to serving file."""

import dagster as dg

npl_pipeline = dg.define_asset_job(
    name="npl_pipeline",
    selection=dg.AssetSelection.all(),
    description="Crawl Yindeng, parse new PDFs, build the dbt marts and publish the serving file.",
)
