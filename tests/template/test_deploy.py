"""Level-3 deployment manifests: every deploy_target's files build and validate offline,
agree with the scoring image, and a broken manifest is caught."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from deployment import build_overlay, check_deployment, validate_resources
from matrix import COMBINATIONS, answers

from mlops_ladder.render import copier_copy

LEVEL = 3


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_manifests_build_validate_and_match_the_image(name: str, tmp_path: Path) -> None:
    data = answers(name, LEVEL)
    project = copier_copy(tmp_path / "project", data)
    check_deployment(project, data, tmp_path)


@pytest.mark.parametrize("target", ["kubernetes", "azureml"])
def test_every_target_renders_for_a_long_project_name(target: str, tmp_path: Path) -> None:
    name = "py313-regression-csv-proprietary-long-name"
    data = answers(name, LEVEL, deploy_target=target, ci_provider="github")
    project = copier_copy(tmp_path / "project", data)
    check_deployment(project, data, tmp_path)


def test_an_invalid_manifest_is_caught(tmp_path: Path) -> None:
    data = answers("py310-classification-sample-mit", LEVEL)
    project = copier_copy(tmp_path / "project", data)
    base = project / "deploy" / "kubernetes" / "base" / "deployment.yaml"
    document = yaml.safe_load(base.read_text(encoding="utf-8"))
    container = document["spec"]["template"]["spec"]["containers"][0]
    container["ports"][0]["containerPort"] = "eight thousand"
    base.write_text(yaml.safe_dump(document), encoding="utf-8")
    resources = build_overlay(project, "staging")
    with pytest.raises(AssertionError, match="containerPort"):
        validate_resources(project, resources, tmp_path / "staging.yaml")


def test_a_wrong_azureml_spec_is_refused(tmp_path: Path) -> None:
    from azure.ai.ml import load_online_deployment

    data = answers("py311-regression-sample-apache", LEVEL)
    project = copier_copy(tmp_path / "project", data)
    spec = project / "deploy" / "azureml" / "deployment.yml"
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    document["instance_count"] = "two"
    spec.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(Exception, match="instance_count"):
        load_online_deployment(spec)
