"""Raw layer: crawl the Yindeng indexes and keep every fetched document version."""

import json
import tempfile
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from npl_assets import settings, warehouse

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


class CrawlConfig(dg.Config):
    """Where to crawl. Empty source_url: NPL_SOURCE_URL, else the bundled site on loopback."""

    source_url: str | None = None
    raw_dir: str | None = None


def read_crawl_feed(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the crawl's JSON lines into documents and failures; an unknown kind is an error."""
    documents: list[dict] = []
    failures: list[dict] = []
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
            else:
                raise ValueError(f"{path}:{number}: crawl record of unknown kind {kind!r}")
    return (
        pd.DataFrame(documents, columns=DOCUMENT_COLUMNS),
        pd.DataFrame(failures, columns=FAILURE_COLUMNS),
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
            from crawl_documents
            on conflict do nothing
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


@dg.asset(
    group_name="raw",
    kinds={"scrapy", "duckdb"},
    pool="duckdb",
)
def raw_documents(
    context: dg.AssetExecutionContext, config: CrawlConfig, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """Every listing (转让公告) and result (转让结果公告) PDF announced on Yindeng, one row per
    document version in `raw.documents`; the PDFs themselves sit in the sha256 content store.
    The crawl runs as a Scrapy subprocess and only fetches what the warehouse does not know yet."""
    from npl_assets.crawler.runner import run_crawl

    source = config.source_url or settings.source_url()
    raw_dir = Path(config.raw_dir) if config.raw_dir else settings.raw_dir()
    with duckdb.get_connection() as con:
        warehouse.ensure_schema(con)
        known = known_urls(con)
    with tempfile.TemporaryDirectory(prefix="npl-crawl-") as tmp:
        known_file = Path(tmp) / "known.txt"
        known_file.write_text("\n".join(known), encoding="utf-8")
        feed = Path(tmp) / "crawl.jsonl"
        summary = run_crawl(source, feed, raw_dir, known_file=known_file)
        documents, failures = read_crawl_feed(feed)
    with duckdb.get_connection() as con:
        new_rows = store_crawl(con, documents, failures, context.run.run_id)
        total = con.execute("select count(*) from raw.documents").fetchall()[0][0]
    if len(failures):
        context.log.warning(
            "%d URLs failed: %s",
            len(failures),
            "; ".join(f"{r.url}: {r.error}" for r in failures.head(5).itertuples()),
        )
    return dg.MaterializeResult(
        metadata={
            "source": source or "bundled site (loopback)",
            "new_documents": new_rows,
            "known_documents": total - new_rows,
            "failed_urls": len(failures),
            "total_documents": total,
            "requests": getattr(summary, "requests", None) or 0,
        }
    )
