"""Batch scoring: a CSV of rows in, the same rows with predictions out."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

import joblib
import pandas as pd

from {{ cookiecutter.package_name }}.bundle import ModelBundle
from {{ cookiecutter.package_name }}.data import (
    DataError,
    read_csv,
    require_columns,
)
{% if cookiecutter is at_level(2) %}
# Training is the pipeline's train stage (dvc.yaml): one path to a model.
TRAIN_COMMAND = "make train"
{%- else %}
TRAIN_COMMAND = "{{ cookiecutter.project_slug }} train"
{%- endif %}


def load_model(path: Path) -> ModelBundle:
{%- if cookiecutter is at_level(3) %}
    if path.suffix == ".skops":
        # Imported here: batch scoring of a .joblib file does not need skops.
        from {{ cookiecutter.package_name }}.persistence import load

        return load(path)
{%- endif %}
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
{%- if cookiecutter is at_level(3) %}
    """The first 12 hex digits of the SHA-256 of the file the service loads, the model's
    skops copy (beside ``path``; ``path`` itself if it has none): names exactly that
    artifact, in the gate's report, the image tag and every answer of the service."""
    deployed = path.with_suffix(".skops")
    return hashlib.sha256((deployed if deployed.is_file() else path).read_bytes()).hexdigest()[:12]
{%- else %}
    """The first 12 hex digits of the model file's SHA-256: names exactly this artifact."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
{%- endif %}


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
