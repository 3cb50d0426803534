"""The rules for the template's answers, written once for Copier and Cookiecutter.

Copier calls these through the Jinja extension in ``jinja_extension.py`` (question
validators and derived defaults); Cookiecutter calls the same extension for derived
defaults and ``check_all`` from its pre-generation hook. Each rule returns ``None``
when the value is fine, or one sentence that names the answer, what is wrong and what
to type instead. That sentence is what the user reads under either engine.
"""

from __future__ import annotations

import importlib.util
import keyword
import os
import re
import sys
import unicodedata
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml


def _load_questions() -> ModuleType:
    """questions.py beside this file, loaded by path as this file is (no package)."""
    name = "_mlops_ladder_questions"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("questions.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


# The questions and their choices are declared once, in questions.py.
QUESTIONS = _load_questions().BY_NAME

# The Microsoft MLOps maturity model's names for its levels (shared/seeds), from the
# maturity_level question's labels ("2 - Automated training").
LEVEL_NAMES: dict[int, str] = {
    level: str(label).partition(" - ")[2] for level, label in QUESTIONS["maturity_level"].choices
}
# Levels whose features this version of the template generates. Offering a level that
# renders nothing of its own would be a lie in the generated README, so it is refused.
HIGHEST_BUILT_LEVEL = 4
# The level under construction, if any (None: none now). Users are refused it like any
# unbuilt level; the generator's own tests render it by setting MLOPS_LADDER_PREVIEW to
# its number, so that its files are developed and tested on main before it is offered.
PREVIEW_LEVEL: int | None = None
PREVIEW_VARIABLE = "MLOPS_LADDER_PREVIEW"

# The mlops-ladder release this template belongs to (pyproject.toml's version): generated
# CI runs this release's `mlops-ladder assess`, whose checks match what it generates.
TEMPLATE_VERSION = "0.2.0"
# Copier's shorthands for a template source (copier's _vcs.ALIASES).
_SOURCE_ALIASES = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}

PYTHON_VERSIONS: tuple[str, ...] = QUESTIONS["python_version"].values
LICENSES: tuple[str, ...] = QUESTIONS["license"].values
TASKS: tuple[str, ...] = QUESTIONS["task"].values
CI_PROVIDERS: tuple[str, ...] = QUESTIONS["ci_provider"].values
DATASETS: tuple[str, ...] = QUESTIONS["dataset"].values
TRACKERS: tuple[str, ...] = QUESTIONS["tracking"].values
COMPUTES: tuple[str, ...] = QUESTIONS["compute"].values
DEPLOY_TARGETS: tuple[str, ...] = QUESTIONS["deploy_target"].values

# Target columns of the Palmer penguins sample for each task.
SAMPLE_TARGETS = {"classification": "species", "regression": "body_mass_g"}

# PEP 508 distribution names: letters, digits, and . _ - inside.
_DIST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
# A pragmatic address check: one @, no spaces, a dot in the domain. Full RFC 5322
# parsing would accept addresses no package index or git host takes.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_COLUMN = re.compile(r"^[^\n\r,\"]+$")
# An image reference without tag: a registry host (with a dot or a port, as Docker tells a
# host from a path) and lowercase path components, as the OCI distribution spec allows.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(rf"^[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[0-9]+)?/{_COMPONENT}(?:/{_COMPONENT})*$")
# Where each CI provider's own registry lives; Azure has no shared one, so the default is
# an Azure Container Registry named after the team.
_REGISTRIES = {"github": "ghcr.io", "gitlab": "registry.gitlab.com"}


class AnswerError(ValueError):
    """An answer that cannot produce a working project."""


def _as_int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def dist_name(project_name: str) -> str:
    """Derive the distribution name (and folder name) from the project name."""
    # "Élan" -> "elan": accents are dropped rather than the letters that carry them.
    ascii_name = unicodedata.normalize("NFKD", str(project_name)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if not slug:
        raise AnswerError(_name_error(project_name) or "project_name gives an empty name")
    return slug


def package_name(project_slug: str) -> str:
    """Derive the import name from the distribution name.

    The result is not checked here: a derived name that is a keyword or a standard-library
    module is reported by ``check_package_name`` like a typed one, so the user can override it.
    """
    name = re.sub(r"[^a-z0-9]+", "_", str(project_slug).lower()).strip("_")
    if name and name[0].isdigit():
        # An identifier cannot start with a digit; keep the digits, they name the project.
        name = f"m{name}"
    return name


def _name_error(value: Any) -> str | None:
    if not str(value).strip():
        return "project_name must not be empty: type a name such as 'Penguin Classifier'."
    if not re.search(r"[A-Za-z0-9]", str(value)):
        return (
            f"project_name {value!r} has no letter or digit, so no package name can be "
            "derived from it: use letters and digits."
        )
    return None


def check_project_name(value: Any) -> str | None:
    return _name_error(value)


def check_project_slug(value: Any) -> str | None:
    text = str(value)
    if not _DIST_NAME.match(text):
        return (
            f"project_slug {text!r} is not a valid distribution name: use letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit (e.g. 'penguin-model')."
        )
    return None


def check_package_name(value: Any) -> str | None:
    text = str(value)
    if not text.isidentifier() or not text.isascii():
        return (
            f"package_name {text!r} is not a valid Python identifier: use lowercase letters, "
            "digits and '_', not starting with a digit (e.g. 'penguin_model')."
        )
    if keyword.iskeyword(text) or keyword.issoftkeyword(text):
        return f"package_name {text!r} is a Python keyword: choose another name."
    if text in sys.stdlib_module_names:
        return (
            f"package_name {text!r} shadows the standard-library module '{text}': "
            "choose another name (e.g. 'my_{text}')."
        )
    if text != text.lower():
        return f"package_name {text!r} must be lowercase (PEP 8): use {text.lower()!r}."
    return None


def check_author_email(value: Any) -> str | None:
    if not _EMAIL.match(str(value)):
        return f"author_email {str(value)!r} is not an e-mail address like 'name@example.com'."
    return None


def _check_choice(question: str, value: Any, choices: tuple[str, ...]) -> str | None:
    if str(value) not in choices:
        return f"{question} {str(value)!r} is not one of: {', '.join(choices)}."
    return None


def highest_level() -> int:
    """The highest level a render may take: the built ones, or the preview when asked for."""
    if PREVIEW_LEVEL is not None and os.environ.get(PREVIEW_VARIABLE) == str(PREVIEW_LEVEL):
        return PREVIEW_LEVEL
    return HIGHEST_BUILT_LEVEL


def check_maturity_level(value: Any) -> str | None:
    level = _as_int(value)
    if level not in LEVEL_NAMES:
        return f"maturity_level {value!r} does not exist: the MLOps maturity model has levels 0-4."
    if level > highest_level():
        available = "0" if HIGHEST_BUILT_LEVEL == 0 else f"0 to {HIGHEST_BUILT_LEVEL}"
        return (
            f"maturity_level {level} ({LEVEL_NAMES[level]}) is not built in this version of "
            f"the template yet: it builds level {available}."
        )
    return None


def check_python_version(value: Any) -> str | None:
    return _check_choice("python_version", value, PYTHON_VERSIONS)


def check_license(value: Any) -> str | None:
    return _check_choice("license", value, LICENSES)


def check_task(value: Any) -> str | None:
    return _check_choice("task", value, TASKS)


def check_ci_provider(value: Any) -> str | None:
    return _check_choice("ci_provider", value, CI_PROVIDERS)


def check_container_image(value: Any) -> str | None:
    text = str(value)
    host = text.split("/", 1)[0]
    if not _IMAGE.match(text) or not ("." in host or ":" in host):
        return (
            f"container_image {text!r} is not an image name like 'ghcr.io/my-team/penguin-model': "
            "a registry host, then lowercase path parts separated by '/', and no tag."
        )
    return None


def default_image(ci_provider: Any, author_name: Any, project_slug: Any) -> str:
    """The image the release pushes: the provider's registry, the team, the project."""
    team = re.sub(r"[^a-z0-9]+", "-", str(author_name).lower()).strip("-") or "team"
    name = re.sub(r"[^a-z0-9]+", "-", str(project_slug).lower()).strip("-")
    registry = _REGISTRIES.get(str(ci_provider), f"{team.replace('-', '')}.azurecr.io")
    if str(ci_provider) == "azure":
        return f"{registry}/{name}"
    return f"{registry}/{team}/{name}"


# DVC remote URL schemes, and the dvc extra each needs.
REMOTE_EXTRAS = {"s3": "s3", "azure": "azure", "gs": "gs"}


def check_dvc_remote(value: Any) -> str | None:
    text = str(value).strip()
    scheme, separator, _ = text.partition("://")
    if not text:
        return "dvc_remote must not be empty: give a folder, or an s3://, azure:// or gs:// URL."
    if separator and scheme not in REMOTE_EXTRAS:
        return (
            f"dvc_remote {text!r} uses the scheme {scheme!r}: use a folder path or an "
            "s3://, azure:// or gs:// URL."
        )
    return None


def dvc_remote_url(value: Any) -> str:
    """The remote's URL as .dvc/config needs it: a relative folder is relative to .dvc/."""
    text = str(value).strip()
    if "://" in text or text.startswith("/"):
        return text
    return f"../{text}"


def dvc_extra(value: Any) -> str:
    """The dvc extra a remote needs ('s3', 'azure', 'gs'), or '' for a folder."""
    scheme, separator, _ = str(value).strip().partition("://")
    return REMOTE_EXTRAS.get(scheme, "") if separator else ""


def artifact_name(project_slug: Any) -> str:
    """The model's name in the registry: DVC artifact names are lowercase, digits and '-'."""
    return re.sub(r"[^a-z0-9]+", "-", str(project_slug).lower()).strip("-")


def endpoint_name(project_slug: Any) -> str:
    """An Azure ML online endpoint's name: a letter first, then letters, digits and '-',
    3 to 32 characters (unique in its Azure region)."""
    name = artifact_name(project_slug)
    if not name[:1].isalpha():
        name = f"m-{name}"
    return name[:32].rstrip("-").ljust(3, "0")


def check_tracking(value: Any) -> str | None:
    return _check_choice("tracking", value, TRACKERS)


def check_compute(value: Any) -> str | None:
    return _check_choice("compute", value, COMPUTES)


def check_deploy_target(value: Any) -> str | None:
    return _check_choice("deploy_target", value, DEPLOY_TARGETS)


def check_dataset(value: Any) -> str | None:
    return _check_choice("dataset", value, DATASETS)


def check_csv_path(value: Any, dataset: Any = "csv") -> str | None:
    if str(dataset) != "csv":
        return None
    text = str(value).strip()
    if not text:
        return "csv_path must not be empty when dataset is 'csv': give the path of your CSV file."
    if not text.lower().endswith(".csv"):
        return f"csv_path {text!r} must name a .csv file."
    return None


def check_target_column(value: Any, dataset: Any = "csv") -> str | None:
    if str(dataset) != "csv":
        return None
    text = str(value).strip()
    if not text:
        return (
            "target_column must not be empty when dataset is 'csv': give the name of the "
            "column your model predicts."
        )
    if not _COLUMN.match(text):
        return (
            f"target_column {text!r} must be a single CSV header name (no comma, quote or newline)."
        )
    return None


# Organisation profiles -----------------------------------------------------------------
# A platform group's answers for every repository it looks after: ``answers`` pre-answer
# questions (a team may change them), ``locked`` fix them (a render or an update that
# changes one is refused). The project records the profile's path or URL as its
# ``org_profile`` answer, so every update reads the profile again. The CLI
# (mlops_ladder/upgrade.py) and Cookiecutter's pre-generation hook apply it.
PROFILE_SECTIONS = ("answers", "locked")


@dataclass(frozen=True)
class Profile:
    source: str
    name: str
    answers: Mapping[str, Any]
    locked: Mapping[str, Any]


# What a profile can be read from besides a path (urllib's schemes).
_PROFILE_URL = re.compile(r"^(https?|file)://")


def is_profile_url(source: str) -> bool:
    return bool(_PROFILE_URL.match(source))


def _read_profile(source: str) -> str:
    if is_profile_url(source):
        with urllib.request.urlopen(source, timeout=30) as response:
            return str(response.read().decode("utf-8"))
    return Path(source).expanduser().read_text(encoding="utf-8")


@cache
def load_profile(source: str) -> Profile:
    """The profile at ``source`` (a path or an http(s)/file URL), checked whole: every
    question it names exists and every value passes that question's rule."""
    try:
        data = yaml.safe_load(_read_profile(source))
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise AnswerError(f"Cannot read the organisation profile {source}: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
        raise AnswerError(
            f"The organisation profile {source} must be a mapping with a 'name' and the "
            f"sections {' and '.join(PROFILE_SECTIONS)}."
        )
    unknown = sorted(set(data) - {"name", *PROFILE_SECTIONS})
    if unknown:
        raise AnswerError(f"The organisation profile {source} has unknown keys: {unknown}.")
    sections = {section: data.get(section) or {} for section in PROFILE_SECTIONS}
    for section, values in sections.items():
        if not isinstance(values, dict):
            raise AnswerError(f"{section} in the organisation profile {source} is not a mapping.")
        for question, value in values.items():
            if question not in QUESTIONS or question == "org_profile":
                raise AnswerError(
                    f"{section} in the organisation profile {source} names {question!r}, "
                    "which is not one of the template's questions (docs/options.md)."
                )
            rule = SINGLE_CHECKS.get(question)
            if rule and (message := rule(value)):
                raise AnswerError(f"The organisation profile {source} ({section}): {message}")
    both = sorted(set(sections["answers"]) & set(sections["locked"]))
    if both:
        raise AnswerError(
            f"The organisation profile {source} both pre-answers and locks {both}: "
            "keep each question in one section."
        )
    return Profile(source, data["name"], sections["answers"], sections["locked"])


def check_org_profile(value: Any) -> str | None:
    if not str(value or "").strip():
        return None
    try:
        load_profile(str(value).strip())
    except AnswerError as error:
        return str(error)
    return None


def locked_errors(answers: Mapping[str, Any], profile: Profile) -> list[str]:
    """A refusal for each of ``answers`` that differs from the value ``profile`` locks.

    Locks are checked where a render or an update starts (the CLI, Cookiecutter's
    pre-generation hook), not in Copier's validators: ``copier update`` replays the
    project's old answers through them, and an old answer the profile's owners have since
    changed would stop the very update that applies their change.
    """
    return [
        f"{question} is locked to {profile.locked[question]!r} by the organisation profile "
        f"{profile.name!r} ({profile.source}); its owners change it there."
        for question, value in answers.items()
        if question in profile.locked and str(value) != str(profile.locked[question])
    ]


# Checks that read only their own answer, by question name.
SINGLE_CHECKS = {
    "org_profile": check_org_profile,
    "project_name": check_project_name,
    "project_slug": check_project_slug,
    "package_name": check_package_name,
    "author_email": check_author_email,
    "python_version": check_python_version,
    "license": check_license,
    "maturity_level": check_maturity_level,
    "task": check_task,
    "ci_provider": check_ci_provider,
    "container_image": check_container_image,
    "dvc_remote": check_dvc_remote,
    "tracking": check_tracking,
    "compute": check_compute,
    "deploy_target": check_deploy_target,
    "dataset": check_dataset,
}


def check(value: Any, question: str, **others: Any) -> str:
    """Copier's validator entry point: the error sentence, or '' when the answer is fine."""
    if question == "csv_path":
        return check_csv_path(value, others.get("dataset", "csv")) or ""
    if question == "target_column":
        return check_target_column(value, others.get("dataset", "csv")) or ""
    return SINGLE_CHECKS[question](value) or ""


def check_all(answers: Mapping[str, Any]) -> list[str]:
    """Every problem in a full set of answers (Cookiecutter's pre-generation check)."""
    problems = [
        message
        for question, rule in SINGLE_CHECKS.items()
        if question in answers and (message := rule(answers[question]))
    ]
    dataset = answers.get("dataset", "sample")
    for message in (
        check_csv_path(answers.get("csv_path", ""), dataset),
        check_target_column(answers.get("target_column", ""), dataset),
    ):
        if message:
            problems.append(message)
    if str(answers.get("org_profile") or "").strip() and not problems:
        problems += locked_errors(answers, load_profile(str(answers["org_profile"]).strip()))
    return problems


def target(answers: Mapping[str, Any]) -> str:
    """The column the generated model predicts."""
    if str(answers.get("dataset")) == "csv":
        return str(answers["target_column"]).strip()
    return SAMPLE_TARGETS[str(answers["task"])]


def at_level(answers: Mapping[str, Any], level: int) -> bool:
    """Whether a project at these answers includes the features of ``level``."""
    return (_as_int(answers.get("maturity_level", 0)) or 0) >= level


def ci(answers: Mapping[str, Any], provider: str) -> bool:
    """Whether a project at these answers has CI configuration for ``provider``."""
    return at_level(answers, 1) and str(answers.get("ci_provider")) == provider


def ci_reads_s3(answers: Mapping[str, Any]) -> bool:
    """Whether CI's checks pull from a DVC remote on S3, and so need its credentials: a CSV
    dataset's raw table from level 2, the labelled rows retraining kept from level 4."""
    reads = str(answers.get("dataset")) == "csv" or at_level(answers, 4)
    return at_level(answers, 2) and reads and dvc_extra(answers.get("dvc_remote", "")) == "s3"


def git_url(source: str) -> str:
    """A template source as Copier records it (``gh:org/repo``, ``git+https://...``,
    ``git@host:path``, a folder) spelled as git and uv read it."""
    for alias, prefix in _SOURCE_ALIASES.items():
        if source.startswith(alias):
            return prefix + source.removeprefix(alias).strip("/")
    if source.startswith("git@") and ":" in source:
        host, _, path = source.removeprefix("git@").partition(":")
        return f"ssh://git@{host}/{path}"
    return source.removeprefix("git+")


def ladder_requirement(source: str, commit: str) -> str:
    """What generated CI installs mlops-ladder from, for the checks that match the render.

    A project Copier rendered from a git URL (``gh:org/repo``, ``https://...``,
    ``git+file://...``, ``git@host:path``) installs the template's own package from that
    URL at the exact commit it was rendered from, a source every runner that could clone
    the template reaches; ``copier update`` moves the commit. Any other render (a local
    folder, or Cookiecutter, which records no source) pins this release on the package
    index.
    """
    url = git_url(source)
    remote = url.startswith(("https://", "http://", "ssh://", "file://"))
    if remote and re.fullmatch(r"[0-9a-f]{40}", commit):
        return f"git+{url}@{commit}"
    return f"mlops-ladder=={TEMPLATE_VERSION}"
