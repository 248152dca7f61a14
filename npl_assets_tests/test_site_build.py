"""The full bundled site built from the real 2023 dataset: structure, pagination, links,
manifest, real samples and determinism."""

from __future__ import annotations

import csv
import hashlib
import json
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest
from parsel import Selector

LISTING_DIR = "xxpl/xxpl_bldkzr/bldkzr_zrgg"
RESULT_DIR = "xxpl/xxpl_bldkzr/bldkzr_zrjggg"
OLD_LISTING_DIR = "ywzq/ywzq_bldkzr/bldkzr_xxpl/bldkzr_xxpl_zrgg"
ITEM = "ul.list-box div.rightListContent.list-item"


def index_items(html: str) -> list[tuple[str, str, str]]:
    """(href, title, date) of each list item, with the real site's selectors."""
    page = Selector(text=html)
    out = []
    for item in page.css(ITEM):
        link = item.css("span.rightListImport.unlock.list-content a")
        title = link.attrib["title"]
        assert link.css("::text").get() == title
        out.append(
            (link.attrib["href"], title, item.css("span.rightListTime.data-time::text").get())
        )
    return out


def walk_index(root: Path, section: str) -> tuple[int, int, list[tuple[str, str, str]]]:
    """Follow the pagination from index.html by its numbering rule; (total, pages, items)."""
    first = (root / section / "index.html").read_text(encoding="utf-8")
    total = int(Selector(text=first).css("span#pageTotal::text").re_first(r"共(\d+)条"))
    pages = -(-total // 10)
    items = []
    for n in range(1, pages + 1):
        name = "index.html" if n == 1 else f"index_{pages - n + 1}.html"
        items += index_items((root / section / name).read_text(encoding="utf-8"))
    assert not (root / section / f"index_{pages}.html").exists()
    return total, pages, items


def dataset(shared_dir: Path, name: str) -> list[dict[str, str]]:
    with (shared_dir / "data" / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def manifest(built_site: Path) -> dict:
    return json.loads((built_site / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("section", "count", "pages"), [(LISTING_DIR, 459, 46), (RESULT_DIR, 147, 15)]
)
def test_indexes_paginate_backwards_ten_a_page_newest_first(
    built_site: Path, section: str, count: int, pages: int
) -> None:
    total, n_pages, items = walk_index(built_site, section)
    assert (total, n_pages, len(items)) == (count, pages, count)
    assert len({href for href, _, _ in items}) == count
    dates = [d for _, _, d in items]
    assert dates == sorted(dates, reverse=True)
    # index_1.html is the oldest page and holds ten items; index.html the newest remainder.
    oldest = index_items((built_site / section / "index_1.html").read_text(encoding="utf-8"))
    assert len(oldest) == 10 and oldest[-1] == items[-1]
    assert min(dates) == oldest[-1][2]
    for n in range(1, pages):
        page = index_items((built_site / section / f"index_{n}.html").read_text(encoding="utf-8"))
        assert len(page) == 10
    first = index_items((built_site / section / "index.html").read_text(encoding="utf-8"))
    assert len(first) == count - 10 * (pages - 1)


def test_list_dates_follow_the_publication_rule(built_site: Path, shared_dir: Path) -> None:
    _, _, items = walk_index(built_site, LISTING_DIR)
    by_title: dict[str, set[str]] = {}
    for _, title, day in items:
        by_title.setdefault(title, set()).add(day)
    for row in dataset(shared_dir, "yindeng_2023_listings.csv"):
        bid = date.fromisoformat(row["竞价日"][:10])
        assert (bid - timedelta(days=14)).isoformat() in by_title[
            row["项目名称"] + "不良贷款转让公告"
        ]
    _, _, results = walk_index(built_site, RESULT_DIR)
    dates = {title: day for _, title, day in results}
    row = next(r for r in dataset(shared_dir, "yindeng_2023_results.csv") if r["序号"] == "1")
    signed = date.fromisoformat(row["转让协议签署日期"])
    assert (
        dates[row["项目名称"] + "不良贷款转让结果公告"] == (signed + timedelta(days=14)).isoformat()
    )


def test_every_detail_page_links_an_existing_pdf(built_site: Path) -> None:
    for section in (LISTING_DIR, RESULT_DIR):
        _, _, items = walk_index(built_site, section)
        for href, title, day in items:
            assert href.startswith("./") and href.endswith(".html")
            month, name = href[2:].split("/")
            assert month == day[:4] + day[5:7] and name.startswith(f"t{day.replace('-', '')}_")
            detail = built_site / section / href[2:]
            page = Selector(text=detail.read_text(encoding="utf-8"))
            box = page.css("div.news_info_box")
            assert title in box.get()
            links = box.css('div.attach_main.attachment div.attach_file a[href$=".pdf"]')
            assert len(links) == 1
            pdf = detail.parent / links[0].attrib["href"]
            assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF-"), pdf


def test_pages_are_utf8_cms_pages(built_site: Path) -> None:
    html = (built_site / LISTING_DIR / "index.html").read_text(encoding="utf-8")
    page = Selector(text=html)
    assert page.css("meta[charset]").attrib["charset"].lower() == "utf-8"
    assert page.css("div.header") and "不良贷款转让" in page.css("div.breadcrumb").get()
    assert "模拟数据" not in html
    robots = (built_site / "robots.txt").read_text(encoding="utf-8")
    assert "Disallow: /admin/" in robots and "Disallow: /xxpl" not in robots


def test_manifest_lists_every_document_with_its_hash(built_site: Path, manifest: dict) -> None:
    docs = manifest["documents"]
    assert manifest["synthetic"] is False
    assert len(docs) == 606
    assert sum(d["doc_type"] == "listing" for d in docs) == 459
    assert sum(d["is_real_sample"] for d in docs) == 2
    assert not any(d["synthetic"] for d in docs)
    on_disk = sorted(p.relative_to(built_site).as_posix() for p in built_site.rglob("*.pdf"))
    assert on_disk == sorted(d["pdf_path"].lstrip("/") for d in docs)
    for doc in docs:
        data = (built_site / doc["pdf_path"].lstrip("/")).read_bytes()
        assert hashlib.sha256(data).hexdigest() == doc["sha256"]
        assert (built_site / doc["detail_path"].lstrip("/")).is_file()


def test_real_samples_replace_their_twins(
    built_site: Path, manifest: dict, samples_dir: Path
) -> None:
    real = {(d["doc_type"], d["serial"]): d for d in manifest["documents"] if d["is_real_sample"]}
    assert set(real) == {("listing", 415), ("result", 147)}
    listing = real[("listing", 415)]
    assert (
        listing["title"]
        == "华夏银行股份有限公司信用卡中心关于2023年第2期信用卡不良贷款转让项目不良贷款转让公告"
    )
    assert listing["list_date"] == "2023-12-07"
    assert real[("result", 147)]["list_date"] == "2023-12-11"  # the real footer's date
    for doc, name in (
        (listing, "listing_huaxia_cc_2023_02.pdf"),
        (real[("result", 147)], "result_hebei_2023_01.pdf"),
    ):
        assert (built_site / doc["pdf_path"].lstrip("/")).read_bytes() == (
            samples_dir / name
        ).read_bytes()


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_real_samples_are_served_byte_for_byte(
    site_server: str, manifest: dict, samples_dir: Path
) -> None:
    names = {
        ("listing", 415): "listing_huaxia_cc_2023_02.pdf",
        ("result", 147): "result_hebei_2023_01.pdf",
    }
    for doc in manifest["documents"]:
        key = (doc["doc_type"], doc["serial"])
        if key in names:
            status, headers, body = _get(site_server + doc["pdf_path"])
            assert status == 200 and headers["Content-Type"] == "application/pdf"
            assert body == (samples_dir / names[key]).read_bytes()
            assert int(headers["Content-Length"]) == len(body)


def test_old_path_family_serves_the_same_pages(site_server: str) -> None:
    _, _, new = _get(f"{site_server}/{LISTING_DIR}/index_3.html")
    _, _, old = _get(f"{site_server}/{OLD_LISTING_DIR}/index_3.html")
    assert new == old
    href = index_items(old.decode("utf-8"))[0][0]
    status, headers, _ = _get(f"{site_server}/{OLD_LISTING_DIR}/{href[2:]}")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    _, _, robots = _get(f"{site_server}/robots.txt")
    assert b"User-agent: *" in robots


def test_rebuilding_gives_identical_files_in_under_a_minute(
    tmp_path: Path, shared_dir: Path, manifest: dict
) -> None:
    from npl_assets.site.build import build_site

    summary = build_site(tmp_path / "again", shared_dir=shared_dir)
    print(f"full site build: {summary['pdfs']} PDFs in {summary['seconds']} s")
    assert summary["seconds"] < 60
    assert (summary["listings"], summary["results"], summary["pdfs"]) == (459, 147, 606)
    assert (summary["listing_pages"], summary["result_pages"]) == (46, 15)
    again = json.loads((tmp_path / "again" / "manifest.json").read_text(encoding="utf-8"))
    assert again == manifest
