"""Declarative automation: a crawl cascades down the whole graph, a fresh instance builds its
seeds, a failed asset is not retried every tick. Evaluated with Dagster's tester, no daemon."""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg
import pytest

from npl_assets.assets.conditions import downstream_condition

# The core of the graph; assets other helpers add below the crawl must follow it as well.
CORE_DOWNSTREAM = {
    "listings",
    "results",
    "stg_listings",
    "stg_results",
    "stg_sellers",
    "stg_buyers",
    "int_result_matches",
    "projects",
    "seller_quarterly_metrics",
    "market_quarterly_metrics",
    "buyer_league",
    "serving_database",
    "market_chart",
}
SEEDS = {"sellers", "buyer_aliases", "institutions", "institution_former_names", "buyers"}


class Ticker:
    def __init__(self, defs: dg.Definitions | list, instance: dg.DagsterInstance) -> None:
        self.defs, self.instance, self.cursor = defs, instance, None

    def __call__(self) -> set[str]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = dg.evaluate_automation_conditions(
                defs=self.defs, instance=self.instance, cursor=self.cursor
            )
        self.cursor = result.cursor
        return {
            r.key.to_user_string()
            for r in result.results
            if isinstance(r.key, dg.AssetKey) and r.true_subset.size
        }


@pytest.fixture(scope="module")
def defs(dbt_manifest: Path) -> dg.Definitions:
    from npl_assets.definitions import defs

    return defs


def conditioned_descendants(defs: dg.Definitions) -> set[str]:
    graph = defs.resolve_asset_graph()
    below = dg.AssetSelection.assets("raw_documents").downstream(include_self=False)
    return {
        key.to_user_string()
        for key in below.resolve(graph)
        if graph.get(key).automation_condition is not None
    }


def report(instance: dg.DagsterInstance, keys: set[str]) -> None:
    for key in keys:
        instance.report_runless_asset_event(dg.AssetMaterialization(key))


def test_every_asset_below_the_crawl_follows_it(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    conditioned = {
        key.to_user_string()
        for key in graph.materializable_asset_keys
        if graph.get(key).automation_condition is not None
    }
    assert CORE_DOWNSTREAM | SEEDS <= conditioned
    # The crawl is started by the schedule and the sensor only.
    assert graph.get(dg.AssetKey("raw_documents")).automation_condition is None


def test_a_crawl_cascades_to_the_marts_in_one_tick(defs: dg.Definitions) -> None:
    downstream = conditioned_descendants(defs)
    assert CORE_DOWNSTREAM <= downstream
    instance = dg.DagsterInstance.ephemeral()
    tick = Ticker(defs, instance)
    assert tick() == set()  # the first tick only records state
    assert tick() == SEEDS  # a fresh instance builds its seeds: nothing else may wait on them
    report(instance, SEEDS)
    assert tick() == set()  # no crawl yet: everything below it waits

    report(instance, {"raw_documents"})
    requested = tick()
    assert requested == downstream
    report(instance, requested)
    assert tick() == set()

    report(instance, {"raw_documents"})  # the next day's crawl
    assert tick() == downstream


def test_a_missing_asset_whose_run_failed_is_not_retried_every_tick() -> None:
    attempts = []

    @dg.asset
    def crawl() -> None:
        return None

    @dg.asset(deps=[crawl], automation_condition=downstream_condition())
    def parse() -> None:
        attempts.append(1)
        raise RuntimeError("parser bug")

    instance = dg.DagsterInstance.ephemeral()
    tick = Ticker([crawl, parse], instance)
    assert tick() == set()
    dg.materialize([crawl], instance=instance)
    assert tick() == {"parse"}
    assert not dg.materialize([crawl, parse], selection=[parse], instance=instance,
                              raise_on_error=False).success  # fmt: skip
    assert tick() == set()
    assert tick() == set()
    # A new crawl is a new reason to try again.
    dg.materialize([crawl], instance=instance)
    assert tick() == {"parse"}


def test_the_automation_sensor_runs_by_default(defs: dg.Definitions) -> None:
    sensor = defs.resolve_sensor_def("downstream_automation_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    # It covers every conditioned asset, so Dagster adds no stopped default sensor beside it.
    names = {s.name for s in defs.get_repository_def().sensor_defs}
    assert "default_automation_condition_sensor" not in names
    assert {
        "new_announcements_sensor",
        "downstream_automation_sensor",
        "raw_freshness_sensor",
        "run_failure_log_sensor",
    } <= names
    assert {s.name for s in defs.get_repository_def().schedule_defs} == {"daily_crawl_schedule"}
