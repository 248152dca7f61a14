"""The daily crawl. Only raw_documents runs here; the rest follows by declarative automation."""

from __future__ import annotations

import dagster as dg

CRAWL_TARGET = dg.AssetSelection.assets("raw_documents")
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
        "time; the source is NPL_SOURCE_URL, else the bundled site. Parsing, dbt and the "
        "serving file follow by declarative automation."
    ),
)
