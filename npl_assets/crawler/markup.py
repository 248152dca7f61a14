"""Reading the site's HTML: index pages (list items and the item count) and detail pages (the
PDF attachment links). Pure functions over a parsel/Scrapy selector; no requests here."""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsel import Selector

ITEM_CSS = "ul.list-box div.rightListContent.list-item"
LINK_CSS = "span.rightListImport.unlock.list-content a"
DATE_CSS = "span.rightListTime.data-time"
TOTAL_CSS = "span#pageTotal"
ATTACHMENT_CSS = "div.attach_main.attachment div.attach_file a[href]"

_TOTAL = re.compile(r"共\s*(\d[\d,]*)\s*条")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ListEntry:
    """One list item as found; validation happens in the spider."""

    position: int  # 1-based on its page
    href: str | None
    title: str
    list_date: str | None


@dataclass(frozen=True)
class IndexPage:
    entries: tuple[ListEntry, ...]
    total_text: str | None  # the text of span#pageTotal, if present


def clean_text(text: str | None) -> str:
    return _SPACE.sub(" ", text or "").strip()


def parse_index(selector: Selector) -> IndexPage:
    entries = []
    for position, node in enumerate(selector.css(ITEM_CSS), 1):
        link = node.css(LINK_CSS)
        href = link.attrib.get("href") if link else None
        title = clean_text(link.attrib.get("title")) if link else ""
        if link and not title:
            title = clean_text(" ".join(link.css("::text").getall()))
        date_text = clean_text(" ".join(node.css(f"{DATE_CSS} ::text").getall()))
        found = _DATE.search(date_text)
        entries.append(ListEntry(position, href, title, found.group(0) if found else None))
    total = selector.css(TOTAL_CSS)
    total_text = clean_text(" ".join(total.css("::text").getall())) if total else None
    return IndexPage(tuple(entries), total_text)


def parse_item_count(total_text: str | None) -> int:
    """The N of "共N条"; ValueError if it is missing or malformed."""
    if total_text is None:
        raise ValueError("no span#pageTotal (共N条) on the index page")
    found = _TOTAL.search(total_text)
    if not found:
        raise ValueError(f"span#pageTotal does not read 共N条: {total_text!r}")
    return int(found.group(1).replace(",", ""))


def attachment_hrefs(selector: Selector) -> list[str]:
    """The PDF links of a detail page's attachment box, in page order, without duplicates. The
    contract's selector is `a[href$=".pdf"]`; the suffix is compared case-insensitively."""
    hrefs: list[str] = []
    for link in selector.css(ATTACHMENT_CSS):
        href = (link.attrib.get("href") or "").strip()
        path = href.split("#", 1)[0].split("?", 1)[0]
        if path.lower().endswith(".pdf") and href not in hrefs:
            hrefs.append(href)
    return hrefs
