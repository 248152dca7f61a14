"""The code location: wiring only."""

import dagster as dg

from npl_assets.alerts.sensor import open_listing_alerts_sensor
from npl_assets.assets.documents import raw_documents
from npl_assets.assets.market_chart import market_chart
from npl_assets.assets.market_report import market_report
from npl_assets.assets.parsed import listings, results
from npl_assets.assets.serving import serving_database
from npl_assets.assets.transform import npl_dbt_models
from npl_assets.automation.freshness import raw_freshness_checks, raw_freshness_sensor
from npl_assets.automation.schedules import daily_crawl_schedule
from npl_assets.automation.sensors import (
    dead_run_sensor,
    downstream_automation_sensor,
    new_announcements_sensor,
    run_failure_log_sensor,
)
from npl_assets.jobs import npl_pipeline
from npl_assets.profiles import profile
from npl_assets.quality.asset_checks import build_quality_checks
from npl_assets.quality.assets import listing_quarantine
from npl_assets.resources import Locations, platform_resources

defs = dg.Definitions(
    assets=[
        raw_documents,
        listings,
        results,
        listing_quarantine,
        npl_dbt_models,
        serving_database,
        market_chart,
        market_report,
    ],
    asset_checks=[*raw_freshness_checks, *build_quality_checks(npl_dbt_models)],
    jobs=[npl_pipeline],
    schedules=[daily_crawl_schedule],
    sensors=[
        new_announcements_sensor,
        downstream_automation_sensor,
        raw_freshness_sensor,
        run_failure_log_sensor,
        dead_run_sensor,
        open_listing_alerts_sensor,
    ],
    # Where data lives and which site is crawled: the environment's NPL_* variables, else the
    # checkout's data/ and the bundled site; NPL_PROFILE=team puts the warehouse on DuckLake.
    resources=platform_resources(Locations.from_environment(), profile()),
    # On two cores, per-step processes cost more than they save, and in-process steps also
    # serialise DuckDB writes within a run.
    executor=dg.in_process_executor,
)
