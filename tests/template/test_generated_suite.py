"""Rendered projects pass their own tests, lint and format check, on the Python they name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from generated import (
    assert_same_tree,
    check_generated_project,
    check_pre_commit,
    python_available,
    run,
    uv,
    uv_env,
    write_training_csv,
)
from matrix import COMBINATIONS, answers

from mlops_ladder.render import COOKIECUTTER_DIRECTORY, copier_copy, template_root

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_generated_project_passes_its_own_checks(name: str, tmp_path: Path) -> None:
    data = answers(name)
    version = data["python_version"]
    if not python_available(version):
        pytest.skip(f"Python {version} is not installed or not enabled (see PYENV_VERSION)")
    project = copier_copy(tmp_path / "project", data)
    check_generated_project(project)
    version_probe = "import sys; print(sys.version)"
    python = run(project, uv(), "run", "--no-sync", "python", "-c", version_probe)
    assert python.stdout.startswith(version + ".")

    # The documented commands, as a user types them after `make install`, on the data the
    # project was generated for: the sample, or a CSV at csv_path with target_column.
    write_training_csv(project, data)
    run(project, "make", "train")
    run(
        project,
        uv(),
        "run",
        "--no-sync",
        "python",
        "-c",
        "from palmerpenguins import load_penguins; load_penguins().to_csv('rows.csv', index=False)",
    )
    run(project, "make", "score", "INPUT=rows.csv")
    assert (project / "data" / "processed" / "predictions.csv").is_file()
    run(project, "make", "lint")
    _a_warning_from_the_project_fails_its_tests(project)


def _a_warning_from_the_project_fails_its_tests(project: Path) -> None:
    """pyproject.toml turns a warning the project's own code raises into an error (a
    deprecated call it makes, say), and leaves warnings raised inside libraries alone."""
    (package,) = [path.name for path in (project / "src").iterdir() if path.is_dir()]
    (project / "src" / package / "planted.py").write_text(
        "import warnings\n\n\ndef old() -> None:\n"
        '    warnings.warn("planted: old() is deprecated", DeprecationWarning, stacklevel=1)\n',
        encoding="utf-8",
    )
    (project / "tests" / "test_planted.py").write_text(
        f"from {package}.planted import old\n\n\ndef test_old() -> None:\n    old()\n",
        encoding="utf-8",
    )
    command = [uv(), "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"]
    planted = subprocess.run(
        [*command, "tests/test_planted.py"],
        cwd=project,
        env=uv_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert planted.returncode == 1, planted.stdout + planted.stderr
    assert "DeprecationWarning: planted: old() is deprecated" in planted.stdout, planted.stdout


def test_documented_commands(tmp_path: Path) -> None:
    """README's promise: `copier copy --trust --defaults -d maturity_level=1 . out` and the
    Cookiecutter command give the same committed repo; its tests, lint, hooks and every
    step of its (GitHub) CI pass."""
    copier_out = tmp_path / "out"
    subprocess.run(
        [
            str(BIN / "copier"),
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            "-d",
            "maturity_level=1",
            str(template_root()),
            str(copier_out),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    cookiecutter_out = tmp_path / "cookiecutter"
    subprocess.run(
        [
            str(BIN / "cookiecutter"),
            "--no-input",
            "--directory",
            COOKIECUTTER_DIRECTORY,
            "--output-dir",
            str(cookiecutter_out),
            str(template_root()),
            "maturity_level=1",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    cooked = cookiecutter_out / "penguin-model"
    # The two locks resolve at different moments: a release in between (or one of uv's
    # cached index pages being older) may pick another version. Each must match its
    # pyproject.toml; the rest is the same file for file.
    assert_same_tree(copier_out, cooked, ignore=(".copier-answers.yml", "uv.lock"))
    for project in (copier_out, cooked):
        run(project, uv(), "lock", "--check", "--quiet")

    for project in (copier_out, cooked):
        log = run(project, "git", "log", "--format=%s").stdout.split("\n")
        assert log[0] == "Initial commit from mlops-ladder"
        assert run(project, "git", "status", "--porcelain").stdout == ""
        assert (project / "uv.lock").is_file(), "the first commit carries the lock file"

    run(copier_out, uv(), "sync", "--locked", "--quiet")
    run(copier_out, uv(), "run", "--no-sync", "pytest", "-q")
    run(copier_out, uv(), "run", "--no-sync", "ruff", "check", ".")
    check_pre_commit(copier_out)
