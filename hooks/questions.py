"""The template's questions, declared once for both engines.

``copier.yml`` (its PROMPT and COMPUTED sections) and ``template/cookiecutter.json`` are
written from ``QUESTIONS`` by running this file::

    uv run python hooks/questions.py

A test (tests/hooks/test_questions.py) fails while either file differs from what this
writes, and the parity tests render both engines and compare the trees. The choices here are
also the ones ``answers.py`` checks answers against.

Defaults are Jinja expressions over the other answers by bare name (``project_name``);
Cookiecutter's copy reads them as ``cookiecutter.project_name``.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COPIER_YML = ROOT / "copier.yml"
COOKIECUTTER_JSON = ROOT / "template" / "cookiecutter.json"
# copier.yml above this line is written by hand (engine settings, tasks, migrations).
PROMPT_MARKER = "# PROMPT "


@dataclass(frozen=True)
class Question:
    name: str
    help: str
    default: Any
    type: str = "str"
    # (value, label) pairs; a label of None shows the value itself.
    choices: tuple[tuple[Any, str | None], ...] = ()
    # Asked from this maturity level up; below it the default stands, unused.
    from_level: int = 0
    # A further Copier condition (Jinja over the answers), beside from_level.
    also_when: str | None = None
    # Shown after Cookiecutter's prompt, which has no conditions: when the answer matters.
    applies: str | None = None
    # Copier validates the answer with answers.py's rule; these answers go with it.
    validate: bool = False
    validate_with: tuple[str, ...] = ()

    @property
    def values(self) -> tuple[Any, ...]:
        return tuple(value for value, _ in self.choices)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "org_profile",
        "Organisation profile: a YAML file's path or URL whose answers every render and "
        "update take, some of them locked (empty: none)",
        "",
        validate=True,
    ),
    Question(
        "project_name",
        "Human-readable project name (used in the README and to derive the names below)",
        "Penguin Model",
        validate=True,
    ),
    Question(
        "project_slug",
        "Distribution name and folder name (PEP 508; becomes the CLI command)",
        "{{ project_name | dist_name }}",
        validate=True,
    ),
    Question(
        "package_name",
        "Python import name (an identifier that is not a keyword or a standard-library module)",
        "{{ project_slug | package_name }}",
        validate=True,
    ),
    Question(
        "description",
        "One sentence on what the model predicts and for whom",
        "A model trained, scored and shipped with the mlops-ladder layout.",
    ),
    Question(
        "author_name",
        "Author or team name (pyproject authors, licence)",
        "Data Science Team",
    ),
    Question(
        "author_email",
        "Contact e-mail address",
        "data-science@example.com",
        validate=True,
    ),
    Question(
        "python_version",
        "Python version the project develops and ships on (the lowest it supports)",
        "3.11",
        choices=(("3.10", None), ("3.11", None), ("3.12", None), ("3.13", None)),
    ),
    Question(
        "license",
        "Licence of the generated project",
        "MIT",
        choices=(
            ("MIT", None),
            ("Apache-2.0", None),
            ("BSD-3-Clause", None),
            ("Proprietary", None),
        ),
    ),
    Question(
        "maturity_level",
        "MLOps maturity level to start at (Microsoft's MLOps maturity model; climb later with "
        "copier update)",
        0,
        type="int",
        choices=(
            (0, "0 - No MLOps"),
            (1, "1 - DevOps but no MLOps"),
            (2, "2 - Automated training"),
            (3, "3 - Automated model deployment"),
            (4, "4 - Full MLOps automated operations"),
        ),
        validate=True,
    ),
    Question(
        "task",
        "What the model predicts (sample data - classification predicts species, regression "
        "body mass)",
        "classification",
        choices=(("classification", None), ("regression", None)),
    ),
    Question(
        "ci_provider",
        "Where CI runs",
        "github",
        choices=(("github", None), ("gitlab", None), ("azure", None), ("none", None)),
        from_level=1,
    ),
    Question(
        "container_image",
        "Container image a release pushes (registry host and path, no tag; tags come from git "
        "tags)",
        "{{ ci_provider | default_image(author_name, project_slug) }}",
        from_level=1,
        also_when="ci_provider != 'none'",
        validate=True,
    ),
    Question(
        "dvc_remote",
        "Where DVC pushes data and models - a folder outside the repository (relative to it, "
        "or absolute), or an s3://, azure:// or gs:// URL",
        "../dvc-storage/{{ project_slug }}",
        from_level=2,
        validate=True,
    ),
    Question(
        "tracking",
        "Experiment tracking - DVCLive (files DVC reads) or MLflow (a local SQLite store and "
        "model registry)",
        "dvclive",
        choices=(("dvclive", None), ("mlflow", None)),
        from_level=2,
    ),
    Question(
        "compute",
        "Where training runs besides this machine - only here and CI (local), or Azure Machine "
        "Learning jobs too (azureml)",
        "local",
        choices=(("local", None), ("azureml", None)),
        from_level=2,
    ),
    Question(
        "deploy_target",
        "Where the scoring service is deployed - Kubernetes (kustomize overlays for staging "
        "and production), an Azure ML managed online endpoint, or none (the image only)",
        "kubernetes",
        choices=(("kubernetes", None), ("azureml", None), ("none", None)),
        from_level=3,
    ),
    Question(
        "dataset",
        "Training data - the Palmer penguins sample shipped in the palmerpenguins package, or "
        "your own CSV",
        "sample",
        choices=(("sample", "sample (Palmer penguins, offline)"), ("csv", "csv (your own file)")),
    ),
    Question(
        "csv_path",
        "Path of your CSV, relative to the project root (copy the file there)",
        "data/raw/dataset.csv",
        also_when="dataset == 'csv'",
        applies="dataset=csv only",
        validate=True,
        validate_with=("dataset",),
    ),
    Question(
        "target_column",
        "Name of the column the model predicts",
        "",
        also_when="dataset == 'csv'",
        applies="dataset=csv only",
        validate=True,
        validate_with=("dataset",),
    ),
    Question(
        "initialize_git",
        "Run 'git init', lock dependencies with uv and make a first commit",
        True,
        type="bool",
    ),
)

BY_NAME = {question.name: question for question in QUESTIONS}
# An answer's name in a default, not a filter of the same name (``| package_name``).
_NAMES = re.compile(r"(?<!\|\s)(?<!\|)\b(" + "|".join(BY_NAME) + r")\b")
# Text YAML reads back as the same string unquoted: no number, boolean or null look-alike,
# nothing YAML gives a meaning to.
_PLAIN = re.compile(r"[A-Za-z][^:#]*[^\s:]")
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def _yaml(value: Any) -> str:
    """A YAML scalar, quoted as JSON (which is YAML) where plain text would change."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    plain = _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS
    return text if plain else json.dumps(text)


def _when(question: Question) -> str | None:
    parts = [f"maturity_level >= {question.from_level}"] if question.from_level else []
    parts += [question.also_when] if question.also_when else []
    return "{{ " + " and ".join(parts) + " }}" if parts else None


def copier_questions() -> str:
    """copier.yml from its PROMPT marker down."""
    lines = [
        "# PROMPT ".ljust(91, "-"),
        "# Written by hooks/questions.py from its QUESTIONS: edit there, then run it.",
    ]
    for question in QUESTIONS:
        lines += ["", f"{question.name}:", f"  type: {question.type}"]
        lines.append(f"  help: {_yaml(question.help)}")
        if any(label for _, label in question.choices):
            lines.append("  choices:")
            lines += [
                f"    {json.dumps(label)}: {_yaml(value)}" for value, label in question.choices
            ]
        elif question.choices:
            lines.append("  choices: [" + ", ".join(_yaml(v) for v in question.values) + "]")
        lines.append(f"  default: {_yaml(question.default)}")
        if when := _when(question):
            lines.append(f'  when: "{when}"')
        if question.validate:
            others = "".join(f", {name}={name}" for name in question.validate_with)
            rule = f"{question.name} | answer_error('{question.name}'{others})"
            lines.append(f'  validator: "{{{{ {rule} }}}}"')
    lines += [
        "",
        "# COMPUTED ".ljust(91, "-"),
        "# Files say {{ cookiecutter.x }} so that Cookiecutter renders the same tree: this maps",
        "# every answer under that name. Not asked, not stored; recomputed on every update.",
        "cookiecutter:",
        "  type: yaml",
        "  when: false",
        "  # JSON is YAML: tojson quotes every value, so any answer text round-trips.",
        "  default: |",
    ]
    for question in QUESTIONS:
        # Cookiecutter's answers are text; maturity_level is compared as a number by at_level.
        as_text = " | string" if question.type == "int" else ""
        lines.append(f"    {question.name}: {{{{ {question.name}{as_text} | tojson }}}}")
    return "\n".join(lines) + "\n"


def _cookiecutter_default(question: Question) -> Any:
    if question.choices:
        # Cookiecutter offers a list's first item as the default.
        values = [str(value) for value in question.values]
        default = str(question.default)
        return [default, *(value for value in values if value != default)]
    if isinstance(question.default, str):
        return (
            _NAMES.sub(r"cookiecutter.\1", question.default)
            if "{{" in question.default
            else question.default
        )
    return question.default


def _cookiecutter_prompt(question: Question) -> Any:
    applies = question.applies or (
        f"used from level {question.from_level}" if question.from_level else None
    )
    prompt = f"{question.help} ({applies})" if applies else question.help
    if not any(label for _, label in question.choices):
        return prompt
    return {
        "__prompt__": prompt,
        **{str(value): label or str(value) for value, label in question.choices},
    }


def _json(value: Any, depth: int = 1) -> str:
    """JSON with an object's members one per line and a list on one line."""
    if not isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    members = [f"{'  ' * depth}{json.dumps(k)}: {_json(v, depth + 1)}" for k, v in value.items()]
    return "{\n" + ",\n".join(members) + "\n" + "  " * (depth - 1) + "}"


def cookiecutter_json() -> str:
    config: dict[str, Any] = {q.name: _cookiecutter_default(q) for q in QUESTIONS}
    config["_extensions"] = ["mlops_ladder_jinja.MlopsLadderExtension"]
    config["__prompts__"] = {q.name: _cookiecutter_prompt(q) for q in QUESTIONS}
    return _json(config) + "\n"


def copier_yml(current: str) -> str:
    """``current`` copier.yml with everything from the PROMPT marker down written anew."""
    head, marker, _ = current.partition(PROMPT_MARKER)
    if not marker:
        raise SystemExit(f"{COPIER_YML} has no line starting {PROMPT_MARKER!r} to write below.")
    return head + copier_questions()


def main() -> None:
    COPIER_YML.write_text(copier_yml(COPIER_YML.read_text(encoding="utf-8")), encoding="utf-8")
    COOKIECUTTER_JSON.write_text(cookiecutter_json(), encoding="utf-8")
    sys.stdout.write(f"Wrote {COPIER_YML.name} and {COOKIECUTTER_JSON.relative_to(ROOT)}.\n")


if __name__ == "__main__":
    main()
