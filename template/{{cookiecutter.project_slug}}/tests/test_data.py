from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.data import (
    DataError,
    load_raw,
    read_csv,
    split_features_target,
)


def test_load_raw_reads_the_configured_csv(penguins_csv: Path, settings: Settings) -> None:
    frame = load_raw(replace(settings, data_path=penguins_csv))
    assert frame.shape == (344, 8)
{%- if cookiecutter.dataset == "sample" %}


def test_sample_data_is_the_full_penguins_table() -> None:
    frame = load_raw(Settings())
    assert len(frame) == 344
    assert {"species", "island", "year", "body_mass_g"} <= set(frame.columns)
    assert frame.isna().any().any(), "the sample keeps its missing values"
{%- endif %}


def test_split_drops_unlabelled_rows_target_and_dropped_columns(
    penguins: pd.DataFrame, settings: Settings
) -> None:
    features, target = split_features_target(penguins, settings)
    assert settings.target not in features.columns
    assert "year" not in features.columns
    assert target.notna().all()
    assert len(features) == len(target) == penguins[settings.target].notna().sum()


def test_missing_target_column_is_named(penguins: pd.DataFrame, settings: Settings) -> None:
    with pytest.raises(DataError, match=f"missing column.*{settings.target}"):
        split_features_target(penguins.drop(columns=[settings.target]), settings)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="No CSV file"):
        read_csv(tmp_path / "absent.csv")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="not a readable CSV"):
        read_csv(empty)
