"""Loading the raw layer: the crawl's feed into `raw.documents`, `raw.crawl_failures` and
`raw.site_counts`; stored PDFs parsed into `raw.listings` / `raw.results` or `raw.parse_failures`;
and the queries that say what is still to parse. Plain functions over a DuckDB connection, no
Dagster: the assets call them, and so do the benchmarks and reliability scenarios."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from npl_assets.crawler.store import open_store
from npl_assets.warehouse.schema import PARSED_TABLES

DOCUMENT_COLUMNS = [
    "sha256",
    "doc_type",
    "title",
    "list_date",
    "detail_url",
    "pdf_url",
    "byte_size",
    "http_status",
    "fetched_at",
]
FAILURE_COLUMNS = ["url", "doc_type", "stage", "error", "http_status", "failed_at"]
INDEX_COUNT_COLUMNS = ["doc_type", "url", "items", "checked_at"]


def read_crawl_feed(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split the crawl's JSON lines into documents, failures and index counts (共N条 per index
    read); an unknown kind is an error."""
    documents: list[dict] = []
    failures: list[dict] = []
    index_counts: list[dict] = []
    if path.exists():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            kind = row.get("kind")
            if kind == "document":
                documents.append({c: row.get(c) for c in DOCUMENT_COLUMNS})
            elif kind == "failure":
                failures.append({c: row.get(c) for c in FAILURE_COLUMNS})
            elif kind == "index_count":
                index_counts.append({c: row.get(c) for c in INDEX_COUNT_COLUMNS})
            else:
                raise ValueError(f"{path}:{number}: crawl record of unknown kind {kind!r}")
    return (
        pd.DataFrame(documents, columns=DOCUMENT_COLUMNS),
        pd.DataFrame(failures, columns=FAILURE_COLUMNS),
        pd.DataFrame(index_counts, columns=INDEX_COUNT_COLUMNS),
    )


def known_urls(con) -> list[str]:
    rows = con.execute(
        "select detail_url from raw.documents union select pdf_url from raw.documents"
    ).fetchall()
    return sorted(r[0] for r in rows)


def store_crawl(con, documents: pd.DataFrame, failures: pd.DataFrame, run_id: str) -> int:
    """Append new document versions (idempotent on sha256 + pdf_url) and every failure."""
    before = con.execute("select count(*) from raw.documents").fetchall()[0][0]
    if len(documents):
        con.register("crawl_documents", documents)
        con.execute(
            """
            insert into raw.documents
                (sha256, doc_type, title, list_date, detail_url, pdf_url, byte_size,
                 http_status, fetched_at, run_id)
            select distinct on (sha256, pdf_url)
                sha256, doc_type, title, cast(list_date as date), detail_url, pdf_url,
                byte_size, http_status, cast(fetched_at as timestamp), ?
            from crawl_documents c
            -- an anti-join, not ON CONFLICT: DuckLake tables (team profile) have no keys
            where not exists (
                select 1 from raw.documents d where d.sha256 = c.sha256 and d.pdf_url = c.pdf_url
            )
            """,
            [run_id],
        )
        con.unregister("crawl_documents")
    if len(failures):
        con.register("crawl_failures", failures)
        con.execute(
            """
            insert into raw.crawl_failures
            select url, doc_type, stage, error, http_status, cast(failed_at as timestamp), ?
            from crawl_failures
            """,
            [run_id],
        )
        con.unregister("crawl_failures")
    return con.execute("select count(*) from raw.documents").fetchall()[0][0] - before


def store_index_counts(con, index_counts: pd.DataFrame, run_id: str) -> None:
    """Record what each index said it holds; the completeness summary compares it with what
    was stored."""
    if len(index_counts):
        con.register("crawl_index_counts", index_counts)
        con.execute(
            """
            insert into raw.site_counts
            select doc_type, url, items, cast(checked_at as timestamp), ?
            from crawl_index_counts
            """,
            [run_id],
        )
        con.unregister("crawl_index_counts")


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
    table = PARSED_TABLES[doc_type]
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
    return sum(len(pending_documents(con, doc_type, parser_version)) for doc_type in PARSED_TABLES)


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
