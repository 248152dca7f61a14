"""`npl report`: build the quarterly market reports from the serving file, without Dagster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def handle(args: argparse.Namespace) -> int:
    import duckdb

    from npl_assets.report.build import build_reports, reports_dir
    from npl_assets.report.model import ReportDataError
    from npl_assets.sql import ServingNotFoundError, connect_serving

    out_dir = Path(args.out) if args.out else reports_dir()
    try:
        con = connect_serving(Path(args.db) if args.db else None)
    except (ServingNotFoundError, duckdb.Error) as exc:
        print(f"npl report: {exc}", file=sys.stderr)
        return 1
    try:
        built = build_reports(con, out_dir, [args.quarter] if args.quarter else None)
    except (ReportDataError, duckdb.Error) as exc:
        print(f"npl report: {exc}", file=sys.stderr)
        return 1
    finally:
        con.close()
    for item in built:
        print(item.path)
    index = out_dir / "index.html"
    print(index)
    if args.open:
        open_in_browser(built[0].path if args.quarter and built else index)
    return 0


def open_in_browser(path: Path) -> bool:
    """Best effort: with no browser (a server, CI) this does nothing and says so."""
    import webbrowser

    try:
        opened = webbrowser.open(path.resolve().as_uri())
    except webbrowser.Error:
        opened = False
    if not opened:
        print(f"npl report: no browser available; open {path} by hand", file=sys.stderr)
    return opened


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "report", help="build the quarterly market reports (HTML) from the serving database"
    )
    parser.add_argument("--quarter", help="only this quarter, like 2023Q4 (default: all)")
    parser.add_argument("--open", action="store_true", help="open the result in a browser")
    parser.add_argument("--db", help="serving file (default: NPL_SERVING_DATABASE)")
    parser.add_argument("--out", help="output folder (default: <NPL_DATA_DIR>/reports)")
    parser.set_defaults(func=handle)
