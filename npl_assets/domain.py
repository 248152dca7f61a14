"""Facts of the Yindeng domain that several layers rely on, each defined once here. Plain
constants, no imports from the package: every layer may use them. (The bundled-site generator
keeps its own copies on purpose: it shares nothing with the parser, so a round trip can catch a
mistake in either.)"""

from __future__ import annotations

from typing import Literal

# The two kinds of announcement: 转让公告 (listings, relistings included) and 转让结果公告.
DocType = Literal["listing", "result"]
DOC_TYPES: tuple[DocType, ...] = ("listing", "result")

# Announcements are 100-300 KB; anything larger is refused unread by the crawler and the parser.
MAX_PDF_BYTES = 20 * 1024 * 1024

# Listings published on or after this day no longer disclose 起始价: null, never 0.
STARTING_PRICE_DISCLOSED_UNTIL = "2025-10-27"

# Seller types of the marts (dbt_project's accepted_values list the same, plus 未分类).
SELLER_TYPES = ("国有大行", "股份行", "城商行", "农商行/农信", "消费金融公司", "外资行", "其他")
UNCLASSIFIED_SELLER_TYPE = "未分类"
