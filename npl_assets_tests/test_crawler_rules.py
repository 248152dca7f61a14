"""The crawler's rules outside the spiders: link safety, known-URL keys, politeness by target,
the backoff and same-origin middlewares, the store pipeline and the runner's checks."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler

from npl_assets.crawler import settings as crawler_settings
from npl_assets.crawler.items import DocInfo, DocumentItem, FailureItem, FetchedPdf
from npl_assets.crawler.middlewares import (
    OffsiteRedirect,
    SameOriginMiddleware,
    backoff_delay,
    parse_retry_after,
)
from npl_assets.crawler.pipelines import StorePipeline
from npl_assets.crawler.policy import is_polite
from npl_assets.crawler.spiders.sections import ListingsSpider
from npl_assets.crawler.store import ContentStore
from npl_assets.crawler.urls import (
    UnsafeLink,
    check_source_url,
    page_filename,
    resolve_link,
    total_pages,
    url_key,
)

SECTION = "/xxpl/xxpl_bldkzr/bldkzr_zrgg/"
PAGE = "http://127.0.0.1:8123" + SECTION + "index.html"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def crawler_for(source: str, **overrides: Any):
    values = {k: getattr(crawler_settings, k) for k in dir(crawler_settings) if k.isupper()}
    values.update(TWISTED_REACTOR_ENABLED=False, NPL_SOURCE_URL=source, **overrides)
    return get_crawler(ListingsSpider, values)


# --- pagination and links ------------------------------------------------------------------------


def test_pagination_runs_backwards() -> None:
    assert total_pages(0) == 1 and total_pages(10) == 1 and total_pages(11) == 2
    assert total_pages(4810) == 481
    assert [page_filename(p, 4) for p in (1, 2, 3, 4)] == [
        "index.html",
        "index_3.html",
        "index_2.html",
        "index_1.html",
    ]
    with pytest.raises(ValueError):
        page_filename(5, 4)


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        (
            "./202312/t20231207_0415.html",
            "http://127.0.0.1:8123" + SECTION + "202312/t20231207_0415.html",
        ),
        ("202312/t1.html#top", "http://127.0.0.1:8123" + SECTION + "202312/t1.html"),
        (
            f"http://127.0.0.1:8123{SECTION}202312/t1.html",
            f"http://127.0.0.1:8123{SECTION}202312/t1.html",
        ),
    ],
)
def test_safe_links_resolve(href: str, expected: str) -> None:
    assert resolve_link(PAGE, href, SECTION) == expected


@pytest.mark.parametrize(
    ("href", "reason"),
    [
        ("javascript:alert(1)", "javascript: link"),
        ("  JavaScript:alert(1)", "javascript: link"),
        ("mailto:a@b.cn", "mailto: link"),
        ("data:text/html,hi", "data: link"),
        ("../../etc/passwd", "'..' segments"),
        ("./202312/%2e%2e/%2E%2E/x.html", "'..' segments"),
        ("http://evil.example/x.html", "offsite link to evil.example"),
        ("//evil.example/x.html", "offsite link to evil.example"),
        ("https://127.0.0.1:8123" + SECTION + "x.html", "offsite link"),  # other scheme
        ("http://127.0.0.1:9999" + SECTION + "x.html", "offsite link"),  # other port
        ("/xxpl/xxpl_bldkzr/bldkzr_zrjggg/202312/t1.html", "outside the section"),
        ("/robots.txt", "outside the section"),
        ("java\nscript:alert(1)", "control characters"),
        ("", "empty link"),
    ],
)
def test_unsafe_links_are_refused(href: str, reason: str) -> None:
    with pytest.raises(UnsafeLink, match=reason.replace("(", r"\(")):
        resolve_link(PAGE, href, SECTION)


def test_known_url_keys_fold_loopback_ports_and_path_families() -> None:
    new = "http://127.0.0.1:8123/xxpl/xxpl_bldkzr/bldkzr_zrgg/202312/t1.html"
    old = "http://localhost:9999/ywzq/ywzq_bldkzr/bldkzr_xxpl/bldkzr_xxpl_zrgg/202312/t1.html"
    assert url_key(new) == url_key(old) == "loopback/xxpl/xxpl_bldkzr/bldkzr_zrgg/202312/t1.html"
    real = "https://www.yindeng.com.cn/xxpl/xxpl_bldkzr/bldkzr_zrgg/202312/t1.html"
    assert url_key(real) == url_key(real.replace("https", "http") + "#x")
    assert url_key(real) != url_key(new)  # a real URL never counts as a loopback one
    assert url_key("http://example.org:8080/a") != url_key("http://example.org/a")
    results_old = "http://127.0.0.1:1/ywzq/ywzq_bldkzr/bldkzr_xxpl/bldkzr_xxpl_zrjggg/x.pdf"
    assert url_key(results_old) == "loopback/xxpl/xxpl_bldkzr/bldkzr_zrjggg/x.pdf"


def test_source_url_checks() -> None:
    assert check_source_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert check_source_url("https://mirror.example/yd/") == "https://mirror.example/yd"
    for bad in ("", "ftp://x", "127.0.0.1:8000", "http://u:p@host/", "http://host/?q=1"):
        with pytest.raises(ValueError):
            check_source_url(bad)


# --- politeness ----------------------------------------------------------------------------------


def test_politeness_by_target() -> None:
    assert is_polite("https://www.yindeng.com.cn", "auto")
    assert not is_polite("http://127.0.0.1:8000", "auto")
    assert not is_polite("http://[::1]:8000", "auto")
    assert is_polite("http://127.0.0.1:8000", "on")
    assert not is_polite("http://localhost:8000", "off")
    with pytest.raises(ValueError, match="only allowed for a loopback source"):
        is_polite("https://www.yindeng.com.cn", "off")
    with pytest.raises(ValueError, match="NPL_POLITE must be one of"):
        is_polite("http://127.0.0.1", "sometimes")


def test_real_site_gets_the_polite_profile() -> None:
    s = crawler_for("https://www.yindeng.com.cn").settings
    assert s.getbool("ROBOTSTXT_OBEY")
    assert s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert s.getfloat("DOWNLOAD_DELAY") >= 1.0
    assert s.getbool("AUTOTHROTTLE_ENABLED")
    assert s.getfloat("AUTOTHROTTLE_MAX_DELAY") <= 60
    assert s.getint("RETRY_TIMES") == 3
    assert set(s.getlist("RETRY_HTTP_CODES")) >= {500, 502, 503, 504, 408, 429}
    assert s.getint("DOWNLOAD_MAXSIZE") == 20 * 1024 * 1024
    assert s.getint("DOWNLOAD_TIMEOUT") == 30
    assert s.get("TWISTED_REACTOR").endswith("AsyncioSelectorReactor")
    assert "npl-assets" in s.get("USER_AGENT")


def test_loopback_gets_the_fast_profile_unless_asked_otherwise() -> None:
    fast = crawler_for("http://127.0.0.1:8000").settings
    assert fast.getfloat("DOWNLOAD_DELAY") == 0 and not fast.getbool("AUTOTHROTTLE_ENABLED")
    assert fast.getbool("ROBOTSTXT_OBEY")
    polite = crawler_for("http://127.0.0.1:8000", NPL_POLITE="on").settings
    assert polite.getfloat("DOWNLOAD_DELAY") >= 1.0


# --- middlewares ---------------------------------------------------------------------------------


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [backoff_delay(n, 2.0, 60.0) for n in range(0, 8)] == [0, 2, 4, 8, 16, 32, 60, 60]
    assert backoff_delay(3, 0.0, 60.0) == 0.0
    assert parse_retry_after(b"120") == 120.0
    assert parse_retry_after(b"Wed, 21 Oct 2015 07:28:00 GMT") is None


class _Spider:
    origin = ("http", "127.0.0.1", 8123)


def guard() -> SameOriginMiddleware:
    crawler = crawler_for("http://127.0.0.1:8123")
    crawler.spider = _Spider()
    return SameOriginMiddleware(crawler)


def test_same_origin_guard_refuses_offsite_requests_even_unfiltered() -> None:
    mw = guard()
    assert mw.process_request(Request("http://127.0.0.1:8123/x.html")) is None
    retried = Request("http://evil.example/x.pdf", dont_filter=True)
    with pytest.raises(IgnoreRequest, match="another origin"):
        mw.process_request(retried)


def test_same_origin_guard_refuses_redirects_elsewhere() -> None:
    mw = guard()
    request = Request("http://127.0.0.1:8123/xxpl/a.pdf")
    away = Response(request.url, status=302, headers={"Location": "http://evil.example/a.pdf"})
    with pytest.raises(OffsiteRedirect, match=r"HTTP 302.*evil\.example"):
        mw.process_response(request, away)
    upgrade = Response(request.url, status=301, headers={"Location": "https://127.0.0.1:8123/"})
    with pytest.raises(OffsiteRedirect):
        mw.process_response(request, upgrade)
    home = Response(request.url, status=301, headers={"Location": "/xxpl/"})
    assert mw.process_response(request, home) is home


# --- pipeline ------------------------------------------------------------------------------------


def pipeline(tmp_path: Path) -> StorePipeline:
    return StorePipeline.from_crawler(
        crawler_for("http://127.0.0.1:8123", NPL_RAW_DIR=str(tmp_path))
    )


def fetched(body: bytes) -> FetchedPdf:
    doc = DocInfo(
        "listing", "某银行关于2023年第1期不良贷款转让公告", "2023-12-07", "http://h/d.html"
    )
    return FetchedPdf(
        doc=doc,
        pdf_url="http://h/p.pdf",
        sha256=hashlib.sha256(body).hexdigest(),
        body=body,
        content_length=len(body),
        http_status=200,
        fetched_at="2024-01-01T00:00:00Z",
    )


def test_pipeline_stores_the_pdf_and_emits_the_document_row(tmp_path: Path) -> None:
    row = pipeline(tmp_path).process_item(fetched(PDF))
    assert isinstance(row, DocumentItem)
    assert row.sha256 == hashlib.sha256(PDF).hexdigest() and row.byte_size == len(PDF)
    assert ContentStore(tmp_path).verify(row.sha256)
    assert (row.kind, row.doc_type, row.list_date, row.pdf_url) == (
        "document",
        "listing",
        "2023-12-07",
        "http://h/p.pdf",
    )


def test_pipeline_turns_an_invalid_body_into_a_failure_row(tmp_path: Path) -> None:
    row = pipeline(tmp_path).process_item(fetched(b"%PDF-1.4 cut"))
    assert isinstance(row, FailureItem)
    assert (row.stage, row.url) == ("pdf", "http://h/p.pdf")
    assert row.error.startswith("invalid PDF: truncated PDF")
    assert list(tmp_path.rglob("*.pdf")) == []


def test_pipeline_refuses_a_document_row_without_its_file(tmp_path: Path) -> None:
    row = fetched(PDF).document()
    out = pipeline(tmp_path).process_item(row)
    assert isinstance(out, FailureItem) and out.error == "PDF not in the store"


def test_items_validate_themselves() -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        DocInfo("listing", "t", "2023/12/07", "http://h/d.html")
    with pytest.raises(ValueError):
        DocInfo("listing", "t", "2023-02-30", "http://h/d.html")
    with pytest.raises(ValueError, match="doc_type"):
        FailureItem(doc_type="notice", stage="pdf", url="u", error="e")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs its reason"):
        FailureItem(doc_type="listing", stage="pdf", url="u", error=" ")


# --- runner --------------------------------------------------------------------------------------


def test_runner_without_a_built_site_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from npl_assets.crawler.runner import SiteNotBuilt, run_crawl

    monkeypatch.setenv("NPL_SITE_DIR", str(tmp_path / "no-site"))
    with pytest.raises(SiteNotBuilt, match="run `npl site build` first"):
        run_crawl(None, tmp_path / "out.jsonl", tmp_path / "raw")


def test_runner_argument_checks(tmp_path: Path) -> None:
    from npl_assets.crawler.runner import run_crawl, scrapy_command

    with pytest.raises(ValueError, match="spiders must be distinct names"):
        run_crawl("http://127.0.0.1:1", tmp_path / "o", tmp_path / "r", spiders=("notices",))
    with pytest.raises(FileNotFoundError, match="known-URL file not found"):
        run_crawl("http://127.0.0.1:1", tmp_path / "o", tmp_path / "r", known_file=tmp_path / "k")
    command = scrapy_command("listings", tmp_path / "p.jsonl", {"A": 1, "B": False})
    assert command[1:6] == ["-m", "scrapy", "crawl", "listings", "-O"]
    assert command[6] == f"{tmp_path / 'p.jsonl'}:jsonlines"
    assert command[7:] == ["-s", "A=1", "-s", "B=false"]


def test_cli_registers_crawl() -> None:
    from npl_assets.cli import build_parser

    args = build_parser(["crawl"]).parse_args(
        ["crawl", "--spider", "results", "--path-family", "old", "-s", "DOWNLOAD_TIMEOUT=5"]
    )
    assert (args.spider, args.path_family, args.set) == ("results", "old", ["DOWNLOAD_TIMEOUT=5"])
    assert callable(args.func)


def test_loopback_always_bypasses_a_proxy() -> None:
    from npl_assets.crawler.runner import loopback_bypasses_proxy

    assert loopback_bypasses_proxy({})["no_proxy"] == "127.0.0.1,localhost,::1"
    kept = loopback_bypasses_proxy({"NO_PROXY": "registry.internal,localhost"})
    assert kept["no_proxy"] == kept["NO_PROXY"] == "registry.internal,localhost,127.0.0.1,::1"


def test_the_index_watch_ignores_a_proxy_for_loopback(monkeypatch) -> None:
    import http.server
    import threading

    from npl_assets.crawler.index_watch import fetch_page

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>page 1</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # A proxy nobody listens on: going through it would fail.
        for name in ("http_proxy", "HTTP_PROXY"):
            monkeypatch.setenv(name, "http://127.0.0.1:9")
        for name in ("no_proxy", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        assert fetch_page(url, timeout=5) == "<html>page 1</html>"
    finally:
        server.shutdown()
        server.server_close()
