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
from packaging.version import Version
from real_ci import run_workflow, shallow_checkout

from mlops_ladder.release import Release, installed_release, served_from

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


def test_a_render_from_the_wheel_leaves_copiers_mirror_cache_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copier caches each remote template as a git mirror keyed by its URL. A render of
    the packaged release reaches the release's URL through a redirect to a one-off
    repository, whose refs must not land in the user's mirror of the real URL."""
    from copier import run_copy

    files = tmp_path / "files"
    files.mkdir()
    (files / "copier.yml").write_text("name:\n  type: str\n  default: demo\n", "utf-8")
    (files / "{{ _copier_conf.answers_file }}.jinja").write_text(
        "{{ _copier_answers|to_nice_yaml -}}\n", "utf-8"
    )
    user_cache = tmp_path / "user-cache"
    monkeypatch.setenv("COPIER_CACHE_DIR", str(user_cache))
    release = Release(source="https://example.invalid/template.git", tag="v1.2.3")
    project = tmp_path / "project"
    with served_from(files, release) as url:
        run_copy(url, str(project), defaults=True, vcs_ref=release.tag, quiet=True)
    answers = _answers(project)
    assert (answers["_src_path"], answers["_commit"]) == (release.source, release.tag)
    assert not user_cache.exists(), sorted(user_cache.rglob("*"))[:5]
    assert os.environ["COPIER_CACHE_DIR"] == str(user_cache), "the caller's setting is back"


def _prepare_release(template: Path, source: str, version: str) -> None:
    """What a maintainer does before tagging: the changelog's section gets its version;
    here the package's Source also points at the test's repository."""
    pyproject = template / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    start = text.index("\nSource = ") + 1
    end = text.index("\n", start)
    pyproject.write_text(f'{text[:start]}Source = "{source}"{text[end:]}', encoding="utf-8")
    changelog = template / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    unreleased = f"## Unreleased ({version})"
    assert unreleased in text, f"CHANGELOG.md has no '{unreleased}' section"
    changelog.write_text(text.replace(unreleased, f"## {version} (2026-12-03)"), "utf-8")
    run(template, *GIT, "commit", "--quiet", "-am", f"Release {version}")
    run(template, *GIT, "tag", f"v{version}")


@pytest.mark.slow
def test_the_installed_wheel_renders_climbs_updates_and_assesses(tmp_path: Path) -> None:
    """This version's release is built by the release workflow's build job on act,
    from the tag's shallow clone (the sdist, the wheel from it, a render with the wheel
    and its suite), before its repository is published: the wheel's render cannot have
    read the template from anywhere but itself, yet records the published URL and tag,
    and gives the same files as `copier copy` of that tag. Then the next minor release is
    published: check-update, update and climb read it there. The publishing jobs need
    PyPI and GitHub: not run here."""
    python = find_python(OLDEST_PYTHON)
    if python is None:
        pytest.skip(f"Python {OLDEST_PYTHON} (the oldest supported) is not on this machine")
    template = template_snapshot(tmp_path / "template")
    published = tmp_path / "published.git"
    source = f"git+{published.as_uri()}"
    version = run(template, uv(), "version", "--short").stdout.strip()
    _prepare_release(template, source, version)
    workdir = tmp_path / "github"
    checkout = shallow_checkout(template, workdir, branch=f"v{version}")
    build = run_workflow(
        checkout,
        "release.yml",
        "push",
        workdir,
        payload={"ref": f"refs/tags/v{version}"},
        job="build",
        unused=frozenset({"actions/download-artifact", "pypa/gh-action-pypi-publish"}),
    )
    build.succeeded("Release/Build and try the wheel")
    (wheel,) = (build.artifacts / "dist").rglob("*.whl")
    assert wheel.name == f"mlops_ladder-{version}-py3-none-any.whl"
    venv = tmp_path / "venv"
    run(tmp_path, uv(), "venv", "--quiet", "--python", str(python), str(venv))
    run(tmp_path, uv(), "pip", "install", "--quiet", "--python", str(venv), str(wheel))
    users = tmp_path / "work"
    users.mkdir()

    _ok(_cli(venv, users, "new", "model", "--level", "0", "--defaults"))
    project = users / "model"
    assert not published.exists()
    answers = _answers(project)
    assert (answers["_src_path"], answers["_commit"]) == (source, f"v{version}")
    assert run(project, "git", "status", "--porcelain").stdout == ""
    assert (project / "uv.lock").is_file()  # post_gen found the uv installed beside the CLI

    _publish(template, published)
    copied = tmp_path / "copied"
    # The docs' command, with the copier the wheel installed (and its Jinja extensions).
    copy = ("copy", "--trust", "--defaults", "--quiet", "--data", "maturity_level=0")
    _ok(_cli(venv, users, *copy, source, str(copied), program="copier"))
    assert_same_tree(project, copied)

    up_to_date = _ok(_cli(venv, users, "check-update", "model"))
    assert f"Up to date: the project is on {version}" in up_to_date
    assessed = json.loads(_ok(_cli(venv, users, "assess", "model", "--format", "json")))
    assert assessed["level"] == 0

    license_file = template / "LICENSE"
    license_file.write_text(license_file.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    major, minor, *_ = Version(version).release
    later = f"{major}.{minor + 1}.0"
    run(template, *GIT, "commit", "--quiet", "-am", f"Release {later}")
    run(template, *GIT, "tag", f"v{later}")
    _publish(template, published)
    behind = _cli(venv, users, "check-update", "model")
    assert behind.returncode == 1, behind.stdout + behind.stderr
    assert f"Update available: {version} -> {later}" in behind.stdout

    _ok(_cli(venv, users, "update", "model"))
    assert _answers(project)["_commit"] == f"v{later}"
    run(project, *GIT, "commit", "--quiet", "-am", f"Update to {later}")
    climbed = _ok(_cli(venv, users, "climb", "model"))
    assert "Level 0 -> 1 adds" in climbed
    answers = _answers(project)
    assert (answers["maturity_level"], answers["_commit"]) == (1, f"v{later}")
    run(project, *GIT, "add", "--all")
    run(project, *GIT, "commit", "--quiet", "-m", "Climb to level 1")
    assessed = json.loads(_ok(_cli(venv, users, "assess", "model", "--format", "json")))
    assert assessed["level"] == 1
