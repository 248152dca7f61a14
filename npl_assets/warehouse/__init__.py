"""The warehouse layer: the DuckDB schema of the raw tables and the quarantine (schema.py),
loading crawled and parsed documents and the pending-work queries (loading.py), the one-run-at-
a-time lock (lock.py) and the recovery after a killed run with the Dagster resource that applies
both (recovery.py).

`from npl_assets import warehouse` gives the schema helpers (`warehouse.ensure_schema(con)`,
`warehouse.connect(path)`, `warehouse.PARSED_TABLES`); the other modules import on use, so
importing the schema costs no Dagster."""

from npl_assets.warehouse.schema import (
    ADDED_COLUMNS,
    ALL_DDL,
    CRAWL_FAILURES_DDL,
    DOCUMENTS_DDL,
    LISTINGS_DDL,
    MONEY,
    PARSE_FAILURES_DDL,
    PARSED_TABLES,
    QUARANTINE_DDL,
    QUARANTINE_TABLE,
    RESULTS_DDL,
    SITE_COUNTS_DDL,
    connect,
    ensure_schema,
    is_lake,
    without_keys,
)

__all__ = [
    "ADDED_COLUMNS",
    "ALL_DDL",
    "CRAWL_FAILURES_DDL",
    "DOCUMENTS_DDL",
    "LISTINGS_DDL",
    "MONEY",
    "PARSED_TABLES",
    "PARSE_FAILURES_DDL",
    "QUARANTINE_DDL",
    "QUARANTINE_TABLE",
    "RESULTS_DDL",
    "SITE_COUNTS_DDL",
    "connect",
    "ensure_schema",
    "is_lake",
    "without_keys",
]
