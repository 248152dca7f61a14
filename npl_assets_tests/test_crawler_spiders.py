"""The spiders' callbacks on hand-written HTML fixtures (the contract's markup): the exact requests
and items each page yields, hostile links refused and recorded, and the incremental stop."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from npl_assets.crawler import settings as crawler_settings
from npl_assets.crawler.items import (
    DocInfo,
    DocumentItem,
    FailureItem,
    FetchedPdf,
    IndexCountItem,
)
from npl_assets.crawler.spiders.base import SectionSpider
from npl_assets.crawler.spiders.sections import ListingsSpider, ResultsSpider

FIXTURES = Path(__file__).parent / "fixtures" / "html"
BASE = "http://127.0.0.1:8123"
LISTINGS = f"{BASE}/xxpl/xxpl_bldkzr/bldkzr_zrgg/"
RESULTS_OLD = f"{BASE}/ywzq/ywzq_bldkzr/bldkzr_xxpl/bldkzr_xxpl_zrjggg/"
HUAXIA = "华夏银行股份有限公司信用卡中心关于2023年第9期个人消费信用不良贷款转让项目不良贷款转让公告"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def project_settings(**overrides: Any) -> dict[str, Any]:
    values = {k: getattr(crawler_settings, k) for k in dir(crawler_settings) if k.isupper()}
    # Callbacks are called directly: no reactor is needed in the test process.
    values.update(TWISTED_REACTOR_ENABLED=False, NPL_SOURCE_URL=BASE)
    values.update(overrides)
    return values


def make_spider(
    cls: type[SectionSpider], settings: dict[str, Any] | None = None, **kwargs: Any
) -> SectionSpider:
    crawler = get_crawler(cls, project_settings(**(settings or {})))
    return cls.from_crawler(crawler, **kwargs)


def html(url: str, fixture: str) -> HtmlResponse:
    body = (FIXTURES / fixture).read_bytes()
    return HtmlResponse(url=url, body=body, encoding="utf-8", request=Request(url))


def split(outputs: Any) -> tuple[list[Request], list[Any]]:
    """Requests, and the items other than the index count page 1 reports (its own tests)."""
    outputs = list(outputs)
    return [o for o in outputs if isinstance(o, Request)], [
        o for o in outputs if not isinstance(o, Request | IndexCountItem)
    ]


def doc(number: str = "t20231207_0415", month: str = "202312", title: str = HUAXIA) -> DocInfo:
    return DocInfo("listing", title, "2023-12-07", f"{LISTINGS}{month}/{number}.html")


# --- start and index pages -----------------------------------------------------------------------


def test_start_requests_the_newest_index_page() -> None:
    spider = make_spider(ListingsSpider)

    async def collect() -> list[Request]:
        return [r async for r in spider.start()]

    starts = asyncio.run(collect())
    assert [r.url for r in starts] == [LISTINGS + "index.html"]
    assert starts[0].callback == spider.parse_index
    assert starts[0].errback == spider.index_failed
    assert spider.allowed_domains == ["127.0.0.1"]


def test_index_page_yields_details_then_the_next_older_page() -> None:
    spider = make_spider(ListingsSpider)
    requests, items = split(
        spider.parse_index(html(LISTINGS + "index.html", "listing_index.html"), page=1, pages=1)
    )
    assert items == []
    # 共23条 -> 3 pages: index.html, then index_2.html (page 2), then index_1.html (page 3).
    assert [r.url for r in requests] == [
        LISTINGS + "202312/t20231207_0415.html",
        LISTINGS + "202312/t20231205_0412.html",
        LISTINGS + "202311/t20231130_0401.html",
        LISTINGS + "index_2.html",
    ]
    first = requests[0]
    assert first.callback == spider.parse_detail
    assert first.errback == spider.detail_failed
    assert first.cb_kwargs == {
        "doc": DocInfo("listing", HUAXIA, "2023-12-07", LISTINGS + "202312/t20231207_0415.html")
    }
    assert requests[-1].cb_kwargs == {"page": 2, "pages": 3}
    assert spider.item_count == 23


def test_page_one_reports_what_the_index_says_it_holds() -> None:
    spider = make_spider(ListingsSpider)
    outputs = list(
        spider.parse_index(html(LISTINGS + "index.html", "listing_index.html"), page=1, pages=1)
    )
    counts = [o for o in outputs if isinstance(o, IndexCountItem)]
    assert [(c.doc_type, c.items, c.url) for c in counts] == [
        ("listing", 23, LISTINGS + "index.html")
    ]
    # later pages do not repeat it
    spider.item_count = 23
    response = html(LISTINGS + "index_1.html", "listing_index_last.html")
    assert not [
        o for o in spider.parse_index(response, page=3, pages=3) if isinstance(o, IndexCountItem)
    ]


def test_last_page_yields_its_ten_details_and_no_further_page() -> None:
    spider = make_spider(ListingsSpider)
    spider.item_count = 23
    response = html(LISTINGS + "index_1.html", "listing_index_last.html")
    requests, items = split(spider.parse_index(response, page=3, pages=3))
    assert items == []
    assert len(requests) == 10
    assert all(r.callback == spider.parse_detail for r in requests)
    assert requests[0].url == LISTINGS + "202302/t20230220_0010.html"
    assert requests[-1].url == LISTINGS + "202301/t20230109_0001.html"
    assert requests[-1].cb_kwargs["doc"].list_date == "2023-01-09"


def test_hostile_index_links_are_refused_and_recorded() -> None:
    spider = make_spider(ListingsSpider)
    response = html(LISTINGS + "index.html", "listing_index_hostile.html")
    requests, items = split(spider.parse_index(response, page=1, pages=1))
    assert [r.url for r in requests] == [
        LISTINGS + "202312/t20231201_0390.html",
        LISTINGS + "index_1.html",  # 共13条: two pages
    ]
    assert all(isinstance(i, FailureItem) for i in items)
    assert {(i.stage, i.url, i.doc_type, i.http_status) for i in items} == {
        ("index", LISTINGS + "index.html", "listing", 200)
    }
    errors = [i.error for i in items]
    assert len(errors) == 8
    assert errors[0].startswith("item 2: refusing an offsite link to evil.example")
    assert errors[1].startswith("item 3: refusing a javascript: link")
    assert errors[2].startswith("item 4: refusing a link with '..' segments")
    assert errors[3].startswith("item 5: refusing a link with '..' segments")
    assert errors[4].startswith("item 6: refusing a mailto: link")
    assert errors[5].startswith("item 7: refusing an offsite link to evil.example")
    assert errors[6] == "item 8: no title link"
    assert errors[7] == "item 9: no YYYY-MM-DD date"


def test_absurd_page_total_is_recorded_and_not_paged() -> None:
    spider = make_spider(ListingsSpider)
    response = html(LISTINGS + "index.html", "listing_index_absurd_total.html")
    requests, items = split(spider.parse_index(response, page=1, pages=1))
    assert [r.url for r in requests] == [
        LISTINGS + "202312/t20231207_0415.html",
        LISTINGS + "202312/t20231205_0412.html",
    ]
    assert len(items) == 1
    assert items[0].stage == "index"
    assert "共999999999条 means 100000000 pages, more than NPL_MAX_PAGES=1000" in items[0].error


def test_page_cap_is_a_setting() -> None:
    spider = make_spider(ListingsSpider, {"NPL_MAX_PAGES": 2})
    response = html(LISTINGS + "index.html", "listing_index.html")  # 共23条: 3 pages
    requests, items = split(spider.parse_index(response, page=1, pages=1))
    assert len(requests) == 3  # the three details, no index_2.html
    assert "more than NPL_MAX_PAGES=2" in items[0].error


def test_missing_page_total_is_recorded_and_page_one_still_crawled() -> None:
    spider = make_spider(ListingsSpider)
    response = html(LISTINGS + "index.html", "listing_index_no_total.html")
    requests, items = split(spider.parse_index(response, page=1, pages=1))
    assert [r.url for r in requests] == [LISTINGS + "202312/t20231207_0415.html"]
    assert [i.error for i in items] == [
        "no span#pageTotal (共N条) on the index page; not paging further"
    ]


def test_empty_or_non_html_index_pages_are_recorded_and_skipped() -> None:
    spider = make_spider(ListingsSpider)
    empty = HtmlResponse(
        url=LISTINGS + "index_2.html",
        body=b'<html><body><ul class="list-box"></ul></body></html>',
        encoding="utf-8",
        request=Request(LISTINGS + "index_2.html"),
    )
    failure, next_page = spider.parse_index(empty, page=2, pages=3)
    assert (failure.stage, failure.url, failure.error) == (
        "index",
        LISTINGS + "index_2.html",
        "no list items on the index page",
    )
    assert next_page.url == LISTINGS + "index_1.html"
    binary = Response(
        LISTINGS + "index_1.html",
        status=200,
        body=PDF,
        headers={"Content-Type": "application/pdf"},
        request=Request(LISTINGS + "index_1.html"),
    )
    (failure,) = spider.parse_index(binary, page=3, pages=3)
    assert failure.error == "expected HTML, got application/pdf"


def test_results_spider_on_the_old_path_family() -> None:
    spider = make_spider(ResultsSpider, path_family="old")
    starts = [spider.index_request(1, 1)]
    assert starts[0].url == RESULTS_OLD + "index.html"
    response = html(RESULTS_OLD + "index.html", "result_index_old.html")
    requests, items = split(spider.parse_index(response, page=1, pages=1))
    assert items == []
    assert [r.url for r in requests] == [
        RESULTS_OLD + "202312/t20231211_0606.html",
        RESULTS_OLD + "202311/t20231120_0584.html",
    ]
    assert requests[0].cb_kwargs["doc"].doc_type == "result"
    assert requests[0].cb_kwargs["doc"].title.endswith("不良贷款转让结果公告")


def test_listing_links_do_not_count_for_the_result_section() -> None:
    spider = make_spider(ResultsSpider)
    response = html(spider.section_url + "index.html", "listing_index.html")
    # Same relative hrefs resolve inside the result section, so they are followed there.
    requests, _ = split(spider.parse_index(response, page=1, pages=1))
    assert all(r.url.startswith(spider.section_url) for r in requests)


# --- incremental ---------------------------------------------------------------------------------


def write_known(tmp_path: Path, urls: list[str]) -> Path:
    path = tmp_path / "known.txt"
    path.write_text("# known\n\n" + "\n".join(urls) + "\n", encoding="utf-8")
    return path


PAGE1 = [
    "202312/t20231207_0415.html",
    "202312/t20231205_0412.html",
    "202311/t20231130_0401.html",
]


def test_known_items_are_skipped(tmp_path: Path) -> None:
    # Known from another run on another loopback port and through the old path family.
    old = "http://127.0.0.1:9999/ywzq/ywzq_bldkzr/bldkzr_xxpl/bldkzr_xxpl_zrgg/"
    known = write_known(tmp_path, [old + PAGE1[0]])
    spider = make_spider(ListingsSpider, known_file=str(known))
    response = html(LISTINGS + "index.html", "listing_index.html")
    requests, _ = split(spider.parse_index(response, page=1, pages=1))
    assert [r.url for r in requests] == [
        LISTINGS + PAGE1[1],
        LISTINGS + PAGE1[2],
        LISTINGS + "index_2.html",
    ]


def test_a_fully_known_page_stops_the_walk_when_nothing_is_missing(tmp_path: Path) -> None:
    # 23 known detail pages in this section: page 1's three plus twenty older ones.
    older = [f"2023{m:02d}/t2023{m:02d}01_{n:04d}.html" for m in (1, 2) for n in range(10)]
    known = write_known(tmp_path, [LISTINGS + p for p in PAGE1 + older])
    spider = make_spider(ListingsSpider, known_file=str(known))
    assert spider.known_in_section == 23
    response = html(LISTINGS + "index.html", "listing_index.html")
    requests, items = split(spider.parse_index(response, page=1, pages=1))
    assert requests == [] and items == []


def test_a_fully_known_page_does_not_stop_the_walk_over_a_gap(tmp_path: Path) -> None:
    # Only page 1 is known: 20 items further down are missing (an earlier run failed there).
    known = write_known(tmp_path, [LISTINGS + p for p in PAGE1])
    spider = make_spider(ListingsSpider, known_file=str(known))
    response = html(LISTINGS + "index.html", "listing_index.html")
    requests, items = split(spider.parse_index(response, page=1, pages=1))
    assert items == []
    assert [r.url for r in requests] == [LISTINGS + "index_2.html"]


def test_full_walk_ignores_known_pages(tmp_path: Path) -> None:
    older = [f"2023{m:02d}/t2023{m:02d}01_{n:04d}.html" for m in (1, 2) for n in range(10)]
    known = write_known(tmp_path, [LISTINGS + p for p in PAGE1 + older])
    spider = make_spider(ListingsSpider, known_file=str(known), stop_at_known_page="false")
    response = html(LISTINGS + "index.html", "listing_index.html")
    requests, _ = split(spider.parse_index(response, page=1, pages=1))
    assert [r.url for r in requests] == [LISTINGS + "index_2.html"]


def test_known_pdf_is_not_requested(tmp_path: Path) -> None:
    known = write_known(tmp_path, [LISTINGS + "202312/P020231207412345678901.pdf"])
    spider = make_spider(ListingsSpider, known_file=str(known))
    url = LISTINGS + "202312/t20231207_0415.html"
    assert list(spider.parse_detail(html(url, "listing_detail.html"), doc=doc())) == []


def test_malformed_known_file_is_an_error(tmp_path: Path) -> None:
    known = write_known(tmp_path, [LISTINGS + PAGE1[0], "/relative/path.html"])
    with pytest.raises(ValueError, match=r"known.txt:4: not an absolute http\(s\) URL"):
        make_spider(ListingsSpider, known_file=str(known))
    with pytest.raises(FileNotFoundError, match="known-URL file not found"):
        make_spider(ListingsSpider, known_file=str(tmp_path / "missing.txt"))


def test_missing_source_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no source URL: set NPL_SOURCE_URL"):
        make_spider(ListingsSpider, {"NPL_SOURCE_URL": ""})
    with pytest.raises(ValueError, match="path family must be 'new' or 'old'"):
        make_spider(ListingsSpider, path_family="older")


# --- detail pages --------------------------------------------------------------------------------


def test_detail_page_requests_its_pdf_once() -> None:
    spider = make_spider(ListingsSpider)
    url = LISTINGS + "202312/t20231207_0415.html"
    requests, items = split(spider.parse_detail(html(url, "listing_detail.html"), doc=doc()))
    assert items == []
    assert [r.url for r in requests] == [LISTINGS + "202312/P020231207412345678901.pdf"]
    assert requests[0].callback == spider.parse_pdf
    assert requests[0].errback == spider.pdf_failed_errback
    assert requests[0].headers.get("Accept-Encoding") == b"identity"
    # A second detail page pointing at the same PDF waits for the same download.
    other = doc("t20231207_0416")
    again = list(spider.parse_detail(html(other.detail_url, "listing_detail.html"), doc=other))
    assert again == []
    assert spider.pdf_waiters[requests[0].url] == [doc(), other]


def test_detail_page_without_attachment_is_a_failure() -> None:
    spider = make_spider(ListingsSpider)
    url = LISTINGS + "202312/t20231207_0415.html"
    outputs = list(spider.parse_detail(html(url, "listing_detail_no_attachment.html"), doc=doc()))
    assert len(outputs) == 1
    failure = outputs[0]
    assert isinstance(failure, FailureItem)
    assert (failure.stage, failure.url, failure.http_status) == ("detail", url, 200)
    assert failure.error.startswith("no PDF attachment")


def test_hostile_pdf_links_are_refused_and_recorded() -> None:
    spider = make_spider(ListingsSpider)
    url = LISTINGS + "202312/t20231207_0415.html"
    requests, items = split(
        spider.parse_detail(html(url, "listing_detail_hostile.html"), doc=doc())
    )
    # Only the upper-case .PDF link in the same folder is followed.
    assert [r.url for r in requests] == [LISTINGS + "202312/P020231207412345678902.PDF"]
    assert [i.error.split(":")[0:2] for i in items] == [
        ["PDF link", " refusing an offsite link to evil.example"],
        ["PDF link", " refusing a javascript"],
        ["PDF link", " refusing a link with '..' segments"],
    ]
    assert {i.url for i in items} == {url}


# --- PDFs ----------------------------------------------------------------------------------------


def pdf_response(spider: SectionSpider, body: bytes, retry_times: int = 0, **headers: str):
    url = LISTINGS + "202312/P020231207412345678901.pdf"
    spider.pdf_waiters[url] = [doc()]
    request = Request(url, meta={"npl_stage": "pdf", "retry_times": retry_times})
    return url, Response(url, status=200, body=body, headers=headers, request=request)


def test_valid_pdf_becomes_a_fetched_pdf_for_each_waiting_document() -> None:
    spider = make_spider(ListingsSpider)
    url, response = pdf_response(spider, PDF, **{"Content-Length": str(len(PDF))})
    second = doc("t20231207_0416")
    spider.pdf_waiters[url].append(second)
    outputs = list(spider.parse_pdf(response, pdf_url=url))
    assert [type(o) for o in outputs] == [FetchedPdf, FetchedPdf]
    assert [o.doc for o in outputs] == [doc(), second]
    assert outputs[0].sha256 == hashlib.sha256(PDF).hexdigest()
    assert outputs[0].content_length == len(PDF)
    assert url not in spider.pdf_waiters
    # A third detail page after the download gets its row without a new request.
    third = doc("t20231207_0417")
    (late,) = spider._want_pdf(third, url)
    assert isinstance(late, DocumentItem)
    assert (late.detail_url, late.sha256) == (third.detail_url, outputs[0].sha256)


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (PDF[: len(PDF) // 2], {}, "truncated PDF: no %%EOF"),
        (b"<html>not found</html>", {}, "not a PDF"),
        (PDF, {"Content-Length": str(len(PDF) + 10)}, "Content-Length announced"),
        (b"", {}, "empty body"),
    ],
)
def test_bad_pdf_is_retried_then_recorded(body: bytes, headers: dict, reason: str) -> None:
    spider = make_spider(ListingsSpider)
    url, response = pdf_response(spider, body, retry_times=0, **headers)
    (retry,) = spider.parse_pdf(response, pdf_url=url)
    assert isinstance(retry, Request)
    assert retry.url == url and retry.meta["retry_times"] == 1 and retry.dont_filter

    url, response = pdf_response(spider, body, retry_times=3, **headers)  # RETRY_TIMES = 3
    (failure,) = spider.parse_pdf(response, pdf_url=url)
    assert isinstance(failure, FailureItem)
    assert (failure.stage, failure.url) == ("pdf", url)
    assert reason in failure.error and failure.error.endswith("(after 3 retries)")
    assert url not in spider.pdf_waiters


def test_oversized_pdf_is_recorded() -> None:
    spider = make_spider(ListingsSpider, {"NPL_MAX_PDF_BYTES": 20})
    assert spider.crawler.settings.getint("DOWNLOAD_MAXSIZE") == 20
    url, response = pdf_response(spider, PDF, retry_times=3)
    (failure,) = spider.parse_pdf(response, pdf_url=url)
    assert f"{len(PDF)} bytes exceeds the limit of 20 bytes" in failure.error


# --- errbacks ------------------------------------------------------------------------------------


def http_failure(url: str, status: int, retry_times: int = 0, **cb_kwargs: Any) -> Failure:
    request = Request(url, cb_kwargs=cb_kwargs, meta={"retry_times": retry_times})
    response = Response(url, status=status, request=request)
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = request  # type: ignore[attr-defined]  # as Scrapy's scraper does
    return failure


def test_pdf_errback_records_the_status_and_retries() -> None:
    spider = make_spider(ListingsSpider)
    url = LISTINGS + "202312/P020231207412345678901.pdf"
    spider.pdf_waiters[url] = [doc()]
    (failure,) = spider.pdf_failed_errback(http_failure(url, 500, 3, pdf_url=url))
    assert (failure.stage, failure.url, failure.http_status) == ("pdf", url, 500)
    assert failure.error == "HTTP 500 Internal Server Error (after 3 retries)"
    assert url in spider.pdf_failed and url not in spider.pdf_waiters
    # Another detail page pointing at the failed PDF does not request it again.
    assert list(spider._want_pdf(doc("t20231207_0416"), url)) == []


def test_detail_errback_records_the_detail_url() -> None:
    spider = make_spider(ListingsSpider)
    url = LISTINGS + "202312/t20231207_0415.html"
    (failure,) = spider.detail_failed(http_failure(url, 404, doc=doc()))
    assert (failure.stage, failure.url, failure.http_status) == ("detail", url, 404)
    assert failure.error == "HTTP 404 Not Found"


def test_failed_index_page_is_recorded_and_the_walk_goes_on() -> None:
    spider = make_spider(ListingsSpider)
    url = LISTINGS + "index_2.html"
    failure, next_page = spider.index_failed(http_failure(url, 503, 3, page=2, pages=3))
    assert isinstance(failure, FailureItem)
    assert (failure.stage, failure.url, failure.http_status) == ("index", url, 503)
    assert isinstance(next_page, Request)
    assert next_page.url == LISTINGS + "index_1.html"
    assert next_page.cb_kwargs == {"page": 3, "pages": 3}
    # The newest page failing ends the walk: without it the page count is unknown.
    (only,) = spider.index_failed(http_failure(LISTINGS + "index.html", 500, 3, page=1, pages=1))
    assert isinstance(only, FailureItem)
