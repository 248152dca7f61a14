"""A hostile site on loopback (issue 7): offsite links, `..` paths, javascript: links, an absurd
pageTotal, pages that loop, redirects to other hosts. Each is refused or bounded, and recorded.
Other hosts are names under .example; the crawl runs with every proxy variable pointing at a
loopback trap, so an attempt to reach one would land there, and the trap must stay empty.
test_crawler_spiders.py checks the same refusals offline, one callback at a time."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from harness.isolation import environment
from harness.reliability.scenarios.hostile import (
    DETAIL_TRAPS,
    HOSTILE_ITEMS,
    MAX_REQUESTS,
    ConnectionTrap,
    HostileResult,
    proxy_environment,
    run_hostile_scenario,
)


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory, samples_dir: Path) -> HostileResult:
    listing = (samples_dir / "listing_huaxia_cc_2023_02.pdf").read_bytes()
    result = (samples_dir / "result_hebei_2023_01.pdf").read_bytes()
    return run_hostile_scenario(tmp_path_factory.mktemp("hostile"), listing, result)


def test_the_crawl_finishes_bounded_and_stores_only_the_good_documents(
    hostile: HostileResult,
) -> None:
    assert hostile.problems == []
    assert hostile.finish == "listings: finished, results: finished"
    assert hostile.documents == 2
    assert hostile.requests <= MAX_REQUESTS
    assert not [p for p in hostile.by_path if "passwd" in p or "secret" in p or "other" in p]


def test_no_connection_to_another_host_was_attempted(hostile: HostileResult) -> None:
    assert hostile.trapped == []


def test_every_hostile_thing_has_a_reason_on_record(hostile: HostileResult) -> None:
    expected = {h.name for h in HOSTILE_ITEMS} | {n for n, _ in DETAIL_TRAPS.values()}
    assert set(hostile.refusals) == expected | {"absurd pageTotal"}
    assert "max redirections" in hostile.refusals["redirect ring between two detail pages"]
    assert "NPL_MAX_PAGES" in hostile.refusals["absurd pageTotal"]


def test_the_trap_would_have_caught_a_connection() -> None:
    # The control: with the same environment, a request to another host lands in the trap. A
    # fresh opener reads the proxy variables now (urlopen's shared one may be older).
    with ConnectionTrap() as trap, environment(**proxy_environment(trap.url)):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler())
        try:
            opener.open("http://evil.example/probe", timeout=2)
        except OSError:
            pass  # the trap hangs up without answering
    assert trap.connections and "evil.example/probe" in trap.connections[0]
