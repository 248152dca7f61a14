"""A run killed while it holds the DuckDB pool slot must not block every later run: the
warehouse resource releases dead runs as a run starts (npl_assets/warehouse/recovery.py).
A live run holding the slot is never touched."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from harness.isolation import IsolatedPlatform
from npl_assets.warehouse.recovery import pid_alive, release_dead_runs

HOLDER = """
import pathlib, sys, time
import dagster as dg

@dg.op(pool="duckdb")
def hold():
    pathlib.Path(sys.argv[1]).write_text("holding")
    time.sleep(600)

@dg.job
def holder():
    hold()

holder.execute_in_process(instance=dg.DagsterInstance.get())
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = IsolatedPlatform(tmp_path / "platform").prepare().home
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def holder(home: Path, tmp_path: Path) -> Iterator[subprocess.Popen]:
    """A run in another process that holds the pool slot until killed."""
    marker = tmp_path / "holding"
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(marker)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, "the holder run exited"
            assert time.monotonic() < deadline, "the holder run never took the slot"
            time.sleep(0.05)
        yield process
    finally:
        process.kill()
        process.wait()


def slot_holders(instance: dg.DagsterInstance) -> list[str]:
    return [
        s.run_id for s in instance.event_log_storage.get_concurrency_info("duckdb").claimed_slots
    ]


def test_a_live_run_keeps_its_slot(home: Path, holder: subprocess.Popen) -> None:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run_id,) = slot_holders(instance)
        assert release_dead_runs(instance) == []
        assert slot_holders(instance) == [run_id]
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED


def test_a_killed_run_is_failed_and_its_slot_freed(home: Path, holder: subprocess.Popen) -> None:
    holder.kill()
    holder.wait()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run_id,) = slot_holders(instance)  # what kill -9 leaves behind
        (released,) = release_dead_runs(instance)
        assert (released.run_id, released.pids) == (run_id, (holder.pid,))
        assert "killed" in released.reason
        assert slot_holders(instance) == []
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
        assert release_dead_runs(instance) == []  # once is enough


def test_pid_checks() -> None:
    import os

    assert pid_alive(os.getpid())
    # This process did not exist before it started: a run that reported long ago was another.
    assert not pid_alive(os.getpid(), not_started_after=time.time() - 3600)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert not pid_alive(dead.pid)


def test_the_dead_run_sensor_frees_the_queue(home: Path, holder: subprocess.Popen) -> None:
    """Under the daemon one run at a time: a killed run would hold the only run slot forever."""
    from npl_assets.automation.sensors import dead_run_sensor

    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run_id,) = slot_holders(instance)
        alive = dead_run_sensor(dg.build_sensor_context(instance=instance))
        assert alive.skip_message == "no dead runs"
        holder.kill()
        holder.wait()
        released = dead_run_sensor(dg.build_sensor_context(instance=instance))
        assert released.skip_message == f"released 1 run(s): {run_id}"
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
        assert slot_holders(instance) == []
