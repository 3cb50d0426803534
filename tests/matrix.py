"""The option combinations the generator's tests render.

Pairwise over the level-0 options (python_version x task x dataset x license), plus a long
project name that pushes generated lines towards the formatter's limit. Each combination
runs on the interpreter it names. From level 1 each combination also takes one CI
provider, so that every provider is rendered and run.
"""

from __future__ import annotations

from typing import Any

from mlops_ladder.render import answer_rules

CSV = {"dataset": "csv", "csv_path": "data/raw/observations.csv", "target_column": "label"}

COMBINATIONS: dict[str, dict[str, Any]] = {
    "py310-classification-sample-mit": {
        "python_version": "3.10",
        "task": "classification",
        "license": "MIT",
    },
    "py311-regression-sample-apache": {
        "python_version": "3.11",
        "task": "regression",
        "license": "Apache-2.0",
    },
    "py312-classification-csv-bsd": {
        "python_version": "3.12",
        "task": "classification",
        "license": "BSD-3-Clause",
        **CSV,
    },
    "py313-regression-csv-proprietary-long-name": {
        "python_version": "3.13",
        "task": "regression",
        "license": "Proprietary",
        "project_name": "Northern Hemisphere Seabird Body Mass Estimator Service",
        "description": "Estimates a seabird's body mass from field measurements; "
        'quotes "like these" and a backslash \\ must survive every file format.',
        "author_name": "O'Brien & Sons",
        **CSV,
    },
}


# The CI provider each combination uses from level 1 on.
CI_PROVIDERS: dict[str, str] = {
    "py310-classification-sample-mit": "github",
    "py311-regression-sample-apache": "gitlab",
    "py312-classification-csv-bsd": "azure",
    "py313-regression-csv-proprietary-long-name": "none",
}

# The levels this version of the template builds, each rendered for every combination.
LEVELS = tuple(range(answer_rules().HIGHEST_BUILT_LEVEL + 1))
# The combinations whose render runs its own test suite in test_levelN.py: at levels 2 and
# 3 both tasks and both trackers at each, the sample data at level 2 and a CSV at level 3.
# At level 4 the suite, which holds every lower level's test files, runs on all four: here
# on the one without a CI provider, and for the other three as their CI's test job, in the
# first release of test_scenario.py's first weeks (on act, gitlab-ci-local and Azure's
# emulation), a render whose test files are the same (only its deploy target differs, and
# no generated test reads it). Ruff and mypy check every render at every level. (Each
# suite takes 1-2 minutes on 2 cores.)
OWN_SUITE: dict[int, frozenset[str]] = {
    2: frozenset({"py310-classification-sample-mit", "py311-regression-sample-apache"}),
    3: frozenset({"py312-classification-csv-bsd", "py313-regression-csv-proprietary-long-name"}),
    4: frozenset({"py313-regression-csv-proprietary-long-name"}),
}
RENDERS = [(name, level) for level in LEVELS for name in sorted(COMBINATIONS)]
# The level under construction, if any, rendered with MLOPS_LADDER_PREVIEW set
# (see hooks/answers.py).
PREVIEW_LEVEL: int | None = answer_rules().PREVIEW_LEVEL
PREVIEW_RENDERS = [] if PREVIEW_LEVEL is None else [(n, PREVIEW_LEVEL) for n in COMBINATIONS]


# The experiment tracker each combination uses from level 2 on: both tasks with each.
TRACKERS: dict[str, str] = {
    "py310-classification-sample-mit": "dvclive",
    "py311-regression-sample-apache": "mlflow",
    "py312-classification-csv-bsd": "mlflow",
    "py313-regression-csv-proprietary-long-name": "dvclive",
}


# Where training runs besides this machine, from level 2: every CI provider submits to
# Azure ML in one combination; the one without CI stays local.
COMPUTE: dict[str, str] = {
    "py310-classification-sample-mit": "azureml",
    "py311-regression-sample-apache": "azureml",
    "py312-classification-csv-bsd": "azureml",
    "py313-regression-csv-proprietary-long-name": "local",
}


# Where the scoring service is deployed, from level 3: every target, Kubernetes on two
# providers.
DEPLOY_TARGETS: dict[str, str] = {
    "py310-classification-sample-mit": "kubernetes",
    "py311-regression-sample-apache": "azureml",
    "py312-classification-csv-bsd": "kubernetes",
    "py313-regression-csv-proprietary-long-name": "none",
}


def answers(name: str, level: int = 0, **overrides: Any) -> dict[str, Any]:
    data = {"maturity_level": level, "initialize_git": False, **COMBINATIONS[name]}
    if level >= 1:
        data["ci_provider"] = CI_PROVIDERS[name]
    if level >= 2:
        data["tracking"] = TRACKERS[name]
        data["compute"] = COMPUTE[name]
    if level >= 3:
        data["deploy_target"] = DEPLOY_TARGETS[name]
    return {**data, **overrides}
