"""The quarantine asset: run the listing suite over raw.listings and hold back what fails.

No `from __future__ import annotations` here: Dagster 1.13 checks the `context` annotation
against the class itself, and a postponed (string) annotation fails that check."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from npl_assets import warehouse
from npl_assets.assets.conditions import downstream_condition
from npl_assets.locations import DataPaths
from npl_assets.quality.check_results import check_result
from npl_assets.quality.quarantine import (
    QUARANTINE_TABLE,
    held_back_summary,
    quarantine_rows,
    replace_quarantine,
)
from npl_assets.quality.rules import HARD, SOFT
from npl_assets.quality.summary import markdown_table, write_report
from npl_assets.quality.validation import ValidationReport, validate_listings

LISTINGS_KEY = dg.AssetKey("listings")
RAW_DOCUMENTS_KEY = dg.AssetKey("raw_documents")
QUARANTINE_KEY = dg.AssetKey("listing_quarantine")
HELD_BACK_SHOWN = 100

# The index date stands in for a publication date the parser could not read, as in
# stg_listings, so the suite judges the same dates the marts will use.
LISTINGS_SQL = """
    select listings.*, documents.list_date
    from raw.listings as listings
    left join (
        select sha256, min(list_date) as list_date
        from raw.documents
        where doc_type = 'listing'
        group by sha256
    ) as documents on documents.sha256 = listings.sha256
    order by listings.sha256
"""


def read_listings(con) -> pd.DataFrame:
    return con.execute(LISTINGS_SQL).df()


def reasons_markdown(report: ValidationReport) -> str:
    counts = report.reason_counts()
    if not counts:
        return "No expectation failed."
    return markdown_table(
        ["expectation", "severity", "rows", "reason"],
        [[c["expectation"], c["severity"], c["rows"], c["reason"]] for c in counts],
    )


def held_back_markdown(report: ValidationReport) -> str:
    summary = held_back_summary(report)
    if summary.empty:
        return "Nothing held back."
    shown = summary.head(HELD_BACK_SHOWN)
    table = markdown_table(
        ["sha256", "title", "failed hard expectations"],
        [[r.sha256[:16], r.title, r.failed] for r in shown.itertuples()],
    )
    if len(summary) > len(shown):
        table += f"\n\n… and {len(summary) - len(shown)} more in {QUARANTINE_TABLE}."
    return table


@dg.asset(
    group_name="quality",
    kinds={"great_expectations", "duckdb"},
    # raw.documents gives the index date that stands in for a missing footer date
    deps=[LISTINGS_KEY, RAW_DOCUMENTS_KEY],
    pool="duckdb",
    # Follows `listings` like every asset below the crawl, so a crawl reaches the marts.
    automation_condition=downstream_condition(),
    # The listing suite runs once per run, here; its outcome is these two checks.
    check_specs=[
        dg.AssetCheckSpec(
            "hard_expectations",
            asset=QUARANTINE_KEY,
            description="Hard expectations of the listings suite over raw.listings (amounts, "
            "counts, dates, presence). Failing listings are held back in this table, so this "
            "reports them without blocking.",
        ),
        dg.AssetCheckSpec(
            "soft_expectations",
            asset=QUARANTINE_KEY,
            description="Soft expectations (descriptive fields present, overdue days present "
            "and at least 90, footer date read, asset-type wording known, every value read): "
            "warnings naming the rows.",
        ),
    ],
)
def listing_quarantine(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: DataPaths
) -> dg.MaterializeResult:
    """Listings held back from the marts (`raw.listing_quarantine`): every listing in
    raw.listings that fails a hard expectation of the `listings` suite, with one row per failed
    expectation (soft ones included) so it can be fixed and replayed. The table is rewritten
    on each run; a fixed document leaves it. stg_listings excludes every sha256 listed here.
    The suite runs once per run, here, and reports as this asset's two checks."""
    with duckdb.get_connection() as con:
        warehouse.ensure_schema(con)
        frame = read_listings(con)
    report = validate_listings(frame)
    rows = quarantine_rows(report, report.validated_at, context.run.run_id)
    with duckdb.get_connection() as con:
        movement = replace_quarantine(con, rows)
    path = write_report(report, paths.quality_dir())

    held = report.held_back
    if held:
        counts = report.reason_counts("hard")
        reasons = ", ".join(f"{c['expectation']} ×{c['rows']}" for c in counts)
        context.log.warning(
            f"Held back {len(held)} of {report.rows} listings from the marts ({reasons}); "
            f"see {QUARANTINE_TABLE} and {path}"
        )
    else:
        context.log.info(f"All {report.rows} listings pass the hard expectations")
    if movement["released"]:
        context.log.info(f"{len(movement['released'])} listings left the quarantine (now pass)")
    checks = [
        check_result(
            report,
            HARD,
            path,
            asset_key=QUARANTINE_KEY,
            check_name="hard_expectations",
            extra={"held_back": dg.MetadataValue.int(len(held))},
        ),
        check_result(report, SOFT, path, asset_key=QUARANTINE_KEY, check_name="soft_expectations"),
    ]
    return dg.MaterializeResult(
        check_results=checks,
        metadata={
            "rows_checked": dg.MetadataValue.int(report.rows),
            "held_back": dg.MetadataValue.int(len(held)),
            "passed_to_marts": dg.MetadataValue.int(report.rows - len(held)),
            "quarantine_rows": dg.MetadataValue.int(len(rows)),
            "newly_held_back": dg.MetadataValue.int(len(movement["entered"])),
            "released": dg.MetadataValue.int(len(movement["released"])),
            "soft_warnings": dg.MetadataValue.int(report.failed_rows("soft")),
            "reasons": dg.MetadataValue.md(reasons_markdown(report)),
            "held_back_listings": dg.MetadataValue.md(held_back_markdown(report)),
            "report": dg.MetadataValue.path(str(path)),
            "table": QUARANTINE_TABLE,
        },
    )
