"""Watch the first page of each Yindeng index for announcements not seen before. No Dagster here.

One GET per index, no detail page, no PDF: the sensor built on this runs every few minutes
against a public site. The cursor remembers, per index, the detail pages that page 1 showed last
time; an item not among them is new. Items are named by the crawler's `url_key` (loopback
host:port folded, old path family mapped onto the new one), so the bundled site served on
another port does not look new, and the page markup is read by the crawler's own parser."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from npl_assets.domain import DOC_TYPES, DocType

USER_AGENT = "npl-assets-watch/1.0 (+index page check, one request per index)"
DEFAULT_TIMEOUT_SECONDS = 5.0


class IndexPageError(ValueError):
    """An index page that does not look like a Yindeng index page (layout changed?)."""


class FetchError(RuntimeError):
    """An index page that could not be fetched: unreachable, timed out, or an HTTP error."""


@dataclass(frozen=True)
class IndexItem:
    key: str  # the crawler's url_key of the detail page, e.g. loopback/xxpl/.../t2023..._0415.html
    title: str
    date: str | None  # YYYY-MM-DD as listed


@dataclass(frozen=True)
class IndexPage:
    items: list[IndexItem]
    # Items whose link the crawler would refuse to follow (offsite, javascript:, ...): reported,
    # never counted as new, since a crawl would not fetch them either.
    refused: list[str] = field(default_factory=list)


@dataclass
class WatchOutcome:
    """What one look at the indexes found. `seen` holds page 1's keys of each index that could
    be read; an index that failed has an entry in `errors` instead and keeps its old cursor."""

    new_items: dict[DocType, list[IndexItem]] = field(default_factory=dict)
    seen: dict[DocType, list[str]] = field(default_factory=dict)
    errors: dict[DocType, str] = field(default_factory=dict)
    refused: dict[DocType, list[str]] = field(default_factory=dict)

    @property
    def new_count(self) -> int:
        return sum(len(items) for items in self.new_items.values())


def index_url(base_url: str, doc_type: DocType) -> str:
    """Page 1 of an index (the newer path family); ValueError for a malformed base URL."""
    from npl_assets.crawler.urls import section_url

    return section_url(base_url, doc_type, "new") + "index.html"


def parse_index_page(html: str, page_url: str) -> IndexPage:
    """The list items of one index page, in page order (newest first)."""
    from parsel import Selector

    from npl_assets.crawler.markup import parse_index
    from npl_assets.crawler.urls import UnsafeLink, resolve_link, url_key

    selector = Selector(text=html)
    if not selector.css("ul.list-box"):
        raise IndexPageError(f"{page_url}: no ul.list-box on the page (not an index page?)")
    # Detail pages live below the index's own folder; the crawler follows nothing else.
    section_path = urlsplit(page_url).path.rsplit("/", 1)[0] + "/"
    items: list[IndexItem] = []
    refused: list[str] = []
    for entry in parse_index(selector).entries:
        if not entry.href:
            raise IndexPageError(f"{page_url}: list item {entry.position} has no link")
        if not entry.title:
            raise IndexPageError(f"{page_url}: list item {entry.position} has no title")
        try:
            detail = resolve_link(page_url, entry.href, section_path)
        except UnsafeLink as exc:
            refused.append(f"item {entry.position}: {exc}")
            continue
        items.append(IndexItem(key=url_key(detail), title=entry.title, date=entry.list_date))
    return IndexPage(items, refused)


def fetch_page(url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> str:
    """GET one page; every way of failing becomes a FetchError with a readable reason."""
    from npl_assets.crawler.urls import is_loopback_host

    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    # A proxy from the environment never carries loopback traffic (the bundled site).
    handlers = [urllib.request.ProxyHandler({})] if is_loopback_host(urlsplit(url).hostname) else []
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read()
            charset = response.headers.get_content_charset() or "utf-8"
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise FetchError(f"{url}: unreachable ({exc.reason})") from exc
    except TimeoutError as exc:
        raise FetchError(f"{url}: no answer within {timeout:g} s") from exc
    except OSError as exc:  # connection reset mid-body and the like
        raise FetchError(f"{url}: {exc}") from exc
    try:
        return body.decode(charset)
    except (LookupError, UnicodeDecodeError) as exc:
        raise FetchError(f"{url}: body is not valid {charset}: {exc}") from exc


def decode_cursor(cursor: str | None) -> dict[DocType, list[str]]:
    """The detail-page keys seen per index; no cursor yet means nothing seen."""
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except json.JSONDecodeError as exc:
        raise ValueError(f"sensor cursor is not JSON: {cursor[:80]!r}") from exc
    if not isinstance(data, dict) or not all(
        key in DOC_TYPES and isinstance(value, list) and all(isinstance(p, str) for p in value)
        for key, value in data.items()
    ):
        raise ValueError(
            f"sensor cursor must map 'listing'/'result' to lists of keys, got {cursor[:80]!r}"
        )
    return data


def encode_cursor(seen: Mapping[DocType, list[str]]) -> str:
    return json.dumps({k: seen[k] for k in DOC_TYPES if k in seen}, ensure_ascii=False)


def check_indexes(
    base_url: str,
    seen_before: Mapping[DocType, list[str]],
    fetch: Callable[[str], str] = fetch_page,
) -> WatchOutcome:
    """Fetch page 1 of both indexes and compare with what was seen before."""
    outcome = WatchOutcome()
    for doc_type in DOC_TYPES:
        url = index_url(base_url, doc_type)
        try:
            page = parse_index_page(fetch(url), url)
        except (FetchError, IndexPageError) as exc:
            outcome.errors[doc_type] = str(exc)
            continue
        known = set(seen_before.get(doc_type, []))
        fresh = [item for item in page.items if item.key not in known]
        if fresh:
            outcome.new_items[doc_type] = fresh
        if page.refused:
            outcome.refused[doc_type] = page.refused
        outcome.seen[doc_type] = [item.key for item in page.items]
    return outcome


def next_cursor(
    seen_before: Mapping[DocType, list[str]], outcome: WatchOutcome
) -> dict[DocType, list[str]]:
    """Indexes read this time take page 1's current keys; failed ones keep the old entry."""
    return {**seen_before, **outcome.seen}


def run_key(new_items: Mapping[DocType, list[IndexItem]]) -> str:
    """Stable for a given set of new items, whatever the order they were found in."""
    keys = sorted(item.key for items in new_items.values() for item in items)
    digest = hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()[:16]
    return f"new-announcements-{digest}"
