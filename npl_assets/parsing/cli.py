"""`npl parse FILE.pdf [...]`: one JSON object per line per parsed file on stdout (the record's
keys only); for each file that fails, one line on stderr naming the file, the error type and the
field. The exit code is 1 if any file failed, 0 otherwise; good files are printed either way."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="parse announcement PDFs into JSON lines",
        description=__doc__,
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE.pdf")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from npl_assets.parsing import parse_pdf
    from npl_assets.parsing.errors import ParseError

    failed = 0
    for path in args.files:
        try:
            record = parse_pdf(path, name=str(path))
        except ParseError as exc:
            failed += 1
            field = f" [field: {exc.field}]" if exc.field else ""
            print(f"error: {type(exc).__name__}{field}: {exc}", file=sys.stderr)
            continue
        print(json.dumps(record.to_json_dict(), ensure_ascii=False), flush=True)
    return 1 if failed else 0
