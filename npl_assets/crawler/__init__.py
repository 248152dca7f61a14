"""The Scrapy crawler for the Yindeng NPL disclosure indexes.

Runnable on its own from the repository root (`scrapy crawl listings -O out.jsonl:jsonlines`,
with `-s NPL_SOURCE_URL=...`) and from Python through `npl_assets.crawler.runner.run_crawl`,
which runs each spider in a subprocess because Twisted's reactor cannot restart in one process.
"""
