"""Sellers and buyers that no seed row names, end to end: a synthetic site whose sellers are a
consumer-finance company, a rural commercial bank and a state-bank branch that are in no seed
row, and a policy bank nothing classifies, crawled, parsed and built through the whole graph
in-process. The marts must classify them from the reference lists and name rules, and the
quarterly report must say how much of a quarter is left 未分类."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from npl_assets.site import synthetic

ZHAOLIAN = "招联消费金融股份有限公司"  # consumer finance, in the reference, in no seed row
BJRCB = "北京农村商业银行股份有限公司"  # in no list: the name rule makes it 农商行/农信
CCB = "中国建设银行股份有限公司"
CCB_SC = "四川省分行"  # a branch in no seed row: the parent's type
CDB = "国家开发银行"  # a policy bank: 未分类
HUARONG_ZJ = "中国华融资产管理股份有限公司浙江省分公司"  # renamed national AMC's branch
CITIC_AMC = "中国中信金融资产管理股份有限公司"


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> dict:
    from npl_assets.definitions import defs
    from npl_assets.resources import Locations, platform_resources
    from npl_assets.site.build import build_site

    work = tmp_path_factory.mktemp("sellers_synthetic")
    site = work / "site"
    with pytest.MonkeyPatch.context() as mp:
        # the generator draws sellers and buyers from these tables at call time
        sellers = ((ZHAOLIAN, "", 3), (BJRCB, "", 1), (CCB, CCB_SC, 1), (CDB, "", 1))
        mp.setattr(synthetic, "SELLERS", sellers)
        mp.setattr(synthetic, "BUYERS", ((HUARONG_ZJ, 1), ("辽宁富安金融资产管理有限公司", 1)))
        summary = build_site(site, synthetic=40, seed=11)
        assert summary["synthetic"]
    result = dg.materialize(
        list(defs.assets or []),
        resources=platform_resources(Locations.under(work / "data", site_dir=site)),
        raise_on_error=True,
    )
    assert result.success
    return {"serving": work / "data" / "npl_serving.duckdb", "reports": work / "data" / "reports"}


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def classification(pipeline: dict) -> dict[str, set[tuple]]:
    found: dict[str, set[tuple]] = {}
    for seller, *rest in query(
        pipeline["serving"],
        "select seller, seller_type, seller_type_source, parent_institution, seller_known"
        " from seller_quarterly_metrics",
    ):
        found.setdefault(seller, set()).add(tuple(rest))
    return found


def test_consumer_finance_company_in_no_seed_is_classified(pipeline: dict) -> None:
    found = classification(pipeline)
    assert found[ZHAOLIAN] == {("消费金融公司", "reference", ZHAOLIAN, True)}


def test_branch_rule_and_unclassified_sellers(pipeline: dict) -> None:
    found = classification(pipeline)
    assert found[CCB + CCB_SC] == {("国有大行", "reference", CCB, True)}
    assert found[BJRCB] == {("农商行/农信", "rule", BJRCB, True)}
    assert found[CDB] == {("未分类", "none", CDB, False)}
    assert set(found) == {ZHAOLIAN, BJRCB, CCB + CCB_SC, CDB}


def test_renamed_amc_branch_counts_as_one_national_amc(pipeline: dict) -> None:
    league = {
        buyer: (buyer_type, source)
        for buyer, buyer_type, source in query(
            pipeline["serving"], "select buyer, buyer_type, buyer_type_source from buyer_league"
        )
    }
    assert league == {
        CITIC_AMC: ("全国性AMC", "reference"),
        "辽宁富安金融资产管理有限公司": ("地方AMC", "reference"),
    }


def test_report_states_the_unclassified_share(pipeline: dict) -> None:
    rows = query(
        pipeline["serving"],
        """select quarter, sum(listings) filter (where seller_type = '未分类'), sum(listings)
           from market_quarterly_metrics group by quarter order by quarter""",
    )
    with_cdb = [(q, n, total) for q, n, total in rows if n]
    without = [q for q, n, _ in rows if not n]
    assert with_cdb and without
    quarter, n, total = with_cdb[0]
    html = (pipeline["reports"] / f"{quarter}.html").read_text(encoding="utf-8")
    assert "Unclassified sellers (未分类): " in html
    assert f"{n:,} of {total:,} listings" in html
    clean = (pipeline["reports"] / f"{without[0]}.html").read_text(encoding="utf-8")
    assert "Unclassified sellers (未分类): none" in clean
