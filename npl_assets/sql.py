"""`npl sql`: read-only SQL on the serving file, with the marts under their bare names."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import pandas as pd

from npl_assets import profiles, settings


class ServingNotFoundError(FileNotFoundError):
    pass


def connect_serving(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection that can touch nothing but the serving file: no writes, no ATTACH,
    no COPY ... TO, no INSTALL/LOAD, and the settings cannot be changed back."""
    if path is None and profiles.is_team():
        # No copy in the team profile: the DuckLake at the snapshot the last run published.
        try:
            return profiles.open_published()
        except profiles.NothingPublishedError as exc:
            raise ServingNotFoundError(str(exc)) from None
    path = path or settings.serving_path()
    if not path.exists():
        raise ServingNotFoundError(
            f"no serving database at {path}: run `make run` (or materialise serving_database) first"
        )
    return duckdb.connect(
        str(path),
        read_only=True,
        config={
            "enable_external_access": False,
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
            "lock_configuration": True,
        },
    )


def run_query(query: str, path: Path | None = None) -> pd.DataFrame:
    """Rows as Python values, so DECIMAL money stays exact (pandas' own conversion makes floats)."""
    con = connect_serving(path)
    try:
        cursor = con.execute(query)
        columns = [d[0] for d in cursor.description or []]
        return pd.DataFrame(cursor.fetchall(), columns=columns, dtype=object)
    finally:
        con.close()


def format_frame(frame: pd.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "json":
        return (
            frame.astype(str)
            .where(frame.notna(), None)
            .to_json(orient="records", force_ascii=False)
            + "\n"
        )
    display = ("display.max_rows", 500, "display.max_columns", 50, "display.width", 250)
    with pd.option_context(*display):
        return frame.to_string(index=False) + "\n"


def handle(args: argparse.Namespace) -> int:
    fmt = "csv" if args.csv else "json" if args.json else "table"
    try:
        frame = run_query(args.query, Path(args.db) if args.db else None)
    except (ServingNotFoundError, duckdb.Error) as exc:
        print(f"npl sql: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(format_frame(frame, fmt))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sql", help="run a read-only SQL query on the serving database")
    parser.add_argument("query")
    parser.add_argument("--db", help="serving file (default: NPL_SERVING_DATABASE)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true")
    out.add_argument("--json", action="store_true")
    parser.set_defaults(func=handle)
