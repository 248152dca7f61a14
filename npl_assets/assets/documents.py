"""Raw layer: crawl the Yindeng indexes and keep every fetched document version."""

import tempfile
import time
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from npl_assets import warehouse
from npl_assets.assets.idle import declared_code_versions, update_reason
from npl_assets.locations import DataPaths, YindengSite

# Called through the module, so that the reliability harness can patch a store function.
from npl_assets.warehouse import loading


class CrawlConfig(dg.Config):
    """Per-run choices; which site is crawled is the `site` resource's business."""

    # Materialise even when the crawl finds nothing new, so that every step below it runs.
    rebuild: bool = False


@dg.asset(
    group_name="raw",
    kinds={"scrapy", "duckdb"},
    pool="duckdb",
    # A crawl that finds nothing new materialises nothing, so the parse, dbt, checks, publish
    # and report steps below it are skipped: an idle run costs the crawl and little more.
    output_required=False,
)
def raw_documents(
    context: dg.AssetExecutionContext,
    config: CrawlConfig,
    duckdb: DuckDBResource,
    site: YindengSite,
    paths: DataPaths,
):
    """Every listing (转让公告) and result (转让结果公告) PDF announced on Yindeng, one row per
    document version in `raw.documents`; the PDFs themselves sit in the sha256 content store.
    The crawl runs as a Scrapy subprocess and only fetches what the warehouse does not know yet.
    With nothing new, nothing unparsed and everything downstream up to date it records an
    observation (the crawl freshness check counts it) instead of a materialisation."""
    from npl_assets.parsing import PARSER_VERSION

    with duckdb.get_connection() as con:
        warehouse.ensure_schema(con)
        known = loading.known_urls(con)
    with tempfile.TemporaryDirectory(prefix="npl-crawl-") as tmp:
        known_file = Path(tmp) / "known.txt"
        known_file.write_text("\n".join(known), encoding="utf-8")
        feed = Path(tmp) / "crawl.jsonl"
        summary = site.crawl(feed, paths.content_store, known_file=known_file)
        documents, failures, index_counts = loading.read_crawl_feed(feed)
    with duckdb.get_connection() as con:
        new_rows = loading.store_crawl(con, documents, failures, context.run.run_id)
        loading.store_index_counts(con, index_counts, context.run.run_id)
        total = con.execute("select count(*) from raw.documents").fetchall()[0][0]
        unparsed = loading.count_pending(con, PARSER_VERSION)
    if len(failures):
        context.log.warning(
            "%d URLs failed: %s",
            len(failures),
            "; ".join(f"{r.url}: {r.error}" for r in failures.head(5).itertuples()),
        )
    metadata = {
        "source": site.describe(),
        "new_documents": new_rows,
        "known_documents": total - new_rows,
        "unparsed_documents": unparsed,
        "failed_urls": len(failures),
        "total_documents": total,
        "requests": getattr(summary, "requests", None) or 0,
    }
    reason = update_reason(
        context.instance,
        context.asset_key,
        declared_code_versions(context),
        new_documents=new_rows,
        unparsed_documents=unparsed,
        rebuild=config.rebuild,
    )
    if reason is not None:
        context.log.info("updating everything below the crawl: %s", reason)
        yield dg.MaterializeResult(metadata={**metadata, "update_reason": reason})
        return
    unread = index_failures(failures)
    if unread:
        # The site was not read: no timestamp, so the freshness check goes stale during an outage.
        context.log.warning("the indexes could not be read (%s): nothing updated", unread)
        context.log_event(crawl_observation(context.asset_key, metadata, None))
        return
    context.log.info("nothing new on the site and everything below is current: nothing to update")
    context.log_event(crawl_observation(context.asset_key, metadata, time.time()))


def index_failures(failures: pd.DataFrame) -> str:
    """The crawl's failures to read an index page, in a few words ('' when there were none)."""
    unread = failures[failures["stage"] == "index"]
    return "; ".join(f"{r.url}: {r.error}" for r in unread.head(3).itertuples())


def crawl_observation(
    key: dg.AssetKey, metadata: dict[str, object], checked_at: float | None
) -> dg.AssetObservation:
    """What a crawl that found nothing new records: the site was checked at `checked_at`, which
    the crawl freshness check reads as the asset's last update (None: it could not be read)."""
    stamp = {}
    if checked_at is not None:
        stamp["dagster/last_updated_timestamp"] = dg.MetadataValue.timestamp(checked_at)
    return dg.AssetObservation(
        asset_key=key, metadata={**metadata, "site_read": checked_at is not None, **stamp}
    )
