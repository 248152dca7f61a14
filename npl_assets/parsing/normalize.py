"""Pure value normalisers: one raw string in, one typed value out, or a `NormaliseError`.

They know nothing about PDFs or documents, so they can be tested (and fuzzed) on their own.
Full-width digits and punctuation are folded first because both forms occur in the real PDFs.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from npl_assets.parsing.errors import NormaliseError

# Cells that say "nothing here" rather than holding a value.
NULL_MARKERS = frozenset(
    {"", "-", "--", "—", "——", "–", "/", "／", "无", "不适用", "不披露", "不公开"}
)

_WS = re.compile(r"\s+")
_NUMBER = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_INTEGER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
_DATE = re.compile(
    r"(?<!\d)(?P<y>\d{4})\s*(?:年\s*(?P<m1>\d{1,2})\s*月\s*(?P<d1>\d{1,2})\s*日"
    r"|(?:[-/.]\s*(?P<m2>\d{1,2})\s*[-/.]\s*(?P<d2>\d{1,2})|(?P<m3>\d{2})(?P<d3>\d{2}))(?!\d))"
)
_TIME = re.compile(r"(?P<h>\d{1,2})\s*(?:[:：]|时|点)\s*(?P<mi>\d{2})\s*分?")
_PARENS = str.maketrans({"(": "（", ")": "）"})


def fold(raw: str) -> str:
    """Full-width digits, letters, commas, colons and dots to ASCII; whitespace trimmed."""
    return unicodedata.normalize("NFKC", raw).strip()


def is_null(raw: str | None) -> bool:
    return raw is None or fold(raw) in NULL_MARKERS


def _number_text(raw: str, pattern: re.Pattern[str], expected: str) -> str:
    text = _WS.sub("", fold(raw))
    text = text.removesuffix("元")
    if not pattern.fullmatch(text):
        raise NormaliseError(raw, expected)
    return text.replace(",", "")


def parse_money(raw: str) -> Decimal:
    """'252,846,432.87' -> Decimal('252846432.87'). At most two decimals: money is in 元 and fen,
    and a third decimal means the text was misread, not a sub-fen amount."""
    text = _number_text(raw, _NUMBER, "an amount in 元")
    value = Decimal(text)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise NormaliseError(raw, "an amount with at most two decimals")
    return value


def parse_decimal(raw: str) -> Decimal:
    """A plain non-negative decimal such as an average age or overdue days: '1608.52'."""
    text = _number_text(raw, _NUMBER, "a decimal number")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guarantees digits
        raise NormaliseError(raw, "a decimal number") from exc


def parse_count(raw: str) -> int:
    """A whole count such as loans or borrowers: '12276' or '12,276'; a trailing 笔/户 is fine."""
    text = _WS.sub("", fold(raw)).rstrip("笔户个")
    if not _INTEGER.fullmatch(text):
        raise NormaliseError(raw, "a whole number")
    return int(text.replace(",", ""))


def _date_from_match(raw: str, m: re.Match[str]) -> date:
    month = m["m1"] or m["m2"] or m["m3"]
    day = m["d1"] or m["d2"] or m["d3"]
    try:
        return date(int(m["y"]), int(month), int(day))
    except ValueError as exc:
        raise NormaliseError(raw, "a calendar date") from exc


def parse_date(raw: str) -> date:
    """The whole text is one date: '20230923', '2023-09-23', '2023/9/23', '2023年9月23日'."""
    text = fold(raw)
    m = _DATE.fullmatch(text)
    if not m:
        raise NormaliseError(raw, "a date (YYYYMMDD, YYYY-MM-DD or YYYY年M月D日)")
    return _date_from_match(raw, m)


def find_date(raw: str) -> date:
    """The first date inside a longer text, e.g. '竞价日：2023年12月21日 10:00' -> 2023-12-21."""
    text = fold(raw)
    m = _DATE.search(text)
    if not m:
        raise NormaliseError(raw, "text containing a date")
    return _date_from_match(raw, m)


def find_last_date(raw: str) -> date:
    """The last date in a text: a footer ends with the publication date."""
    text = fold(raw)
    matches = list(_DATE.finditer(text))
    if not matches:
        raise NormaliseError(raw, "text containing a date")
    return _date_from_match(raw, matches[-1])


def find_datetime(raw: str) -> datetime:
    """The first date followed by a time: '2023年12月19日 17:00', '2023-12-21 14:00'.
    A date with no time is an error: these fields are minute-precise and 00:00 would be a guess."""
    text = fold(raw)
    m = _DATE.search(text)
    if not m:
        raise NormaliseError(raw, "a date and time")
    day = _date_from_match(raw, m)
    t = _TIME.match(text[m.end() :].lstrip())
    if not t:
        raise NormaliseError(raw, "a date followed by a time HH:MM")
    hour, minute = int(t["h"]), int(t["mi"])
    if hour > 23 or minute > 59:
        raise NormaliseError(raw, "a time of day")
    return datetime(day.year, day.month, day.day, hour, minute)


_COUNT_ITEM = re.compile(
    r"(?P<name>[^\d;；,，、。:：]+?)[:：]?(?P<n>\d{1,3}(?:,\d{3})+|\d+)(?:笔|户)?"
)
_COUNT_SEPARATORS = re.compile(r"[;；,，、。]")


def parse_count_list(raw: str) -> dict[str, int] | None:
    """'损失 57 笔;可疑 15 笔;次级 11 笔' -> {'损失': 57, '可疑': 15, '次级': 11}; a blank or
    '无' cell -> None. Anything left over that is not a separator is an error, not dropped."""
    text = _WS.sub("", fold(raw))
    if text in NULL_MARKERS:
        return None
    counts: dict[str, int] = {}
    leftover = []
    pos = 0
    for m in _COUNT_ITEM.finditer(text):
        leftover.append(text[pos : m.start()])
        pos = m.end()
        name = m["name"].strip()
        if name in counts:
            raise NormaliseError(raw, f"a count list with {name!r} once")
        counts[name] = int(m["n"].replace(",", ""))
    leftover.append(text[pos:])
    if _COUNT_SEPARATORS.sub("", "".join(leftover)) or not counts:
        raise NormaliseError(raw, "a count list like '损失 57 笔;可疑 15 笔'")
    return counts


def compact(raw: str) -> str:
    """Names as stored: whitespace removed (stray spaces and line wraps inside a name are layout,
    not content) and parentheses full-width."""
    return _WS.sub("", raw).translate(_PARENS)


def format_decimal(value: Decimal) -> str:
    """Two decimals ('38136.00'), or more if the source had more: never round away digits."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return str(value)
    return f"{value:.2f}"
