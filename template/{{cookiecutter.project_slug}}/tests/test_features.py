from __future__ import annotations

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.data import split_features_target
from {{ cookiecutter.package_name }}.features import (
    build_preprocessor,
    split_column_types,
)


def test_column_types_follow_dtypes(penguins: pd.DataFrame, settings: Settings) -> None:
    features, _ = split_features_target(penguins, settings)
    numeric, categorical = split_column_types(features)
    assert "bill_length_mm" in numeric
    assert {"island", "sex"} <= set(categorical)
    assert set(numeric) | set(categorical) == set(features.columns)


def test_preprocessor_fills_missing_values_and_ignores_new_categories(
    penguins: pd.DataFrame, settings: Settings
) -> None:
    features, _ = split_features_target(penguins, settings)
    assert features.isna().any().any(), "the data must have gaps for this test to mean anything"
    preprocessor = build_preprocessor(features).fit(features)
    encoded = preprocessor.transform(features)
    assert not np.isnan(np.asarray(encoded, dtype=float)).any()

    unseen = features.head(1).copy()
    unseen["island"] = "Atlantis"
    assert preprocessor.transform(unseen).shape[1] == encoded.shape[1]
