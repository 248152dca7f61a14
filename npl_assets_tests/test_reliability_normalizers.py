"""Property tests of the money, count and date normalisers beyond test_parsing_normalize.py:
arbitrary text never escapes as anything but a NormaliseError; full-width and spaced forms
round-trip; impossible values are refused rather than repaired."""

from __future__ import annotations

import calendar
import unicodedata
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npl_assets.parsing.errors import NormaliseError
from npl_assets.parsing.normalize import (
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
from npl_assets_tests.strategies import count_lists, days, minutes, money_values

NORMALISERS = (
    parse_money,
    parse_decimal,
    parse_count,
    parse_date,
    find_date,
    find_last_date,
    find_datetime,
    parse_count_list,
)
FULL_WIDTH = str.maketrans("0123456789,.:-", "０１２３４５６７８９，．：－")
# Text around a date in a footer or a cell, with no digits of its own.
prose = st.text(
    alphabet=st.characters(blacklist_categories=("Nd", "No", "Cs"), blacklist_characters="年月日"),
    max_size=20,
)


@settings(max_examples=300)
@given(st.text(max_size=40))
@pytest.mark.parametrize("normaliser", NORMALISERS, ids=lambda f: f.__name__)
def test_arbitrary_text_raises_only_normalise_errors(normaliser, raw: str) -> None:
    try:
        normaliser(raw)
    except NormaliseError:
        pass


@settings(max_examples=200)
@given(st.text(alphabet="0123456789,.元 　０１２３４５６７８９，．", max_size=24))
def test_number_like_text_raises_only_normalise_errors(raw: str) -> None:
    for normaliser in (parse_money, parse_decimal, parse_count):
        try:
            value = normaliser(raw)
        except NormaliseError:
            continue
        assert value >= 0


@given(money_values)
def test_money_full_width_and_suffix_round_trip(value: Decimal) -> None:
    text = f"{value:,.2f}"
    assert parse_money(text.translate(FULL_WIDTH)) == value
    assert parse_money(f" {text} 元 ") == value
    assert parse_money(text.replace(",", "")) == value
    assert format_decimal(parse_money(text)) == f"{value:.2f}"


@given(money_values, st.integers(min_value=1, max_value=9))
def test_a_third_decimal_is_refused_not_rounded(value: Decimal, digit: int) -> None:
    with pytest.raises(NormaliseError):
        parse_money(f"{value:.2f}{digit}")


@given(money_values.filter(lambda v: v > 0))
def test_negative_money_is_refused(value: Decimal) -> None:
    with pytest.raises(NormaliseError):
        parse_money(f"-{value:,.2f}")


@given(st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False))
def test_format_decimal_keeps_every_digit(value: Decimal) -> None:
    # Two decimals at least, never fewer than the source had: formatting loses nothing.
    assert parse_decimal(format_decimal(value)) == value


@given(st.integers(min_value=1000, max_value=10**9), st.data())
def test_one_thousands_separator_is_right_only_at_the_last_group(
    n: int, data: st.DataObject
) -> None:
    digits = str(n)
    at = data.draw(st.integers(min_value=1, max_value=len(digits) - 1))
    before, after = digits[:at], digits[at:]
    text = f"{before},{after}"
    if len(after) == 3 and len(before) <= 3:
        assert parse_count(text) == n  # e.g. 12,345: correctly grouped
    else:
        with pytest.raises(NormaliseError):
            parse_count(text)  # 1,2345 or 1234,567: a misread, not a number to repair


@given(st.integers(min_value=0, max_value=10**9))
def test_counts_in_full_width_digits(n: int) -> None:
    assert parse_count(f"{n:,}".translate(FULL_WIDTH)) == n
    assert parse_count(f"{n} 户") == n


@given(days)
def test_date_forms_with_separators_and_full_width_digits(day: date) -> None:
    forms = [
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month:02d}.{day.day:02d}",
        day.isoformat().translate(FULL_WIDTH),
        f"{day.year} 年 {day.month} 月 {day.day} 日",
        unicodedata.normalize("NFKC", f"{day.year}年{day.month}月{day.day}日"),
    ]
    assert {parse_date(f) for f in forms} == {day}


@given(days, prose, prose)
def test_a_date_is_found_inside_prose(day: date, before: str, after: str) -> None:
    text = f"{before}{day.year}年{day.month}月{day.day}日{after}"
    assert find_date(text) == day


@given(days, days, prose)
def test_the_last_date_is_the_footer_date(first: date, last: date, between: str) -> None:
    footer = f"{last.year}年{last.month}月{last.day}日"
    text = f"竞价日：{first.isoformat()} {between}\n特此公告。\n{footer}"
    assert find_last_date(text) == last
    assert find_date(text) == first


@given(
    st.integers(min_value=1990, max_value=2099),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=29, max_value=32),
)
def test_impossible_calendar_days_are_refused(year: int, month: int, day: int) -> None:
    if day <= calendar.monthrange(year, month)[1]:
        assert parse_date(f"{year}-{month:02d}-{day:02d}") == date(year, month, day)
        return
    for text in (f"{year}-{month:02d}-{day:02d}", f"{year}{month:02d}{day:02d}"):
        with pytest.raises(NormaliseError):
            parse_date(text)


@given(days, st.integers(min_value=24, max_value=99), st.integers(min_value=0, max_value=59))
def test_impossible_hours_are_refused(day: date, hour: int, minute: int) -> None:
    with pytest.raises(NormaliseError):
        find_datetime(f"{day.isoformat()} {hour}:{minute:02d}")


@given(
    minutes, st.sampled_from(["{h}:{m:02d}", "{h}时{m:02d}分", "{h}点{m:02d}分", "{h}：{m:02d}"])
)
def test_datetime_time_forms(moment: datetime, form: str) -> None:
    text = f"{moment.year}年{moment.month}月{moment.day}日" + form.format(
        h=moment.hour, m=moment.minute
    )
    assert find_datetime(text) == moment


@given(count_lists)
def test_count_lists_with_grouped_full_width_numbers(counts: dict[str, int]) -> None:
    raw = "；".join(f"{name}：{n:,}笔".translate(FULL_WIDTH) for name, n in counts.items())
    assert parse_count_list(raw) == counts
    assert list(parse_count_list(raw)) == list(counts)  # order as printed
