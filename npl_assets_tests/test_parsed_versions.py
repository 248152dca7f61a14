"""A parser version bump re-parses every stored document once; the newer row replaces the older,
and a document the newer parser fails on keeps its older row beside the failure."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from npl_assets import warehouse
from npl_assets.warehouse.loading import (
    ParseOutcome,
    count_pending,
    pending_documents,
    store_outcomes,
)

NOW = datetime(2026, 1, 2, 3, 4, 5)


def result_row(sha: str, version: str, buyer: str) -> dict:
    return {
        "sha256": sha,
        "parser_version": version,
        "parsed_at": NOW,
        "title": f"{sha} 转让结果公告",
        "project_name": f"{sha} 项目",
        "project_code": None,
        "seller": "某银行",
        "buyer": buyer,
        "agreement_signed_date": None,
        "publication_date": None,
    }


def failure_row(sha: str, version: str) -> dict:
    return {
        "sha256": sha,
        "doc_type": "result",
        "parser_version": version,
        "error_type": "MissingFieldError",
        "field": "buyer",
        "message": "no 受让方",
        "failed_at": NOW,
    }


@pytest.fixture
def con(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    warehouse.ensure_schema(con)
    for sha in ("a", "b", "c"):
        con.execute(
            """insert into raw.documents (sha256, doc_type, title, detail_url, pdf_url,
               byte_size, fetched_at) values (?, 'result', ?, ?, ?, 1, ?)""",
            [sha, sha, f"http://127.0.0.1/{sha}", f"http://127.0.0.1/{sha}.pdf", NOW],
        )
    store_outcomes(
        con,
        "results",
        [
            ParseOutcome("a", result_row("a", "1", "甲"), None),
            ParseOutcome("b", result_row("b", "1", "乙"), None),
            ParseOutcome("c", None, failure_row("c", "1")),
        ],
    )
    yield con
    con.close()


def pending(con, version: str) -> list[str]:
    return [sha for sha, _ in pending_documents(con, "result", version)]


def test_nothing_is_pending_under_the_version_that_read_everything(con) -> None:
    assert pending(con, "1") == []
    assert count_pending(con, "1") == 0


def test_a_new_version_re_reads_every_document_and_replaces_the_older_rows(con) -> None:
    assert pending(con, "2") == ["a", "b", "c"]
    store_outcomes(
        con,
        "results",
        [
            ParseOutcome("a", result_row("a", "2", "甲公司"), None),
            ParseOutcome("b", None, failure_row("b", "2")),
            ParseOutcome("c", result_row("c", "2", "丙"), None),
        ],
    )
    rows = con.execute(
        "select sha256, parser_version, buyer from raw.results order by 1"
    ).fetchall()
    # b: the newer parser failed, so the older row stays, and the failure says why.
    assert rows == [("a", "2", "甲公司"), ("b", "1", "乙"), ("c", "2", "丙")]
    failures = con.execute(
        "select sha256, parser_version from raw.parse_failures order by 1, 2"
    ).fetchall()
    assert failures == [("b", "2")]  # c's older failure is superseded by its success
    assert pending(con, "2") == []
    store_outcomes(con, "results", [ParseOutcome("b", None, failure_row("b", "3"))])
    failures = con.execute("select sha256, parser_version from raw.parse_failures").fetchall()
    assert failures == [("b", "3")]  # one failure row per document, the latest parser's
