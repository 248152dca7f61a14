"""Seeded synthetic rows of the same shape as the 2023 CSVs, for benchmarks and for machines
without the shared dataset. Sellers and buyers are names that occur in the 2023 dataset; the
figures are plausible but invented. Listings published from 2025-10-27 on carry no 起始价, as on
the real site."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from npl_assets.site.source import (
    COUNT_COLUMNS,
    LISTING_COLUMNS,
    LISTING_PUBLICATION_LEAD,
    RESULT_COLUMNS,
    RESULT_PUBLICATION_LAG,
)

FIRST_PUBLICATION = date(2021, 1, 4)
LAST_PUBLICATION = date(2026, 4, 30)
NO_STARTING_PRICE_FROM = date(2025, 10, 27)

# (institution, branch, weight): sellers of the 2023 dataset, weighted roughly by activity.
SELLERS: tuple[tuple[str, str, int], ...] = (
    ("平安银行股份有限公司", "", 30),
    ("中国民生银行股份有限公司", "信用卡中心", 6),
    ("中国光大银行股份有限公司", "信用卡中心", 5),
    ("华夏银行股份有限公司", "信用卡中心", 4),
    ("招商银行股份有限公司", "信用卡中心", 4),
    ("中原银行股份有限公司", "", 4),
    ("上海浦东发展银行股份有限公司", "深圳分行", 3),
    ("上海浦东发展银行股份有限公司", "广州分行", 2),
    ("中国光大银行股份有限公司", "深圳分行", 2),
    ("中国邮政储蓄银行股份有限公司", "甘肃省分行", 2),
    ("中国银行股份有限公司", "安徽省分行", 2),
    ("交通银行股份有限公司", "湖北省分行", 2),
    ("中信银行股份有限公司", "杭州分行", 2),
    ("广发银行股份有限公司", "", 2),
    ("兴业银行股份有限公司", "泉州分行", 1),
    ("江苏银行股份有限公司", "", 2),
    ("南京银行股份有限公司", "", 2),
    ("上海银行股份有限公司", "市南分行", 1),
    ("河北银行股份有限公司", "", 1),
    ("甘肃银行股份有限公司", "", 1),
    ("珠海华润银行股份有限公司", "", 1),
    ("蒙商银行股份有限公司", "", 1),
    ("广东顺德农村商业银行股份有限公司", "", 2),
    ("江苏江南农村商业银行股份有限公司", "", 2),
    ("江苏紫金农村商业银行股份有限公司", "", 1),
    ("中山农村商业银行股份有限公司", "", 1),
    ("兰州农村商业银行股份有限公司", "", 1),
    ("天水秦州农村合作银行", "", 1),
    ("庆城县农村信用合作联社", "", 1),
    ("中银消费金融有限公司", "", 4),
    ("捷信消费金融有限公司", "", 3),
    ("中邮消费金融有限公司", "", 3),
    ("南银法巴消费金融有限公司", "", 2),
    ("北银消费金融有限公司", "", 2),
    ("浙江宁银消费金融股份有限公司", "", 2),
    ("河南中原消费金融股份有限公司", "", 2),
    ("四川锦程消费金融有限责任公司", "", 1),
)

BUYERS: tuple[tuple[str, int], ...] = (
    ("辽宁富安金融资产管理有限公司", 20),
    ("广州资产管理有限公司", 8),
    ("天津滨海正信资产管理有限公司", 6),
    ("国厚资产管理股份有限公司", 5),
    ("广西广投资产管理股份有限公司", 4),
    ("海德资产管理有限公司", 4),
    ("甘肃长达金融资产管理股份有限公司", 3),
    ("宁夏金融资产管理有限公司", 3),
    ("河南资产管理有限公司", 3),
    ("广东粤财资产管理有限公司", 3),
    ("福建省闽投资产管理有限公司", 2),
    ("苏州资产管理有限公司", 2),
    ("重庆富城资产管理有限公司", 2),
    ("华润渝康资产管理有限公司", 1),
    ("浙江省浙商资产管理股份有限公司", 1),
    ("陕西金融资产管理股份有限公司", 1),
    ("四川发展资产管理有限公司", 1),
)

# 2023 title wordings and a typical principal per loan (元) for each.
ASSET_WORDINGS: dict[str, tuple[int, int]] = {
    "信用卡": (15_000, 60_000),
    "个人消费信用": (8_000, 60_000),
    "个人经营类信用": (80_000, 400_000),
    "个人消费及经营类信用": (30_000, 250_000),
    "个人消费及经营类": (40_000, 300_000),
    "个人经营类": (100_000, 500_000),
}

REMARKS = (
    "未偿本金总额中含信用卡年费、刷卡手续费、取现手续费等相关费用。",
    "未偿利息包括:利息及信用卡年费、刷卡手续费、取现手续费等相关费用。",
    "资产包内贷款全部为出让方分支机构发放。",
    "其他费用包括：由出让方已垫付的律师费、诉讼费、财产保全费等费用。",
    "1.借款人加权平均授信额度:按照每笔资产未偿本息总额加权计算加权平均初始授信额度。\n"
    "2.未偿利息包括:利息、费用(包括但不限于取现费、年费、手续费等各项费用)、违约金等。\n"
    "3.资产明细中，借款人所在地区(省、市)填写为借款人账户所属分行的省、市。",
    "由于部分债权逾期时间较长，受档案保管物质条件限制等历史客观原因，资产包部分债权存在以下"
    "一项或多项瑕疵:1.缺乏借款合同档案;2.缺乏借据档案;3.缺乏债务人身份证复印件档案;4.对于利息"
    "的计算，由于系统停止计算利息，利息实际数据要以法院判决或合同约定计算为准。具体每个债权的"
    "情况，详见资产列表中的备注栏。",
)

LITIGATION = ("未诉", "诉讼中", "已判未执", "执行中", "终本执行", "终结执行", "已调解", "其他")
CENT = Decimal("0.01")


def _amount(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """`total` split into `parts` positive-or-zero integers summing to it, largest first."""
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    return sorted(sizes, reverse=True)


def _asset_wording(rng: random.Random, institution: str, branch: str) -> str:
    if branch == "信用卡中心":
        return "信用卡"
    if "消费金融" in institution:
        return "个人消费信用"
    return rng.choices(list(ASSET_WORDINGS), weights=[2, 3, 2, 5, 1, 1])[0]


def _plain(rng: random.Random, value: float) -> str:
    """Overdue days and ages: the data has both integers and two-decimal figures."""
    return str(round(value)) if rng.random() < 0.5 else f"{value:.2f}"


def _listing_figures(rng: random.Random, wording: str) -> dict[str, str]:
    low, high = ASSET_WORDINGS[wording]
    loans = round(_log_uniform(rng, 30, 60_000))
    borrowers = max(1, round(loans * rng.uniform(0.8, 1.0)))
    principal = Decimal(loans * _log_uniform(rng, low, high)).quantize(CENT)
    interest = (principal * Decimal(rng.uniform(0.08, 1.5))).quantize(CENT)
    total = principal + interest
    other = (
        Decimal(0) if rng.random() < 0.3 else (principal * Decimal(rng.uniform(0, 0.02)))
    ).quantize(CENT)
    average = (total / borrowers).quantize(CENT)
    top = min(total, (average * Decimal(rng.uniform(2, 30))).quantize(CENT))
    # A few real rows lack the per-borrower figures, and a few average under 90 days overdue.
    has_borrower_figures = rng.random() > 0.015
    overdue = rng.uniform(78, 90) if rng.random() < 0.025 else _log_uniform(rng, 120, 3500)
    row = {
        "资产笔数（笔）": str(loans),
        "借款人户数（户）": str(borrowers),
        "加权平均逾期天数": _plain(rng, overdue) if has_borrower_figures else "",
        "单一借款人最高未偿本息余额（元）": _amount(top) if has_borrower_figures else "",
        "借款人加权平均年龄": _plain(rng, rng.uniform(31, 52)) if has_borrower_figures else "",
        "未偿本金总额（元）": _amount(principal),
        "未偿利息总额（元）": _amount(interest),
        "未偿本息总额（元）": _amount(total),
        "其他费用（元）": _amount(other),
        "借款人平均未偿本息余额（元）": _amount(average) if has_borrower_figures else "",
        "借款人加权平均授信额度（元）": (
            _amount(Decimal(_log_uniform(rng, low * 0.8, high * 1.5)))
            if rng.random() > 0.02
            else ""
        ),
    }
    row.update(dict.fromkeys(COUNT_COLUMNS, ""))
    five = _split(rng, loans, rng.choice((1, 1, 1, 2, 3)))
    for name, n in zip(("损失", "可疑", "次级"), five, strict=False):
        if n:
            row[f"{name}（笔）"] = str(n)
    if rng.random() < 0.8:
        row["已核销（笔）"] = str(rng.randint(max(1, loans // 2), loans))
    guaranteed = rng.randint(1, max(1, loans // 5)) if rng.random() < 0.1 and loans > 5 else 0
    row["信用（笔）"] = str(loans - guaranteed)
    if guaranteed:
        row["保证（笔）"] = str(guaranteed)
    kinds = rng.sample(LITIGATION[1:], rng.choice((0, 1, 2, 3)))
    for name, n in zip(("未诉", *kinds), _split(rng, loans, len(kinds) + 1), strict=True):
        if n:
            row[f"{name}（笔）"] = str(n)
    return row


def _timing(rng: random.Random, publication: date) -> dict[str, str]:
    bid_day = publication + LISTING_PUBLICATION_LEAD
    start = datetime.combine(bid_day, datetime.min.time()) + timedelta(
        hours=rng.choice((9, 9, 10, 10, 10, 14)), minutes=rng.choice((0, 0, 0, 30))
    )
    deadline = datetime.combine(
        bid_day - timedelta(days=rng.choice((1, 2, 3, 7))), datetime.min.time()
    ) + timedelta(hours=rng.choice((15, 17)))
    end = start + timedelta(minutes=rng.choice((30, 30, 60)))
    return {
        "竞价报名截止时间": f"{deadline:%Y-%m-%d %H:%M}",
        "竞价日": f"{start:%Y-%m-%d %H:%M}",
        "转让方式": "线上公开竞价",
        "竞价方式": "多轮竞价",
        "自由竞价开始时间": f"{start:%Y-%m-%d %H:%M}",
        "自由竞价结束时间": f"{end:%Y-%m-%d %H:%M}",
        "延时周期（分钟）": rng.choice(("3", "5", "5")),
    }


def _starting_price(rng: random.Random, total: Decimal, publication: date) -> str:
    if publication >= NO_STARTING_PRICE_FROM:
        return ""
    ratio = Decimal(_log_uniform(rng, 0.01, 0.25))
    return _amount(max(Decimal(10_000), (total * ratio / 10_000).quantize(Decimal(1)) * 10_000))


def synthetic_rows(count: int, seed: int = 0) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """`count` listing rows (serials in publication order) and results for a share of them."""
    if count < 0:
        raise ValueError(f"synthetic listing count must not be negative, got {count}")
    rng = random.Random(seed)
    span = (LAST_PUBLICATION - FIRST_PUBLICATION).days
    publications = sorted(
        FIRST_PUBLICATION + timedelta(days=rng.randint(0, span)) for _ in range(count)
    )
    seller_weights = [w for *_, w in SELLERS]
    batch_numbers: dict[tuple[str, int], int] = {}
    listings: list[dict[str, str]] = []
    projects: list[dict[str, str]] = []  # first listings that may be relisted
    for serial, publication in enumerate(publications, 1):
        relist = projects and rng.random() < 0.07
        if relist:
            # A relisting repeats a recent project of the same seller, figures nearly unchanged.
            base = rng.choice(projects[-50:])
            row = dict(base)
            row["项目名称"] = base["项目名称"] + "（重新挂牌）"
        else:
            institution, branch, _ = rng.choices(SELLERS, weights=seller_weights)[0]
            wording = _asset_wording(rng, institution, branch)
            year = publication.year
            key = (institution + branch, year)
            batch_numbers[key] = batch_numbers.get(key, 0) + 1
            row = dict.fromkeys(LISTING_COLUMNS, "")
            row.update(
                {
                    "项目名称": f"{institution}{branch}关于{year}年第{batch_numbers[key]}期"
                    f"{wording}不良贷款转让项目",
                    "出让方主体名称": institution,
                    "下属机构": branch,
                    "交易基准日": f"{publication - timedelta(days=rng.randint(40, 200)):%Y-%m-%d}",
                    "备注": rng.choice(REMARKS) if rng.random() < 0.5 else "",
                }
            )
            row.update(_listing_figures(rng, wording))
            projects.append(row)
        row["序号"] = str(serial)
        row.update(_timing(rng, publication))
        total = Decimal(row["未偿本息总额（元）"])
        row["起始价（元）"] = _starting_price(rng, total, publication)
        row["加价幅度（元）"] = rng.choice(("10000", "20000", "50000", "50000", "100000"))
        listings.append(row)
    return listings, _results(rng, listings)


def _results(rng: random.Random, listings: list[dict[str, str]]) -> list[dict[str, str]]:
    """Results for about 40% of listings, published 14 days after the agreement; results not
    yet due by the end of the synthetic period are left out."""
    buyer_names = [name for name, _ in BUYERS]
    buyer_weights = [w for _, w in BUYERS]
    codes: dict[int, int] = {}
    results = []
    for listing in listings:
        if rng.random() >= 0.4:
            continue
        bid_day = date.fromisoformat(listing["竞价日"][:10])
        agreed = bid_day + timedelta(days=rng.randint(3, 30))
        if agreed + RESULT_PUBLICATION_LAG > LAST_PUBLICATION:
            continue
        codes[agreed.year] = codes.get(agreed.year, 0) + rng.randint(1, 40)
        row = dict.fromkeys(RESULT_COLUMNS, "")
        row.update(
            {
                "序号": str(len(results) + 1),
                "项目名称": listing["项目名称"].replace("（重新挂牌）", ""),
                "项目编号": f"NPL{agreed.year}{codes[agreed.year]:07d}",
                "出让方主体名称": listing["出让方主体名称"],
                "下属机构": listing["下属机构"],
                "受让方全称": rng.choices(buyer_names, weights=buyer_weights)[0],
                "转让协议签署日期": f"{agreed:%Y-%m-%d}",
            }
        )
        results.append(row)
    # The dataset numbers results in agreement order.
    results.sort(key=lambda r: (r["转让协议签署日期"], int(r["序号"])))
    for serial, row in enumerate(results, 1):
        row["序号"] = str(serial)
    return results
