"""Generated PDFs read back (pypdfium2) like the real ones: the twins of the two real samples
carry the very strings the real PDFs print, and every dataset value appears in its real format."""

from __future__ import annotations

import csv
import random
import re
from decimal import Decimal
from pathlib import Path

import pytest

from npl_assets.parsing.pdftext import extract_pages
from npl_assets.site.pdfs import render_document
from npl_assets.site.source import listing_publication, result_publication


def pdf_pages(data: bytes | Path) -> list[str]:
    # The parser's extraction: PDFium with the project's fonts, not the machine's (with no CJK
    # system font, raw PDFium drops a character alone on a wrapped line).
    return extract_pages(data.read_bytes() if isinstance(data, Path) else data)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def rows(shared_dir: Path) -> dict[str, dict[int, dict[str, str]]]:
    out = {}
    for kind, name in (("listing", "listings"), ("result", "results")):
        path = shared_dir / "data" / f"yindeng_2023_{name}.csv"
        with path.open(encoding="utf-8-sig", newline="") as handle:
            out[kind] = {int(r["序号"]): r for r in csv.DictReader(handle)}
    return out


# Strings copied from the real Huaxia listing PDF's text (samples/listing_huaxia_cc_2023_02.pdf).
HUAXIA_STRINGS = [
    "华夏银行股份有限公司信用卡中心关于2023年第2期信",
    "一、不良贷款基本信息",
    "交易基准日 20230923 未偿本金总额（元） 252,846,432.87",
    "资产笔数（笔） 12276 未偿利息总额（元） 327,762,388.02",
    "借款人户数（户） 12200 未偿本息总额（元） 580,608,820.89",
    "加权平均逾期天数 1608.52 其他费用（元） 38,136.00",
    "单一借款人最高未偿\n本息余额（元）\n1,036,641.23 借款人平均未偿本息余额\n（元）\n47,590.89",
    "借款人加权平均年龄 42.38 借款人加权平均授信额度\n（元）\n37,560.57",
    "五级分类情况 损失 12276 笔",
    "核销情况 已核销 12276 笔",
    "担保情况概述 信用 12276 笔",
    "诉讼情况概述 未诉 12262 笔;终本执行 14 笔",
    "注2：逾期起始点确定标准：贷款到期后未足额偿还本金和利息即认定为开始逾期",
    "二、时间安排",
    "竞价报名截止时间：2023年12月19日 17:00",
    "竞价日：2023年12月21日",
    "三、转让方式",
    "转让方式：线上公开竞价",
    "竞价方式：多轮竞价",
    "自由竞价开始时间 2023-12-21 14:00",
    "自由竞价结束时间 2023-12-21 15:00",
    "延时周期（分钟） 5",
    "起始价（元） 14,100,000.00",
    "加价幅度（元） 200,000.00",
    "四、交易对象要求",
    "五、交易条件",
    "4.保证金要求：\n本次竞价不收取保证金。",
    "六、其他要求",
    "特此公告。",
    "华夏银行股份有限公司信用卡中心\n2023年12月7日",
]
HEBEI_STRINGS = [
    "项目编号 NPL2023003560",
    "出让方全称 河北银行股份有限公司",
    "受让方全称 天津滨海正信资产管理有限公司",
    "转让协议签署日期 2023年11月24日",
    "特此公告。",
    "河北银行股份有限公司\n2023年12月11日",
]


def test_the_huaxia_twin_prints_what_the_real_pdf_prints(rows, samples_dir: Path) -> None:
    real = "\n".join(pdf_pages(samples_dir / "listing_huaxia_cc_2023_02.pdf"))
    row = rows["listing"][415]
    twin_pages = pdf_pages(render_document("listing", row, listing_publication(row), False))
    twin = "\n".join(twin_pages)
    for expected in HUAXIA_STRINGS:
        assert expected in real, f"test string not in the real PDF: {expected!r}"
        assert expected in twin, f"generated twin lacks {expected!r}"
    assert len(twin_pages) >= 3, "the real listing runs over several pages"
    # Fictitious contact details instead of the real person's.
    assert "联系人：张三（虚构）" in twin and "电子邮件：contact@example.invalid" in twin
    assert "hxxykzc" not in twin


def test_the_hebei_twin_prints_what_the_real_pdf_prints(rows, samples_dir: Path) -> None:
    from datetime import date

    real = "\n".join(pdf_pages(samples_dir / "result_hebei_2023_01.pdf"))
    # The site dates the real Hebei result by its own footer (2023-12-11), not by the rule.
    row = rows["result"][147]
    twin = "\n".join(pdf_pages(render_document("result", row, date(2023, 12, 11), False)))
    for expected in HEBEI_STRINGS:
        assert expected in real, f"test string not in the real PDF: {expected!r}"
        assert expected in twin, f"generated twin lacks {expected!r}"
    # Prose and the wrapping project name: the same text, line breaks aside.
    for expected in (
        "本机构依据《银行业信贷资产登记流转中心不良贷款转让业务规则》",
        "已通过银登中心完成不良贷款转让业务，现予以公告。",
        "项目名称河北银行股份有限公司关于2023年第1期信用卡不良贷款转让项目",
    ):
        assert squeeze(expected) in squeeze(real), expected
        assert squeeze(expected) in squeeze(twin), expected


def _money(text: str) -> str:
    return f"{Decimal(text):,.2f}"


MONEY = [
    "未偿本金总额（元）",
    "未偿利息总额（元）",
    "未偿本息总额（元）",
    "其他费用（元）",
    "单一借款人最高未偿本息余额（元）",
    "借款人平均未偿本息余额（元）",
    "借款人加权平均授信额度（元）",
    "起始价（元）",
    "加价幅度（元）",
]


def expected_listing_strings(row: dict[str, str]) -> list[str]:
    """Every value of a dataset row as the real PDFs print it (written here, not imported)."""
    out = [row["项目名称"] + "不良贷款转让公告", row["交易基准日"].replace("-", "")]
    out += [row[c] for c in ("资产笔数（笔）", "借款人户数（户）", "加权平均逾期天数")]
    out += [row["借款人加权平均年龄"], row["延时周期（分钟）"]]
    out += [_money(row[c]) for c in MONEY if row[c].strip()]
    for column, value in row.items():
        if column.endswith("（笔）") and column not in ("资产笔数（笔）",) and value.strip():
            name = column.removesuffix("（笔）")
            # "2659（另有其他723）" prints as its leading count (and a separate 其他 entry).
            leading = re.match(r"\d+", value)
            assert leading, (column, value)
            out.append(f"{name} {leading.group()} 笔")
    y, m, d = (int(x) for x in row["竞价日"][:10].split("-"))
    out.append(f"竞价日：{y}年{m}月{d}日")
    dy, dm, dd = (int(x) for x in row["竞价报名截止时间"][:10].split("-"))
    out.append(f"竞价报名截止时间：{dy}年{dm}月{dd}日 {row['竞价报名截止时间'][11:16]}")
    out += [row["自由竞价开始时间"], row["自由竞价结束时间"], row["转让方式"], row["竞价方式"]]
    out.append(row["出让方主体名称"] + row["下属机构"])
    if row["备注"].strip():
        out.append(row["备注"])
    return [s for s in out if s.strip()]


def test_generated_listings_print_every_value_of_their_row(rows) -> None:
    listing_rows = rows["listing"]
    picked = sorted({1, 4, 38, 335, 384, *random.Random(7).sample(sorted(listing_rows), 25)})
    for serial in picked:
        row = listing_rows[serial]
        pdf = render_document("listing", row, listing_publication(row), False)
        text = squeeze("".join(pdf_pages(pdf)))
        missing = [s for s in expected_listing_strings(row) if squeeze(s) not in text]
        assert not missing, f"listing 序号 {serial} PDF lacks {missing}"
        has_remark_row = "备注" in text.split("注1：")[0]
        assert has_remark_row == bool(row["备注"].strip()), serial


def test_generated_results_print_every_value_of_their_row(rows) -> None:
    for serial in (1, 2, 50, 100, 146):
        row = rows["result"][serial]
        agreed = [int(x) for x in row["转让协议签署日期"].split("-")]
        published = result_publication(row)
        text = squeeze("".join(pdf_pages(render_document("result", row, published, False))))
        for value in (
            row["项目名称"] + "不良贷款转让结果公告",
            row["项目编号"],
            row["出让方主体名称"] + row["下属机构"],
            row["受让方全称"],
            f"转让协议签署日期{agreed[0]}年{agreed[1]}月{agreed[2]}日",
            f"{published.year}年{published.month}月{published.day}日",
        ):
            assert squeeze(value) in text, (serial, value)


def test_a_missing_value_is_a_blank_cell_not_zero(rows) -> None:
    row = rows["listing"][38]  # lacks overdue days, age and the per-borrower balances
    assert not row["加权平均逾期天数"] and not row["借款人加权平均年龄"]
    first = pdf_pages(render_document("listing", row, listing_publication(row), False))[0]
    assert "加权平均逾期天数 其他费用（元）" in first
    assert re.search(r"借款人加权平均年龄\s+借款人加权平均授信额度", first)


def test_rendering_is_byte_for_byte_repeatable(rows) -> None:
    row = rows["listing"][1]
    first = render_document("listing", row, listing_publication(row), False)
    assert render_document("listing", row, listing_publication(row), False) == first
    assert first.startswith(b"%PDF-") and first.rstrip().endswith(b"%%EOF")


def test_auction_tables_sometimes_split_across_a_page_break(built_site: Path) -> None:
    import json

    manifest = json.loads((built_site / "manifest.json").read_text(encoding="utf-8"))
    listings = [d for d in manifest["documents"] if d["doc_type"] == "listing"]
    split = whole = 0
    for doc in listings[::5]:
        pages = pdf_pages(built_site / doc["pdf_path"].lstrip("/"))
        head = next(i for i, t in enumerate(pages) if "竞价方式：" in t)
        tail = next(i for i, t in enumerate(pages) if "加价幅度（元）" in t)
        assert len(pages) >= 3
        split += head != tail
        whole += head == tail
    assert split and whole, (split, whole)
