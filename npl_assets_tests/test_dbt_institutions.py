"""Seller and buyer classification (stg_sellers, stg_buyers) over real institution names of every
kind: head offices, branches, card centres, renamed institutions, names in no seed, names no
list or rule knows. dbt builds the two models and their seeds on a tiny DuckDB; every expected
type and parent below is written by hand from what the institution is, not read back."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from npl_assets.dbt_project import DBT_PROJECT_DIR
from npl_assets.warehouse import ensure_schema

CCB = "中国建设银行股份有限公司"
PSBC = "中国邮政储蓄银行股份有限公司"
CITIC = "中信银行股份有限公司"
CEB = "中国光大银行股份有限公司"
HSBC_CN = "汇丰银行（中国）有限公司"
CQRCB = "重庆农村商业银行股份有限公司"

# (seller as announced, seller_type, parent_institution, seller_type_source)
# fmt: off
SELLERS = [
    # explicit seed rows win
    (CCB, "国有大行", CCB, "seed"),
    ("中国光大银行股份有限公司深圳分行", "股份行", CEB, "seed"),
    ("华夏银行股份有限公司信用卡中心", "股份行", "华夏银行股份有限公司", "seed"),
    ("四川锦程消费金融有限责任公司", "消费金融公司", "四川锦程消费金融有限责任公司", "seed"),
    ("广东顺德农村商业银行股份有限公司", "农商行/农信", "广东顺德农村商业银行股份有限公司", "seed"),
    # a seed row under another company form and with a stray space: still the seed row
    ("中国光大银行有限公司 深圳分行", "股份行", CEB, "seed"),
    # branches and card centres of seeded or listed banks: the parent's type, by reference
    ("中国建设银行股份有限公司四川省分行", "国有大行", CCB, "reference"),
    ("中国邮政储蓄银行股份有限公司四川省分行", "国有大行", PSBC, "reference"),
    ("中国工商银行股份有限公司信用卡中心", "国有大行", "中国工商银行股份有限公司", "reference"),
    ("交通银行股份有限公司太平洋信用卡中心", "国有大行", "交通银行股份有限公司", "reference"),
    (f"{CITIC}信用卡中心", "股份行", CITIC, "reference"),
    ("招商银行股份有限公司北京分行营业部", "股份行", "招商银行股份有限公司", "reference"),
    ("北京银行股份有限公司", "城商行", "北京银行股份有限公司", "reference"),
    ("宁波银行股份有限公司深圳分行", "城商行", "宁波银行股份有限公司", "reference"),
    ("浙江泰隆商业银行股份有限公司", "城商行", "浙江泰隆商业银行股份有限公司", "reference"),
    # the consumer-finance companies of 2024-2025 announcements, in no seed row
    ("招联消费金融股份有限公司", "消费金融公司", "招联消费金融股份有限公司", "reference"),
    ("马上消费金融股份有限公司", "消费金融公司", "马上消费金融股份有限公司", "reference"),
    ("重庆蚂蚁消费金融有限公司", "消费金融公司", "重庆蚂蚁消费金融有限公司", "reference"),
    ("杭银消费金融股份有限公司", "消费金融公司", "杭银消费金融股份有限公司", "reference"),
    ("中信消费金融有限公司", "消费金融公司", "中信消费金融有限公司", "reference"),
    ("兴业消费金融股份公司", "消费金融公司", "兴业消费金融股份公司", "reference"),
    ("平安消费金融有限公司", "消费金融公司", "平安消费金融有限公司", "reference"),
    ("湖北消费金融股份有限公司", "消费金融公司", "湖北消费金融股份有限公司", "reference"),
    # renamed: the former name rolls up to the current institution
    ("苏宁消费金融有限公司", "消费金融公司", "南银法巴消费金融有限公司", "reference"),
    ("招联消费金融有限公司", "消费金融公司", "招联消费金融股份有限公司", "reference"),
    ("华融湘江银行股份有限公司长沙分行", "城商行", "湖南银行股份有限公司", "reference"),
    ("包商银行股份有限公司", "城商行", "蒙商银行股份有限公司", "reference"),
    # foreign-owned banks, ASCII parentheses included
    (HSBC_CN, "外资行", HSBC_CN, "reference"),
    ("汇丰银行(中国)有限公司上海分行", "外资行", HSBC_CN, "reference"),
    ("华美银行（中国）有限公司", "外资行", "华美银行（中国）有限公司", "rule"),
    # in no list: the name says what it is
    ("北京农村商业银行股份有限公司", "农商行/农信", "北京农村商业银行股份有限公司", "rule"),
    (f"{CQRCB}万州分行", "农商行/农信", CQRCB, "rule"),
    ("浙江省农村信用社联合社", "农商行/农信", "浙江省农村信用社联合社", "rule"),
    ("北京顺义银座村镇银行股份有限公司", "农商行/农信", "北京顺义银座村镇银行股份有限公司", "rule"),
    ("上海国际信托有限公司", "其他", "上海国际信托有限公司", "rule"),
    # nothing knows a policy bank: 未分类, its branch still rolls up to it
    ("国家开发银行", "未分类", "国家开发银行", "none"),
    ("国家开发银行四川省分行", "未分类", "国家开发银行", "none"),
]

# (buyer as announced, canonical buyer, buyer_type, buyer_type_source)
BUYERS = [
    ("辽宁富安金融资产管理有限公司", "辽宁富安金融资产管理有限公司", "地方AMC", "reference"),
    ("海徳资产管理有限公司", "海德资产管理有限公司", "地方AMC", "reference"),  # misspelt 徳
    ("广西联合资产管理股份有限公司（原名称：广西广投资产管理股份有限公司）",
     "广西联合资产管理股份有限公司", "地方AMC", "reference"),
    ("广西广投资产管理股份有限公司", "广西联合资产管理股份有限公司", "地方AMC", "reference"),
    # a branch of a national AMC is the AMC; 中国华融 is now 中国中信金融资产
    ("中国华融资产管理股份有限公司浙江省分公司", "中国中信金融资产管理股份有限公司", "全国性AMC",
     "reference"),
    ("中国信达资产管理股份有限公司四川省分公司", "中国信达资产管理股份有限公司", "全国性AMC",
     "reference"),
    ("中国东方资产管理股份有限公司", "中国东方资产管理股份有限公司", "全国性AMC", "reference"),
    ("中国银河资产管理有限责任公司", "中国银河资产管理有限责任公司", "全国性AMC", "reference"),
    ("建信金融资产投资有限公司", "建信金融资产投资有限公司", "金融资产投资公司", "reference"),
    ("重庆渝康资产经营管理有限公司", "华润渝康资产管理有限公司", "地方AMC", "reference"),
    ("中国平安保险（集团）股份有限公司", "中国平安保险（集团）股份有限公司", "未分类", "none"),
]
# fmt: on


def sha(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The names as sellers and buyers of result rows (sellers also of one listing each)."""
    tmp = tmp_path_factory.mktemp("dbt_institutions")
    db = tmp / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    parsed_at = datetime(2025, 1, 1)
    try:
        ensure_schema(con)
        buyers = [b for b, *_ in BUYERS]
        for i, (seller, *_) in enumerate(SELLERS):
            name = f"{seller}关于2025年第1期个人消费贷款不良贷款转让项目"
            con.execute(
                "insert into raw.results (sha256, parser_version, parsed_at, title, project_name,"
                " seller, buyer) values (?, 'test', ?, ?, ?, ?, ?)",
                [sha(f"R{i}"), parsed_at, name + "转让结果公告", name, seller,
                 buyers[i % len(buyers)]],
            )  # fmt: skip
            con.execute(
                "insert into raw.listings (sha256, parser_version, parsed_at, title,"
                " project_name, is_relisting, seller) values (?, 'test', ?, ?, ?, false, ?)",
                [sha(f"L{i}"), parsed_at, name + "转让公告", name, seller],
            )
    finally:
        con.close()
    env = {**os.environ, "DUCKDB_DATABASE": str(db), "DO_NOT_TRACK": "1"}
    dbt = Path(sys.executable).with_name("dbt")
    completed = subprocess.run(
        [
            str(dbt), "build", "--select", "+stg_sellers", "+stg_buyers",
            "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(tmp / "target"),
            "--log-path", str(tmp / "logs"),
        ],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-2000:]
    run_results = json.loads((tmp / "target" / "run_results.json").read_text(encoding="utf-8"))
    yield {"db": db, "run_results": run_results}


def normalised(name: str) -> str:
    """As the announcements' names reach the models: no spaces, full-width parentheses."""
    return name.replace(" ", "").replace("(", "（").replace(")", "）")


def table(db: Path, sql: str) -> dict[str, tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0]: tuple(r[1:]) for r in con.execute(sql).fetchall()}
    finally:
        con.close()


@pytest.mark.parametrize(("seller", "seller_type", "parent", "source"), SELLERS)
def test_seller_type_parent_and_source(
    built: dict, seller: str, seller_type: str, parent: str, source: str
) -> None:
    got = table(
        built["db"],
        "select seller, seller_type, parent_institution, seller_type_source, seller_known"
        " from main.stg_sellers",
    )
    assert got[normalised(seller)] == (seller_type, parent, source, source != "none")


@pytest.mark.parametrize(("published", "buyer", "buyer_type", "source"), BUYERS)
def test_buyer_canonical_name_and_type(
    built: dict, published: str, buyer: str, buyer_type: str, source: str
) -> None:
    got = table(
        built["db"],
        "select buyer_as_published, buyer, buyer_type, buyer_type_source from main.stg_buyers",
    )
    assert got[published] == (buyer, buyer_type, source)


def test_every_name_is_classified_once(built: dict) -> None:
    sellers = table(built["db"], "select seller, count(*) from main.stg_sellers group by all")
    assert set(sellers) == {normalised(s) for s, *_ in SELLERS}
    assert set(sellers.values()) == {(1,)}
    buyers = table(
        built["db"], "select buyer_as_published, count(*) from main.stg_buyers group by all"
    )
    assert set(buyers) == {b for b, *_ in BUYERS}
    assert set(buyers.values()) == {(1,)}


def test_warn_checks_list_the_unclassified_by_name(built: dict) -> None:
    statuses = {r["unique_id"].split(".")[2]: r for r in built["run_results"]["results"]}
    sellers = statuses["assert_all_sellers_classified"]
    assert (sellers["status"], sellers["failures"]) == ("warn", 2)  # the policy bank and branch
    buyers = statuses["assert_all_buyers_classified"]
    assert (buyers["status"], buyers["failures"]) == ("warn", 1)  # the insurer
    errors = [k for k, r in statuses.items() if r["status"] in {"error", "fail", "skipped"}]
    assert errors == []
    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        listed = con.execute(
            "select seller, listing_documents, result_documents from main.stg_sellers"
            " where seller_type_source = 'none' order by seller"
        ).fetchall()
    finally:
        con.close()
    assert listed == [("国家开发银行", 1, 1), ("国家开发银行四川省分行", 1, 1)]


def test_dagster_warn_checks_name_the_unclassified(built: dict) -> None:
    """The Dagster checks on stg_sellers / stg_buyers, run as plain functions on the built
    warehouse: a WARN naming each unclassified institution."""
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from npl_assets.quality.classification import BUYERS, SELLERS, unclassified_check

    resource = DuckDBResource(database=str(built["db"]))
    sellers = unclassified_check(SELLERS, dg.AssetKey("stg_sellers"))(duckdb=resource)
    assert (sellers.passed, sellers.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert sellers.metadata["names"].value == ["国家开发银行", "国家开发银行四川省分行"]
    assert "| 国家开发银行 | 1 | 1 |" in sellers.metadata["table"].value
    buyers = unclassified_check(BUYERS, dg.AssetKey("stg_buyers"))(duckdb=resource)
    assert buyers.passed is False
    assert buyers.metadata["names"].value == ["中国平安保险（集团）股份有限公司"]


def seed(name: str) -> list[dict[str, str]]:
    with (DBT_PROJECT_DIR / "seeds" / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def key(name: str) -> str:
    """The models' institution_key, restated for the seed checks: no company form."""
    return re.sub("股份有限公司|有限责任公司|股份公司|有限公司", "", normalised(name))


def test_reference_seeds_are_consistent_with_the_seller_seed() -> None:
    institutions = seed("institutions")
    types = {key(r["institution"]): r["seller_type"] for r in institutions}
    assert len(types) == len(institutions)  # one row per institution key
    counts = Counter(r["seller_type"] for r in institutions)
    assert (counts["国有大行"], counts["股份行"]) == (6, 12)
    assert counts["城商行"] >= 120 and counts["消费金融公司"] >= 30
    # a head office of the explicit seed has the same type in the reference
    for row in seed("sellers"):
        if row["seller"] == row["parent_institution"] and key(row["seller"]) in types:
            assert types[key(row["seller"])] == row["seller_type"], row
    for row in institutions:
        if "消费金融" in row["institution"]:
            assert row["seller_type"] == "消费金融公司", row
    # a former name is no current name, and leads to a listed institution
    for row in seed("institution_former_names"):
        assert key(row["former_name"]) not in types or key(row["former_name"]) == key(
            row["institution"]
        ), row
        assert key(row["institution"]) in types, row


def test_buyer_seeds_are_consistent() -> None:
    buyers = {r["buyer"]: r["buyer_type"] for r in seed("buyers")}
    assert len({key(b) for b in buyers}) == len(buyers)
    national = {b for b, t in buyers.items() if t == "全国性AMC"}
    assert {key(b) for b in national} == {
        "中国信达资产管理", "中国中信金融资产管理", "中国长城资产管理", "中国东方资产管理",
        "中国银河资产管理",
    }  # fmt: skip
    for row in seed("buyer_aliases"):
        assert row["buyer"] in buyers, row
