"""Batch scoring: a CSV of rows in, the same rows with predictions out."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

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
    with path.open("rb") as source:
        return read_model(source, str(path))


def read_model(source: BinaryIO, name: str) -> ModelBundle:
    """The model in ``source`` (a file, or a version read from history), named ``name`` in
    errors."""
    # joblib unpickles, which runs code: load only models this project wrote.
    bundle = joblib.load(source)
    if not isinstance(bundle, ModelBundle):
        raise DataError(f"{name} does not hold a model written by '{TRAIN_COMMAND}'.")
    return bundle


def model_version(path: Path) -> str:
    """The first 12 hex digits of the model file's SHA-256: names exactly this artifact."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def predict(bundle: ModelBundle, frame: pd.DataFrame) -> pd.DataFrame:
    """The input rows, every column kept, with a ``prediction`` column added.

    Classification adds one ``probability_<class>`` column per class as well.
    """
    require_columns(frame, bundle.features, source="Input to score")
    rows = frame[bundle.features]
    scored = frame.copy()
    if bundle.task == "classification":
        # One pass through the pipeline: a scikit-learn classifier predicts the class of
        # highest probability, so predict_proba alone gives both (predict as well would
        # run the whole pipeline twice).
        probabilities = bundle.pipeline.predict_proba(rows)
        classes = bundle.pipeline.classes_
        scored["prediction"] = classes[probabilities.argmax(axis=1)]
        for index, label in enumerate(classes):
            scored[f"probability_{label}"] = probabilities[:, index]
    else:
        scored["prediction"] = bundle.pipeline.predict(rows)
    return scored


def score_file(model_path: Path, input_path: Path, output_path: Path) -> int:
    """Score ``input_path`` into ``output_path``; returns the number of rows scored."""
    scored = predict(load_model(model_path), read_csv(input_path))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    scored.to_csv(output_path, index=False)
    return len(scored)
