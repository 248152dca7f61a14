"""The Dagster UI as people use it: `dagster-webserver` and `dagster-daemon` on a temp
DAGSTER_HOME, the asset graph listed and the whole pipeline launched through GraphQL.

The instance template (`dagster.yaml`) queues runs (one at a time, for DuckDB's single writer),
so the daemon is what starts a launched run; both processes are stopped by their own PIDs."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from harness.isolation import IsolatedPlatform
from npl_assets.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

STARTUP_SECONDS = 90
RUN_SECONDS = 300
EXPECTED_ASSETS = {
    "raw_documents",
    "listings",
    "results",
    "stg_listings",
    "stg_results",
    "projects",
    "seller_quarterly_metrics",
    "market_quarterly_metrics",
    "buyer_league",
    "serving_database",
    "market_chart",
}

ASSETS_QUERY = "{ assetNodes { assetKey { path } } }"
LOCATIONS_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries { name
    locationOrLoadError { __typename ... on RepositoryLocation { repositories { name } }
                          ... on PythonError { message } } } } } }
"""
LAUNCH_MUTATION = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message stack }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
  }
}
"""
RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) { __typename ... on Run { status } ... on PythonError { message } }
}
"""
RUN_ERRORS_QUERY = """
query RunErrors($runId: ID!) {
  logsForRun(runId: $runId) { __typename ... on EventConnection { events { __typename
    ... on MessageEvent { message }
    ... on ErrorEvent { error { message } } } } }
}
"""
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def expected_projects(site: Path) -> int:
    """A relisting (（重新挂牌） in the title) is the same project as its first listing."""
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    titles = {
        doc["title"].replace("（重新挂牌）", "")
        for doc in manifest["documents"]
        if doc["doc_type"] == "listing"
    }
    return len(titles)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(base: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{base}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.loads(response.read())
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


def stop(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM, then SIGKILL after a grace period; only this process, by its own PID."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_for_server(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"webserver exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/server_info", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"webserver did not answer within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from npl_assets.site.build import build_site

    out = tmp_path_factory.mktemp("ui-site")
    build_site(out, synthetic=30, seed=11)
    return out


@pytest.fixture(scope="session")
def dagster_ui(
    tmp_path_factory: pytest.TempPathFactory, small_site: Path, dbt_manifest: Path
) -> Iterator[dict]:
    # Prepared before the webserver and the daemon start: both would create the instance's
    # storage at once otherwise.
    platform = IsolatedPlatform(tmp_path_factory.mktemp("ui"), small_site).prepare()
    root, data, env = platform.root, platform.data, platform.env()
    bin_dir = Path(sys.executable).parent
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web_log, daemon_log = root / "webserver.log", root / "daemon.log"
    processes: list[subprocess.Popen] = []
    try:
        with web_log.open("w") as out:
            processes.append(
                subprocess.Popen(
                    [str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port),
                     "-w", "workspace.yaml"],
                    cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        with daemon_log.open("w") as out:
            processes.append(
                subprocess.Popen(
                    [str(bin_dir / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                    cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        started = time.monotonic()
        wait_for_server(base, processes[0], web_log)
        yield {
            "base": base,
            "data": data,
            "site": small_site,
            "startup_seconds": time.monotonic() - started,
            "logs": (web_log, daemon_log),
        }
    finally:
        for process in processes:
            stop(process)


def test_every_asset_is_in_the_graph(dagster_ui: dict) -> None:
    nodes = graphql(dagster_ui["base"], ASSETS_QUERY)["assetNodes"]
    keys = {"/".join(node["assetKey"]["path"]) for node in nodes}
    missing = EXPECTED_ASSETS - keys
    assert not missing, f"assets missing from the UI graph: {sorted(missing)}"


@pytest.mark.heavy  # a whole run through the UI's run launcher, about a minute: make test-heavy
def test_the_whole_pipeline_launched_from_the_ui_succeeds(dagster_ui: dict) -> None:
    base = dagster_ui["base"]
    workspace = graphql(base, LOCATIONS_QUERY)["workspaceOrError"]
    [location] = workspace["locationEntries"]
    loaded = location["locationOrLoadError"]
    assert loaded["__typename"] == "RepositoryLocation", loaded
    [repository] = loaded["repositories"]
    params = {
        "selector": {
            "repositoryLocationName": location["name"],
            "repositoryName": repository["name"],
            "jobName": "npl_pipeline",
        },
        "runConfigData": {},
    }
    launched = graphql(base, LAUNCH_MUTATION, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    deadline = time.monotonic() + RUN_SECONDS
    status = launched["run"]["status"]
    while status not in FINISHED and time.monotonic() < deadline:
        time.sleep(2)
        status = graphql(base, RUN_QUERY, {"runId": run_id})["runOrError"]["status"]
    if status != "SUCCESS":
        events = graphql(base, RUN_ERRORS_QUERY, {"runId": run_id})["logsForRun"]
        errors = [e["error"]["message"] for e in events.get("events", []) if e.get("error")]
        daemon_log = dagster_ui["logs"][1].read_text()[-3000:]
        pytest.fail(f"run {run_id} ended {status}: {errors}\n--- daemon log ---\n{daemon_log}")

    serving = dagster_ui["data"] / "npl_serving.duckdb"
    con = duckdb.connect(str(serving), read_only=True)
    try:
        (listings,) = con.execute("select sum(listings) from seller_quarterly_metrics").fetchone()
    finally:
        con.close()
    assert listings == expected_projects(dagster_ui["site"])
    assert (dagster_ui["data"] / "reports" / "market_quarterly.png").is_file()
