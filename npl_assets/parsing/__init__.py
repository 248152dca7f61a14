"""The announcement PDF parser: plain Python, no Dagster, no Scrapy.

    parse_pdf(path_or_bytes, name=...)   -> ListingRecord | ResultRecord, or a ParseError
    extract_text(pdf_bytes)              -> the text PDFium sees (pages joined by form feeds)
    parse_listing_text / parse_result_text(text, name) for text already extracted

PARSER_VERSION is stored with every parsed row and failure; bump it whenever the parser's output
can change, so that earlier failures are retried and rows can be re-parsed.
"""

from __future__ import annotations

import os
from pathlib import Path

# Anything over the crawler's own cap is refused unread rather than handed to PDFium whole.
from npl_assets.domain import MAX_PDF_BYTES
from npl_assets.parsing.errors import NotAnAnnouncementError, ParseError, UnreadablePdfError
from npl_assets.parsing.layout import clean_text, find_title
from npl_assets.parsing.listing import parse_listing_text
from npl_assets.parsing.pdftext import extract_text
from npl_assets.parsing.records import ListingRecord, ResultRecord
from npl_assets.parsing.result import parse_result_text

# Bumped when parsing changes what it reads; every stored document is then parsed again.
# 2: a footer without a date is no longer a failure (publication_date is None).
# 3: only title, seller and unpaid total are required; an unknown asset-type wording is 其他 with
#    the wording kept; unreadable optional values are None with their raw text in unread_fields.
PARSER_VERSION = "3"

__all__ = [
    "MAX_PDF_BYTES",
    "PARSER_VERSION",
    "ListingRecord",
    "ParseError",
    "ResultRecord",
    "detect_document_type",
    "extract_text",
    "parse_listing_text",
    "parse_pdf",
    "parse_result_text",
    "parse_text",
]


def detect_document_type(text: str) -> str | None:
    """'listing', 'result', or None when the title is neither."""
    title = find_title(clean_text(text))
    return title.doc_type if title else None


def parse_text(text: str, name: str) -> ListingRecord | ResultRecord:
    """Parse extracted text as whichever document type its title announces."""
    doc_type = detect_document_type(text)
    if doc_type == "listing":
        return parse_listing_text(text, name)
    if doc_type == "result":
        return parse_result_text(text, name)
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    raise NotAnAnnouncementError(
        name,
        f"not a 不良贷款转让公告 or 转让结果公告 (the document starts with {first_line[:60]!r})",
    )


def parse_pdf(
    source: bytes | bytearray | memoryview | str | os.PathLike[str], *, name: str | None = None
) -> ListingRecord | ResultRecord:
    """Parse one announcement PDF given as bytes or a path. `name` labels errors (default: the
    file name, or '<bytes>')."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = name or "<bytes>"
        _check_size(len(data), name)
    else:
        path = Path(source)
        name = name or path.name
        try:
            _check_size(path.stat().st_size, name)
            data = path.read_bytes()
        except OSError as exc:
            raise UnreadablePdfError(name, f"cannot read file: {exc.strerror or exc}") from exc
    return parse_text(extract_text(data, name), name)


def _check_size(size: int, name: str) -> None:
    if size > MAX_PDF_BYTES:
        raise UnreadablePdfError(
            name, f"file too large: {size} bytes, over the limit of {MAX_PDF_BYTES} bytes"
        )
