"""Where every document is: on the site, stored, parsed, quarantined or failed. SQL over the raw
tables, no Dagster, so the asset check, `npl status` (the last lines of `make run`) and the
quarterly report's methods note all count the same way.

Per document type:
- on_site: what the index last said it holds (span#pageTotal, 共N条), None if never read;
- stored: distinct documents (sha256) in the content store's ledger `raw.documents`;
- parsed: stored documents with a parsed row, less those the quarantine holds back;
- quarantined: parsed listings a hard expectation holds back from the marts;
- failed: stored documents with a parse failure and no parsed row;
- unaccounted: stored documents in none of those (after a run, a bug: the completeness check
  fails on it).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from npl_assets.warehouse import PARSED_TABLES
from npl_assets.warehouse.schema import QUARANTINE_TABLE as QUARANTINE

PROBLEMS_SHOWN = 5


@dataclass(frozen=True)
class Coverage:
    doc_type: str
    on_site: int | None
    stored: int
    parsed: int
    quarantined: int
    failed: int

    @property
    def unaccounted(self) -> int:
        return self.stored - self.parsed - self.quarantined - self.failed

    def line(self) -> str:
        site = "?" if self.on_site is None else str(self.on_site)
        text = (
            f"{self.doc_type + 's':<9} on the site {site:>5} | stored {self.stored:>5} | "
            f"parsed {self.parsed:>5} | quarantined {self.quarantined:>4} | "
            f"failed {self.failed:>4}"
        )
        if self.unaccounted:
            text += f" | NOT ACCOUNTED FOR {self.unaccounted}"
        if self.on_site is not None and self.stored < self.on_site:
            text += f" | {self.on_site - self.stored} on the site not stored"
        return text


@dataclass(frozen=True)
class Problem:
    doc_type: str
    status: str  # 'failed' | 'quarantined'
    sha256: str
    title: str | None
    reason: str


def _has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def _document_states(con: duckdb.DuckDBPyConnection, doc_type: str) -> str:
    """SQL: one row per stored document of `doc_type` with its state."""
    table = PARSED_TABLES[doc_type]
    quarantined = (
        f"sha256 in (select sha256 from {QUARANTINE})"
        if doc_type == "listing" and _has_table(con, QUARANTINE)
        else "false"
    )
    return f"""
        select d.sha256, min(d.list_date) as list_date, min(d.title) as title,
            case
                when d.sha256 in (select sha256 from raw.{table}) and {quarantined}
                    then 'quarantined'
                when d.sha256 in (select sha256 from raw.{table}) then 'parsed'
                when d.sha256 in (select sha256 from raw.parse_failures) then 'failed'
                else 'unaccounted'
            end as state
        from raw.documents d
        where d.doc_type = '{doc_type}'
        group by d.sha256
    """


def coverage(con: duckdb.DuckDBPyConnection) -> list[Coverage]:
    """One Coverage per document type, from the raw tables."""
    on_site = dict(
        con.execute(
            "select doc_type, arg_max(items, checked_at) from raw.site_counts group by doc_type"
        ).fetchall()
    )
    out = []
    for doc_type in PARSED_TABLES:
        counts = dict(
            con.execute(
                f"select state, count(*) from ({_document_states(con, doc_type)}) group by state"
            ).fetchall()
        )
        out.append(
            Coverage(
                doc_type=doc_type,
                on_site=on_site.get(doc_type),
                stored=sum(counts.values()),
                parsed=counts.get("parsed", 0),
                quarantined=counts.get("quarantined", 0),
                failed=counts.get("failed", 0),
            )
        )
    return out


def coverage_by_quarter(con: duckdb.DuckDBPyConnection, doc_type: str) -> dict[str, Coverage]:
    """Coverage of the documents indexed in each quarter (by the index date), for the report."""
    rows = con.execute(
        f"""
        select year(list_date) || 'Q' || quarter(list_date) as quarter, state, count(*)
        from ({_document_states(con, doc_type)})
        where list_date is not null
        group by all
        """
    ).fetchall()
    by_quarter: dict[str, dict[str, int]] = {}
    for quarter, state, n in rows:
        by_quarter.setdefault(quarter, {})[state] = n
    return {
        quarter: Coverage(
            doc_type=doc_type,
            on_site=None,
            stored=sum(counts.values()),
            parsed=counts.get("parsed", 0),
            quarantined=counts.get("quarantined", 0),
            failed=counts.get("failed", 0),
        )
        for quarter, counts in sorted(by_quarter.items())
    }


def failures_by_type(con: duckdb.DuckDBPyConnection, doc_type: str) -> dict[str, int]:
    """Parse failures without a parsed row, by error type (most frequent first)."""
    table = PARSED_TABLES[doc_type]
    return dict(
        con.execute(
            f"""
            select error_type, count(distinct sha256) from raw.parse_failures
            where doc_type = ? and sha256 not in (select sha256 from raw.{table})
            group by 1 order by 2 desc, 1
            """,
            [doc_type],
        ).fetchall()
    )


def problems(con: duckdb.DuckDBPyConnection) -> list[Problem]:
    """Failed and quarantined documents with their reason: failures first, then holds."""
    parts = []
    for doc_type, table in PARSED_TABLES.items():
        parts.append(
            f"""
            select '{doc_type}' as doc_type, 'failed' as status, f.sha256,
                (select min(title) from raw.documents d where d.sha256 = f.sha256) as title,
                f.error_type || ': ' || f.message as reason
            from raw.parse_failures f
            where f.doc_type = '{doc_type}' and f.sha256 not in (select sha256 from raw.{table})
            """
        )
    if _has_table(con, QUARANTINE):
        parts.append(
            f"""
            select 'listing', 'quarantined', q.sha256, min(q.title),
                string_agg(q.expectation || ' (' || q.reason || ')', '; '
                           order by q.expectation)
            from {QUARANTINE} q
            where q.severity = 'hard'
            group by q.sha256
            """
        )
    query = " union all ".join(parts) + " order by status, doc_type, sha256"
    return [Problem(*row) for row in con.execute(query).fetchall()]


def summary(con: duckdb.DuckDBPyConnection, where: str, shown: int = PROBLEMS_SHOWN) -> str:
    """The lines `make run` ends with: one per document type, then the first few problems."""
    lines = ["documents:"] + ["  " + c.line() for c in coverage(con)]
    every = problems(con)
    listed = every[:shown]
    if listed:
        lines.append(f"{len(every)} documents failed or were quarantined; the first {len(listed)}:")
        for p in listed:
            title = (p.title or "?")[:60]
            lines.append(f"  {p.status} {p.doc_type} {p.sha256[:12]} {title}: {p.reason[:160]}")
        lines.append(
            f"all of them: raw.parse_failures and {QUARANTINE} in {where} "
            "(npl status --all lists them)"
        )
    return "\n".join(lines)


def _open_warehouse(db: str | None) -> tuple[duckdb.DuckDBPyConnection, str]:
    """A read-only connection to the warehouse: `db`, else the team profile's DuckLake (its
    latest state), else DUCKDB_DATABASE. Raises FileNotFoundError or duckdb.Error."""
    from npl_assets import profiles, settings

    if db is None and profiles.is_team():
        return profiles.open_lake(read_only=True), "the team DuckLake"
    path = Path(db) if db else settings.duckdb_path()
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `make run` first")
    return duckdb.connect(str(path), read_only=True), str(path)


def handle(args: argparse.Namespace) -> int:
    try:
        con, where = _open_warehouse(args.db)
    except (FileNotFoundError, LookupError, duckdb.Error) as exc:
        print(f"npl status: {exc}", file=sys.stderr)
        return 1
    try:
        print(summary(con, where, shown=10**9 if args.all else PROBLEMS_SHOWN))
        # Exit 1 when a document is unaccounted for, so a script can tell a lossy run.
        return 1 if any(c.unaccounted for c in coverage(con)) else 0
    finally:
        con.close()


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "status", help="where every document is: on the site, stored, parsed, quarantined, failed"
    )
    parser.add_argument("--db", help="warehouse file (default: DUCKDB_DATABASE)")
    parser.add_argument("--all", action="store_true", help="list every failed or held document")
    parser.set_defaults(func=handle)
