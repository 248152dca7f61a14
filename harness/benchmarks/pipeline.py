"""The main measurement: the whole code location materialised in-process (temp DuckDB, temp
DAGSTER_HOME) against a synthetic site served on loopback with politeness off, then once more
with nothing new (the no-op run), then the parse rate per core beside bare PDFium extraction of
the same files, and the load rate of the parsed rows into a fresh warehouse."""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.benchmarks.runs import RunFigures, check_step_keys, in_process, timed_materialize
from harness.isolation import IsolatedPlatform, environment

# Steps that make up each stage of the table.
CRAWL_STEPS = ("raw_documents",)
PARSE_STEPS = ("listings", "results")
DBT_STEPS = ("npl_dbt_models",)
PUBLISH_STEPS = ("serving_database",)
REPORT_STEPS = ("market_chart", "market_report")
# The quarantine asset is the listing suite run over raw.listings: a check in all but name.
EXTRA_CHECK_STEPS = ("listing_quarantine",)
# How many stored PDFs the per-core parse-versus-extraction comparison times, one process.
EXTRACTION_SAMPLE = 600
PAGE_SIZE = 10  # items per index page


@dataclass
class PipelineFigures:
    site: str
    listings: int
    results: int
    full: RunFigures
    noop: RunFigures
    documents: int
    megabytes: float
    crawl_requests: int
    parsed_docs: int
    parse_core_seconds: float  # step seconds times the worker processes each step used
    noop_requests: dict[str, int]
    check_steps: list[str]
    crawl_failures: list[str]
    crawl_page_cap: int | None
    extraction: dict[str, float] = field(default_factory=dict)
    load: dict[str, float] = field(default_factory=dict)


def classify_request(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if path == "/robots.txt":
        return "robots"
    if name.startswith("index") and name.endswith(".html"):
        return "index"
    if name.endswith(".pdf"):
        return "pdf"
    return "detail"


class CrawlIncomplete(RuntimeError):
    """The main run did not fetch every document of the site: its figures mean nothing."""


def pages_needed(listings: int, results: int) -> int:
    return max(1, math.ceil(max(listings, results) / PAGE_SIZE))


def crawl_page_cap(pages: int) -> int | None:
    """The NPL_MAX_PAGES a site of `pages` index pages needs, or None when the crawler's default
    suffices (1,000 pages = 10,000 items, a bound against an absurd 共N条). The spiders read it
    from their environment, which the crawl runner passes on."""
    from npl_assets.crawler import settings as crawl_settings

    return pages if pages > crawl_settings.NPL_MAX_PAGES else None


def run_pipeline(
    site: Path, listings: int, results: int, platform: IsolatedPlatform
) -> PipelineFigures:
    """Full run, then the no-op run, on `platform` against `site` served on loopback."""
    from npl_assets import warehouse
    from npl_assets.site.server import SiteServer
    from npl_assets.warehouse.loading import PARALLEL_THRESHOLD

    page_cap = crawl_page_cap(pages_needed(listings, results))
    with (
        in_process(platform) as (defs, instance),
        SiteServer(site) as server,
        # The crawler's fast profile applies to loopback sources by itself; say so explicitly.
        environment(NPL_POLITE="off", NPL_MAX_PAGES=str(page_cap) if page_cap else None),
    ):
        full = timed_materialize(platform, instance, source_url=server.base_url)
        crawl_requests = server.request_count
        server.reset_counts()
        noop = timed_materialize(platform, instance, source_url=server.base_url)
        noop_requests = Counter(classify_request(r.path) for r in server.log)
    with warehouse.connect(platform.warehouse, read_only=True) as con:
        documents, size = con.execute(
            "select count(*), coalesce(sum(byte_size), 0) from raw.documents"
        ).fetchone()
        failures = [
            f"{stage} {url}: {error}"
            for stage, url, error in con.execute(
                "select stage, url, error from raw.crawl_failures order by failed_at limit 5"
            ).fetchall()
        ]
    cores = os.cpu_count() or 1
    parsed_docs = 0
    core_seconds = 0.0
    for step in PARSE_STEPS:
        meta = full.metadata.get(step, {})
        docs = int(meta.get("parsed_now", 0)) + int(meta.get("failed_now", 0))
        # parse_many runs one worker per core from PARALLEL_THRESHOLD documents of a type on.
        workers = cores if docs >= PARALLEL_THRESHOLD and cores > 1 else 1
        parsed_docs += docs
        core_seconds += full.steps.get(step, 0.0) * workers
    return PipelineFigures(
        site=str(site),
        listings=listings,
        results=results,
        full=full,
        noop=noop,
        documents=int(documents),
        megabytes=size / 1e6,
        crawl_requests=crawl_requests,
        parsed_docs=parsed_docs,
        parse_core_seconds=core_seconds,
        noop_requests=dict(noop_requests),
        check_steps=sorted(check_step_keys(defs) | set(EXTRA_CHECK_STEPS)),
        crawl_failures=failures,
        crawl_page_cap=page_cap,
    )


def check_crawl_complete(figures: PipelineFigures, site_pdfs: int) -> None:
    """Every PDF of the site crawled once, and nothing failed."""
    if figures.documents != site_pdfs or figures.crawl_failures:
        raise CrawlIncomplete(
            f"the main run stored {figures.documents} of the site's {site_pdfs} documents; "
            f"crawl failures: {'; '.join(figures.crawl_failures) or 'none'}"
        )


# --- parse versus bare extraction --------------------------------------------------------------


def bare_extract(data: bytes) -> int:
    """Text of every page with pypdfium2 and nothing else: the floor the parser builds on."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    chars = 0
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            chars += len(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        pdf.close()
    return chars


def sample_stored_pdfs(platform: IsolatedPlatform, limit: int = EXTRACTION_SAMPLE) -> list[Path]:
    """Every k-th stored PDF (sha256 order mixes listings and results as the site has them)."""
    files = sorted(platform.raw.rglob("*.pdf"))
    step = max(1, len(files) // limit)
    return files[::step][:limit]


def parse_versus_extraction(files: list[Path]) -> dict[str, float]:
    """Documents per second in one process (= per core): the parser versus bare extraction,
    timed alternately file by file so that machine noise hits both alike."""
    from npl_assets.parsing import parse_pdf
    from npl_assets.parsing.errors import ParseError

    blobs = [path.read_bytes() for path in files]
    parse_seconds = extract_seconds = 0.0
    failures = 0
    for data in blobs[: min(20, len(blobs))]:  # warm-up: imports, compiled patterns
        bare_extract(data)
    for data in blobs:
        started = time.perf_counter()
        bare_extract(data)
        middle = time.perf_counter()
        try:
            parse_pdf(data)
        except ParseError:
            failures += 1
        extract_seconds += middle - started
        parse_seconds += time.perf_counter() - middle
    n = len(blobs)
    return {
        "files": n,
        "failures": failures,
        "extract_docs_per_s": n / extract_seconds if extract_seconds else 0.0,
        "parse_docs_per_s": n / parse_seconds if parse_seconds else 0.0,
        "megabytes": sum(len(b) for b in blobs) / 1e6,
    }
