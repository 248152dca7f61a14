"""Smoke test of `make bench` (`python -m harness.benchmarks`) at a tiny size: the machinery
runs end to end and prints its table. No timing is asserted (the machine is shared); only what
follows from the site itself."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest

from harness.benchmarks import fresh_setup
from harness.benchmarks.make_test_record import RecordError, read_make_test
from harness.benchmarks.scaling import BaseRows, synthesise
from harness.benchmarks.suite import _make_test_row
from npl_assets import settings


def test_synthesised_copies_never_merge_and_keep_valid_dates() -> None:
    listing = {
        "sha256": "a" * 64,
        "title": "某银行关于2024年第1期信用卡不良贷款转让项目不良贷款转让公告",
        "project_name": "某银行关于2024年第1期信用卡不良贷款转让项目",
        "batch_year": 2024,
        "transaction_base_date": "2023-12-31",
        "bid_date": "2024-03-14",
        "publication_date": "2024-02-29",
        "registration_deadline": "2024-03-13T17:00",
        "auction_start": "2024-03-14T10:00",
        "auction_end": "2024-03-14T10:30",
    }
    result = {
        "sha256": "b" * 64,
        "title": "某银行关于2024年第1期信用卡不良贷款转让项目不良贷款转让结果公告",
        "project_name": "某银行关于2024年第1期信用卡不良贷款转让项目",
        "project_code": "NPL2024000123",
        "agreement_signed_date": "2024-03-20",
        "publication_date": "2024-04-03",
    }
    documents = [
        {
            "sha256": "a" * 64,
            "title": listing["title"],
            "list_date": "2024-02-29",
            "detail_url": "http://127.0.0.1/d1",
            "pdf_url": "http://127.0.0.1/p1",
        },
        {
            "sha256": "b" * 64,
            "title": result["title"],
            "list_date": "2024-04-03",
            "detail_url": "http://127.0.0.1/d2",
            "pdf_url": "http://127.0.0.1/p2",
        },
    ]
    rows = synthesise(BaseRows(documents, [listing], [result]), 3)

    assert len(rows.listings) == 3 and rows.copies == 3
    assert len({r["sha256"] for r in rows.listings + rows.results}) == 5
    assert len({r["project_name"] for r in rows.listings}) == 3
    # Every copy moves by 8 years: 29 February stays a date, a listing and its result move
    # together (same project name), and so does the project code's year.
    assert [r["publication_date"] for r in rows.listings] == [
        "2024-02-29",
        "2032-02-29",
        "2040-02-29",
    ]
    assert rows.listings[2]["project_name"] == "某银行关于2040年第1期信用卡不良贷款转让项目"
    assert rows.listings[2]["batch_year"] == 2040
    assert rows.listings[1]["auction_start"] == "2032-03-14T10:00"
    # The last copy's result is published after its listing's cutoff day: left out.
    assert [r["project_code"] for r in rows.results] == ["NPL2024000123", "NPL2032000123"]
    assert [r["project_name"] for r in rows.results] == [
        r["project_name"] for r in rows.listings[:2]
    ]
    assert {d["sha256"] for d in rows.documents} == {
        r["sha256"] for r in rows.listings + rows.results
    }


@pytest.mark.slow
@pytest.mark.heavy  # every benchmark phase end to end, about a minute: `make test-heavy`
def test_bench_all_runs_at_a_tiny_size_and_prints_one_table(
    isolated_env: Path, dbt_manifest: Path
) -> None:
    from harness.benchmarks import Options, run_all

    out = io.StringIO()
    results = run_all(
        Options(
            listings=30,
            scale_sizes=(40,),
            parse_sizes=(20,),
            setup=False,  # it would clone and download the locked dependency set
            full_run=False,
            freshness=False,
        ),
        out=out,
    )
    text = out.getvalue()
    assert results["errors"] == []  # a phase that failed is reported, not raised
    assert text.count("make bench") == 1
    for section in ("[crawl]", "[parse]", "[load]", "[dbt]", "[checks]", "[no-op]", "[scaling]"):
        assert section in text
    assert "targets met:" in text
    # No `make test` has recorded its time in this isolated data folder.
    assert "make test wall time" in text and "not recorded: run make test" in text
    assert "fresh clone" not in text

    manifest = json.loads(
        (isolated_env / "bench" / "site" / "synthetic-30-seed0" / "manifest.json").read_text(
            encoding="utf-8"
        )
    )
    pipeline = results["figures"]["pipeline"]
    # Everything on the site was crawled and parsed once; the no-op run fetched page 1 of
    # each index and nothing else.
    assert pipeline["documents"] == manifest["counts"]["pdfs"]
    assert pipeline["parsed_docs"] == manifest["counts"]["pdfs"]
    assert pipeline["noop_requests"].get("index") == 2
    assert set(pipeline["noop_requests"]) <= {"index", "robots"}
    assert [p["listings"] for p in results["figures"]["scaling"]] == [40]
    on_disk = json.loads((isolated_env / "bench" / "results.json").read_text(encoding="utf-8"))
    assert on_disk["targets"]["noop_index_requests"]["status"] == "met"
    assert not (isolated_env / "bench" / "work").exists()


def test_make_test_record_is_read_and_judged(tmp_path: Path) -> None:
    path = tmp_path / "make_test.json"
    assert read_make_test(path) is None
    assert "not recorded: run make test" in _make_test_row(None).figure

    path.write_text(
        json.dumps(
            {
                "seconds": 241.5,
                "passed": 412,
                "failed": 0,
                "workers": 2,
                "finished_at": "2026-11-30T15:20:04+00:00",
            }
        ),
        encoding="utf-8",
    )
    record = read_make_test(path)
    assert record is not None
    assert (record.seconds, record.passed, record.failed, record.workers) == (241.5, 412, 0, 2)
    row = _make_test_row(dataclasses.asdict(record))
    assert row.status == "met" and row.value == 241.5
    assert "2026-11-30T15:20:04+00:00" in row.measure and "before: 7 min 43 s" in row.figure

    slow = dataclasses.asdict(record) | {"seconds": 463.0}
    assert _make_test_row(slow).status == "NOT MET"
    # A failing session's time is shown but not judged.
    assert _make_test_row(dataclasses.asdict(record) | {"failed": 3}).status == "not measured"

    path.write_text(json.dumps({"seconds": "fast", "passed": 1}), encoding="utf-8")
    with pytest.raises(RecordError, match="'seconds' must be a non-negative number"):
        read_make_test(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(RecordError, match="not readable JSON"):
        read_make_test(path)


def test_fresh_clone_environment_points_nowhere_into_this_checkout(tmp_path: Path) -> None:
    venv_bin = str(settings.PROJECT_ROOT / ".venv" / "bin")
    base = {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin",
        "VIRTUAL_ENV": str(settings.PROJECT_ROOT / ".venv"),
        "DAGSTER_HOME": str(settings.PROJECT_ROOT / ".dagster_home"),
        "DUCKDB_DATABASE": str(settings.PROJECT_ROOT / "data" / "npl.duckdb"),
        "NPL_SOURCE_URL": "http://127.0.0.1:8765",
        "MAKEFLAGS": "-j2",
        "UV_INDEX_URL": "https://registry.example/simple",
        "HOME": "/root",
    }
    env = fresh_setup.clone_env(tmp_path, base)
    assert env["PATH"] == "/usr/local/bin:/usr/bin"
    for name in ("VIRTUAL_ENV", "DAGSTER_HOME", "DUCKDB_DATABASE", "NPL_SOURCE_URL", "MAKEFLAGS"):
        assert name not in env
    assert env["UV_CACHE_DIR"] == str(tmp_path / "uv-cache")  # empty: a new machine's
    assert env["UV_INDEX_URL"] == base["UV_INDEX_URL"]  # the configured registry stays
    assert env["NPL_SHARED_DIR"] == str(settings.shared_dir())
    assert env["HOME"] == "/root"


def test_make_run_pipeline_seconds_are_read_from_its_output() -> None:
    text = "installing\nrun succeeded in 17 s; the run is in the Dagster UI's history\n"
    assert fresh_setup.pipeline_seconds(text) == 17.0
    assert fresh_setup.pipeline_seconds("run failed: see log") is None


def test_step_seconds_are_read_from_a_dagster_job_execute_log() -> None:
    text = (
        'x - STEP_SUCCESS - Finished execution of step "raw_documents" in 12.4s.\n'
        'x - STEP_SUCCESS - Finished execution of step "listings" in 1m5s.\n'
        'x - STEP_SUCCESS - Finished execution of step "document_counts" in 533ms.\n'
        'x - STEP_FAILURE - Execution of step "npl_dbt_models" failed.\n'
    )
    assert fresh_setup.step_seconds_from_log(text) == {
        "raw_documents": 12.4,
        "listings": 65.0,
        "document_counts": 0.533,
    }


def test_freshness_is_counted_from_the_tick_that_saw_the_listing() -> None:
    from harness.benchmarks.suite import seconds_after_seen

    ticks = [
        {"sensor": "new_announcements_sensor", "after_s": 2.0, "runs": []},
        # Automation catching up on something else: it saw no listing.
        {"sensor": "downstream_automation_sensor", "after_s": 5.0, "runs": ["9c01a7e2"]},
        {"sensor": "new_announcements_sensor", "after_s": 13.6, "runs": ["2eed8595"]},
    ]
    assert seconds_after_seen({"seconds": 45.1, "ticks": ticks}) == 31.5
    assert seconds_after_seen({"seconds": None, "ticks": ticks}) is None
    assert seconds_after_seen({"seconds": 45.1, "ticks": ticks[:1]}) is None


def test_the_bench_lifts_the_crawl_page_cap_only_for_a_bigger_site() -> None:
    from harness.benchmarks.pipeline import crawl_page_cap, pages_needed

    assert crawl_page_cap(pages_needed(459, 147)) is None
    assert crawl_page_cap(pages_needed(20_000, 7_846)) == 2_000


def test_a_page_cap_in_the_environment_reaches_the_spiders(tmp_path: Path) -> None:
    """How the bench lifts the cap for its 20,000-listing site (the crawl runs in a subprocess:
    patching the runner in this process reached nothing once the crawl went through the
    site resource). Shown here the other way: a cap below the site's pages stops the paging."""
    from harness.isolation import environment
    from npl_assets.crawler.runner import run_crawl
    from npl_assets.site.build import build_site

    site = tmp_path / "site"
    build_site(site, synthetic=25, seed=3)  # 25 listings: 3 index pages
    feed = tmp_path / "feed.jsonl"
    with environment(NPL_MAX_PAGES="2"):
        summary = run_crawl(None, feed, tmp_path / "raw", spiders=("listings",), site_dir=site)
    errors = [json.loads(line).get("error") or "" for line in feed.read_text().splitlines()]
    assert any("more than NPL_MAX_PAGES=2" in error for error in errors), errors
    # Over the cap the spider keeps page 1 and pages no further.
    assert 0 < summary.documents < 25
