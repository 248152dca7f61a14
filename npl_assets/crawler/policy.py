"""Politeness by target: settings.py holds the polite profile for the real site; a loopback
source (the bundled site) gets the fast profile unless NPL_POLITE says otherwise.

    NPL_POLITE=auto  polite, unless the source host is loopback (default)
    NPL_POLITE=on    always polite
    NPL_POLITE=off   fast; refused for anything but a loopback source

Applied from the spiders' `update_settings`, once every -s option is known. The values are set
just above "project" priority: `scrapy crawl` merges the project settings into the crawler again
after `update_settings` (equal priority would lose), and an explicit `-s DOWNLOAD_DELAY=...`
("cmdline") or a spider's custom_settings still wins."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

from npl_assets.crawler.urls import is_loopback_host

POLITE_MODES = ("auto", "on", "off")
PRIORITY = 25  # between "project" (20) and "spider" (30)

FAST_PROFILE: dict[str, object] = {
    "DOWNLOAD_DELAY": 0.0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "NPL_RETRY_BACKOFF_BASE": 0.05,
    "NPL_RETRY_BACKOFF_MAX": 0.5,
}


def is_polite(source_url: str, mode: str) -> bool:
    mode = (mode or "auto").strip().lower()
    if mode not in POLITE_MODES:
        raise ValueError(f"NPL_POLITE must be one of {POLITE_MODES}, got {mode!r}")
    loopback = is_loopback_host(urlsplit(source_url or "").hostname)
    if mode == "off" and not loopback:
        raise ValueError(
            f"NPL_POLITE=off is only allowed for a loopback source, not {source_url!r}: "
            "a real site is always crawled politely"
        )
    return mode == "on" or (mode == "auto" and not loopback)


def apply_policy(settings: BaseSettings) -> None:
    polite = is_polite(settings.get("NPL_SOURCE_URL") or "", settings.get("NPL_POLITE", "auto"))
    if not polite:
        for name, value in FAST_PROFILE.items():
            settings.set(name, value, priority=PRIORITY)
    # A PDF larger than the limit is cancelled by the downloader itself, unless DOWNLOAD_MAXSIZE
    # was set explicitly with a higher priority.
    max_pdf = settings.getint("NPL_MAX_PDF_BYTES")
    if max_pdf > 0:
        priority = max(PRIORITY, settings.getpriority("NPL_MAX_PDF_BYTES") or 0)
        settings.set("DOWNLOAD_MAXSIZE", max_pdf, priority=priority)
        if settings.getint("DOWNLOAD_WARNSIZE") > max_pdf:
            settings.set("DOWNLOAD_WARNSIZE", max_pdf, priority=priority)
    settings.set("NPL_POLITE_ACTIVE", polite, priority="cmdline")
