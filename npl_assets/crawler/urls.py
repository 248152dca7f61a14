"""URL rules of the crawl: where each section lives, which links may be followed, and the key
under which a URL counts as already known.

Pure functions only; the spiders and middlewares call them."""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Literal
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from npl_assets.domain import DocType

PathFamily = Literal["new", "old"]

PAGE_SIZE = 10
MAX_URL_LENGTH = 2000

# Both path families serve the same pages on the real site; "new" is the current one.
SECTION_PATHS: dict[tuple[DocType, PathFamily], str] = {
    ("listing", "new"): "/xxpl/xxpl_bldkzr/bldkzr_zrgg/",
    ("result", "new"): "/xxpl/xxpl_bldkzr/bldkzr_zrjggg/",
    ("listing", "old"): "/ywzq/ywzq_bldkzr/bldkzr_xxpl/bldkzr_xxpl_zrgg/",
    ("result", "old"): "/ywzq/ywzq_bldkzr/bldkzr_xxpl/bldkzr_xxpl_zrjggg/",
}
PATH_FAMILIES: tuple[PathFamily, ...] = ("new", "old")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnsafeLink(ValueError):
    """A link the crawler refuses to follow; the message says why."""


def parse_path_family(value: str | None) -> PathFamily:
    family = (value or "new").strip().lower()
    if family not in PATH_FAMILIES:
        raise ValueError(f"path family must be 'new' or 'old', got {value!r}")
    return family  # type: ignore[return-value]


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_source_url(url: str) -> str:
    """The base URL without a trailing slash; a clear error for anything but http(s)://host."""
    if not url or not url.strip():
        raise ValueError(
            "no source URL: set NPL_SOURCE_URL (environment or `-s NPL_SOURCE_URL=...`), "
            "or run `npl crawl`, which serves the bundled site on loopback"
        )
    parts = urlsplit(url.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"source URL must be http(s)://host[:port][/prefix], got {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"source URL must not carry a query, fragment or credentials: {url!r}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def section_url(source_url: str, doc_type: DocType, family: PathFamily) -> str:
    """The section folder URL, ending in a slash."""
    return check_source_url(source_url) + SECTION_PATHS[(doc_type, family)]


def total_pages(item_count: int) -> int:
    """Index pages for `item_count` items (10 a page); an empty index still has index.html."""
    if item_count < 0:
        raise ValueError(f"item count must not be negative, got {item_count}")
    return max(1, math.ceil(item_count / PAGE_SIZE))


def page_filename(page: int, pages: int) -> str:
    """Display page 1 (newest) is index.html; page n >= 2 is index_{pages - n + 1}.html."""
    if not 1 <= page <= pages:
        raise ValueError(f"page {page} outside 1..{pages}")
    return "index.html" if page == 1 else f"index_{pages - page + 1}.html"


def resolve_link(page_url: str, href: str | None, section_path: str) -> str:
    """The absolute URL of `href` on `page_url`, or UnsafeLink when it must not be followed:
    a scheme other than http(s) (javascript:, mailto:, data:...), `..` segments, control
    characters, another origin, or a path outside the section folder `section_path`."""
    raw = (href or "").strip()
    if not raw:
        raise UnsafeLink("empty link")
    if _CONTROL.search(raw) or "\\" in raw:
        raise UnsafeLink(f"refusing a link with control characters or backslashes: {raw!r}")
    parts = urlsplit(raw)
    if parts.scheme and parts.scheme.lower() not in _DEFAULT_PORTS:
        raise UnsafeLink(f"refusing a {parts.scheme.lower()}: link: {raw!r}")
    if ".." in unquote(parts.path).split("/"):
        raise UnsafeLink(f"refusing a link with '..' segments: {raw!r}")
    absolute = urljoin(page_url, raw).split("#", 1)[0]
    if len(absolute) > MAX_URL_LENGTH:
        raise UnsafeLink(f"refusing a link longer than {MAX_URL_LENGTH} characters")
    if origin(absolute) != origin(page_url):
        host = urlsplit(absolute).netloc or "?"
        raise UnsafeLink(f"refusing an offsite link to {host}: {raw!r}")
    if not urlsplit(absolute).path.startswith(section_path):
        raise UnsafeLink(f"refusing a link outside the section {section_path}: {raw!r}")
    return absolute


def url_key(url: str) -> str:
    """The identity of a URL for "already known": scheme and fragment ignored, old path family
    mapped onto the new one, and every loopback host:port folded into one (the bundled site is
    served on a fresh port each run)."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    host = parts.hostname.lower()
    if is_loopback_host(host):
        host = "loopback"
    else:
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"bad port in URL: {url!r}") from None
        if port and port != _DEFAULT_PORTS[parts.scheme.lower()]:
            host = f"{host}:{port}"
    path = canonical_path(parts.path or "/")
    return f"{host}{path}" + (f"?{parts.query}" if parts.query else "")


def canonical_path(path: str) -> str:
    for doc_type in ("listing", "result"):
        old = SECTION_PATHS[(doc_type, "old")]
        if old in path:
            return path.replace(old, SECTION_PATHS[(doc_type, "new")], 1)
    return path


def is_detail_key(key: str, section_key: str) -> bool:
    """Whether a known-URL key is a detail page of the section whose folder has `section_key`
    (`url_key` of the section URL): `YYYYMM/tYYYYMMDD_NNNN.html`, not an index or a PDF."""
    if not key.startswith(section_key):
        return False
    tail = key[len(section_key) :]
    return tail.endswith(".html") and "/" in tail
