"""The walk shared by both spiders: index pages newest first, each new item's detail page, its PDF.

Index pages are fetched one after another (page n+1 only once page n is read), so the walk can
stop at the first page whose items are all known: a run with nothing new costs one index request.
It stops only when the known URLs account for every item still unread (`item_count` from
span#pageTotal minus what the walk has seen), so a gap left by an earlier failed or interrupted
run is walked to and filled instead of being hidden behind a known first page.

Every URL that cannot be crawled becomes one `FailureItem` (errbacks see final HTTP errors,
timeouts, refused requests); a PDF body that fails validation is retried like a 500 and only
then recorded."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.response import response_status_message
from twisted.python.failure import Failure

from npl_assets.crawler import markup, policy
from npl_assets.crawler.items import (
    DocInfo,
    DocumentItem,
    FailureItem,
    FetchedPdf,
    IndexCountItem,
    Stage,
    utc_now,
)
from npl_assets.crawler.store import DEFAULT_MAX_PDF_BYTES, pdf_problem
from npl_assets.crawler.urls import (
    DocType,
    UnsafeLink,
    check_source_url,
    is_detail_key,
    origin,
    page_filename,
    parse_path_family,
    resolve_link,
    section_url,
    total_pages,
    url_key,
)

DEFAULT_MAX_PAGES = 1000
PRIORITY = {"index": 30, "pdf": 20, "detail": 10}  # finish started documents before new ones


def read_known_file(path: Path | str | None) -> frozenset[str]:
    """Keys (`url_key`) of the known detail and PDF URLs, one absolute URL a line; blank lines
    and `#` comments are skipped. A missing file or a malformed line is an error."""
    if not path:
        return frozenset()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"known-URL file not found: {path}")
    keys = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            keys.add(url_key(line))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    return frozenset(keys)


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def describe_failure(failure: Failure) -> tuple[str, int | None]:
    """(reason, HTTP status or None) of a failed request, for the failure row."""
    exc = failure.value
    request = getattr(failure, "request", None)
    status: int | None = None
    if isinstance(exc, HttpError):
        status = exc.response.status
        reason = f"HTTP {response_status_message(status)}"
    elif isinstance(exc, IgnoreRequest):
        reason = str(exc) or "request ignored"
    else:
        reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
    retries = request.meta.get("retry_times", 0) if request is not None else 0
    if retries:
        reason += f" (after {retries} {'retry' if retries == 1 else 'retries'})"
    return reason, status


def content_length(response: Response) -> int | None:
    value = response.headers.get(b"Content-Length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


class SectionSpider(scrapy.Spider):
    """Crawl one section (listings or results) of the disclosure index."""

    doc_type: ClassVar[DocType]

    def __init__(
        self,
        *args: Any,
        path_family: str | None = None,
        known_file: str | None = None,
        stop_at_known_page: str | bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._arg_path_family = path_family
        self._arg_known_file = known_file
        self._arg_stop = stop_at_known_page
        # walk state
        self.item_count: int | None = None
        self.seen_keys: set[str] = set()
        self.seen_count = 0
        self.known_seen = 0
        self.pdf_waiters: dict[str, list[DocInfo]] = {}
        self.pdf_done: dict[str, DocumentItem] = {}
        self.pdf_failed: set[str] = set()

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        policy.apply_policy(settings)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SectionSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.configure(crawler.settings)
        return spider

    def configure(self, settings: BaseSettings) -> None:
        self.source_url = check_source_url(settings.get("NPL_SOURCE_URL") or "")
        self.path_family = parse_path_family(
            self._arg_path_family or settings.get("NPL_PATH_FAMILY") or "new"
        )
        self.max_pages = settings.getint("NPL_MAX_PAGES", DEFAULT_MAX_PAGES)
        if self.max_pages < 1:
            raise ValueError(f"NPL_MAX_PAGES must be at least 1, got {self.max_pages}")
        stop = self._arg_stop
        if stop is None:
            stop = settings.get("NPL_STOP_AT_KNOWN_PAGE", True)
        self.stop_at_known_page = parse_bool(stop)
        self.max_pdf_bytes = settings.getint("NPL_MAX_PDF_BYTES", DEFAULT_MAX_PDF_BYTES)
        self.section_url = section_url(self.source_url, self.doc_type, self.path_family)
        self.section_path = urlsplit(self.section_url).path
        self.section_key = url_key(self.section_url)
        self.origin = origin(self.section_url)
        self.allowed_domains = [self.origin[1]]
        known_file = self._arg_known_file or settings.get("NPL_KNOWN_FILE") or None
        self.known = read_known_file(known_file)
        self.known_in_section = sum(is_detail_key(k, self.section_key) for k in self.known)
        self.logger.info(
            "crawling %s (%s path family); %d known URLs, %d of them detail pages here",
            self.section_url,
            self.path_family,
            len(self.known),
            self.known_in_section,
        )

    # --- helpers -------------------------------------------------------------------------------

    def _inc(self, key: str, count: int = 1) -> None:
        crawler = getattr(self, "crawler", None)
        if crawler is not None and crawler.stats is not None:
            crawler.stats.inc_value(f"npl/{key}", count)

    def failure(
        self, stage: Stage, url: str, error: str, http_status: int | None = None
    ) -> FailureItem:
        self._inc(f"failures/{stage}")
        self.logger.warning("%s failed: %s (%s)", stage, url, error)
        return FailureItem(
            doc_type=self.doc_type, stage=stage, url=url, error=error, http_status=http_status
        )

    def index_request(self, page: int, pages: int) -> Request:
        return Request(
            self.section_url + page_filename(page, pages),
            callback=self.parse_index,
            errback=self.index_failed,
            cb_kwargs={"page": page, "pages": pages},
            meta={"npl_stage": "index"},
            priority=PRIORITY["index"],
        )

    def _next_page(self, page: int, pages: int) -> Iterator[Request]:
        if page < pages:
            yield self.index_request(page + 1, pages)

    def _gap_remains(self) -> bool:
        """Whether unread index items may hold something unknown: fewer known detail URLs of
        this section are left unseen than items are left unread."""
        unread = (self.item_count or 0) - self.seen_count
        known_unseen = self.known_in_section - self.known_seen
        return known_unseen < unread

    # --- index ---------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        yield self.index_request(1, 1)

    def parse_index(self, response: Response, page: int, pages: int) -> Iterator[Any]:
        self._inc("pages/index")
        if not isinstance(response, TextResponse):
            kind = response.headers.get(b"Content-Type", b"?").decode("latin-1")
            yield self.failure("index", response.url, f"expected HTML, got {kind}", response.status)
            if page > 1:
                yield from self._next_page(page, pages)
            return
        parsed = markup.parse_index(response.selector)
        if page == 1:
            pages = yield from self._read_item_count(response, parsed)
        entries_valid = 0
        all_known = True
        for entry in parsed.entries:
            self.seen_count += 1
            try:
                doc, key = self._entry_doc(response.url, entry)
            except (UnsafeLink, ValueError) as exc:
                all_known = False
                yield self.failure("index", response.url, f"item {entry.position}: {exc}", 200)
                continue
            entries_valid += 1
            if key in self.seen_keys:
                continue  # the same item listed twice (or the site shifted under the walk)
            self.seen_keys.add(key)
            if key in self.known:
                self.known_seen += 1
                self._inc("skipped_known")
                continue
            all_known = False
            yield Request(
                doc.detail_url,
                callback=self.parse_detail,
                errback=self.detail_failed,
                cb_kwargs={"doc": doc},
                meta={"npl_stage": "detail"},
                priority=PRIORITY["detail"],
            )
        if page < pages and entries_valid and all_known and self.stop_at_known_page:
            if not self._gap_remains():
                self.logger.info(
                    "page %d of %d is all known and nothing unread is missing: stop", page, pages
                )
                self._inc("stopped_early")
                return
            self.logger.info("page %d is all known, but unread items are missing: go on", page)
        if not parsed.entries and (page > 1 or (self.item_count or 0) > 0):
            yield self.failure("index", response.url, "no list items on the index page", 200)
        yield from self._next_page(page, pages)

    def _read_item_count(
        self, response: TextResponse, parsed: markup.IndexPage
    ) -> Generator[FailureItem | IndexCountItem, None, int]:
        """From page 1: the item count and number of pages (generator: yields the count as the
        site states it, and failures)."""
        try:
            count = markup.parse_item_count(parsed.total_text)
        except ValueError as exc:
            yield self.failure("index", response.url, f"{exc}; not paging further", 200)
            return 1
        yield IndexCountItem(doc_type=self.doc_type, url=response.url, items=count)
        pages = total_pages(count)
        if pages > self.max_pages:
            yield self.failure(
                "index",
                response.url,
                f"共{count}条 means {pages} pages, more than NPL_MAX_PAGES={self.max_pages}; "
                "not paging further",
                200,
            )
            return 1
        if len(parsed.entries) > count:
            yield self.failure(
                "index",
                response.url,
                f"共{count}条 but page 1 lists {len(parsed.entries)} items; not paging further",
                200,
            )
            return 1
        self.item_count = count
        return pages

    def _entry_doc(self, page_url: str, entry: markup.ListEntry) -> tuple[DocInfo, str]:
        if entry.href is None:
            raise ValueError("no title link")
        detail_url = resolve_link(page_url, entry.href, self.section_path)
        if not entry.title:
            raise ValueError("empty title")
        if entry.list_date is None:
            raise ValueError("no YYYY-MM-DD date")
        doc = DocInfo(self.doc_type, entry.title, entry.list_date, detail_url)
        return doc, url_key(detail_url)

    def index_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        reason, status = describe_failure(failure)
        yield self.failure("index", request.url, reason, status)
        # Page 1 alone knows how many pages there are; later pages are skipped over.
        page, pages = request.cb_kwargs["page"], request.cb_kwargs["pages"]
        if page > 1:
            yield from self._next_page(page, pages)

    # --- detail --------------------------------------------------------------------------------

    def parse_detail(self, response: Response, doc: DocInfo) -> Iterator[Any]:
        self._inc("pages/detail")
        if not isinstance(response, TextResponse):
            kind = response.headers.get(b"Content-Type", b"?").decode("latin-1")
            yield self.failure(
                "detail", doc.detail_url, f"expected HTML, got {kind}", response.status
            )
            return
        hrefs = markup.attachment_hrefs(response.selector)
        if not hrefs:
            yield self.failure(
                "detail",
                doc.detail_url,
                f"no PDF attachment ({markup.ATTACHMENT_CSS} ending in .pdf) on the detail page",
                response.status,
            )
            return
        for href in hrefs:
            try:
                pdf_url = resolve_link(response.url, href, self.section_path)
            except UnsafeLink as exc:
                yield self.failure("detail", doc.detail_url, f"PDF link: {exc}", response.status)
                continue
            yield from self._want_pdf(doc, pdf_url)

    def _want_pdf(self, doc: DocInfo, pdf_url: str) -> Iterator[Any]:
        """Request a PDF once per run, however many detail pages point at it."""
        if url_key(pdf_url) in self.known:
            self._inc("skipped_known_pdf")
            return
        if pdf_url in self.pdf_done:
            done = self.pdf_done[pdf_url]
            yield dataclasses.replace(
                done, title=doc.title, list_date=doc.list_date, detail_url=doc.detail_url
            )
            return
        if pdf_url in self.pdf_failed:
            return  # its failure row is already out
        if pdf_url in self.pdf_waiters:
            self.pdf_waiters[pdf_url].append(doc)
            return
        self.pdf_waiters[pdf_url] = [doc]
        yield Request(
            pdf_url,
            callback=self.parse_pdf,
            errback=self.pdf_failed_errback,
            cb_kwargs={"pdf_url": pdf_url},
            # A compressed transfer would make Content-Length incomparable with the body.
            headers={"Accept-Encoding": "identity"},
            meta={"npl_stage": "pdf"},
            priority=PRIORITY["pdf"],
        )

    def detail_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        reason, status = describe_failure(failure)
        yield self.failure("detail", request.cb_kwargs["doc"].detail_url, reason, status)

    # --- PDF -----------------------------------------------------------------------------------

    def parse_pdf(self, response: Response, pdf_url: str) -> Iterator[Any]:
        self._inc("pages/pdf")
        body = response.body
        problem = pdf_problem(body, content_length(response), self.max_pdf_bytes)
        if problem:
            retry = get_retry_request(response.request, spider=self, reason="invalid_pdf")
            if retry is not None:
                yield retry
                return
            retries = response.request.meta.get("retry_times", 0) if response.request else 0
            if retries:
                problem += f" (after {retries} retries)"
            yield from self._pdf_gave_up(pdf_url, f"invalid PDF: {problem}", response.status)
            return
        sha = hashlib.sha256(body).hexdigest()
        fetched_at = utc_now()
        docs = self.pdf_waiters.pop(pdf_url, [])
        for doc in docs:
            fetched = FetchedPdf(
                doc=doc,
                pdf_url=pdf_url,
                sha256=sha,
                body=body,
                content_length=content_length(response),
                http_status=response.status,
                fetched_at=fetched_at,
            )
            self.pdf_done.setdefault(pdf_url, fetched.document())
            yield fetched

    def pdf_failed_errback(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        reason, status = describe_failure(failure)
        yield from self._pdf_gave_up(request.cb_kwargs["pdf_url"], reason, status)

    def _pdf_gave_up(self, pdf_url: str, reason: str, status: int | None) -> Iterator[Any]:
        self.pdf_waiters.pop(pdf_url, None)
        self.pdf_failed.add(pdf_url)
        yield self.failure("pdf", pdf_url, reason, status)

    def closed(self, reason: str) -> None:
        # Every requested PDF ends in a document or a failure row. After a complete walk anything
        # left is a bug; after a timeout or shutdown, the next run picks those up.
        if not self.pdf_waiters:
            return
        self._inc("unfinished_pdfs", len(self.pdf_waiters))
        level = logging.ERROR if reason == "finished" else logging.WARNING
        self.logger.log(
            level,
            "%d PDFs neither stored nor recorded as failed (close reason %s): %s",
            len(self.pdf_waiters),
            reason,
            ", ".join(sorted(self.pdf_waiters)[:5]),
        )
