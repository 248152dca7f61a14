"""The freshness check on the crawl: fails once the last successful crawl is older than 26 h."""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg
import pytest

from npl_assets.automation.freshness import raw_freshness_checks

HOUR = 3600.0
# The check reads the clock through this name; the tests move the clock, not the data.
CLOCK = (
    "dagster._core.definitions.asset_checks.asset_check_factories.freshness_checks."
    "last_update.get_current_timestamp"
)


@dg.asset(name="raw_documents")
def fake_crawl() -> None:
    return None


def evaluate(instance: dg.DagsterInstance) -> dg.AssetCheckEvaluation:
    result = dg.materialize(
        [fake_crawl, *raw_freshness_checks],
        instance=instance,
        selection=dg.AssetSelection.checks(*raw_freshness_checks),
    )
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


@pytest.fixture
def crawled_at() -> tuple[dg.DagsterInstance, float]:
    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([fake_crawl], instance=instance)
    return instance, time.time()


def test_never_crawled_fails() -> None:
    evaluation = evaluate(dg.DagsterInstance.ephemeral())
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR


def test_a_crawl_25_hours_ago_is_fresh(
    crawled_at: tuple[dg.DagsterInstance, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    instance, when = crawled_at
    monkeypatch.setattr(CLOCK, lambda: when + 25 * HOUR)
    assert evaluate(instance).passed


def test_a_crawl_27_hours_ago_is_stale(
    crawled_at: tuple[dg.DagsterInstance, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    instance, when = crawled_at
    monkeypatch.setattr(CLOCK, lambda: when + 27 * HOUR)
    evaluation = evaluate(instance)
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR


def test_the_check_runs_after_the_crawl_in_the_same_run(dbt_manifest: Path) -> None:
    """Scheduled crawls include the check; it must see the new crawl, not the previous one."""
    from npl_assets.automation.schedules import daily_crawl_schedule
    from npl_assets.definitions import defs

    job = defs.resolve_job_def(daily_crawl_schedule.job_name)
    [check_node] = [n for n in job.graph.node_defs if n.name.startswith("freshness_check")]
    upstream = job.graph.dependency_structure.input_to_upstream_outputs_for_node(check_node.name)
    assert {output.node.name for outputs in upstream.values() for output in outputs} == {
        "raw_documents"
    }


def test_the_freshness_sensor_runs_by_default(dbt_manifest: Path) -> None:
    from npl_assets.definitions import defs

    sensor = defs.resolve_sensor_def("raw_freshness_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_an_idle_crawl_keeps_the_crawl_fresh(
    crawled_at: tuple[dg.DagsterInstance, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crawl that finds nothing new materialises nothing (its downstream steps skip) but
    records an observation; the freshness check counts it as the last update."""
    from npl_assets.assets.documents import crawl_observation

    instance, when = crawled_at
    checked = when + 30 * HOUR
    instance.report_runless_asset_event(crawl_observation(fake_crawl.key, {}, checked))
    monkeypatch.setattr(CLOCK, lambda: checked + HOUR)
    assert evaluate(instance).passed
    monkeypatch.setattr(CLOCK, lambda: checked + 27 * HOUR)
    assert not evaluate(instance).passed


def test_a_crawl_that_could_not_read_the_site_does_not_count(
    crawled_at: tuple[dg.DagsterInstance, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    from npl_assets.assets.documents import crawl_observation

    instance, when = crawled_at
    instance.report_runless_asset_event(crawl_observation(fake_crawl.key, {}, None))
    monkeypatch.setattr(CLOCK, lambda: when + 27 * HOUR)
    assert not evaluate(instance).passed
