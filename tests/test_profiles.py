"""Organisation profiles through the CLI: a platform group's answers, some locked, taken by
every render and every later update of a project (hooks/answers.py reads the profile; the
CLI records it and applies its current locks on `update` and `climb`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from generated import ORG_PROFILE as PROFILE
from generated import run, template_snapshot
from typer.testing import CliRunner

from mlops_ladder.cli import app
from mlops_ladder.render import answer_rules, copier_copy

runner = CliRunner()
GIT = ["git", "-c", "user.name=tests", "-c", "user.email=tests@localhost"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return template_snapshot(tmp_path_factory.mktemp("template") / "template")


def _answers(project: Path) -> dict[str, object]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def _new(template: Path, project: Path, profile: Path, *args: str) -> Path:
    """`mlops-ladder new` with the profile, from the snapshot (the CLI's own render path)."""
    from mlops_ladder import cli

    real = cli.copier_copy

    def from_snapshot(destination: Path, data: dict, **options: object) -> Path:
        return real(destination, data, **{**options, "template": str(template)})

    cli.copier_copy = from_snapshot  # type: ignore[assignment]
    try:
        result = runner.invoke(
            app,
            ["new", str(project), "--level", "1", "--defaults", "--profile", str(profile), *args],
        )
    finally:
        cli.copier_copy = real  # type: ignore[assignment]
    return result


def test_a_profile_pre_answers_locks_and_is_recorded(template: Path, tmp_path: Path) -> None:
    profile = tmp_path / "acme.yml"
    profile.write_text(PROFILE, encoding="utf-8")
    made = _new(template, tmp_path / "model", profile, "--data", "python_version=3.11")
    assert made.exit_code == 0, made.output + made.stderr
    answers = _answers(tmp_path / "model")
    assert answers["org_profile"] == str(profile)
    assert (answers["ci_provider"], answers["license"]) == ("gitlab", "Proprietary")
    assert answers["python_version"] == "3.11"  # pre-answered, and the team chose otherwise
    assert (tmp_path / "model" / ".gitlab-ci.yml").is_file()


def test_a_locked_answer_changed_at_render_is_refused(template: Path, tmp_path: Path) -> None:
    profile = tmp_path / "acme.yml"
    profile.write_text(PROFILE, encoding="utf-8")
    refused = _new(template, tmp_path / "model", profile, "--data", "ci_provider=github")
    assert refused.exit_code == 2
    assert (
        f"ci_provider is locked to 'gitlab' by the organisation profile 'acme-platform' ({profile})"
    ) in refused.stderr
    assert not (tmp_path / "model").exists()


def test_a_profile_that_cannot_be_read_is_refused(template: Path, tmp_path: Path) -> None:
    refused = _new(template, tmp_path / "model", tmp_path / "missing.yml")
    assert refused.exit_code == 2
    assert f"Cannot read the organisation profile {tmp_path / 'missing.yml'}" in refused.stderr
    assert not (tmp_path / "model").exists()


def test_updates_keep_the_locks_and_take_the_profiles_changes(
    template: Path, tmp_path: Path
) -> None:
    """A climb that changes a locked answer is refused and changes nothing; once the
    profile's owners change a lock, `update` applies it."""
    profile = tmp_path / "acme.yml"
    profile.write_text(PROFILE, encoding="utf-8")
    project = copier_copy(
        tmp_path / "model",
        {
            "maturity_level": 1,
            "org_profile": str(profile),
            "ci_provider": "gitlab",
            "license": "Proprietary",
            "initialize_git": True,
        },
        template=str(template),
        vcs_ref=None,
    )
    head = run(project, "git", "rev-parse", "HEAD").stdout

    refused = runner.invoke(app, ["climb", str(project), "--data", "license=MIT"])
    assert refused.exit_code == 2
    assert "license is locked to 'Proprietary'" in refused.stderr
    assert run(project, "git", "rev-parse", "HEAD").stdout == head
    assert run(project, "git", "status", "--porcelain").stdout == ""

    profile.write_text(PROFILE.replace("ci_provider: gitlab", "ci_provider: github"), "utf-8")
    answer_rules().load_profile.cache_clear()  # this process read the old profile
    updated = runner.invoke(app, ["update", str(project), "--vcs-ref", "HEAD"])
    assert updated.exit_code == 0, updated.output + updated.stderr
    assert _answers(project)["ci_provider"] == "github"
    assert (project / ".github" / "workflows" / "ci.yml").is_file()
    assert not (project / ".gitlab-ci.yml").exists()
    run(project, *GIT, "add", "--all")
    run(project, *GIT, "commit", "--quiet", "-m", "The profile moved us to GitHub")
