"""The deploy/ examples, checked for structure (no Docker daemon or cluster here): the files
parse, the services and launchers are there, and names agree across files."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from outcome_pipeline.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DOCKER = DEPLOY / "docker"


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _env_file() -> dict[str, str]:
    lines = (DOCKER / "outcome.env").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {k: v for k, v in pairs}


def test_compose_has_the_four_services_on_one_network_and_the_landing_volume() -> None:
    compose = _load(DOCKER / "compose.yaml")
    services = compose["services"]
    assert set(services) == {"postgres", "user_code", "webserver", "daemon"}
    for name in ("user_code", "webserver", "daemon"):
        assert services[name]["env_file"] == "outcome.env", name
        assert services[name]["networks"] == ["outcome_pipeline"], name
    for name, spec in services.items():
        for mount in spec.get("volumes", []):
            source = mount.split(":")[0]
            assert source.startswith(("/", "./")) or source in compose["volumes"], (name, mount)
        build = spec.get("build")
        if build:
            assert (DOCKER / build["context"] / build["dockerfile"]).resolve().is_file(), name
    # The runs use the code server's image, named where the launcher looks for it.
    user_code = services["user_code"]
    assert user_code["environment"]["DAGSTER_CURRENT_IMAGE"] == user_code["image"]
    assert services["daemon"]["image"] == services["webserver"]["image"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in services["daemon"]["volumes"]
    assert "outcome_landing:/data/landing" in user_code["volumes"]
    assert compose["volumes"]["outcome_landing"]["name"] == "outcome_landing"
    grpc = " ".join(_cmd(DOCKER / "Dockerfile_user_code"))
    assert "dagster api grpc" in grpc and "-m outcome_pipeline.definitions -a defs" in grpc
    port = grpc.split(" -p ")[1].split()[0]
    (location,) = _load(DOCKER / "workspace.yaml")["load_from"]
    assert location["grpc_server"] == {
        "host": "user_code",
        "port": int(port),
        "location_name": "outcome_pipeline",
    }


def _cmd(dockerfile: Path) -> list[str]:
    text = dockerfile.read_text().replace("\\\n", " ")
    (cmd,) = re.findall(r"^CMD (\[.*\])", text, re.M)
    return yaml.safe_load(cmd)


def test_docker_instance_is_the_production_instance_with_the_docker_launcher() -> None:
    prod, docker = _load(DEPLOY / "dagster.yaml"), _load(DOCKER / "dagster.yaml")
    assert {k: v for k, v in docker.items() if k != "run_launcher"} == prod
    launcher = docker["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    config = launcher["config"]
    compose = _load(DOCKER / "compose.yaml")
    assert config["network"] == compose["networks"]["outcome_pipeline"]["name"]
    env = _env_file()
    # Every variable a run needs is passed by name, and the daemon (which launches) has it.
    assert set(config["env_vars"]) == set(env)
    volumes = dict(v.split(":")[:2] for v in config["container_kwargs"]["volumes"])
    assert volumes["outcome_landing"] == env["OUTCOME_LANDING_DIR"]
    assert volumes["outcome_data_docs"] == env["OUTCOME_DATA_DOCS_DIR"]
    # The example environment is valid for the pipeline's settings.
    Settings.from_env(env)


def test_helm_values_use_the_k8s_launcher_the_queue_limits_and_secrets() -> None:
    values = _load(DEPLOY / "k8s" / "values.yaml")
    prod = _load(DEPLOY / "dagster.yaml")
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "outcome_pipeline.definitions", "-a", "defs"]
    # Runs get the warehouse from a secret and the landing store from the shared claim.
    for spec in (k8s, deployment):
        assert spec["envSecrets"] == [{"name": "outcome-pipeline-secrets"}]
        (volume,) = spec["volumes"]
        assert volume["persistentVolumeClaim"]["claimName"] == "outcome-landing"
        assert spec["volumeMounts"] == [{"name": volume["name"], "mountPath": "/data/landing"}]
    queue = values["dagsterDaemon"]["runCoordinator"]
    assert queue["type"] == "QueuedRunCoordinator" and queue["enabled"]
    limits = queue["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"]
    assert limits == prod["concurrency"]["runs"]["tag_concurrency_limits"]
    assert (
        values["postgresql"]["postgresqlScheme"]
        == (prod["storage"]["postgres"]["postgres_db"]["scheme"])
    )
