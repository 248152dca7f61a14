"""The warehouse lock (npl_assets/warehouse/lock.py): one run at a time on a warehouse, a clear
reason for the one that waits too long, and nothing stale after kill -9."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from npl_assets.resources import warehouse_resource
from npl_assets.warehouse.lock import WarehouseBusy, WarehouseLock, lock_path

HOLDER = """
import sys, time
from pathlib import Path
from npl_assets.warehouse.lock import WarehouseLock
lock = WarehouseLock(Path(sys.argv[1]))
lock.acquire("run held-by-a-child")
print("held", flush=True)
time.sleep(600)
"""


def test_a_second_holder_waits_then_gives_up_with_the_reason(tmp_path: Path) -> None:
    db = tmp_path / "npl.duckdb"
    first, second = WarehouseLock(db), WarehouseLock(db)
    first.acquire("run aaa")
    heard: list[str] = []
    with pytest.raises(WarehouseBusy, match=r"in use by run aaa \(pid \d+\) since .*UTC"):
        second.acquire("run bbb", timeout=0.5, on_wait=heard.append)
    assert heard and "run aaa" in heard[0]
    first.release()
    assert second.acquire("run bbb", timeout=0.5) < 0.5
    assert "run bbb" in lock_path(db).read_text()
    second.release()


def test_kill_9_leaves_no_stale_lock(tmp_path: Path) -> None:
    db = tmp_path / "npl.duckdb"
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseBusy, match="held-by-a-child"):
            WarehouseLock(db).acquire("run c", timeout=0.3)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    lock = WarehouseLock(db)
    assert lock.acquire("run d", timeout=2) < 2  # the kernel let go with the process
    lock.release()


def test_runs_on_one_warehouse_take_turns(tmp_path: Path) -> None:
    import threading

    spans: list[tuple[float, float]] = []

    @dg.asset
    def slow(duckdb: DuckDBResource) -> None:
        started = time.monotonic()
        time.sleep(1.0)
        with duckdb.get_connection() as con:
            con.execute("create table if not exists t as select 1 as x")
        spans.append((started, time.monotonic()))

    def run() -> None:
        dg.materialize([slow], resources={"duckdb": warehouse_resource(tmp_path / "w.duckdb")})

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (_, first_end), (second_start, _) = sorted(spans)
    assert second_start >= first_end  # one after the other, never together
