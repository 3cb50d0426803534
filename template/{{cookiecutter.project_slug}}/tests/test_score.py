from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.bundle import ModelBundle
from {{ cookiecutter.package_name }}.data import DataError
from {{ cookiecutter.package_name }}.score import (
    load_model,
    predict,
)


def test_predictions_are_the_pipelines_own(bundle: ModelBundle, penguins: pd.DataFrame) -> None:
    # score.predict may take a faster path (one pass for classes and probabilities); it
    # must give what the fitted pipeline's predict() gives, row for row.
    expected = bundle.pipeline.predict(penguins[bundle.features])
    assert (predict(bundle, penguins)["prediction"].to_numpy() == expected).all()


def test_a_category_missing_as_none_is_answered_as_missing(
    bundle: ModelBundle, penguins: pd.DataFrame
) -> None:
    # pandas 2 reads a missing text cell from Parquet as None; training's CSV gave NaN.
    category = next(name for name in bundle.features if name not in bundle.numeric_features)
    rows = penguins.head(5).astype({category: object})
    as_none = rows.assign(**{category: pd.Series([None] * 5, index=rows.index, dtype=object)})
    as_nan = rows.assign(**{category: pd.Series([np.nan] * 5, index=rows.index, dtype=object)})
    expected = predict(bundle, as_nan).drop(columns=category)
    pd.testing.assert_frame_equal(predict(bundle, as_none).drop(columns=category), expected)


def test_missing_feature_column_is_refused_by_name(
    bundle: ModelBundle, penguins: pd.DataFrame
) -> None:
    with pytest.raises(DataError, match=r"missing column.*flipper_length_mm"):
        predict(bundle, penguins.drop(columns=["flipper_length_mm"]))


def test_missing_model_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="No model at"):
        load_model(tmp_path / "model.joblib")
