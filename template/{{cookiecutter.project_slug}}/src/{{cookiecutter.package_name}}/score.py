"""The model's answers: load a model file, and score a frame of rows with it.

Files of rows of any size are scored by batch.py, a batch at a time.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, BinaryIO

import joblib
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from {{ cookiecutter.package_name }}.bundle import ModelBundle
from {{ cookiecutter.package_name }}.data import (
    DataError,
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
    # pandas 2 reads a missing text cell (from Parquet, say) as None, which the imputers do
    # not take for missing: they look for NaN, as training's CSV gave them.
    rows = rows.mask(rows.isna(), np.nan)
    scored = frame.copy()
    for name, values in answers(bundle, rows).items():
        scored[name] = values
    return scored


def class_probabilities(
    bundle: ModelBundle, rows: pd.DataFrame
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """A classifier's answers for ``rows``: each row's predicted class, as its index in the
    pipeline's ``classes_``, and every class's probability (a column per class)."""
    # One pass through the pipeline: a scikit-learn classifier predicts the class of
    # highest probability, so predict_proba alone gives both (predict as well would run
    # the whole pipeline twice).
    probabilities: NDArray[np.float64] = bundle.pipeline.predict_proba(rows)
    return probabilities.argmax(axis=1), probabilities


def answers(bundle: ModelBundle, rows: pd.DataFrame) -> dict[str, NDArray[Any]]:
    """The model's output columns for ``rows`` (its features): ``prediction`` and, for
    classification, one ``probability_<class>`` per class."""
    if bundle.task != "classification":
        return {"prediction": np.asarray(bundle.pipeline.predict(rows))}
    predicted, probabilities = class_probabilities(bundle, rows)
    classes = bundle.pipeline.classes_
    columns = {"prediction": classes[predicted]}
    for index, label in enumerate(classes):
        columns[f"probability_{label}"] = probabilities[:, index]
    return columns
