"""Downloader middlewares: retry with exponential backoff (Scrapy 2.19's RetryMiddleware retries at
once), a same-origin guard that also covers redirects, and per-stage request counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.task import deferLater

from npl_assets.crawler.urls import origin

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

RETRY_AFTER_MAX = 300.0


class OffsiteRedirect(IgnoreRequest):
    """A redirect to another origin: refused, and recorded by the request's errback."""


def backoff_delay(retry_times: int, base: float, cap: float) -> float:
    """Seconds to wait before the `retry_times`-th retry: base, 2*base, 4*base... up to cap."""
    if retry_times < 1 or base <= 0:
        return 0.0
    return min(cap, base * 2 ** (retry_times - 1))


def parse_retry_after(value: bytes | None) -> float | None:
    """Seconds from a Retry-After header in its delta-seconds form; HTTP dates are ignored."""
    if not value:
        return None
    try:
        seconds = float(value.decode("latin-1").strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware plus a wait before each retry (base * 2^(n-1), capped, or the server's
    Retry-After on 429/503 if longer). Also delays retries the spider asks for itself
    (`get_retry_request` for a truncated PDF), since they carry the same `retry_times` meta."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("NPL_RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("NPL_RETRY_BACKOFF_MAX", 60.0)

    def process_request(self, request: Request) -> Any:
        retry_times = request.meta.get("retry_times", 0)
        if not retry_times or request.meta.get("npl_backoff_for") == retry_times:
            return None
        request.meta["npl_backoff_for"] = retry_times  # a redirect keeps the meta: wait once
        delay = max(
            backoff_delay(retry_times, self.base, self.cap),
            request.meta.pop("npl_retry_after", 0.0),
        )
        if delay <= 0:
            return None
        return self._wait(delay)

    async def _wait(self, delay: float) -> None:
        from twisted.internet import reactor

        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("npl/backoff_seconds", delay)
        await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request) and response.status in (429, 503):
            after = parse_retry_after(response.headers.get(b"Retry-After"))
            if after:
                result.meta["npl_retry_after"] = min(after, RETRY_AFTER_MAX)
        return result


class SameOriginMiddleware:
    """Refuse any request or redirect to another scheme/host/port than the spider's source.

    Scrapy's OffsiteMiddleware lets retried requests through (they are `dont_filter`) and drops
    an offsite redirect silently at scheduling time, without calling the errback; this guard
    raises in the downloader, so the errback records the refusal."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SameOriginMiddleware:
        return cls(crawler)

    def _allowed(self) -> tuple[str, str, int] | None:
        return getattr(self.crawler.spider, "origin", None)

    def process_request(self, request: Request) -> None:
        allowed = self._allowed()
        if allowed is not None and origin(request.url) != allowed:
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("npl/refused_offsite")
            raise IgnoreRequest(f"refusing a request to another origin: {request.url}")

    def process_response(self, request: Request, response: Response) -> Response:
        allowed = self._allowed()
        location = response.headers.get(b"Location")
        if allowed is not None and 300 <= response.status < 400 and location:
            target = urljoin(request.url, location.decode("latin-1").strip())
            if origin(target) != allowed:
                if self.crawler.stats is not None:
                    self.crawler.stats.inc_value("npl/refused_offsite")
                raise OffsiteRedirect(
                    f"refusing a redirect (HTTP {response.status}) to another origin: {target}"
                )
        return response


class StageStatsMiddleware:
    """Count the requests that reach the network, by stage (index, detail, pdf, robots)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StageStatsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        stage = request.meta.get("npl_stage")
        if stage is None:
            stage = "robots" if urlparse_cached(request).path == "/robots.txt" else "other"
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"npl/requests/{stage}")
