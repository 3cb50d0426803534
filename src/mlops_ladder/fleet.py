"""Where many repositories stand: a platform group's view of its fleet.

Per repository (a folder, or a git URL cloned as shallow as a CI checkout): the MLOps
level its checks reach (``assess``), the template release it was rendered from, whether a
newer release is waiting, the template-managed files the team edited or deleted, and what
the next level needs. The edits are found by asking Copier for the render the project's
recorded answers give at its recorded release, and comparing it with the repository.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape
from packaging.version import Version

from mlops_ladder.render import copier_copy
from mlops_ladder.review import LEVELS
from mlops_ladder.review.assess import HIGHEST, AssessError, assess
from mlops_ladder.upgrade import (
    ANSWERS_FILE,
    UpgradeError,
    latest_release,
    read_answers,
    recorded_version,
)

_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|git@)")
# Copier's own record differs by the one answer the reference render changes
# (initialize_git: no git, no lock there); the lock is not rendered at all.
_SKIP = {".git", ANSWERS_FILE}


@dataclass(frozen=True)
class RepoReport:
    repository: str  # as given: a folder or a git URL
    level: int | None = None
    template_version: str | None = None  # the release (or commit) it was rendered from
    update: str = ""  # "up to date", "0.1.0 -> 0.2.0", or why it is not known
    edited: tuple[str, ...] = ()  # template-managed files whose content the team changed
    deleted: tuple[str, ...] = ()  # template-managed files the team removed
    todo: tuple[str, ...] = ()  # the failing checks between it and the next level
    edits_unknown: str = ""  # why edited/deleted are not known: its release cannot be rendered
    error: str = ""  # why it could not be assessed at all


def survey(repositories: Sequence[str]) -> list[RepoReport]:
    """One report per repository, in the order given."""
    with tempfile.TemporaryDirectory(prefix="mlops-ladder-fleet-") as scratch:
        return [_report(repo, Path(scratch) / str(i)) for i, repo in enumerate(repositories)]


def _report(repository: str, scratch: Path) -> RepoReport:
    try:
        folder = _checkout(repository, scratch) if _URL.match(repository) else Path(repository)
        assessment = assess(folder)
    except (AssessError, UpgradeError) as error:
        return RepoReport(repository, error=str(error))
    level = assessment.level
    todo = () if level == HIGHEST else tuple(r.name for r in assessment.todo())
    if not (folder / ANSWERS_FILE).is_file():
        return RepoReport(repository, level, todo=todo, update="not made from this template")
    try:
        answers = read_answers(folder)
    except (UpgradeError, ValueError, OSError) as error:
        return RepoReport(repository, level, todo=todo, error=str(error))
    edited: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    unknown = ""
    try:
        edited, deleted = _edits(folder, answers, scratch / "reference")
    except (UpgradeError, ValueError, OSError) as error:
        # The template's repository cannot be reached or lacks the release (offline, moved,
        # private): the rest of the row stands.
        release, source = answers.get("_commit"), answers.get("_src_path")
        unknown = f"cannot render its release {release} from {source}: {str(error).strip()}"
    return RepoReport(
        repository,
        level,
        template_version=str(answers.get("_commit") or "") or None,
        update=_pending(answers),
        edited=edited,
        deleted=deleted,
        todo=todo,
        edits_unknown=unknown,
    )


def _checkout(url: str, scratch: Path) -> Path:
    result = subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", url, str(scratch / "repository")],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise UpgradeError(f"Cannot clone {url}: {result.stderr.strip()}")
    return scratch / "repository"


def _edits(
    project: Path, answers: dict[str, Any], reference: Path
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The template-managed files the project changed and removed since its last render."""
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    data["initialize_git"] = False  # only the template's files, quickly
    copier_copy(reference, data, vcs_ref=answers.get("_commit"), template=str(answers["_src_path"]))
    edited, deleted = [], []
    for path in sorted(_files(reference)):
        ours = project / path
        if not ours.is_file():
            deleted.append(path)
        elif ours.read_bytes() != (reference / path).read_bytes():
            edited.append(path)
    return tuple(edited), tuple(deleted)


def _files(root: Path) -> Iterable[str]:
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and not _SKIP.intersection(relative.parts):
            yield relative.as_posix()


def _pending(answers: dict[str, Any]) -> str:
    current = recorded_version(answers)
    try:
        latest = _latest(str(answers.get("_src_path", "")))
    except UpgradeError as error:
        return f"unknown: {error}"
    if latest is None:
        return "no release yet"
    if current is not None and current >= latest:
        return "up to date"
    return f"{current or answers.get('_commit')} -> {latest}"


@cache
def _latest(source: str) -> Version | None:
    # Every repository of a fleet usually names the same template: ask it once.
    return latest_release(source)


def as_json(reports: Sequence[RepoReport]) -> str:
    rows = []
    for report in reports:
        row = asdict(report)
        row["level_name"] = LEVELS[report.level] if report.level is not None else None
        rows.append(row)
    return json.dumps(rows, indent=2)


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>MLOps maturity of {{ reports | length }} repositories</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem; color: #1f2328; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border-bottom: 1px solid #d0d7de; padding: .45rem .6rem; text-align: left;
           vertical-align: top; }
  th { background: #f6f8fa; position: sticky; top: 0; }
  .level { font-weight: 600; white-space: nowrap; }
  .level-0 { color: #cf222e; } .level-1, .level-2 { color: #9a6700; }
  .level-3, .level-4 { color: #1a7f37; }
  .pending { color: #9a6700; } .error { color: #cf222e; }
  ul { margin: 0; padding-left: 1.1rem; } code { font-size: 13px; }
  .summary span { margin-right: 1.5rem; }
</style>
</head>
<body>
<h1>MLOps maturity of {{ reports | length }} repositories</h1>
<p class="summary">{% for level, name in levels.items() -%}
<span>level {{ level }} ({{ name }}): <strong>{{ counts[level] }}</strong></span>
{%- endfor %}<span>updates waiting: <strong>{{ waiting }}</strong></span></p>
<table>
<thead><tr><th>repository</th><th>level</th><th>template</th><th>update</th>
<th>edited template files</th><th>next level needs</th></tr></thead>
<tbody>
{% for r in reports %}<tr>
<td><code>{{ r.repository }}</code></td>
{% if r.error %}<td colspan="5" class="error">{{ r.error }}</td>{% else %}
<td class="level level-{{ r.level }}">{{ r.level }} {{ levels[r.level] }}</td>
<td>{{ r.template_version or "-" }}</td>
<td{% if "->" in r.update %} class="pending"{% endif %}>{{ r.update }}</td>
<td>{% if r.edits_unknown %}<span class="error">unknown: {{ r.edits_unknown }}</span>
{% elif r.edited or r.deleted %}<ul>{% for p in r.edited %}<li><code>{{ p }}</code></li>
{% endfor %}{% for p in r.deleted %}<li><code>{{ p }}</code> (deleted)</li>{% endfor %}
</ul>{% else %}none{% endif %}</td>
<td>{% if r.todo %}{{ r.todo | join(", ") }}{% else %}-{% endif %}</td>{% endif %}
</tr>
{% endfor %}</tbody>
</table>
</body>
</html>
"""


def as_html(reports: Sequence[RepoReport]) -> str:
    """One self-contained page (no script, no external asset), every value escaped."""
    environment = Environment(autoescape=select_autoescape(default=True))
    counts = {level: sum(r.level == level for r in reports) for level in LEVELS}
    waiting = sum("->" in r.update for r in reports)
    return environment.from_string(_PAGE).render(
        reports=reports, levels=LEVELS, counts=counts, waiting=waiting
    )
