"""Level 3 renders: in a fresh clone the release gate passes the registered champion's
equal and stops a deliberately worse model naming the slices it fails; the pipeline writes
a model card; the staging tests pass against the service started as its image starts it;
the manifests and workflows pass their checkers; Azure's gate job runs on the emulation.
The delivery and rollback pipelines run on real runners in test_scenario.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ci_steps import run_ci
from deployment import check_deployment
from generated import (
    check_ci_config,
    check_generated_project,
    python_available,
    run,
    serving_as_image,
    uv,
    uv_env,
    write_training_csv,
)
from matrix import COMBINATIONS, OWN_SUITE, answers

from mlops_ladder.render import answer_rules, copier_copy

pytestmark = pytest.mark.slow

LEVEL = 3
# A one-tree forest of depth 1: much worse than the default model, on every island.
WORSE = ["-S", "model=random_forest", "-S", "model.n_estimators=1", "-S", "model.max_depth=1"]


def _dvc(project: Path, *arguments: str) -> str:
    return run(project, uv(), "run", "--no-sync", "dvc", *arguments).stdout


def _gate(project: Path) -> dict:
    return json.loads((project / "reports" / "gate.json").read_text())


# Both tasks with both trackers (the champion comes from GTO's tags under either), and both
# datasets: the sample is sliced by island, a CSV (no group column) is judged overall.
@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_gate_in_a_fresh_clone_passes_the_champion_and_stops_a_worse_model(
    name: str, tmp_path: Path
) -> None:
    data = answers(name, level=LEVEL, initialize_git=True)
    if not python_available(data["python_version"]):
        pytest.skip(f"Python {data['python_version']} is not installed or not enabled")
    project = copier_copy(tmp_path / "project", data)
    check_generated_project(project, own_suite=name in OWN_SUITE[LEVEL])
    check_ci_config(project)
    check_deployment(project, data, tmp_path)
    if data.get("dataset") == "csv":
        write_training_csv(project, data)
        _dvc(project, "add", data["csv_path"])
        run(project, "git", "add", "--all")
        run(project, "git", "commit", "--quiet", "-m", "Track the raw table")

    # The first model: no champion yet, so the gate only asks for the minimum score.
    _dvc(project, "exp", "run")
    first = _gate(project)
    assert first["passed"] and first["champion"] is None, first
    card = (project / "reports" / "model_card.md").read_text()
    assert f"model `{first['candidate']['version']}`" in card
    run(project, "git", "add", "--all")
    run(project, "git", "commit", "--quiet", "-m", "First model")
    _dvc(project, "push")
    rules = answer_rules()
    artifact = rules.artifact_name(rules.dist_name(data.get("project_name", "Penguin Model")))
    gto = [uv(), "run", "--no-sync", "gto"]
    run(project, *gto, "register", artifact, "--version", "v1.0.0")
    run(project, *gto, "assign", artifact, "--version", "v1.0.0", "--stage", "prod")
    _test_as_deployed(project)
    if data["ci_provider"] == "azure":
        # Azure Pipelines has no local agent: its gate job on the emulation (the GitHub
        # and GitLab pipelines run on real runners below).
        # (Checkouts beside the project reach the same DVC remote.)
        outcome = run_ci(project, tmp_path, only={"build"})
        assert "build/Reproduce what is missing and pass the gate" in outcome.ran, outcome
        assert "build/Name the image after the model version" in outcome.ran, outcome

    # A fresh clone reproduces and judges against the champion it reads from the tags.
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "--quiet", str(project), str(clone))
    run(clone, uv(), "sync", "--locked", "--quiet")
    _dvc(clone, "pull")
    _dvc(clone, "repro")
    again = _gate(clone)
    assert again["passed"], again
    assert again["champion"]["registry_version"] == "v1.0.0"
    assert again["champion"]["version"] == first["candidate"]["version"]

    failed = subprocess.run(
        [uv(), "run", "--no-sync", "dvc", "exp", "run", *WORSE],
        cwd=clone,
        env=uv_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output
    assert "Gate FAILED" in output, output
    verdict = _gate(clone)
    assert not verdict["passed"]
    failing = [failure["scope"] for failure in verdict["failures"]]
    if data.get("dataset") == "csv":
        assert set(failing) == {"overall"}, verdict["failures"]
    else:
        assert any(scope.startswith("island=") for scope in failing), verdict["failures"]
    for scope in failing:
        assert f"Failed: {scope}:" in output, output


def _test_as_deployed(project: Path) -> None:
    """The release's staging tests (tests/test_deployed.py) against the service started
    with the Dockerfile's command and variables, as staging would run it."""
    with serving_as_image(project) as url:
        tests = run(
            project,
            "env",
            f"SERVICE_URL={url}",
            uv(),
            "run",
            "--no-sync",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-rs",
            "tests/test_deployed.py",
        ).stdout
    assert "4 passed" in tests and "skipped" not in tests, tests
