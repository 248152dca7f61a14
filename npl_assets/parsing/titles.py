"""Titles and project names: seller, batch year and number, asset type, relisting marker.

Pure functions on strings. A project name is the title without its 不良贷款转让(结果)公告 suffix:
    {seller}关于{YYYY}年第{N}期{wording}不良贷款[（region）]转让项目          (2023 wording)
    {seller}关于{YYYY}年第{N}期个人不良贷款（{asset type}）转让项目         (current wording)
    {seller}关于{YYYY}年{company}[等N户]不良贷款转让项目                   (corporate, no 期数)
with variants seen in 2023: no year ("关于第1期…"), no 关于 ("…分行2023年第1期…"), 第一期,
stray spaces, ASCII parentheses, and a （重新挂牌） marker on relistings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from npl_assets.parsing.errors import NormaliseError, UnknownAssetTypeWording
from npl_assets.parsing.normalize import compact

LISTING_SUFFIX = "不良贷款转让公告"
RESULT_SUFFIX = "不良贷款转让结果公告"

CONSUMER = "个人消费贷款"
CARD = "信用卡透支"
BUSINESS = "个人经营性贷款"
CONSUMER_AND_BUSINESS = "个人消费及经营性贷款"
MIXED = "混合"
CORPORATE = "对公"
# A wording the table below does not know: the document is kept, its wording stored beside it
# and flagged by a soft expectation, so someone can extend the table.
OTHER = "其他"
ASSET_TYPES = (CONSUMER, CARD, BUSINESS, CONSUMER_AND_BUSINESS, MIXED, CORPORATE, OTHER)

# Wording stems (after dropping 信用/贷款/透支/类/性 suffixes) -> asset type. Only wordings seen in
# real titles are here: an unseen one raises UnknownAssetTypeWording, which a title turns into
# OTHER, never a guess.
_STEMS = {
    "个人消费": CONSUMER,
    "个人经营": BUSINESS,
    "个人消费及经营": CONSUMER_AND_BUSINESS,
    "个人消费和经营": CONSUMER_AND_BUSINESS,
    "个人经营及消费": CONSUMER_AND_BUSINESS,
    "个人消费经营": CONSUMER_AND_BUSINESS,
    "个人汽车消费及经营": CONSUMER_AND_BUSINESS,
    "信用卡": CARD,
    # One 2023 title reads "个人经营类等不良贷款": business loans "and the like"; the package is
    # dominated by business loans, so it counts as such (a decision, kept visible here).
    "个人经营类等": BUSINESS,
}
_STEM_SUFFIXES = ("信用", "贷款", "透支", "类", "性")
_PERSONAL_TYPES = {CONSUMER, BUSINESS, CONSUMER_AND_BUSINESS}

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"[0-9一二两三四五六七八九十百零〇]+"
_RELISTING = re.compile(r"（(?:第" + _NUM + r"次)?重新(?:挂牌|公告)）")
_BATCH = re.compile(
    rf"^(?:(?P<year>\d{{4}})年(?:度)?)?第(?P<no>{_NUM})期(?P<wording>.*?)不良贷款"
    r"(?:（(?P<paren>[^）]*)）)?转让(?:项目)?$"
)
_CORPORATE = re.compile(r"^(?P<year>\d{4})年(?P<company>.+?)不良贷款转让(?:项目)?$")
_SELLER_NO_ABOUT = re.compile(rf"^(?P<seller>.+?)(?=(?:\d{{4}}年)?第{_NUM}期)")
# For titles in no known shape: a batch year and number wherever they stand.
_ANY_YEAR = re.compile(r"(?P<year>(?:19|20)\d{2})年")
_ANY_BATCH_NO = re.compile(rf"第(?P<no>{_NUM})期")
_PROJECT_TAIL = re.compile(r"(?:不良(?:贷款|资产))?转让(?:项目)?$")


@dataclass(frozen=True)
class TitleInfo:
    project_name: str
    seller: str
    batch_year: int | None
    batch_no: int | None
    asset_type: str
    is_relisting: bool
    # The title's own words for the asset type ("个人消费及经营类信用"), kept as published.
    asset_type_wording: str | None = None


def parse_cn_number(raw: str) -> int:
    """'12' -> 12, '一' -> 1, '十二' -> 12, '二十' -> 20, '一百零三' -> 103."""
    if raw.isdigit():
        return int(raw)
    if not raw or any(c not in _CN_DIGITS and c not in "十百" for c in raw):
        raise NormaliseError(raw, "a number")
    total, current = 0, 0
    for char in raw:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + _CN_DIGITS[char] if current else _CN_DIGITS[char]
    return total + current


def _stem(part: str) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in _STEM_SUFFIXES:
            if part.endswith(suffix) and len(part) > len(suffix) and part != "信用卡":
                part = part.removesuffix(suffix)
                changed = True
    return part


def asset_type_from_wording(wording: str) -> str:
    """'个人消费及经营类信用' -> 个人消费及经营性贷款; '信用卡、个人消费及经营类信用' -> 混合."""
    text = compact(wording)
    if text in ASSET_TYPES:
        return text
    types = []
    for part in text.split("、"):
        stem = _stem(part)
        if stem not in _STEMS:
            raise UnknownAssetTypeWording(wording)
        types.append(_STEMS[stem])
    if len(types) == 1:
        return types[0]
    if CARD in types:
        return MIXED
    if set(types) <= _PERSONAL_TYPES:
        return types[0] if len(set(types)) == 1 else CONSUMER_AND_BUSINESS
    raise UnknownAssetTypeWording(wording)  # pragma: no cover - every stem maps to one of those


def classify_wording(wording: str) -> str:
    """Like `asset_type_from_wording`, but an unknown wording is OTHER rather than an error."""
    try:
        return asset_type_from_wording(wording)
    except UnknownAssetTypeWording:
        return OTHER


def strip_title_suffix(title: str) -> tuple[str, str | None]:
    """('…转让项目', 'listing'|'result'|None): the project name part and the document type the
    suffix announces. A relisting marker after the suffix is kept in the project part."""
    text = compact(title)
    marker = ""
    m = _RELISTING.search(text)
    if m and m.end() == len(text):
        marker, text = m.group(), text[: m.start()]
    for suffix, doc_type in ((RESULT_SUFFIX, "result"), (LISTING_SUFFIX, "listing")):
        if text.endswith(suffix):
            return text.removesuffix(suffix) + marker, doc_type
    return text + marker, None


def parse_project_name(raw: str) -> TitleInfo:
    """Split a project name (or a whole title) into its parts. Raises NormaliseError only when
    no seller can be read; an asset-type wording or a shape it does not know gives OTHER, with
    the wording kept, so the listing and its amounts still count."""
    name, _ = strip_title_suffix(raw)
    is_relisting = bool(_RELISTING.search(name))
    name = _RELISTING.sub("", name)
    seller, sep, rest = name.partition("关于")
    if not sep:
        m = _SELLER_NO_ABOUT.match(name)
        if not m:
            raise NormaliseError(raw, "a project name like '{seller}关于YYYY年第N期…转让项目'")
        seller, rest = m["seller"], name[m.end() :]
    if not seller:
        raise NormaliseError(raw, "a project name that starts with the seller's name")
    m = _BATCH.match(rest)
    if m:
        wording = m["wording"]
        if wording in ("", "个人") and m["paren"]:
            wording = m["paren"]  # current form: 个人不良贷款（个人消费贷款）
        return TitleInfo(
            project_name=name,
            seller=seller,
            batch_year=int(m["year"]) if m["year"] else None,
            batch_no=parse_cn_number(m["no"]),
            asset_type=classify_wording(wording) if wording else OTHER,
            is_relisting=is_relisting,
            asset_type_wording=wording or None,
        )
    m = _CORPORATE.match(rest)
    # "2023年个人…不良贷款转让项目" without 期数 is a malformed batch title, not a corporate item.
    if m and not m["company"].startswith(("个人", "信用卡")):
        return TitleInfo(
            project_name=name,
            seller=seller,
            batch_year=int(m["year"]),
            batch_no=None,
            asset_type=CORPORATE,
            is_relisting=is_relisting,
            asset_type_wording=m["company"],
        )
    return _unknown_shape(name, seller, rest, is_relisting)


def _unknown_shape(name: str, seller: str, rest: str, is_relisting: bool) -> TitleInfo:
    """A title in no known shape that still names a transfer project ("…转让项目"): keep what
    can be read (year, 期数) and the words in between."""
    if not _PROJECT_TAIL.search(rest):
        raise NormaliseError(name, "a project name like '{seller}关于YYYY年第N期…转让项目'")
    year = _ANY_YEAR.search(rest)
    batch = _ANY_BATCH_NO.search(rest)
    wording = _PROJECT_TAIL.sub("", rest)
    for found in (batch, year):
        if found:
            wording = wording.replace(found.group(), "", 1)
    wording = wording.strip("：:，,")
    return TitleInfo(
        project_name=name,
        seller=seller,
        batch_year=int(year["year"]) if year else None,
        batch_no=parse_cn_number(batch["no"]) if batch else None,
        asset_type=classify_wording(wording) if wording else OTHER,
        is_relisting=is_relisting,
        asset_type_wording=wording or None,
    )
