"""The market report on hand-made marts: headline figures, breakdowns, starting-price ratios
and overdue buckets against sums computed here from the hand-made project rows."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from npl_assets.cli import main as npl_main
from npl_assets.report import data, render
from npl_assets.report.build import build_reports
from npl_assets.report.model import Group, ReportDataError, overdue_bucket, shift_quarter
from npl_assets.sql import connect_serving

D = Decimal

# (quarter, seller, seller_type, asset_type, unpaid_total, borrowers, overdue days,
#  starting price, buyer or None)
PROJECTS: list[tuple] = [
    (
        "2022Q4",
        "甲消费金融有限公司",
        "消费金融公司",
        "个人消费贷款",
        D("1000000000.00"),
        8000,
        900,
        D("50000000.00"),
        "乙资产管理有限公司",
    ),
    (
        "2023Q3",
        "丙银行股份有限公司",
        "股份行",
        "信用卡透支",
        D("400000000.00"),
        4000,
        1500,
        D("20000000.00"),
        None,
    ),
    (
        "2023Q4",
        "丙银行股份有限公司",
        "股份行",
        "信用卡透支",
        D("300000000.00"),
        3000,
        1200,
        D("30000000.00"),
        "乙资产管理有限公司",
    ),
    (
        "2023Q4",
        "丙银行股份有限公司",
        "股份行",
        "个人消费贷款",
        D("100000000.50"),
        1000,
        400,
        D("5000000.00"),
        None,
    ),
    (
        "2023Q4",
        "甲消费金融有限公司",
        "消费金融公司",
        "个人消费贷款",
        D("2000000000.00"),
        20000,
        2000,
        D("100000000.00"),
        "丁资产管理股份有限公司",
    ),
    (
        "2023Q4",
        "戊城市商业银行股份有限公司",
        "城商行",
        None,
        D("50000000.00"),
        500,
        None,
        None,
        None,
    ),
    (
        "2023Q4",
        "己农村商业银行股份有限公司",
        "农商行/农信",
        "个人经营性贷款",
        D("12345678.91"),
        120,
        200,
        D("1000000.00"),
        "丁资产管理股份有限公司",
    ),
    # 2024Q1: one listing without a starting price beside two with one
    (
        "2024Q1",
        "甲消费金融有限公司",
        "消费金融公司",
        "个人消费贷款",
        D("600000000.00"),
        6000,
        1900,
        None,
        None,
    ),
    (
        "2024Q1",
        "甲消费金融有限公司",
        "消费金融公司",
        "个人消费贷款",
        D("150000000.00"),
        1500,
        1000,
        D("9000000.00"),
        None,
    ),
    (
        "2024Q1",
        "丙银行股份有限公司",
        "股份行",
        "信用卡透支",
        D("50000000.00"),
        500,
        800,
        D("1000000.00"),
        None,
    ),
]
# A project whose listing date is unknown: in no quarter, but counted in the coverage.
PROJECTS.append(
    (None, "丙银行股份有限公司", "股份行", "信用卡透支", D("7000000.00"), 70, 900, None, None)
)
# Ten more small sellers in 2023Q4 so that the top-10 cut matters.
PROJECTS += [
    (
        "2023Q4",
        f"小额{i:02d}银行股份有限公司",
        "城商行",
        "个人消费贷款",
        D(f"{i}000000.00"),
        10 * i,
        700,
        D(f"{i}00000.00"),
        None,
    )
    for i in range(1, 11)
]


def project_rows() -> list[dict]:
    rows = []
    for n, (q, seller, stype, atype, unpaid, borrowers, days, sp, buyer) in enumerate(PROJECTS):
        listed = None if q is None else f"{q[:4]}-{3 * int(q[-1]) - 1:02d}-15"
        rows.append(
            {
                "project_id": f"p{n:03d}",
                "seller": seller,
                "parent_institution": seller,
                "seller_type": stype,
                "asset_type": atype,
                "first_listing_date": listed,
                "first_listing_quarter": q,
                "unpaid_total_yuan": unpaid,
                "borrowers": borrowers,
                "weighted_avg_overdue_days": days,
                "starting_price_yuan": sp,
                "sold": buyer is not None,
                "buyer": buyer,
                "relisted": False,
            }
        )
    return rows


# The marts built the way the data contract describes them, from the hand-made projects.
MEASURES = """
    count(*) as listings,
    cast(sum(unpaid_total_yuan) as decimal(18, 2)) as unpaid_total_yuan,
    cast(sum(unpaid_total_yuan) * 0.6 as decimal(18, 2)) as unpaid_principal_yuan,
    cast(sum(unpaid_total_yuan) * 0.4 as decimal(18, 2)) as unpaid_interest_yuan,
    cast(sum(borrowers) as bigint) as borrowers,
    cast(sum(borrowers) as bigint) as loans,
    cast(sum(weighted_avg_overdue_days * unpaid_total_yuan)
         / sum(unpaid_total_yuan) filter (where weighted_avg_overdue_days is not null)
         as decimal(12, 2)) as weighted_avg_overdue_days,
    cast(sum(starting_price_yuan) as decimal(18, 2)) as starting_price_yuan,
    cast(sum(starting_price_yuan) as double)
        / nullif(cast(sum(unpaid_total_yuan) filter (where starting_price_yuan is not null)
                 as double), 0) as starting_price_ratio,
    count(*) filter (where starting_price_yuan is null) as listings_without_starting_price,
    count(*) filter (where sold) as sold_listings
"""


def make_marts(path: Path) -> None:
    import pandas as pd

    con = duckdb.connect(str(path))
    try:
        frame = pd.DataFrame(project_rows())
        con.register("hand_projects", frame)
        con.execute(
            """create table projects as select * replace (
                   cast(unpaid_total_yuan as decimal(18, 2)) as unpaid_total_yuan,
                   cast(starting_price_yuan as decimal(18, 2)) as starting_price_yuan,
                   cast(weighted_avg_overdue_days as decimal(12, 2)) as weighted_avg_overdue_days,
                   cast(first_listing_date as date) as first_listing_date)
               from hand_projects"""
        )
        con.execute(
            f"""create table seller_quarterly_metrics as
                select seller, parent_institution, seller_type,
                       first_listing_quarter as quarter, {MEASURES}
                from projects group by all"""
        )
        con.execute(
            f"""create table market_quarterly_metrics as
                select first_listing_quarter as quarter, seller_type,
                       coalesce(asset_type, '未分类') as asset_type, {MEASURES}
                from projects group by all"""
        )
        # all quarters; 庚 bought three projects whose listings are not in the data
        con.execute(
            """create table buyer_league as
               select buyer, count(*) as projects_bought, 0 as projects_without_listing,
                      sum(unpaid_total_yuan) as unpaid_total_yuan
               from projects where sold group by buyer
               union all
               select '庚资产管理有限公司', 3, 3, null"""
        )
        con.execute(
            "create table stg_listings as select project_id, relisted as is_relisting from projects"
        )
        con.execute("create table stg_results as select buyer from projects where sold")
    finally:
        con.close()


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("marts") / "serving.duckdb"
    make_marts(path)
    return path


@pytest.fixture
def con(serving: Path):
    connection = connect_serving(serving)
    yield connection
    connection.close()


def of_quarter(q: str) -> list[dict]:
    return [r for r in project_rows() if r["first_listing_quarter"] == q]


def test_quarter_arithmetic_and_buckets() -> None:
    assert shift_quarter("2024Q1", -1) == "2023Q4"
    assert shift_quarter("2023Q4", -4) == "2022Q4"
    assert shift_quarter("2023Q2", 3) == "2024Q1"
    with pytest.raises(ReportDataError):
        shift_quarter("2023-4", 1)
    assert [overdue_bucket(d) for d in (0, 364, 365, 1094, 1095, 1824, 1825, None)] == [
        "< 1 year",
        "< 1 year",
        "1–3 years",
        "1–3 years",
        "3–5 years",
        "3–5 years",
        "> 5 years",
        "not disclosed",
    ]


def test_formats() -> None:
    assert render.fmt_yi(D("21293000000.00")) == "212.93"
    assert render.fmt_yi(D("123456789012.34")) == "1,234.57"
    assert render.fmt_change(150, 100) == "+50.0%"
    assert render.fmt_change(D("50"), D("200")) == "-75.0%"
    assert render.fmt_change(1, None) == "n/a"
    assert render.fmt_change(1, 0) == "n/a"
    assert render.fmt_ratio(D("0.1")) == "10.00% (1.00折)"
    assert render.fmt_share(1, 3) == "33.3%"


def test_quarters_are_those_of_the_marts(con) -> None:
    assert data.quarters(con) == ["2022Q4", "2023Q3", "2023Q4", "2024Q1"]


def test_headline_figures_match_the_hand_made_projects(con) -> None:
    report = data.load_report(con, "2023Q4")
    rows = of_quarter("2023Q4")
    previous = of_quarter("2023Q3")
    year_ago = of_quarter("2022Q4")
    figures = {f.label: f for f in report.headline}
    listings = figures["listings (projects)"]
    assert (listings.value, listings.previous_quarter, listings.year_ago) == (
        len(rows),
        len(previous),
        len(year_ago),
    )
    unpaid = figures["unpaid total listed (未偿本息)"]
    assert unpaid.value == sum(r["unpaid_total_yuan"] for r in rows)
    assert unpaid.previous_quarter == D("400000000.00")
    assert unpaid.year_ago == D("1000000000.00")
    assert figures["borrowers"].value == sum(r["borrowers"] for r in rows)
    assert figures["sold projects"].value == sum(1 for r in rows if r["sold"]) == 3

    md = render.to_markdown(report)
    total_yi = sum(r["unpaid_total_yuan"] for r in rows) / D(100_000_000)
    assert f"{total_yi:,.2f}亿元" in md
    # 15 listings against 1 in 2023Q3 and 1 in 2022Q4: +1400%
    assert "+1400.0%" in md


def test_missing_comparison_quarters_are_na(con) -> None:
    report = data.load_report(con, "2024Q1")
    figures = {f.label: f for f in report.headline}
    assert figures["listings (projects)"].year_ago is None  # no 2023Q1 in the data
    assert figures["listings (projects)"].previous_quarter == len(of_quarter("2023Q4"))
    html = render.to_html(report)
    assert "vs 2023Q1: n/a" in html


def test_breakdowns_sum_to_the_quarter(con) -> None:
    report = data.load_report(con, "2023Q4")
    rows = of_quarter("2023Q4")
    by_type = {g.name: g for g in report.by_seller_type}
    assert list(by_type) == ["股份行", "城商行", "农商行/农信", "消费金融公司"]  # contract order
    expected = sum(r["unpaid_total_yuan"] for r in rows if r["seller_type"] == "城商行")
    assert by_type["城商行"].unpaid_total_yuan == expected
    assert by_type["城商行"].listings == 11
    by_asset = {g.name: g for g in report.by_asset_type}
    assert by_asset["未分类"].listings == 1  # the listing without an asset type is kept
    assert sum(g.unpaid_total_yuan for g in report.by_asset_type) == sum(
        r["unpaid_total_yuan"] for r in rows
    )
    assert report.by_asset_type[0].name == "个人消费贷款"  # largest first


def test_starting_price_ratio_is_a_ratio_of_sums(con) -> None:
    report = data.load_report(con, "2024Q1")
    rows = [r for r in of_quarter("2024Q1") if r["seller_type"] == "消费金融公司"]
    disclosed = [r for r in rows if r["starting_price_yuan"] is not None]
    group = next(g for g in report.by_seller_type if g.name == "消费金融公司")
    assert group.listings_without_starting_price == 1
    assert group.starting_price_base_yuan == sum(r["unpaid_total_yuan"] for r in disclosed)
    assert group.starting_price_ratio == D("9000000.00") / D("150000000.00")
    assert report.total.starting_price_ratio == D("10000000.00") / D("200000000.00")
    md = render.to_markdown(report)
    assert "1 of 3 listings disclose none" in md
    assert "6.00% (0.60折)" in md  # 9,000,000 / 150,000,000


def test_top_sellers_and_buyers(con) -> None:
    report = data.load_report(con, "2023Q4")
    assert len(report.top_sellers) == 10
    assert report.top_sellers[0].seller == "甲消费金融有限公司"
    assert report.top_sellers[1].unpaid_total_yuan == D("400000000.50")
    amounts = [s.unpaid_total_yuan for s in report.top_sellers]
    assert amounts == sorted(amounts, reverse=True)
    assert [(b.buyer, b.projects) for b in report.top_buyers] == [
        ("丁资产管理股份有限公司", 2),
        ("乙资产管理有限公司", 1),
    ]
    assert report.top_buyers[0].unpaid_total_yuan == D("2012345678.91")
    # the all-time league, in the mart's order: projects bought, then amount
    assert [(b.buyer, b.projects_bought) for b in report.buyer_league] == [
        ("庚资产管理有限公司", 3),
        ("丁资产管理股份有限公司", 2),
        ("乙资产管理有限公司", 2),
    ]


def test_overdue_distribution_keeps_undisclosed_projects(con) -> None:
    report = data.load_report(con, "2023Q4")
    buckets = {b.label: (b.projects, b.unpaid_total_yuan) for b in report.overdue}
    assert buckets["< 1 year"] == (1, D("12345678.91"))
    assert buckets["1–3 years"][0] == 11  # 400 days and the ten small sellers at 700
    assert buckets["3–5 years"] == (1, D("300000000.00"))
    assert buckets["> 5 years"] == (1, D("2000000000.00"))
    assert buckets["not disclosed"] == (1, D("50000000.00"))
    assert sum(p for p, _ in buckets.values()) == len(of_quarter("2023Q4"))


def test_html_is_self_contained_with_tables_and_charts(con) -> None:
    report = data.load_report(con, "2023Q4")
    html = render.to_html(report, data.quarters(con))
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://|\bsrc=|url\(|@import", html), "external reference"
    assert html.count("<svg") >= 5
    assert html.count("<table") >= 8
    for anchor in ("headline", "seller-type", "asset-type", "top-sellers", "top-buyers"):
        assert f'id="{anchor}"' in html
    assert 'href="2023Q3.html"' in html and 'href="2024Q1.html"' in html
    assert "消费金融公司" in html
    # the coverage notes say what the serving file cannot tell
    assert "not in this database" in html
    assert report.coverage.projects == len(PROJECTS)
    assert report.coverage.projects_without_quarter == 1


def test_rendering_is_deterministic(con) -> None:
    report = data.load_report(con, "2023Q4")
    assert render.to_html(report) == render.to_html(data.load_report(con, "2023Q4"))


def test_unknown_quarter_is_a_clear_error(con) -> None:
    with pytest.raises(ReportDataError, match=r"2030Q1.*2022Q4, 2023Q3, 2023Q4, 2024Q1"):
        data.load_report(con, "2030Q1")


def test_missing_mart_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    con = connect_serving(path)
    try:
        with pytest.raises(ReportDataError, match="seller_quarterly_metrics"):
            data.load_report(con, "2023Q4")
    finally:
        con.close()


def test_build_writes_pages_and_index(con, tmp_path: Path) -> None:
    built = build_reports(con, tmp_path)
    assert [b.path.name for b in built] == [
        "2022Q4.html",
        "2023Q3.html",
        "2023Q4.html",
        "2024Q1.html",
    ]
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    for b in built:
        assert f'href="{b.path.name}"' in index
    assert not list(tmp_path.glob("*.tmp"))


def test_cli(serving: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reports"
    assert npl_main(["report", "--db", str(serving), "--out", str(out), "--quarter", "2023Q4"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["2023Q4.html", "index.html"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="2023Q4.html"' in index and "2023Q3.html" not in index

    assert npl_main(["report", "--db", str(serving), "--out", str(out), "--quarter", "2030Q1"]) == 1
    assert "no projects first listed in 2030Q1" in capsys.readouterr().err
    assert npl_main(["report", "--db", str(tmp_path / "nope.duckdb"), "--out", str(out)]) == 1
    assert "no serving database" in capsys.readouterr().err


def test_cli_open_without_a_browser(
    serving: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or False)
    out = tmp_path / "r"
    assert npl_main(["report", "--db", str(serving), "--out", str(out), "--open"]) == 0
    assert opened == [(out / "index.html").resolve().as_uri()]


def test_the_unclassified_share_of_the_quarter_is_stated(con) -> None:
    report = data.load_report(con, "2024Q1")
    assert "Unclassified sellers (未分类): none" in render.to_markdown(report)
    # 2024Q1 lists 8.00 亿元 in 3 listings; an unclassified seller adds 2.00 亿元 in 2
    unclassified = Group(
        name="未分类",
        listings=2,
        unpaid_total_yuan=D("200000000.00"),
        borrowers=10,
        sold_listings=0,
        starting_price_yuan=None,
        starting_price_base_yuan=None,
        listings_without_starting_price=2,
    )
    with_unclassified = replace(report, by_seller_type=[*report.by_seller_type, unclassified])
    md = render.to_markdown(with_unclassified)
    assert (
        "Unclassified sellers (未分类): 2.00 亿元 of 10.00 亿元 listed (20.0% of the quarter's "
        "unpaid total), 2 of 5 listings"
    ) in md
