"""`python -m harness.benchmarks` (`make bench`): the argument parser, kept free of heavy imports
(Dagster loads on run)."""

from __future__ import annotations

import argparse
from pathlib import Path


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"sizes must be comma-separated integers: {text!r}"
        ) from None
    if not sizes or any(size < 1 for size in sizes) or list(sizes) != sorted(set(sizes)):
        raise argparse.ArgumentTypeError(f"sizes must be positive and increasing: {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    from harness.benchmarks.suite import Options

    defaults = Options()
    parser = argparse.ArgumentParser(
        prog="python -m harness.benchmarks",
        description="Crawl, parse, load, dbt, checks, publish, no-op run, memory, scaling and "
        "freshness latency, on a cached synthetic site (data/bench/site/).",
    )
    parser.add_argument(
        "--listings", type=int, default=defaults.listings, help="synthetic site size"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="synthetic site seed")
    parser.add_argument("--workers", type=int, default=None, help="site build processes")
    parser.add_argument(
        "--scale-sizes",
        type=_sizes,
        default=defaults.scale_sizes,
        metavar="N,N,...",
        help="listings for the load/dbt/checks curve (default 1000,10000,100000)",
    )
    parser.add_argument(
        "--parse-sizes",
        type=_sizes,
        default=defaults.parse_sizes,
        metavar="N,N,...",
        help="documents for the parse curve (default 1000,10000)",
    )
    parser.add_argument(
        "--no-setup",
        dest="setup",
        action="store_false",
        help="skip the fresh-clone set-up (git clone of HEAD, empty uv cache: make install, "
        "make run; downloads the locked dependencies from the package registry)",
    )
    parser.add_argument(
        "--no-full-run",
        dest="full_run",
        action="store_false",
        help="skip the bundled-site full run (and so the freshness measurement)",
    )
    parser.add_argument(
        "--no-freshness",
        dest="freshness",
        action="store_false",
        help="skip the daemon freshness measurement (about 2 minutes)",
    )
    parser.add_argument(
        "--sensor-interval",
        type=int,
        default=defaults.sensor_interval,
        help="NPL_SENSOR_INTERVAL for the freshness measurement (seconds, default "
        f"{defaults.sensor_interval})",
    )
    parser.add_argument("--rebuild-site", action="store_true", help="ignore the site cache")
    parser.add_argument("--keep-work", action="store_true", help="keep data/bench/work/")
    parser.add_argument("--out", type=Path, default=None, help="results JSON path")
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_all_command(build_parser().parse_args(argv))


def run_all_command(args: argparse.Namespace) -> int:
    from harness.benchmarks.suite import Options, run_all

    if args.listings < 1:
        raise SystemExit("--listings must be at least 1")
    results = run_all(
        Options(
            listings=args.listings,
            seed=args.seed,
            workers=args.workers,
            scale_sizes=args.scale_sizes,
            parse_sizes=args.parse_sizes,
            setup=args.setup,
            full_run=args.full_run,
            freshness=args.freshness and args.full_run,
            sensor_interval=args.sensor_interval,
            rebuild_site=args.rebuild_site,
            keep_work=args.keep_work,
            results_path=args.out,
        )
    )
    # Targets not met are findings, not failures; a phase that broke is a failure.
    return 1 if results.get("errors") else 0
