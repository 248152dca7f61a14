"""End to end: the whole graph materialised in-process on a temp DuckDB against the bundled site."""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from npl_assets.resources import platform_resources, warehouse_resource


def all_assets() -> list:
    from npl_assets.definitions import defs

    return list(defs.assets or [])


def materialize_all(
    pipeline: dict, instance: dg.DagsterInstance | None = None, run_config: dict | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        all_assets(),
        resources=platform_resources(pipeline["locations"]),
        instance=instance,
        run_config=run_config,
        raise_on_error=True,
    )


@pytest.fixture(scope="module")
def pipeline(full_pipeline: dict) -> Iterator[dict]:
    """The session's full run, with its environment back for the tests that run again."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in full_pipeline["env"].items():
            mp.setenv(key, value)
        mp.delenv("NPL_SOURCE_URL", raising=False)
        yield full_pipeline


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def dataset(shared_dir: Path, name: str) -> list[dict[str, str]]:
    with (shared_dir / "data" / name).open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_every_dataset_listing_is_a_listing_row_with_exact_values(
    pipeline: dict, shared_dir: Path
) -> None:
    rows = dataset(shared_dir, "yindeng_2023_listings.csv")
    got = query(
        pipeline["db"],
        """select title, loans, borrowers, unpaid_principal_yuan, unpaid_interest_yuan,
                  unpaid_total_yuan, starting_price_yuan from raw.listings""",
    )
    assert len(got) == len(rows) == 459
    # Titles compared without whitespace: a stray space in a title ("个人消费信 用") is layout,
    # and where a line wraps at it the PDF's text has none.
    by_title: dict[str, list[tuple]] = {}
    for row in got:
        by_title.setdefault("".join(row[0].split()), []).append(row[1:])
    for row in rows:
        expected = (
            int(row["资产笔数（笔）"]),
            int(row["借款人户数（户）"]),
            Decimal(row["未偿本金总额（元）"]),
            Decimal(row["未偿利息总额（元）"]),
            Decimal(row["未偿本息总额（元）"]),
            Decimal(row["起始价（元）"]),
        )
        title = "".join(row["项目名称"].split()) + "不良贷款转让公告"
        assert expected in by_title[title], title


def test_every_result_is_parsed(pipeline: dict, shared_dir: Path) -> None:
    rows = dataset(shared_dir, "yindeng_2023_results.csv")
    got = query(pipeline["db"], "select project_code, buyer from raw.results")
    assert sorted(got) == sorted((r["项目编号"], r["受让方全称"]) for r in rows)
    assert query(pipeline["db"], "select count(*) from raw.parse_failures") == [(0,)]


def test_every_document_reaches_staging_and_the_totals_are_exact(
    pipeline: dict, shared_dir: Path
) -> None:
    listings = dataset(shared_dir, "yindeng_2023_listings.csv")
    results = dataset(shared_dir, "yindeng_2023_results.csv")
    assert query(pipeline["db"], "select count(*) from main.stg_listings") == [(len(listings),)]
    assert query(pipeline["db"], "select count(*) from main.stg_results") == [(len(results),)]
    expected = sum(Decimal(r["未偿本息总额（元）"]) for r in listings)
    got = query(pipeline["db"], "select sum(unpaid_total_yuan) from main.stg_listings")
    assert got == [(expected,)]


def test_completeness_accounts_for_every_document(pipeline: dict, shared_dir: Path) -> None:
    from npl_assets import completeness

    sizes = {
        "listing": len(dataset(shared_dir, "yindeng_2023_listings.csv")),
        "result": len(dataset(shared_dir, "yindeng_2023_results.csv")),
    }
    con = duckdb.connect(str(pipeline["db"]), read_only=True)
    try:
        found = {c.doc_type: c for c in completeness.coverage(con)}
        text = completeness.summary(con, "db")
    finally:
        con.close()
    for doc_type, size in sizes.items():
        c = found[doc_type]
        assert (c.on_site, c.stored, c.parsed) == (size, size, size), c
        assert (c.quarantined, c.failed, c.unaccounted) == (0, 0, 0), c
    assert "failed or were quarantined" not in text
    from npl_assets.quality.asset_checks import parsed_completeness

    result = dg.materialize(
        [dg.AssetSpec("listings"), dg.AssetSpec("results"), parsed_completeness],
        selection=dg.AssetSelection.checks(parsed_completeness),
        resources={"duckdb": warehouse_resource(pipeline["db"])},
    )
    checks = {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }
    assert checks == {("listings", "completeness"): True, ("results", "completeness"): True}


def test_relistings_merge_into_one_project(pipeline: dict) -> None:
    title = "中国光大银行股份有限公司深圳分行关于2023年第1期个人消费信用不良贷款转让项目"
    announcements = query(
        pipeline["db"],
        "select count(*) from raw.listings where replace(title, '（重新挂牌）', '') = ?",
        [title + "不良贷款转让公告"],
    )
    assert announcements[0][0] >= 2
    projects = query(
        pipeline["db"], "select count(*) from main.projects where project_name = ?", [title]
    )
    assert projects == [(1,)]


def test_consumer_finance_total_matches_dataset(pipeline: dict, shared_dir: Path) -> None:
    rows = dataset(shared_dir, "yindeng_2023_listings.csv")
    consumer_finance = [r for r in rows if "消费金融" in r["出让方主体名称"]]
    expected = sum(Decimal(r["未偿本息总额（元）"]) for r in consumer_finance)
    got = query(
        pipeline["serving"],
        """select sum(unpaid_total_yuan), sum(listings) from seller_quarterly_metrics
           where seller_type = '消费金融公司' and quarter like '2023Q%'""",
    )
    assert got == [(expected, len(consumer_finance))]


def materialised(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        e.asset_key.to_user_string()
        for e in result.all_events
        if e.is_step_materialization and e.asset_key is not None
    }


def test_an_idle_run_adds_no_rows_and_skips_everything_below_the_crawl(pipeline: dict) -> None:
    tables = ["raw.documents", "raw.listings", "raw.results", "main.projects"]
    before = [query(pipeline["db"], f"select count(*) from {t}")[0][0] for t in tables]
    # The instance whose history is the session's full run: everything below the crawl is
    # current. (test_serving_file_is_readable_while_a_run_writes runs on a new instance, which
    # has no such history and runs everything.)
    instance = pipeline["instance"]
    serving_written = pipeline["serving"].stat().st_mtime_ns

    idle = materialize_all(pipeline, instance)
    assert idle.success
    assert materialised(idle) == set()
    skipped = {e.step_key for e in idle.all_events if e.event_type_value == "STEP_SKIPPED"}
    assert {"listings", "results", "serving_database", "market_report"} <= skipped
    [observation] = [
        e.event_specific_data.asset_observation
        for e in idle.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
    ]
    assert observation.asset_key == dg.AssetKey("raw_documents")
    assert "dagster/last_updated_timestamp" in observation.metadata
    assert pipeline["serving"].stat().st_mtime_ns == serving_written
    after = [query(pipeline["db"], f"select count(*) from {t}")[0][0] for t in tables]
    assert after == before

    # A changed dbt model makes the next crawl an update: the marts are rebuilt.
    instance.report_runless_asset_event(
        dg.AssetMaterialization("projects", tags={"dagster/code_version": "older sql"})
    )
    assert "serving_database" in materialised(materialize_all(pipeline, instance))
    # (A rebuild asked for in the run config updates too: test_idle_runs.)


def test_serving_file_is_readable_while_a_run_writes(pipeline: dict) -> None:
    errors: list[Exception] = []
    reads = 0
    done = threading.Event()

    def reader() -> None:
        nonlocal reads
        while not done.is_set():
            try:
                con = duckdb.connect(str(pipeline["serving"]), read_only=True)
                con.execute("select count(*) from seller_quarterly_metrics").fetchone()
                con.close()
                reads += 1
            except Exception as exc:
                errors.append(exc)
            time.sleep(0.05)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        # A new instance has no history of the marts catching up with the crawl: it runs them
        # all, though the crawl finds nothing new.
        run = materialize_all(pipeline)
        assert {"raw_documents", "listings", "serving_database", "market_report"} <= (
            materialised(run)
        )
        crawl = run.asset_materializations_for_node("raw_documents")[0]
        assert crawl.metadata["new_documents"].value == 0
        assert crawl.metadata["unparsed_documents"].value == 0
    finally:
        done.set()
        thread.join()
    assert errors == []
    assert reads > 0
