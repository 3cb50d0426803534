"""The real runners and the real engine fail on a broken render: a planted defect in a
workflow step, a GitLab job's script, a Dockerfile and the training image's command each
makes the check that runs it raise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from engines import build_image, docker, run_docker
from generated import run
from matrix import answers
from real_ci import run_pipeline, run_workflow, shallow_checkout

from mlops_ladder.render import copier_copy

pytestmark = pytest.mark.slow

COMBINATION = "py311-regression-sample-apache"
GIT = ["git", "-c", "user.name=tests", "-c", "user.email=tests@localhost"]


def _render(tmp_path: Path, level: int, **data: object) -> Path:
    return copier_copy(
        tmp_path / "project", answers(COMBINATION, level=level, initialize_git=True, **data)
    )


def _plant(project: Path, relative: str, old: str, new: str) -> None:
    """Replace ``old`` in a committed file and commit: runners see commits, not edits."""
    path = project / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{relative} no longer has {old!r}: plant the defect elsewhere"
    path.write_text(text.replace(old, new), encoding="utf-8")
    run(project, *GIT, "commit", "--quiet", "--all", "--message", "A planted defect")


def test_a_broken_workflow_step_fails_act(tmp_path: Path) -> None:
    docker()
    project = _render(tmp_path, 1, ci_provider="github")
    _plant(
        project, ".github/workflows/ci.yml", "uv run --no-sync pytest", "uv run --no-sync pytset"
    )
    checkout = shallow_checkout(project, tmp_path / "ci")
    with pytest.raises(AssertionError, match="failed") as failure:
        run_workflow(checkout, "ci.yml", "push", tmp_path / "ci", job="test")
    assert "Failure - Main Run the tests with coverage" in str(failure.value)


def test_a_broken_gitlab_script_fails_gitlab_ci_local(tmp_path: Path) -> None:
    docker()
    project = _render(tmp_path, 1, ci_provider="gitlab")
    _plant(project, ".gitlab-ci.yml", "uv run --no-sync pytest", "uv run --no-sync pytset")
    checkout = shallow_checkout(project, tmp_path / "ci")
    with pytest.raises(AssertionError, match="gitlab-ci-local failed") as failure:
        run_pipeline(checkout, ["test"], tmp_path / "ci")
    assert "pytset" in str(failure.value) and "'test': 'FAIL'" in str(failure.value)


def test_a_broken_dockerfile_fails_the_build(tmp_path: Path) -> None:
    project = _render(tmp_path, 1, ci_provider="none")
    (project / "models" / "model.joblib").write_bytes(b"")  # what the build copies last
    _plant(project, "Dockerfile", "COPY src/ src/", "COPY source/ src/")
    with pytest.raises(AssertionError, match=r"docker build.*failed") as failure:
        build_image(project, "Dockerfile", "mlops-ladder-test/planted-dockerfile")
    assert "source" in str(failure.value) and "not found" in str(failure.value)


def test_a_broken_training_command_fails_the_training_image(tmp_path: Path) -> None:
    project = _render(tmp_path, 2, ci_provider="none")
    _plant(project, "Dockerfile.train", 'CMD ["dvc", "repro"]', 'CMD ["dvc", "repro", "nothing"]')
    tag = "mlops-ladder-test/planted-train"
    build_image(project, "Dockerfile.train", tag)
    with pytest.raises(AssertionError, match=r"docker run.*failed") as failure:
        # As the Dockerfile's header says to run it: as the checkout's owner.
        owner = f"{os.getuid()}:{os.getgid()}"
        run_docker("run", "--rm", "--user", owner, "--volume", f"{project}:/app", tag)
    assert "nothing" in str(failure.value)
