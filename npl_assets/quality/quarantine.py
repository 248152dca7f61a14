"""`raw.listing_quarantine`: listings held back from the marts, one row per failed expectation.

A listing that fails any hard expectation is held back; its row lists EVERY expectation it
fails (soft ones too, marked so), so whoever fixes the document sees all that is wrong at once.
Every sha256 in the table is held back. The table is rewritten from scratch on each check,
keyed by sha256: a document fixed and replayed (parsed again into raw.listings) passes and
leaves the quarantine on the next run; nothing is ever deleted from raw.listings.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from npl_assets.quality.rules import HARD
from npl_assets.quality.validation import ValidationReport

# The table itself belongs to the warehouse schema; re-exported for the quality package.
from npl_assets.warehouse.schema import QUARANTINE_DDL, QUARANTINE_TABLE

QUARANTINE_COLUMNS = [
    "sha256",
    "title",
    "expectation",
    "column_name",
    "observed_value",
    "severity",
    "reason",
    "checked_at",
    "run_id",
]


def ensure_quarantine_table(con) -> None:
    con.execute("create schema if not exists raw")
    con.execute(QUARANTINE_DDL)


def quarantine_rows(
    report: ValidationReport, checked_at: datetime, run_id: str | None
) -> pd.DataFrame:
    """Every failure of every held-back listing, one row each."""
    anonymous = [f for f in report.hard_failures if not f.sha256]
    if anonymous:
        # Nothing may be held back without a key to find it by; raw.listings forbids this,
        # so it means a frame that is not raw.listings.
        raise ValueError(
            f"{len(anonymous)} failing listings have no sha256 and cannot be quarantined: "
            + ", ".join(sorted({str(f.title) for f in anonymous})[:5])
        )
    held = set(report.held_back)
    rows = [
        {
            "sha256": f.sha256,
            "title": f.title,
            "expectation": f.expectation,
            "column_name": f.column,
            "observed_value": f.observed,
            "severity": f.severity,
            "reason": f.reason,
            "checked_at": checked_at,
            "run_id": run_id,
        }
        for f in report.failures
        if f.sha256 in held
    ]
    return pd.DataFrame(rows, columns=QUARANTINE_COLUMNS)


def quarantined_sha256s(con) -> set[str]:
    """The held-back documents; none when the quarantine never ran."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'raw'"
        " and table_name = 'listing_quarantine' and database_name = current_database()"
    ).fetchall()[0][0]
    if not exists:
        return set()
    return {r[0] for r in con.execute(f"select distinct sha256 from {QUARANTINE_TABLE}").fetchall()}


def replace_quarantine(con, rows: pd.DataFrame) -> dict[str, list[str]]:
    """Rewrite the table with `rows` in one transaction; returns which documents entered,
    stayed in and left the quarantine."""
    ensure_quarantine_table(con)
    before = quarantined_sha256s(con)
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {QUARANTINE_TABLE}")
        if len(rows):
            con.register("quarantine_rows", rows[QUARANTINE_COLUMNS])
            con.execute(f"insert into {QUARANTINE_TABLE} by name select * from quarantine_rows")
            con.unregister("quarantine_rows")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    after = set(rows["sha256"]) if len(rows) else set()
    return {
        "entered": sorted(after - before),
        "stayed": sorted(after & before),
        "released": sorted(before - after),
    }


def held_back_summary(report: ValidationReport) -> pd.DataFrame:
    """One row per held-back listing: its title and the hard expectations it fails."""
    by_sha: dict[str, dict] = {}
    for failure in report.failures_of(HARD):
        entry = by_sha.setdefault(
            failure.sha256, {"sha256": failure.sha256, "title": failure.title, "failed": []}
        )
        entry["failed"].append(failure.expectation)
    rows = [
        {**entry, "failed": ", ".join(dict.fromkeys(entry["failed"]))} for entry in by_sha.values()
    ]
    return pd.DataFrame(rows, columns=["sha256", "title", "failed"])
