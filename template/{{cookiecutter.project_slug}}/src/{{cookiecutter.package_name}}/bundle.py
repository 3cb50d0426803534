"""The model as its file holds it: the fitted pipeline and what scoring and serving need
to know about it.

Training writes it (train.py, pipeline/train.py); scoring, the service and the pipeline's
later stages read it. Each imports it from here, so reading a model never imports the
code that trains one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sklearn.pipeline import Pipeline

from {{ cookiecutter.package_name }}.config import Task
{%- if cookiecutter is at_level(1) %}
from {{ cookiecutter.package_name }}.feature_schema import (
    FeatureSchema,
)
{%- endif %}


@dataclass(frozen=True)
class ModelBundle:
    """The fitted pipeline and what scoring and serving need to know about it."""

    pipeline: Pipeline
    features: list[str]
    # Features read as numbers; every other feature is a category (see features.py).
    numeric_features: list[str]
    target: str
    task: Task
    metrics: dict[str, float]
    # Which data the model learned from. No training time: the same data, code and seed
    # give the same bytes, so a model's file hash is its identity (score.model_version).
    data_sha256: str
{%- if cookiecutter is at_level(1) %}
    # The categories and ranges training saw, which the service checks requests against
    # (feature_schema.py); None in a model file written before models recorded them.
    schema: FeatureSchema | None = None
{%- endif %}
{%- if cookiecutter is at_level(3) %}
    # The pipeline converted for onnxruntime, which the service answers with (runtime.py);
    # None when the copy did not answer the held-out rows as the pipeline does, and why.
    onnx_model: bytes | None = None
    onnx_note: str = ""
{%- endif %}
