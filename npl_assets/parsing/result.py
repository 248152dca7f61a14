"""转让结果公告 (result) text -> ResultRecord.

Required: the title (hence the project name) and the seller (the table's 出让方全称, else the
title's): a result is linked to its listing by these two. Project code, buyer and agreement date
are optional: None when the cell is missing or blank; a value that does not read as its type is
None too, its raw text kept in `unread_fields`, so an odd result still links to its listing.
"""

from __future__ import annotations

import re

from npl_assets.parsing.errors import MissingFieldError, NormaliseError, NotAnAnnouncementError
from npl_assets.parsing.layout import (
    Label,
    announcement_end,
    clean_text,
    find_title,
    locate,
    publication_date,
    slots,
)
from npl_assets.parsing.normalize import NULL_MARKERS, compact, find_date, fold
from npl_assets.parsing.records import ResultRecord
from npl_assets.parsing.titles import strip_title_suffix

RESULT_LABELS = (
    Label("project_name", "项目名称"),
    Label("project_code", "项目编号"),
    Label("seller", "出让方", ("全称", "名称")),
    Label("buyer", "受让方", ("全称", "名称")),
    Label("agreement_signed_date", "转让协议签署日期"),
)
# NPL + year + 7 digits today; 8 bare digits on older ones; one 2023 result reads "NLP…".
_PROJECT_CODE = re.compile(r"[A-Z]{2,4}\d{6,14}|\d{6,14}")
_RELISTING = re.compile(r"（(?:第[0-9一二三四五六七八九十]+次)?重新(?:挂牌|公告)）")


def _name(slot: str | None) -> str | None:
    if slot is None:
        return None
    value = compact(slot).lstrip("：:")
    return None if fold(value) in NULL_MARKERS else value


def _project_name(raw: str) -> str:
    # Same normal form as a listing's project_name (no relisting marker), so the two link.
    name, _ = strip_title_suffix(raw)
    return _RELISTING.sub("", name)


def parse_result_text(text: str, name: str) -> ResultRecord:
    """Parse the extracted text of a result PDF. Raises a ParseError subclass naming `name`."""
    text = clean_text(text)
    title = find_title(text)
    if title is None or title.doc_type != "result":
        raise NotAnAnnouncementError(
            name, "no 不良贷款转让结果公告 title at the top of the document"
        )
    body_end = announcement_end(text, title.end)
    located = locate(text, RESULT_LABELS, title.end, body_end)
    values = slots(text, located, body_end)

    project = _name(values.get("project_name"))
    project_name = _project_name(project or title.title)

    unread: dict[str, str] = {}
    code_slot = _name(values.get("project_code"))
    code = _PROJECT_CODE.search(fold(code_slot).upper()) if code_slot else None
    if code_slot and not code:
        unread["project_code"] = code_slot

    seller = _name(values.get("seller"))
    if seller is None:
        # The title starts with the seller's name; use it when the table cell is missing.
        head, sep, _ = compact(title.title).partition("关于")
        if not sep or not head:
            raise MissingFieldError(name, "seller", "no 出让方全称 and no seller in the title")
        seller = head

    date_slot = _name(values.get("agreement_signed_date"))
    signed = None
    if date_slot:
        try:
            signed = find_date(date_slot)
        except NormaliseError:
            unread["agreement_signed_date"] = date_slot

    # A footer without its date is not fatal: the index lists the date too, and the warehouse
    # falls back to it (the quality suite flags the row).
    published = publication_date(text)
    return ResultRecord(
        title=title.title,
        project_name=project_name,
        project_code=code.group() if code else None,
        seller=seller,
        buyer=_name(values.get("buyer")),
        agreement_signed_date=signed,
        publication_date=published,
        unread_fields=unread or None,
    )
