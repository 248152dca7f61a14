"""`python -m harness.reliability.child <dagster CLI arguments>`: the `dagster` command, with a
crash point armed from the environment. The parent (crash.py) watches for the marker file and
kills the whole process group with SIGKILL at that moment.

    NPL_CRASH_AT      crawl | load | parse | dbt | publish (unset: plain `dagster`)
    NPL_CRASH_MARKER  the file written once the run is inside that step
    NPL_CRASH_PDFS    for crawl: how many PDFs the site serves before the kill (default 4)
    NPL_CRASH_ONCE    set: of several runs armed with one marker, only the first to get there
                      crashes; the others go on (two runs at once, one killed in the middle)

Each hook lets the step do part of its work first, so the kill lands in the middle of it:
    crawl    the bundled site has served a few PDFs (the Scrapy child is fetching and storing)
    load     raw.documents got its rows, raw.crawl_failures not yet
    parse    half of the parsed rows are stored
    dbt      dbt has built its first node and is building the rest
    publish  the serving .tmp file holds some of the tables"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

CRASH_ENV = "NPL_CRASH_AT"
MARKER_ENV = "NPL_CRASH_MARKER"
PDFS_ENV = "NPL_CRASH_PDFS"
ONCE_ENV = "NPL_CRASH_ONCE"
CRASH_POINTS = ("crawl", "load", "parse", "dbt", "publish")
PDFS_BEFORE_CRASH = 4


def _mark(marker: Path, what: str) -> bool:
    """Write the marker (the parent's signal to kill); False if, crashing once, another run got
    there first."""
    if os.environ.get(ONCE_ENV):
        try:
            os.close(os.open(marker.with_name(marker.name + ".claimed"), os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return False
    tmp = marker.with_name(f"{marker.name}.{os.getpid()}.part")
    tmp.write_text(f"{what}\n{os.getpid()}\n", encoding="utf-8")
    os.replace(tmp, marker)
    return True


def _hold(marker: Path, what: str) -> None:
    """Signal the parent and wait for the kill: the work must stay half done. Returns at once
    only if this run is not the one to crash."""
    if not _mark(marker, what):
        return
    while True:
        time.sleep(1)


def install(point: str, marker: Path) -> None:
    if point not in CRASH_POINTS:
        raise ValueError(f"{CRASH_ENV} must be one of {CRASH_POINTS}, got {point!r}")
    globals()[f"_arm_{point}"](marker)


def _arm_crawl(marker: Path) -> None:
    import npl_assets.site.server as server

    plan = server._plan
    threshold = int(os.environ.get(PDFS_ENV) or PDFS_BEFORE_CRASH)
    served: list[str] = []

    def counting_plan(site: Any, path: str, faults: list) -> Any:
        reply = plan(site, path, faults)
        if path.endswith(".pdf") and reply.status == 200:
            served.append(path)
            if len(served) == threshold:
                _mark(marker, f"crawl: {len(served)} PDFs served")
        return reply

    server._plan = counting_plan


def _arm_load(marker: Path) -> None:
    # The crawl asset calls the store through its module (loading.store_crawl): patch it there.
    import npl_assets.warehouse.loading as loading

    store = loading.store_crawl

    def half_store(con: Any, docs: Any, failures: Any, run_id: str) -> int:
        added = store(con, docs, failures.iloc[0:0], run_id)  # documents committed, failures not
        _hold(marker, f"load: {len(docs)} documents stored, {len(failures)} failures not")
        return added + store(con, docs.iloc[0:0], failures, run_id)  # not the run to crash

    loading.store_crawl = half_store


def _arm_parse(marker: Path) -> None:
    import npl_assets.warehouse.loading as loading

    store = loading.store_outcomes

    def half_store(con: Any, table: str, outcomes: Any) -> tuple[int, int]:
        outcomes = list(outcomes)
        half = len(outcomes) // 2
        first = store(con, table, outcomes[:half])
        _hold(marker, f"parse: {half} of {len(outcomes)} {table} outcomes stored")
        rest = store(con, table, outcomes[half:])  # not the run to crash
        return first[0] + rest[0], first[1] + rest[1]

    loading.store_outcomes = half_store


def _arm_dbt(marker: Path) -> None:
    from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

    stream = DbtCliInvocation.stream

    def marking_stream(self: Any, *args: Any, **kwargs: Any) -> Any:
        for number, event in enumerate(stream(self, *args, **kwargs), 1):
            yield event
            if number == 1:
                # dbt goes on building in its own process while the kill arrives.
                _mark(marker, "dbt: first node built")

    DbtCliInvocation.stream = marking_stream


class _PublishingConnection:
    """Passes everything to the warehouse connection, and holds after a few serving tables."""

    def __init__(self, con: Any, marker: Path, after: int = 3) -> None:
        self._con = con
        self._marker = marker
        self._after = after
        self._created = 0

    def execute(self, sql: str, *args: Any) -> Any:
        result = self._con.execute(sql, *args)
        if sql.startswith("create table serving_tmp."):
            self._created += 1
            if self._created == self._after:
                _hold(self._marker, f"publish: {self._created} tables in the .tmp file")
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _arm_publish(marker: Path) -> None:
    import npl_assets.assets.serving as serving

    publish = serving.publish

    def slow_publish(con: Any, path: Path, *args: Any, **kwargs: Any) -> Any:
        return publish(_PublishingConnection(con, marker), path, *args, **kwargs)

    serving.publish = slow_publish


def main() -> int:
    point = os.environ.get(CRASH_ENV)
    if point:
        install(point, Path(os.environ[MARKER_ENV]))
    from dagster._cli import main as dagster_main

    sys.argv = ["dagster", *sys.argv[1:]]
    return dagster_main()


if __name__ == "__main__":
    sys.exit(main())
