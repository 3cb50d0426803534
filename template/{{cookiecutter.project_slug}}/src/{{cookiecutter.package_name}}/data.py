"""Read the raw table and check it has the columns the model needs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
{%- if cookiecutter.dataset == "sample" %}
from palmerpenguins import load_penguins
{%- endif %}

from {{ cookiecutter.package_name }}.config import Settings


class DataError(ValueError):
    """Input the model cannot use; the message says what to fix."""


def read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"No CSV file at {path}: check the path.")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{path} is not a readable CSV file: {error}") from error


def load_raw(settings: Settings) -> pd.DataFrame:
    """The raw training table: the CSV in the settings, or the bundled sample."""
{%- if cookiecutter.dataset == "sample" %}
    if settings.data_path is None:
        return load_penguins()
{%- else %}
    if settings.data_path is None:
        raise DataError("No training data: pass --data PATH.csv.")
{%- endif %}
    return read_csv(settings.data_path)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, source: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise DataError(f"{source} is missing column(s): {', '.join(missing)}")


def split_features_target(
    frame: pd.DataFrame, settings: Settings
) -> tuple[pd.DataFrame, pd.Series]:
    """Features and target of the labelled rows; rows without a target teach nothing."""
    require_columns(frame, [settings.target], source="Training data")
    labelled = frame.dropna(subset=[settings.target])
    if labelled.empty:
        raise DataError(f"Training data has no row with a value in {settings.target!r}.")
    dropped = [settings.target, *(c for c in settings.drop_columns if c in labelled.columns)]
    return labelled.drop(columns=dropped), labelled[settings.target]
