"""Post-generation steps: git init, lock and first commit, with or without a git identity."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from matrix import answers

from mlops_ladder.render import COOKIECUTTER_DIRECTORY, copier_copy, template_root

BIN = Path(sys.executable).parent


def _without_git_identity(tmp_path: Path) -> dict[str, str]:
    """A machine where nobody ran `git config user.name`: no global or system config."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_AUTHOR", "GIT_COMMITTER"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), GIT_CONFIG_NOSYSTEM="1")
    return env


def _git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.parametrize("engine", ["copier", "cookiecutter"])
def test_first_commit_without_a_git_identity(engine: str, tmp_path: Path) -> None:
    # Rendered in a subprocess: the environment (HOME) must be the one the engine starts
    # with, as for a user; Copier's process runner snapshots it at import.
    env = _without_git_identity(tmp_path)
    data = {"author_name": "Ada Lovelace", "author_email": "ada@example.com"}
    pairs = [f"{key}={value}" for key, value in data.items()]
    if engine == "copier":
        project = tmp_path / "out"
        options = [item for pair in pairs for item in ("--data", pair)]
        command = [str(BIN / "copier"), "copy", "--trust", "--defaults", "--vcs-ref", "HEAD"]
        command += [*options, str(template_root()), str(project)]
    else:
        project = tmp_path / "penguin-model"
        command = [str(BIN / "cookiecutter"), "--no-input", "--directory", COOKIECUTTER_DIRECTORY]
        command += ["--output-dir", str(tmp_path), str(template_root()), *pairs]
    subprocess.run(command, env=env, check=True, capture_output=True, text=True)

    assert _git(project, "log", "--format=%an <%ae>|%s") == (
        "Ada Lovelace <ada@example.com>|Initial commit from mlops-ladder"
    )
    assert _git(project, "branch", "--show-current") == "main"
    assert _git(project, "status", "--porcelain") == ""
    tracked = _git(project, "ls-files").splitlines()
    assert "uv.lock" in tracked
    assert "pyproject.toml" in tracked
    assert not (tmp_path / "home" / ".gitconfig").exists(), "the user's config is untouched"


def test_no_git_when_not_asked(tmp_path: Path) -> None:
    project = copier_copy(tmp_path / "out", answers("py311-regression-sample-apache"))
    assert not (project / ".git").exists()
    assert not (project / "uv.lock").exists()


@pytest.mark.parametrize(("provider", "kept"), [("github", True), ("gitlab", False)])
def test_workflow_folders_only_for_github(provider: str, kept: bool, tmp_path: Path) -> None:
    data = answers("py311-regression-sample-apache", level=1, ci_provider=provider)
    project = copier_copy(tmp_path / "out", data)
    assert (project / ".github" / "workflows").is_dir() is kept
    assert (project / ".github").exists() is kept


def test_a_users_file_keeps_its_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".github" / "workflows").mkdir(parents=True)
    (project / ".github" / "CODEOWNERS").write_text("* @team\n")
    sys.path.insert(0, str(template_root() / "hooks"))
    try:
        from post_gen import prune_empty_folders
    finally:
        sys.path.pop(0)
    prune_empty_folders(project)
    assert not (project / ".github" / "workflows").exists()
    assert (project / ".github" / "CODEOWNERS").is_file()
