"""Automation around the graph: the daily crawl schedule, the new-announcement sensor, the
declarative automation that carries a crawl down to the marts, the freshness check on the crawl,
the run-failure log (`ops.duckdb`) and the market chart shown in the UI.

The modules without Dagster in them (`index_watch`, `failures`) hold the logic; the others only
wire it into Dagster definitions."""
