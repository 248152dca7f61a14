"""`npl bench`: the parse throughput measurement that ships with the product.

`npl bench parse [--dir DIR] [--limit N]` parses every PDF under DIR (default: the built site,
else the two real samples) in one process and prints documents per second per core for listing
and result PDFs, beside the bare PDFium text-extraction rate of the same files and their ratio
(how much of the budget the label parsing adds on top of extraction).

The whole benchmark suite (crawl, parse, load, dbt, checks, publish, no-op run, memory, scaling
and freshness latency) is part of the harness, not the product: `make bench`, i.e.
`python -m harness.benchmarks [--listings N ...]` from a checkout.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from npl_assets import settings

# Small folders are measured repeatedly until this much time has passed, for a stable rate.
MIN_SECONDS = 1.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="throughput benchmarks")
    sub = parser.add_subparsers(dest="bench_command", required=True)
    parse = sub.add_parser(
        "parse",
        help="PDF parse rate (documents/s/core) vs bare text extraction",
        description=__doc__,
    )
    parse.add_argument("--dir", type=Path, default=None, help="folder searched recursively")
    parse.add_argument("--limit", type=int, default=None, help="at most N PDFs")
    parse.set_defaults(func=run_parse_bench)


def default_dir() -> Path:
    site = settings.site_dir()
    if site.is_dir() and next(site.rglob("*.pdf"), None) is not None:
        return site
    return settings.shared_dir() / "domain" / "samples"


@dataclass
class Rates:
    docs: int = 0
    parse_seconds: float = 0.0
    extract_seconds: float = 0.0

    def line(self, label: str) -> str:
        parse = self.docs / self.parse_seconds if self.parse_seconds else 0.0
        extract = self.docs / self.extract_seconds if self.extract_seconds else 0.0
        ratio = parse / extract if extract else 0.0
        return f"{label:<8} {self.docs:>6} {parse:>14.1f} {extract:>16.1f} {ratio:>14.2f}"


def _timed(fn: Callable[[bytes], object], data: bytes) -> float:
    start = time.perf_counter()
    try:
        fn(data)
    except Exception:  # failures are counted in the classification pass, not here
        pass
    return time.perf_counter() - start


def bench_parse(files: list[Path]) -> tuple[dict[str, Rates], list[str]]:
    """Per document type: documents, total parse seconds, total extraction seconds."""
    from npl_assets.parsing import extract_text, parse_pdf
    from npl_assets.parsing.errors import ParseError

    blobs = [(path, path.read_bytes()) for path in files]
    kinds: list[str] = []
    failures: list[str] = []
    for path, data in blobs:  # classification pass; also warms caches and compiled regexes
        try:
            kinds.append(parse_pdf(data, name=str(path)).document_type)
        except ParseError as exc:
            kinds.append("failed")
            failures.append(f"{type(exc).__name__}: {exc}")
    rates: dict[str, Rates] = defaultdict(Rates)
    started = time.perf_counter()
    while True:
        for (_, data), kind in zip(blobs, kinds, strict=True):
            rate = rates[kind]
            rate.docs += 1
            rate.parse_seconds += _timed(parse_pdf, data)
            rate.extract_seconds += _timed(extract_text, data)
        if time.perf_counter() - started >= MIN_SECONDS or not blobs:
            break
    return dict(rates), failures


def run_parse_bench(args: argparse.Namespace) -> int:
    folder = args.dir or default_dir()
    files = sorted(folder.rglob("*.pdf"))
    if args.limit is not None:
        files = files[: args.limit]
    if not files:
        print(f"no PDFs under {folder}")
        return 1
    rates, failures = bench_parse(files)
    total = Rates()
    for rate in rates.values():
        total.docs += rate.docs
        total.parse_seconds += rate.parse_seconds
        total.extract_seconds += rate.extract_seconds
    print(f"{len(files)} PDFs under {folder} (one process: rates are per core)")
    header = ("type", "timed", "parse docs/s", "extract docs/s", "parse/extract")
    print("{:<8} {:>6} {:>14} {:>16} {:>14}".format(*header))
    for kind in ("listing", "result", "failed"):
        if kind in rates:
            print(rates[kind].line(kind))
    print(total.line("all"))
    if failures:
        print(f"{len(failures)} files failed to parse:")
        for failure in failures[:20]:
            print(f"  {failure}")
    return 0
