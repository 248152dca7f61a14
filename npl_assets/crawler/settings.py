"""Scrapy settings of the crawler (`scrapy.cfg` points here).

The values below are the polite profile meant for the real site. For a loopback source (the
bundled site) the spiders switch to a fast profile (see policy.py, setting NPL_POLITE).
Override anything with `-s NAME=value`."""

from __future__ import annotations

import os

from npl_assets import settings as npl_settings
from npl_assets.domain import MAX_PDF_BYTES

try:
    from importlib.metadata import version

    _VERSION = version("npl-assets")
except Exception:  # not installed as a distribution: run from a checkout
    _VERSION = "0.1.0"

BOT_NAME = "npl_assets"
SPIDER_MODULES = ["npl_assets.crawler.spiders"]
NEWSPIDER_MODULE = "npl_assets.crawler.spiders"

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
USER_AGENT = (
    f"npl-assets/{_VERSION} (NPL disclosure research crawler; one request at a time; "
    "obeys robots.txt)"
)
LOG_LEVEL = "INFO"

# --- where and what --------------------------------------------------------------------------
NPL_SOURCE_URL = npl_settings.source_url() or ""  # env NPL_SOURCE_URL; empty: refuse to start
NPL_PATH_FAMILY = os.environ.get("NPL_PATH_FAMILY", "new")  # new (/xxpl/...) or old (/ywzq/...)
NPL_KNOWN_FILE = ""  # known detail/PDF URLs, one a line: skipped, and paging stops at them
NPL_STOP_AT_KNOWN_PAGE = True
NPL_RAW_DIR = str(npl_settings.raw_dir())
NPL_MAX_PDF_BYTES = MAX_PDF_BYTES
# A bound against an absurd 共N条 (a failure row says when it is hit): 1,000 pages are 10,000
# items, twice the real listing index of April 2026. A bigger site raises it (env or -s).
NPL_MAX_PAGES = int(os.environ.get("NPL_MAX_PAGES", "1000"))
NPL_STATS_FILE = ""  # final stats as JSON, for the runner
NPL_POLITE = os.environ.get("NPL_POLITE", "auto")  # auto | on | off (loopback only)

# --- politeness (real site) -------------------------------------------------------------------
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 4
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 2.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 3.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# --- retries and limits -----------------------------------------------------------------------
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 408, 429]
# A final failure becomes a failure row; the log need not shout about it.
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"
NPL_RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry, doubled each time
NPL_RETRY_BACKOFF_MAX = 60.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = NPL_MAX_PDF_BYTES  # kept equal to NPL_MAX_PDF_BYTES by policy.py
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True  # a cut transfer is an error (and retried), never a short body
REDIRECT_MAX_TIMES = 5
# Items per response processed in parallel. A response yields one or two items here; Scrapy's
# default of 100 sets up 100 asyncio tasks per response, a tenth of a loopback crawl's time.
CONCURRENT_ITEMS = 16
# The spiders request each index page, detail page and PDF once by themselves. Scrapy's duplicate
# filter would silently drop a redirect back to a URL already requested (a redirect ring, an index
# page redirected to another one): no errback, so no failure row. Without it such a chain runs
# into REDIRECT_MAX_TIMES and is recorded as failed.
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"
METAREFRESH_ENABLED = False  # the site needs none, and it would bypass the redirect guard
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False  # no listening ports
REMOTE_CONTROL_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "npl_assets.crawler.middlewares.BackoffRetryMiddleware": 550,
    "npl_assets.crawler.middlewares.SameOriginMiddleware": 650,
    "npl_assets.crawler.middlewares.StageStatsMiddleware": 860,
}
ITEM_PIPELINES = {"npl_assets.crawler.pipelines.StorePipeline": 300}
STATS_CLASS = "npl_assets.crawler.extensions.JsonFileStatsCollector"

FEED_EXPORT_ENCODING = "utf-8"
