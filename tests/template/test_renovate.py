"""The GitLab and Azure renders' renovate.json, read by Renovate itself (npm, its local
platform, extraction only: no network). Renovate finds what the level-1 page says it
updates (uv.lock through pyproject.toml, the Dockerfile's base images, every pre-commit
pin, GitLab's CI images or Azure's uv version) and leaves template releases to the
template-update job: its Copier manager, on by Renovate's default, would read the
template's release from .copier-answers.yml and propose a plain `copier update`."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from generated import run
from real_ci import renovate

from mlops_ladder.release import installed_release
from mlops_ladder.render import copier_copy

pytestmark = pytest.mark.slow

# Beside pep621 (uv.lock), dockerfile, pyenv (.python-version) and the regex managers:
# GitLab's images through Renovate's own manager; Azure's uv version through a regex one.
CI_MANAGERS = {"gitlab": {"gitlabci"}, "azure": set()}
GIT = ["git", "-c", "user.name=tests", "-c", "user.email=tests@localhost"]


def _extracted(project: Path, scratch: Path) -> dict[str, list[dict[str, Any]]]:
    """Renovate's extraction on the project: manager -> the package files it read."""
    env = {
        **os.environ,
        "RENOVATE_PLATFORM": "local",
        "RENOVATE_DRY_RUN": "extract",
        "RENOVATE_BASE_DIR": str(scratch),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "info",
    }
    result = subprocess.run(
        renovate(),
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    errors = [r for r in records if r.get("level", 0) >= 50]  # bunyan's error and fatal
    assert result.returncode == 0 and not errors, result.stdout[-6000:] + result.stderr
    (extracted,) = [r for r in records if r.get("msg") == "Extracted dependencies"]
    return extracted["packageFiles"]


def _as_installed(project: Path) -> None:
    """What a render from the installed package records (tests/test_release.py): the
    package's Source URL and release tag, where a render from this checkout records a
    path and a commit."""
    release = installed_release()
    answers = project / ".copier-answers.yml"
    text = answers.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^_src_path: .*$", f"_src_path: {release.source}", text)
    text = re.sub(r"(?m)^_commit: .*$", f"_commit: {release.tag}", text)
    answers.write_text(text, encoding="utf-8")
    run(project, *GIT, "commit", "--quiet", "--all", "-m", "Rendered from the package")


def _pins(project: Path) -> list[str]:
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    return [
        pin
        for repo in config["repos"]
        for hook in repo["hooks"]
        for pin in hook.get("additional_dependencies", [])
    ]


def test_renovate_reads_what_the_page_promises_and_not_the_template(tmp_path: Path) -> None:
    # One test for both providers: on a fresh machine Renovate's install (about 130 s from
    # npm, begun in the background by ./dev test) is waited for on one worker, not two.
    for provider in sorted(CI_MANAGERS):
        _check(provider, tmp_path / provider)


def _check(provider: str, tmp_path: Path) -> None:
    project = copier_copy(tmp_path / "model", {"maturity_level": 1, "ci_provider": provider})
    _as_installed(project)

    found = _extracted(project, tmp_path / "renovate")
    assert set(found) == {"pep621", "dockerfile", "regex", "pyenv", *CI_MANAGERS[provider]}
    (pyproject,) = found["pep621"]
    assert pyproject["lockFiles"] == ["uv.lock"]
    regex = {f["packageFile"]: f["deps"] for f in found["regex"]}
    hooks = regex.pop(".pre-commit-config.yaml")
    assert sorted(f"{d['depName']}=={d['currentValue']}" for d in hooks) == sorted(_pins(project))
    pipelines = sorted(project.glob("azure-pipelines*.yml"))
    assert sorted(regex) == [p.name for p in pipelines]
    for pipeline in pipelines:
        (uv_pin,) = regex[pipeline.name]
        variables = yaml.safe_load(pipeline.read_text(encoding="utf-8"))["variables"]
        assert (uv_pin["depName"], uv_pin["currentValue"]) == ("uv", variables["uvVersion"])
    (dockerfile,) = found["dockerfile"]
    text = (project / "Dockerfile").read_text(encoding="utf-8")
    images = re.findall(r"(?m)^FROM (\S+:\S+)|--from=(\S+:\S+)", text)
    named = {ref.rpartition(":")[0] for pair in images for ref in pair if ref}
    assert {d["depName"] for d in dockerfile["deps"]} == named

    # The check can fail: with Renovate's default, the Copier manager reads the release.
    config_file = project / "renovate.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    del config["copier"]
    config_file.write_text(json.dumps(config), encoding="utf-8")
    run(project, *GIT, "commit", "--quiet", "--all", "-m", "Renovate's default")
    (answers,) = _extracted(project, tmp_path / "renovate-default")["copier"]
    (template,) = answers["deps"]
    release = installed_release()
    assert (template["depName"], template["currentValue"]) == (release.source, release.tag)
