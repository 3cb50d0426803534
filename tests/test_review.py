"""`mlops-ladder assess` on hand-written repos not made from the template, and on bad input.

The fixture repos in tests/fixtures/assess/ have the shapes the issue names: a notebooks-only
repo, an application with CI but no training pipeline, and a DVC project without CI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_ladder.cli import app
from mlops_ladder.review.assess import assess

FIXTURES = Path(__file__).parent / "fixtures" / "assess"
runner = CliRunner()


def _todo(path: Path) -> dict[str, str]:
    return {r.name: r.err_msg for r in assess(path).todo()}


def _copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / name, tmp_path / name))


def test_notebooks_only_repo_is_level_0_and_told_to_write_modules_and_tests() -> None:
    assessment = assess(FIXTURES / "notebooks-only")
    assert assessment.level == 0
    todo = _todo(FIXTURES / "notebooks-only")
    assert set(todo) == {"ML002", "ML101", "ML102", "ML103", "ML104"}
    assert "notebooks/01-explore.ipynb" in todo["ML002"]


def test_app_with_ci_is_level_1_and_told_what_automated_training_needs() -> None:
    assert assess(FIXTURES / "app-with-ci").level == 1
    todo = _todo(FIXTURES / "app-with-ci")
    assert set(todo) == {"ML201", "ML202", "ML203", "ML204", "ML205", "ML206", "ML207"}
    assert "dvc.yaml" in todo["ML201"]
    assert "dvc init" in todo["ML202"]


def test_dvc_repo_without_ci_is_level_1_and_told_to_run_the_pipeline_in_ci() -> None:
    # Its pre-push hook runs the tests on every change: level 1 without a CI service.
    assert assess(FIXTURES / "dvc-without-ci").level == 1
    todo = _todo(FIXTURES / "dvc-without-ci")
    assert set(todo) == {"ML205", "ML206", "ML207"}
    assert "dvc repro" in todo["ML206"]


def test_each_practice_is_recognised_in_more_than_one_form(tmp_path: Path) -> None:
    repo = _copy("dvc-without-ci", tmp_path)
    (repo / "src" / "churn" / "validate.py").write_text("import pandera\n", encoding="utf-8")
    dvc_yaml = (repo / "dvc.yaml").read_text(encoding="utf-8")
    (repo / "dvc.yaml").write_text(dvc_yaml + "artifacts:\n  churn:\n    path: model.joblib\n")
    (repo / ".gitlab-ci.yml").write_text(
        "train:\n  script:\n    - pip install -r requirements.txt\n    - dvc repro\n",
        encoding="utf-8",
    )
    assert assess(repo).level == 2


def test_removing_the_remote_names_dvc_config(tmp_path: Path) -> None:
    repo = _copy("dvc-without-ci", tmp_path)
    (repo / ".dvc" / "config").write_text("[core]\n    autostage = true\n", encoding="utf-8")
    assert "dvc remote add" in _todo(repo)["ML202"]


@pytest.mark.parametrize("output", ["table", "json", "markdown"])
def test_every_format_names_the_level_and_the_todo(output: str) -> None:
    result = runner.invoke(app, ["assess", str(FIXTURES / "app-with-ci"), "--format", output])
    assert result.exit_code == 0, result.output
    if output == "json":
        report = json.loads(result.stdout)
        assert report["level"] == 1
        assert {item["id"] for item in report["todo"]} >= {"ML201", "ML206"}
        assert {c["status"] for c in report["checks"]} == {"pass", "fail"}
    else:
        assert "level 1" in result.stdout
        assert "To reach level 2" in result.stdout
        assert "ML206" in result.stdout


def test_min_level_is_a_gate() -> None:
    path = str(FIXTURES / "app-with-ci")
    assert runner.invoke(app, ["assess", path, "--min-level", "1"]).exit_code == 0
    below = runner.invoke(app, ["assess", path, "--min-level", "2"])
    assert below.exit_code == 1
    assert "at level 1, below the required 2" in below.stderr


@pytest.mark.parametrize("level", ["-1", "5"])
def test_min_level_outside_the_levels_is_refused(level: str) -> None:
    result = runner.invoke(app, ["assess", str(FIXTURES / "app-with-ci"), "--min-level", level])
    assert result.exit_code == 2
    assert "--min-level" in result.stderr


def test_a_missing_path_and_a_file_are_refused_by_name(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["assess", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
    assert "nowhere does not exist" in missing.stderr
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x", encoding="utf-8")
    refused = runner.invoke(app, ["assess", str(a_file)])
    assert refused.exit_code == 2
    assert "notes.txt is a file" in refused.stderr


def test_malformed_yaml_fails_the_check_that_needed_it_naming_the_file(tmp_path: Path) -> None:
    repo = _copy("app-with-ci", tmp_path)
    (repo / ".github" / "workflows" / "test.yml").write_text(
        "jobs:\n  test:\n    steps: [unclosed\n", encoding="utf-8"
    )
    message = _todo(repo)["ML103"]
    assert "`.github/workflows/test.yml`: is not valid YAML (line 4)" in message


def test_malformed_dvc_yaml_and_unreadable_files_are_named(tmp_path: Path) -> None:
    repo = _copy("dvc-without-ci", tmp_path)
    (repo / "dvc.yaml").write_text("stages: {train: [\n", encoding="utf-8")
    (repo / ".gitlab-ci.yml").write_bytes(b"test:\n  script: [\xff\xfe pytest]\n")
    result = runner.invoke(app, ["assess", str(repo), "--format", "json"])
    assert result.exit_code == 0, result.output
    messages = {item["id"]: item["message"] for item in json.loads(result.stdout)["checks"]}
    assert "`dvc.yaml`: is not valid YAML" in messages["ML201"]
    assert "`.gitlab-ci.yml`: cannot be read (UnicodeDecodeError" in messages["ML206"]


def test_malformed_pyproject_is_a_clear_error(tmp_path: Path) -> None:
    repo = _copy("app-with-ci", tmp_path)
    (repo / "pyproject.toml").write_text("[tool.poetry\nname = 1\n", encoding="utf-8")
    result = runner.invoke(app, ["assess", str(repo)])
    assert result.exit_code == 2
    assert "pyproject.toml is not valid TOML" in result.stderr
    assert "Traceback" not in result.output


def test_repo_review_lists_the_family() -> None:
    # The framework's own CLI finds the plugin through its entry points.
    repo_review = Path(sys.executable).with_name("repo-review")
    result = subprocess.run(
        [str(repo_review), str(FIXTURES / "app-with-ci"), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    assert {"ML0", "ML1", "ML2", "ML3", "ML4"} <= set(report["families"])
    results = report["checks"]
    assert results["ML103"]["result"] is True
    assert results["ML201"]["result"] is False


def _full_mlops(tmp_path: Path) -> Path:
    """The DVC project grown to level 4 by hand: GitLab CI that tests, trains on a schedule,
    builds and deploys through environments; a gate, a model card, prediction logs, drift."""
    repo = _copy("dvc-without-ci", tmp_path)
    source = repo / "src" / "churn"
    (source / "validate.py").write_text("import pandera\n", encoding="utf-8")
    (source / "serve.py").write_text(
        "def log_prediction(row: dict, output: float) -> None: ...\n", encoding="utf-8"
    )
    (repo / "requirements.txt").write_text(
        (repo / "requirements.txt").read_text(encoding="utf-8") + "evidently==0.6.0 \\\n"
        "    --hash=sha256:1111111111111111111111111111111111111111111111111111111111111111\n",
        encoding="utf-8",
    )
    (repo / "dvc.yaml").write_text(
        (repo / "dvc.yaml").read_text(encoding="utf-8")
        + "  gate:\n    cmd: python -m churn.gate\n    outs: [gate.json, model_card.md]\n"
        + "artifacts:\n  churn:\n    path: model.joblib\n    type: model\n",
        encoding="utf-8",
    )
    (repo / "Dockerfile").write_text("FROM python:3.12-slim\n", encoding="utf-8")
    (repo / ".gitlab-ci.yml").write_text(
        """stages: [test, train, deploy]
test:
  stage: test
  script: [pytest]
retrain:
  stage: train
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
  script: [dvc repro, dvc push]
image:
  stage: deploy
  script: [docker build -t churn .]
production:
  stage: deploy
  environment: production
  when: manual
  script: [./deploy.sh]
""",
        encoding="utf-8",
    )
    return repo


def test_a_repo_with_every_practice_reaches_level_4(tmp_path: Path) -> None:
    repo = _full_mlops(tmp_path)
    assessment = assess(repo)
    assert assessment.level == 4, [(r.name, r.err_msg) for r in assessment.todo()]
    assert assessment.todo() == []


def test_without_its_schedule_retraining_is_not_automatic(tmp_path: Path) -> None:
    repo = _full_mlops(tmp_path)
    ci = repo / ".gitlab-ci.yml"
    ci.write_text(ci.read_text(encoding="utf-8").replace("schedule", "push"), encoding="utf-8")
    assert assess(repo).level == 3
    assert set(_todo(repo)) == {"ML403"}


def test_without_an_environment_releases_are_not_continuous_delivery(tmp_path: Path) -> None:
    repo = _full_mlops(tmp_path)
    ci = repo / ".gitlab-ci.yml"
    ci.write_text(ci.read_text(encoding="utf-8").replace("  environment: production\n", ""))
    assert assess(repo).level == 2
    assert set(_todo(repo)) == {"ML303"}
