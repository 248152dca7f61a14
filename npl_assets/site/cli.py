"""`npl site build | serve | check`: build the bundled site, serve it on loopback, smoke-test it."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
import urllib.request
from pathlib import Path

from npl_assets import settings

# Without the shared dataset, `npl site build` still gives a usable site of this size.
FALLBACK_SYNTHETIC_LISTINGS = 300


def register(subparsers: argparse._SubParsersAction) -> None:
    site = subparsers.add_parser("site", help="the bundled Yindeng site (build, serve, check)")
    commands = site.add_subparsers(dest="site_command", required=True)

    build = commands.add_parser("build", help="generate the site from the 2023 dataset")
    build.add_argument("--out", type=Path, default=None, help="output folder (default: site dir)")
    build.add_argument("--synthetic", type=int, metavar="N", help="N synthetic listings instead")
    build.add_argument("--seed", type=int, default=0, help="seed for --synthetic (default 0)")
    build.add_argument("--workers", type=int, default=None, help="PDF rendering processes")
    build.add_argument("--force", action="store_true", help="rebuild even if already built")
    build.set_defaults(func=build_command)

    serve = commands.add_parser("serve", help="serve a built site on 127.0.0.1")
    serve.add_argument("--dir", type=Path, default=None, help="site folder (default: site dir)")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = free)")
    serve.add_argument("--error-rate", type=float, default=0.0, help="share of HTTP 500s")
    serve.add_argument("--slow-rate", type=float, default=0.0, help="share of slow answers")
    serve.add_argument("--slow-seconds", type=float, default=1.0, help="delay of a slow answer")
    serve.add_argument("--truncate-rate", type=float, default=0.0, help="share of cut bodies")
    serve.add_argument("--not-found-rate", type=float, default=0.0, help="share of PDFs 404")
    serve.add_argument("--seed", type=int, default=0, help="seed of the fault decisions")
    serve.set_defaults(func=serve_command)

    check = commands.add_parser("check", help="serve briefly and fetch both index pages")
    check.add_argument("--dir", type=Path, default=None, help="site folder (default: site dir)")
    check.set_defaults(func=check_command)


def build_command(args: argparse.Namespace) -> int:
    from npl_assets.site.build import MANIFEST, build_site
    from npl_assets.site.source import SiteDataMissing

    out = (args.out or settings.site_dir()).resolve()
    if (out / MANIFEST).is_file() and not args.force:
        print(f"site already built at {out}; use --force to rebuild")
        return 0
    synthetic = args.synthetic
    # Rendering takes 5-15 s: say so before, not only after.
    print(f"building the bundled site into {out} ...", flush=True)
    if synthetic is None:
        shared = settings.shared_dir()
        try:
            summary = build_site(out, shared_dir=shared, workers=args.workers)
        except SiteDataMissing as exc:
            print(f"shared folder is missing: {exc}")
            print(
                f"falling back to a synthetic site of {FALLBACK_SYNTHETIC_LISTINGS} listings "
                f"(seed {args.seed})"
            )
            synthetic = FALLBACK_SYNTHETIC_LISTINGS
    if synthetic is not None:
        summary = build_site(out, synthetic=synthetic, seed=args.seed, workers=args.workers)
    kind = "synthetic" if summary["synthetic"] else "2023 dataset"
    print(
        f"built {kind} site at {summary['out_dir']}: {summary['listings']} listings "
        f"({summary['listing_pages']} index pages), {summary['results']} results "
        f"({summary['result_pages']} index pages), {summary['pdfs']} PDFs "
        f"({summary['real_samples']} real samples) in {summary['seconds']:.1f} s"
    )
    return 0


def serve_command(args: argparse.Namespace) -> int:
    from npl_assets.site.server import Faults, SiteServer

    root = (args.dir or settings.site_dir()).resolve()
    if not (root / "manifest.json").is_file():
        print(f"no bundled site at {root}; run `npl site build` first", file=sys.stderr)
        return 1
    faults = Faults(
        error_rate=args.error_rate,
        slow_rate=args.slow_rate,
        slow_seconds=args.slow_seconds,
        truncate_rate=args.truncate_rate,
        not_found_rate=args.not_found_rate,
        seed=args.seed,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with SiteServer(root, host=args.host, port=args.port, faults=faults) as server:
        print(f"serving {root} at {server.base_url}/ (Ctrl-C to stop)", flush=True)
        while not stop.wait(0.5):
            pass
        print(f"stopped after {server.request_count} requests", flush=True)
    return 0


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def smoke_check(site_dir: Path) -> str:
    """Serve the site on a free loopback port, fetch both index first pages and summarise."""
    from npl_assets.site.layout import PAGE_SIZE, SECTION_DIRS, SECTION_NAMES, total_pages
    from npl_assets.site.server import SiteServer

    lines = []
    with SiteServer(site_dir) as server:
        for doc_type, section in SECTION_DIRS.items():
            html = _fetch(f"{server.base_url}/{section}/index.html")
            total = re.search(r'<span id="pageTotal">共(\d+)条</span>', html)
            if total is None:
                raise ValueError(f"{section}/index.html has no span#pageTotal")
            items = html.count('class="rightListContent list-item"')
            count = int(total.group(1))
            if count and not 0 < items <= PAGE_SIZE:
                raise ValueError(f"{section}/index.html lists {items} items")
            lines.append(
                f"{SECTION_NAMES[doc_type]} ({doc_type}): {count} items on "
                f"{total_pages(count)} pages, {items} on the first page"
            )
        lines.append(f"served from {server.base_url} ({server.request_count} requests)")
    return "\n".join(lines)


def check_command(args: argparse.Namespace) -> int:
    root = (args.dir or settings.site_dir()).resolve()
    if not (root / "manifest.json").is_file():
        print(f"no bundled site at {root}; run `npl site build` first", file=sys.stderr)
        return 1
    print(smoke_check(root))
    return 0
