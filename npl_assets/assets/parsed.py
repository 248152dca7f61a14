"""Parsed layer: every stored PDF not yet parsed by the current parser becomes a typed row in
`raw.listings` / `raw.results`, or a row in `raw.parse_failures` with its reason."""

import json
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from npl_assets import profiles, warehouse
from npl_assets.automation.conditions import downstream_condition
from npl_assets.crawler.store import open_store

# Below this many documents, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 200
# Record fields stored as JSON objects.
JSON_FIELDS = ("five_class", "write_off", "guarantee", "litigation", "unread_fields")


@dataclass(frozen=True)
class ParseOutcome:
    sha256: str
    row: dict | None
    failure: dict | None


def parse_stored(sha256: str, doc_type: str, raw_dir: str) -> ParseOutcome:
    """Parse one stored PDF. Runs in worker processes, so it takes and returns plain data."""
    from npl_assets.parsing import PARSER_VERSION, parse_pdf
    from npl_assets.parsing.errors import ParseError

    now = datetime.now(UTC).replace(tzinfo=None)

    def failure(error_type: str, message: str, field: str | None = None) -> ParseOutcome:
        return ParseOutcome(
            sha256,
            None,
            {
                "sha256": sha256,
                "doc_type": doc_type,
                "parser_version": PARSER_VERSION,
                "error_type": error_type,
                "field": field,
                "message": message,
                "failed_at": now,
            },
        )

    try:
        data = open_store(raw_dir).get(sha256)
    except OSError as exc:
        return failure("MissingFile", f"{raw_dir} {sha256}: {exc}")
    try:
        record = parse_pdf(data, name=f"{doc_type} {sha256[:12]}")
    except ParseError as exc:
        return failure(type(exc).__name__, str(exc), getattr(exc, "field", None))
    except Exception as exc:  # an untyped parser crash is still recorded, never lost
        return failure(f"Unexpected{type(exc).__name__}", str(exc))
    row = record.to_json_dict()
    if row.get("document_type") != doc_type:
        return failure(
            "DocumentTypeMismatch",
            f"indexed as {doc_type} but the PDF is a {row.get('document_type')}",
            "document_type",
        )
    row.pop("document_type", None)
    for key in JSON_FIELDS:
        if key in row and row[key] is not None:
            row[key] = json.dumps(row[key], ensure_ascii=False)
    row.update(sha256=sha256, parser_version=PARSER_VERSION, parsed_at=now)
    return ParseOutcome(sha256, row, None)


def parse_many(jobs: list[tuple[str, str]], raw_dir: Path | str) -> Iterable[ParseOutcome]:
    if len(jobs) < PARALLEL_THRESHOLD or (os.cpu_count() or 1) < 2:
        for sha, doc_type in jobs:
            yield parse_stored(sha, doc_type, str(raw_dir))
        return
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        shas = [j[0] for j in jobs]
        types = [j[1] for j in jobs]
        yield from pool.map(parse_stored, shas, types, [str(raw_dir)] * len(jobs), chunksize=32)


def pending_documents(con, doc_type: str, parser_version: str) -> list[tuple[str, str]]:
    """Documents with neither a row nor a failure under the current parser version: new ones,
    and, after a parser version bump, every document parsed by an older version."""
    table = warehouse.PARSED_TABLES[doc_type]
    return con.execute(
        f"""
        select distinct d.sha256, d.doc_type
        from raw.documents d
        where d.doc_type = ?
          and d.sha256 not in (select sha256 from raw.{table} where parser_version = ?)
          and d.sha256 not in (
              select sha256 from raw.parse_failures where parser_version = ?
          )
        order by d.sha256
        """,
        [doc_type, parser_version, parser_version],
    ).fetchall()


def count_pending(con, parser_version: str) -> int:
    """How many stored documents the parse steps still have to read."""
    return sum(
        len(pending_documents(con, doc_type, parser_version))
        for doc_type in warehouse.PARSED_TABLES
    )


def store_outcomes(con, table: str, outcomes: Iterable[ParseOutcome]) -> tuple[int, int]:
    parsed: list[dict] = []
    failed: list[dict] = []
    for outcome in outcomes:
        if outcome.row is not None:
            parsed.append(outcome.row)
        else:
            failed.append(outcome.failure)
    if parsed:
        frame = pd.DataFrame(parsed).astype(object).where(lambda f: f.notna(), None)
        con.register("parsed_rows", frame)
        # A re-parse under a newer parser version replaces the older row. A document the newer
        # parser fails on keeps its older row (and gets a failure row): nothing is lost. Delete
        # then insert in one transaction rather than INSERT OR REPLACE, which needs a key that
        # DuckLake tables (team profile) do not have.
        con.execute("begin")
        try:
            con.execute(f"delete from raw.{table} where sha256 in (select sha256 from parsed_rows)")
            con.execute(f"insert into raw.{table} by name select * from parsed_rows")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        con.unregister("parsed_rows")
        # A success under a newer parser supersedes older failures of the same document.
        con.execute(
            "delete from raw.parse_failures where list_contains(?, sha256)",
            [[r["sha256"] for r in parsed]],
        )
    if failed:
        # One failure row per document: the latest parser's, not a history of attempts.
        con.execute(
            "delete from raw.parse_failures where list_contains(?, sha256) and parser_version <> ?",
            [[r["sha256"] for r in failed], failed[0]["parser_version"]],
        )
        con.register("failed_rows", pd.DataFrame(failed))
        con.execute(
            """insert into raw.parse_failures by name
               select * from failed_rows f
               where not exists (
                   select 1 from raw.parse_failures p
                   where p.sha256 = f.sha256 and p.parser_version = f.parser_version
               )"""
        )
        con.unregister("failed_rows")
    return len(parsed), len(failed)


def materialize_parsed(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, doc_type: str
) -> dg.MaterializeResult:
    from npl_assets.parsing import PARSER_VERSION

    table = warehouse.PARSED_TABLES[doc_type]
    raw_dir = profiles.content_store_location()
    with duckdb.get_connection() as con:
        warehouse.ensure_schema(con)
        jobs = pending_documents(con, doc_type, PARSER_VERSION)
    context.log.info("%d %s documents to parse", len(jobs), doc_type)
    outcomes = list(parse_many(jobs, raw_dir))
    with duckdb.get_connection() as con:
        parsed, failed = store_outcomes(con, table, outcomes)
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
def listings(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Listing announcements (转让公告, relistings included) parsed into typed rows:
    amounts in 元 as DECIMAL(18,2), overdue days, counts, auction terms, publication date."""
    return materialize_parsed(context, duckdb, "listing")


@dg.asset(
    group_name="parsed",
    kinds={"python", "duckdb"},
    deps=[raw_documents_key],
    pool="duckdb",
    automation_condition=downstream_condition(),
)
def results(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Result announcements (转让结果公告): project code, seller, buyer, agreement date."""
    return materialize_parsed(context, duckdb, "result")
