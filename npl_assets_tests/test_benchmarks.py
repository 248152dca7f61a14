"""Smoke test of `make bench` (`python -m harness.benchmarks`) at a tiny size: the machinery
runs end to end and prints its table. No timing is asserted (the machine is shared); only what
follows from the site itself."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from harness.benchmarks.scaling import BaseRows, synthesise


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
