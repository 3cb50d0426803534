from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from {{ cookiecutter.package_name }}.bundle import (
    ModelBundle,
)
from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.train import (
    fingerprint,
    train,
)


def test_model_clears_the_quality_floor(bundle: ModelBundle) -> None:
{%- if cookiecutter.task == "classification" %}
    # Bill and flipper measurements separate the three species almost perfectly; a drop
    # below this floor means a broken feature step, not bad luck.
    assert bundle.metrics["accuracy"] >= 0.95
    assert bundle.metrics["f1_macro"] >= 0.93
{%- else %}
    # Species, sex and flipper length explain most of a penguin's body mass.
    assert bundle.metrics["r2"] >= 0.80
    assert bundle.metrics["mae"] <= 350.0
{%- endif %}


def test_bundle_records_what_scoring_needs(bundle: ModelBundle, settings: Settings) -> None:
    assert bundle.target == settings.target
    assert settings.target not in bundle.features
    assert "year" not in bundle.features
    assert "bill_length_mm" in bundle.numeric_features
    assert "island" in bundle.features
    assert "island" not in bundle.numeric_features


def test_fingerprint_names_the_training_data(bundle: ModelBundle, penguins: pd.DataFrame) -> None:
    assert bundle.data_sha256 == fingerprint(penguins)
    changed = penguins.copy()
    changed.loc[0, "island"] = "Anvers"
    assert fingerprint(changed) != bundle.data_sha256


def test_training_is_reproducible(
    bundle: ModelBundle, penguins: pd.DataFrame, settings: Settings
) -> None:
    assert train(penguins, settings).metrics == bundle.metrics


def test_saved_metrics_match_the_model(model_file: Path, bundle: ModelBundle) -> None:
    written = json.loads(model_file.with_name("metrics.json").read_text(encoding="utf-8"))
    assert written == bundle.metrics
