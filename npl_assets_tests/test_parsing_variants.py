"""Layouts the two samples do not show, and broken input.

Two sources of variants: edits of the real listing's extracted text (what PDFium really emits,
changed in one place), and small PDFs drawn here with reportlab so that text extraction itself is
exercised (page breaks inside the auction table, labels printed before their values, blanks).
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from npl_assets.parsing import (
    ListingRecord,
    ResultRecord,
    extract_text,
    parse_listing_text,
    parse_pdf,
    parse_result_text,
    parse_text,
)
from npl_assets.parsing.errors import (
    InvalidValueError,
    MissingFieldError,
    NotAnAnnouncementError,
    ParseError,
    UnreadablePdfError,
)
from npl_assets.parsing.listing import deposit_required

# ---------------------------------------------------------------- edits of the real text


@pytest.fixture(scope="module")
def listing_text(samples_dir: Path) -> str:
    return extract_text((samples_dir / "listing_huaxia_cc_2023_02.pdf").read_bytes())


@pytest.fixture(scope="module")
def result_text(samples_dir: Path) -> str:
    return extract_text((samples_dir / "result_hebei_2023_01.pdf").read_bytes())


@pytest.fixture(scope="module")
def baseline(listing_text: str) -> dict:
    return parse_listing_text(listing_text, "sample").to_json_dict()


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"edit anchor {old!r} is not unique"
    return text.replace(old, new)


def _changed(record: ListingRecord, baseline: dict) -> dict:
    got = record.to_json_dict()
    return {k: got[k] for k in got if got[k] != baseline[k]}


def test_missing_remarks_row(listing_text: str, baseline: dict) -> None:
    text = _edit(
        listing_text,
        "备注\n未偿利息包括：利息及信用卡年费、刷卡手续费、取现手续费等相关\n费用。\n",
        "",
    )
    assert _changed(parse_listing_text(text, "t"), baseline) == {"remarks": None}


def test_blank_remarks_cell(listing_text: str, baseline: dict) -> None:
    text = _edit(
        listing_text, "未偿利息包括：利息及信用卡年费、刷卡手续费、取现手续费等相关\n费用。\n", ""
    )
    assert _changed(parse_listing_text(text, "t"), baseline) == {"remarks": None}


def test_missing_starting_price_row_is_null_not_zero(listing_text: str, baseline: dict) -> None:
    text = _edit(listing_text, "起始价（元） 14,100,000.00\n", "")
    assert _changed(parse_listing_text(text, "t"), baseline) == {"starting_price_yuan": None}


def test_starting_price_mentioned_only_in_later_prose(listing_text: str, baseline: dict) -> None:
    text = _edit(listing_text, "起始价（元） 14,100,000.00\n", "")
    text = _edit(
        text, "5、竞价结束当天，", "5、起始价（元） 以外 3 次报价，竞价日 2024年1月1日结束当天，"
    )
    assert _changed(parse_listing_text(text, "t"), baseline) == {"starting_price_yuan": None}


@pytest.mark.parametrize("cell", ["", "-", "不公开", "/"])
def test_blank_starting_price_cell(listing_text: str, baseline: dict, cell: str) -> None:
    text = _edit(listing_text, "起始价（元） 14,100,000.00\n", f"起始价（元） {cell}\n")
    assert _changed(parse_listing_text(text, "t"), baseline) == {"starting_price_yuan": None}


def test_auction_table_split_across_pages(listing_text: str, baseline: dict) -> None:
    # A page break with page numbers inside the auction table, even inside a label.
    text = _edit(
        listing_text, "延时周期（分钟） 5\n起始价", "延时周期（分钟） 5\n- 2 -\f第 3 页\n起始\n价"
    )
    assert _changed(parse_listing_text(text, "t"), baseline) == {}


def test_wrapped_labels_and_ascii_punctuation(listing_text: str, baseline: dict) -> None:
    text = _edit(listing_text, "未偿利息总额（元） 327", "未偿利\n息总额 ( 元 ) 327")
    text = _edit(
        text, "竞价报名截止时间：2023年12月19日 17:00", "竞价报名截止 时间: 2023年12月19日17:00"
    )
    assert _changed(parse_listing_text(text, "t"), baseline) == {}


def test_labels_printed_before_their_values(listing_text: str, baseline: dict) -> None:
    # "A B vA vB": a row's two labels come out before its two values.
    text = _edit(
        listing_text,
        "交易基准日 20230923 未偿本金总额（元） 252,846,432.87\n"
        "资产笔数（笔） 12276 未偿利息总额（元） 327,762,388.02\n",
        "交易基准日 未偿本金总额（元）\n20230923 252,846,432.87\n"
        "资产笔数（笔） 未偿利息总额（元） 12276\n327,762,388.02\n",
    )
    assert _changed(parse_listing_text(text, "t"), baseline) == {}


def test_blank_cell_does_not_take_the_next_value(listing_text: str, baseline: dict) -> None:
    text = _edit(listing_text, "加权平均逾期天数 1608.52 其他费用", "加权平均逾期天数 其他费用")
    changed = _changed(parse_listing_text(text, "t"), baseline)
    assert changed == {"weighted_avg_overdue_days": None}


def test_missing_total_is_a_missing_field_error(listing_text: str) -> None:
    text = _edit(listing_text, "未偿本息总额（元） 580,608,820.89", "")
    with pytest.raises(MissingFieldError) as info:
        parse_listing_text(text, "huaxia.pdf")
    assert info.value.field == "unpaid_total_yuan"
    assert "huaxia.pdf" in str(info.value) and "unpaid_total_yuan" in str(info.value)


def test_blank_required_value_is_a_missing_field_error(listing_text: str) -> None:
    text = _edit(listing_text, "未偿本息总额（元） 580,608,820.89", "未偿本息总额（元） -")
    with pytest.raises(MissingFieldError) as info:
        parse_listing_text(text, "t")
    assert info.value.field == "unpaid_total_yuan"


def test_unreadable_required_value_is_an_invalid_value_error(listing_text: str) -> None:
    text = _edit(listing_text, "580,608,820.89", "580,608,820.895")
    with pytest.raises(InvalidValueError) as info:
        parse_listing_text(text, "t")
    assert info.value.field == "unpaid_total_yuan" and info.value.raw == "580,608,820.895"


def test_blank_descriptive_value_keeps_the_listing(listing_text: str, baseline: dict) -> None:
    text = _edit(listing_text, "借款人户数（户） 12200", "借款人户数（户） -")
    assert _changed(parse_listing_text(text, "t"), baseline) == {"borrowers": None}


def test_unreadable_value_is_kept_as_raw_text(listing_text: str, baseline: dict) -> None:
    text = _edit(listing_text, "其他费用（元） 38,136.00", "其他费用（元） 38,136.005")
    changed = _changed(parse_listing_text(text, "t"), baseline)
    assert changed == {"other_fees_yuan": None, "unread_fields": {"other_fees_yuan": "38,136.005"}}


def test_unreadable_count_list_is_kept_as_raw_text(listing_text: str, baseline: dict) -> None:
    text = _edit(listing_text, "已核销 12276 笔", "已核销 全部")
    changed = _changed(parse_listing_text(text, "t"), baseline)
    assert changed == {"write_off": None, "unread_fields": {"write_off": "已核销 全部"}}


def test_count_list_with_an_unknown_category_is_kept(listing_text: str, baseline: dict) -> None:
    text = _edit(listing_text, "已核销 12276 笔", "已核销 12000 笔;部分核销 276 笔")
    changed = _changed(parse_listing_text(text, "t"), baseline)
    assert changed == {"write_off": {"已核销": 12000, "部分核销": 276}}


def test_missing_footer_date_leaves_the_date_to_the_index(
    listing_text: str, baseline: dict
) -> None:
    text = _edit(listing_text, "2023年12月7日", "")
    assert _changed(parse_listing_text(text, "t"), baseline) == {"publication_date": None}


def test_relisting_title(listing_text: str, baseline: dict) -> None:
    text = _edit(listing_text, "转让项目不良贷款转让公告", "转让项目(重新挂牌)不良贷款\n转让公告")
    changed = _changed(parse_listing_text(text, "t"), baseline)
    assert changed == {
        "is_relisting": True,
        "title": "华夏银行股份有限公司信用卡中心关于2023年第2期信用卡不良贷款转让项目(重新挂牌)"
        "不良贷款转让公告",
    }


@pytest.mark.parametrize(
    ("old", "new", "wording"),
    [
        ("第2期信\n用卡不良", "第2期个人住房不良", "个人住房"),
        # the current form, with a parenthetical the table does not know
        ("第2期信\n用卡不良贷款", "第2期个人不良贷款（个人不良贷款）", "个人不良贷款"),
        ("第2期信\n用卡不良贷款", "第2期个人不良贷款（小微企业主经营贷）", "小微企业主经营贷"),
    ],
)
def test_unknown_asset_type_wording_keeps_the_listing(
    listing_text: str, baseline: dict, old: str, new: str, wording: str
) -> None:
    record = parse_listing_text(_edit(listing_text, old, new), "t")
    assert record.asset_type == "其他"
    assert record.asset_type_wording == wording
    assert record.unpaid_total_yuan == Decimal("580608820.89")
    changed = set(_changed(record, baseline))
    assert changed == {"asset_type", "asset_type_wording", "title", "project_name"}


def test_title_in_no_known_shape_keeps_year_and_batch(listing_text: str) -> None:
    text = _edit(listing_text, "第2期信\n用卡不良贷款转让项目", "第二批次不良资产包第2期转让项目")
    record = parse_listing_text(text, "t")
    assert (record.batch_year, record.batch_no, record.asset_type) == (2023, 2, "其他")
    assert record.asset_type_wording == "第二批次不良资产包"


def test_parse_text_dispatches_on_title(listing_text: str, result_text: str) -> None:
    assert isinstance(parse_text(listing_text, "a"), ListingRecord)
    assert isinstance(parse_text(result_text, "b"), ResultRecord)
    with pytest.raises(NotAnAnnouncementError):
        parse_listing_text(result_text, "b")
    with pytest.raises(NotAnAnnouncementError):
        parse_result_text(listing_text, "a")


def test_result_without_buyer_and_old_code(result_text: str) -> None:
    text = _edit(result_text, "受让方全称 天津滨海正信资产管理有限公司\n", "受让方全称\n")
    text = _edit(text, "NPL2023003560", "22000096")
    record = parse_result_text(text, "r")
    assert record.buyer is None and record.project_code == "22000096"
    assert record.agreement_signed_date == date(2023, 11, 24)


def test_result_without_footer_date(result_text: str) -> None:
    record = parse_result_text(_edit(result_text, "2023年12月11日", ""), "r")
    assert record.publication_date is None
    assert record.agreement_signed_date == date(2023, 11, 24)


def test_result_missing_code_keeps_the_result(result_text: str) -> None:
    record = parse_result_text(_edit(result_text, "项目编号 NPL2023003560\n", ""), "r.pdf")
    assert record.project_code is None and record.unread_fields is None
    assert record.buyer == "天津滨海正信资产管理有限公司"


def test_result_unreadable_code_and_date_are_kept_as_raw_text(result_text: str) -> None:
    text = _edit(result_text, "NPL2023003560", "待定")
    text = _edit(text, "2023年11月24日", "2023年底")
    record = parse_result_text(text, "r.pdf")
    assert record.project_code is None and record.agreement_signed_date is None
    assert record.unread_fields == {"project_code": "待定", "agreement_signed_date": "2023年底"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("4.保证金要求：\n本次竞价不收取保证金。", False),
        ("4.保证金要求：无需缴纳保证金", False),
        ("4.保证金要求：意向受让方须缴纳保证金人民币100万元。", True),
        ("4.保证金要求：\n本次竞价收取\n保证金 500,000.00 元", True),
        ("5.转让协议签署要求：线下签署。", None),
    ],
)
def test_deposit(body: str, expected: bool | None) -> None:
    assert deposit_required(body) is expected


# ---------------------------------------------------------------- PDFs drawn with reportlab

_FONT = "STSong-Light"


def _canvas(buffer: io.BytesIO):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
    c = canvas.Canvas(buffer, pagesize=(595, 842))
    c.setFont(_FONT, 10)
    return c


def text_pdf(pages: list[list[str]]) -> bytes:
    """A PDF with the given lines on each page."""
    buffer = io.BytesIO()
    c = _canvas(buffer)
    for number, lines in enumerate(pages, start=1):
        c.setFont(_FONT, 10)
        y = 800
        for line in lines:
            c.drawString(60, y, line)
            y -= 16
        c.drawCentredString(297, 30, f"- {number} -")
        c.showPage()
    c.save()
    return buffer.getvalue()


_TABLE = [
    # (left label, left value, right label, right value)
    ("交易基准日", "20240630", "未偿本金总额（元）", "9,652,888.39"),
    ("资产笔数（笔）", "211", "未偿利息总额（元）", "3,759,335.72"),
    ("借款人户数（户）", "198", "未偿本息总额（元）", "13,412,224.11"),
    ("加权平均逾期天数", "1069.00", "其他费用（元）", "22,712.19"),
    ("单一借款人最高未偿本息余额（元）", "381,147.84", "借款人平均未偿本息余额（元）", "67,738.51"),
    ("借款人加权平均年龄", "43.00", "借款人加权平均授信额度（元）", ""),
]


def listing_pdf(
    *,
    drop_labels: tuple[str, ...] = (),
    remarks: str | None = None,
    starting_price: str | None = "590,000.00",
    labels_first: bool = False,
    split_after: str | None = "延时周期（分钟）",
    credit_limit: str = "",
) -> bytes:
    """A small listing PDF in the real layout: a two-column table whose long labels wrap in
    their cells, and an auction table that can be split across a page break."""
    buffer = io.BytesIO()
    c = _canvas(buffer)
    y = 800

    def line(x: float, text: str) -> None:
        c.drawString(x, y, text)

    line(60, "中国光大银行股份有限公司深圳分行关于2024年第1期个人消费信用不良")
    y -= 16
    line(60, "贷款转让项目不良贷款转让公告")
    y -= 24
    line(60, "一、不良贷款基本信息")
    y -= 20
    for left, lval, right, rval in _TABLE:
        rval = rval or credit_limit
        cells = [(60, left, 190, lval), (290, right, 470, rval)]
        cells = [cell for cell in cells if not any(d in cell[1] for d in drop_labels)]
        # Like a table renderer: a cell's lines are drawn together; a long label wraps after
        # ten characters and its value sits level with the label's first line.
        label_cells = [(x, [lab[:10], lab[10:]]) for x, lab, _, _ in cells]
        value_cells = [(vx, [val]) for _, _, vx, val in cells]
        if labels_first:
            order = label_cells + value_cells
        else:
            order = [cell for pair in zip(label_cells, value_cells, strict=True) for cell in pair]
        for x, texts in order:
            for offset, text in enumerate(texts):
                if text:
                    c.drawString(x, y - 12 * offset, text)
        y -= 30
    for label, value in (
        ("五级分类情况", "次级 11 笔;可疑 15 笔;损失 185 笔"),
        ("核销情况", "已核销 211 笔"),
        ("担保情况概述", "信用 211 笔"),
        ("诉讼情况概述", "未诉 191 笔;已诉讼 20 笔"),
    ):
        line(60, label)
        line(190, value)
        y -= 18
    if remarks is not None:
        line(60, "备注")
        line(190, remarks)
        y -= 18
    line(60, "注1：若无特殊说明，本表格中“加权平均逾期天数”按拟转让贷款本息总额加权平均计算。")
    y -= 24
    for text in (
        "二、时间安排",
        "竞价报名截止时间：2024年1月13日 15:00",
        "竞价日：2024年1月20日",
        "三、转让方式",
        "转让方式：线上公开竞价",
        "竞价方式：多轮竞价",
    ):
        line(60, text)
        y -= 18
    rows = [
        ("自由竞价开始时间", "2024-01-20 10:00"),
        ("自由竞价结束时间", "2024-01-20 10:30"),
        ("延时周期（分钟）", "3"),
        ("起始价（元）", starting_price),
        ("加价幅度（元）", "30,000.00"),
    ]
    page = 1
    for label, value in rows:
        if value is None:
            continue
        line(60, label)
        line(250, value)
        y -= 18
        if label == split_after:
            c.drawCentredString(297, 30, f"第 {page} 页")
            c.showPage()
            c.setFont(_FONT, 10)
            page += 1
            y = 800
    for text in ("四、交易对象要求", "4.保证金要求：", "本次竞价不收取保证金。", "特此公告。"):
        line(60, text)
        y -= 18
    c.drawCentredString(297, 30, f"第 {page} 页")
    c.showPage()
    c.setFont(_FONT, 10)
    y = 800
    for text in (
        "联系人：张三",
        "联系电话：13800000000",
        "中国光大银行股份有限公司深圳分行",
        "2024年1月6日",
    ):
        line(60, text)
        y -= 18
    c.save()
    return buffer.getvalue()


_DRAWN = {
    "title": "中国光大银行股份有限公司深圳分行关于2024年第1期个人消费信用不良贷款转让项目"
    "不良贷款转让公告",
    "seller": "中国光大银行股份有限公司深圳分行",
    "batch_year": 2024,
    "batch_no": 1,
    "asset_type": "个人消费贷款",
    "transaction_base_date": "2024-06-30",
    "loans": 211,
    "borrowers": 198,
    "unpaid_principal_yuan": "9652888.39",
    "unpaid_interest_yuan": "3759335.72",
    "unpaid_total_yuan": "13412224.11",
    "other_fees_yuan": "22712.19",
    "weighted_avg_overdue_days": "1069.00",
    "max_single_borrower_unpaid_yuan": "381147.84",
    "avg_borrower_unpaid_yuan": "67738.51",
    "weighted_avg_borrower_age": "43.00",
    "weighted_avg_credit_limit_yuan": None,
    "five_class": {"次级": 11, "可疑": 15, "损失": 185},
    "write_off": {"已核销": 211},
    "guarantee": {"信用": 211},
    "litigation": {"未诉": 191, "已诉讼": 20},
    "remarks": None,
    "registration_deadline": "2024-01-13T15:00",
    "bid_date": "2024-01-20",
    "auction_start": "2024-01-20T10:00",
    "auction_end": "2024-01-20T10:30",
    "extension_minutes": 3,
    "starting_price_yuan": "590000.00",
    "bid_increment_yuan": "30000.00",
    "deposit_required": False,
    "publication_date": "2024-01-06",
}


def test_drawn_listing_with_page_split_and_no_remarks() -> None:
    record = parse_pdf(listing_pdf(), name="drawn.pdf")
    got = record.to_json_dict()
    assert {k: got[k] for k in _DRAWN} == _DRAWN
    assert "张三" not in str(got) and "13800000000" not in str(got)


def test_drawn_listing_labels_before_values() -> None:
    # Each table row's label cells drawn before its value cells. (With a blank cell too, text
    # order alone could not tell which of the row's two cells is blank: a known limit.)
    record = parse_pdf(listing_pdf(labels_first=True, credit_limit="37,560.57"))
    got = record.to_json_dict()
    expected = _DRAWN | {"weighted_avg_credit_limit_yuan": "37560.57"}
    assert {k: got[k] for k in expected} == expected


def test_drawn_listing_without_starting_price_and_with_remarks() -> None:
    record = parse_pdf(
        listing_pdf(starting_price=None, remarks="本资产包债权主要分布地区为两广地区。")
    )
    assert record.starting_price_yuan is None
    assert record.bid_increment_yuan == Decimal("30000.00")
    assert record.auction_end == datetime(2024, 1, 20, 10, 30)
    assert record.remarks == "本资产包债权主要分布地区为两广地区。"


def test_drawn_listing_blank_starting_price_cell() -> None:
    record = parse_pdf(listing_pdf(starting_price=""))
    assert record.starting_price_yuan is None


def test_drawn_listing_missing_total() -> None:
    with pytest.raises(MissingFieldError) as info:
        parse_pdf(listing_pdf(drop_labels=("未偿本息总额",)), name="drawn.pdf")
    assert info.value.field == "unpaid_total_yuan"
    assert str(info.value).startswith("drawn.pdf: ")


# ---------------------------------------------------------------- unreadable input


def test_html_saved_as_pdf(tmp_path: Path) -> None:
    path = tmp_path / "P020231207000000000000.pdf"
    path.write_text("<!DOCTYPE html><html><head><title>404</title></head></html>", "utf-8")
    with pytest.raises(UnreadablePdfError) as info:
        parse_pdf(path)
    assert "P020231207000000000000.pdf" in str(info.value) and "not a PDF" in str(info.value)


def test_empty_bytes() -> None:
    with pytest.raises(UnreadablePdfError, match="empty"):
        parse_pdf(b"", name="empty.pdf")


def test_truncated_pdf(samples_dir: Path) -> None:
    data = (samples_dir / "listing_huaxia_cc_2023_02.pdf").read_bytes()
    with pytest.raises(UnreadablePdfError, match=r"truncated\.pdf"):
        parse_pdf(data[: len(data) // 2], name="truncated.pdf")


def test_encrypted_pdf() -> None:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, encrypt="secret")
    c.drawString(60, 800, "hello")
    c.save()
    with pytest.raises(UnreadablePdfError, match="encrypted"):
        parse_pdf(buffer.getvalue(), name="locked.pdf")


def test_pdf_without_text_layer() -> None:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer)
    c.rect(100, 100, 200, 200, fill=1)
    c.save()
    with pytest.raises(UnreadablePdfError, match="no text layer"):
        parse_pdf(buffer.getvalue())


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadablePdfError, match=r"nope\.pdf"):
        parse_pdf(tmp_path / "nope.pdf")


def test_unrelated_pdf_is_not_an_announcement() -> None:
    data = text_pdf(
        [["银行业信贷资产登记流转中心2023年度报告", "一、概况", "全年不良贷款转让成交"]]
    )
    with pytest.raises(NotAnAnnouncementError) as info:
        parse_pdf(data, name="annual.pdf")
    assert "annual.pdf" in str(info.value)
    assert isinstance(info.value, ParseError)


def test_pre_marketing_notice_is_not_an_announcement() -> None:
    data = text_pdf([["某银行关于2023年第1期个人消费信用不良贷款转让项目招商公告", "特此公告。"]])
    with pytest.raises(NotAnAnnouncementError):
        parse_pdf(data)


def test_drawn_result_pdf() -> None:
    data = text_pdf(
        [
            [
                "平安银行股份有限公司关于2023年第68期个人经营类信用不良贷款转让项目（重",
                "新挂牌）不良贷款转让结果公告",
                "项目名称",
                "平安银行股份有限公司关于2023年第68期个人经营类信用不良贷款转让项目",
                "（重新挂牌）",
                "项目编号 NLP2023001161",
                "出让方全称 平安银行股份有限公司",
                "受让方全称 辽宁富安金融资产管理有限",
                "公司",
                "转让协议签署日期 2023-06-29",
                "特此公告。",
                "平安银行股份有限公司",
                "2023年7月13日",
            ]
        ]
    )
    record = parse_pdf(data)
    assert record.to_json_dict() == {
        "document_type": "result",
        "title": "平安银行股份有限公司关于2023年第68期个人经营类信用不良贷款转让项目（重新挂牌）"
        "不良贷款转让结果公告",
        "project_name": "平安银行股份有限公司关于2023年第68期个人经营类信用不良贷款转让项目",
        "project_code": "NLP2023001161",
        "seller": "平安银行股份有限公司",
        "buyer": "辽宁富安金融资产管理有限公司",
        "agreement_signed_date": "2023-06-29",
        "publication_date": "2023-07-13",
        "unread_fields": None,
    }
