"""The package as users install it: a wheel built from a release tag, in a fresh virtual
environment, with no checkout. Its CLI renders from the template the wheel carries, and the
projects it makes update from the release's published repository
(src/mlops_ladder/release.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from generated import assert_same_tree, find_python, run, template_snapshot, uv, uv_env

from mlops_ladder.release import installed_release

GIT = ["git", "-c", "user.name=tests", "-c", "user.email=tests@localhost"]
# The oldest Python the package supports: the wheel must install and run there.
OLDEST_PYTHON = "3.10"
CHECKOUT = Path(__file__).resolve().parents[1]


def _publish(template: Path, published: Path) -> None:
    """Push the template's releases to the repository users update from."""
    if not published.exists():
        run(template, "git", "init", "--quiet", "--bare", str(published))
    run(template, "git", "push", "--quiet", "--tags", str(published), "HEAD:refs/heads/main")


def _without_checkout() -> dict[str, str]:
    """The environment of a user's shell: nothing of this checkout's virtual environment
    on the PATH, so the installed CLI finds uv, copier and the template on its own."""
    env = uv_env()
    ours = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != ours)
    return env


def _cli(
    venv: Path, where: Path, *args: str, program: str = "mlops-ladder"
) -> subprocess.CompletedProcess[str]:
    """One of the commands the wheel installed, run as a user runs it."""
    return subprocess.run(
        [str(venv / "bin" / program), *args],
        cwd=where,
        env=_without_checkout(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _answers(project: Path) -> dict[str, object]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def test_the_wheel_carries_every_file_of_the_template(tmp_path: Path) -> None:
    """What git tracks of copier.yml, hooks/ and template/ is in the wheel, nothing else
    under mlops_ladder/_template (no caches, no stray files)."""
    run(CHECKOUT, uv(), "build", "--quiet", "--wheel", "--out-dir", str(tmp_path))
    (wheel,) = tmp_path.glob("*.whl")
    prefix = "mlops_ladder/_template/"
    with zipfile.ZipFile(wheel) as archive:
        packaged = {name.removeprefix(prefix) for name in archive.namelist() if prefix in name}
    tracked = run(CHECKOUT, "git", "ls-files", "copier.yml", "hooks", "template").stdout
    assert packaged == set(tracked.splitlines())


def test_the_installed_package_names_its_release() -> None:
    release = installed_release()
    assert release.tag == f"v{version('mlops-ladder')}"
    assert release.source.startswith("https://") and release.source.endswith(".git")


@pytest.mark.slow
def test_the_installed_wheel_renders_climbs_updates_and_assesses(tmp_path: Path) -> None:
    """Release 0.1.0 is built (sdist, then the wheel from it, as the release workflow does)
    before its repository is published: the wheel's render cannot have read the template
    from anywhere but itself, yet records the published URL and tag, and gives the same
    files as `copier copy` of that tag. Then 0.2.0 is published: check-update, update and
    climb read it there."""
    python = find_python(OLDEST_PYTHON)
    if python is None:
        pytest.skip(f"Python {OLDEST_PYTHON} (the oldest supported) is not on this machine")
    template = template_snapshot(tmp_path / "template")
    published = tmp_path / "published.git"
    source = f"git+{published.as_uri()}"
    pyproject = template / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    start = text.index("\nSource = ") + 1
    end = text.index("\n", start)
    pyproject.write_text(f'{text[:start]}Source = "{source}"{text[end:]}', encoding="utf-8")
    run(template, *GIT, "commit", "--quiet", "-am", "Release 0.1.0 from here")
    run(template, *GIT, "tag", "v0.1.0")
    run(template, uv(), "build", "--quiet", "--out-dir", str(tmp_path / "dist"))
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    venv = tmp_path / "venv"
    run(tmp_path, uv(), "venv", "--quiet", "--python", str(python), str(venv))
    run(tmp_path, uv(), "pip", "install", "--quiet", "--python", str(venv), str(wheel))
    users = tmp_path / "work"
    users.mkdir()

    _ok(_cli(venv, users, "new", "model", "--level", "0", "--defaults"))
    project = users / "model"
    assert not published.exists()
    answers = _answers(project)
    assert (answers["_src_path"], answers["_commit"]) == (source, "v0.1.0")
    assert run(project, "git", "status", "--porcelain").stdout == ""
    assert (project / "uv.lock").is_file()  # post_gen found the uv installed beside the CLI

    _publish(template, published)
    copied = tmp_path / "copied"
    # The docs' command, with the copier the wheel installed (and its Jinja extensions).
    copy = ("copy", "--trust", "--defaults", "--quiet", "--data", "maturity_level=0")
    _ok(_cli(venv, users, *copy, source, str(copied), program="copier"))
    assert_same_tree(project, copied)

    assert "Up to date: the project is on 0.1.0" in _ok(_cli(venv, users, "check-update", "model"))
    assessed = json.loads(_ok(_cli(venv, users, "assess", "model", "--format", "json")))
    assert assessed["level"] == 0

    license_file = template / "LICENSE"
    license_file.write_text(license_file.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    run(template, *GIT, "commit", "--quiet", "-am", "Release 0.2.0")
    run(template, *GIT, "tag", "v0.2.0")
    _publish(template, published)
    behind = _cli(venv, users, "check-update", "model")
    assert behind.returncode == 1, behind.stdout + behind.stderr
    assert "Update available: 0.1.0 -> 0.2.0" in behind.stdout

    _ok(_cli(venv, users, "update", "model"))
    assert _answers(project)["_commit"] == "v0.2.0"
    run(project, *GIT, "commit", "--quiet", "-am", "Update to 0.2.0")
    climbed = _ok(_cli(venv, users, "climb", "model"))
    assert "Level 0 -> 1 adds" in climbed
    answers = _answers(project)
    assert (answers["maturity_level"], answers["_commit"]) == (1, "v0.2.0")
    run(project, *GIT, "add", "--all")
    run(project, *GIT, "commit", "--quiet", "-m", "Climb to level 1")
    assessed = json.loads(_ok(_cli(venv, users, "assess", "model", "--format", "json")))
    assert assessed["level"] == 1
