"""Checks the generator's tests run on a rendered project.

Each check raises AssertionError with the evidence, so a broken render fails the suite;
``tests/template/test_checks_fail.py`` proves that for each of them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

# An opening Jinja delimiter followed by an expression, tag or comment. A bare "}}" is
# ordinary code (a nested dict literal), and GitHub Actions' ${{ }} is taken out first.
_JINJA = re.compile(r"\{\{-?\s*[\w.(\[\"']|\{%-?\s*\w|\{#")
_ACTIONS_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
_SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}


def project_files(root: Path) -> list[Path]:
    """Every file of a render, relative to its root, ignoring tool output and .git."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        found.extend(Path(dirpath, name).relative_to(root) for name in filenames)
    return sorted(found)


def assert_no_leftover_jinja(root: Path) -> None:
    leftovers = []
    for relative in project_files(root):
        text = (root / relative).read_text(encoding="utf-8", errors="replace")
        text = _ACTIONS_EXPRESSION.sub("", text)
        for number, line in enumerate(text.splitlines(), start=1):
            if _JINJA.search(line):
                leftovers.append(f"{relative}:{number}: {line.strip()}")
    assert not leftovers, "Leftover Jinja syntax in the render:\n" + "\n".join(leftovers)


def assert_same_tree(left: Path, right: Path, *, ignore: tuple[str, ...] = ()) -> None:
    """Same files with the same bytes, except the paths in ``ignore``."""
    left_files = {p for p in project_files(left) if p.as_posix() not in ignore}
    right_files = {p for p in project_files(right) if p.as_posix() not in ignore}
    assert left_files == right_files, (
        f"Only in {left}: {sorted(map(str, left_files - right_files))}\n"
        f"Only in {right}: {sorted(map(str, right_files - left_files))}"
    )
    differing = [
        str(p) for p in sorted(left_files) if (left / p).read_bytes() != (right / p).read_bytes()
    ]
    assert not differing, f"Files that differ between {left} and {right}: {differing}"


def uv_env() -> dict[str, str]:
    """The environment for uv in a rendered project: its own .venv, the shared cache."""
    outer = {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}  # this repo's venv, not the project's
    env = {k: v for k, v in os.environ.items() if k not in outer}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.setdefault("UV_NO_PROGRESS", "1")
    return env


def uv() -> str:
    found = shutil.which("uv")
    assert found, "uv is not on the PATH: run the tests through the README's test command"
    return found


def run(project: Path, *command: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run a command in the project; fail with its output when it fails."""
    result = subprocess.run(
        list(command),
        cwd=project,
        env=uv_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"`{' '.join(command)}` failed in {project} (exit {result.returncode}):\n"
        f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    )
    return result


def python_available(version: str) -> bool:
    found = subprocess.run(
        [uv(), "python", "find", "--no-project", version],
        env=uv_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    return found.returncode == 0


def check_generated_project(project: Path) -> None:
    """What a team does on day one: install, test, lint, format-check."""
    run(project, uv(), "sync", "--quiet")
    run(project, uv(), "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider")
    run(project, uv(), "run", "--no-sync", "ruff", "check", "--no-cache", ".")
    run(project, uv(), "run", "--no-sync", "ruff", "format", "--check", "--no-cache", ".")
