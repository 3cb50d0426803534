"""Projects made from each release of the template update to this checkout's template.

For each release in RELEASES, projects rendered from it at levels 0, 2 and 4 take
`mlops-ladder update` to this checkout, committed as the next release. Each
must then hold the files a fresh render of that next release with the same answers gives,
`.copier-answers.yml` included: what the three-way merge and the template's `_migrations`
(copier.yml) make of a release's project is what a new project gets. `uv.lock` is locked
again from the project's own, so it is checked against `pyproject.toml` instead.

A release is added here when it is tagged (docs/contributing.md, "Releasing").
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from generated import assert_same_tree, run, template_history, uv
from typer.testing import CliRunner

from mlops_ladder.cli import app
from mlops_ladder.release import installed_release
from mlops_ladder.render import copier_copy

pytestmark = pytest.mark.slow

# Each release's tag and its commit in this repository's history.
RELEASES = {"v0.1.0": "ea2d0fdcaf40d85d40c2b511ffba91b9c34372c1"}


@pytest.mark.parametrize("release", sorted(RELEASES))
@pytest.mark.parametrize("level", [0, 2, 4])
def test_a_release_s_project_updates_to_what_a_new_project_gets(
    release: str, level: int, tmp_path: Path
) -> None:
    template = template_history(tmp_path / "template", RELEASES)
    following = installed_release().tag  # this checkout's version, as the next release
    assert following not in RELEASES, f"pyproject.toml's version is released: {following}"
    run(template, "git", "tag", following)
    answers = {"maturity_level": level, "project_name": "Penguin Model"}

    project = copier_copy(tmp_path / "project", answers, vcs_ref=release, template=template)
    result = CliRunner().invoke(app, ["update", str(project)])
    assert result.exit_code == 0, result.output
    assert run(project, "git", "status", "--porcelain").stdout.strip(), "nothing was updated"

    # A new project with the answers the updated one records (a default that changed
    # between releases stays the project's answer, as Copier means it to).
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    same = {key: value for key, value in recorded.items() if not key.startswith("_")}
    fresh = copier_copy(tmp_path / "fresh", same, vcs_ref=following, template=template)
    assert_same_tree(project, fresh, ignore=("uv.lock",))
    run(project, uv(), "lock", "--locked")
