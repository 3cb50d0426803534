"""Each question is declared once (hooks/questions.py): copier.yml and cookiecutter.json are
written from it, and what both engines ask matches what answers.py checks."""

from __future__ import annotations

import json

import pytest
import yaml

from mlops_ladder.render import answer_rules

answers = answer_rules()
questions = answers._load_questions()
REGENERATE = "run `uv run python hooks/questions.py` and commit what it writes"


def test_copier_yml_is_written_from_the_questions() -> None:
    current = questions.COPIER_YML.read_text(encoding="utf-8")
    assert current == questions.copier_yml(current), f"copier.yml is stale: {REGENERATE}"


def test_cookiecutter_json_is_written_from_the_questions() -> None:
    current = questions.COOKIECUTTER_JSON.read_text(encoding="utf-8")
    assert current == questions.cookiecutter_json(), f"cookiecutter.json is stale: {REGENERATE}"


def _engines() -> tuple[dict, dict]:
    copier = yaml.safe_load(questions.COPIER_YML.read_text(encoding="utf-8"))
    cookiecutter = json.loads(questions.COOKIECUTTER_JSON.read_text(encoding="utf-8"))
    return copier, cookiecutter


@pytest.mark.parametrize("question", questions.QUESTIONS, ids=lambda q: q.name)
def test_both_engines_ask_it_with_the_same_default_and_choices(question) -> None:
    copier, cookiecutter = _engines()
    asked = copier[question.name]
    assert asked["default"] == question.default
    offered = cookiecutter[question.name]
    if question.choices:
        values = list(
            asked["choices"].values() if isinstance(asked["choices"], dict) else asked["choices"]
        )
        assert values == list(question.values)
        # Cookiecutter's default is its list's first item; its answers are text.
        assert offered[0] == str(question.default)
        assert sorted(offered) == sorted(str(value) for value in question.values)
    elif isinstance(question.default, str) and "{{" in question.default:
        assert offered == question.default.replace("{{ ", "{{ cookiecutter.").replace(
            "(author_name, project_slug)", "(cookiecutter.author_name, cookiecutter.project_slug)"
        )
    else:
        assert offered == question.default
    # Copier's computed mapping gives every answer to the files under Cookiecutter's name.
    assert f"{question.name}: {{{{ {question.name}" in copier["cookiecutter"]["default"]


def test_the_choices_are_the_ones_the_rules_check() -> None:
    for name, allowed in {
        "python_version": answers.PYTHON_VERSIONS,
        "license": answers.LICENSES,
        "task": answers.TASKS,
        "ci_provider": answers.CI_PROVIDERS,
        "dataset": answers.DATASETS,
        "tracking": answers.TRACKERS,
        "compute": answers.COMPUTES,
        "deploy_target": answers.DEPLOY_TARGETS,
    }.items():
        for value in allowed:
            assert answers.check(value, name) == "", (name, value)
        assert answers.check("nonsense", name), name
    assert sorted(answers.LEVEL_NAMES) == [0, 1, 2, 3, 4]
