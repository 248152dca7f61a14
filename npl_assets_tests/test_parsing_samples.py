"""The two real PDFs parse to exactly their hand-checked expected.json; the CLI and the bench."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from npl_assets.parsing import ListingRecord, ResultRecord, parse_pdf

# Keys a listing record has beyond the expected.json files (the shared data contract).
LISTING_EXTRAS = {
    "project_name",
    "is_relisting",
    "remarks",
    "asset_type_wording",
    "unread_fields",
}
RESULT_EXTRAS = {"unread_fields"}
SAMPLES = ["listing_huaxia_cc_2023_02", "result_hebei_2023_01"]


def _expected(samples_dir: Path, stem: str) -> dict:
    return json.loads((samples_dir / f"{stem}.expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("stem", SAMPLES)
def test_sample_parses_to_expected_json(samples_dir: Path, stem: str) -> None:
    expected = _expected(samples_dir, stem)
    record = parse_pdf(samples_dir / f"{stem}.pdf")
    got = record.to_json_dict()
    extras = LISTING_EXTRAS if expected["document_type"] == "listing" else RESULT_EXTRAS
    assert set(got) == set(expected) | extras
    for key, value in expected.items():
        assert got[key] == value, key
    # JSON round trip: the dict is plain JSON (no Decimal or date objects left in it)
    assert json.loads(json.dumps(got, ensure_ascii=False)) == got


def test_listing_sample_extras_and_types(samples_dir: Path) -> None:
    record = parse_pdf((samples_dir / "listing_huaxia_cc_2023_02.pdf").read_bytes(), name="x")
    assert isinstance(record, ListingRecord)
    assert (
        record.project_name == "华夏银行股份有限公司信用卡中心关于2023年第2期信用卡不良贷款转让项目"
    )
    assert record.is_relisting is False
    assert record.asset_type_wording == "信用卡" and record.unread_fields is None
    assert record.remarks == "未偿利息包括：利息及信用卡年费、刷卡手续费、取现手续费等相关费用。"
    # exact money: principal + interest = total, to the fen
    assert record.unpaid_principal_yuan + record.unpaid_interest_yuan == record.unpaid_total_yuan
    assert str(record.unpaid_total_yuan) == "580608820.89"


def test_no_personal_contact_data_in_records(samples_dir: Path) -> None:
    for stem in SAMPLES:
        dumped = json.dumps(
            parse_pdf(samples_dir / f"{stem}.pdf").to_json_dict(), ensure_ascii=False
        )
        for personal in ("安然", "13693296818", "hxxykzc", "王钊", "13933860521", "wangzhao", "@"):
            assert personal not in dumped


def test_result_sample_type(samples_dir: Path) -> None:
    record = parse_pdf(samples_dir / "result_hebei_2023_01.pdf")
    assert isinstance(record, ResultRecord)
    assert record.document_type == "result"


def _npl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "npl_assets.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def test_cli_prints_json_lines_and_fails_on_bad_files(samples_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "page.pdf"
    bad.write_text("<!doctype html><html><body>404</body></html>", encoding="utf-8")
    files = [samples_dir / f"{stem}.pdf" for stem in SAMPLES]
    proc = _npl("parse", str(files[0]), str(bad), str(files[1]))
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 2  # the good files are still printed, in order
    for line, stem in zip(lines, SAMPLES, strict=True):
        got = json.loads(line)
        expected = _expected(samples_dir, stem)
        assert {k: got[k] for k in expected} == expected
        assert "file" not in got
    assert str(bad) in proc.stderr
    assert "UnreadablePdfError" in proc.stderr
    assert "安然" not in proc.stdout


def test_cli_all_good_exits_zero(samples_dir: Path) -> None:
    from npl_assets.cli import main

    assert main(["parse", str(samples_dir / "result_hebei_2023_01.pdf")]) == 0


def test_cli_error_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from npl_assets.cli import main
    from npl_assets_tests.test_parsing_variants import listing_pdf

    path = tmp_path / "no_total.pdf"
    path.write_bytes(listing_pdf(drop_labels=("未偿本息总额",)))
    assert main(["parse", str(path)]) == 1
    err = capsys.readouterr().err
    assert "no_total.pdf" in err
    assert "unpaid_total_yuan" in err
    assert "MissingFieldError" in err


def test_bench_parse_reports_rates(
    samples_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from npl_assets import bench
    from npl_assets.cli import main

    monkeypatch.setattr(bench, "MIN_SECONDS", 0.0)
    assert main(["bench", "parse", "--dir", str(samples_dir), "--limit", "5"]) == 0
    out = capsys.readouterr().out
    assert "2 PDFs" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert set(rows) >= {"listing", "result", "all"}
    for kind in ("listing", "result"):
        assert float(rows[kind][2]) > 0 and float(rows[kind][3]) > 0
