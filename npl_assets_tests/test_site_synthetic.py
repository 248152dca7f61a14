"""Synthetic sites, build errors and the `npl site` commands, on small builds in tmp_path."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from npl_assets.parsing.pdftext import extract_pages
from npl_assets.site.build import build_site
from npl_assets.site.source import SiteDataMissing
from npl_assets.site.synthetic import synthetic_rows

CUTOFF = date(2025, 10, 27)


def pdf_text(path: Path) -> str:
    # The parser's extraction, whose text does not depend on the machine's fonts.
    return "\n".join(extract_pages(path.read_bytes()))


@pytest.fixture(scope="session")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "site"
    summary = build_site(out, synthetic=60, seed=5)
    assert summary["synthetic"] and summary["listings"] == 60
    return out


def test_synthetic_rows_are_plausible() -> None:
    listings, results = synthetic_rows(400, seed=3)
    assert len(listings) == 400
    assert 0.3 <= len(results) / len(listings) <= 0.5
    years = {int(r["竞价日"][:4]) for r in listings}
    assert {2021, 2022, 2023, 2024, 2025, 2026} <= years
    assert any("（重新挂牌）" in r["项目名称"] for r in listings)
    for row in listings:
        principal, interest = Decimal(row["未偿本金总额（元）"]), Decimal(row["未偿利息总额（元）"])
        assert principal + interest == Decimal(row["未偿本息总额（元）"])
        assert int(row["借款人户数（户）"]) <= int(row["资产笔数（笔）"])
        five = sum(int(row[f"{c}（笔）"] or 0) for c in ("次级", "可疑", "损失"))
        assert five == int(row["资产笔数（笔）"])
        published = date.fromisoformat(row["竞价日"][:10]).toordinal() - 14
        if published >= CUTOFF.toordinal():
            assert row["起始价（元）"] == ""
        else:
            assert 0 < Decimal(row["起始价（元）"]) < Decimal(row["未偿本息总额（元）"])
    assert synthetic_rows(400, seed=3) == (listings, results)
    assert synthetic_rows(400, seed=4)[0] != listings


def test_synthetic_sellers_come_from_the_2023_dataset(shared_dir: Path) -> None:
    with (shared_dir / "data" / "yindeng_2023_listings.csv").open(encoding="utf-8-sig") as f:
        real = {(r["出让方主体名称"], r["下属机构"]) for r in csv.DictReader(f)}
    listings, _ = synthetic_rows(300, seed=1)
    assert {(r["出让方主体名称"], r["下属机构"]) for r in listings} <= real


def test_every_synthetic_page_and_pdf_is_marked(small_site: Path) -> None:
    manifest = json.loads((small_site / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["synthetic"] and all(d["synthetic"] for d in manifest["documents"])
    html_pages = list(small_site.rglob("*.html"))
    assert len(html_pages) > 60
    for page in html_pages:
        assert "模拟数据，仅供测试" in page.read_text(encoding="utf-8"), page
    for doc in manifest["documents"][::7]:
        assert "（模拟数据，仅供测试）" in pdf_text(small_site / doc["pdf_path"].lstrip("/"))


def test_no_starting_price_from_2025_10_27(small_site: Path) -> None:
    manifest = json.loads((small_site / "manifest.json").read_text(encoding="utf-8"))
    listings = [d for d in manifest["documents"] if d["doc_type"] == "listing"]
    late = [d for d in listings if date.fromisoformat(d["list_date"]) >= CUTOFF]
    early = [d for d in listings if date.fromisoformat(d["list_date"]) < CUTOFF]
    assert late and early
    for doc in late:
        text = pdf_text(small_site / doc["pdf_path"].lstrip("/"))
        assert "加价幅度（元）" in text and "起始价" not in text
    for doc in early[:5]:
        assert "起始价（元）" in pdf_text(small_site / doc["pdf_path"].lstrip("/"))


def test_synthetic_builds_are_deterministic(tmp_path: Path, small_site: Path) -> None:
    build_site(tmp_path / "again", synthetic=60, seed=5)
    build_site(tmp_path / "other", synthetic=60, seed=6)
    read = lambda p: json.loads((p / "manifest.json").read_text(encoding="utf-8"))  # noqa: E731
    same, other = read(tmp_path / "again"), read(small_site)
    assert [d["sha256"] for d in same["documents"]] == [d["sha256"] for d in other["documents"]]
    assert read(tmp_path / "other")["documents"] != other["documents"]


def test_pool_rendering_gives_the_same_files(tmp_path: Path) -> None:
    one = build_site(tmp_path / "one", synthetic=12, seed=2, workers=1)
    two = build_site(tmp_path / "two", synthetic=12, seed=2, workers=2)
    assert one["pdfs"] == two["pdfs"]
    read = lambda p: (p / "manifest.json").read_text(encoding="utf-8")  # noqa: E731
    assert read(tmp_path / "one") == read(tmp_path / "two")


def test_missing_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SiteDataMissing, match="shared_dir"):
        build_site(tmp_path / "site")
    with pytest.raises(SiteDataMissing, match=str(tmp_path / "empty" / "data")):
        build_site(tmp_path / "site", shared_dir=tmp_path / "empty")
    assert not (tmp_path / "site").exists()


def test_refuses_to_replace_a_folder_that_is_not_a_site(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError, match="no bundled site"):
        build_site(tmp_path / "mine", synthetic=3)
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_cli_build_falls_back_to_synthetic_when_shared_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from npl_assets.cli import main
    from npl_assets.site import cli

    monkeypatch.setenv("NPL_SHARED_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setattr(cli, "FALLBACK_SYNTHETIC_LISTINGS", 8)
    out = tmp_path / "site"
    assert main(["site", "build", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "missing" in printed and str(tmp_path / "nowhere") in printed
    assert "synthetic" in printed and "8 listings" in printed
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["synthetic"]

    assert main(["site", "build", "--out", str(out)]) == 0
    assert "already built" in capsys.readouterr().out
    assert main(["site", "build", "--out", str(out), "--synthetic", "5", "--force"]) == 0
    assert "5 listings" in capsys.readouterr().out

    assert main(["site", "check", "--dir", str(out)]) == 0
    checked = capsys.readouterr().out
    assert "5 items on 1 pages" in checked and "http://127.0.0.1:" in checked


def test_smoke_check_summarises_both_indexes(small_site: Path) -> None:
    from npl_assets.site.cli import smoke_check

    manifest = json.loads((small_site / "manifest.json").read_text(encoding="utf-8"))
    summary = smoke_check(small_site)
    results = manifest["counts"]["results"]
    assert "转让公告 (listing): 60 items on 6 pages, 10 on the first page" in summary
    assert f"转让结果公告 (result): {results} items" in summary
