"""The daily schedule and the new-announcement sensor, evaluated against a small synthetic site
served on loopback (no shared dataset needed)."""

import json
import math
import shutil
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from npl_assets.automation.schedules import daily_crawl_schedule
from npl_assets.automation.sensors import (
    ATTEMPT_TAG,
    MAX_CRAWL_ATTEMPTS,
    WATCH_SENSOR,
    new_announcements_sensor,
    retry_failed_crawl,
)
from npl_assets.crawler import index_watch
from npl_assets.locations import YindengSite

LISTINGS, SEED = 30, 7
LISTING_INDEX = "xxpl/xxpl_bldkzr/bldkzr_zrgg/index.html"
RESULT_INDEX = "xxpl/xxpl_bldkzr/bldkzr_zrjggg/index.html"
NEW_ITEM_HREF = "./202612/t20261215_9001.html"
NEW_ITEM_KEY = "loopback/xxpl/xxpl_bldkzr/bldkzr_zrgg/202612/t20261215_9001.html"
NEW_ITEM_TITLE = "测试银行股份有限公司关于2026年第9期个人消费贷款不良贷款转让项目不良贷款转让公告"


def page_one_size(items: int) -> int:
    """Pagination is anchored at the oldest end: index.html holds the newest remainder."""
    return items - 10 * (max(1, math.ceil(items / 10)) - 1)


@pytest.fixture(scope="module")
def synthetic_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from npl_assets.site.build import build_site

    out = tmp_path_factory.mktemp("watch-site")
    summary = build_site(out, synthetic=LISTINGS, seed=SEED)
    return out, summary


@pytest.fixture
def site(synthetic_site: tuple[Path, dict], tmp_path: Path) -> Path:
    """A private copy, so a test may add items to it."""
    root = tmp_path / "site"
    shutil.copytree(synthetic_site[0], root)
    return root


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    from npl_assets.site.server import SiteServer

    with SiteServer(site) as server:
        yield server.base_url


def site_resource(url: str | None) -> dict[str, YindengSite]:
    """The `site` resource the sensor and the crawl share, pointed at `url`."""
    return {"site": YindengSite(url=url, site_dir="/nonexistent/bundled-site")}


def evaluate(
    url: str | None, cursor: str | None = None
) -> tuple[dg.RunRequest | dg.SkipReason, str | None]:
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), cursor=cursor, resources=site_resource(url)
    )
    result = new_announcements_sensor(context)
    return result, context.cursor


def add_list_item(site: Path, href: str = NEW_ITEM_HREF, title: str = NEW_ITEM_TITLE) -> None:
    """Publish one more announcement at the top of page 1, as the CMS would."""
    index = site / LISTING_INDEX
    html = index.read_text(encoding="utf-8")
    marker = '<ul class="list-box">'
    assert html.count(marker) == 1, "the listing index has no single ul.list-box"
    item = (
        '<li><div class="rightListContent list-item">'
        f'<span class="rightListImport unlock list-content"><a href="{href}" title="{title}">'
        f'{title}</a></span><span class="rightListTime data-time">2026-12-15</span></div></li>'
    )
    index.write_text(html.replace(marker, marker + item), encoding="utf-8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the sensor ------------------------------------------------------------------------------


def test_first_look_requests_a_crawl_of_everything_on_page_one(
    served: str, site: Path, synthetic_site: tuple[Path, dict]
) -> None:
    result, cursor = evaluate(served)
    assert isinstance(result, dg.RunRequest)
    assert result.run_key and result.run_key.startswith("new-announcements-")
    assert not result.run_config  # the crawl reads the same `site` resource
    seen = json.loads(cursor)
    summary = synthetic_site[1]
    assert len(seen["listing"]) == page_one_size(summary["listings"]) == 10
    assert len(seen["result"]) == page_one_size(summary["results"])
    # The cursor names real detail pages, without the loopback port (it changes every run).
    for key in seen["listing"] + seen["result"]:
        host, path = key.split("/", 1)
        assert host == "loopback" and path.startswith("xxpl/xxpl_bldkzr/")
        assert (site / path).is_file()
    assert result.tags["npl/new_listings"] == "10"


def test_no_new_item_skips_and_keeps_the_cursor(served: str) -> None:
    _, cursor = evaluate(served)
    result, after = evaluate(served, cursor)
    assert isinstance(result, dg.SkipReason)
    assert "no new announcement" in result.skip_message
    assert json.loads(after) == json.loads(cursor)


def test_a_new_item_requests_exactly_one_run_with_a_stable_key(served: str, site: Path) -> None:
    _, cursor = evaluate(served)
    add_list_item(site)

    result, advanced = evaluate(served, cursor)
    assert isinstance(result, dg.RunRequest)
    assert result.tags["npl/new_listings"] == "1"
    assert result.tags["npl/new_results"] == "0"
    assert NEW_ITEM_KEY in json.loads(advanced)["listing"]
    assert NEW_ITEM_KEY not in json.loads(cursor)["listing"]

    # The same new item seen from the same cursor gives the same run key (Dagster then
    # deduplicates the run); a different new item gives another key.
    again, _ = evaluate(served, cursor)
    assert isinstance(again, dg.RunRequest) and again.run_key == result.run_key

    # Once the cursor has advanced, the item is no longer new.
    after, _ = evaluate(served, advanced)
    assert isinstance(after, dg.SkipReason)


def test_run_key_does_not_depend_on_the_port(site: Path) -> None:
    from npl_assets.site.server import SiteServer

    keys = []
    for _ in range(2):
        with SiteServer(site) as server:
            result, _ = evaluate(server.base_url)
            keys.append((server.port, result.run_key))
    assert keys[0][0] != keys[1][0]
    assert keys[0][1] == keys[1][1]


def test_a_second_new_item_gets_its_own_key(served: str, site: Path) -> None:
    _, cursor = evaluate(served)
    add_list_item(site)
    first, cursor = evaluate(served, cursor)
    add_list_item(site, href="./202612/t20261216_9002.html")
    second, _ = evaluate(served, cursor)
    assert isinstance(second, dg.RunRequest)
    assert second.tags["npl/new_listings"] == "1"
    assert second.run_key != first.run_key


def test_server_error_skips_with_the_reason_and_keeps_the_cursor(site: Path) -> None:
    from npl_assets.site.server import Faults, SiteServer

    with SiteServer(site) as healthy:
        _, cursor = evaluate(healthy.base_url)
    add_list_item(site)
    with SiteServer(site, faults=Faults(error_rate=1.0)) as failing:
        result, after = evaluate(failing.base_url, cursor)
    assert isinstance(result, dg.SkipReason)
    assert "HTTP 500" in result.skip_message
    assert after == cursor  # the new item is still new next time


def test_unreachable_site_skips_with_the_reason() -> None:
    result, cursor = evaluate(f"http://127.0.0.1:{free_port()}")
    assert isinstance(result, dg.SkipReason)
    assert "unreachable" in result.skip_message
    assert json.loads(cursor) == {}


def test_a_page_that_is_not_an_index_skips_with_the_reason(served: str, site: Path) -> None:
    for index in (LISTING_INDEX, RESULT_INDEX):
        (site / index).write_text("<html><body>系统维护中</body></html>", encoding="utf-8")
    result, _ = evaluate(served)
    assert isinstance(result, dg.SkipReason)
    assert "no ul.list-box" in result.skip_message


def test_one_broken_index_does_not_hide_news_on_the_other(served: str, site: Path) -> None:
    _, cursor = evaluate(served)
    add_list_item(site)
    (site / RESULT_INDEX).unlink()  # HTTP 404
    result, after = evaluate(served, cursor)
    assert isinstance(result, dg.RunRequest)
    assert json.loads(after)["result"] == json.loads(cursor)["result"]


def test_without_a_url_the_sensor_explains_how_to_set_one() -> None:
    result, _ = evaluate(None)
    assert isinstance(result, dg.SkipReason)
    assert "NPL_SOURCE_URL" in result.skip_message


def test_the_sensor_and_the_crawl_share_the_site_resource(dbt_manifest: Path) -> None:
    from npl_assets.definitions import defs

    job = defs.resolve_job_def(new_announcements_sensor.job_name)
    # one run: the crawl and everything below it, up to the serving file
    assert job.name == "npl_pipeline"
    assert {dg.AssetKey("raw_documents"), dg.AssetKey("serving_database")} <= (
        job.asset_layer.executable_asset_keys
    )
    assert "site" in new_announcements_sensor.required_resource_keys
    crawl = defs.resolve_assets_def("raw_documents")
    assert "site" in crawl.required_resource_keys
    # The sensor's run request carries no config: the run's crawl reads the same resource.
    assert dg.validate_run_config(job, {})


def test_the_code_location_crawls_and_polls_npl_source_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from npl_assets.resources import Locations, platform_resources

    monkeypatch.setenv("NPL_SITE_DIR", str(tmp_path / "site"))
    monkeypatch.delenv("NPL_SOURCE_URL", raising=False)
    bundled = platform_resources(Locations.from_environment())["site"]
    assert bundled.watch_url() is None
    assert bundled.describe().startswith("bundled site")
    assert bundled.site_dir == str(tmp_path / "site")
    monkeypatch.setenv("NPL_SOURCE_URL", "http://127.0.0.1:8765")
    served = platform_resources(Locations.from_environment())["site"]
    assert served.watch_url() == served.url == "http://127.0.0.1:8765"


# --- the index page parser and the cursor ----------------------------------------------------


def test_parse_index_page_resolves_relative_links() -> None:
    html = """<ul class="list-box">
      <li><div class="rightListContent list-item">
        <span class="rightListImport unlock list-content">
          <a href="./202312/t20231207_0415.html" title="甲银行关于2023年第1期转让公告">甲银行…</a>
        </span><span class="rightListTime data-time"> 2023-12-07 </span></div></li>
      <li><div class="rightListContent list-item">
        <span class="rightListImport unlock list-content">
          <a href="/xxpl/xxpl_bldkzr/bldkzr_zrgg/202311/t20231130_0400.html">乙银行公告</a>
        </span><span class="rightListTime data-time">2023-11-30</span></div></li>
      <li><div class="rightListContent list-item">
        <span class="rightListImport unlock list-content">
          <a href="https://elsewhere.example/t.html" title="丙">丙</a>
        </span><span class="rightListTime data-time">2023-11-29</span></div></li>
    </ul>"""
    page = "https://www.yindeng.com.cn/xxpl/xxpl_bldkzr/bldkzr_zrgg/index.html"
    parsed = index_watch.parse_index_page(html, page)
    assert parsed.items == [
        index_watch.IndexItem(
            "www.yindeng.com.cn/xxpl/xxpl_bldkzr/bldkzr_zrgg/202312/t20231207_0415.html",
            "甲银行关于2023年第1期转让公告",
            "2023-12-07",
        ),
        index_watch.IndexItem(
            "www.yindeng.com.cn/xxpl/xxpl_bldkzr/bldkzr_zrgg/202311/t20231130_0400.html",
            "乙银行公告",
            "2023-11-30",
        ),
    ]
    # An offsite link is reported, not taken for an announcement.
    assert len(parsed.refused) == 1 and "item 3" in parsed.refused[0]


def test_parse_index_page_rejects_an_item_without_a_link() -> None:
    html = """<ul class="list-box"><li><div class="rightListContent list-item">
        <span class="rightListTime data-time">2023-12-07</span></div></li></ul>"""
    with pytest.raises(index_watch.IndexPageError, match="list item 1 has no link"):
        index_watch.parse_index_page(html, "http://127.0.0.1:9/index.html")


def test_an_empty_index_is_not_an_error() -> None:
    page = index_watch.parse_index_page('<ul class="list-box"></ul>', "http://x/i.html")
    assert page.items == [] and page.refused == []


@pytest.mark.parametrize("cursor", ["not json", '["a"]', '{"listing": "a"}', '{"other": []}'])
def test_a_corrupt_cursor_is_a_clear_error(cursor: str) -> None:
    with pytest.raises(ValueError, match="cursor"):
        index_watch.decode_cursor(cursor)


def test_run_key_ignores_order() -> None:
    a = index_watch.IndexItem("/a.html", "A", "2024-01-01")
    b = index_watch.IndexItem("/b.html", "B", "2024-01-02")
    assert index_watch.run_key({"listing": [a, b]}) == index_watch.run_key(
        {"result": [b], "listing": [a]}
    )
    assert index_watch.run_key({"listing": [a]}) != index_watch.run_key({"listing": [b]})


# --- the daily schedule ----------------------------------------------------------------------


def test_daily_schedule_crawls_raw_documents_every_morning_in_beijing_time(
    dbt_manifest: Path,
) -> None:
    from npl_assets.definitions import defs

    assert daily_crawl_schedule.execution_timezone == "Asia/Shanghai"
    assert daily_crawl_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    job = defs.resolve_job_def(daily_crawl_schedule.job_name)
    assert job.name == "npl_pipeline"
    assert {dg.AssetKey("raw_documents"), dg.AssetKey("serving_database")} <= (
        job.asset_layer.executable_asset_keys
    )

    tick = datetime(2024, 5, 6, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    context = dg.build_schedule_context(
        instance=dg.DagsterInstance.ephemeral(), scheduled_execution_time=tick
    )
    result = daily_crawl_schedule.evaluate_tick(context)
    assert len(result.run_requests) == 1
    # No config: the crawl uses NPL_SOURCE_URL, else serves the bundled site itself.
    assert result.run_requests[0].run_config == {}

    # Daily, 07:00 Beijing time (Yindeng publishes during office hours in Beijing).
    assert daily_crawl_schedule.cron_schedule == "0 7 * * *"


# --- configuration ---------------------------------------------------------------------------


def test_sensor_interval_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    from npl_assets.automation.sensors import sensor_interval_seconds

    monkeypatch.delenv("NPL_SENSOR_INTERVAL", raising=False)
    assert sensor_interval_seconds() == 300
    monkeypatch.setenv("NPL_SENSOR_INTERVAL", "30")
    assert sensor_interval_seconds() == 30
    for bad in ("soon", "0", "-5"):
        monkeypatch.setenv("NPL_SENSOR_INTERVAL", bad)
        with pytest.raises(ValueError, match="NPL_SENSOR_INTERVAL"):
            sensor_interval_seconds()


@dg.op
def failing_crawl():
    raise RuntimeError("the warehouse was locked")


@dg.op
def crawl_step():
    return None


@dg.job
def crawl_that_fails():
    failing_crawl()


@dg.job
def crawl_that_succeeds():
    crawl_step()


def sensor_run(instance: dg.DagsterInstance, job: dg.JobDefinition, attempt: int = 1) -> str:
    """A crawl the sensor started (Dagster tags it with the sensor's name)."""
    tags = {"dagster/sensor_name": WATCH_SENSOR, ATTEMPT_TAG: str(attempt)}
    return job.execute_in_process(instance=instance, tags=tags, raise_on_error=False).run_id


def test_a_failed_crawl_is_started_again_a_few_times(served: str) -> None:
    instance = dg.DagsterInstance.ephemeral()
    run_id = sensor_run(instance, crawl_that_fails)
    context = dg.build_sensor_context(instance=instance, resources=site_resource(served))
    request = new_announcements_sensor(context)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == f"retry-{run_id}"
    assert request.tags[ATTEMPT_TAG] == "2"

    sensor_run(instance, crawl_that_fails, attempt=MAX_CRAWL_ATTEMPTS)  # the retries failed too
    assert retry_failed_crawl(instance) is None
    # The sensor goes back to watching the indexes (with no cursor, page 1 is all new).
    context = dg.build_sensor_context(instance=instance, resources=site_resource(served))
    result = new_announcements_sensor(context)
    assert isinstance(result, dg.RunRequest)
    assert result.run_key.startswith("new-announcements-")


def test_a_successful_crawl_is_not_started_again(served: str) -> None:
    instance = dg.DagsterInstance.ephemeral()
    sensor_run(instance, crawl_that_fails)
    sensor_run(instance, crawl_that_succeeds)
    assert retry_failed_crawl(instance) is None


def test_a_failed_crawl_is_not_started_again_after_a_later_crawl(served: str) -> None:
    instance = dg.DagsterInstance.ephemeral()
    sensor_run(instance, crawl_that_fails)
    assert retry_failed_crawl(instance) is not None
    # The daily schedule's crawl ran since, with nothing new: an observation.
    instance.report_runless_asset_event(dg.AssetObservation("raw_documents"))
    assert retry_failed_crawl(instance) is None
