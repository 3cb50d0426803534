"""Fit the model on a training split and measure it on the held-out rest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import joblib
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits
{% if cookiecutter is at_level(3) %}
from {{ cookiecutter.package_name }} import (
    reproducible,
)
{%- endif %}
from {{ cookiecutter.package_name }}.bundle import (
    ModelBundle,
)
from {{ cookiecutter.package_name }}.config import Settings, Task
from {{ cookiecutter.package_name }}.data import split_features_target
{%- if cookiecutter is at_level(1) %}
from {{ cookiecutter.package_name }}.feature_schema import (
    FeatureSchema,
)
{%- endif %}
from {{ cookiecutter.package_name }}.features import (
    build_preprocessor,
    split_column_types,
)
{%- if cookiecutter is at_level(3) %}
from {{ cookiecutter.package_name }}.runtime import (
    attach,
)
{%- endif %}


def fingerprint(frame: pd.DataFrame) -> str:
    """A SHA-256 of the table's values and column names, independent of file format."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def build_estimator(task: Task, seed: int) -> BaseEstimator:
    if task == "classification":
        return LogisticRegression(max_iter=1000, random_state=seed)
    return Ridge(alpha=1.0)


def evaluate(
    pipeline: Pipeline, features: pd.DataFrame, target: pd.Series, task: Task
) -> dict[str, float]:
    predicted = pipeline.predict(features)
    if task == "classification":
        return {
            "accuracy": float(accuracy_score(target, predicted)),
            "f1_macro": float(f1_score(target, predicted, average="macro")),
        }
    return {
        "r2": float(r2_score(target, predicted)),
        "mae": float(mean_absolute_error(target, predicted)),
    }


def fit(pipeline: Pipeline, features: pd.DataFrame, target: pd.Series) -> Pipeline:
    """Fit on one thread of BLAS and OpenMP.

    Both add up partial sums in an order set by how many threads they run, so on a machine
    with another core count (a CI runner, a container with its own CPU quota) the same data,
    code and seed would give a model with other bytes, and so another version.
    """
    with threadpool_limits(limits=1):
        return pipeline.fit(features, target)


def train(frame: pd.DataFrame, settings: Settings) -> ModelBundle:
    features, target = split_features_target(frame, settings)
    stratify = target if settings.task == "classification" else None
    x_train, x_test, y_train, y_test = train_test_split(
        features,
        target,
        test_size=settings.test_size,
        random_state=settings.seed,
        stratify=stratify,
    )
    pipeline = Pipeline(
        [
            ("features", build_preprocessor(x_train)),
            ("model", build_estimator(settings.task, settings.seed)),
        ]
    )
    fit(pipeline, x_train, y_train)
    numeric = split_column_types(features)[0]
    {% if cookiecutter is at_level(3) %}bundle = {% else %}return {% endif %}ModelBundle(
        pipeline=pipeline,
        features=features.columns.tolist(),
        numeric_features=numeric,
        target=settings.target,
        task=settings.task,
        metrics=evaluate(pipeline, x_test, y_test, settings.task),
        data_sha256=fingerprint(frame),
{%- if cookiecutter is at_level(1) %}
        schema=FeatureSchema.learn(x_train, numeric),
{%- endif %}
    )
{%- if cookiecutter is at_level(3) %}
    # The service's fast copy, checked on the rows the metrics come from (runtime.py).
    return attach(bundle, x_test)
{%- endif %}


def save(bundle: ModelBundle, path: Path) -> Path:
{%- if cookiecutter is at_level(3) %}
    """Write the model, a skops copy for the service (persistence.py), and beside them the
    held-out metrics as JSON for people and diffs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(bundle, path)
    path.with_suffix(".skops").write_bytes(reproducible.dumps(bundle))
{%- else %}
    """Write the model and, beside it, its held-out metrics as JSON for people and diffs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(bundle, path)
{%- endif %}
    metrics_path = path.with_name("metrics.json")
    metrics_path.write_text(json.dumps(bundle.metrics, indent=2) + "\n", encoding="utf-8")
    return metrics_path
