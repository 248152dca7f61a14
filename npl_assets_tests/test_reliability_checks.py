"""The invariant checks of the reliability scenarios can fail: planted duplicates, a cut file
stored as good, a lost document and a document parsed twice are each reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from harness.reliability import invariants
from harness.reliability.sites import build_site, load_manifest
from npl_assets import warehouse


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("site"), synthetic=6, seed=1)


def stored_warehouse(site: Path, tmp_path: Path) -> tuple[Path, Path, list[dict]]:
    """A warehouse and store holding every published document, as a good crawl leaves them."""
    db, raw = tmp_path / "npl.duckdb", tmp_path / "raw"
    manifest = load_manifest(site)
    with warehouse.connect(db) as con:
        warehouse.ensure_schema(con)
        for doc in manifest:
            target = raw / doc["sha256"][:2] / f"{doc['sha256']}.pdf"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(site / doc["pdf_path"].lstrip("/"), target)
            con.execute(
                """insert into raw.documents (sha256, doc_type, title, list_date, detail_url,
                       pdf_url, byte_size, http_status, fetched_at)
                   values (?, ?, ?, ?, ?, ?, ?, 200, now())""",
                [
                    doc["sha256"],
                    doc["doc_type"],
                    doc["title"],
                    doc["list_date"],
                    "http://127.0.0.1:8000" + doc["detail_path"],
                    "http://127.0.0.1:8000" + doc["pdf_path"],
                    target.stat().st_size,
                ],
            )
    return db, raw, manifest


def test_a_good_warehouse_passes(site: Path, tmp_path: Path) -> None:
    db, raw, manifest = stored_warehouse(site, tmp_path)
    result = invariants.check_documents(db, raw, site)
    assert (result.rows, result.problems) == (len(manifest), [])


def test_the_same_document_from_another_port_is_a_duplicate(site: Path, tmp_path: Path) -> None:
    db, raw, _ = stored_warehouse(site, tmp_path)
    with duckdb.connect(str(db)) as con:
        con.execute(
            """insert into raw.documents select sha256, doc_type, title, list_date,
                   replace(detail_url, ':8000', ':9000'), replace(pdf_url, ':8000', ':9000'),
                   byte_size, http_status, fetched_at, loaded_at, run_id
               from raw.documents limit 1"""
        )
    result = invariants.check_documents(db, raw, site)
    assert result.duplicates == 1 and "duplicate" in result.problems[0]


def test_a_cut_file_and_a_missing_row_are_reported(site: Path, tmp_path: Path) -> None:
    db, raw, manifest = stored_warehouse(site, tmp_path)
    cut, gone = manifest[0], manifest[1]
    path = raw / cut["sha256"][:2] / f"{cut['sha256']}.pdf"
    path.write_bytes(path.read_bytes()[:1000])
    with duckdb.connect(str(db)) as con:
        con.execute("delete from raw.documents where sha256 = ?", [gone["sha256"]])
    result = invariants.check_documents(db, raw, site)
    assert [b.split(":")[0] for b in result.bad_files] == [cut["sha256"][:12]]
    assert result.lost == [gone["pdf_path"]]
    # A failure row for its PDF turns the lost document into a failed one, where failures count.
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into raw.crawl_failures values (?, 'listing', 'pdf', 'HTTP 404', 404, now(),"
            " 'r')",
            ["http://127.0.0.1:8123" + gone["pdf_path"]],
        )
    result = invariants.check_documents(db, raw, site, may_fail=True)
    assert (result.lost, result.failed) == ([], [gone["pdf_path"]])


def test_documents_neither_parsed_nor_failed_are_reported(site: Path, tmp_path: Path) -> None:
    db, _, manifest = stored_warehouse(site, tmp_path)
    result = invariants.check_parsed(db)
    listings = sum(d["doc_type"] == "listing" for d in manifest)
    assert f"{listings} listings neither parsed nor failed" in " ".join(result.problems)


def test_untyped_parse_crashes_are_reported(site: Path, tmp_path: Path) -> None:
    db, _, manifest = stored_warehouse(site, tmp_path)
    with duckdb.connect(str(db)) as con:
        for doc in manifest:
            con.execute(
                "insert into raw.parse_failures values (?, ?, '1', 'UnexpectedKeyError', null,"
                " 'boom', now())",
                [doc["sha256"], doc["doc_type"]],
            )
    problems = " ".join(invariants.check_parsed(db).problems)
    assert "untyped parse crashes: {'UnexpectedKeyError'" in problems
