"""Resources that say where things are: the site to crawl and the platform's files. Assets,
checks and sensors receive them as parameters; definitions.py (or a test, or the harness)
decides their values. Nothing here reads the environment."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from npl_assets.crawler.runner import CrawlSummary, run_crawl


class YindengSite(dg.ConfigurableResource):
    """The site the crawl reads and the sensor polls: the real site (or any copy) at `url`, or,
    with no `url`, the bundled site under `site_dir`, served on loopback for each crawl."""

    url: str | None = Field(
        default=None,
        description="Base URL to crawl and poll; empty: the bundled site, served on loopback.",
    )
    site_dir: str = Field(description="The built bundled site (used when url is empty).")
    poll_timeout_seconds: float = Field(
        default=5.0, description="How long the sensor waits for an index page."
    )

    def crawl(self, feed: Path, raw_dir: str, known_file: Path | None = None) -> CrawlSummary:
        """Crawl every index into the content store at `raw_dir`, one row per document or
        failure in `feed` (see crawler.runner.run_crawl)."""
        return run_crawl(
            self.url, feed, raw_dir, known_file=known_file, site_dir=Path(self.site_dir)
        )

    def watch_url(self) -> str | None:
        """What the sensor polls. The bundled site has no URL until something serves it (`make
        dev` serves it and sets this resource's url, so the crawl reads the same server)."""
        return self.url or None

    def describe(self) -> str:
        return self.url or f"bundled site (loopback, {self.site_dir})"


class DataPaths(dg.ConfigurableResource):
    """Where the platform's files live: the content store of raw PDFs (a folder, or an s3://
    URL in the team profile), the published serving file, and the data folder that holds the
    reports, the quality summaries and the operations log."""

    data_dir: str = Field(description="Reports, quality summaries and the operations log.")
    content_store: str = Field(description="Raw PDFs by sha256: a folder or an s3:// URL.")
    serving_database: str = Field(description="The published copy of the marts readers query.")

    def reports_dir(self) -> Path:
        return Path(self.data_dir) / "reports"

    def quality_dir(self) -> Path:
        return Path(self.data_dir) / "quality"

    def ops_database(self) -> Path:
        """The small operations file (run failures); never the warehouse."""
        return Path(self.data_dir) / "ops.duckdb"

    def serving_path(self) -> Path:
        return Path(self.serving_database)
