"""Run the spiders from Python: each one as `python -m scrapy crawl <spider> -O part:jsonlines` in
a subprocess (Twisted's reactor cannot be restarted inside one process), one after the other so
the real site never sees two crawlers at once. The parts are joined into one JSON-lines file and
the counts come from the feed and from the stats each crawl writes (NPL_STATS_FILE).

With no source URL, the bundled site under `settings.site_dir()` is served on loopback for the
duration of the crawl."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from npl_assets import settings
from npl_assets.crawler.store import store_location
from npl_assets.crawler.urls import check_source_url

SPIDERS = ("listings", "results")
DEFAULT_TIMEOUT = 6 * 3600.0  # per spider; a first polite crawl of the real site takes hours
LOG_TAIL_LINES = 40


class CrawlError(RuntimeError):
    """A crawl subprocess failed, timed out or reported a bug; the message has its log tail."""


class SiteNotBuilt(FileNotFoundError):
    """No bundled site to serve."""


@dataclass(frozen=True)
class SpiderRun:
    spider: str
    documents: int
    failures: int
    requests: int  # every HTTP request sent, robots.txt and retries included
    index_requests: int
    detail_requests: int
    pdf_requests: int
    retries: int
    skipped_known: int
    finish_reason: str
    seconds: float
    stats: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_stats(
        cls, spider: str, stats: dict[str, Any], documents: int, failures: int, seconds: float
    ) -> SpiderRun:
        def count(key: str) -> int:
            return int(stats.get(key, 0) or 0)

        return cls(
            spider=spider,
            documents=documents,
            failures=failures,
            requests=count("downloader/request_count"),
            index_requests=count("npl/requests/index"),
            detail_requests=count("npl/requests/detail"),
            pdf_requests=count("npl/requests/pdf"),
            retries=count("retry/count"),
            skipped_known=count("npl/skipped_known"),
            finish_reason=str(stats.get("finish_reason") or stats.get("npl/close_reason")),
            seconds=round(seconds, 2),
            stats=stats,
        )


@dataclass(frozen=True)
class CrawlSummary:
    source_url: str
    out_file: Path
    runs: tuple[SpiderRun, ...]
    seconds: float

    def _sum(self, name: str) -> int:
        return sum(getattr(run, name) for run in self.runs)

    @property
    def documents(self) -> int:
        return self._sum("documents")

    @property
    def failures(self) -> int:
        return self._sum("failures")

    @property
    def requests(self) -> int:
        return self._sum("requests")

    @property
    def index_requests(self) -> int:
        return self._sum("index_requests")

    @property
    def detail_requests(self) -> int:
        return self._sum("detail_requests")

    @property
    def pdf_requests(self) -> int:
        return self._sum("pdf_requests")

    @property
    def retries(self) -> int:
        return self._sum("retries")

    @property
    def complete(self) -> bool:
        """False if a spider stopped at its time limit (the next run carries on)."""
        return all(run.finish_reason == "finished" for run in self.runs)

    def format(self) -> str:
        lines = [f"crawled {self.source_url} in {self.seconds:.1f} s -> {self.out_file}"]
        for run in self.runs:
            lines.append(
                f"  {run.spider}: {run.documents} documents, {run.failures} failures, "
                f"{run.requests} requests ({run.index_requests} index, {run.detail_requests} "
                f"detail, {run.pdf_requests} PDF, {run.retries} retries), "
                f"{run.skipped_known} known items skipped, {run.seconds:.1f} s, "
                f"{run.finish_reason}"
            )
        return "\n".join(lines)


@contextmanager
def bundled_site(root: Path | None = None) -> Iterator[str]:
    """Serve the built bundled site (at `root`, default the checkout's) on a free loopback
    port; yields its base URL."""
    root = root or settings.site_dir()
    if not (root / "manifest.json").is_file():
        raise SiteNotBuilt(
            f"no bundled site at {root}: run `npl site build` first "
            "(or pass a source URL / set NPL_SOURCE_URL)"
        )
    from npl_assets.site.server import SiteServer

    with SiteServer(root, port=0) as server:
        yield server.base_url


def run_crawl(
    source_url: str | None,
    out_file: Path,
    raw_dir: Path | str,
    known_file: Path | None = None,
    spiders: Sequence[str] = SPIDERS,
    extra_settings: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    log_dir: Path | None = None,
    site_dir: Path | None = None,
) -> CrawlSummary:
    """Crawl `spiders` from `source_url` (None: the bundled site on loopback) into the store at
    `raw_dir`, writing every document and failure row to `out_file` (JSON lines). `timeout` is
    per spider: the spider closes gracefully shortly before it (keeping what it fetched; the next
    run carries on) and is killed at it. `log_dir` keeps each spider's log as <spider>.log;
    `site_dir` is the bundled site to serve when there is no `source_url`."""
    spiders = tuple(spiders)
    if not spiders or len(set(spiders)) != len(spiders) or not set(spiders) <= set(SPIDERS):
        raise ValueError(f"spiders must be distinct names from {SPIDERS}, got {spiders}")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    if known_file is not None and not Path(known_file).is_file():
        raise FileNotFoundError(f"known-URL file not found: {known_file}")
    started = time.perf_counter()
    if source_url is None:
        site = bundled_site(site_dir)
    else:
        site = nullcontext(check_source_url(source_url))
    with site as url, tempfile.TemporaryDirectory(prefix="npl-crawl-") as tmp_name:
        tmp = Path(tmp_name)
        parts = [tmp / f"{spider}.jsonl" for spider in spiders]

        def run_one(spider: str, part: Path) -> SpiderRun:
            log_file = (Path(log_dir) if log_dir else tmp) / f"{spider}.log"
            return _run_spider(
                spider,
                url,
                part,
                tmp / f"{spider}.stats.json",
                log_file,
                raw_dir,
                known_file,
                extra_settings or {},
                timeout,
            )

        if len(spiders) > 1 and not _polite(url, extra_settings or {}):
            # A loopback source: both spiders at once (each is mostly Scrapy's start-up and
            # waiting). The real site is crawled one spider after the other, politely.
            with ThreadPoolExecutor(len(spiders)) as pool:
                runs = list(pool.map(run_one, spiders, parts))
        else:
            runs = [run_one(spider, part) for spider, part in zip(spiders, parts, strict=True)]
        _join(parts, Path(out_file))
    return CrawlSummary(url, Path(out_file), tuple(runs), round(time.perf_counter() - started, 2))


def _polite(url: str, extra_settings: dict[str, Any]) -> bool:
    """Whether the spiders will crawl `url` politely (crawler/policy.py decides it inside each
    spider from the same two settings)."""
    from npl_assets.crawler.policy import is_polite

    mode = extra_settings.get("NPL_POLITE") or os.environ.get("NPL_POLITE") or "auto"
    return is_polite(url, str(mode))


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def loopback_bypasses_proxy(environ: Mapping[str, str]) -> dict[str, str]:
    """no_proxy / NO_PROXY with the loopback names added: a proxy set for the real site (or for
    a package registry) must never carry the bundled site's loopback traffic off the machine."""
    current = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
    names = [n.strip() for n in current.split(",") if n.strip()]
    names += [n for n in LOOPBACK_NAMES if n not in names]
    value = ",".join(names)
    return {"no_proxy": value, "NO_PROXY": value}


def scrapy_command(spider: str, part: Path, crawl_settings: dict[str, Any]) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-O", f"{part}:jsonlines"]
    for name, value in crawl_settings.items():
        text = json.dumps(value) if isinstance(value, dict | list | bool) else str(value)
        command += ["-s", f"{name}={text}"]
    return command


def _run_spider(
    spider: str,
    url: str,
    part: Path,
    stats_file: Path,
    log_file: Path,
    raw_dir: Path | str,
    known_file: Path | None,
    extra_settings: dict[str, Any],
    timeout: float,
) -> SpiderRun:
    crawl_settings: dict[str, Any] = {
        "NPL_SOURCE_URL": url,
        "NPL_RAW_DIR": store_location(raw_dir),
        "NPL_STATS_FILE": str(stats_file),
        # Close gracefully before the hard limit, so the feed keeps what was fetched.
        "CLOSESPIDER_TIMEOUT": max(1, int(timeout - min(60.0, timeout * 0.1))),
    }
    if known_file is not None:
        crawl_settings["NPL_KNOWN_FILE"] = str(Path(known_file).resolve())
    crawl_settings.update(extra_settings)
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "npl_assets.crawler.settings",
        **loopback_bypasses_proxy(os.environ),
    }
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log_file.open("wb") as log:
        try:
            completed = subprocess.run(
                scrapy_command(spider, part, crawl_settings),
                cwd=settings.PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise CrawlError(
                f"crawl of {spider} did not finish within {timeout:.0f} s (killed)\n"
                + _tail(log_file)
            ) from None
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise CrawlError(
            f"crawl of {spider} failed (exit code {completed.returncode})\n" + _tail(log_file)
        )
    if not stats_file.is_file():
        raise CrawlError(f"crawl of {spider} wrote no stats\n" + _tail(log_file))
    stats = json.loads(stats_file.read_text(encoding="utf-8"))
    _check_stats(spider, stats, log_file)
    documents, failures = count_rows(part)
    return SpiderRun.from_stats(spider, stats, documents, failures, seconds)


def _check_stats(spider: str, stats: dict[str, Any], log_file: Path) -> None:
    reason = stats.get("finish_reason") or stats.get("npl/close_reason")
    problems = []
    if reason not in ("finished", "closespider_timeout"):
        problems.append(f"closed with reason {reason!r}")
    errors = {k: v for k, v in stats.items() if k.startswith("spider_exceptions/")}
    if errors:
        problems.append(f"spider exceptions {errors}")
    if reason == "finished" and stats.get("npl/unfinished_pdfs"):
        problems.append(f"{stats['npl/unfinished_pdfs']} PDFs neither stored nor failed")
    if problems:
        raise CrawlError(f"crawl of {spider}: " + "; ".join(problems) + "\n" + _tail(log_file))


def count_rows(path: Path) -> tuple[int, int]:
    """(documents, failures) in a crawl feed; index counts are skipped, any other row is an
    error."""
    documents = failures = 0
    if not path.is_file():
        return 0, 0
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            kind = json.loads(line).get("kind")
            if kind == "document":
                documents += 1
            elif kind == "failure":
                failures += 1
            elif kind != "index_count":
                raise CrawlError(f"{path}:{number}: row of unknown kind {kind!r}")
    return documents, failures


def _join(parts: list[Path], out_file: Path) -> None:
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(f".{out_file.name}.part")
    with tmp.open("wb") as out:
        for part in parts:
            if part.is_file():
                out.write(part.read_bytes())
    os.replace(tmp, out_file)


def _tail(log_file: Path) -> str:
    if not log_file.is_file():
        return "(no log)"
    lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(lines[-LOG_TAIL_LINES:])
