"""`npl crawl`: crawl the listing and result indexes into the PDF store and a JSON-lines file."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from npl_assets import settings

SPIDER_CHOICES = {
    "listings": ("listings",),
    "results": ("results",),
    "all": ("listings", "results"),
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "crawl",
        help="crawl the Yindeng listing/result indexes into the PDF store",
        description=(
            "Crawl the listing (转让公告) and result (转让结果公告) indexes newest first, "
            "store each new PDF by sha256 and write one JSON line per document or failure. "
            "Without --source "
            "and NPL_SOURCE_URL the bundled site is served on loopback (build it with "
            "`npl site build`)."
        ),
    )
    parser.add_argument("--source", help="base URL to crawl (default: $NPL_SOURCE_URL)")
    parser.add_argument("--spider", choices=sorted(SPIDER_CHOICES), default="all")
    parser.add_argument(
        "--out", type=Path, help="JSON-lines output (default: data/crawl/crawl-<UTC time>.jsonl)"
    )
    parser.add_argument(
        "--known", type=Path, help="file of known detail/PDF URLs, one a line: skipped"
    )
    parser.add_argument("--raw-dir", type=Path, help="PDF store (default: $NPL_RAW_DIR, data/raw)")
    parser.add_argument("--path-family", choices=["new", "old"], help="URL family (default new)")
    parser.add_argument(
        "--full-walk",
        action="store_true",
        help="read every index page, even past a page whose items are all known",
    )
    parser.add_argument("--timeout", type=float, help="seconds per spider (default 6 h)")
    parser.add_argument(
        "-s",
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra Scrapy setting, e.g. -s DOWNLOAD_TIMEOUT=10 (repeatable)",
    )
    parser.set_defaults(func=handle)


def parse_settings(pairs: list[str]) -> dict[str, str]:
    extra = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"expected NAME=VALUE, got {pair!r}")
        extra[name.strip()] = value
    return extra


def handle(args: argparse.Namespace) -> int:
    from npl_assets.crawler.runner import DEFAULT_TIMEOUT, CrawlError, SiteNotBuilt, run_crawl

    try:
        extra: dict[str, Any] = parse_settings(args.set)
    except ValueError as exc:
        print(f"npl crawl: {exc}", file=sys.stderr)
        return 2
    if args.path_family:
        extra["NPL_PATH_FAMILY"] = args.path_family
    if args.full_walk:
        extra["NPL_STOP_AT_KNOWN_PAGE"] = False
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or settings.data_dir() / "crawl" / f"crawl-{stamp}.jsonl"
    try:
        summary = run_crawl(
            args.source or settings.source_url(),
            out,
            args.raw_dir or settings.raw_dir(),
            known_file=args.known,
            spiders=SPIDER_CHOICES[args.spider],
            extra_settings=extra,
            timeout=args.timeout or DEFAULT_TIMEOUT,
        )
    except (CrawlError, SiteNotBuilt, FileNotFoundError, ValueError) as exc:
        print(f"npl crawl: {exc}", file=sys.stderr)
        return 1
    print(summary.format())
    if summary.failures:
        print(f"{summary.failures} URLs failed; their reasons are the failure rows in {out}")
    if not summary.complete:
        print("stopped at the time limit; the next run carries on")
    return 0
