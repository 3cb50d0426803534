"""Turn raw columns into model inputs, the same way at training and at scoring time."""

from __future__ import annotations

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def split_column_types(features: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Numeric and categorical column names; anything not numeric is a category."""
    numeric = features.select_dtypes(include="number").columns.tolist()
    categorical = [column for column in features.columns if column not in numeric]
    return numeric, categorical


def build_preprocessor(features: pd.DataFrame) -> ColumnTransformer:
    numeric, categorical = split_column_types(features)
    numeric_steps = Pipeline(
        [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    )
    categorical_steps = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            # A category first seen at scoring time becomes all zeros instead of an error.
            ("encode", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    return ColumnTransformer(
        [("numeric", numeric_steps, numeric), ("categorical", categorical_steps, categorical)]
    )
