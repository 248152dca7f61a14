"""The store pipeline: writes each fetched PDF into the content-addressed store and passes on the
row the feed exports. A row never leaves the pipeline pointing at a file the store lacks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from npl_assets import settings as npl_settings
from npl_assets.crawler.items import DocumentItem, FailureItem, FetchedPdf
from npl_assets.crawler.store import (
    DEFAULT_MAX_PDF_BYTES,
    ContentStore,
    InvalidPdf,
    S3ContentStore,
    open_store,
    store_location,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class StorePipeline:
    def __init__(self, crawler: Crawler, store: ContentStore | S3ContentStore) -> None:
        self.crawler = crawler
        self.store = store

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        root = crawler.settings.get("NPL_RAW_DIR") or str(npl_settings.raw_dir())
        max_bytes = crawler.settings.getint("NPL_MAX_PDF_BYTES", DEFAULT_MAX_PDF_BYTES)
        return cls(crawler, open_store(store_location(root), max_bytes=max_bytes))

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"npl/{key}")

    def process_item(self, item: Any) -> Any:
        if isinstance(item, FetchedPdf):
            return self._store(item)
        if isinstance(item, DocumentItem) and not self.store.has(item.sha256):
            # A second document for an already fetched PDF whose file did not make it.
            return self._failed(item.doc_type, item.pdf_url, "PDF not in the store", None)
        if isinstance(item, DocumentItem):
            self._inc("documents")
        elif isinstance(item, FailureItem):
            self._inc("failures")
        return item

    def _store(self, item: FetchedPdf) -> DocumentItem | FailureItem:
        existed = self.store.has(item.sha256)
        try:
            sha = self.store.put(item.body, item.content_length)
        except InvalidPdf as exc:
            return self._failed(
                item.doc.doc_type, item.pdf_url, f"invalid PDF: {exc}", item.http_status
            )
        if sha != item.sha256:
            raise RuntimeError(f"sha256 mismatch for {item.pdf_url}: {sha} != {item.sha256}")
        self._inc("pdf_already_stored" if existed else "pdf_stored")
        self._inc("documents")
        return item.document()

    def _failed(self, doc_type: Any, url: str, error: str, status: int | None) -> FailureItem:
        self._inc("failures")
        return FailureItem(doc_type=doc_type, stage="pdf", url=url, error=error, http_status=status)
