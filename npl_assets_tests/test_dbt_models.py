"""The dbt project on a handful of hand-made raw rows; every expected figure is worked out by
hand in the comments, never read back from the models."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from npl_assets.dbt_project import DBT_PROJECT_DIR
from npl_assets.warehouse import ensure_schema

HUAXIA_CC = "华夏银行股份有限公司信用卡中心"  # card centre: 股份行, parent 华夏银行股份有限公司
HEBEI = "河北银行股份有限公司"  # 城商行
CEB_SZ = "中国光大银行股份有限公司深圳分行"  # branch: 股份行, parent 中国光大银行股份有限公司
CEB = "中国光大银行股份有限公司"
UNKNOWN = "国家开发银行"  # a policy bank: in no seed, reference list or name rule

P1 = f"{HUAXIA_CC}关于2023年第1期信用卡不良贷款转让项目"
P2 = f"{HUAXIA_CC}关于2023年第2期信用卡不良贷款转让项目"
P3 = f"{HUAXIA_CC}关于2023年第3期信用卡不良贷款转让项目"
P4 = f"{HEBEI}关于2023年第1期个人消费信用不良贷款（第一包）转让项目"
P5 = f"{CEB_SZ}关于2023年第1期个人消费信用不良贷款转让项目"
P6 = f"{UNKNOWN}关于2023年第1期个人消费信用不良贷款转让项目"
P7 = f"{HEBEI}关于2023年第2期个人消费信用不良贷款转让项目"
OLD = f"{HEBEI}关于2022年第5期个人消费信用不良贷款转让项目"
SUFFIX = "不良贷款转让公告"
P1_RELISTED_TITLE = P1.replace("转让项目", "转让项目（重新挂牌）") + SUFFIX

TIANJIN = "天津滨海正信资产管理有限公司"
HAIDE = "海德资产管理有限公司"

SELLER_TYPES = {"国有大行", "股份行", "城商行", "农商行/农信", "消费金融公司", "外资行", "其他"}


def sha(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


@dataclass(frozen=True)
class Listing:
    label: str
    seller: str
    project_name: str
    title: str
    publication_date: date | None
    bid_date: date
    principal: str
    interest: str
    total: str
    borrowers: int
    loans: int
    overdue: str | None
    starting_price: str | None
    asset_type: str | None = "个人消费贷款"

    @property
    def is_relisting(self) -> bool:
        return "（重新挂牌）" in self.title


# fmt: off
LISTINGS = [
    # P1 first listed 2023-03-20 (Q1) ...
    Listing("L1", HUAXIA_CC, P1, P1 + "不良贷款转让公告", date(2023, 3, 20), date(2023, 4, 3),
            "600.00", "400.00", "1000.00", 10, 12, "100.00", "100.00", "信用卡透支"),
    # ... relisted 2023-04-10 with slightly different totals ...
    Listing("L2", HUAXIA_CC, P1, P1_RELISTED_TITLE,
            date(2023, 4, 10), date(2023, 4, 24),
            "595.00", "395.00", "990.00", 9, 11, "110.00", "80.00", "信用卡透支"),
    # ... and the relisting announced twice the same day; this one has the later auction, so it
    # carries the latest figures. Its project name has a stray space the model must ignore.
    Listing("L3", HUAXIA_CC, P1.replace("信用卡不良", "信用卡 不良"),
            P1_RELISTED_TITLE,
            date(2023, 4, 10), date(2023, 4, 28),
            "596.00", "396.00", "992.00", 9, 11, "120.00", "90.00", "信用卡透支"),
    # P2: no overdue days reported.
    Listing("L4", HUAXIA_CC, P2, P2 + "不良贷款转让公告", date(2023, 2, 15), date(2023, 3, 1),
            "1500.00", "500.00", "2000.00", 20, 25, None, "150.00", "信用卡透支"),
    # P3: no starting price disclosed.
    Listing("L5", HUAXIA_CC, P3, P3 + "不良贷款转让公告", date(2023, 3, 25), date(2023, 4, 8),
            "300.00", "200.00", "500.00", 5, 5, "200.00", None, "信用卡透支"),
    Listing("L6", HEBEI, P4, P4 + "不良贷款转让公告", date(2023, 3, 1), date(2023, 3, 15),
            "2000.00", "1000.00", "3000.00", 30, 30, "300.00", "300.00"),
    # A branch seller.
    Listing("L7", CEB_SZ, P5, P5 + "不良贷款转让公告", date(2023, 11, 20), date(2023, 12, 4),
            "250.00", "150.00", "400.00", 4, 4, "400.00", "40.00"),
    # A seller missing from the seed, no overdue days, no starting price, no asset type.
    Listing("L8", UNKNOWN, P6, P6 + "不良贷款转让公告", date(2023, 12, 1), date(2023, 12, 15),
            "60.00", "40.00", "100.00", 1, 1, None, None, None),
    # No footer date parsed: the index date (2023-03-31, raw.documents) stands in.
    Listing("L9", HEBEI, P7, P7 + "不良贷款转让公告", None, date(2023, 4, 14),
            "30.00", "20.00", "50.00", 2, 2, "50.00", "10.00"),
]

# (label, seller, project name as printed, buyer as printed, code, agreement date)
RESULTS = [
    ("R1", HUAXIA_CC, P1, TIANJIN, "NPL2023000001", date(2023, 5, 10)),
    # the same result announced again: one sale
    ("R4", HUAXIA_CC, P1, TIANJIN, "NPL2023000001", date(2023, 5, 10)),
    # sold by the parent's name while the listing names the branch; buyer misspelt (徳)
    ("R2", CEB, P5, "海徳资产管理有限公司", "NPL2023000002", date(2023, 12, 20)),
    # a project listed before the data starts
    ("R3", HEBEI, OLD, TIANJIN, "NPL2023000003", date(2023, 1, 5)),
    # ASCII parentheses in the result's project name
    ("R5", HEBEI, P4.replace("（", "(").replace("）", ")"), HAIDE, "NPL2023000004",
     date(2023, 4, 15)),
]
# fmt: on


def insert_rows(con: duckdb.DuckDBPyConnection) -> None:
    parsed_at = datetime(2024, 1, 1)
    for row in LISTINGS:
        con.execute(
            """
            insert into raw.listings (
                sha256, parser_version, parsed_at, title, project_name, is_relisting, seller,
                asset_type, loans, borrowers, unpaid_principal_yuan, unpaid_interest_yuan,
                unpaid_total_yuan, weighted_avg_overdue_days, starting_price_yuan, bid_date,
                publication_date
            ) values (?, 'test', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                sha(row.label), parsed_at, row.title, row.project_name, row.is_relisting,
                row.seller, row.asset_type, row.loans, row.borrowers, row.principal,
                row.interest, row.total, row.overdue, row.starting_price, row.bid_date,
                row.publication_date,
            ],
        )  # fmt: skip
    con.execute(
        """
        insert into raw.documents
            (sha256, doc_type, title, list_date, detail_url, pdf_url, byte_size, fetched_at)
        values (?, 'listing', ?, date '2023-03-31', 'http://x/t.html', 'http://x/p.pdf', 1, ?)
        """,
        [sha("L9"), P7 + "不良贷款转让公告", parsed_at],
    )
    for label, seller, name, buyer, code, signed in RESULTS:
        con.execute(
            """
            insert into raw.results (
                sha256, parser_version, parsed_at, title, project_name, project_code, seller,
                buyer, agreement_signed_date, publication_date
            ) values (?, 'test', ?, ?, ?, ?, ?, ?, ?, ? + interval 14 day)
            """,
            [sha(label), parsed_at, name + "不良贷款转让结果公告", name, code, seller, buyer,
             signed, signed],
        )  # fmt: skip


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("dbt_models")
    db = tmp / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    try:
        ensure_schema(con)
        insert_rows(con)
    finally:
        con.close()
    cwd = tmp / "cwd"
    cwd.mkdir()
    env = {**os.environ, "DUCKDB_DATABASE": str(db), "DO_NOT_TRACK": "1"}
    dbt = Path(sys.executable).with_name("dbt")
    # target/ and logs/ go to the temp folder: neither the cwd nor the shared manifest is touched
    completed = subprocess.run(
        [
            str(dbt), "build",
            "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(tmp / "target"),
            "--log-path", str(tmp / "logs"),
        ],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-2000:]
    run_results = json.loads((tmp / "target" / "run_results.json").read_text(encoding="utf-8"))
    yield {"db": db, "cwd": cwd, "run_results": run_results, "stdout": completed.stdout}


def rows(db: Path, sql: str, params: list | None = None) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        con.close()


def one(db: Path, sql: str, params: list | None = None) -> dict:
    found = rows(db, sql, params)
    assert len(found) == 1, found
    return found[0]


def test_build_passes_and_warns_about_the_unknown_seller(built: dict) -> None:
    statuses = {r["unique_id"].split(".")[2]: r for r in built["run_results"]["results"]}
    assert statuses["assert_all_sellers_classified"]["status"] == "warn"
    assert statuses["assert_all_sellers_classified"]["failures"] == 1  # UNKNOWN, by name
    assert statuses["assert_all_buyers_classified"]["status"] == "pass"
    errors = [k for k, r in statuses.items() if r["status"] in {"error", "fail", "skipped"}]
    assert errors == []
    assert list(built["cwd"].iterdir()) == []


def test_relisting_and_repeat_merge_into_one_project_with_latest_figures(built: dict) -> None:
    assert one(built["db"], "select count(*) as n from projects")["n"] == 7
    p1 = one(built["db"], "select * from projects where project_key = ?", [P1])
    assert p1["announcements"] == 3
    assert p1["relisting_announcements"] == 2
    assert p1["relisted"] is True
    assert p1["first_listing_date"] == date(2023, 3, 20)
    assert p1["first_listing_quarter"] == "2023Q1"
    # L2 and L3 share the latest publication date; L3 has the later bid date. L3's hash is the
    # lower one, so only the bid-date tie-break (not the hash) can pick it.
    assert sha("L3") < sha("L2")
    assert p1["latest_sha256"] == sha("L3")
    assert p1["unpaid_total_yuan"] == Decimal("992.00")
    assert p1["unpaid_principal_yuan"] == Decimal("596.00")
    assert p1["weighted_avg_overdue_days"] == Decimal("120.00")
    assert p1["starting_price_yuan"] == Decimal("90.00")
    assert (p1["borrowers"], p1["loans"]) == (9, 11)
    assert p1["parent_institution"] == "华夏银行股份有限公司"
    assert p1["seller_type"] == "股份行"


def test_quarters_and_date_fallback(built: dict) -> None:
    got = rows(built["db"], "select project_key, first_listing_quarter as q from projects")
    assert {r["project_key"]: r["q"] for r in got} == {
        P1: "2023Q1",
        P2: "2023Q1",
        P3: "2023Q1",
        P4: "2023Q1",
        P5: "2023Q4",
        P6: "2023Q4",
        P7: "2023Q1",  # footer date missing: index date 2023-03-31
    }


def test_sold_flags_buyers_and_branch_match(built: dict) -> None:
    got = rows(
        built["db"],
        "select project_key, sold, buyer, project_code, agreement_signed_date, result_match_rank"
        " from projects",
    )
    by_key = {r.pop("project_key"): r for r in got}
    assert by_key[P1] == {
        "sold": True,
        "buyer": TIANJIN,
        "project_code": "NPL2023000001",
        "agreement_signed_date": date(2023, 5, 10),
        "result_match_rank": 1,
    }
    # result names the head office, listing the branch: same parent institution
    assert by_key[P5]["sold"] is True
    assert by_key[P5]["buyer"] == HAIDE  # 海徳 mapped to 海德
    assert by_key[P5]["result_match_rank"] == 2
    assert by_key[P4]["sold"] is True  # ASCII parentheses in the result matched
    assert {k for k, v in by_key.items() if not v["sold"]} == {P2, P3, P6, P7}


def test_unknown_seller_is_flagged_not_dropped(built: dict) -> None:
    got = one(
        built["db"],
        "select * from seller_quarterly_metrics where seller = ?",
        [UNKNOWN],
    )
    assert got["seller_type"] == "未分类"
    assert got["seller_type_source"] == "none"
    assert got["seller_known"] is False
    assert got["parent_institution"] == UNKNOWN
    assert got["quarter"] == "2023Q4"
    assert got["unpaid_total_yuan"] == Decimal("100.00")
    # nothing reported, so nothing made up
    assert got["weighted_avg_overdue_days"] is None
    assert got["starting_price_yuan"] is None
    assert got["starting_price_ratio"] is None
    assert got["listings_without_starting_price"] == 1


def test_seller_quarter_for_card_centre(built: dict) -> None:
    got = one(
        built["db"],
        "select * from seller_quarterly_metrics where seller = ? and quarter = '2023Q1'",
        [HUAXIA_CC],
    )
    # P1 (latest: 992.00, 120 days, price 90), P2 (2000.00, no days, price 150),
    # P3 (500.00, 200 days, no price)
    assert got["listings"] == 3
    assert got["announcements"] == 5
    assert got["unpaid_principal_yuan"] == Decimal("2396.00")
    assert got["unpaid_interest_yuan"] == Decimal("1096.00")
    assert got["unpaid_total_yuan"] == Decimal("3492.00")
    assert (got["borrowers"], got["loans"]) == (34, 41)
    # (120*992 + 200*500) / (992 + 500) = 219040 / 1492 = 146.8096...
    assert got["weighted_avg_overdue_days"] == Decimal("146.81")
    assert got["listings_with_overdue_days"] == 2
    assert got["overdue_days_coverage"] == pytest.approx(1492 / 3492)
    # over the projects that disclose a price: (90 + 150) / (992 + 2000)
    assert got["starting_price_yuan"] == Decimal("240.00")
    assert got["starting_price_ratio"] == pytest.approx(240 / 2992)
    assert got["listings_without_starting_price"] == 1
    assert got["sold_listings"] == 1
    assert got["sold_unpaid_total_yuan"] == Decimal("992.00")
    assert got["seller_type"] == "股份行"
    assert got["seller_type_source"] == "seed"
    assert got["parent_institution"] == "华夏银行股份有限公司"


def test_ratios_are_over_sums_not_averages(built: dict) -> None:
    got = one(
        built["db"],
        "select * from seller_quarterly_metrics where seller = ? and quarter = '2023Q1'",
        [HEBEI],
    )
    # P4 (3000, 300 days, price 300) and P7 (50, 50 days, price 10)
    assert got["listings"] == 2
    assert got["unpaid_total_yuan"] == Decimal("3050.00")
    # (300*3000 + 50*50) / 3050 = 902500 / 3050 = 295.9016...; the plain mean would be 175
    assert got["weighted_avg_overdue_days"] == Decimal("295.90")
    # 310 / 3050 = 0.10164; the mean of the two ratios would be 0.15
    assert got["starting_price_ratio"] == pytest.approx(310 / 3050)
    assert got["sold_listings"] == 1


def test_market_quarterly_metrics(built: dict) -> None:
    got = rows(
        built["db"],
        "select quarter, seller_type, asset_type, sellers, listings, unpaid_total_yuan,"
        " weighted_avg_overdue_days, starting_price_yuan from market_quarterly_metrics",
    )
    assert sorted(tuple(r.values()) for r in got) == sorted(
        [
            ("2023Q1", "股份行", "信用卡透支", 1, 3, Decimal("3492.00"), Decimal("146.81"),
             Decimal("240.00")),
            ("2023Q1", "城商行", "个人消费贷款", 1, 2, Decimal("3050.00"), Decimal("295.90"),
             Decimal("310.00")),
            ("2023Q4", "股份行", "个人消费贷款", 1, 1, Decimal("400.00"), Decimal("400.00"),
             Decimal("40.00")),
            ("2023Q4", "未分类", "未分类", 1, 1, Decimal("100.00"), None, None),
        ]
    )  # fmt: skip


def test_buyer_league(built: dict) -> None:
    got = rows(
        built["db"],
        "select buyer, projects_bought, projects_with_listing, projects_without_listing,"
        " unpaid_total_yuan, rank_by_unpaid_total, buyer_type, buyer_type_source"
        " from buyer_league order by buyer",
    )
    assert {r.pop("buyer"): tuple(r.values()) for r in got} == {
        # P1 (992.00; its result announced twice counts once) + the 2022 project, unknown total
        TIANJIN: (2, 1, 1, Decimal("992.00"), 2, "地方AMC", "reference"),
        # P4 (3000.00) + P5 (400.00), one of them under the misspelt name
        HAIDE: (2, 2, 0, Decimal("3400.00"), 1, "地方AMC", "reference"),
    }


def test_money_stays_decimal(built: dict) -> None:
    types = {
        r["column_name"]: r["data_type"]
        for r in rows(
            built["db"],
            "select column_name, data_type from information_schema.columns"
            " where table_name = 'seller_quarterly_metrics'",
        )
    }
    for column in ("unpaid_principal_yuan", "unpaid_total_yuan", "starting_price_yuan"):
        assert types[column] == "DECIMAL(18,2)"
    contract = {
        "seller", "parent_institution", "seller_type", "quarter", "listings",
        "unpaid_principal_yuan", "unpaid_interest_yuan", "unpaid_total_yuan", "borrowers",
        "loans", "weighted_avg_overdue_days", "starting_price_yuan", "starting_price_ratio",
        "sold_listings", "listings_without_starting_price", "overdue_days_coverage",
        "seller_known", "seller_type_source",
    }  # fmt: skip
    assert contract <= set(types)


def read_seed() -> dict[str, dict[str, str]]:
    with (DBT_PROJECT_DIR / "seeds" / "sellers.csv").open(encoding="utf-8") as handle:
        return {row["seller"]: row for row in csv.DictReader(handle)}


def dataset_sellers(shared_dir: Path) -> set[str]:
    sellers: set[str] = set()
    for name in ("yindeng_2023_listings.csv", "yindeng_2023_results.csv"):
        with (shared_dir / "data" / name).open(encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                sellers.add(row["出让方主体名称"].strip() + row["下属机构"].strip())
    return sellers


def test_every_2023_seller_is_in_the_seed(shared_dir: Path) -> None:
    seed = read_seed()
    missing = sorted(dataset_sellers(shared_dir) - set(seed))
    assert missing == []


def test_seed_classification_is_consistent() -> None:
    seed = read_seed()
    big_six = {
        "中国工商银行", "中国农业银行", "中国银行", "中国建设银行", "交通银行", "中国邮政储蓄银行",
    }  # fmt: skip
    joint_stock = {
        "招商银行", "中信银行", "中国光大银行", "华夏银行", "中国民生银行", "广发银行",
        "平安银行", "兴业银行", "上海浦东发展银行", "浙商银行", "渤海银行", "恒丰银行",
    }  # fmt: skip
    for seller, row in seed.items():
        parent, kind = row["parent_institution"], row["seller_type"]
        assert kind in SELLER_TYPES, seller
        assert seller.startswith(parent), seller
        assert seed[parent]["seller_type"] == kind, seller
        assert seed[parent]["parent_institution"] == parent, seller
        bank = parent.removesuffix("股份有限公司")
        if kind == "国有大行":
            assert bank in big_six, seller
        if kind == "股份行":
            assert bank in joint_stock, seller
        if "消费金融" in seller:
            assert kind == "消费金融公司", seller
        if any(k in seller for k in ("农村商业银行", "农村信用合作联社", "农村合作银行")):
            assert kind == "农商行/农信", seller
        if seller != parent:
            assert seller.endswith(("分行", "信用卡中心")), seller
    assert {b for b in big_six | joint_stock if b + "股份有限公司" not in seed} == set()
