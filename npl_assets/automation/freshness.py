"""Freshness: the last successful crawl must be younger than its window. The daily schedule
crawls every 24 h; two hours of slack cover a slow or retried crawl.

Dagster 1.13 marks these check factories as superseded by `FreshnessPolicy` on the asset. The
check is kept on purpose: it has a pass/fail history in the UI, can block and be tested like any
check, and needs no experimental freshness daemon."""

from __future__ import annotations

import warnings
from datetime import timedelta

import dagster as dg

CRAWL_FRESHNESS_WINDOW = timedelta(hours=26)
CRAWLED_ASSET = dg.AssetKey("raw_documents")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=dg.SupersessionWarning)
    raw_freshness_checks = dg.build_last_update_freshness_checks(
        assets=[CRAWLED_ASSET],
        lower_bound_delta=CRAWL_FRESHNESS_WINDOW,
        # Keeping the data current is the platform's whole job: a stale crawl is an error.
        severity=dg.AssetCheckSeverity.ERROR,
    )
    raw_freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=raw_freshness_checks,
        name="raw_freshness_sensor",
        minimum_interval_seconds=600,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
