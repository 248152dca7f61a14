"""The pure normalisers: money, numbers, dates, count lists, titles (over every 2023 title)."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from npl_assets.parsing.errors import NormaliseError, UnknownAssetTypeWording
from npl_assets.parsing.normalize import (
    compact,
    find_date,
    find_datetime,
    find_last_date,
    format_decimal,
    parse_count,
    parse_count_list,
    parse_date,
    parse_decimal,
    parse_money,
)
from npl_assets.parsing.titles import (
    ASSET_TYPES,
    asset_type_from_wording,
    parse_cn_number,
    parse_project_name,
    strip_title_suffix,
)
from npl_assets_tests.strategies import count_lists, days, minutes, money_values

# ---------------------------------------------------------------- money and numbers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("252,846,432.87", "252846432.87"),
        ("38,136.00", "38136.00"),
        ("0.00", "0.00"),
        ("590000", "590000"),
        ("１４，１００，０００．００", "14100000.00"),  # full-width
        (" 1,036,641.23元 ", "1036641.23"),
    ],
)
def test_parse_money(raw: str, expected: str) -> None:
    assert parse_money(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["", "abc", "1,23.00", "12.345", "1.2.3", "-5", "1,000,00"])
def test_parse_money_rejects(raw: str) -> None:
    with pytest.raises(NormaliseError):
        parse_money(raw)


@given(money_values)
def test_money_round_trips_through_thousands_separators(value: Decimal) -> None:
    assert parse_money(f"{value:,.2f}") == value
    assert format_decimal(parse_money(f"{value:,.2f}")) == f"{value:.2f}"


@given(st.integers(min_value=0, max_value=10**9))
def test_counts_with_and_without_separators(n: int) -> None:
    assert parse_count(str(n)) == n
    assert parse_count(f"{n:,}") == n
    assert parse_count(f"{n} 笔") == n


def test_parse_count_rejects_decimals() -> None:
    with pytest.raises(NormaliseError):
        parse_count("12.5")


def test_parse_decimal_and_format() -> None:
    assert parse_decimal("1608.52") == Decimal("1608.52")
    assert format_decimal(parse_decimal("1069")) == "1069.00"
    assert format_decimal(parse_decimal("42.4")) == "42.40"
    assert format_decimal(Decimal("1.125")) == "1.125"  # never rounds digits away


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "raw",
    ["20230923", "2023-09-23", "2023/9/23", "2023年9月23日", "2023 年 09 月 23 日", "2023.09.23"],
)
def test_parse_date_forms(raw: str) -> None:
    assert parse_date(raw) == date(2023, 9, 23)


@pytest.mark.parametrize("raw", ["20231323", "2023-02-30", "2023", "230923", "2023年9月"])
def test_parse_date_rejects(raw: str) -> None:
    with pytest.raises(NormaliseError):
        parse_date(raw)


@given(days)
def test_date_forms_agree(day: date) -> None:
    forms = [day.strftime("%Y%m%d"), day.isoformat(), f"{day.year}年{day.month}月{day.day}日"]
    assert {parse_date(f) for f in forms} == {day}


@given(minutes)
def test_datetime_forms_agree(moment: datetime) -> None:
    cn = f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"
    iso = moment.strftime("%Y-%m-%d %H:%M")
    assert find_datetime(cn) == find_datetime(iso) == find_datetime(f"：{cn}\n") == moment


def test_find_date_in_text() -> None:
    assert find_date("竞价日：2023年12月21日 10:00") == date(2023, 12, 21)
    assert find_date("竞价日：2023年12月21日10:00") == date(2023, 12, 21)
    assert find_last_date("特此公告。\n2023年12月1日 某行\n2023年12月7日") == date(2023, 12, 7)
    assert find_datetime("2023年12月19日17:00") == datetime(2023, 12, 19, 17, 0)


def test_datetime_needs_a_time() -> None:
    with pytest.raises(NormaliseError):
        find_datetime("2023年12月19日")
    with pytest.raises(NormaliseError):
        find_datetime("2023-12-19 25:00")


# ---------------------------------------------------------------- count lists


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("损失 57 笔;可疑 15 笔;次级 11 笔", {"损失": 57, "可疑": 15, "次级": 11}),
        ("未诉 12262 笔;终本执行 14 笔", {"未诉": 12262, "终本执行": 14}),
        ("未诉 12,262 笔；终本\n执行 14 笔", {"未诉": 12262, "终本执行": 14}),
        ("已核销12276笔", {"已核销": 12276}),
        ("信用：3笔，保证：2笔。", {"信用": 3, "保证": 2}),
        ("", None),
        (" 无 ", None),
    ],
)
def test_parse_count_list(raw: str, expected: dict | None) -> None:
    assert parse_count_list(raw) == expected


@pytest.mark.parametrize("raw", ["全部已核销", "损失 5 笔;损失 6 笔", "损失 5 笔 另有说明"])
def test_parse_count_list_rejects(raw: str) -> None:
    with pytest.raises(NormaliseError):
        parse_count_list(raw)


@given(count_lists, st.sampled_from([";", "；", "、", "，"]))
def test_count_list_round_trip(counts: dict[str, int], sep: str) -> None:
    raw = sep.join(f"{name} {n} 笔" for name, n in counts.items())
    assert parse_count_list(raw) == counts


# ---------------------------------------------------------------- titles


def test_cn_numbers() -> None:
    assert [
        parse_cn_number(s) for s in ("一", "十", "十二", "二十", "二十三", "一百零三", "7")
    ] == [
        1,
        10,
        12,
        20,
        23,
        103,
        7,
    ]


@pytest.mark.parametrize(
    ("wording", "expected"),
    [
        ("个人消费及经营类信用", "个人消费及经营性贷款"),
        ("信用卡", "信用卡透支"),
        ("个人消费信用", "个人消费贷款"),
        ("个人经营类信用", "个人经营性贷款"),
        ("个人消费及经营类", "个人消费及经营性贷款"),
        ("个人经营类", "个人经营性贷款"),
        ("个人消费", "个人消费贷款"),
        ("个人汽车消费及经营类信用", "个人消费及经营性贷款"),
        ("个人消费类信用", "个人消费贷款"),
        ("信用卡、个人消费及经营类信用", "混合"),
        ("个人消费信 用", "个人消费贷款"),
        ("个人经营类等", "个人经营性贷款"),
        ("信用卡透支", "信用卡透支"),
        ("个人消费及经营性贷款", "个人消费及经营性贷款"),
    ],
)
def test_asset_type_wordings(wording: str, expected: str) -> None:
    assert asset_type_from_wording(wording) == expected


@pytest.mark.parametrize("wording", ["个人住房", "对公", "信用", "", "个人消费、个人住房"])
def test_unknown_wording_is_an_error(wording: str) -> None:
    if wording == "对公":
        assert asset_type_from_wording(wording) == "对公"  # already a normal name
        return
    with pytest.raises(UnknownAssetTypeWording):
        asset_type_from_wording(wording)


def test_title_forms() -> None:
    info = parse_project_name(
        "华夏银行股份有限公司信用卡中心关于2023年第2期信用卡不良贷款转让项目不良贷款转让公告"
    )
    assert (info.seller, info.batch_year, info.batch_no, info.asset_type) == (
        "华夏银行股份有限公司信用卡中心",
        2023,
        2,
        "信用卡透支",
    )
    info = parse_project_name("中邮消费金融有限公司关于第1期个人消费信用不良贷款转让项目")
    assert (info.seller, info.batch_year, info.batch_no) == ("中邮消费金融有限公司", None, 1)
    info = parse_project_name(
        "招联消费金融股份有限公司关于2025年第3期个人不良贷款(个人消费贷款)转让项目（重新挂牌）"
    )
    assert info.asset_type == "个人消费贷款" and info.is_relisting
    assert (
        info.project_name
        == "招联消费金融股份有限公司关于2025年第3期个人不良贷款（个人消费贷款）转让项目"
    )
    info = parse_project_name("某某银行股份有限公司关于2026年某某实业有限公司等3户不良贷款转让项目")
    assert (info.seller, info.batch_year, info.batch_no, info.asset_type) == (
        "某某银行股份有限公司",
        2026,
        None,
        "对公",
    )
    info = parse_project_name("镇原县农村信用合作联社2023年第一期个人消费及经营类不良贷款转让项目")
    assert (info.seller, info.batch_no) == ("镇原县农村信用合作联社", 1)


def test_strip_title_suffix() -> None:
    assert strip_title_suffix("X关于2023年第1期信用卡不良贷款转让项目不良贷款转让结果公告") == (
        "X关于2023年第1期信用卡不良贷款转让项目",
        "result",
    )
    assert strip_title_suffix("X转让项目不良贷款转让公告（重新挂牌）") == (
        "X转让项目（重新挂牌）",
        "listing",
    )
    assert strip_title_suffix("X转让项目招商公告")[1] is None


@pytest.mark.parametrize(
    "raw", ["2023年度报告", "某银行关于开展业务的通知", "关于2023年第1期个人消费不良贷款转让项目"]
)
def test_unparsable_project_names(raw: str) -> None:
    with pytest.raises(NormaliseError):
        parse_project_name(raw)


@given(st.text(max_size=60))
def test_parse_project_name_never_crashes(raw: str) -> None:
    try:
        info = parse_project_name(raw)
    except NormaliseError:
        return
    assert info.asset_type in ASSET_TYPES
    assert info.seller and " " not in info.project_name


def _csv_rows(shared_dir: Path, name: str) -> list[dict[str, str]]:
    with (shared_dir / "data" / name).open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("name", ["yindeng_2023_listings.csv", "yindeng_2023_results.csv"])
def test_every_2023_title_parses(shared_dir: Path, name: str) -> None:
    rows = _csv_rows(shared_dir, name)
    assert rows
    for row in rows:
        info = parse_project_name(row["项目名称"])
        # The dataset records the seller separately: the title's seller must be exactly it.
        assert info.seller == row["出让方主体名称"] + row["下属机构"], row["项目名称"]
        assert info.asset_type in ASSET_TYPES
        assert info.project_name == compact(info.project_name)
        assert info.batch_no is not None and info.batch_no > 0


def _independent_type(title: str) -> str:
    """A second, keyword-only reading of the 2023 wordings, to cross-check the table."""
    wording = "".join(title.split()).split("期", 1)[1]
    if "信用卡" in wording:
        return "混合" if "个人" in wording.split("不良")[0] else "信用卡透支"
    has_consumer, has_business = "消费" in wording, "经营" in wording
    if has_consumer and has_business:
        return "个人消费及经营性贷款"
    return "个人消费贷款" if has_consumer else "个人经营性贷款"


def test_2023_asset_types_agree_with_a_keyword_reading(shared_dir: Path) -> None:
    counts: Counter[str] = Counter()
    for row in _csv_rows(shared_dir, "yindeng_2023_listings.csv"):
        got = parse_project_name(row["项目名称"]).asset_type
        assert got == _independent_type(row["项目名称"]), row["项目名称"]
        counts[got] += 1
    # README wording counts: 信用卡 105 alone; 信用卡、个人… 2 (+1 without 信用) mixed.
    assert counts["信用卡透支"] == 105
    assert counts["混合"] == 3
    assert sum(counts.values()) == 459
