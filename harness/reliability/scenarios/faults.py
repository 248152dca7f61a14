"""The crawl under injected faults, through the `raw_documents` asset: HTTP 500s, cut bodies,
answers slower than the download timeout and PDFs that are permanently 404.

Round 1 runs against the faulty site (sized down: with fewer retries, so that some URLs fail for
good); later rounds, with the crawler's own retries, run against the same server (its fault
draws go on, so a retried URL gets a fresh chance) until nothing but the permanent 404s is
missing.
After every round: no duplicate rows, every stored file whole and the bytes the site published,
and every missing document recorded as failed (its PDF, detail page or index page). A later round
requests only PDFs still missing. At the end the missing documents are exactly the PDFs the fault
model made permanently 404, read from the model, not from the crawler."""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.reliability import invariants
from harness.reliability.sites import load_manifest

# Seconds. The slow answers take longer (runner.faults_model); normal ones are far below it even
# on a loaded 2-core machine.
DOWNLOAD_TIMEOUT = 3


@dataclass
class Round:
    requests: int
    pdf_requests: int
    stored: int  # rows in raw.documents after the round
    failures: int  # failure rows the round recorded
    injected: dict[str, int]


@dataclass
class FaultsResult:
    published: int = 0
    rounds: list[Round] = field(default_factory=list)
    injected: dict[str, int] = field(default_factory=dict)
    stored: int = 0
    failed: int = 0  # published documents missing at the end, each with a failure row
    retried: int = 0  # documents stored only by a later round
    duplicates: int = 0
    lost: int = 0
    bad_files: int = 0
    problems: list[str] = field(default_factory=list)


@contextmanager
def crawl_settings(settings: dict[str, object]) -> Iterator[None]:
    """The asset crawls with the default settings; the scenario needs a short download timeout
    (and, sized down, fewer retries, so that some URLs fail for good in the first round)."""
    import npl_assets.crawler.runner as runner

    original = runner.run_crawl
    runner.run_crawl = functools.partial(original, extra_settings=settings)
    try:
        yield
    finally:
        runner.run_crawl = original


def permanent_404s(site: Path, faults) -> set[str]:
    """PDF paths the fault model answers 404 on every attempt."""
    return {
        d["pdf_path"]
        for d in load_manifest(site)
        if faults.decide(d["pdf_path"], 0) == ["not_found"]
    }


def settle(server, timeout: float) -> None:
    """Wait until every request the server has seen arrive is in its log."""
    deadline = time.monotonic() + timeout
    while server.in_flight() > 0:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the site server still answers requests after {timeout:g} s")
        time.sleep(0.05)


def run_faults_scenario(
    work: Path,
    site: Path,
    faults,
    max_rounds: int = 4,
    timeout: int = DOWNLOAD_TIMEOUT,
    first_retries: int | None = None,
) -> FaultsResult:
    """`first_retries`: RETRY_TIMES of the first round (None: the crawler's own)."""
    import dagster as dg

    from npl_assets.assets.documents import raw_documents
    from npl_assets.resources import Locations, platform_resources
    from npl_assets.site.server import SiteServer

    work.mkdir(parents=True, exist_ok=True)
    db, raw = work / "npl.duckdb", work / "raw"
    published = {d["pdf_path"] for d in load_manifest(site)}
    broken = permanent_404s(site, faults)
    result = FaultsResult(published=len(published))
    stored_after: list[set[str]] = []
    first: dict[str, object] = {"DOWNLOAD_TIMEOUT": timeout}
    if first_retries is not None:
        first["RETRY_TIMES"] = first_retries
    later: dict[str, object] = {"DOWNLOAD_TIMEOUT": timeout}
    with SiteServer(site, faults=faults) as server:
        locations = Locations.under(work, site_dir=site, source_url=server.base_url)
        for number in range(1, max_rounds + 1):
            log_start = len(server.log)
            with crawl_settings(first if number == 1 else later):
                run = dg.materialize(
                    [raw_documents],
                    resources=platform_resources(locations),
                    raise_on_error=False,
                )
            # A slow answer the crawler gave up on is logged when its delay ends, maybe after
            # the crawl: it belongs to this round, not the next.
            settle(server, faults.slow_seconds + 5)
            records = server.log[log_start:]
            if not run.success:
                result.problems.append(f"round {number}: the crawl asset failed")
                break
            missing_before = published - (stored_after[-1] if stored_after else set())
            pdfs = [r.path for r in records if r.path.endswith(".pdf")]
            refetched = sorted({p for p in pdfs if p not in missing_before})
            if refetched:
                result.problems.append(f"round {number} fetched stored PDFs again: {refetched[:3]}")
            stored = {
                invariants.canonical_path(url)
                for (url,) in invariants.read_rows(db, "select pdf_url from raw.documents")
            }
            stored_after.append(stored)
            (failures,) = invariants.read_rows(
                db,
                "select count(*) from raw.crawl_failures where run_id = ? "
                "and (trim(error) = '' or stage not in ('index', 'detail', 'pdf'))",
                [run.run_id],
            )[0]
            if failures:
                result.problems.append(f"round {number}: {failures} failure rows without a reason")
            (recorded,) = invariants.read_rows(
                db, "select count(*) from raw.crawl_failures where run_id = ?", [run.run_id]
            )[0]
            injected = Counter(f for r in records for f in r.faults)
            result.rounds.append(Round(len(records), len(pdfs), len(stored), recorded, injected))
            docs = invariants.check_documents(db, raw, site, may_fail=True)
            result.problems += [f"round {number}: {p}" for p in docs.problems]
            if published - stored <= broken:
                break
    result.injected = dict(sum((Counter(r.injected) for r in result.rounds), Counter()))
    final = invariants.check_documents(db, raw, site, may_fail=True)
    result.stored = final.rows
    result.failed = len(final.failed)
    result.duplicates = final.duplicates
    result.lost = len(final.lost)
    result.bad_files = len(final.bad_files)
    if stored_after:
        result.retried = len(stored_after[-1] - stored_after[0])
        still_missing = published - stored_after[-1]
        if still_missing != broken:
            result.problems.append(
                f"after {len(stored_after)} rounds {len(still_missing)} documents are missing, "
                f"but {len(broken)} PDFs are permanently 404: "
                f"{sorted(still_missing ^ broken)[:5]}"
            )
        gave_404 = {
            invariants.canonical_path(url)
            for (url,) in invariants.read_rows(
                db,
                "select url from raw.crawl_failures where http_status = 404 and stage = 'pdf'",
            )
        }
        if not broken <= gave_404:
            result.problems.append(f"404s without a failure row: {sorted(broken - gave_404)[:5]}")
    return result
