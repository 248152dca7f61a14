"""When an idle crawl (nothing new) still has to update `raw_documents`, so the steps below run."""

from __future__ import annotations

import time

import dagster as dg
import pytest

from npl_assets.assets.idle import (
    TERMINAL_ASSETS,
    latest_materializations,
    stale_code_versions,
    update_reason,
)

CRAWL = dg.AssetKey("raw_documents")
MODEL = dg.AssetKey("stg_listings")
VERSIONS = {MODEL: "checksum-2"}


def record(instance: dg.DagsterInstance, key: dg.AssetKey, code_version: str | None = None):
    tags = {"dagster/code_version": code_version} if code_version else None
    instance.report_runless_asset_event(dg.AssetMaterialization(key, tags=tags))
    time.sleep(0.01)  # distinct event timestamps


@pytest.fixture
def current() -> dg.DagsterInstance:
    """A crawl, then everything below it, built with today's code."""
    instance = dg.DagsterInstance.ephemeral()
    record(instance, CRAWL)
    record(instance, MODEL, "checksum-2")
    for key in TERMINAL_ASSETS:
        record(instance, key)
    return instance


def reason(instance: dg.DagsterInstance, **kwargs) -> str | None:
    values = {"new_documents": 0, "unparsed_documents": 0, "rebuild": False, **kwargs}
    return update_reason(instance, CRAWL, VERSIONS, **values)


def test_nothing_new_and_everything_current_is_idle(current: dg.DagsterInstance) -> None:
    assert reason(current) is None


def test_new_or_unparsed_documents_or_a_rebuild_update(current: dg.DagsterInstance) -> None:
    assert reason(current, new_documents=3) == "3 new documents"
    assert "not parsed" in reason(current, unparsed_documents=2)
    assert reason(current, rebuild=True) == "a rebuild was asked for"


def test_a_first_crawl_on_an_instance_updates() -> None:
    assert "no earlier crawl" in reason(dg.DagsterInstance.ephemeral())


def test_a_run_that_stopped_after_its_crawl_is_finished_by_the_next(
    current: dg.DagsterInstance,
) -> None:
    record(current, CRAWL)  # crawled, then died before the serving file and report
    got = reason(current)
    assert got is not None and "market_report" in got and "serving_database" in got


def test_a_changed_dbt_model_is_rebuilt(current: dg.DagsterInstance) -> None:
    record(current, MODEL, "checksum-1")  # last built from an older version of its SQL
    assert stale_code_versions(latest_materializations(current, VERSIONS), VERSIONS) == [MODEL]
    assert reason(current) == "stg_listings changed since last built"


def test_a_model_never_built_is_stale() -> None:
    never_built = latest_materializations(dg.DagsterInstance.ephemeral(), VERSIONS)
    assert never_built == {}
    assert stale_code_versions(never_built, VERSIONS) == [MODEL]


def test_index_failures_name_the_unread_index_pages_only() -> None:
    import pandas as pd

    from npl_assets.assets.documents import index_failures
    from npl_assets.warehouse.loading import FAILURE_COLUMNS

    def failure(url: str, stage: str) -> dict:
        return dict.fromkeys(FAILURE_COLUMNS) | {"url": url, "stage": stage, "error": "HTTP 500"}

    pdf_only = pd.DataFrame([failure("http://127.0.0.1/a.pdf", "pdf")], columns=FAILURE_COLUMNS)
    assert index_failures(pdf_only) == ""
    assert index_failures(pd.DataFrame(columns=FAILURE_COLUMNS)) == ""
    both = pd.DataFrame(
        [failure("http://127.0.0.1/a.pdf", "pdf"), failure("http://127.0.0.1/index.html", "index")],
        columns=FAILURE_COLUMNS,
    )
    assert index_failures(both) == "http://127.0.0.1/index.html: HTTP 500"
