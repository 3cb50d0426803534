"""Fixtures: the Palmer penguins table and a model trained on it once per session.

The tests run the project's code on real data with known properties, so a broken
feature step or a silent accuracy drop shows up here rather than in production.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from palmerpenguins import load_penguins

from {{ cookiecutter.package_name }}.bundle import ModelBundle
from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.train import save, train

# The penguins column this project's task predicts.
TARGET = "{{ {'classification': 'species', 'regression': 'body_mass_g'}[cookiecutter.task] }}"


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as a client sends them: JSON objects, null for a missing value."""
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records"))
    return rows


@pytest.fixture(scope="session")
def penguins() -> pd.DataFrame:
    return load_penguins()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    model_path = tmp_path_factory.mktemp("models") / "model.joblib"
    return replace(Settings(), target=TARGET, drop_columns=("year",), model_path=model_path)


@pytest.fixture(scope="session")
def bundle(penguins: pd.DataFrame, settings: Settings) -> ModelBundle:
    return train(penguins, settings)


@pytest.fixture(scope="session")
def model_file(bundle: ModelBundle, settings: Settings) -> Path:
    save(bundle, settings.model_path)
    return settings.model_path


{%- if cookiecutter is at_level(3) %}


@pytest.fixture(scope="session")
def challenger_file(
    penguins: pd.DataFrame, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A second model of the same features (another seed, so another split): a challenger."""
    path = tmp_path_factory.mktemp("challenger") / "model.joblib"
    save(train(penguins, replace(settings, seed=7)), path)
    return path
{%- endif %}


@pytest.fixture
def penguins_csv(tmp_path: Path, penguins: pd.DataFrame) -> Path:
    path = tmp_path / "penguins.csv"
    penguins.to_csv(path, index=False)
    return path
{%- if cookiecutter is at_level(4) %}


@pytest.fixture(autouse=True)
def prediction_log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where `score` logs what it scores in a test: a folder of the test's, never logs/."""
    folder = tmp_path / "logged"
    monkeypatch.setenv("PREDICTION_LOG_DIR", str(folder))
    return folder
{%- endif %}
