"""Automation around the graph: the daily crawl schedule, the new-announcement sensor, the
freshness check on the crawl, the dead-run sensor and the run-failure log (`ops.duckdb`).

The sensor's index poll (`crawler.index_watch`) and the run-failure log (`failures`) hold the
logic, with no Dagster in them; the other modules only wire it into Dagster definitions. The
declarative automation condition the assets carry is `assets.conditions`."""
