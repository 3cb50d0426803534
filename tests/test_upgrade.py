"""`mlops-ladder climb`, `update` and `check-update` on projects rendered from a snapshot of
this checkout (Copier updates from a commit, so the working tree is committed first)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from ci_steps import run_ci
from engines import report
from generated import project_files, run, template_snapshot, uv
from levels import expected_files
from real_ci import gh_calls, gh_tokens, run_workflow, shallow_checkout
from typer.testing import CliRunner

from mlops_ladder.cli import app
from mlops_ladder.render import answer_rules, copier_copy

runner = CliRunner()
GIT = ["git", "-c", "user.name=tests", "-c", "user.email=tests@localhost"]
# A level this version does not build yet, if there is one.
UNBUILT = answer_rules().HIGHEST_BUILT_LEVEL + 1
LEVEL_LINE = "This repository is at **MLOps maturity level 0**"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return template_snapshot(tmp_path_factory.mktemp("template") / "template")


def _render(template: Path | str, where: Path, level: int = 0, **data: object) -> Path:
    answers = {"maturity_level": level, "initialize_git": True, **data}
    return copier_copy(where / "project", answers, template=template, vcs_ref=None)


def _state(project: Path) -> tuple[str, str]:
    """The commit and the working tree's status: equal before and after means untouched."""
    head = run(project, "git", "rev-parse", "HEAD").stdout
    status = run(project, "git", "status", "--porcelain", "--untracked-files=all").stdout
    return head, status


def _answers(project: Path) -> dict[str, object]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def level0(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _render(template, tmp_path_factory.mktemp("level0"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "0"], "climb only goes up"),
        (["--to", "5"], "There is no level 5"),
        *(
            [(["--to", str(UNBUILT)], f"Level {UNBUILT} is not built in this version")]
            if UNBUILT <= 4
            else []
        ),
    ],
)
def test_climb_refuses_a_level_it_cannot_reach(level0: Path, args: list[str], message: str):
    before = _state(level0)
    result = runner.invoke(app, ["climb", str(level0), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert _state(level0) == before


def test_climb_refuses_a_dirty_tree_and_changes_nothing(level0: Path) -> None:
    readme = level0 / "README.md"
    original = readme.read_text(encoding="utf-8")
    readme.write_text(original + "\nwork in progress\n", encoding="utf-8")
    try:
        result = runner.invoke(app, ["climb", str(level0)])
        assert result.exit_code == 2
        assert "uncommitted changes (README.md)" in result.stderr
        assert readme.read_text(encoding="utf-8").endswith("work in progress\n")
        assert _answers(level0)["maturity_level"] == 0
    finally:
        readme.write_text(original, encoding="utf-8")


def test_climb_refuses_a_repo_not_made_from_the_template(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hi')\n", encoding="utf-8")
    for command in (["init", "-q"], ["add", "--all"], ["commit", "-qm", "app"]):
        subprocess.run([*GIT, *command], cwd=tmp_path, check=True)
    result = runner.invoke(app, ["climb", str(tmp_path)])
    assert result.exit_code == 2
    assert "was not made from this template with Copier" in result.stderr
    other = tmp_path / ".copier-answers.yml"
    other.write_text("_src_path: gh:someone/else\nproject: x\n", encoding="utf-8")
    result = runner.invoke(app, ["update", str(tmp_path)])
    assert result.exit_code == 2
    assert "made from another Copier template" in result.stderr


def test_a_conflicting_edit_is_listed_with_markers_in_that_file_only(
    template: Path, tmp_path: Path
) -> None:
    project = _render(template, tmp_path)
    readme = project / "README.md"
    # The user rewrites the line the template changes when the level changes.
    text = readme.read_text(encoding="utf-8").replace(LEVEL_LINE, "This repo is our pilot")
    readme.write_text(text, encoding="utf-8")
    run(project, *GIT, "commit", "-qam", "Our wording")

    result = runner.invoke(app, ["climb", str(project), "--data", "ci_provider=github"])

    assert result.exit_code == 1, result.output
    assert "+ .github/workflows/ci.yml" in result.stdout  # the plan, shown first
    assert "README.md: keep what you need between" in result.stderr
    marked = [
        str(path.relative_to(project))
        for path in project.rglob("*")
        if ".git" not in path.parts
        and path.is_file()
        and "<<<<<<< before updating" in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert marked == ["README.md"]
    assert "This repo is our pilot" in readme.read_text(encoding="utf-8")


MIGRATIONS = """_migrations:
  - version: v0.2.0
    when: "{{ _stage == 'before' }}"
    command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/hooks/migrations.py",
              rename-answer, description, summary]
  - version: v0.2.0
    when: "{{ true }}"
    command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/hooks/migrations.py",
              rename-file, notebooks/01-explore.ipynb, notebooks/explore.ipynb,
              "--stage={{ _stage }}"]

"""


def test_a_migration_carries_a_renamed_file_and_a_renamed_answer(tmp_path: Path) -> None:
    """A release (fixture tag v0.2.0) renames the notebook and the `description` question;
    its migrations move the project's edited notebook and keep the answer's value."""
    template = template_snapshot(tmp_path / "template")
    run(template, *GIT, "tag", "v0.1.0")
    project = _render(template, tmp_path, description="Seabird masses for the field team.")
    notebook = project / "notebooks" / "01-explore.ipynb"
    note = '{"cell_type": "markdown", "id": "team", "metadata": {}, "source": ["Team note"]},'
    edited = notebook.read_text(encoding="utf-8").replace('"cells": [', f'"cells": [{note}', 1)
    notebook.write_text(edited, encoding="utf-8")
    run(project, *GIT, "commit", "-qam", "Our notebook note")

    tree = "template/{{cookiecutter.project_slug}}/notebooks/"
    run(template, "git", "mv", f"{tree}01-explore.ipynb", f"{tree}explore.ipynb")
    config = template / "copier.yml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("\ndescription:\n", "\nsummary:\n", 1)
    text = text.replace("{{ description | tojson }}", "{{ summary | tojson }}")
    config.write_text(text.replace("# PROMPT ---", MIGRATIONS + "# PROMPT ---", 1))
    run(template, *GIT, "commit", "-qam", "Rename the notebook and the description question")
    run(template, *GIT, "tag", "v0.2.0")

    result = runner.invoke(app, ["update", str(project)])

    assert result.exit_code == 0, result.output + result.stderr
    answers = _answers(project)
    assert answers["summary"] == "Seabird masses for the field team."
    assert "description" not in answers
    assert 'description = "Seabird masses for the field team."' in (
        project / "pyproject.toml"
    ).read_text(encoding="utf-8")
    assert not notebook.exists()
    moved = (project / "notebooks" / "explore.ipynb").read_text(encoding="utf-8")
    assert "Team note" in moved
    assert "<<<<<<<" not in moved


def test_check_update_and_update_follow_release_tags(tmp_path: Path) -> None:
    template = template_snapshot(tmp_path / "template")
    run(template, *GIT, "tag", "v0.1.0")
    project = _render(template, tmp_path)
    assert _answers(project)["_commit"] == "v0.1.0"
    up_to_date = runner.invoke(app, ["check-update", str(project)])
    assert up_to_date.exit_code == 0, up_to_date.output
    assert "Up to date" in up_to_date.stdout

    license_file = template / "LICENSE"
    license_file.write_text(license_file.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    run(template, *GIT, "commit", "-qam", "A release")
    run(template, *GIT, "tag", "v0.2.0")
    behind = runner.invoke(app, ["check-update", str(project)])
    assert behind.exit_code == 1
    assert "Update available: 0.1.0 -> 0.2.0" in behind.stdout

    updated = runner.invoke(app, ["update", str(project)])
    assert updated.exit_code == 0, updated.output
    assert _answers(project)["_commit"] == "v0.2.0"
    assert runner.invoke(app, ["check-update", str(project)]).exit_code == 0


REPORTING = """\"\"\"The team's own module: a one-line summary of a metrics dict.\"\"\"


def summary(metrics: dict[str, float]) -> str:
    return ", ".join(f"{name}={value:.3f}" for name, value in sorted(metrics.items()))
"""
REPORTING_TEST = """from pathlib import Path

from typer.testing import CliRunner

from {package}.cli import app
from {package}.reporting import summary


def test_summary_is_sorted() -> None:
    assert summary({{"r2": 0.5, "mae": 1.0}}) == "mae=1.000, r2=0.500"


def test_the_teams_command(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{{"r2": 0.5, "mae": 1.0}}', encoding="utf-8")
    result = CliRunner().invoke(app, ["summarize", str(metrics)])
    assert result.exit_code == 0, result.output
    assert result.output == "mae=1.000, r2=0.500\\n"
"""
# A command of the team's, appended to the shared command line where its comment says.
SUBCOMMAND = """

@app.command()
def summarize(metrics: Annotated[Path, typer.Argument(help="A metrics JSON file.")]) -> None:
    \"\"\"The team's command: a metrics file as one sorted line.\"\"\"
    import json

    from {package}.reporting import summary

    typer.echo(summary(json.loads(metrics.read_text(encoding="utf-8"))))
"""
# A route of the team's, added where routes.py says once the service exists (level 1).
ROUTE_IMPORTS = "from typing import Annotated\n\nfrom fastapi import APIRouter, Depends, Request\n"
ROUTE = """

@router.get("/features")
def features(bundle: Annotated[ModelBundle, Depends(served_model)]) -> list[str]:
    \"\"\"The features the served model reads, in its order.\"\"\"
    return bundle.features
"""
ROUTE_TEST = """from pathlib import Path

from fastapi.testclient import TestClient

from {package}.bundle import ModelBundle
from {package}.serving.app import create_app
from {package}.serving.models import OneModel


def test_the_teams_route(model_file: Path, bundle: ModelBundle) -> None:
    response = TestClient(create_app(OneModel.load(model_file))).get("/features")
    assert response.status_code == 200
    assert response.json() == bundle.features
"""
BATCH_LIMIT = "MAX_BATCH_ROWS = 10_000\n"
TEAM_BATCH_LIMIT = "MAX_BATCH_ROWS = 2_000\n"
TEAM_NOTES = "\n## On call\n\nOwned by the seabird team; ask in #seabirds.\n"


@pytest.mark.slow
def test_climb_level_by_level_keeps_every_user_edit(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Level 0 with a team's edits (a module, a command appended to the command line, a
    changed model default, a dependency, a README section, deleted files), and from level 1
    a route of the team's in the service, climbs one level at a time with the CLI: after
    each step every edit is intact, the level's files are there, no conflict markers,
    tests green."""
    project = _render(template, tmp_path, task="regression")
    (package,) = [p.name for p in (project / "src").iterdir() if p.is_dir()]
    source = project / "src" / package
    (source / "reporting.py").write_text(REPORTING, encoding="utf-8")
    (project / "tests" / "test_reporting.py").write_text(
        REPORTING_TEST.format(package=package), encoding="utf-8"
    )
    cli = source / "cli.py"
    command = SUBCOMMAND.format(package=package)
    cli.write_text(cli.read_text(encoding="utf-8") + command, encoding="utf-8")
    train = source / "train.py"
    edited = train.read_text(encoding="utf-8").replace("Ridge(alpha=1.0)", "Ridge(alpha=0.5)")
    train.write_text(edited, encoding="utf-8")
    run(project, uv(), "add", "--quiet", "--no-sync", "rich>=13")
    readme = project / "README.md"
    # A section appended at the very end, after the README's own "Team notes", which no
    # level changes: each climb's new README merges around it.
    readme.write_text(readme.read_text(encoding="utf-8") + TEAM_NOTES, encoding="utf-8")
    deleted = [project / "notebooks" / "01-explore.ipynb", project / "tests" / "test_notebook.py"]
    for path in deleted:
        path.unlink()
    run(project, *GIT, "add", "--all")
    run(project, *GIT, "commit", "-qm", "The team's edits")

    routes = source / "serving" / "routes.py"
    # A changed default inside the service's shared code, where a level could once branch.
    service_app = source / "serving" / "app.py"
    if answer_rules().PREVIEW_LEVEL is not None:
        monkeypatch.setenv(answer_rules().PREVIEW_VARIABLE, str(answer_rules().PREVIEW_LEVEL))
    for level in range(1, answer_rules().highest_level() + 1):
        result = runner.invoke(app, ["climb", str(project), "--data", "ci_provider=github"])
        assert result.exit_code == 0, result.output + result.stderr
        assert _answers(project)["maturity_level"] == level
        assert (source / "reporting.py").read_text(encoding="utf-8") == REPORTING
        assert cli.read_text(encoding="utf-8").endswith(command)
        assert "Ridge(alpha=0.5)" in train.read_text(encoding="utf-8")
        assert '"rich>=13"' in (project / "pyproject.toml").read_text(encoding="utf-8")
        assert readme.read_text(encoding="utf-8").endswith(TEAM_NOTES)
        assert not any(path.exists() for path in deleted)
        if level == 1:
            text = routes.read_text(encoding="utf-8")
            assert text.count("from fastapi import APIRouter, Request\n") == 1
            text = text.replace("from fastapi import APIRouter, Request\n", ROUTE_IMPORTS)
            routes.write_text(text + ROUTE, encoding="utf-8")
            (project / "tests" / "test_features_route.py").write_text(
                ROUTE_TEST.format(package=package), encoding="utf-8"
            )
            text = service_app.read_text(encoding="utf-8")
            assert text.count(BATCH_LIMIT) == 1
            service_app.write_text(text.replace(BATCH_LIMIT, TEAM_BATCH_LIMIT), encoding="utf-8")
        assert routes.read_text(encoding="utf-8").endswith(ROUTE)
        assert TEAM_BATCH_LIMIT in service_app.read_text(encoding="utf-8")
        files = set(project_files(project))
        missing = (
            expected_files(level, package, "github")
            - files
            - {path.relative_to(project) for path in deleted}
        )
        assert not missing, f"level {level} did not add {sorted(map(str, missing))}"
        assert not [p for p in files if p.suffix == ".rej"]
        for path in files:
            text = (project / path).read_text(encoding="utf-8", errors="replace")
            assert "<<<<<<< before updating" not in text, f"conflict markers in {path}"
        run(project, uv(), "sync", "--locked", "--quiet")
        run(project, uv(), "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider")
        run(project, uv(), "run", "--no-sync", "ruff", "check", "--no-cache", ".")
        run(project, uv(), "run", "--no-sync", "ruff", "format", "--check", "--no-cache", ".")
        if level >= 2:  # the pipeline reproduces at every level that has one
            run(project, uv(), "run", "--no-sync", "dvc", "repro")
            assert (project / "models" / "model.joblib").is_file()
        run(project, *GIT, "add", "--all")
        run(project, *GIT, "commit", "-qm", f"Climb to level {level}")
    # The team's code and the template's, typed together, at the top.
    run(project, uv(), "run", "--no-sync", "mypy")


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["github", "azure"])
def test_the_template_update_job_commits_a_newer_release(provider: str, tmp_path: Path) -> None:
    """The generated template-update job, run on a render of a fixture release: with a
    newer tag it updates on a branch of its own and proposes it. GitHub's runs on act, on
    the shallow clone a checkout makes, and pushes its branch to the origin (gh, which
    would open the pull request, records the call); Azure's runs on the emulation, up to
    its push (NOT_RUN_HERE: it needs the service's token)."""
    template = template_snapshot(tmp_path / "template")
    run(template, *GIT, "tag", "v0.1.0")
    # From the snapshot's git URL, as users render: the job installs mlops-ladder from it.
    project = _render(f"git+file://{template}", tmp_path, level=1, ci_provider=provider)
    license_file = template / "LICENSE"
    license_file.write_text(license_file.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    run(template, *GIT, "commit", "-qam", "A release")
    run(template, *GIT, "tag", "v0.2.0")

    if provider == "github":
        workdir = tmp_path / "github"
        checkout = shallow_checkout(project, workdir)
        # With a token of its own the pull request starts CI (the workflow's would not).
        token = "a-fine-grained-token"
        update = run_workflow(
            checkout,
            "template-update.yml",
            "workflow_dispatch",
            workdir,
            secrets={"PULL_REQUEST_TOKEN": token},
        )
        update.succeeded("Template update/Update from the template")
        assert gh_tokens(workdir) == [token]
        assert "No PULL_REQUEST_TOKEN secret" not in update.log
        (proposal,) = gh_calls(workdir)
        assert proposal.startswith("pr create --head template-update/"), proposal
        branch = proposal.split()[3]
        tree = tmp_path / "proposed"
        run(
            tmp_path,
            "git",
            "clone",
            "--quiet",
            "--branch",
            branch,
            str(workdir / "origin.git"),
            str(tree),
        )
        report(f"act: template-update.yml pushed {branch} in {update.seconds:.0f} s")
    else:
        outcome = run_ci(project, tmp_path / "ci", only={"template_update"})
        assert outcome.not_run == ["template_update/Open a pull request"]
        tree = tmp_path / "ci" / "template_update"
        assert run(tree, "git", "branch", "--show-current").stdout.startswith("template-update/")
        assert run(tree, "git", "status", "--porcelain").stdout == ""
    assert _answers(tree)["_commit"] == "v0.2.0"
    assert run(tree, "git", "log", "-1", "--format=%s").stdout.strip() == (
        "Update from the mlops-ladder template"
    )
