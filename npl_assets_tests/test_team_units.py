"""The team profile's parts on their own, without Postgres: profile selection and settings, the
raw layer on a real DuckLake (catalog in a local DuckDB file here) where tables have no keys, and
the S3 content store on moto's in-process server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from npl_assets import profiles, warehouse
from npl_assets.crawler.store import ContentStore, InvalidPdf, S3ContentStore, sha256_hex

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_profile_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NPL_PROFILE", raising=False)
    assert profiles.profile() == "embedded"
    monkeypatch.setenv("NPL_PROFILE", "Team")
    assert profiles.is_team()
    monkeypatch.setenv("NPL_PROFILE", "cluster")
    with pytest.raises(profiles.ProfileError, match="NPL_PROFILE='cluster'"):
        profiles.profile()


def test_team_settings_fall_back_to_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / "team.env"
    for name in list(profiles.os.environ):
        if name.startswith(("NPL_PG_", "NPL_S3_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NPL_TEAM_ENV", str(env_file))
    with pytest.raises(profiles.ProfileError, match="NPL_PG_USER is not set"):
        profiles.team_settings()
    profiles.write_env_file(
        env_file,
        {
            "NPL_PG_USER": "npl",
            "NPL_PG_PASSWORD": "p@ss word",
            "NPL_S3_ENDPOINT": "127.0.0.1:9000",
            "NPL_S3_KEY_ID": "k",
            "NPL_S3_SECRET": "s'cret",
            "NPL_S3_BUCKET": "b",
        },
    )
    assert env_file.stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("NPL_S3_BUCKET", "from-env")  # the environment wins over the file
    team = profiles.team_settings()
    assert team.s3_bucket == "from-env"
    assert team.lake_data_path == "s3://from-env/lake/"
    assert team.content_store_url == "s3://from-env/raw/"
    # Special characters survive: URL-quoted for SQLAlchemy, SQL-quoted for DuckDB.
    assert team.dagster_postgres_url().startswith("postgresql+psycopg2://npl:p%40ss%20word@")
    assert "secret 's''cret'" in team.secret_sql()
    env_file.write_text("not a setting\n")
    with pytest.raises(profiles.ProfileError, match="not a KEY=VALUE line"):
        profiles.read_env_file(env_file)


def test_keyless_ddl_keeps_not_null() -> None:
    for ddl in warehouse.ALL_DDL:
        assert "primary key" not in warehouse.without_keys(ddl).lower()
    listings = warehouse.without_keys(warehouse.LISTINGS_DDL)
    assert "sha256 varchar not null," in listings


@pytest.fixture
def lake(tmp_path: Path):
    """A real DuckLake (catalog in a local DuckDB file, data in a folder) in use as `lake`."""
    import duckdb

    profiles.ensure_extensions()
    con = duckdb.connect(config=profiles.extension_config())
    con.execute(
        f"attach 'ducklake:{tmp_path / 'catalog.ducklake'}' as lake "
        f"(data_path '{tmp_path / 'data'}/')"
    )
    con.execute("use lake")
    yield con
    con.close()


def test_raw_layer_writers_work_on_a_keyless_ducklake(lake) -> None:
    from npl_assets.warehouse.loading import (
        DOCUMENT_COLUMNS,
        FAILURE_COLUMNS,
        ParseOutcome,
        store_crawl,
        store_outcomes,
    )

    assert warehouse.is_lake(lake)
    warehouse.ensure_schema(lake)
    documents = pd.DataFrame(
        [
            ["a" * 64, "result", "t", "2023-01-02", "d1", "p1", 10, 200, "2023-01-02 00:00:00"],
            ["a" * 64, "result", "t", "2023-01-02", "d1", "p1", 10, 200, "2023-01-02 00:00:00"],
        ],
        columns=DOCUMENT_COLUMNS,
    )
    failures = pd.DataFrame(columns=FAILURE_COLUMNS)
    assert store_crawl(lake, documents, failures, "run1") == 1
    assert store_crawl(lake, documents, failures, "run2") == 0  # idempotent without a key

    def outcome(version: str, buyer: str) -> ParseOutcome:
        row = {
            "sha256": "a" * 64,
            "parser_version": version,
            "parsed_at": pd.Timestamp("2023-01-03"),
            "title": "t",
            "project_name": "p",
            "seller": "s",
            "buyer": buyer,
        }
        return ParseOutcome("a" * 64, row, None)

    assert store_outcomes(lake, "results", [outcome("1", "x")]) == (1, 0)
    assert store_outcomes(lake, "results", [outcome("2", "y")]) == (1, 0)
    rows = lake.execute("select parser_version, buyer from raw.results").fetchall()
    assert rows == [("2", "y")]  # replaced, not duplicated
    failure = {
        "sha256": "b" * 64,
        "doc_type": "result",
        "parser_version": "2",
        "error_type": "E",
        "field": None,
        "message": "m",
        "failed_at": pd.Timestamp("2023-01-03"),
    }
    for _ in range(2):
        store_outcomes(lake, "results", [ParseOutcome("b" * 64, None, failure)])
    assert lake.execute("select count(*) from raw.parse_failures").fetchall() == [(1,)]


@pytest.fixture
def s3_store() -> Iterator[S3ContentStore]:
    from moto.server import ThreadedMotoServer

    from npl_assets.team.services import s3_client

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        client = s3_client(f"http://{host}:{port}")
        client.create_bucket(Bucket="npl")
        yield S3ContentStore("s3://npl/prefix/raw/", client)
    finally:
        server.stop()


def test_s3_content_store_is_content_addressed_and_whole(
    s3_store: S3ContentStore, tmp_path: Path
) -> None:
    sha = sha256_hex(PDF)
    assert not s3_store.has(sha)
    with pytest.raises(FileNotFoundError):
        s3_store.get(sha)
    assert s3_store.put(PDF, content_length=len(PDF)) == sha
    assert s3_store.has(sha) and s3_store.verify(sha) and s3_store.get(sha) == PDF
    assert s3_store.put(PDF) == sha  # already there: left as it is
    # The same names as the local store.
    local = ContentStore(tmp_path)
    assert str(local.path(sha)).endswith(s3_store.key(sha).removeprefix("prefix/raw"))
    # A truncated body is refused and nothing is written.
    truncated = PDF[:-8]
    with pytest.raises(InvalidPdf, match="truncated"):
        s3_store.put(truncated)
    assert not s3_store.has(sha256_hex(truncated))
    listed = s3_store.client.list_objects_v2(Bucket="npl")["Contents"]
    assert [o["Key"] for o in listed] == [f"prefix/raw/{sha[:2]}/{sha}.pdf"]
    with pytest.raises(ValueError, match="sha256"):
        s3_store.key("../etc/passwd")


def test_catalog_errors_never_show_the_password() -> None:
    import duckdb

    team = profiles.TeamSettings(
        pg_host="127.0.0.1",
        pg_port=1,
        pg_user="npl",
        pg_password="s3cret-pw",
        dagster_db="dagster",
        catalog_db="ducklake",
        s3_endpoint="127.0.0.1:9",
        s3_use_ssl=False,
        s3_url_style="path",
        s3_region="us-east-1",
        s3_key_id="k",
        s3_secret="s",
        s3_bucket="b",
        s3_prefix="",
    )
    with pytest.raises(duckdb.Error) as caught:
        profiles.open_lake(team)  # nothing listens on port 1
    assert "s3cret-pw" not in str(caught.value)
    assert "***" in str(caught.value) or "ducklake" in str(caught.value)
