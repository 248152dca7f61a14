"""Serve a built site on loopback, with optional, reproducible fault injection.

    with SiteServer(site_dir) as server:
        crawl(server.base_url)
        assert server.request_count == ...

The old path family (/ywzq/ywzq_bldkzr/bldkzr_xxpl/...) is served as an alias of the current one.
Faults are decided per (URL path, attempt) from a seed, so a run is reproducible and a retry of a
failed URL can succeed; a PDF picked as not found stays missing (a broken link)."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import quote, unquote, urlsplit

from npl_assets.site.layout import OLD_SECTION_DIRS, SECTION_DIRS

log = logging.getLogger(__name__)

Fault = Literal["not_found", "error", "truncate", "slow"]
# Files a crawler needs to get going are never faulted.
NO_FAULT_PATHS = frozenset({"/robots.txt", "/manifest.json"})
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
}


@dataclass(frozen=True)
class Faults:
    """Fault rates in [0, 1]. error: HTTP 500. slow: wait `slow_seconds` before answering.
    truncate: the body is cut (HTML: the announced Content-Length is larger than what is sent
    before the connection closes; PDF: either that, or a consistent Content-Length on a cut
    file). not_found: a PDF answers 404, permanently."""

    error_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 1.0
    truncate_rate: float = 0.0
    not_found_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("error_rate", "slow_rate", "truncate_rate", "not_found_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
        if self.slow_seconds < 0:
            raise ValueError(f"slow_seconds must not be negative, got {self.slow_seconds}")

    @property
    def active(self) -> bool:
        return any((self.error_rate, self.slow_rate, self.truncate_rate, self.not_found_rate))

    def draw(self, kind: str, path: str, attempt: int) -> float:
        """A uniform number in [0, 1) fixed by (seed, kind, path, attempt)."""
        key = f"{self.seed}\0{kind}\0{path}\0{attempt}".encode()
        return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**64

    def decide(self, path: str, attempt: int) -> list[Fault]:
        """The faults for the `attempt`-th request (0-based) of `path`; empty: serve normally."""
        if path in NO_FAULT_PATHS:
            return []
        if path.endswith(".pdf") and self.draw("not_found", path, 0) < self.not_found_rate:
            return ["not_found"]
        faults: list[Fault] = []
        if self.draw("slow", path, attempt) < self.slow_rate:
            faults.append("slow")
        if self.draw("error", path, attempt) < self.error_rate:
            faults.append("error")
        elif self.draw("truncate", path, attempt) < self.truncate_rate:
            faults.append("truncate")
        return faults


class RequestRecord(NamedTuple):
    method: str
    path: str
    status: int
    faults: tuple[str, ...]


def check_loopback(host: str) -> None:
    """The bundled site is for this machine only: refuse any non-loopback address."""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"refusing to serve on {host!r}: only loopback addresses (127.0.0.1, ::1) are allowed"
        ) from None
    if not address.is_loopback:
        raise ValueError(
            f"refusing to serve on {host}: only loopback addresses (127.0.0.1, ::1) are allowed"
        )


def canonical_path(url_path: str) -> str:
    """Map the old path family onto the current one; other paths are unchanged."""
    for doc_type, old in OLD_SECTION_DIRS.items():
        prefix = f"/{old}"
        if url_path == prefix or url_path.startswith(prefix + "/"):
            return f"/{SECTION_DIRS[doc_type]}{url_path[len(prefix) :]}"
    return url_path


def resolve(root: Path, url_path: str) -> Path | None:
    """The file or folder under `root` for a URL path, or None if it would leave `root`."""
    if "\0" in url_path or "\\" in url_path:
        return None
    relative = canonical_path(url_path).lstrip("/")
    candidate = (root / relative).resolve()
    if candidate != root and root not in candidate.parents:
        return None
    return candidate


class SiteServer:
    """A threading HTTP server for a built site, bound to loopback only."""

    def __init__(
        self, root: Path, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None
    ) -> None:
        check_loopback(host)
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"no site folder at {self.root}")
        self.host = host
        self.port = port
        self.faults = faults or Faults()
        self.requests: Counter[str] = Counter()
        self.log: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SiteServer:
        if self._httpd is not None:
            raise RuntimeError("server already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server_class = type("_Server", (_HTTPServer,), {"address_family": family})
        httpd = server_class((self.host, self.port), _Handler)
        httpd.site = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        log.info("serving %s at %s", self.root, self.base_url)
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # --- bookkeeping -------------------------------------------------------------------------

    @property
    def request_count(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.log.clear()

    def in_flight(self) -> int:
        """Requests that arrived and are not answered (logged) yet: slow ones, say."""
        with self._lock:
            return sum(self.requests.values()) - len(self.log)

    def _arrive(self, path: str) -> int:
        """Count a request; returns its attempt number for that path (0 = first)."""
        with self._lock:
            attempt = self.requests[path]
            self.requests[path] += 1
            return attempt

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self.log.append(record)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    site: SiteServer

    def handle_error(self, request: object, client_address: object) -> None:
        # A crawler that hangs up mid-answer (e.g. on a cut body) is not a server error.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer

    protocol_version = "HTTP/1.0"
    server_version = "BundledYindeng/1.0"

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    @property
    def site(self) -> SiteServer:
        return self.server.site

    def _serve(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path) or "/"
        site = self.site
        attempt = site._arrive(path)
        faults = site.faults.decide(path, attempt) if site.faults.active else []
        if "slow" in faults:
            time.sleep(site.faults.slow_seconds)
        reply = _plan(site, path, faults)
        # Record before answering, so a client that got its answer always finds it counted.
        site._record(RequestRecord(self.command, path, reply.status, tuple(faults)))
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(reply.length))
        self.end_headers()
        if not head:
            self.wfile.write(reply.body)
        if reply.length != len(reply.body):
            self.wfile.flush()
            self.close_connection = True


class _Reply(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    length: int  # the announced Content-Length; larger than the body for a cut answer


def _plain(status: int, text: str) -> _Reply:
    body = f"{status} {text}\n".encode()
    return _Reply(status, [("Content-Type", "text/plain; charset=utf-8")], body, len(body))


def _plan(site: SiteServer, path: str, faults: list[Fault]) -> _Reply:
    if "error" in faults:
        return _plain(500, "Internal Server Error")
    target = resolve(site.root, path)
    if target is not None and target.is_dir():
        if not path.endswith("/"):
            return _Reply(301, [("Location", quote(path) + "/")], b"", 0)
        target = target / "index.html"
    if target is None or not target.is_file() or "not_found" in faults:
        return _plain(404, "Not Found")
    body = target.read_bytes()
    headers = [("Content-Type", CONTENT_TYPES.get(target.suffix, "application/octet-stream"))]
    if "truncate" in faults:
        cut = body[: len(body) // 2]
        # PDFs are cut either way: a short body under the full length, or a consistent but
        # cut file (only its missing %%EOF tells); HTML always announces the full length.
        consistent = path.endswith(".pdf") and site.faults.draw("cut", path, 0) < 0.5
        return _Reply(200, headers, cut, len(cut) if consistent else len(body))
    return _Reply(200, headers, body, len(body))
