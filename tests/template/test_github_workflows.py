"""GitHub's workflows, their triggers read as GitHub reads them: each push to main, release
tag and pull request runs the checks (ci.yml's jobs) once, at every level with CI.

The runs themselves are on act (test_level1, test_scenario); this is what act cannot show,
since it starts the one workflow it is given rather than every one an event starts."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml
from matrix import LEVELS, answers

from mlops_ladder.render import copier_copy

CHECKS = "ci.yml"
# (event, the ref it is for: a pull request's is its base branch)
EVENTS = {
    "a push to main": ("push", "refs/heads/main"),
    "a release tag": ("push", "refs/tags/v1.2.0"),
    "a pull request": ("pull_request", "refs/heads/main"),
}


def _starts(workflow: dict[Any, Any], event: str, ref: str) -> bool:
    """Whether ``event`` for ``ref`` starts the workflow (branch and tag filters; the
    workflows filter on nothing else)."""
    # PyYAML reads the key `on` as YAML 1.1's true.
    triggers = workflow.get("on", workflow.get(True))
    if isinstance(triggers, str | list):
        triggers = dict.fromkeys([triggers] if isinstance(triggers, str) else triggers)
    if event not in triggers:
        return False
    filters = triggers[event] or {}
    assert not {"paths", "paths-ignore", "branches-ignore", "tags-ignore"} & set(filters), (
        f"a filter this test does not read: {filters}"
    )
    kind, name = ref.removeprefix("refs/").split("/", 1)
    key = "tags" if kind == "tags" else "branches"
    if key in filters:
        return any(fnmatch(name, pattern) for pattern in filters[key])
    # A push filtered on the other kind of ref only (tags alone, say) is not started.
    return event != "push" or not {"branches", "tags"} & set(filters)


def _check_runs(workflows: dict[str, dict[Any, Any]], event: str, ref: str) -> list[str]:
    """The runs of the checks that ``event`` starts: ci.yml's own, and each call of it."""
    runs = []
    for name, workflow in workflows.items():
        if not _starts(workflow, event, ref):
            continue
        if name == CHECKS:
            runs.append(name)
        for job_id, job in workflow["jobs"].items():
            if str(job.get("uses", "")).endswith(f"/.github/workflows/{CHECKS}"):
                runs.append(f"{name}'s job {job_id}")
    return runs


@pytest.mark.parametrize("level", [level for level in LEVELS if level >= 1])
def test_every_event_runs_the_checks_once(level: int, tmp_path: Path) -> None:
    data = answers("py310-classification-sample-mit", level)
    assert data["ci_provider"] == "github", data
    project = copier_copy(tmp_path / "project", data)
    folder = project / ".github" / "workflows"
    workflows = {
        path.name: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.yml"))
    }
    for description, (event, ref) in EVENTS.items():
        runs = _check_runs(workflows, event, ref)
        assert len(runs) == 1, f"{description} runs the checks {len(runs)} times: {runs}"
