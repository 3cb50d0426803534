"""``mlops-ladder assess``: which MLOps maturity level a repository has reached.

A repo-review plugin (entry points in pyproject.toml), so ``repo-review PATH`` and its
pre-commit hook, GitHub Action and web view show these checks too. Families ML0 to ML4 are
the levels of the Microsoft MLOps maturity model; :mod:`.assess` turns their results into
the level reached and a to-do list for the next one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_ladder.review.checks import CHECKS
from mlops_ladder.review.evidence import Evidence, collect

if TYPE_CHECKING:  # importlib.resources.abc is new in Python 3.11
    from importlib.abc import Traversable

# The maturity model's names (hooks/answers.py has the same for the template, which an
# installed mlops-ladder does not ship; a test keeps the two equal).
LEVELS = {
    0: "No MLOps",
    1: "DevOps but no MLOps",
    2: "Automated training",
    3: "Automated model deployment",
    4: "Full MLOps automated operations",
}


def level_of(family: str) -> int:
    """The maturity level a family of checks belongs to ("ML2" -> 2)."""
    return int(family.removeprefix("ML"))


def mlops(root: Traversable) -> Evidence:
    """repo-review fixture: what the checks look at, read once per repository."""
    return collect(root)


def repo_review_checks() -> dict[str, Any]:
    """repo-review entry point: the checks, by id."""
    return {check.__name__: check() for check in CHECKS}


def repo_review_families() -> dict[str, dict[str, Any]]:
    """repo-review entry point: one family per maturity level, in order."""
    return {
        f"ML{level}": {
            "name": f"MLOps level {level}: {name}",
            "order": 100 + level,
            "description": (
                "What every level builds on; level 1 needs these too."
                if level == 0
                else f"Level {level} is reached when these and every family below pass."
            ),
        }
        for level, name in LEVELS.items()
    }
