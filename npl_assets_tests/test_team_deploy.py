"""The Kubernetes deployment files (deploy/), checked offline: there is no cluster, helm or docker
here. The run Job is built by dagster-k8s's own job construction (what the K8sRunLauncher sends
to the cluster) from the Helm values, and it and the example secrets are validated against the
Kubernetes API schema with kubernetes-validate."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from npl_assets import settings

DEPLOY = settings.PROJECT_ROOT / "deploy"
K8S_VERSION = "1.30.0"


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())


def _validate(manifest: dict) -> None:
    import kubernetes_validate

    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


def run_job_manifest(values: dict) -> dict:
    """The run Job the K8sRunLauncher would create for a run of npl_pipeline."""
    import kubernetes
    from dagster_k8s.job import (
        DagsterK8sJobConfig,
        UserDefinedDagsterK8sConfig,
        construct_dagster_k8s_job,
        get_job_name_from_run_id,
    )

    deployment = values["dagster-user-deployments"]["deployments"][0]
    image = f"{deployment['image']['repository']}:{deployment['image']['tag']}"
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    run_config = launcher["runK8sConfig"]
    job_config = DagsterK8sJobConfig(
        job_image=image,
        dagster_home="/opt/dagster/dagster_home",
        image_pull_policy=launcher["imagePullPolicy"],
        instance_config_map="npl-dagster-instance",
        postgres_password_secret=values["global"]["postgresqlSecretName"],
        env_secrets=[s["name"] for s in launcher["envSecrets"]],
    )
    user_config = UserDefinedDagsterK8sConfig(
        container_config=run_config["containerConfig"],
        job_spec_config=run_config["jobSpecConfig"],
    )
    run_id = "0f6c7a3e-2d1b-4c5e-9a8f-1b2c3d4e5f60"
    name = get_job_name_from_run_id(run_id)
    job = construct_dagster_k8s_job(
        job_config=job_config,
        args=["dagster", "api", "execute_run", '{"__class__": "ExecuteRunArgs"}'],
        job_name=name,
        pod_name=name,
        component="run_worker",
        user_defined_k8s_config=user_config,
        labels={"dagster/job": "npl_pipeline", "dagster/run-id": run_id},
    )
    return kubernetes.client.ApiClient().sanitize_for_serialization(job)


def test_run_job_is_valid_and_carries_the_team_settings(values: dict) -> None:
    manifest = run_job_manifest(values)
    _validate(manifest)
    assert manifest["kind"] == "Job"
    spec = manifest["spec"]
    assert spec["backoffLimit"] == 0
    container = spec["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.internal/npl-assets:0.1.0"
    secrets = {e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e}
    assert "npl-team-settings" in secrets
    env = {e["name"]: e for e in container["env"]}
    assert env["DAGSTER_PG_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == (
        "npl-dagster-postgresql"
    )
    assert container["resources"]["limits"]["memory"] == "4Gi"


def test_a_broken_run_job_is_rejected(values: dict) -> None:
    """The validator is strict: a field Kubernetes does not know fails it."""
    import kubernetes_validate

    manifest = run_job_manifest(values)
    manifest["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(manifest)


def test_example_secrets_are_valid_and_name_every_team_setting(values: dict) -> None:
    from npl_assets.team.services import LocalPostgres, LocalS3, LocalTeamServices

    documents = list(yaml.safe_load_all((DEPLOY / "k8s" / "secrets.example.yaml").read_text()))
    for document in documents:
        _validate(document)
    by_name = {d["metadata"]["name"]: d["stringData"] for d in documents}
    assert set(by_name) == {
        values["global"]["postgresqlSecretName"],
        *(s["name"] for s in values["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"]),
    }
    # Every setting the local stand-ins give the team profile has its production counterpart
    # (the Dagster instance's URL is the chart's business, the local pids are local only).
    local = LocalTeamServices(LocalPostgres(Path("/nonexistent"), 5432, "x"), LocalS3(0, 9000))
    local_only = {"NPL_LOCAL_PG_DATA", "NPL_LOCAL_S3_PID", "NPL_PG_DAGSTER_DB"}
    needed = set(local.env()) - local_only
    missing = needed - set(by_name["npl-team-settings"])
    assert not missing, missing


def test_dockerfile_serves_the_definitions_in_the_team_profile() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert "NPL_PROFILE=team" in text
    assert "npl team extensions" in text  # extensions from wheels at build, never at run time
    assert '"-m", "npl_assets.definitions"' in text
    for path in ("pyproject.toml", "npl_assets", "dbt_project"):
        assert (settings.PROJECT_ROOT / path).exists(), path


def test_values_use_the_k8s_run_launcher_and_external_postgres(values: dict) -> None:
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert values["concurrency"]["runs"]["maxConcurrentRuns"] == 1
    assert Path(DEPLOY / "helm" / "values.yaml").read_text().count("CHANGE-ME") == 0
