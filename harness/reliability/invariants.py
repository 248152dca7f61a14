"""Invariants of the warehouse and the serving file, checked against what the site published
(its manifest), never against the platform's own output.

    documents_problems   raw.documents: no duplicate, nothing lost, every stored file whole
    parsed_problems      every stored document is a parsed row or a typed failure, once
    serving_fingerprint  the published marts' content, for "same as an uninterrupted run"
    serving_problems     the serving file opens read-only and has every table, consistent"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from npl_assets.assets.serving import PUBLISHED_TABLES
from npl_assets.crawler.store import ContentStore, pdf_problem

# Columns that differ between two correct runs: load times, run ids, the loopback port in URLs.
VOLATILE_SUFFIXES = ("_at", "_url", "run_id")
MAX_LISTED = 5


def canonical_path(url: str) -> str:
    from npl_assets.crawler.urls import canonical_path as canonical

    return canonical(urlsplit(url).path)


def read_rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _listed(items: Iterable[str]) -> str:
    items = sorted(items)
    more = f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return ", ".join(items[:MAX_LISTED]) + more


@dataclass
class DocumentsCheck:
    rows: int = 0
    duplicates: int = 0
    lost: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # missing but recorded as failed
    bad_files: list[str] = field(default_factory=list)
    leftover_files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check_documents(db: Path, raw_dir: Path, site: Path, may_fail: bool = False) -> DocumentsCheck:
    """raw.documents against the site's manifest. Without `may_fail` every published document
    must be stored; with it, a missing one must have a failure row in raw.crawl_failures for its
    PDF, its detail page or the index page listing it (the crawl under faults)."""
    from harness.reliability.sites import load_manifest

    result = DocumentsCheck()
    rows = read_rows(db, "select sha256, doc_type, pdf_url, byte_size from raw.documents")
    result.rows = len(rows)
    manifest = load_manifest(site)
    listed_on = index_page_of(site)
    published = {(d["doc_type"], d["pdf_path"]): d for d in manifest}
    keys = Counter((doc_type, canonical_path(pdf_url)) for _, doc_type, pdf_url, _ in rows)
    result.duplicates = sum(n - 1 for n in keys.values())
    if result.duplicates:
        dup = [f"{k[1]} x{n}" for k, n in keys.items() if n > 1]
        result.problems.append(f"{result.duplicates} duplicate document rows: {_listed(dup)}")
    unknown = [k[1] for k in keys if k not in published]
    if unknown:
        result.problems.append(f"documents the site never published: {_listed(unknown)}")
    store = ContentStore(raw_dir)
    for sha, doc_type, pdf_url, size in rows:
        path = store.path(sha)
        expected = published.get((doc_type, canonical_path(pdf_url)))
        if not path.is_file():
            result.bad_files.append(f"{sha[:12]}: not in the store")
            continue
        data = path.read_bytes()
        problem = pdf_problem(data)
        if problem:
            result.bad_files.append(f"{sha[:12]}: {problem}")
        elif len(data) != size or hashlib.sha256(data).hexdigest() != sha:
            result.bad_files.append(f"{sha[:12]}: {len(data)} bytes, recorded {size}")
        elif expected is not None and expected["sha256"] != sha:
            result.bad_files.append(f"{sha[:12]}: not the bytes the site published")
    if result.bad_files:
        result.problems.append(f"bad stored files: {_listed(result.bad_files)}")
    failed_paths = {
        canonical_path(url) for (url,) in read_rows(db, "select url from raw.crawl_failures")
    }
    for key, doc in published.items():
        if key in keys:
            continue
        # A failed first index page hides the whole section: the walk cannot know the others.
        section = doc["detail_path"].rsplit("/", 2)[0] + "/"
        covers = {
            doc["pdf_path"],
            doc["detail_path"],
            listed_on.get(doc["detail_path"]),
            section + "index.html",
        }
        if may_fail and covers & failed_paths:
            result.failed.append(doc["pdf_path"])
        else:
            result.lost.append(doc["pdf_path"])
    if result.lost:
        result.problems.append(f"{len(result.lost)} documents lost: {_listed(result.lost)}")
    if raw_dir.is_dir():
        # A final name must only ever hold the complete file (temp file + rename); a killed
        # write may leave its temp file, which nothing reads.
        for path in raw_dir.rglob("*"):
            if not path.is_file():
                continue
            if path.name.startswith(".") or path.suffix != ".pdf":
                result.leftover_files.append(str(path.relative_to(raw_dir)))
            elif hashlib.sha256(path.read_bytes()).hexdigest() != path.stem:
                result.problems.append(f"store file {path.name} does not hash to its name")
        result.leftover_files.sort()
    return result


_DETAIL_HREF = re.compile(r'href="\./(\d{6}/t\d{8}_\d+\.html)"')


def index_page_of(site: Path) -> dict[str, str]:
    """Detail page path -> path of the index page listing it, read from the built HTML."""
    pages = {}
    for index in site.rglob("index*.html"):
        folder = "/" + index.parent.relative_to(site).as_posix() + "/"
        for href in _DETAIL_HREF.findall(index.read_text(encoding="utf-8")):
            pages[folder + href] = folder + index.name
    return pages


@dataclass
class ParsedCheck:
    parsed: int = 0
    failed: int = 0
    failure_types: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def check_parsed(db: Path) -> ParsedCheck:
    """Every stored document: exactly one parsed row (listing or result by its type) or one
    failure row under the current parser version; no failure of the 'Unexpected*' kind."""
    from npl_assets.parsing import PARSER_VERSION
    from npl_assets.warehouse import PARSED_TABLES

    result = ParsedCheck()
    for doc_type, table in PARSED_TABLES.items():
        stored = {
            sha
            for (sha,) in read_rows(
                db, "select distinct sha256 from raw.documents where doc_type = ?", [doc_type]
            )
        }
        # A row of an older parser beside a current failure is kept on purpose: count the
        # current version's rows only.
        parsed = Counter(
            sha
            for (sha,) in read_rows(
                db, f"select sha256 from raw.{table} where parser_version = ?", [PARSER_VERSION]
            )
        )
        failed = Counter(
            sha
            for (sha,) in read_rows(
                db,
                "select sha256 from raw.parse_failures where doc_type = ? and parser_version = ?",
                [doc_type, PARSER_VERSION],
            )
        )
        result.parsed += len(parsed)
        result.failed += len(failed)
        twice = [s[:12] for s, n in (parsed + failed).items() if n > 1]
        if twice:
            result.problems.append(f"{doc_type}s parsed or failed twice: {_listed(twice)}")
        missing = stored - set(parsed) - set(failed)
        if missing:
            result.problems.append(
                f"{len(missing)} {doc_type}s neither parsed nor failed: "
                + _listed(s[:12] for s in missing)
            )
        extra = (set(parsed) | set(failed)) - stored
        if extra:
            result.problems.append(f"{doc_type} rows for no stored document: {_listed(extra)}")
    result.failure_types = dict(
        read_rows(db, "select error_type, count(*) from raw.parse_failures group by 1")
    )
    untyped = {k: v for k, v in result.failure_types.items() if k.startswith("Unexpected")}
    if untyped:
        result.problems.append(f"untyped parse crashes: {untyped}")
    return result


def serving_fingerprint(serving: Path) -> dict[str, tuple[int, str]]:
    """Table -> (rows, digest of the rows' sorted text), without volatile columns."""
    con = duckdb.connect(str(serving), read_only=True)
    try:
        prints = {}
        for table in PUBLISHED_TABLES:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from duckdb_columns() where table_name = ? "
                    "order by column_index",
                    [table],
                ).fetchall()
                if not name.endswith(VOLATILE_SUFFIXES)
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = sorted(repr(r) for r in con.execute(f"select {select} from {table}").fetchall())
            digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
            prints[table] = (len(rows), digest)
        return prints
    finally:
        con.close()


def read_serving_consistently(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One reader's view of the serving file: every table present and the marts agreeing with
    each other (a half-written file would miss tables or rows). Returns problems."""
    problems = []
    tables = {
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main'"
        ).fetchall()
    }
    missing = [t for t in PUBLISHED_TABLES if t not in tables]
    if missing:
        return [f"serving file lacks {', '.join(missing)}"]
    ((seller, market),) = con.execute(
        "select (select coalesce(sum(listings), 0) from seller_quarterly_metrics), "
        "(select coalesce(sum(listings), 0) from market_quarterly_metrics)"
    ).fetchall()
    if seller != market:
        problems.append(f"seller metrics count {seller} listings, market metrics {market}")
    return problems
