"""`npl sql` is read-only (issue 7): writes, ATTACH, COPY ... TO, EXPORT, INSTALL, LOAD, reading
files and changing the settings all fail with a clear error, and the serving file's bytes do not
change. A temporary table lives in memory only and is allowed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from npl_assets.cli import main


@pytest.fixture
def serving(tmp_path: Path) -> Path:
    path = tmp_path / "npl_serving.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table seller_quarterly_metrics as select 'x' as seller, 3 as listings")
    return path


def npl_sql(serving: Path, query: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["sql", "--db", str(serving), query])
    captured = capsys.readouterr()
    return code, captured.err or captured.out


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


REFUSED = [
    ("insert into seller_quarterly_metrics values ('y', 1)", "read-only mode"),
    ("update seller_quarterly_metrics set listings = 0", "read-only mode"),
    ("delete from seller_quarterly_metrics", "read-only mode"),
    ("create table stolen (x int)", "read-only mode"),
    ("create view v as select 1", "read-only mode"),
    ("drop table seller_quarterly_metrics", "read-only mode"),
    ("attach '{tmp}/other.duckdb' as other", "file system operations are disabled"),
    ("attach ':memory:' as scratch", "read-only"),
    ("copy seller_quarterly_metrics to '{tmp}/out.csv'", "file system operations are disabled"),
    ("copy (select 1) to '{tmp}/out.parquet' (format parquet)", "file system operations"),
    ("export database '{tmp}/export'", "file system operations are disabled"),
    ("install npl_made_up_extension", "file system operations are disabled"),
    ("load npl_made_up_extension", "Loading external extensions is disabled"),
    ("select * from read_csv('/etc/hostname')", "file system operations are disabled"),
    ("select * from read_text('/etc/hostname')", "file system operations are disabled"),
    ("select * from glob('/etc/*')", "file system operations are disabled"),
    ("set enable_external_access = true", "the configuration has been locked"),
    ("reset enable_external_access", "the configuration has been locked"),
    ("set autoinstall_known_extensions = true", "the configuration has been locked"),
]


@pytest.mark.parametrize(("query", "reason"), REFUSED, ids=[q for q, _ in REFUSED])
def test_refused_with_a_clear_error(
    serving: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], query: str, reason: str
) -> None:
    before = digest(serving)
    code, message = npl_sql(serving, query.format(tmp=tmp_path), capsys)
    assert code == 1
    assert message.startswith("npl sql: ") and reason in message, message
    assert digest(serving) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["npl_serving.duckdb"]


def test_reading_works_and_changes_nothing(
    serving: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = digest(serving)
    code, out = npl_sql(serving, "select sum(listings) as n from seller_quarterly_metrics", capsys)
    assert (code, out.split()) == (0, ["n", "3"])
    code, _ = npl_sql(serving, "create temp table scratch as select 1 as x", capsys)
    assert code == 0  # in memory, gone with the connection
    code, message = npl_sql(serving, "select * from scratch", capsys)
    assert code == 1 and "scratch" in message
    assert digest(serving) == before


def test_a_missing_serving_file_says_how_to_make_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, message = npl_sql(tmp_path / "absent.duckdb", "select 1", capsys)
    assert code == 1 and "make run" in message
    assert not (tmp_path / "absent.duckdb").exists()
