"""The run-failure sensor records failed runs in ops.duckdb, never in the warehouse."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from npl_assets.automation.sensors import run_failure_log_sensor
from npl_assets.locations import DataPaths


@dg.asset
def fine() -> int:
    return 1


@dg.asset(deps=[fine])
def crawl_that_breaks() -> None:
    raise RuntimeError("index page answered HTTP 503 three times")


def failed_run(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    result = dg.materialize([fine, crawl_that_breaks], instance=instance, raise_on_error=False)
    assert not result.success
    return result


def evaluate_sensor(
    instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult, data_dir: Path
) -> None:
    paths = DataPaths(
        data_dir=str(data_dir),
        content_store=str(data_dir / "raw"),
        serving_database=str(data_dir / "npl_serving.duckdb"),
    )
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_log_sensor",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"paths": paths},
    )
    run_failure_log_sensor(context)


def rows(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "select run_id, job_name, failed_steps, error, failed_at from run_failures"
        ).fetchall()
    finally:
        con.close()


def test_a_failed_run_becomes_one_row(isolated_env: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = failed_run(instance)
    evaluate_sensor(instance, result, isolated_env)

    [(run_id, job_name, steps, error, failed_at)] = rows(isolated_env / "ops.duckdb")
    assert run_id == result.run_id
    assert job_name == result.dagster_run.job_name
    assert steps == ["crawl_that_breaks"]
    assert error == "crawl_that_breaks: RuntimeError: index page answered HTTP 503 three times"
    ended = instance.get_run_record_by_id(result.run_id).end_time
    assert abs(failed_at.replace(tzinfo=UTC).timestamp() - ended) < 1
    # The sensor never touches the warehouse (its lock belongs to the runs).
    assert not (isolated_env / "npl.duckdb").exists()


def test_the_same_run_is_recorded_once(isolated_env: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = failed_run(instance)
    evaluate_sensor(instance, result, isolated_env)
    evaluate_sensor(instance, result, isolated_env)
    assert len(rows(isolated_env / "ops.duckdb")) == 1


def test_failures_of_different_runs_accumulate(isolated_env: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    first, second = failed_run(instance), failed_run(instance)
    evaluate_sensor(instance, first, isolated_env)
    evaluate_sensor(instance, second, isolated_env)
    assert sorted(r[0] for r in rows(isolated_env / "ops.duckdb")) == sorted(
        [first.run_id, second.run_id]
    )


def test_the_failure_is_logged(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = failed_run(instance)
    capsys.readouterr()
    evaluate_sensor(instance, result, isolated_env)
    logged = capsys.readouterr().err
    assert f"run {result.run_id} of job" in logged
    assert "RuntimeError: index page answered HTTP 503 three times" in logged
