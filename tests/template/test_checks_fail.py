"""The generator's checks can fail: a broken render makes them raise."""

from __future__ import annotations

from pathlib import Path

import pytest
from generated import assert_no_leftover_jinja, assert_same_tree, check_generated_project
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
