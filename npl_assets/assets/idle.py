"""When a crawl that found nothing new must still count as an update of `raw_documents`.

Skipping everything below an idle crawl is only right if everything below is current. It is not
when the parser changed (documents left to parse), when a run died after its crawl (the last
assets are older than the crawl), when a dbt model or seed changed (its code version differs
from the one it was last built with), or when the user asks for a rebuild."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

# The last assets of the graph: if one is older than the last crawl, a run stopped half-way.
TERMINAL_ASSETS = (
    dg.AssetKey("serving_database"),
    dg.AssetKey("market_report"),
    dg.AssetKey("market_chart"),
)
CODE_VERSION_TAG = "dagster/code_version"
MAX_LISTED = 3


def _listed(keys: Iterable[dg.AssetKey]) -> str:
    names = sorted(key.to_user_string() for key in keys)
    more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
    return ", ".join(names[:MAX_LISTED]) + more


def latest_materializations(
    instance: dg.DagsterInstance, keys: Iterable[dg.AssetKey]
) -> dict[dg.AssetKey, dg.EventLogEntry]:
    """The latest materialisation per key (one storage query for all)."""
    return {
        record.asset_entry.asset_key: record.asset_entry.last_materialization
        for record in instance.get_asset_records(list(keys))
        if record.asset_entry.last_materialization is not None
    }


def stale_code_versions(
    latest: dict[dg.AssetKey, dg.EventLogEntry], code_versions: dict[dg.AssetKey, str]
) -> list[dg.AssetKey]:
    """Assets whose current code version is not the one their last materialisation recorded
    (assets without a declared code version, i.e. the Python ones, never count)."""
    stale = []
    for key, version in code_versions.items():
        materialization = latest[key].asset_materialization if key in latest else None
        recorded = materialization.tags.get(CODE_VERSION_TAG) if materialization else None
        if recorded != version:
            stale.append(key)
    return stale


def update_reason(
    instance: dg.DagsterInstance,
    crawled: dg.AssetKey,
    code_versions: dict[dg.AssetKey, str],
    *,
    new_documents: int,
    unparsed_documents: int,
    rebuild: bool,
) -> str | None:
    """Why this crawl must materialise (so the steps below it run), or None when it is idle."""
    if rebuild:
        return "a rebuild was asked for"
    if new_documents:
        return f"{new_documents} new documents"
    if unparsed_documents:
        return f"{unparsed_documents} stored documents not parsed by the current parser"
    latest = latest_materializations(instance, {crawled, *TERMINAL_ASSETS, *code_versions})
    if crawled not in latest:
        return "no earlier crawl on this instance: everything below is built once"
    crawled_at = latest[crawled].timestamp
    behind = [k for k in TERMINAL_ASSETS if k not in latest or latest[k].timestamp < crawled_at]
    if behind:
        return f"{_listed(behind)} older than the last crawl (a run stopped half-way)"
    stale = stale_code_versions(latest, code_versions)
    if stale:
        return f"{_listed(stale)} changed since last built"
    return None


def declared_code_versions(context: dg.AssetExecutionContext) -> dict[dg.AssetKey, str]:
    """Code versions of the code location's assets that declare one (dbt models and seeds). The
    whole location's, not the job's: the schedule's and the sensor's jobs hold the crawl alone."""
    try:
        graph = context.repository_def.asset_graph
    except Exception:  # a job executed in-process on its own has no code location: its graph
        graph = context.job_def.asset_layer.asset_graph
    versions = {}
    for key in graph.get_all_asset_keys():
        version = graph.get(key).code_version
        if version is not None:
            versions[key] = version
    return versions
