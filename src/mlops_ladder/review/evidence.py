"""What the checks look at: one pass over a repository's files, read once.

The checks recognise practices, not this template's file names, so they work on any repo:
CI configs of GitHub Actions, GitLab CI and Azure Pipelines, DVC's files, dependency
declarations of the usual Python tools, and the Python sources' imports. A file that cannot
be read or parsed is kept in ``problems`` with the reason, for the check that needed it to
report by name instead of failing with a traceback.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # importlib.resources.abc is new in Python 3.11
    from importlib.abc import Traversable

# Never evidence of a practice, and big: virtual environments, caches, VCS internals.
_SKIPPED_FOLDERS = frozenset(
    {".git", ".hg", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__", "site"}
    | {".mypy_cache", ".ruff_cache", ".pytest_cache", ".ipynb_checkpoints", "cache", "tmp"}
)
# A repo with a huge data folder is still assessed, on its first files.
_MAX_FILES = 20_000
_MAX_DEPTH = 8

CI_PATTERNS = {
    "GitHub Actions": (".github/workflows/*.yml", ".github/workflows/*.yaml"),
    "GitLab CI": (".gitlab-ci.yml", ".gitlab/*.yml", ".gitlab/**/*.yml"),
    "Azure Pipelines": ("azure-pipelines*.yml", ".azure-pipelines/*.yml", ".azuredevops/*.yml"),
}
DEPENDENCY_FILES = (
    "pyproject.toml",
    "setup.cfg",
    "setup.py",
    "requirements*.txt",
    "requirements/*.txt",
    "environment.yml",
    "environment.yaml",
    "Pipfile",
)
LOCK_FILES = (
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "Pipfile.lock",
    "conda-lock.yml",
    "*.conda-lock.yml",
    "pixi.lock",
)
# Folders whose Python files are not the project's modules.
NOT_MODULES = ("tests/*", "test/*", "notebooks/*", "docs/*", "*/tests/*", "*/test/*")


@dataclass(frozen=True)
class Evidence:
    """The facts the checks need, taken from one repository's files."""

    files: frozenset[str]
    ci: dict[str, Any] = field(default_factory=dict)  # path -> parsed document
    pre_commit: dict[str, Any] = field(default_factory=dict)
    dvc_yaml: dict[str, Any] = field(default_factory=dict)
    dvc_remotes: tuple[str, ...] = ()
    declarations: str = ""  # pyproject.toml, setup.cfg, requirements...: lower-cased
    imports: frozenset[str] = frozenset()  # top-level modules the Python sources import
    code: str = ""  # the project's Python sources (not tests), for names like "/metrics"
    problems: dict[str, str] = field(default_factory=dict)  # path -> why it was not read

    def matching(self, *patterns: str) -> list[str]:
        """Files matching any of the glob patterns (``*`` crosses folders), sorted."""
        return _matching(self.files, patterns)

    def ci_strings(self) -> Iterator[tuple[str, str]]:
        """Every string in every CI config (commands, rules, names), with its file."""
        for path, document in self.ci.items():
            for text in _strings(document):
                yield path, text

    def ci_runs(self, pattern: str) -> list[str]:
        """The CI files with a command or rule matching the regular expression."""
        found = re.compile(pattern)
        return sorted({path for path, text in self.ci_strings() if found.search(text)})

    def uses(self, *names: str) -> bool:
        """Whether the project declares or imports any of these packages."""
        return any(
            re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", self.declarations)
            or name.replace("-", "_") in self.imports
            for name in names
        )

    def broken(self, *patterns: str) -> list[str]:
        """'<file>: <reason>' for each unreadable file matching the patterns."""
        return [
            f"`{path}`: {why}"
            for path, why in sorted(self.problems.items())
            if any(fnmatch.fnmatch(path, g) for g in patterns)
        ]


def _matching(files: frozenset[str], patterns: tuple[str, ...]) -> list[str]:
    return sorted(p for p in files if any(fnmatch.fnmatch(p, g) for g in patterns))


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _walk(root: Traversable) -> dict[str, Traversable]:
    found: dict[str, Traversable] = {}
    folders: list[tuple[str, Traversable, int]] = [("", root, 0)]
    while folders and len(found) < _MAX_FILES:
        prefix, folder, depth = folders.pop()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            path = f"{prefix}{entry.name}"
            if entry.is_dir():
                if entry.name not in _SKIPPED_FOLDERS and depth < _MAX_DEPTH:
                    folders.append((f"{path}/", entry, depth + 1))
            elif entry.is_file():
                found[path] = entry
    return found


class _Reader:
    """Reads files, keeping the reason for each that cannot be read or parsed."""

    def __init__(self, entries: dict[str, Traversable]) -> None:
        self.entries = entries
        self.problems: dict[str, str] = {}

    def text(self, path: str) -> str | None:
        try:
            return self.entries[path].read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.problems[path] = f"cannot be read ({error.__class__.__name__}: {error})"
            return None

    def yaml(self, path: str) -> dict[str, Any]:
        text = self.text(path)
        if text is None:
            return {}
        try:
            # GitLab's !reference and Azure's ${{ }} are plain strings to the safe loader;
            # custom tags are not, so they read as unknown tags, not as errors.
            document = yaml.load(text, Loader=_CiLoader)  # a SafeLoader
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark else ""
            problem = getattr(error, "problem", None) or str(error)
            self.problems[path] = f"is not valid YAML{where}: {problem}"
            return {}
        if document is None:
            return {}
        if not isinstance(document, dict):
            self.problems[path] = f"is YAML but not a mapping (a {type(document).__name__})"
            return {}
        return document


class _CiLoader(yaml.SafeLoader):
    """A safe loader that reads unknown tags (GitLab's ``!reference``) as their values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_CiLoader.add_multi_constructor("!", _any_tag)


def _dvc_remotes(text: str) -> tuple[str, ...]:
    # DVC writes sections as ['remote "name"'] (configobj), which configparser misreads.
    return tuple(re.findall(r"""^\s*\[\s*'?remote\s+"([^"]+)"'?\s*\]""", text, re.MULTILINE))


def _local_workflows(document: dict[str, Any]) -> list[str]:
    """The repository's own workflows a GitHub workflow's jobs call (``./`` or ``$/``)."""
    jobs = document.get("jobs")
    if not isinstance(jobs, dict):
        return []
    called = [str(job.get("uses", "")) for job in jobs.values() if isinstance(job, dict)]
    return [uses[2:] for uses in called if uses[:2] in {"./", "$/"}]


def _imports(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def collect(root: Traversable) -> Evidence:
    """Read what the checks need from the repository at ``root``."""
    entries = _walk(root)
    files = frozenset(entries)
    reader = _Reader(entries)
    ci = {
        path: reader.yaml(path)
        for patterns in CI_PATTERNS.values()
        for path in _matching(files, patterns)
    }
    for path, document in ci.items():
        for called in _local_workflows(document):
            if called not in files:
                reader.problems[path] = f"calls `{called}`, which is not in the repository"
    pre_commit, dvc_yaml = (
        reader.yaml(name) if name in files else {}
        for name in (".pre-commit-config.yaml", "dvc.yaml")
    )
    dvc_config = "\n".join(
        text
        for path in (".dvc/config", ".dvc/config.local")
        if path in files and (text := reader.text(path)) is not None
    )
    declarations = [reader.text(path) for path in _matching(files, DEPENDENCY_FILES)]
    sources = {
        path: reader.text(path)
        for path in _matching(files, ("*.py",))
        if not any(fnmatch.fnmatch(path, g) for g in NOT_MODULES)
    }
    module_text = "\n".join(text for text in sources.values() if text)
    imports = set().union(*(_imports(text) for text in sources.values() if text))
    return Evidence(
        files=files,
        ci=ci,
        pre_commit=pre_commit,
        dvc_yaml=dvc_yaml,
        dvc_remotes=_dvc_remotes(dvc_config),
        declarations="\n".join(text for text in declarations if text).lower(),
        imports=frozenset(imports),
        code=module_text,
        problems=reader.problems,
    )
