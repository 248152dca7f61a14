"""URL layout of the Yindeng NPL disclosure section, as the real site has it.

Pagination runs backwards: page 1 is `index.html`, page n (n >= 2) is
`index_{total_pages - n + 1}.html`. Pages are anchored at the oldest end, so `index_k.html` always
holds the same ten items (the k-th ten counted from the oldest) and `index.html` holds the newest
remainder (1 to 10 items)."""

from __future__ import annotations

import hashlib
import math
from datetime import date
from typing import Literal, TypeVar

DocType = Literal["listing", "result"]
T = TypeVar("T")

PAGE_SIZE = 10

SECTION_DIRS: dict[DocType, str] = {
    "listing": "xxpl/xxpl_bldkzr/bldkzr_zrgg",
    "result": "xxpl/xxpl_bldkzr/bldkzr_zrjggg",
}
# The older path family serves the very same pages (the server maps it onto SECTION_DIRS).
OLD_SECTION_DIRS: dict[DocType, str] = {
    "listing": "ywzq/ywzq_bldkzr/bldkzr_xxpl/bldkzr_xxpl_zrgg",
    "result": "ywzq/ywzq_bldkzr/bldkzr_xxpl/bldkzr_xxpl_zrjggg",
}
SECTION_NAMES: dict[DocType, str] = {"listing": "转让公告", "result": "转让结果公告"}
TITLE_SUFFIXES: dict[DocType, str] = {
    "listing": "不良贷款转让公告",
    "result": "不良贷款转让结果公告",
}


def total_pages(item_count: int) -> int:
    """Number of index pages; an empty index still has its index.html."""
    if item_count < 0:
        raise ValueError(f"item count must not be negative, got {item_count}")
    return max(1, math.ceil(item_count / PAGE_SIZE))


def page_filename(page: int, pages: int) -> str:
    """File name of display page `page` (1 = newest) out of `pages`."""
    if not 1 <= page <= pages:
        raise ValueError(f"page {page} outside 1..{pages}")
    return "index.html" if page == 1 else f"index_{pages - page + 1}.html"


def paginate(items_newest_first: list[T]) -> list[list[T]]:
    """Split items (newest first) into display pages 1..n, anchored at the oldest end."""
    pages = total_pages(len(items_newest_first))
    oldest_first = items_newest_first[::-1]
    chunks: list[list[T]] = []
    for page in range(1, pages + 1):
        file_no = pages - page + 1  # index_{file_no}; page 1 is the remainder above the full tens
        start = (file_no - 1) * PAGE_SIZE
        end = len(oldest_first) if page == 1 else start + PAGE_SIZE
        chunks.append(oldest_first[start:end][::-1])
    return chunks


def detail_name(publication: date, number: int) -> str:
    """`tYYYYMMDD_NNNN.html`: the CMS names a detail page by its date and a document number."""
    return f"t{publication:%Y%m%d}_{number:04d}.html"


def pdf_name(publication: date, key: str) -> str:
    """`P0YYYYMMDD` + 12 digits, like the CMS's attachment names; derived from a stable key."""
    digits = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % 10**12
    return f"P0{publication:%Y%m%d}{digits:012d}.pdf"


def month_dir(publication: date) -> str:
    return f"{publication:%Y%m}"
