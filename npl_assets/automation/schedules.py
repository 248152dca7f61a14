"""The daily crawl: one run of the main job, the crawl and everything below it. A crawl that
finds nothing new skips the steps below it, so an idle run costs the crawl and little more."""

from __future__ import annotations

import dagster as dg

from npl_assets.jobs import npl_pipeline

# One run crawls and builds everything below: a new announcement reaches the serving file in
# that run, not in a second one started later by declarative automation.
CRAWL_TARGET = npl_pipeline
# Yindeng publishes on working days, during office hours in Beijing time.
DAILY_CRAWL_CRON = "0 7 * * *"
TIMEZONE = "Asia/Shanghai"

daily_crawl_schedule = dg.ScheduleDefinition(
    name="daily_crawl_schedule",
    cron_schedule=DAILY_CRAWL_CRON,
    execution_timezone=TIMEZONE,
    target=CRAWL_TARGET,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    tags={"npl/trigger": "daily_crawl_schedule"},
    description=(
        "Crawls both Yindeng indexes (listings and results) every morning at 07:00 Beijing "
        "time, then parses, builds the marts and publishes them in the same run; the source is "
        "NPL_SOURCE_URL, else the bundled site."
    ),
)
