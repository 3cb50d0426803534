"""Moving a Copier-made project to a higher level or a newer template version.

Copier does the work (`copier update`: a 3-way merge of the template's changes into the
project's own edits); this module adds what its users ask for first: refusing what cannot
end well before anything is written (a dirty tree, a repo not made from this template, a
level that goes down or does not exist), saying what a climb will add, and listing the
files left with conflicts and what to do about each.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version
from uv import find_uv_bin

from mlops_ladder.render import answer_rules, copier_copy, copier_update

ANSWERS_FILE = ".copier-answers.yml"
HIGHEST_LEVEL = 4
# What Copier writes where its change and the project's edit touch the same lines.
CONFLICT_MARKERS = ("<<<<<<< before updating", ">>>>>>> after updating")


class UpgradeError(Exception):
    """A request refused before anything was changed."""


@dataclass(frozen=True)
class Outcome:
    """What an update changed, and where it needs a person."""

    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # files with inline markers
    rejected: list[str] = field(default_factory=list)  # .rej files Copier could not merge
    lock_error: str = ""  # why `uv lock` failed after the update, if it did


def read_answers(project: Path) -> dict[str, Any]:
    """The answers Copier recorded; refuses a folder this template did not make."""
    path = project / ANSWERS_FILE
    if not project.is_dir():
        raise UpgradeError(f"{project} is not a folder.")
    if not path.is_file():
        raise UpgradeError(
            f"{project} was not made from this template with Copier: it has no {ANSWERS_FILE}. "
            "Render a new project with `mlops-ladder new` and move your code into it."
        )
    try:
        answers = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise UpgradeError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(answers, dict) or "maturity_level" not in answers:
        raise UpgradeError(
            f"{path} has no maturity_level: {project} was made from another Copier template."
        )
    return answers


def profile_answers(source: str, chosen: Mapping[str, Any]) -> dict[str, Any]:
    """A new project's answers under the organisation profile at ``source``: the profile's
    answers, the team's ``chosen`` ones over them, the profile's locks, and the profile
    itself, recorded (a path as an absolute one) so every update reads it again. Refuses a
    chosen answer the profile locks; a profile that cannot be read or is wrong raises
    ValueError."""
    rules = answer_rules()
    if not rules.is_profile_url(source):
        source = str(Path(source).expanduser().resolve())
    profile = rules.load_profile(source)
    _refuse_locked(chosen, profile)
    return {**profile.answers, **chosen, **profile.locked, "org_profile": source}


def locked_answers(answers: Mapping[str, Any], chosen: Mapping[str, Any]) -> dict[str, Any]:
    """The answers the project's organisation profile locks, read again now, so an update
    or a climb applies its current locks (its owners may have changed one). Refuses a
    ``chosen`` answer the profile locks."""
    source = str(answers.get("org_profile") or "")
    if not source:
        return {}
    profile = answer_rules().load_profile(source)
    _refuse_locked(chosen, profile)
    return dict(profile.locked)


def _refuse_locked(chosen: Mapping[str, Any], profile: Any) -> None:
    refusals = answer_rules().locked_errors(chosen, profile)
    if refusals:
        raise UpgradeError(" ".join(refusals))


def _changed_files(project: Path) -> list[str] | None:
    """The paths git reports as changed or untracked; None outside a git repository."""
    result = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return None
    return sorted(line[3:] for line in result.stdout.splitlines())


def require_clean_tree(project: Path) -> None:
    """Refuse uncommitted changes: the update's own changes must be reviewable on their own."""
    dirty = _changed_files(project)
    if dirty is None:
        raise UpgradeError(
            f"{project} is not a git repository: Copier's update merges against the history "
            "it records there (git init && git add --all && git commit)."
        )
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise UpgradeError(
            f"{project} has uncommitted changes ({shown}): commit or stash them first, so "
            "that what the update changes can be reviewed, and undone, on its own."
        )


def target_level(current: int, to: int | None) -> int:
    """The level a climb goes to (one up by default), refused when it cannot be built."""
    target = current + 1 if to is None else to
    if target > HIGHEST_LEVEL or target < 0:
        raise UpgradeError(f"There is no level {target}: the levels are 0 to {HIGHEST_LEVEL}.")
    if target <= current:
        raise UpgradeError(
            f"The project is at level {current}; climb only goes up (to {current + 1} or "
            "higher). Going down would delete files the team may rely on: remove them by hand."
        )
    if current >= HIGHEST_LEVEL:
        raise UpgradeError(f"The project is at level {current}, the highest.")
    try:
        # The built levels, or the level under construction when MLOPS_LADDER_PREVIEW asks.
        built = answer_rules().highest_level()
    except FileNotFoundError:  # installed without a checkout: Copier's validator refuses it
        return target
    if target > built:
        raise UpgradeError(
            f"Level {target} is not built in this version of the template (the highest is "
            f"{built}); `mlops-ladder check-update` says when a newer release exists."
        )
    return target


def files_added(
    answers: Mapping[str, Any], changes: Mapping[str, Any], vcs_ref: str | None
) -> list[str]:
    """The files the project would have with ``changes`` to its answers that it lacks now."""
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    data["initialize_git"] = False
    template = answers.get("_src_path")  # where the update will render from too
    with tempfile.TemporaryDirectory(prefix="mlops-ladder-plan-") as scratch:
        trees = []
        for name, rendered in (("now", data), ("after", {**data, **changes})):
            folder = Path(scratch) / name
            copier_copy(folder, rendered, vcs_ref=vcs_ref, template=template)
            trees.append({str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()})
    return sorted(trees[1] - trees[0])


def run_update(project: Path, data: Mapping[str, Any], vcs_ref: str | None) -> Outcome:
    """`copier update` with these answers changed; then what changed and what conflicts."""
    copier_update(project, data, vcs_ref=vcs_ref, quiet=True)
    lock_error = _relock(project)
    changed = _changed_files(project) or []
    conflicts = [path for path in changed if _has_markers(project / path)]
    rejected = [path for path in changed if path.endswith(".rej")]
    return Outcome(changed, conflicts, rejected, lock_error)


def _relock(project: Path) -> str:
    """Lock again from the project's own lock file.

    Copier merges uv.lock like any file: its fresh renders lock too, so their lock's changes
    land on the project's, which the project's own dependencies have moved on from (a
    stale or conflicted lock). The project's committed lock plus `uv lock` is the lock of
    the merged pyproject.toml, changed as little as possible. Returns uv's error, if any.
    """
    tracked = subprocess.run(
        ["git", "cat-file", "-e", "HEAD:uv.lock"], cwd=project, capture_output=True, check=False
    )
    if tracked.returncode != 0:
        return ""
    subprocess.run(["git", "checkout", "HEAD", "--", "uv.lock"], cwd=project, check=True)
    result = subprocess.run(
        [find_uv_bin(), "lock", "--quiet"], cwd=project, capture_output=True, text=True
    )
    # pyproject.toml with conflict markers, say: locking waits for the user's fix.
    return result.stderr.strip() if result.returncode != 0 else ""


def _has_markers(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return any(marker in text for marker in CONFLICT_MARKERS)


def latest_release(source: str) -> Version | None:
    """The highest PEP 440 release tag of the template at ``source`` (a path or a URL, as
    the answers file records it: ``gh:org/repo`` and ``git+https://...`` included)."""
    result = subprocess.run(
        ["git", "ls-remote", "--tags", "--refs", answer_rules().git_url(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise UpgradeError(f"Cannot read the template's tags at {source}: {result.stderr.strip()}")
    versions = [_version(line.rsplit("refs/tags/", 1)[-1]) for line in result.stdout.splitlines()]
    releases = [v for v in versions if v is not None and not v.is_prerelease]
    return max(releases, default=None)


def recorded_version(answers: Mapping[str, Any]) -> Version | None:
    """The template release the project was last rendered from (None: an untagged commit)."""
    return _version(str(answers.get("_commit", "")))


def _version(tag: str) -> Version | None:
    try:
        return Version(tag)
    except InvalidVersion:
        # `git describe` form, as Copier records a commit after a tag: v0.1.0-3-gabc123.
        base = tag.split("-", 1)[0]
        try:
            return Version(base) if base != tag else None
        except InvalidVersion:
            return None
