"""The deployment manifests of level-3 renders, checked offline.

Kubernetes: each kustomize overlay builds (`kubectl kustomize`) and every resource passes
`kubernetes-validate --strict` with its bundled schemas. Azure ML: the online endpoint and
deployment load with azure-ai-ml, which validates them as `az ml` does before it calls
Azure. Both must agree with the image: the port it exposes, the command it runs, the
routes its service answers.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from generated import dockerfile_instructions, run

from mlops_ladder.render import answer_rules

# The Kubernetes version the manifests are validated against (kubernetes-validate's bundled
# schemas): the oldest still supported upstream when this was written.
KUBERNETES_VERSION = "1.32.0"
OVERLAYS = ("staging", "production")
HEALTH, PREDICT = "/health", "/predict"


def _image_port(project: Path) -> int:
    instructions = dict(dockerfile_instructions(project / "Dockerfile"))
    return int(instructions["EXPOSE"])


def build_overlay(project: Path, overlay: str) -> list[dict[str, Any]]:
    """The resources ``kubectl kustomize`` renders for one overlay."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the kustomize overlays cannot be built")
    folder = project / "deploy" / "kubernetes" / "overlays" / overlay
    built = run(project, kubectl, "kustomize", str(folder)).stdout
    return [document for document in yaml.safe_load_all(built) if document]


def validate_resources(project: Path, resources: list[dict[str, Any]], where: Path) -> None:
    """kubernetes-validate --strict: unknown fields and wrong types are errors."""
    where.write_text(yaml.safe_dump_all(resources), encoding="utf-8")
    validator = str(Path(sys.executable).parent / "kubernetes-validate")
    run(project, validator, "--strict", "--quiet", "-k", KUBERNETES_VERSION, str(where))


def check_kubernetes(project: Path, image: str, scratch: Path) -> dict[str, list[dict]]:
    """Every overlay builds and validates, and its Deployment runs the image as built."""
    port = _image_port(project)
    built = {}
    for overlay in OVERLAYS:
        resources = build_overlay(project, overlay)
        validate_resources(project, resources, scratch / f"{overlay}.yaml")
        kinds = {resource["kind"]: resource for resource in resources}
        assert set(kinds) == {
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
        }, sorted(kinds)
        assert {resource["metadata"]["namespace"] for resource in resources} == {overlay}
        (container,) = kinds["Deployment"]["spec"]["template"]["spec"]["containers"]
        assert container["image"].rpartition(":")[0] == image, container["image"]
        # The image's own command runs: no override that could drift from the Dockerfile.
        assert "command" not in container and "args" not in container
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"] == {"path": HEALTH, "port": "http"}, probe
        assert kinds["Service"]["spec"]["ports"][0]["targetPort"] == "http"
        # The autoscaler owns the replica count.
        assert "replicas" not in kinds["Deployment"]["spec"]
        built[overlay] = resources
    return built


def check_azureml(project: Path, image: str) -> None:
    """The endpoint and deployment load, and the deployment serves the image's routes."""
    from azure.ai.ml import load_online_deployment, load_online_endpoint

    folder = project / "deploy" / "azureml"
    endpoint = load_online_endpoint(folder / "endpoint.yml")
    deployment = load_online_deployment(folder / "deployment.yml")
    assert deployment.endpoint_name == endpoint.name
    assert 3 <= len(endpoint.name) <= 32, endpoint.name
    environment = deployment.environment
    assert environment.image.rpartition(":")[0] == image, environment.image
    port = _image_port(project)
    routes = environment.inference_config.as_dict()
    assert routes == {
        "livenessRoute": {"port": port, "path": HEALTH},
        "readinessRoute": {"port": port, "path": HEALTH},
        "scoringRoute": {"port": port, "path": PREDICT},
    }, routes


def check_deployment(project: Path, data: dict[str, Any], scratch: Path) -> None:
    """The manifests of the render's deploy_target, with the image the answers name."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    target = answers["deploy_target"]
    assert target == data.get("deploy_target", target)
    # Not asked without a CI provider (no release pushes it): the default then.
    image = answers.get("container_image") or answer_rules().default_image(
        answers["ci_provider"], answers["author_name"], answers["project_slug"]
    )
    if target == "kubernetes":
        check_kubernetes(project, image, scratch)
    elif target == "azureml":
        check_azureml(project, image)
    else:
        assert not (project / "deploy").exists()
