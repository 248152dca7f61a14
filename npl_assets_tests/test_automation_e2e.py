"""End to end with no manual materialisation: the sensor notices a new listing on the index,
its run request crawls, and declarative automation alone carries the new PDF down to
seller_quarterly_metrics. Runs in-process on a temp instance against a small synthetic site."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from npl_assets.automation.sensors import new_announcements_sensor
from npl_assets.resources import Locations, platform_resources

pytestmark = pytest.mark.slow

LISTING_INDEX = "xxpl/xxpl_bldkzr/bldkzr_zrgg/index.html"
RELISTED = "（重新挂牌）"
MAX_AUTOMATION_TICKS = 6


def project_of(title: str) -> str:
    return title.replace(RELISTED, "")


def quarter_of(day: str) -> str:
    parsed = date.fromisoformat(day)
    return f"{parsed.year}Q{(parsed.month - 1) // 3 + 1}"


def hide_newest_single_listing(site: Path) -> tuple[dict, str]:
    """Take one listing off page 1 of the index (its detail page and PDF stay on disk), as if it
    were not published yet. Returns that listing's manifest entry and the original index HTML.
    The listing chosen is its project's only announcement, so publishing it adds a project."""
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    listings = [d for d in manifest["documents"] if d["doc_type"] == "listing"]
    per_project: dict[str, int] = {}
    for doc in listings:
        per_project[project_of(doc["title"])] = per_project.get(project_of(doc["title"]), 0) + 1
    index = site / LISTING_INDEX
    original = index.read_text(encoding="utf-8")
    items = re.findall(r"<li><div class=\"rightListContent list-item\">.*?</li>", original)
    assert items, "no list items on page 1 of the listing index"
    by_path = {d["detail_path"]: d for d in listings}
    for item in items:
        href = re.search(r'href="\./([^"]+)"', item).group(1)
        doc = by_path[f"/{LISTING_INDEX.rsplit('/', 1)[0]}/{href}"]
        if per_project[project_of(doc["title"])] == 1:
            break
    else:
        pytest.skip("every listing on page 1 shares its project with another announcement")
    total = re.search(r"共(\d+)条", original)
    hidden = original.replace(item, "", 1).replace(
        total.group(0), f"共{int(total.group(1)) - 1}条", 1
    )
    index.write_text(hidden, encoding="utf-8")
    return doc, original


def seller_rows(db: Path) -> dict[tuple[str, str], int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select seller, quarter, listings from main.seller_quarterly_metrics"
        ).fetchall()
    finally:
        con.close()
    return {(seller, quarter): listings for seller, quarter, listings in rows}


class Platform:
    """The code location's assets run in-process on one instance, as the daemon would."""

    def __init__(self, locations: Locations) -> None:
        from npl_assets.definitions import defs

        self.defs = defs
        # Checks too: a daemon run of an asset also runs its checks (blocking ones gate it).
        self.assets = [*(defs.assets or []), *(defs.asset_checks or [])]
        self.resources = platform_resources(locations)
        self.instance = dg.DagsterInstance.ephemeral()
        self.sensor_cursor: str | None = None
        self.automation_cursor = None
        self.runs: list[set[str]] = []
        # The daemon's first tick only records state (Dagster requests nothing on it); the
        # daemon has long passed it when the first crawl lands.
        assert self.evaluate() == set()

    def evaluate(self) -> set[dg.AssetKey]:
        evaluation = dg.evaluate_automation_conditions(
            defs=self.defs, instance=self.instance, cursor=self.automation_cursor
        )
        self.automation_cursor = evaluation.cursor
        return {
            r.key
            for r in evaluation.results
            if isinstance(r.key, dg.AssetKey) and r.true_subset.size
        }

    def sensor_tick(self) -> dg.RunRequest | dg.SkipReason:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.sensor_cursor,
            resources={"site": self.resources["site"]},
        )
        result = new_announcements_sensor(context)
        self.sensor_cursor = context.cursor
        return result

    def execute(self, selection: set[dg.AssetKey], run_config: dict | None = None) -> None:
        result = dg.materialize(
            self.assets,
            selection=sorted(selection, key=lambda k: k.to_user_string()),
            instance=self.instance,
            resources=self.resources,
            run_config=run_config or {},
        )
        assert result.success
        self.runs.append({k.to_user_string() for k in selection})

    def run_automation(self) -> int:
        """Evaluate the automation conditions and execute what they request, until quiet."""
        ticks = 0
        for _ in range(MAX_AUTOMATION_TICKS):
            requested = self.evaluate()
            if not requested:
                return ticks
            ticks += 1
            self.execute(requested)
        pytest.fail(f"automation still requesting runs after {MAX_AUTOMATION_TICKS} ticks")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    from npl_assets.site.build import build_site

    root = tmp_path / "site"
    build_site(root, synthetic=25, seed=3)
    return root


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    from npl_assets.site.server import SiteServer

    with SiteServer(site) as server:
        yield server.base_url


def test_a_new_listing_reaches_the_marts_with_no_manual_step(
    site: Path, served: str, isolated_env: Path, dbt_manifest: Path
) -> None:
    new_doc, published_index = hide_newest_single_listing(site)
    platform = Platform(Locations.under(isolated_env, site_dir=site, source_url=served))

    # First start: the sensor sees page 1 for the first time and requests a crawl.
    request = platform.sensor_tick()
    assert isinstance(request, dg.RunRequest)
    platform.execute({dg.AssetKey("raw_documents")}, request.run_config)
    assert platform.run_automation() >= 1
    before = seller_rows(isolated_env / "npl.duckdb")
    seller = new_doc["title"].split("关于", 1)[0]
    key = (seller, quarter_of(new_doc["list_date"]))

    # Nothing new: no crawl, and automation has nothing to do.
    assert isinstance(platform.sensor_tick(), dg.SkipReason)
    assert platform.run_automation() == 0

    # The listing is published.
    runs_before_publish = len(platform.runs)
    (site / LISTING_INDEX).write_text(published_index, encoding="utf-8")
    request = platform.sensor_tick()
    assert isinstance(request, dg.RunRequest)
    assert request.tags["npl/new_listings"] == "1"
    platform.execute({dg.AssetKey("raw_documents")}, request.run_config)
    assert platform.run_automation() >= 1

    after = seller_rows(isolated_env / "npl.duckdb")
    assert after.get(key, 0) == before.get(key, 0) + 1
    assert sum(after.values()) == sum(before.values()) + 1
    # Every downstream asset followed: the serving file has the new listing too.
    con = duckdb.connect(str(isolated_env / "npl_serving.duckdb"), read_only=True)
    try:
        (served_total,) = con.execute(
            "select sum(listings) from seller_quarterly_metrics"
        ).fetchone()
    finally:
        con.close()
    assert served_total == sum(after.values())
    followed = set().union(*platform.runs[runs_before_publish:])
    assert {
        "raw_documents",
        "listings",
        "stg_listings",
        "projects",
        "seller_quarterly_metrics",
        "serving_database",
        "market_chart",
    } <= followed
