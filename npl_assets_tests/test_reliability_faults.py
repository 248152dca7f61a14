"""The crawl under injected faults through the `raw_documents` asset, and the retry path of later
runs (issue 7). The crawler's own fault test (test_crawler_integration.py) drives `run_crawl`
directly; this one goes through the asset, so failures land in raw.crawl_failures and the retry
is the asset's (known URLs from the warehouse).

Expected values come from the site's manifest and from the fault model (which PDFs it makes
permanently 404), never from the crawler's output."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.reliability.runner import faults_model
from harness.reliability.scenarios.faults import (
    FaultsResult,
    permanent_404s,
    run_faults_scenario,
)
from harness.reliability.sites import build_site, load_manifest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("faulty-site"), synthetic=60, seed=3)


@pytest.fixture(scope="session")
def scenario(site: Path, tmp_path_factory: pytest.TempPathFactory) -> FaultsResult:
    # One retry in the first round, so that some URLs fail for good and a later run must fill them.
    result = run_faults_scenario(
        tmp_path_factory.mktemp("faults"), site, faults_model(), first_retries=1
    )
    for number, round_ in enumerate(result.rounds, 1):
        print(f"round {number}: {round_}")
    return result


def test_every_kind_of_fault_was_injected(scenario: FaultsResult) -> None:
    injected = scenario.rounds[0].injected
    assert injected["error"] >= 10, injected  # about 20 % of ~200 requests
    assert injected["truncate"] >= 2 and injected["slow"] >= 2 and injected["not_found"] >= 1


def test_the_first_run_completes_with_stored_or_recorded_documents(scenario: FaultsResult) -> None:
    first = scenario.rounds[0]
    assert first.failures > 0  # something failed beyond repair in round 1...
    assert scenario.retried > 0  # ...and a later round stored it
    assert scenario.problems == []


def test_the_end_state_is_everything_but_the_permanent_404s(
    scenario: FaultsResult, site: Path
) -> None:
    published = load_manifest(site)
    broken = permanent_404s(site, faults_model())
    assert broken, "the fault model should make some PDFs 404"
    assert scenario.published == len(published)
    assert scenario.stored == len(published) - len(broken)
    assert scenario.failed == len(broken)
    assert (scenario.duplicates, scenario.lost, scenario.bad_files) == (0, 0, 0)


def test_later_rounds_fetch_only_what_is_missing(scenario: FaultsResult) -> None:
    assert len(scenario.rounds) >= 2
    first_pdfs = scenario.rounds[0].pdf_requests
    assert all(r.pdf_requests < first_pdfs for r in scenario.rounds[1:])
    assert not [p for p in scenario.problems if "fetched stored PDFs again" in p]
