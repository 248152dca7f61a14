"""转让公告 (listing, relistings included) text -> ListingRecord.

Required, because the marts cannot place or size a listing without them: the title (hence the
project name and the seller) and 未偿本息总额. A listing without one fails with MissingFieldError
or InvalidValueError. The quarter comes from the footer's publication date, else the index date,
so a missing footer date is not fatal either.

Everything else is descriptive and tolerated: an absent label or blank cell is None (never 0);
a value that does not read as its type is None too, with its raw text kept in `unread_fields`
({field: raw}); an asset-type wording the table does not know is 其他 with the wording kept. The
quality suite flags each of these (soft expectations) so that the mapping can be extended.
起始价 in particular is no longer disclosed from late 2025 on.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from npl_assets.parsing.errors import (
    InvalidValueError,
    MissingFieldError,
    NormaliseError,
    NotAnAnnouncementError,
)
from npl_assets.parsing.layout import (
    Label,
    announcement_end,
    assign_typed,
    clean_text,
    find_title,
    join_lines,
    locate,
    publication_date,
    slots,
    value_chunks,
)
from npl_assets.parsing.normalize import (
    NULL_MARKERS,
    find_date,
    find_datetime,
    fold,
    parse_count,
    parse_count_list,
    parse_date,
    parse_decimal,
    parse_money,
)
from npl_assets.parsing.records import ListingRecord
from npl_assets.parsing.titles import parse_project_name

_YUAN = ("（元）",)

# Section 一: the key/value table. Field -> (label, reader of one value chunk).
TABLE_LABELS = (
    Label("transaction_base_date", "交易基准日"),
    Label("loans", "资产笔数", ("（笔）",)),
    Label("borrowers", "借款人户数", ("（户）",)),
    Label("unpaid_principal_yuan", "未偿本金总额", _YUAN),
    Label("unpaid_interest_yuan", "未偿利息总额", _YUAN),
    Label("unpaid_total_yuan", "未偿本息总额", _YUAN),
    Label("other_fees_yuan", "其他费用", _YUAN),
    Label("weighted_avg_overdue_days", "加权平均逾期天数", ("（天）",)),
    Label("max_single_borrower_unpaid_yuan", "单一借款人最高未偿本息余额", _YUAN),
    Label("avg_borrower_unpaid_yuan", "借款人平均未偿本息余额", _YUAN),
    Label("weighted_avg_borrower_age", "借款人加权平均年龄", ("（岁）",)),
    Label("weighted_avg_credit_limit_yuan", "借款人加权平均授信额度", _YUAN),
)
COUNT_LABELS = (
    Label("five_class", "五级分类", ("情况",)),
    Label("write_off", "核销情况"),
    Label("guarantee", "担保情况", ("概述",)),
    Label("litigation", "诉讼情况", ("概述",)),
)
# Sections 二 and 三: time schedule and the auction table (which may split across pages).
SCHEDULE_LABELS = (
    Label("registration_deadline", "竞价报名截止时间"),
    Label("bid_date", "竞价日"),
    Label("transfer_method", "转让方式", not_after_enumeration=True),
    Label("bidding_method", "竞价方式"),
    Label("auction_start", "自由竞价开始时间"),
    Label("auction_end", "自由竞价结束时间"),
    Label("extension_minutes", "延时周期", ("（分钟）",)),
    Label("starting_price_yuan", "起始价", _YUAN),
    Label("bid_increment_yuan", "加价幅度", _YUAN),
)
_READERS: dict[str, Callable[[str], Any]] = {
    "transaction_base_date": parse_date,
    "loans": parse_count,
    "borrowers": parse_count,
    "weighted_avg_overdue_days": parse_decimal,
    "weighted_avg_borrower_age": parse_decimal,
    "extension_minutes": parse_count,
}
REQUIRED = ("unpaid_total_yuan",)
_DATETIME_FIELDS = ("registration_deadline", "auction_start", "auction_end")
_TEXT_FIELDS = ("transfer_method", "bidding_method")

_TABLE_START = re.compile(r"不\s*良\s*贷\s*款\s*基\s*本\s*信\s*息")
# The table ends at its notes (注1：…), at section 二, or at the latest before the footer, so a
# missing marker can never pull the contact details into 备注.
_TABLE_END = re.compile(
    r"\n[ \t]*注\s*[0-9０-９]*\s*[：:]|二\s*、\s*时\s*间\s*安\s*排|竞\s*价\s*报\s*名\s*截\s*止"
    r"|特\s*此\s*公\s*告|联\s*系\s*人"
)
# 备注 starts a line, or directly follows the last count list's "… 笔" when PDFium glues them.
# Section 三 (the auction table) ends at section 四; later prose may say 起始价 or 竞价日 again.
_SCHEDULE_END = re.compile(r"\n[ \t]*[四五六七八九十][ \t]*、|交\s*易\s*对\s*象\s*要\s*求")
_REMARK = re.compile(r"(?:^|\n|(?<=笔))[ \t]*备\s*注(?!\s*栏)[ \t]*[：:]?")
_NO_DEPOSIT = re.compile(
    r"(?:不|无需|无须|免)(?:收取|缴纳|交纳|支付|需要|需|要求|设置)?(?:缴纳|交纳|支付)?"
    r"(?:竞价|交易)?保证金|保证金要求[：:]?(?:无|不适用|否)(?![\u4e00-\u9fff])"
)


def _reader(field: str) -> Callable[[str], Any]:
    return _READERS.get(field, parse_money)


def _accepts(field: str) -> Callable[[str], bool]:
    read = _reader(field)

    def accepts(chunk: str) -> bool:
        if chunk in NULL_MARKERS:
            return True
        try:
            read(chunk)
        except NormaliseError:
            return False
        return True

    return accepts


def _read(name: str, field: str, raw: str | None) -> Any:
    if raw is None or raw in NULL_MARKERS:
        return None
    try:
        return _reader(field)(raw)
    except NormaliseError as exc:
        raise InvalidValueError(name, field, raw, exc.expected) from exc


def _read_count_list(name: str, field: str, slot: str | None) -> dict[str, int] | None:
    if slot is None:
        return None
    try:
        return parse_count_list(slot)
    except NormaliseError as exc:
        raise InvalidValueError(name, field, slot.strip(), exc.expected) from exc


def _is_blank(slot: str) -> bool:
    return fold("".join(slot.split())).strip(":") in NULL_MARKERS


def _read_schedule(name: str, field: str, slot: str | None) -> Any:
    if slot is None or _is_blank(slot):
        return None
    try:
        if field in _DATETIME_FIELDS:
            return find_datetime(slot)
        if field == "bid_date":
            return find_date(slot)
    except NormaliseError as exc:
        raise InvalidValueError(name, field, slot.strip(), exc.expected) from exc
    if field in _TEXT_FIELDS:
        line = next(line for line in slot.split("\n") if line.strip(" \t：:"))
        return line.strip(" \t：:")
    chunks = value_chunks(slot)
    if not chunks:
        raise InvalidValueError(name, field, slot.strip(), "a number")
    return _read(name, field, chunks[0])


def deposit_required(body: str) -> bool | None:
    """不收取保证金 -> False; any other mention of 保证金 (an amount, a requirement) -> True;
    no mention -> None."""
    text = "".join(body.split())
    if _NO_DEPOSIT.search(text):
        return False
    return True if "保证金" in text else None


def _remarks(text: str) -> str | None:
    value = join_lines(text).strip()
    return None if fold(value) in NULL_MARKERS else value


def _tolerated(unread: dict[str, str], field: str, read: Callable[[], Any], raw: str | None) -> Any:
    """`read()`, or None with the raw text noted in `unread` when an optional value does not
    read as its type (a required one still fails)."""
    try:
        return read()
    except InvalidValueError as exc:
        if field in REQUIRED:
            raise
        unread[field] = " ".join((raw if raw is not None else exc.raw).split())
        return None


def parse_listing_text(text: str, name: str) -> ListingRecord:
    """Parse the extracted text of a listing PDF. Raises a ParseError subclass naming `name`."""
    text = clean_text(text)
    title = find_title(text)
    if title is None or title.doc_type != "listing":
        raise NotAnAnnouncementError(name, "no 不良贷款转让公告 title at the top of the document")
    try:
        info = parse_project_name(title.title)
    except NormaliseError as exc:
        raise InvalidValueError(name, "title", title.title, exc.expected) from exc

    body_end = announcement_end(text, title.end)
    start_match = _TABLE_START.search(text, title.end, body_end)
    table_start = start_match.end() if start_match else title.end
    end_match = _TABLE_END.search(text, table_start)
    table_end = end_match.start() if end_match else body_end
    remark_match = _REMARK.search(text, table_start, table_end)
    cells_end = remark_match.start() if remark_match else table_end

    located = locate(text, TABLE_LABELS + COUNT_LABELS, table_start, cells_end)
    slot_text = slots(text, located, cells_end)
    found = {loc.label.field for loc in located}
    for field in REQUIRED:
        if field not in found:
            label = next(lab.core for lab in TABLE_LABELS if lab.field == field)
            raise MissingFieldError(name, field, f"label {label} not found")
    raw = assign_typed(located, slot_text, {lab.field: _accepts(lab.field) for lab in TABLE_LABELS})
    unread: dict[str, str] = {}
    values: dict[str, Any] = {
        lab.field: _tolerated(
            unread,
            lab.field,
            functools.partial(_read, name, lab.field, raw.get(lab.field)),
            raw.get(lab.field) or slot_text.get(lab.field),
        )
        for lab in TABLE_LABELS
    }
    for field in REQUIRED:
        if values[field] is None:
            raise MissingFieldError(name, field, "its cell is blank")
    for lab in COUNT_LABELS:
        values[lab.field] = _tolerated(
            unread,
            lab.field,
            functools.partial(_read_count_list, name, lab.field, slot_text.get(lab.field)),
            slot_text.get(lab.field),
        )
    values["remarks"] = _remarks(text[remark_match.end() : table_end]) if remark_match else None

    end_match = _SCHEDULE_END.search(text, table_end, body_end)
    schedule_end = end_match.start() if end_match else body_end
    schedule = locate(text, SCHEDULE_LABELS, table_end, schedule_end)
    schedule_text = slots(text, schedule, schedule_end)
    for lab in SCHEDULE_LABELS:
        values[lab.field] = _tolerated(
            unread,
            lab.field,
            functools.partial(_read_schedule, name, lab.field, schedule_text.get(lab.field)),
            schedule_text.get(lab.field),
        )

    # A footer without its date is not fatal: the index lists the date too, and the warehouse
    # falls back to it (the quality suite flags the row).
    published = publication_date(text)
    return ListingRecord(
        title=title.title,
        project_name=info.project_name,
        is_relisting=info.is_relisting,
        seller=info.seller,
        batch_year=info.batch_year,
        batch_no=info.batch_no,
        asset_type=info.asset_type,
        asset_type_wording=info.asset_type_wording,
        unread_fields=unread or None,
        deposit_required=deposit_required(text[table_end:body_end]),
        publication_date=published,
        **values,
    )
