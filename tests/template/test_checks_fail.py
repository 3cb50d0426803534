"""The generator's checks can fail: a broken render makes them raise."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from ci_steps import run_azure, run_ci
from generated import (
    assert_no_leftover_jinja,
    assert_same_tree,
    check_ci_config,
    check_docker_context,
    check_generated_project,
    check_pre_commit,
    image_commands,
    run,
)
from matrix import answers

from mlops_ladder.render import copier_copy


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copier_copy(tmp_path / "project", answers("py311-regression-sample-apache"))


def test_leftover_jinja_is_caught(project: Path) -> None:
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nHello {{ cookiecutter.project_name }}\n")
    with pytest.raises(AssertionError, match=r"README.md:\d+: Hello \{\{"):
        assert_no_leftover_jinja(project)


def test_github_expressions_and_dict_literals_are_not_jinja(project: Path) -> None:
    (project / "ci.yml").write_text("run: echo ${{ github.sha }}\nx = {'a': {'b': 1}}\n")
    assert_no_leftover_jinja(project)


def test_a_changed_file_breaks_parity(project: Path, tmp_path: Path) -> None:
    twin = copier_copy(tmp_path / "twin", answers("py311-regression-sample-apache"))
    # The answers file records the template commit, which Copier makes up afresh for a
    # template with uncommitted changes; the parity test leaves it out the same way.
    answers_file = (".copier-answers.yml",)
    assert_same_tree(project, twin, ignore=answers_file)
    (twin / "Makefile").write_text("changed\n")
    with pytest.raises(AssertionError, match="Makefile"):
        assert_same_tree(project, twin, ignore=answers_file)


@pytest.mark.slow
def test_a_failing_generated_test_fails_the_suite(project: Path) -> None:
    (project / "tests" / "test_planted.py").write_text("def test_planted():\n    assert 1 == 2\n")
    with pytest.raises(AssertionError, match="test_planted"):
        check_generated_project(project)


@pytest.mark.slow
def test_a_lint_error_fails_the_suite(project: Path) -> None:
    module = next((project / "src").glob("*/data.py"))
    module.write_text(module.read_text() + "\nimport os\n")
    with pytest.raises(AssertionError, match="ruff check"):
        check_generated_project(project)


@pytest.mark.slow
def test_a_type_error_fails_the_suite(project: Path) -> None:
    module = next((project / "src").glob("*/data.py"))
    module.write_text(module.read_text() + '\n\ndef planted() -> int:\n    return "one"\n')
    with pytest.raises(AssertionError, match="mypy"):
        check_generated_project(project)


# Level 1: the Azure emulation, the CI linters, the hooks and the service checks ----------
def _pipeline(root: Path, steps: str) -> Path:
    root.mkdir(parents=True)
    (root / "azure-pipelines.yml").write_text(
        "trigger: [main]\npool: {vmImage: ubuntu-24.04}\njobs:\n  - job: build\n    steps:\n"
        + steps
    )
    return root


def test_a_failing_ci_step_fails_the_run(tmp_path: Path) -> None:
    steps = (
        "      - checkout: self\n"
        "      - script: echo fine\n        displayName: Works\n"
        "      - script: exit 3\n        displayName: Breaks\n"
    )
    project = _pipeline(tmp_path / "p", steps)
    with pytest.raises(AssertionError, match="CI step 'build/Breaks' failed"):
        run_ci(project, tmp_path / "ci", tag="v0.1.0")


def test_an_unclassified_task_fails_the_run(tmp_path: Path) -> None:
    steps = "      - task: SomeoneElsesDeploy@1\n        displayName: Deploy\n"
    project = _pipeline(tmp_path / "p", steps)
    with pytest.raises(AssertionError, match="does not know"):
        run_ci(project, tmp_path / "ci", tag="v0.1.0")


def test_a_listed_step_the_config_lost_is_stale(tmp_path: Path) -> None:
    # NOT_RUN_HERE lists steps of a job named "build" that this one does not have.
    project = _pipeline(tmp_path / "p", "      - script: echo fine\n        displayName: Works\n")
    with pytest.raises(AssertionError, match="do not have"):
        run_ci(project, tmp_path / "ci", tag="v0.1.0")


# A pipeline run as Azure runs one (run_azure): what Azure would refuse or skip, it does.
_RUN = """\
parameters:
  - name: why
    type: string
    default: "-"
variables:
  WHY: ${{ parameters.why }}
stages:
  - stage: first
    jobs:
      - job: decide
        steps:
          - checkout: self
          - script: |
              git tag --list | grep -q . && exit 4
              [ "$(git rev-list --count HEAD)" = 1 ] || exit 5
              echo "secret:[$PASSWORD] mapped:[$MAPPED] why:[$WHY]" > seen
              echo "##vso[task.setvariable variable=go;isOutput=true]yes"
            name: out
            displayName: Decide
            env:
              MAPPED: $(PASSWORD)
  - stage: second
    condition: eq(dependencies.first.outputs['decide.out.go'], 'yes')
    jobs:
      - job: use
        variables:
          GO: $[ stageDependencies.first.decide.outputs['out.go'] ]
        steps:
          - checkout: self
            fetchDepth: "0"
            fetchTags: "true"
          - script: |
              [ "$(git tag --list)" = v1 ] || exit 6
              echo "go:[$GO]" > seen
          - script: exit 7
            condition: eq(variables['Build.Reason'], 'PullRequest')
  - stage: never
    dependsOn: []
    condition: ne(variables['WHY'], '-')
    jobs:
      - job: skipped
        steps:
          - script: exit 8
"""


def _origin(tmp_path: Path, pipeline: str) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "azure-pipelines.yml").write_text(pipeline)
    for message in ("one", "two"):
        (work / "file").write_text(message)
        run(work, "git", "init", "--quiet", "--initial-branch=main")
        run(work, "git", "add", "--all")
        run(work, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)
    run(work, "git", "tag", "v1")
    run(tmp_path, "git", "clone", "--quiet", "--bare", str(work), str(tmp_path / "origin.git"))
    return work / "azure-pipelines.yml"


def test_an_azure_run_follows_conditions_outputs_checkouts_and_secrets(tmp_path: Path) -> None:
    pipeline = _origin(tmp_path, _RUN)
    outcome = run_azure(
        pipeline, tmp_path / "origin.git", tmp_path / "ci", secrets={"PASSWORD": "hunter2"}
    )
    outcome.succeeded("first", "decide", "second", "use")
    outcome.skipped("never")
    # A secret reaches a script only through the step's env:; one commit and no tags
    # unless the checkout asks; the output crossed two stages.
    seen = (outcome.trees["decide"] / "seen").read_text()
    assert seen == "secret:[] mapped:[hunter2] why:[-]\n", seen
    assert (outcome.trees["use"] / "seen").read_text() == "go:[yes]\n"


def test_an_azure_run_fails_naming_the_step_and_reads_its_parameters(tmp_path: Path) -> None:
    pipeline = _origin(tmp_path, _RUN)
    with pytest.raises(AssertionError, match="Azure step 'skipped/exit 8' failed"):
        run_azure(pipeline, tmp_path / "origin.git", tmp_path / "ci", parameters={"why": "x"})


@pytest.fixture
def level1(tmp_path: Path) -> Callable[[str], Path]:
    def render(provider: str) -> Path:
        data = answers("py311-regression-sample-apache", level=1, ci_provider=provider)
        return copier_copy(tmp_path / provider, data)

    return render


def test_a_workflow_lint_error_fails_the_suite(level1: Callable[[str], Path]) -> None:
    project = level1("github")
    check_ci_config(project)
    workflow = project / ".github" / "workflows" / "ci.yml"
    injected = "      - name: Greet\n        run: echo ${{ github.event.pull_request.title }}\n"
    workflow.write_text(workflow.read_text() + injected)
    with pytest.raises(AssertionError, match=r"zizmor|actionlint"):
        check_ci_config(project)


@pytest.mark.parametrize("provider", ["gitlab", "azure"])
def test_a_schema_error_fails_the_suite(level1: Callable[[str], Path], provider: str) -> None:
    project = level1(provider)
    check_ci_config(project)
    config = project / {"gitlab": ".gitlab-ci.yml", "azure": "azure-pipelines.yml"}[provider]
    config.write_text(config.read_text() + "\nunknown_top_level_key: {script: 42, stage: [1]}\n")
    with pytest.raises(AssertionError, match="check-jsonschema"):
        check_ci_config(project)


@pytest.mark.parametrize(
    ("provider", "config", "broken"),
    [
        # An ecosystem Dependabot does not have: the config is refused before any update.
        (
            "github",
            ".github/dependabot.yml",
            ("package-ecosystem: uv", "package-ecosystem: poetry"),
        ),
        # A custom manager of a kind Renovate does not have.
        ("gitlab", "renovate.json", ('"customType": "regex"', '"customType": "grep"')),
    ],
)
def test_a_dependency_bot_config_error_fails_the_suite(
    level1: Callable[[str], Path], provider: str, config: str, broken: tuple[str, str]
) -> None:
    project = level1(provider)
    check_ci_config(project)
    path = project / config
    text = path.read_text()
    assert broken[0] in text
    path.write_text(text.replace(broken[0], broken[1], 1))
    with pytest.raises(AssertionError, match="check-jsonschema"):
        check_ci_config(project)


def test_a_dockerfile_lint_error_fails_the_suite(level1: Callable[[str], Path]) -> None:
    project = level1("none")
    dockerfile = project / "Dockerfile"
    text = re.sub(
        r"^FROM python:\S+ AS build",
        "FROM python:latest AS build",
        dockerfile.read_text(),
        flags=re.M,
    )
    assert "python:latest" in text
    dockerfile.write_text(text)
    with pytest.raises(AssertionError, match="hadolint"):
        check_ci_config(project)


def test_an_image_missing_its_model_fails_the_suite(level1: Callable[[str], Path]) -> None:
    project = level1("none")
    (project / "uv.lock").write_text("")  # written by `uv lock` in a real project
    (project / "models" / "model.joblib").write_bytes(b"model")
    check_docker_context(project)
    ignore = project / ".dockerignore"
    ignore.write_text(ignore.read_text().replace("!models/model.joblib\n", ""))
    with pytest.raises(AssertionError, match=r"models/model.joblib, which .dockerignore"):
        check_docker_context(project)
    (project / "models" / "model.joblib").unlink()
    with pytest.raises(AssertionError, match="which is missing"):
        check_docker_context(project)


def test_an_image_command_without_a_port_fails_the_suite(level1: Callable[[str], Path]) -> None:
    project = level1("none")
    dockerfile = project / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace(', "--port", "8000"', ""))
    with pytest.raises(AssertionError, match="sets no --port"):
        image_commands(project, 8123)


@pytest.mark.slow
def test_a_rejected_hunk_file_fails_pre_commit(level1: Callable[[str], Path]) -> None:
    project = level1("none")
    (project / "Makefile.rej").write_text("@@ -1 +1 @@\n-old\n+new\n")
    with pytest.raises(AssertionError, match=r"no \.rej files"):
        check_pre_commit(project)


@pytest.mark.slow
def test_a_failing_test_fails_the_ci_run(tmp_path: Path) -> None:
    data = answers("py311-regression-sample-apache", level=1, initialize_git=True)
    project = copier_copy(tmp_path / "project", {**data, "ci_provider": "azure"})
    (project / "tests" / "test_planted.py").write_text("def test_planted():\n    assert 1 == 2\n")
    with pytest.raises(AssertionError, match="'test/Run the tests with coverage' failed"):
        run_ci(project, tmp_path / "ci", only={"test"})


def test_a_tag_that_is_not_the_version_fails_the_release(level1: Callable[[str], Path]) -> None:
    project = level1("azure")
    with pytest.raises(AssertionError, match="does not match the version"):
        run_ci(project, project.parent / "ci", tag="v9.9.9", only={"publish"})
