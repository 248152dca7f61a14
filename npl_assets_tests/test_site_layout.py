"""Pure parts of the site generator: pagination, names, value formats, table rows."""

from __future__ import annotations

from datetime import date

import pytest

from npl_assets.site import formats as fmt
from npl_assets.site.layout import (
    detail_name,
    page_filename,
    paginate,
    pdf_name,
    total_pages,
)
from npl_assets.site.pdfs import auction_rows, count_rows


def test_pagination_runs_backwards_anchored_at_the_oldest_end() -> None:
    items = list(range(459, 0, -1))  # newest first: 459 is the newest
    pages = paginate(items)
    assert len(pages) == total_pages(459) == 46
    assert [page_filename(n, 46) for n in (1, 2, 45, 46)] == [
        "index.html",
        "index_45.html",
        "index_2.html",
        "index_1.html",
    ]
    # index_1 (the last display page) holds the ten oldest, index.html the newest remainder.
    assert pages[-1] == [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    assert pages[0] == [459, 458, 457, 456, 455, 454, 453, 452, 451]
    assert all(len(p) == 10 for p in pages[1:])
    assert [i for p in pages for i in p] == items


@pytest.mark.parametrize(("count", "pages", "first"), [(0, 1, 0), (1, 1, 1), (150, 15, 10)])
def test_pagination_edges(count: int, pages: int, first: int) -> None:
    chunks = paginate(list(range(count)))
    assert total_pages(count) == len(chunks) == pages
    assert len(chunks[0]) == first


def test_page_filename_rejects_pages_out_of_range() -> None:
    with pytest.raises(ValueError, match="outside"):
        page_filename(16, 15)


def test_detail_and_attachment_names_follow_the_cms_pattern() -> None:
    assert detail_name(date(2023, 12, 7), 415) == "t20231207_0415.html"
    name = pdf_name(date(2023, 12, 7), "listing:415")
    assert name.startswith("P020231207") and name.endswith(".pdf") and len(name) == 26
    assert name == pdf_name(date(2023, 12, 7), "listing:415")
    assert name != pdf_name(date(2023, 12, 7), "listing:416")


@pytest.mark.parametrize(
    ("raw", "printed"),
    [
        ("252846432.87", "252,846,432.87"),
        ("38136", "38,136.00"),
        ("232132.1", "232,132.10"),
        ("0", "0.00"),
        ("", ""),
    ],
)
def test_money_prints_thousands_separators_and_two_decimals(raw: str, printed: str) -> None:
    assert fmt.money(raw) == printed


@pytest.mark.parametrize("raw", ["1.234", "abc", "1,000", "12 345"])
def test_money_rejects_what_it_cannot_print_exactly(raw: str) -> None:
    with pytest.raises(ValueError):
        fmt.money(raw)


def test_dates_print_like_the_real_documents() -> None:
    assert fmt.base_date("2023-09-23") == "20230923"
    assert fmt.cn_date(date(2023, 12, 7)) == "2023年12月7日"
    assert fmt.cn_minute("2023-12-19 17:00") == "2023年12月19日 17:00"
    assert fmt.auction_minute("2023-12-21 14:00") == "2023-12-21 14:00"
    with pytest.raises(ValueError, match="YYYY-MM-DD HH:MM"):
        fmt.cn_minute("2023/12/19 17:00")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        fmt.base_date("20230923")


def test_count_cells() -> None:
    assert fmt.count_items("损失", "57") == [("损失", 57)]
    assert fmt.count_items("损失", " ") == []
    assert fmt.count_items("保证", "2659（另有其他723）") == [("保证", 2659), ("其他", 723)]
    with pytest.raises(ValueError, match="保证"):
        fmt.count_items("保证", "约300")
    assert fmt.count_list([("损失", 57), ("可疑", 15), ("次级", 11)]) == (
        "损失 57 笔;可疑 15 笔;次级 11 笔"
    )


def _row(**values: str) -> dict[str, str]:
    columns = [
        "次级",
        "可疑",
        "损失",
        "已核销",
        "信用",
        "保证",
        "未诉",
        "诉讼中",
        "已诉讼",
        "仲裁中",
        "已仲裁",
        "已判未执",
        "执行中",
        "撤回执行",
        "执行中止",
        "终结执行",
        "终本执行",
        "已调解",
        "其他",
    ]
    row = {f"{c}（笔）": "" for c in columns}
    row.update(
        {
            "序号": "1",
            "自由竞价开始时间": "2023-12-21 14:00",
            "自由竞价结束时间": "2023-12-21 15:00",
            "延时周期（分钟）": "5",
            "起始价（元）": "14100000",
            "加价幅度（元）": "200000",
        }
    )
    row.update(values)
    return row


def test_count_rows_skip_empty_categories_and_leave_empty_lists_blank() -> None:
    row = _row(**{"次级（笔）": "11", "可疑（笔）": "15", "损失（笔）": "57", "信用（笔）": "83"})
    row["未诉（笔）"], row["终本执行（笔）"] = "80", "3"
    assert count_rows(row) == [
        ("五级分类情况", "损失 57 笔;可疑 15 笔;次级 11 笔"),
        ("核销情况", ""),
        ("担保情况概述", "信用 83 笔"),
        ("诉讼情况概述", "未诉 80 笔;终本执行 3 笔"),
    ]


def test_auction_rows_omit_an_undisclosed_starting_price() -> None:
    with_price = auction_rows(_row())
    assert with_price == [
        ("自由竞价开始时间", "2023-12-21 14:00"),
        ("自由竞价结束时间", "2023-12-21 15:00"),
        ("延时周期（分钟）", "5"),
        ("起始价（元）", "14,100,000.00"),
        ("加价幅度（元）", "200,000.00"),
    ]
    without = auction_rows(_row(**{"起始价（元）": "", "延时周期（分钟）": ""}))
    assert [label for label, _ in without] == [
        "自由竞价开始时间",
        "自由竞价结束时间",
        "延时周期（分钟）",
        "加价幅度（元）",
    ]
    assert without[2] == ("延时周期（分钟）", "")


def test_a_bad_value_names_its_row_and_column() -> None:
    with pytest.raises(ValueError, match=r"row 1 起始价（元）"):
        auction_rows(_row(**{"起始价（元）": "about 1m"}))
