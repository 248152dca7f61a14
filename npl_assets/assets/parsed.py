"""Parsed layer: every stored PDF not yet parsed by the current parser becomes a typed row in
`raw.listings` / `raw.results`, or a row in `raw.parse_failures` with its reason."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from npl_assets import warehouse
from npl_assets.assets.conditions import downstream_condition
from npl_assets.locations import DataPaths

# Called through the module, so that the reliability harness can patch a store function.
from npl_assets.warehouse import loading


def materialize_parsed(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: DataPaths, doc_type: str
) -> dg.MaterializeResult:
    from npl_assets.parsing import PARSER_VERSION

    table = warehouse.PARSED_TABLES[doc_type]
    raw_dir = paths.content_store
    with duckdb.get_connection() as con:
        warehouse.ensure_schema(con)
        jobs = loading.pending_documents(con, doc_type, PARSER_VERSION)
    context.log.info("%d %s documents to parse", len(jobs), doc_type)
    outcomes = list(loading.parse_many(jobs, raw_dir))
    with duckdb.get_connection() as con:
        parsed, failed = loading.store_outcomes(con, table, outcomes)
        total = con.execute(f"select count(*) from raw.{table}").fetchall()[0][0]
        open_failures = con.execute(
            "select count(*) from raw.parse_failures where doc_type = ? and parser_version = ?",
            [doc_type, PARSER_VERSION],
        ).fetchall()[0][0]
        errors = con.execute(
            """select error_type, count(*) from raw.parse_failures
               where doc_type = ? and parser_version = ?
               group by 1 order by 2 desc""",
            [doc_type, PARSER_VERSION],
        ).fetchall()
    if failed:
        context.log.warning("%d %s documents failed to parse", failed, doc_type)
    return dg.MaterializeResult(
        metadata={
            "parsed_now": parsed,
            "failed_now": failed,
            "rows": total,
            "parse_failures_total": open_failures,
            "failures_by_type": dg.MetadataValue.json(dict(errors)),
            "parser_version": PARSER_VERSION,
        }
    )


@dg.asset(
    group_name="parsed",
    kinds={"python", "duckdb"},
    deps=[raw_documents_key := dg.AssetKey("raw_documents")],
    pool="duckdb",
    automation_condition=downstream_condition(),
)
def listings(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: DataPaths
) -> dg.MaterializeResult:
    """Listing announcements (转让公告, relistings included) parsed into typed rows:
    amounts in 元 as DECIMAL(18,2), overdue days, counts, auction terms, publication date."""
    return materialize_parsed(context, duckdb, paths, "listing")


@dg.asset(
    group_name="parsed",
    kinds={"python", "duckdb"},
    deps=[raw_documents_key],
    pool="duckdb",
    automation_condition=downstream_condition(),
)
def results(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: DataPaths
) -> dg.MaterializeResult:
    """Result announcements (转让结果公告): project code, seller, buyer, agreement date."""
    return materialize_parsed(context, duckdb, paths, "result")
