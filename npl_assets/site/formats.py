"""How the announcements print values, written from the real PDFs: money with thousands
separators and two decimals, base dates as YYYYMMDD, Chinese dates without zero padding, count
lists like "损失 57 笔;可疑 15 笔". Each function takes the dataset's text and rejects what it
cannot print faithfully."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_COUNT = re.compile(r"^\d+$")
# One 2023 row holds "2659（另有其他723）" in 保证: 2659 guaranteed loans plus 723 of another kind.
_COUNT_WITH_EXTRA = re.compile(r"^(\d+)（另有(\S+?)(\d+)）$")


def money(text: str) -> str:
    """'252846432.87' -> '252,846,432.87'; '38136' -> '38,136.00'; '' -> ''."""
    text = text.strip()
    if not text:
        return ""
    if not _NUMBER.match(text):
        raise ValueError(f"not an amount of money: {text!r}")
    value = Decimal(text)
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"amount with more than two decimals would be rounded: {text!r}")
    return f"{value:,.2f}"


def plain_number(text: str) -> str:
    """Overdue days and ages print as the data has them ('1608.52', '1069', '43')."""
    text = text.strip()
    if text and not _NUMBER.match(text):
        raise ValueError(f"not a number: {text!r}")
    return text


def count(text: str) -> str:
    """Counts are plain integers ('12276')."""
    text = text.strip()
    if text and not _COUNT.match(text):
        raise ValueError(f"not a count: {text!r}")
    return text


def parse_day(text: str) -> date:
    try:
        return datetime.strptime(text.strip()[:10], "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(f"not a date YYYY-MM-DD: {text!r}") from None


def parse_minute(text: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise ValueError(f"not a time YYYY-MM-DD HH:MM: {text!r}") from None


def base_date(text: str) -> str:
    """交易基准日: '2023-09-23' -> '20230923'."""
    return f"{parse_day(text):%Y%m%d}"


def cn_date(day: date) -> str:
    """'2023年12月7日' (no zero padding)."""
    return f"{day.year}年{day.month}月{day.day}日"


def cn_minute(text: str) -> str:
    """竞价报名截止时间: '2023-12-19 17:00' -> '2023年12月19日 17:00'."""
    moment = parse_minute(text)
    return f"{cn_date(moment.date())} {moment:%H:%M}"


def auction_minute(text: str) -> str:
    """自由竞价开始/结束时间 print as 'YYYY-MM-DD HH:MM'."""
    return f"{parse_minute(text):%Y-%m-%d %H:%M}"


def count_items(name: str, text: str) -> list[tuple[str, int]]:
    """The (category, count) pairs one count cell contributes; empty -> none."""
    text = text.strip()
    if not text:
        return []
    if _COUNT.match(text):
        return [(name, int(text))]
    extra = _COUNT_WITH_EXTRA.match(text)
    if extra:
        return [(name, int(extra.group(1))), (extra.group(2), int(extra.group(3)))]
    raise ValueError(f"count of {name} is not a number: {text!r}")


def count_list(items: list[tuple[str, int]]) -> str:
    """[('损失', 57), ('可疑', 15)] -> '损失 57 笔;可疑 15 笔'."""
    return ";".join(f"{name} {n} 笔" for name, n in items)
