"""Hypothesis strategies shared by the normaliser tests (test_parsing_normalize.py and
test_reliability_normalizers.py): the values the announcements print, in their plain form."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import strategies as st

# Amounts in yuan with fen, up to 100 trillion: every loan pool total fits.
money_values = st.decimals(min_value=0, max_value=10**14, places=2, allow_nan=False)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))
# Auction times are printed to the minute.
minutes = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(second=0, microsecond=0)
)
# Loan category -> loans, as the count lists of a listing print them.
count_lists = st.dictionaries(
    st.sampled_from(["次级", "可疑", "损失", "已核销", "未核销", "信用", "保证", "未诉", "执行中"]),
    st.integers(min_value=0, max_value=10**7),
    min_size=1,
)
