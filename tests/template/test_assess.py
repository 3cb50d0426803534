"""`assess` on fresh renders: each reports the level it was rendered at, and falls one level
when a file (or a pipeline stage) that level needs is deleted, naming it in its to-do."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from matrix import RENDERS, answers

from mlops_ladder.render import copier_copy
from mlops_ladder.review.assess import assess

# A file whose loss drops each level by one, per CI provider, and the text the to-do shows.
REQUIRED = {
    1: {
        "github": (".github/workflows/ci.yml", "calls `.github/workflows/ci.yml`"),
        "gitlab": (".gitlab-ci.yml", ".gitlab-ci.yml"),
        "azure": ("azure-pipelines.yml", "azure-pipelines.yml"),
        "none": (".pre-commit-config.yaml", ".pre-commit-config.yaml"),
    },
    2: {provider: ("dvc.yaml", "dvc.yaml") for provider in ("github", "gitlab", "azure", "none")},
}
# Level 3 is lost with the `card` stage, whatever the provider (its CI file holds level 1).
CARD_TODO = "Write a model card per version"
# Level 4 is lost with the scheduled monitor: its workflow or pipeline file, or on GitLab
# (one file for every level) its jobs.
SCHEDULE_TODO = "Schedule monitoring in CI"
MONITOR_FILES = {
    "github": ".github/workflows/monitor.yml",
    "azure": "azure-pipelines-monitor.yml",
}


def _remove_card_stage(project: Path) -> None:
    pipeline = project / "dvc.yaml"
    stages = yaml.safe_load(pipeline.read_text(encoding="utf-8"))
    del stages["stages"]["card"]
    pipeline.write_text(yaml.safe_dump(stages, sort_keys=False), encoding="utf-8")


def _remove_monitor(project: Path, provider: str) -> None:
    if provider in MONITOR_FILES:
        (project / MONITOR_FILES[provider]).unlink()
        return
    config = project / ".gitlab-ci.yml"
    jobs = yaml.safe_load(config.read_text(encoding="utf-8"))
    del jobs["monitor"], jobs["retrain"]
    config.write_text(yaml.safe_dump(jobs, sort_keys=False), encoding="utf-8")


def _expected_level(level: int, provider: str) -> int:
    # Without CI nothing runs the training pipeline on its own (ML206): level 2 rendered
    # with ci_provider=none is assessed as level 1, and says why.
    return 1 if level >= 2 and provider == "none" else level


@pytest.mark.parametrize(("name", "level"), RENDERS, ids=[f"level{lv}-{n}" for n, lv in RENDERS])
def test_a_fresh_render_reports_its_level(name: str, level: int, tmp_path: Path) -> None:
    data = answers(name, level, initialize_git=True)  # a fresh render has its uv.lock
    project = copier_copy(tmp_path / "project", data)
    provider = data.get("ci_provider", "none")
    assessment = assess(project)
    expected = _expected_level(level, provider)
    assert assessment.level == expected, [(r.name, r.err_msg) for r in assessment.todo()]
    if expected < level:
        assert [r.name for r in assessment.todo()] == ["ML206"]
    if expected == 0:
        return
    if expected == 4:
        _remove_monitor(project, provider)
        named = SCHEDULE_TODO
    elif expected == 3:
        _remove_card_stage(project)
        named = CARD_TODO
    else:
        deleted, named = REQUIRED[expected][provider]
        (project / deleted).unlink()
    fallen = assess(project)
    assert fallen.level == expected - 1
    assert any(named in r.err_msg for r in fallen.todo()), [r.err_msg for r in fallen.todo()]
