"""hooks/migrations.py on its own: what each migration does when there is nothing to do."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

GIT = ["git", "-c", "user.name=tests", "-c", "user.email=tests@localhost"]


def _migrations() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "hooks" / "migrations.py"
    spec = importlib.util.spec_from_file_location("migrations", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


migrations = _migrations()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".copier-answers.yml").write_text(
        "# kept\n_commit: v0.1.0\ndescription: Our model\nlicense: MIT\n", encoding="utf-8"
    )
    (tmp_path / "old.txt").write_text("ours\n", encoding="utf-8")
    for command in (["init", "-q"], ["add", "--all"], ["commit", "-qm", "start"]):
        subprocess.run([*GIT, *command], check=True)
    return tmp_path


def test_rename_answer_keeps_value_and_layout(project: Path) -> None:
    migrations.main(["rename-answer", "description", "summary"])
    text = (project / ".copier-answers.yml").read_text(encoding="utf-8")
    assert text == "# kept\n_commit: v0.1.0\nsummary: Our model\nlicense: MIT\n"


@pytest.mark.parametrize(
    ("old", "new", "outcome"),
    [
        ("nothing", "summary", "has no answer 'nothing'"),
        ("description", "license", "already answers 'license'"),
    ],
)
def test_rename_answer_changes_nothing_it_should_not(project: Path, old, new, outcome) -> None:
    before = (project / ".copier-answers.yml").read_text(encoding="utf-8")
    assert outcome in migrations.rename_answer(old, new)
    assert (project / ".copier-answers.yml").read_text(encoding="utf-8") == before


def test_rename_file_moves_the_projects_file_and_skips_what_is_gone(project: Path) -> None:
    assert "nothing to rename" in migrations.rename_file("gone.txt", "new.txt", "before")
    assert "renamed" in migrations.rename_file("old.txt", "sub/new.txt", "before")
    assert (project / "sub" / "new.txt").read_text(encoding="utf-8") == "ours\n"
    assert not (project / "old.txt").exists()


def test_after_the_update_a_whole_file_conflict_becomes_the_projects_version(
    project: Path,
) -> None:
    conflicted = "<<<<<<< before updating\nours\n=======\ntheirs\n>>>>>>> after updating\n"
    (project / "new.txt").write_text(conflicted, encoding="utf-8")
    assert "with its edits" in migrations.rename_file("old.txt", "new.txt", "after")
    assert (project / "new.txt").read_text(encoding="utf-8") == "ours\n"
    (project / "clean.txt").write_text("merged\n", encoding="utf-8")
    assert "merged cleanly" in migrations.rename_file("old.txt", "clean.txt", "after")
