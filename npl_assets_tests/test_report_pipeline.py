"""The market report on the real 2023 data, end to end: the whole graph materialised on the
bundled site, then one quarter's tables checked against sums computed here from the dataset
CSV, and the 2023Q4 page rendered in headless Chromium (screenshot under data/reports/)."""

from __future__ import annotations

import csv
import re
import shutil
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from npl_assets import settings
from npl_assets.report import data, render
from npl_assets.sql import connect_serving
from npl_assets_tests.test_report_browser import (
    dump_dom,
    require_chromium,
    screenshot,
    warn_without_cjk_font,
)

pytestmark = pytest.mark.slow

QUARTER = "2023Q4"


@pytest.fixture(scope="session")
def pipeline(full_pipeline: dict) -> dict:
    # Where the screenshot goes: the checkout's data/reports/, or NPL_DATA_DIR's.
    return {**full_pipeline, "screenshots": settings.data_dir() / "reports"}


def norm(text: str) -> str:
    """Spaces out, parentheses full-width: the contract's normal form of names."""
    text = re.sub(r"[\s\u3000\xa0]+", "", text)
    return text.replace("(", "（").replace(")", "）")


def expected_projects(shared_dir: Path) -> list[dict]:
    """The dataset's listings merged into projects, by hand: a project is seller + name
    without the relisting marker; its quarter is that of its first publication (竞价日 − 14
    days), its figures those of its latest announcement."""
    with (shared_dir / "data" / "yindeng_2023_listings.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    seeds_file = settings.PROJECT_ROOT / "dbt_project" / "seeds" / "sellers.csv"
    with seeds_file.open(encoding="utf-8-sig") as f:
        seller_types = {r["seller"]: r["seller_type"] for r in csv.DictReader(f)}
    announcements: dict[tuple[str, str], list[tuple[date, dict]]] = defaultdict(list)
    for row in rows:
        seller = norm(row["出让方主体名称"] + row["下属机构"])
        name = re.sub("（重新挂牌）|（重新公告）", "", norm(row["项目名称"]))
        published = date.fromisoformat(row["竞价日"][:10]) - timedelta(days=14)
        announcements[(seller, name)].append((published, row))
    projects = []
    for (seller, _name), items in announcements.items():
        first = min(published for published, _ in items)
        _, latest = max(items, key=lambda item: item[0])
        projects.append(
            {
                "quarter": f"{first.year}Q{(first.month - 1) // 3 + 1}",
                "seller": seller,
                "seller_type": seller_types.get(seller, "未分类"),
                "unpaid_total_yuan": Decimal(latest["未偿本息总额（元）"]),
                "borrowers": int(latest["借款人户数（户）"]),
                "starting_price_yuan": Decimal(latest["起始价（元）"]),
            }
        )
    return projects


def test_asset_writes_every_quarter_and_markdown(pipeline: dict) -> None:
    materialization = pipeline["result"].asset_materializations_for_node("market_report")[0]
    metadata = materialization.metadata
    quarters = metadata["quarters"].value
    assert {"2023Q1", "2023Q2", "2023Q3", "2023Q4"} <= set(quarters)
    for quarter in quarters:
        assert (pipeline["reports"] / f"{quarter}.html").exists()
        assert f"# {render.report_title(quarter)}" in metadata[f"report_{quarter}"].value
    index = (pipeline["reports"] / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{q}.html"' in index for q in quarters)


def test_quarter_tables_match_the_dataset(pipeline: dict, shared_dir: Path) -> None:
    projects = [p for p in expected_projects(shared_dir) if p["quarter"] == QUARTER]
    expected: dict[str, list[Decimal | int]] = defaultdict(lambda: [0, Decimal(0), 0, Decimal(0)])
    for p in projects:
        sums = expected[p["seller_type"]]
        sums[0] += 1
        sums[1] += p["unpaid_total_yuan"]
        sums[2] += p["borrowers"]
        sums[3] += p["starting_price_yuan"]
    con = connect_serving(pipeline["serving"])
    try:
        report = data.load_report(con, QUARTER)
    finally:
        con.close()
    got = {
        g.name: [g.listings, g.unpaid_total_yuan, g.borrowers, g.starting_price_yuan]
        for g in report.by_seller_type
    }
    assert got == dict(expected)
    figures = {f.label: f.value for f in report.headline}
    assert figures["listings (projects)"] == len(projects)
    assert figures["unpaid total listed (未偿本息)"] == sum(
        p["unpaid_total_yuan"] for p in projects
    )
    # every 2023 listing states a starting price, so the ratio's base is the whole total
    total = report.total
    assert total.listings_without_starting_price == 0
    assert total.starting_price_ratio == sum(p["starting_price_yuan"] for p in projects) / sum(
        p["unpaid_total_yuan"] for p in projects
    )
    # the page shows the figures the test expects, as formatted for display
    page = (pipeline["reports"] / f"{QUARTER}.html").read_text(encoding="utf-8")
    for seller_type, (_n, amount, _b, _s) in expected.items():
        assert f"<td>{seller_type}</td>" in page
        assert f"<td class=num>{render.fmt_yi(amount)}</td>" in page


def test_report_renders_in_chromium_with_a_screenshot(pipeline: dict) -> None:
    require_chromium()
    page = pipeline["reports"] / f"{QUARTER}.html"
    profile = pipeline["work"] / "chromium-profile"
    dom = dump_dom(page, profile)
    assert dom.count("<svg") >= 5
    assert dom.count("<table") >= 9
    assert "股份行" in dom
    png = screenshot(page, profile, pipeline["screenshots"] / f"{QUARTER}.png")
    assert png.stat().st_size > 50_000
    # keep the page beside its screenshot, so that a reader can open what they see
    shutil.copy(page, png.with_suffix(".html"))
    warn_without_cjk_font()
