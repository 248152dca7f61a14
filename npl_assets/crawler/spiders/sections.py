"""One spider per section of the disclosure index."""

from __future__ import annotations

from npl_assets.crawler.spiders.base import SectionSpider


class ListingsSpider(SectionSpider):
    """转让公告: /xxpl/xxpl_bldkzr/bldkzr_zrgg/ (old family /ywzq/.../bldkzr_xxpl_zrgg/)."""

    name = "listings"
    doc_type = "listing"


class ResultsSpider(SectionSpider):
    """转让结果公告: /xxpl/xxpl_bldkzr/bldkzr_zrjggg/ (old family /ywzq/.../bldkzr_xxpl_zrjggg/)."""

    name = "results"
    doc_type = "result"
