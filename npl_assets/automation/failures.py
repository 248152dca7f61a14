"""The run-failure log: one row per failed run in `ops.duckdb`, a small file of its own.

The warehouse file is locked by whichever run writes it, and a sensor must never wait on (or
hold) that lock, so failures go to a separate file that is opened and closed per record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

RUN_FAILURES_DDL = """
create table if not exists run_failures (
    run_id varchar primary key,
    job_name varchar not null,
    failed_steps varchar[] not null,
    error varchar not null,
    failed_at timestamp not null,          -- UTC, from the run's failure event
    recorded_at timestamp not null default current_timestamp
)
"""


@dataclass(frozen=True)
class RunFailure:
    run_id: str
    job_name: str
    failed_steps: tuple[str, ...]
    error: str
    failed_at: datetime  # naive UTC


def record_failure(path: Path, failure: RunFailure) -> bool:
    """Insert the failure unless that run is already recorded; True when a row was added.
    A sensor may see the same run again after a crash between writing and moving its cursor."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(RUN_FAILURES_DDL)
        before = con.execute("select count(*) from run_failures").fetchone()[0]
        con.execute(
            """insert into run_failures (run_id, job_name, failed_steps, error, failed_at)
               values (?, ?, ?, ?, ?) on conflict do nothing""",
            [
                failure.run_id,
                failure.job_name,
                list(failure.failed_steps),
                failure.error,
                failure.failed_at,
            ],
        )
        return con.execute("select count(*) from run_failures").fetchone()[0] > before
    finally:
        con.close()


def format_failure(failure: RunFailure) -> str:
    steps = ", ".join(failure.failed_steps) or "no step (the run failed outside its steps)"
    return (
        f"run {failure.run_id} of job {failure.job_name} failed at "
        f"{failure.failed_at:%Y-%m-%d %H:%M:%S} UTC; steps: {steps}; error: {failure.error}"
    )
