"""The warehouse's raw layer: DDL and small helpers around DuckDB. No Dagster here.

Python assets write only the `raw` schema; dbt owns everything else. Money is DECIMAL(18,2) so
sums stay exact; count lists (五级分类, 核销, 担保, 诉讼) are JSON objects {name: count}."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

MONEY = "DECIMAL(18,2)"
# Where each document type's parsed rows go (raw.<table>).
PARSED_TABLES = {"listing": "listings", "result": "results"}

DOCUMENTS_DDL = """
create table if not exists raw.documents (
    sha256 varchar not null,
    doc_type varchar not null,          -- 'listing' | 'result'
    title varchar not null,
    list_date date,
    detail_url varchar not null,
    pdf_url varchar not null,
    byte_size bigint not null,
    http_status integer,
    fetched_at timestamp not null,
    loaded_at timestamp not null default current_timestamp,
    run_id varchar,
    primary key (sha256, pdf_url)
)
"""

CRAWL_FAILURES_DDL = """
create table if not exists raw.crawl_failures (
    url varchar not null,
    doc_type varchar,
    stage varchar,                      -- 'index' | 'detail' | 'pdf'
    error varchar not null,
    http_status integer,
    failed_at timestamp not null,
    run_id varchar
)
"""

# What each index said it holds (span#pageTotal, 共N条) whenever the crawl read its first page.
SITE_COUNTS_DDL = """
create table if not exists raw.site_counts (
    doc_type varchar not null,
    url varchar not null,
    items integer not null,
    checked_at timestamp not null,
    run_id varchar
)
"""

LISTINGS_DDL = f"""
create table if not exists raw.listings (
    sha256 varchar primary key,
    parser_version varchar not null,
    parsed_at timestamp not null,
    title varchar not null,
    project_name varchar not null,
    is_relisting boolean not null,
    seller varchar not null,
    batch_year integer,
    batch_no integer,
    asset_type varchar,
    transaction_base_date date,
    loans integer,
    borrowers integer,
    unpaid_principal_yuan {MONEY},
    unpaid_interest_yuan {MONEY},
    unpaid_total_yuan {MONEY},
    other_fees_yuan {MONEY},
    weighted_avg_overdue_days decimal(12,2),
    max_single_borrower_unpaid_yuan {MONEY},
    avg_borrower_unpaid_yuan {MONEY},
    weighted_avg_borrower_age decimal(6,2),
    weighted_avg_credit_limit_yuan {MONEY},
    five_class json,
    write_off json,
    guarantee json,
    litigation json,
    remarks varchar,
    registration_deadline timestamp,
    bid_date date,
    transfer_method varchar,
    bidding_method varchar,
    auction_start timestamp,
    auction_end timestamp,
    extension_minutes integer,
    starting_price_yuan {MONEY},
    bid_increment_yuan {MONEY},
    deposit_required boolean,
    publication_date date,
    asset_type_wording varchar,
    unread_fields json
)
"""

RESULTS_DDL = """
create table if not exists raw.results (
    sha256 varchar primary key,
    parser_version varchar not null,
    parsed_at timestamp not null,
    title varchar not null,
    project_name varchar not null,
    project_code varchar,
    seller varchar not null,
    buyer varchar,
    agreement_signed_date date,
    publication_date date,
    unread_fields json
)
"""

PARSE_FAILURES_DDL = """
create table if not exists raw.parse_failures (
    sha256 varchar not null,
    doc_type varchar,
    parser_version varchar not null,
    error_type varchar not null,
    field varchar,
    message varchar not null,
    failed_at timestamp not null,
    primary key (sha256, parser_version)
)
"""

# Listings held back from the marts (written by the quality package, see quality/quarantine.py).
QUARANTINE_TABLE = "raw.listing_quarantine"

# `column` is reserved in DuckDB, hence column_name.
QUARANTINE_DDL = """
create table if not exists raw.listing_quarantine (
    sha256 varchar not null,
    title varchar,
    expectation varchar not null,
    column_name varchar not null,
    observed_value varchar,
    severity varchar not null,          -- 'hard' | 'soft'
    reason varchar not null,
    checked_at timestamp not null,
    run_id varchar
)
"""

ALL_DDL = (
    DOCUMENTS_DDL,
    CRAWL_FAILURES_DDL,
    SITE_COUNTS_DDL,
    LISTINGS_DDL,
    RESULTS_DDL,
    PARSE_FAILURES_DDL,
    QUARANTINE_DDL,
)


# Columns added after a table's first release: a warehouse built before gets them on its next run.
ADDED_COLUMNS = (
    ("listings", "asset_type_wording", "varchar"),
    ("listings", "unread_fields", "json"),
    ("results", "unread_fields", "json"),
)


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's current database is a DuckLake (the team profile)."""
    rows = con.execute(
        "select type from duckdb_databases() where database_name = current_database()"
    ).fetchall()
    return bool(rows) and rows[0][0] == "ducklake"


_INLINE_KEY = re.compile(r"\s+primary key(?=,|\n)", re.IGNORECASE)
_TABLE_KEY = re.compile(r",\s*primary key\s*\([^)]*\)", re.IGNORECASE)


def without_keys(ddl: str) -> str:
    """The DDL without PRIMARY KEY constraints, which DuckLake does not support. The writers
    keep the keys unique themselves (anti-joins, delete-then-insert in one transaction), so the
    constraint is a guard in the embedded file, not what makes the data right."""
    return _TABLE_KEY.sub("", _INLINE_KEY.sub(" not null", ddl))


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    lake = is_lake(con)
    for ddl in ALL_DDL:
        con.execute(without_keys(ddl) if lake else ddl)
    for table, column, sql_type in ADDED_COLUMNS:
        con.execute(f"alter table raw.{table} add column if not exists {column} {sql_type}")


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection: DuckDB lets one process write, so never hold one open."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()
