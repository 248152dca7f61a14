"""What the crawl emits: one `DocumentItem` per stored PDF, one `FailureItem` per URL that could
not be crawled and one `IndexCountItem` per index read (its 共N条, what the site says it holds),
exported as JSON lines (`kind` tells them apart). `FetchedPdf` is internal: the
spider hands the downloaded body to the store pipeline, which turns it into a `DocumentItem`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

from npl_assets.domain import DOC_TYPES, DocType

Stage = Literal["index", "detail", "pdf"]
STAGES = ("index", "detail", "pdf")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def utc_now() -> str:
    """ISO 8601 UTC, to the second: `2024-01-31T08:15:00Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_list_date(value: str) -> str:
    if not _DATE.fullmatch(value):
        raise ValueError(f"list date must be YYYY-MM-DD, got {value!r}")
    date.fromisoformat(value)  # raises on 2023-02-30
    return value


def _check_doc_type(value: str) -> None:
    if value not in DOC_TYPES:
        raise ValueError(f"doc_type must be one of {DOC_TYPES}, got {value!r}")


@dataclass(frozen=True)
class DocInfo:
    """A list item of an index page, carried to its detail page and PDF."""

    doc_type: DocType
    title: str
    list_date: str
    detail_url: str

    def __post_init__(self) -> None:
        _check_doc_type(self.doc_type)
        if not self.title.strip():
            raise ValueError("empty title")
        check_list_date(self.list_date)


@dataclass(frozen=True, kw_only=True)
class DocumentItem:
    kind: Literal["document"] = "document"
    doc_type: DocType
    title: str
    list_date: str
    detail_url: str
    pdf_url: str
    sha256: str
    byte_size: int
    fetched_at: str
    http_status: int

    def __post_init__(self) -> None:
        _check_doc_type(self.doc_type)
        check_list_date(self.list_date)
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"not a sha256 hex digest: {self.sha256!r}")
        if self.byte_size <= 0:
            raise ValueError(f"byte size must be positive, got {self.byte_size}")


@dataclass(frozen=True, kw_only=True)
class FailureItem:
    kind: Literal["failure"] = "failure"
    doc_type: DocType
    stage: Stage
    url: str
    error: str
    http_status: int | None = None
    failed_at: str = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        _check_doc_type(self.doc_type)
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {self.stage!r}")
        if not self.error.strip():
            raise ValueError("a failure needs its reason")


@dataclass(frozen=True, kw_only=True)
class IndexCountItem:
    """How many items an index says it lists (span#pageTotal), so a run can tell what is on the
    site from what it stored."""

    kind: Literal["index_count"] = "index_count"
    doc_type: DocType
    url: str
    items: int
    checked_at: str = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        _check_doc_type(self.doc_type)
        if self.items < 0:
            raise ValueError(f"an index cannot list {self.items} items")


@dataclass(frozen=True, kw_only=True)
class FetchedPdf:
    """A downloaded, validated PDF for one document; the store pipeline writes it."""

    doc: DocInfo
    pdf_url: str
    sha256: str
    body: bytes = field(repr=False)
    content_length: int | None
    http_status: int
    fetched_at: str

    def document(self) -> DocumentItem:
        return DocumentItem(
            doc_type=self.doc.doc_type,
            title=self.doc.title,
            list_date=self.doc.list_date,
            detail_url=self.doc.detail_url,
            pdf_url=self.pdf_url,
            sha256=self.sha256,
            byte_size=len(self.body),
            fetched_at=self.fetched_at,
            http_status=self.http_status,
        )
