"""Batch scoring: a CSV of rows in, the same rows with predictions out."""

from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd

from {{ cookiecutter.package_name }}.data import (
    DataError,
    read_csv,
    require_columns,
)
from {{ cookiecutter.package_name }}.train import ModelBundle

TRAIN_COMMAND = "{{ cookiecutter.project_slug }} train"


def load_model(path: Path) -> ModelBundle:
    if not path.is_file():
        raise DataError(f"No model at {path}: run '{TRAIN_COMMAND}' first.")
    # joblib unpickles, which runs code: load only models this project wrote.
    bundle = joblib.load(path)
    if not isinstance(bundle, ModelBundle):
        raise DataError(f"{path} does not hold a model written by '{TRAIN_COMMAND}'.")
    return bundle


def predict(bundle: ModelBundle, frame: pd.DataFrame) -> pd.DataFrame:
    """The input rows, every column kept, with a ``prediction`` column added.

    Classification adds one ``probability_<class>`` column per class as well.
    """
    require_columns(frame, bundle.features, source="Input to score")
    rows = frame[bundle.features]
    scored = frame.copy()
    scored["prediction"] = bundle.pipeline.predict(rows)
    if bundle.task == "classification":
        probabilities = bundle.pipeline.predict_proba(rows)
        for index, label in enumerate(bundle.pipeline.classes_):
            scored[f"probability_{label}"] = probabilities[:, index]
    return scored


def score_file(model_path: Path, input_path: Path, output_path: Path) -> int:
    """Score ``input_path`` into ``output_path``; returns the number of rows scored."""
    scored = predict(load_model(model_path), read_csv(input_path))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    scored.to_csv(output_path, index=False)
    return len(scored)
