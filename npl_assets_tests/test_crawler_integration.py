"""The crawler against the bundled site on loopback, through the runner (a `scrapy crawl`
subprocess per spider): a full crawl, an incremental run, and a crawl under injected faults.

Expected values come from the site build's manifest.json (what was published) and the request
log of the site server, never from the crawler's own output."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from npl_assets.crawler.runner import CrawlSummary, run_crawl
from npl_assets.crawler.store import ContentStore, check_pdf

pytestmark = pytest.mark.slow

SETTINGS = {"DOWNLOAD_TIMEOUT": 5}
SECTIONS = {
    "listing": "/xxpl/xxpl_bldkzr/bldkzr_zrgg/",
    "result": "/xxpl/xxpl_bldkzr/bldkzr_zrjggg/",
}


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write_known(rows: list[dict], path: Path) -> Path:
    lines = [u for r in rows if r["kind"] == "document" for u in (r["detail_url"], r["pdf_url"])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def path_of(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture(scope="session")
def manifest(built_site: Path) -> list[dict]:
    return json.loads((built_site / "manifest.json").read_text(encoding="utf-8"))["documents"]


@pytest.fixture(scope="session")
def index_page_of(built_site: Path) -> dict[str, str]:
    """Detail path -> path of the index page listing it, read from the built HTML."""
    pages = {}
    for section in SECTIONS.values():
        for index in (built_site / section.strip("/")).glob("index*.html"):
            for href in re.findall(r'href="\./(\d{6}/t\d{8}_\d+\.html)"', index.read_text("utf-8")):
                pages[section + href] = section + index.name
    return pages


@pytest.fixture(scope="session")
def first_crawl(
    site_server: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[CrawlSummary, list[dict], Path]:
    tmp = tmp_path_factory.mktemp("crawl")
    started = time.perf_counter()
    summary = run_crawl(site_server, tmp / "out.jsonl", tmp / "raw", extra_settings=SETTINGS)
    print(f"\nfull crawl of the bundled site: {time.perf_counter() - started:.1f} s")
    print(summary.format())
    return summary, read_rows(tmp / "out.jsonl"), tmp / "raw"


def test_full_crawl_fetches_every_document_once(
    first_crawl: tuple[CrawlSummary, list[dict], Path], manifest: list[dict]
) -> None:
    summary, rows, raw = first_crawl
    documents = [r for r in rows if r["kind"] == "document"]
    assert [r for r in rows if r["kind"] == "failure"] == []
    assert Counter(r["doc_type"] for r in documents) == {"listing": 459, "result": 147}
    assert len({r["sha256"] for r in documents}) == 606
    assert len({r["pdf_url"] for r in documents}) == 606
    # Row by row, what the site published.
    published = {(d["doc_type"], d["pdf_path"]): d for d in manifest}
    got = {(r["doc_type"], path_of(r["pdf_url"])): r for r in documents}
    assert got.keys() == published.keys()
    for key, row in got.items():
        doc = published[key]
        assert row["sha256"] == doc["sha256"], key
        assert (row["title"], row["list_date"]) == (doc["title"], doc["list_date"]), key
        assert path_of(row["detail_url"]) == doc["detail_path"], key
        assert row["http_status"] == 200
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["fetched_at"])
    # Every PDF sits in the store, complete, under its own hash; nothing else does.
    store = ContentStore(raw)
    for row in documents:
        data = store.path(row["sha256"]).read_bytes()
        check_pdf(data)
        assert len(data) == row["byte_size"]
        assert store.verify(row["sha256"])
    assert len(list(raw.rglob("*.pdf"))) == 606
    assert [p for p in raw.rglob("*") if p.is_file() and p.suffix != ".pdf"] == []
    # Each PDF and detail page requested once: 46 + 15 index pages.
    assert (summary.pdf_requests, summary.detail_requests, summary.index_requests) == (606, 606, 61)
    assert summary.retries == 0 and summary.complete


def test_second_run_with_the_known_file_costs_one_index_page_per_spider(
    first_crawl: tuple[CrawlSummary, list[dict], Path], built_site: Path, tmp_path: Path
) -> None:
    from npl_assets.site.server import SiteServer

    _, rows, raw = first_crawl
    known = write_known(rows, tmp_path / "known.txt")
    stored = sorted(raw.rglob("*.pdf"))
    # A fresh server: another port than the first crawl's, as in a later `npl crawl`.
    with SiteServer(built_site) as server:
        started = time.perf_counter()
        summary = run_crawl(
            server.base_url, tmp_path / "again.jsonl", raw, known, extra_settings=SETTINGS
        )
        seconds = time.perf_counter() - started
        requested = sorted(record.path for record in server.log)
    print(f"\nincremental run with nothing new: {seconds:.1f} s, requests {requested}")
    # nothing but what each index says it holds
    assert [
        (r["kind"], r["doc_type"], r["items"]) for r in read_rows(tmp_path / "again.jsonl")
    ] == [
        ("index_count", "listing", 459),
        ("index_count", "result", 147),
    ]
    assert requested == sorted(
        [
            "/robots.txt",
            "/robots.txt",
            SECTIONS["listing"] + "index.html",
            SECTIONS["result"] + "index.html",
        ]
    )
    assert (summary.documents, summary.failures, summary.pdf_requests) == (0, 0, 0)
    assert summary.index_requests == 2
    assert sorted(raw.rglob("*.pdf")) == stored


def test_old_path_family_sees_the_same_known_items(
    first_crawl: tuple[CrawlSummary, list[dict], Path], built_site: Path, tmp_path: Path
) -> None:
    from npl_assets.site.server import SiteServer

    _, rows, raw = first_crawl
    known = write_known(rows, tmp_path / "known.txt")
    with SiteServer(built_site) as server:
        summary = run_crawl(
            server.base_url,
            tmp_path / "old.jsonl",
            raw,
            known,
            extra_settings={**SETTINGS, "NPL_PATH_FAMILY": "old"},
        )
        requested = sorted(record.path for record in server.log)
    assert summary.documents == 0
    assert requested == [
        "/robots.txt",
        "/robots.txt",
        "/ywzq/ywzq_bldkzr/bldkzr_xxpl/bldkzr_xxpl_zrgg/index.html",
        "/ywzq/ywzq_bldkzr/bldkzr_xxpl/bldkzr_xxpl_zrjggg/index.html",
    ]


def test_faults_end_in_intact_documents_or_recorded_failures_and_a_later_run_fetches_the_rest(
    built_site: Path, manifest: list[dict], index_page_of: dict[str, str], tmp_path: Path
) -> None:
    from npl_assets.site.server import Faults, SiteServer

    raw = tmp_path / "raw"
    store = ContentStore(raw)
    faults = Faults(
        error_rate=0.2,
        truncate_rate=0.1,
        not_found_rate=0.03,
        slow_rate=0.01,
        slow_seconds=2.0,
        seed=11,
    )
    fault_settings = {**SETTINGS, "DOWNLOAD_TIMEOUT": 1}
    with SiteServer(built_site, faults=faults) as server:
        started = time.perf_counter()
        first = run_crawl(server.base_url, tmp_path / "1.jsonl", raw, extra_settings=fault_settings)
        seconds = time.perf_counter() - started
        injected = Counter(f for record in server.log for f in record.faults)
    print(f"\ncrawl under faults {dict(injected)}: {seconds:.1f} s")
    print(first.format())
    rows = read_rows(tmp_path / "1.jsonl")
    documents = [r for r in rows if r["kind"] == "document"]
    failures = [r for r in rows if r["kind"] == "failure"]
    assert injected["error"] > 100 and injected["truncate"] > 50 and injected["not_found"] > 0
    assert first.retries > 100

    # Every document row is intact: the published bytes, in the store.
    published = {d["pdf_path"]: d for d in manifest}
    for row in documents:
        assert row["sha256"] == published[path_of(row["pdf_url"])]["sha256"]
        assert store.verify(row["sha256"])
    # Every failure says why, once per URL; the permanent 404s are among them.
    assert all(f["error"].strip() and f["stage"] in ("index", "detail", "pdf") for f in failures)
    assert len({f["url"] for f in failures}) == len(failures)
    not_found = [f for f in failures if f["http_status"] == 404]
    assert not_found and all(f["stage"] == "pdf" and "404" in f["error"] for f in not_found)
    # Every published document is accounted for: stored, or its PDF, detail page or index page
    # is recorded as failed.
    stored_paths = {path_of(r["pdf_url"]) for r in documents}
    failed_paths = {path_of(f["url"]) for f in failures}
    for doc in manifest:
        covers = {doc["pdf_path"], doc["detail_path"], index_page_of[doc["detail_path"]]}
        outcome = (doc["pdf_path"] in stored_paths, bool(covers & failed_paths))
        assert outcome in ((True, False), (False, True)), doc
    missing = sorted(d["pdf_path"] for d in manifest if d["pdf_path"] not in stored_paths)
    assert missing

    # Without faults, a run that knows the first run's documents fetches exactly the rest.
    known = write_known(rows, tmp_path / "known.txt")
    with SiteServer(built_site) as server:
        second = run_crawl(
            server.base_url, tmp_path / "2.jsonl", raw, known, extra_settings=SETTINGS
        )
        pdfs_requested = sorted(r.path for r in server.log if r.path.endswith(".pdf"))
    print(second.format())
    rows2 = [r for r in read_rows(tmp_path / "2.jsonl") if r["kind"] != "index_count"]
    assert [r for r in rows2 if r["kind"] == "failure"] == []
    fetched = sorted(path_of(r["pdf_url"]) for r in rows2)
    assert fetched == missing
    assert pdfs_requested == missing  # nothing known fetched again, nothing twice
    for row in rows2:
        assert row["sha256"] == published[path_of(row["pdf_url"])]["sha256"]
        assert store.verify(row["sha256"])
    assert len(list(raw.rglob("*.pdf"))) == 606


def test_cli_crawl_prints_a_summary(
    first_crawl: tuple[CrawlSummary, list[dict], Path],
    site_server: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from npl_assets.cli import main

    _, rows, raw = first_crawl
    known = write_known(rows, tmp_path / "known.txt")
    out = tmp_path / "cli.jsonl"
    argv = ["crawl", "--source", site_server, "--spider", "results", "--out", str(out)]
    code = main([*argv, "--known", str(known), "--raw-dir", str(raw)])
    printed = capsys.readouterr().out
    assert code == 0
    assert f"crawled {site_server}" in printed
    assert "results: 0 documents, 0 failures, 2 requests (1 index, 0 detail, 0 PDF" in printed
    assert "listings:" not in printed
    assert [r["kind"] for r in read_rows(out)] == ["index_count"]
