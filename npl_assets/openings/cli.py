"""`npl open`: what buyers can still register for, soonest deadline first, from the serving file."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb

from npl_assets.openings.clock import parse_as_of
from npl_assets.openings.query import DISPLAY_COLUMNS, STATUSES, Filters, query_serving


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc


def _as_of(text: str):
    try:
        return parse_as_of(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def filters_from_args(args: argparse.Namespace) -> Filters:
    return Filters(
        seller_types=tuple(args.seller_type or ()),
        asset_types=tuple(args.asset_type or ()),
        min_total_yuan=args.min_total,
        max_overdue_days=args.max_overdue_days,
        statuses=("open",) if args.only_open else STATUSES,
    )


def handle(args: argparse.Namespace) -> int:
    from npl_assets.sql import ServingNotFoundError, format_frame

    fmt = "csv" if args.csv else "json" if args.json else "table"
    try:
        frame = query_serving(
            filters_from_args(args),
            as_of=args.as_of,
            path=Path(args.db) if args.db else None,
            known_then=not args.include_later_listings,
        )
    except (ServingNotFoundError, duckdb.Error) as exc:
        print(f"npl open: {exc}", file=sys.stderr)
        return 1
    if fmt == "table":
        if frame.empty:
            print("nothing open" + (f" as of {args.as_of}" if args.as_of else ""))
            return 0
        as_of = frame["as_of"].iloc[0]
        print(f"{len(frame)} project(s) open or undecided as of {as_of} (Beijing time)")
        frame = frame[[c for c in DISPLAY_COLUMNS if c in frame.columns]]
    sys.stdout.write(format_frame(frame, fmt))
    return 0


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seller-type", action="append", help="e.g. 消费金融公司 (repeat for several)"
    )
    parser.add_argument("--asset-type", action="append", help="e.g. 信用卡透支 (repeatable)")
    parser.add_argument("--min-total", type=_decimal, help="minimum 未偿本息总额 in 元")
    parser.add_argument(
        "--max-overdue-days", type=_decimal, help="maximum 加权平均逾期天数 (unknown is excluded)"
    )


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "open",
        help="projects still open for registration (and undecided ones), soonest deadline first",
    )
    add_filter_arguments(parser)
    parser.add_argument(
        "--only-open", action="store_true", help="only status open (registration still possible)"
    )
    parser.add_argument(
        "--as-of",
        type=_as_of,
        help="answer for another day, YYYY-MM-DD (start of day) or 'YYYY-MM-DD HH:MM', "
        "from the published listings (default: the published open_listings snapshot)",
    )
    parser.add_argument(
        "--include-later-listings",
        action="store_true",
        help="with --as-of: count listings published after that day too (by default only "
        "what had been published by then, as a buyer saw it)",
    )
    parser.add_argument("--db", help="serving file (default: NPL_SERVING_DATABASE)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true")
    out.add_argument("--json", action="store_true")
    parser.set_defaults(func=handle)
