"""Running the checks on a folder and reading a maturity level out of their results."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from repo_review.processor import Result, process

from mlops_ladder.review import LEVELS, level_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # repo-review reads pyproject.toml with tomli before 3.11
    import tomli as tomllib

HIGHEST = max(LEVELS)


class AssessError(Exception):
    """The folder cannot be assessed (missing, not a folder, unreadable project file)."""


@dataclass(frozen=True)
class Assessment:
    path: Path
    results: tuple[Result, ...]

    @property
    def level(self) -> int:
        """The highest level whose checks, and those of every level below, all pass."""
        reached = 0
        for level in range(1, HIGHEST + 1):
            if any(r.result is False for r in self.results if level_of(r.family) <= level):
                break
            reached = level
        return reached

    def todo(self) -> list[Result]:
        """The failed checks that stand between this repo and the next level."""
        target = min(self.level + 1, HIGHEST)
        return [r for r in self.results if r.result is False and level_of(r.family) <= target]


def assess(path: Path) -> Assessment:
    """Run the ML checks (and only those) on the repository at ``path``."""
    if not path.exists():
        raise AssessError(f"{path} does not exist.")
    if not path.is_dir():
        raise AssessError(f"{path} is a file; assess a repository's folder.")
    try:
        _, results = process(path, select=frozenset({"ML"}))
    except tomllib.TOMLDecodeError as error:
        raise AssessError(f"{path / 'pyproject.toml'} is not valid TOML: {error}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise AssessError(f"{path} cannot be read: {error}") from error
    return Assessment(path, tuple(r for r in results if r.family in _families()))


def _families() -> set[str]:
    return {f"ML{level}" for level in LEVELS}


def _status(result: Result) -> str:
    return {True: "pass", False: "fail", None: "skipped"}[result.result]


def as_json(assessment: Assessment) -> str:
    return json.dumps(
        {
            "path": str(assessment.path),
            "level": assessment.level,
            "level_name": LEVELS[assessment.level],
            "checks": [
                {
                    "id": r.name,
                    "level": level_of(r.family),
                    "title": r.description,
                    "status": _status(r),
                    "message": r.err_msg,
                }
                for r in assessment.results
            ],
            "todo": [{"id": r.name, "message": r.err_msg} for r in assessment.todo()],
        },
        indent=2,
    )


def as_markdown(assessment: Assessment) -> str:
    level = assessment.level
    lines = [f"# MLOps maturity of `{assessment.path}`: level {level} ({LEVELS[level]})", ""]
    for family_level, name in LEVELS.items():
        lines += [f"## Level {family_level}: {name}", "", "| check | | result |", "|---|---|---|"]
        for r in assessment.results:
            if level_of(r.family) == family_level:
                mark = {True: "✅", False: "❌", None: "⏭️"}[r.result]
                lines.append(f"| {r.name} | {r.description} | {mark} {r.err_msg} |".rstrip())
        lines.append("")
    lines += todo_lines(assessment)
    return "\n".join(lines).rstrip() + "\n"


def todo_lines(assessment: Assessment) -> list[str]:
    if assessment.level == HIGHEST:
        return ["Every level's checks pass."]
    heading = f"To reach level {assessment.level + 1} ({LEVELS[assessment.level + 1]}):"
    return [heading, "", *(f"- {r.name}: {r.err_msg}" for r in assessment.todo())]
