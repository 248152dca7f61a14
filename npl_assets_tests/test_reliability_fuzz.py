"""Bad input through the real parse path (issue 7): mutated real and generated PDFs are stored
and indexed as documents, `listings` and `results` are materialised, and every document must end
as a parsed row or a typed failure, never an 'Unexpected*' crash. The parser's own unit tests of
unreadable input are in test_parsing_variants.py; this drives the assets."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from harness.reliability import invariants
from harness.reliability.scenarios.fuzz import (
    NEVER_PARSE,
    FuzzResult,
    base_documents,
    build_cases,
    run_fuzz,
)
from harness.reliability.sites import build_site
from npl_assets.parsing import MAX_PDF_BYTES, parse_pdf
from npl_assets.parsing.errors import UnreadablePdfError

GENERATED = 6  # PDFs of the synthetic site among the bases


@pytest.fixture(scope="session")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory, samples_dir: Path
) -> tuple[FuzzResult, list, Path]:
    site = build_site(tmp_path_factory.mktemp("site"), synthetic=12, seed=2)
    bases = base_documents(site, samples_dir, generated=GENERATED)
    cases = build_cases(bases, per_base=8, seed=5)
    work = tmp_path_factory.mktemp("fuzz")
    return run_fuzz(work, cases), cases, work / "fuzz.duckdb"


def test_every_fuzzed_document_is_a_row_or_a_typed_failure(fuzzed) -> None:
    result, cases, _ = fuzzed
    assert result.problems == []
    assert result.untyped == 0
    assert result.parsed + result.failed == result.documents == len({c.sha256 for c in cases})
    assert result.failed > result.documents // 3  # the mutations do break documents


def test_the_mutations_cover_what_the_issue_names(fuzzed, samples_dir: Path) -> None:
    _, cases, _ = fuzzed
    kinds = Counter(c.kind for c in cases)
    for kind in ("truncate", "truncate-eof", "flip", "html", "empty", "oversize", "encrypted"):
        assert kinds[kind] >= 1, kind
    # every real sample and every generated PDF is also fuzzed unchanged, as a control
    assert kinds["original"] == len(list(samples_dir.glob("*.pdf"))) + GENERATED


def test_hopeless_inputs_fail_as_unreadable(fuzzed) -> None:
    _, cases, db = fuzzed
    failures = dict(
        invariants.read_rows(
            db, "select sha256, error_type || ': ' || message from raw.parse_failures"
        )
    )
    for case in cases:
        if case.kind in NEVER_PARSE:
            assert failures[case.sha256].startswith("UnreadablePdfError"), case.name
    by_kind = {c.kind: failures[c.sha256] for c in cases if c.kind in NEVER_PARSE}
    assert "empty" in by_kind["empty"] and "not a PDF" in by_kind["html"]
    assert "encrypted" in by_kind["encrypted"] and "too large" in by_kind["oversize"]


def test_a_pdf_over_the_size_cap_is_refused_unread(samples_dir: Path, tmp_path: Path) -> None:
    data = (samples_dir / "listing_huaxia_cc_2023_02.pdf").read_bytes()
    padded = data + b"\n%" + b" " * (MAX_PDF_BYTES - len(data))  # a valid PDF, just too big
    with pytest.raises(UnreadablePdfError, match="too large"):
        parse_pdf(padded, name="big.pdf")
    path = tmp_path / "big.pdf"
    path.write_bytes(padded)
    with pytest.raises(UnreadablePdfError, match=r"big\.pdf: file too large"):
        parse_pdf(path)
    assert parse_pdf(data).to_json_dict()["document_type"] == "listing"  # the same bytes, fine
