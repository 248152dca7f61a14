"""The team profile end to end (docs/team.md): a local PostgreSQL and moto's S3 server on free
loopback ports, Dagster's daemon taking a queued run from Postgres, the warehouse a DuckLake
(catalog in Postgres, Parquet on S3), the PDFs on S3. The marts must equal the embedded
profile's row for row; two runs at once never both write while a reader in another process
sees only published snapshots; a run killed mid-dbt leaves the published snapshot readable and
the next run recovers by itself.

Skipped, visibly, only outside CI when PostgreSQL's server binaries are absent; under CI=true
that is a failure (.ci/run installs them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from npl_assets import profiles, settings
from npl_assets.assets.serving import PUBLISHED_TABLES
from npl_assets.team.services import LocalTeamServices, postgres_bin_dir

# One worker runs the module (its services and team pipeline are module fixtures) and the
# session's embedded full pipeline it compares with.
# heavy: about 8 minutes of Postgres, S3 and daemon runs; `make test-heavy` (and CI) runs them.
pytestmark = [pytest.mark.slow, pytest.mark.heavy, pytest.mark.xdist_group("full_pipeline")]

BIN = Path(sys.executable).parent
# Columns that record when a row was written, not what it says.
# Write times, and open_listings' build time and the days left from it.
VOLATILE_COLUMNS = {"parsed_at", "loaded_at", "run_id", "as_of", "days_left"}
RUN_TIMEOUT = 900.0

# A run of the dbt models and the publish step alone (what the concurrency and kill tests need:
# the crawl finds nothing new after the first run and would skip them). Prints its run id.
PARTIAL_RUN = """
import dagster as dg
from npl_assets.assets.serving import serving_database
from npl_assets.assets.transform import npl_dbt_models
from npl_assets.resources import default_resources
instance = dg.DagsterInstance.get()
result = dg.materialize(
    [npl_dbt_models, serving_database], instance=instance, resources=default_resources(),
    raise_on_error=False,
)
print("RUN", result.run_id, result.success, flush=True)
"""

# A reader in its own process: queries every published mart until told to stop, one JSON line
# per read (its snapshot and row counts) or per error.
READER = """
import json, sys, time
from pathlib import Path
from npl_assets import profiles
tables, out, stop = json.loads(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
with out.open("a") as log:
    while not stop.exists():
        try:
            snapshot = profiles.published_snapshot()
            con = profiles.open_published()
            counts = {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in tables}
            total = con.execute("select sum(unpaid_total_yuan) from seller_quarterly_metrics")
            counts["unpaid_sum"] = str(total.fetchall()[0][0])
            con.close()
            log.write(json.dumps({"snapshot": snapshot, "counts": counts}) + "\\n")
        except Exception as exc:
            log.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\\n")
        log.flush()
        time.sleep(0.2)
"""


@pytest.fixture(scope="module")
def team_env(
    tmp_path_factory: pytest.TempPathFactory, built_site: Path, dbt_manifest: Path
) -> Iterator[dict[str, str]]:
    """Local Postgres + S3 and the team instance; the environment every process here runs in."""
    if postgres_bin_dir() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL server binaries are missing under CI (.ci/run installs them)")
        pytest.skip("PostgreSQL server binaries not installed: apt-get install postgresql")
    from npl_assets.team.cli import write_instance

    home = tmp_path_factory.mktemp("team-home")
    work = tmp_path_factory.mktemp("team-data")
    started = time.monotonic()
    services = LocalTeamServices.start(home)
    try:
        team_vars = services.env()
        env = {
            "NPL_TEAM_ENV": str(home / "absent.env"),  # a developer's own team.env stays out
            "DAGSTER_HOME": str(home),
            "NPL_DATA_DIR": str(work),
            "NPL_SITE_DIR": str(built_site),
            "NPL_RAW_DIR": str(work / "raw"),
            "DUCKDB_DATABASE": str(work / "npl.duckdb"),
            "NPL_SERVING_DATABASE": str(work / "npl_serving.duckdb"),
            **team_vars,
        }
        with pytest.MonkeyPatch.context() as mp:
            for key, value in env.items():
                mp.setenv(key, value)
            mp.delenv("NPL_SOURCE_URL", raising=False)
            env["NPL_DAGSTER_PG_URL"] = profiles.team_settings().dagster_postgres_url()
            mp.setenv("NPL_DAGSTER_PG_URL", env["NPL_DAGSTER_PG_URL"])
            profiles.install_extensions()
            write_instance(home)
            print(f"team services and instance up in {time.monotonic() - started:.1f} s")
            yield env
    finally:
        services.stop()


def _process_env(env: dict[str, str]) -> dict[str, str]:
    full = {**os.environ, **env}
    full.pop("NPL_SOURCE_URL", None)
    full["PATH"] = f"{BIN}{os.pathsep}{full.get('PATH', '')}"
    return full


def _instance():
    import dagster as dg

    return dg.DagsterInstance.get()


def _wait_for_job_run(instance, job_name: str, timeout: float = RUN_TIMEOUT):
    """The finished run of `job_name` (the daemon's automation may launch other runs too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in instance.get_runs() if r.job_name == job_name]
        if runs and runs[0].is_finished:
            return runs[0]
        time.sleep(1.0)
    statuses = [(r.job_name, r.run_id, r.status) for r in instance.get_runs()]
    raise AssertionError(f"{job_name} not finished in {timeout:.0f} s: {statuses}")


def _marts(con: duckdb.DuckDBPyConnection, prefix: str = "") -> dict[str, list[tuple]]:
    """Every published table's rows, sorted, without the write-time columns."""
    out: dict[str, list[tuple]] = {}
    for table in PUBLISHED_TABLES:
        cursor = con.execute(f"select * from {prefix}{table} limit 0")
        columns = [d[0] for d in cursor.description if d[0] not in VOLATILE_COLUMNS]
        # Each profile crawled the bundled site on a port of its own: URLs compare by path.
        select = ", ".join(
            f"regexp_replace(\"{c}\", '^https?://[^/]+', '')" if c.endswith("_url") else f'"{c}"'
            for c in columns
        )
        rows = con.execute(f"select {select} from {prefix}{table}").fetchall()
        out[table] = sorted(rows, key=repr)
    return out


def _stop_automation(instance, workspace: Path) -> list[str]:
    """Stop every sensor and schedule of the code location in the instance, so the daemon runs
    only what the test queues (they are on by default, and on a fresh instance the automation
    would start runs of its own)."""
    from dagster import __version__
    from dagster._cli.workspace.cli_target import get_repository_from_cli_opts
    from dagster_shared.cli import WorkspaceOpts

    stopped = []
    opts = WorkspaceOpts(workspace=[str(workspace)])
    with get_repository_from_cli_opts(instance, __version__, opts, None) as repo:
        for sensor in repo.get_sensors():
            instance.stop_sensor(sensor.get_remote_origin_id(), sensor.selector_id, sensor)
            stopped.append(sensor.name)
        for schedule in repo.get_schedules():
            instance.stop_schedule(schedule.get_remote_origin_id(), schedule.selector_id, schedule)
            stopped.append(schedule.name)
    return stopped


@pytest.fixture(scope="module")
def team_pipeline(team_env: dict[str, str]) -> dict:
    """The whole job in the team profile, queued in Postgres and launched by the daemon."""
    instance = _instance()
    root = settings.PROJECT_ROOT
    env = _process_env(team_env)
    assert _stop_automation(instance, root / "workspace.yaml")
    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", str(root / "workspace.yaml")],
        cwd=root,
        env=env,
        stdout=(Path(team_env["DAGSTER_HOME"]) / "daemon.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        workspace = str(root / "workspace.yaml")
        subprocess.run(
            [str(BIN / "dagster"), "job", "launch", "-w", workspace, "-j", "npl_pipeline"],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
        )
        run = _wait_for_job_run(instance, "npl_pipeline")
        seconds = time.monotonic() - started
    finally:
        # Whatever the daemon's automation still runs dies with it: the tests below also show
        # that the next run recovers from that.
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait(timeout=60)
    print(f"team pipeline (queued, launched by the daemon): {seconds:.1f} s")
    return {"run": run, "seconds": seconds, "instance": instance}


def test_team_pipeline_marts_equal_embedded(team_pipeline: dict, full_pipeline: dict) -> None:
    import dagster as dg

    run = team_pipeline["run"]
    assert run.status == dg.DagsterRunStatus.SUCCESS, run.status
    instance = team_pipeline["instance"]
    # The run was queued (QueuedRunCoordinator) and its events are in Postgres.
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    events = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.RUN_ENQUEUED
    ).records
    assert events, "the run did not go through the queue"

    # The PDFs are on S3, none in the local raw folder.
    client = profiles.s3_client()
    team = profiles.team_settings()
    listed = client.list_objects_v2(Bucket=team.s3_bucket, Prefix="raw/")
    assert listed.get("KeyCount", 0) > 0
    assert not Path(os.environ["NPL_RAW_DIR"]).exists()
    # Parquet under the lake's data path: the tables are DuckLake's, not a local file.
    lake_files = client.list_objects_v2(Bucket=team.s3_bucket, Prefix="lake/")
    assert any(o["Key"].endswith(".parquet") for o in lake_files.get("Contents", []))
    assert not Path(os.environ["DUCKDB_DATABASE"]).exists()

    embedded = duckdb.connect(str(full_pipeline["serving"]), read_only=True)
    try:
        expected = _marts(embedded)
    finally:
        embedded.close()
    con = profiles.open_published()
    try:
        got = _marts(con)
    finally:
        con.close()
    for table in PUBLISHED_TABLES:
        assert len(got[table]) == len(expected[table]), table
        assert got[table] == expected[table], f"{table} differs from the embedded profile"
    assert len(got["seller_quarterly_metrics"]) > 0


def _start_partial_run(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", PARTIAL_RUN],
        cwd=settings.PROJECT_ROOT,
        env=_process_env(env),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _start_reader(env: dict[str, str], out: Path, stop: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", READER, json.dumps(list(PUBLISHED_TABLES)), str(out), str(stop)],
        cwd=settings.PROJECT_ROOT,
        env=_process_env(env),
        start_new_session=True,
    )


def _reads(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def _published_counts() -> dict[str, object]:
    con = profiles.open_published()
    try:
        counts: dict[str, object] = {
            t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in PUBLISHED_TABLES
        }
        total = con.execute("select sum(unpaid_total_yuan) from seller_quarterly_metrics")
        counts["unpaid_sum"] = str(total.fetchall()[0][0])
    finally:
        con.close()
    return counts


def _step_window(instance, run_id: str) -> tuple[float, float]:
    """When the run's first step started and its last step ended (event timestamps)."""
    import dagster as dg

    starts = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_START)
    ends = instance.get_records_for_run(
        run_id, of_type={dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
    )
    first = min(r.event_log_entry.timestamp for r in starts.records)
    last = max(r.event_log_entry.timestamp for r in ends.records)
    return first, last


def test_two_runs_never_both_write_and_readers_see_published_snapshots(
    team_pipeline: dict, team_env: dict[str, str], tmp_path: Path
) -> None:
    instance = team_pipeline["instance"]
    expected = _published_counts()
    before = profiles.published_snapshot()
    reads, stop = tmp_path / "reads.jsonl", tmp_path / "stop"
    reader = _start_reader(team_env, reads, stop)
    started = time.monotonic()
    try:
        runs = [_start_partial_run(team_env, tmp_path / f"run{i}.log") for i in (1, 2)]
        for proc in runs:
            proc.wait(timeout=RUN_TIMEOUT)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    seconds = time.monotonic() - started
    print(f"two partial runs at once (dbt + publish), serialised: {seconds:.1f} s")
    outputs = [(tmp_path / f"run{i}.log").read_text() for i in (1, 2)]
    run_ids = []
    for output in outputs:
        line = next((ln for ln in output.splitlines() if ln.startswith("RUN ")), None)
        assert line is not None and line.endswith(" True"), output[-3000:]
        run_ids.append(line.split()[1])
    # Their warehouse steps never overlap: one run waited for the other's lock.
    (a_start, a_end), (b_start, b_end) = (_step_window(instance, r) for r in run_ids)
    assert a_end <= b_start or b_end <= a_start, ((a_start, a_end), (b_start, b_end))
    assert "waiting for the warehouse" in "\n".join(outputs) or any(
        "waiting for the warehouse" in (r.event_log_entry.user_message or "")
        for run_id in run_ids
        for r in instance.get_records_for_run(run_id, limit=5000).records
    )
    assert profiles.published_snapshot() > before

    records = _reads(reads)
    errors = [r["error"] for r in records if "error" in r]
    assert not errors, errors[:5]
    assert len(records) >= 5, f"the reader read only {len(records)} times"
    # Every read saw one whole published state: the same marts before, between and after.
    assert all(r["counts"] == expected for r in records), [
        r for r in records if r["counts"] != expected
    ][:3]
    print(f"reader: {len(records)} reads, {len({r['snapshot'] for r in records})} snapshots")


def test_run_killed_mid_dbt_leaves_snapshot_readable_and_next_run_recovers(
    team_pipeline: dict, team_env: dict[str, str], tmp_path: Path
) -> None:
    import dagster as dg

    instance = team_pipeline["instance"]
    expected = _published_counts()
    published = profiles.published_snapshot()
    con = profiles.open_lake(read_only=True)
    head = profiles.lake_snapshot(con)
    con.close()

    known = {r.run_id for r in instance.get_runs()}
    victim = _start_partial_run(team_env, tmp_path / "victim.log")
    # Mid-dbt: dbt has committed at least two models (new snapshots) of the rebuild.
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        con = profiles.open_lake(read_only=True)
        now = profiles.lake_snapshot(con)
        con.close()
        if now >= head + 2:
            break
        assert victim.poll() is None, (tmp_path / "victim.log").read_text()[-3000:]
        time.sleep(0.1)
    assert victim.poll() is None, "the run ended before it could be killed"
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    (victim_run,) = [r.run_id for r in instance.get_runs() if r.run_id not in known]
    assert instance.get_run_by_id(victim_run).status == dg.DagsterRunStatus.STARTED

    # The published snapshot is untouched and readable; the half-rebuilt head is not served.
    assert profiles.published_snapshot() == published
    assert _published_counts() == expected

    started = time.monotonic()
    follow = _start_partial_run(team_env, tmp_path / "next.log")
    follow.wait(timeout=RUN_TIMEOUT)
    output = (tmp_path / "next.log").read_text()
    line = next((ln for ln in output.splitlines() if ln.startswith("RUN ")), "")
    assert line.endswith(" True"), output[-3000:]
    print(f"next run after the kill: {time.monotonic() - started:.1f} s")
    assert profiles.published_snapshot() > published
    assert _published_counts() == expected
    # The killed run was found dead and marked failed by the next run's warehouse resource.
    assert instance.get_run_by_id(victim_run).status == dg.DagsterRunStatus.FAILURE
