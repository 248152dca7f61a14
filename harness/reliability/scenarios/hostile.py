"""A hostile site on loopback: offsite links, `..` paths, javascript: and mailto: links, an
absurd pageTotal, index pages that loop back onto page 1, a redirect ring, redirects to another
host, a PDF link to another host and an HTML body where a PDF should be.

The spiders crawl it as `npl crawl` does (a Scrapy subprocess per section). Every "other host" is
a name under .example that the spider must refuse before connecting; to prove that it never
tries, the crawl runs with http(s)_proxy pointing at a loopback trap that records any connection
(loopback itself bypasses the proxy), so no request can leave the machine either way.

Checks: the crawl finishes; the site sees only the expected paths, each a bounded number of
times; the trap sees no connection; the two good documents are stored; and each hostile item has
a failure row whose reason says what was refused."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

LISTINGS = "/xxpl/xxpl_bldkzr/bldkzr_zrgg/"
RESULTS = "/xxpl/xxpl_bldkzr/bldkzr_zrjggg/"
EVIL = "evil.example"
MAX_REQUESTS = 80
MAX_PER_PATH = 8


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    location: str | None = None


@dataclass(frozen=True)
class Hostility:
    """One hostile item: its link on the index page and what its failure reason must say."""

    name: str
    href: str
    reason: str  # a fragment of the failure row's error


def _item(href: str, number: int) -> str:
    title = (
        f"测试银行股份有限公司关于2023年第{number}期个人消费信用不良贷款转让项目不良贷款转让公告"
    )
    return (
        '<div class="rightListContent list-item">'
        f'<span class="rightListImport unlock list-content"><a href="{href}" title="{title}">'
        f'{title}</a></span><span class="rightListTime data-time">2023-12-07</span></div>'
    )


def index_page(total: int, hrefs: list[str]) -> bytes:
    items = "".join(_item(href, n) for n, href in enumerate(hrefs, 1))
    return (
        "<html><body><div class='list'><ul class='list-box'>"
        f"{items}</ul><span id='pageTotal'>共{total}条</span></div></body></html>"
    ).encode()


def detail_page(pdf_href: str) -> bytes:
    return (
        "<html><body><div class='news_info_box'><h1>公告</h1>"
        "<div class='attach_main attachment'><div class='attach_file'>"
        f"<a href='{pdf_href}'>附件.pdf</a></div></div></div></body></html>"
    ).encode()


HOSTILE_ITEMS = (
    Hostility("offsite link", f"http://{EVIL}{LISTINGS}202312/t20231207_0002.html", "offsite"),
    Hostility("protocol-relative offsite link", f"//{EVIL}/202312/t20231207_0003.html", "offsite"),
    Hostility("dot-dot path", "../../../etc/passwd", "'..'"),
    Hostility("dot-dot inside a path", "./202312/../../../../secret/t_0005.html", "'..'"),
    Hostility("javascript link", "javascript:alert(document.cookie)", "javascript"),
    Hostility("mailto link", "mailto:victim@example.com", "mailto"),
    Hostility("link outside the section", "/other/202312/t20231207_0014.html", "outside"),
)
# Items whose detail page or PDF misbehaves: detail number -> (what, reason fragment)
DETAIL_TRAPS = {
    7: ("PDF link to another host", "offsite"),
    8: ("PDF redirected to another host", "another origin"),
    9: ("detail page redirected to another host", "another origin"),
    10: ("HTML body where a PDF should be", "PDF"),
    11: ("redirect ring between two detail pages", "redirect"),
}


def _detail(number: int) -> str:
    return f"{LISTINGS}202312/t20231207_{number:04d}.html"


def _pdf(number: int) -> str:
    return f"{LISTINGS}202312/P02023120700000000{number:04d}.pdf"


def build_routes(listing_pdf: bytes, result_pdf: bytes) -> dict[str, Reply]:
    routes: dict[str, Reply] = {
        "/robots.txt": Reply(200, b"User-agent: *\nAllow: /\n", "text/plain")
    }
    good = [f"./202312/t20231207_{1:04d}.html"]
    traps = [f"./202312/t20231207_{n:04d}.html" for n in DETAIL_TRAPS]
    first_page = good + [h.href for h in HOSTILE_ITEMS] + traps
    # 30 items, 3 pages: page 2 lists page 1 again, page 3 redirects back to page 1.
    routes[LISTINGS + "index.html"] = Reply(200, index_page(30, first_page))
    routes[LISTINGS + "index_2.html"] = Reply(200, index_page(30, first_page))
    routes[LISTINGS + "index_1.html"] = Reply(302, location=LISTINGS + "index.html")
    routes[_detail(1)] = Reply(200, detail_page(f"./{Path(_pdf(1)).name}"))
    routes[_pdf(1)] = Reply(200, listing_pdf, "application/pdf")
    routes[_detail(7)] = Reply(200, detail_page(f"http://{EVIL}/P020231207000000000007.pdf"))
    routes[_detail(8)] = Reply(200, detail_page(f"./{Path(_pdf(8)).name}"))
    routes[_pdf(8)] = Reply(302, location=f"http://{EVIL}/stolen.pdf")
    routes[_detail(9)] = Reply(302, location=f"http://{EVIL}/detail.html")
    routes[_detail(10)] = Reply(200, detail_page(f"./{Path(_pdf(10)).name}"))
    routes[_pdf(10)] = Reply(200, b"<html><body>Session expired</body></html>", "application/pdf")
    routes[_detail(11)] = Reply(302, location=_detail(12))
    routes[_detail(12)] = Reply(302, location=_detail(11))
    # Results: an absurd item count; page 1 still holds one good result.
    routes[RESULTS + "index.html"] = Reply(
        200, index_page(999_999_999, ["./202312/t20231211_0001.html"])
    )
    result_pdf_path = RESULTS + "202312/P020231211000000000001.pdf"
    routes[RESULTS + "202312/t20231211_0001.html"] = Reply(
        200, detail_page(f"./{Path(result_pdf_path).name}")
    )
    routes[result_pdf_path] = Reply(200, result_pdf, "application/pdf")
    return routes


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        with self.server.lock:
            self.server.requests.append(path)
        reply = self.server.routes.get(path, Reply(404, b"not found", "text/plain"))
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        if reply.location:
            self.send_header("Location", reply.location)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Reply]
    requests: list[str]
    lock: threading.Lock


class LoopbackServer:
    """A tiny http.server for `routes` on 127.0.0.1, recording every requested path."""

    def __init__(self, routes: dict[str, Reply]) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.routes = routes
        self.httpd.requests = []
        self.httpd.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def requests(self) -> list[str]:
        with self.httpd.lock:
            return list(self.httpd.requests)

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class ConnectionTrap:
    """A loopback listener that records every connection made to it (the proxy for any host
    that is not loopback): if the spider ever tried to reach another host, it would land here."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.connections: list[str] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    first = conn.recv(1024).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    first = "(no request line)"
                self.connections.append(first)

    def __enter__(self) -> ConnectionTrap:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


@dataclass
class HostileResult:
    requests: int = 0
    by_path: dict[str, int] = field(default_factory=dict)
    trapped: list[str] = field(default_factory=list)
    documents: int = 0
    refusals: dict[str, str] = field(default_factory=dict)  # hostile item -> failure reason
    finish: str = ""
    problems: list[str] = field(default_factory=list)


def proxy_environment(trap_url: str) -> dict[str, str]:
    loopback = "127.0.0.1,localhost,::1"
    return {
        "http_proxy": trap_url,
        "https_proxy": trap_url,
        "HTTP_PROXY": trap_url,
        "HTTPS_PROXY": trap_url,
        "no_proxy": loopback,
        "NO_PROXY": loopback,
    }


def run_hostile_scenario(work: Path, listing_pdf: bytes, result_pdf: bytes) -> HostileResult:
    import json

    from harness.isolation import environment
    from npl_assets.crawler.runner import run_crawl

    work.mkdir(parents=True, exist_ok=True)
    result = HostileResult()
    routes = build_routes(listing_pdf, result_pdf)
    feed = work / "hostile.jsonl"
    with ConnectionTrap() as trap, LoopbackServer(routes) as site:
        with environment(**proxy_environment(trap.url)):
            summary = run_crawl(
                site.base_url,
                feed,
                work / "raw",
                extra_settings={"DOWNLOAD_TIMEOUT": 5},
                timeout=300,
                log_dir=work,
            )
        requested = site.requests
    result.trapped = list(trap.connections)
    result.requests = len(requested)
    result.by_path = dict(Counter(requested))
    result.finish = ", ".join(f"{r.spider}: {r.finish_reason}" for r in summary.runs)
    rows = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines() if line]
    documents = [r for r in rows if r["kind"] == "document"]
    failures = [r for r in rows if r["kind"] == "failure"]
    result.documents = len(documents)
    problems = result.problems
    if not summary.complete:
        problems.append(f"the crawl did not finish: {result.finish}")
    if result.trapped:
        problems.append(f"connections to other hosts were attempted: {result.trapped}")
    unexpected = sorted(set(requested) - set(routes))
    if unexpected:
        problems.append(f"requests outside the site's pages: {unexpected}")
    if result.requests > MAX_REQUESTS:
        problems.append(f"{result.requests} requests, more than {MAX_REQUESTS}")
    hammered = {p: n for p, n in result.by_path.items() if n > MAX_PER_PATH}
    if hammered:
        problems.append(f"paths requested too often: {hammered}")
    stored = sorted(urlsplit(r["pdf_url"]).path for r in documents)
    good = sorted([_pdf(1), RESULTS + "202312/P020231211000000000001.pdf"])
    if stored != good:
        problems.append(f"stored {stored}, expected exactly the good PDFs {good}")
    reasons = [f["error"] for f in failures]
    for hostile in HOSTILE_ITEMS:
        match = [r for r in reasons if hostile.href in r and hostile.reason in r]
        if match:
            result.refusals[hostile.name] = match[0]
        else:
            problems.append(f"{hostile.name} ({hostile.href}) has no failure row saying why")
    for number, (name, fragment) in DETAIL_TRAPS.items():
        urls = {_detail(number), _pdf(number)}
        match = [
            f["error"]
            for f in failures
            if urlsplit(f["url"]).path in urls and fragment.lower() in f["error"].lower()
        ]
        if match:
            result.refusals[name] = match[0]
        else:
            problems.append(f"{name}: no failure row saying {fragment!r}")
    absurd = [r for r in reasons if "NPL_MAX_PAGES" in r]
    if absurd:
        result.refusals["absurd pageTotal"] = absurd[0]
    else:
        problems.append("the absurd pageTotal has no failure row")
    logs = "".join(p.read_text(errors="replace") for p in work.glob("*.log"))
    if "refusing" not in logs:
        problems.append("the spider logs do not mention any refusal")
    return result
