"""Each bad answer is refused by both engines' command lines, with a specific message,
and nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_ladder.render import COOKIECUTTER_DIRECTORY, answer_rules, template_root

BIN = Path(sys.executable).parent

# answers -> what the user must read. Our own rules give the same sentence under both
# engines; a value outside a fixed list of choices is refused by each engine's own choice
# check, which names the question and the value.
CASES: dict[str, tuple[dict[str, str], str, str]] = {
    "empty-name": (
        {"project_name": ""},
        "project_name must not be empty",
        "project_name must not be empty",
    ),
    "name-gives-stdlib-package": (
        {"project_name": "JSON"},
        "shadows the standard-library module 'json'",
        "shadows the standard-library module 'json'",
    ),
    "keyword-package": (
        {"project_name": "My Model", "package_name": "class"},
        "package_name 'class' is a Python keyword",
        "package_name 'class' is a Python keyword",
    ),
    "bad-email": (
        {"author_email": "not-an-address"},
        "author_email 'not-an-address' is not an e-mail address",
        "author_email 'not-an-address' is not an e-mail address",
    ),
    "level-5": (
        {"maturity_level": "5"},
        "Invalid choice for 'maturity_level'",
        "5 provided for choice variable maturity_level",
    ),
    "unknown-provider": (
        {"ci_provider": "travis"},
        "Invalid choice for 'ci_provider'",
        "travis provided for choice variable ci_provider",
    ),
    "bad-image": (
        {"maturity_level": "1", "container_image": "Penguins:latest"},
        "container_image 'Penguins:latest' is not an image name",
        "container_image 'Penguins:latest' is not an image name",
    ),
    "unknown-compute": (
        {"maturity_level": "2", "compute": "aws"},
        "Invalid choice for 'compute'",
        "aws provided for choice variable compute",
    ),
    "unknown-deploy-target": (
        {"maturity_level": "3", "deploy_target": "ecs"},
        "Invalid choice for 'deploy_target'",
        "ecs provided for choice variable deploy_target",
    ),
    "csv-without-target": (
        {"dataset": "csv", "csv_path": "data/raw/x.csv", "target_column": ""},
        "target_column must not be empty when dataset is 'csv'",
        "target_column must not be empty when dataset is 'csv'",
    ),
}


# A level this version does not build yet, while there is one.
_UNBUILT = answer_rules().HIGHEST_BUILT_LEVEL + 1
if _UNBUILT <= 4:
    _NAME = answer_rules().LEVEL_NAMES[_UNBUILT]
    CASES["level-not-built"] = (
        {"maturity_level": str(_UNBUILT)},
        f"maturity_level {_UNBUILT} ({_NAME}) is not built",
        f"maturity_level {_UNBUILT} ({_NAME}) is not built",
    )


# Cases of a question of the level under construction: rendered with MLOPS_LADDER_PREVIEW.
PREVIEW_CASES: set[str] = set()


def _run(command: list[str], case: str) -> subprocess.CompletedProcess[str]:
    rules = answer_rules()
    env = dict(os.environ)
    if case in PREVIEW_CASES and rules.PREVIEW_LEVEL is not None:
        env[rules.PREVIEW_VARIABLE] = str(rules.PREVIEW_LEVEL)
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, env=env
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_copier_refuses(case: str, tmp_path: Path) -> None:
    data, copier_message, _ = CASES[case]
    destination = tmp_path / "out"
    options = [item for key, value in data.items() for item in ("--data", f"{key}={value}")]
    result = _run(
        [
            str(BIN / "copier"),
            *("copy", "--trust", "--defaults", "--vcs-ref", "HEAD", *options),
            *(str(template_root()), str(destination)),
        ],
        case,
    )
    assert result.returncode != 0
    assert copier_message in result.stdout + result.stderr
    assert not destination.exists(), "a refused answer must write nothing"


@pytest.mark.parametrize("case", sorted(CASES))
def test_cookiecutter_refuses(case: str, tmp_path: Path) -> None:
    data, _, cookiecutter_message = CASES[case]
    result = _run(
        [
            str(BIN / "cookiecutter"),
            "--no-input",
            *("--directory", COOKIECUTTER_DIRECTORY, "--output-dir", str(tmp_path)),
            str(template_root()),
            *(f"{key}={value}" for key, value in data.items()),
        ],
        case,
    )
    assert result.returncode != 0
    assert cookiecutter_message in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == [], "a refused answer must write nothing"
