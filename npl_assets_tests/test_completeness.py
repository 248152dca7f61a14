"""Where every document is: coverage counts, the problems listed after a run, `npl status`,
and the completeness check's outcome, on a small warehouse built here row by row."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from npl_assets import completeness, warehouse
from npl_assets.cli import main as npl
from npl_assets.quality.asset_checks import completeness_result


def _document(con, sha: str, doc_type: str, list_date: str = "2023-05-04") -> None:
    con.execute(
        """insert into raw.documents (sha256, doc_type, title, list_date, detail_url, pdf_url,
           byte_size, http_status, fetched_at) values (?, ?, ?, ?, ?, ?, 1000, 200, now())""",
        [sha, doc_type, f"title {sha}", list_date, f"http://x/{sha}.html", f"http://x/{sha}.pdf"],
    )


def _listing(con, sha: str) -> None:
    con.execute(
        """insert into raw.listings (sha256, parser_version, parsed_at, title, project_name,
           is_relisting, seller, unpaid_total_yuan)
           values (?, '3', now(), 't', 'p', false, 's', 1)""",
        [sha],
    )


def _failure(con, sha: str, doc_type: str, error: str = "NotAnAnnouncementError") -> None:
    con.execute(
        """insert into raw.parse_failures values (?, ?, '3', ?, null, 'no title', now())""",
        [sha, doc_type, error],
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with warehouse.connect(path) as con:
        warehouse.ensure_schema(con)
        con.execute(
            "insert into raw.site_counts values ('listing', 'u', 6, '2023-01-01', 'r1'),"
            " ('listing', 'u', 7, '2023-06-01', 'r2'), ('result', 'u', 2, '2023-06-01', 'r2')"
        )
        for sha in ("l-ok1", "l-ok2", "l-held", "l-bad", "l-lost"):
            _document(con, sha, "listing")
        _document(con, "l-q3", "listing", "2023-08-01")
        for sha in ("l-ok1", "l-ok2", "l-held", "l-q3"):
            _listing(con, sha)
        con.execute(
            "insert into raw.listing_quarantine values ('l-held', 't', 'loans_positive', 'loans',"
            " '0', 'hard', 'number of loans is not positive', now(), 'r2')"
        )
        _failure(con, "l-bad", "listing")
        _document(con, "r-bad", "result")
        _failure(con, "r-bad", "result", "MissingFieldError")
    return path


def test_coverage_counts_each_document_once(db: Path) -> None:
    with warehouse.connect(db, read_only=True) as con:
        got = {c.doc_type: c for c in completeness.coverage(con)}
    listing, result = got["listing"], got["result"]
    # the latest index count wins
    assert (listing.on_site, listing.stored, listing.parsed) == (7, 6, 3)
    assert (listing.quarantined, listing.failed, listing.unaccounted) == (1, 1, 1)
    assert (result.on_site, result.stored, result.parsed, result.failed) == (2, 1, 0, 1)
    assert "NOT ACCOUNTED FOR 1" in listing.line() and "1 on the site not stored" in listing.line()


def test_coverage_by_quarter_follows_the_index_date(db: Path) -> None:
    with warehouse.connect(db, read_only=True) as con:
        quarters = completeness.coverage_by_quarter(con, "listing")
    assert sorted(quarters) == ["2023Q2", "2023Q3"]
    assert (quarters["2023Q2"].stored, quarters["2023Q2"].parsed) == (5, 2)
    assert (quarters["2023Q3"].stored, quarters["2023Q3"].parsed) == (1, 1)


def test_summary_lists_problems_with_reasons(db: Path) -> None:
    with warehouse.connect(db, read_only=True) as con:
        text = completeness.summary(con, "WHERE", shown=2)
        every = completeness.problems(con)
    assert [(p.status, p.sha256) for p in every] == [
        ("failed", "l-bad"),
        ("failed", "r-bad"),
        ("quarantined", "l-held"),
    ]
    assert "loans_positive (number of loans is not positive)" in every[2].reason
    lines = text.splitlines()
    assert lines[0] == "documents:"
    assert lines[1].strip().startswith("listings  on the site     7 | stored     6")
    assert "3 documents failed or were quarantined; the first 2:" in text
    assert "NotAnAnnouncementError: no title" in text and "in WHERE" in text


def test_npl_status_exits_1_when_a_document_is_lost(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert npl(["status", "--db", str(db), "--all"]) == 1
    out = capsys.readouterr().out
    assert "l-held" in out and "l-bad" in out and "r-bad" in out
    with warehouse.connect(db) as con:
        _failure(con, "l-lost", "listing")
    assert npl(["status", "--db", str(db)]) == 0


def test_completeness_check_fails_on_loss_and_warns_on_failures(db: Path) -> None:
    with warehouse.connect(db, read_only=True) as con:
        listing, result = completeness.coverage(con)
        failures = completeness.failures_by_type(con, "listing")
    assert failures == {"NotAnAnnouncementError": 1}
    lost = completeness_result(listing, failures, dg.AssetKey("listings"))
    assert not lost.passed and lost.severity == dg.AssetCheckSeverity.ERROR
    assert lost.metadata["unaccounted"].value == 1
    failed = completeness_result(result, {"MissingFieldError": 1}, dg.AssetKey("results"))
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.WARN
    clean = completeness.Coverage("result", 2, 2, 2, 0, 0)
    assert completeness_result(clean, {}, dg.AssetKey("results")).passed


def test_status_without_a_warehouse_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert npl(["status", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert "run `make run` first" in capsys.readouterr().err


def test_site_counts_schema_accepts_a_crawl_feed(tmp_path: Path) -> None:
    import pandas as pd

    from npl_assets.warehouse.loading import INDEX_COUNT_COLUMNS, store_index_counts

    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.ensure_schema(con)
        frame = pd.DataFrame(
            [["listing", "http://127.0.0.1/i.html", 459, "2023-12-01T00:00:00Z"]],
            columns=INDEX_COUNT_COLUMNS,
        )
        store_index_counts(con, frame, "run-1")
        assert con.execute("select items, run_id from raw.site_counts").fetchall() == [
            (459, "run-1")
        ]


def test_report_states_the_coverage_of_its_quarter(db: Path) -> None:
    from npl_assets.report.data import quarter_listings
    from npl_assets.report.model import DocumentCoverage
    from npl_assets.report.render import _coverage_note

    with warehouse.connect(db, read_only=True) as con:
        q2 = quarter_listings(con, "2023Q2")
        q3 = quarter_listings(con, "2023Q3")
        q4 = quarter_listings(con, "2023Q4")
    # 2023Q2: 5 stored, 2 parsed, 1 held back, 1 failed (and 1 lost, counted as missing)
    assert q2 == DocumentCoverage(stored=5, parsed=2, quarantined=1, failed=1)
    assert _coverage_note("2023Q2", q2) == [
        "Coverage: 3 of the 5 listing documents indexed in 2023Q2 are not in these figures "
        "(1 held back by quality checks, 1 failed to parse, 1 not parsed yet; "
        "`npl status --all` lists them)."
    ]
    assert q3 is not None and _coverage_note("2023Q3", q3) == [
        "Coverage: all 1 listing documents indexed in 2023Q3 are in these figures."
    ]
    assert q4 == DocumentCoverage(0, 0, 0, 0)
    with duckdb.connect() as empty:
        assert quarter_listings(empty, "2023Q2") is None
