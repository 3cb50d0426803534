from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pytest

from {{ cookiecutter.package_name }}.batch import (
    rejected_path_for,
    score_file,
)
from {{ cookiecutter.package_name }}.bundle import ModelBundle
from {{ cookiecutter.package_name }}.data import DataError
from {{ cookiecutter.package_name }}.score import predict

# Small batches, so that every file below is read, scored and written in several.
BATCH = 50


def _as_text(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_a_csv_comes_back_row_for_row_with_the_pipelines_answers(
    bundle: ModelBundle, penguins: pd.DataFrame, penguins_csv: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out" / "scored.csv"
    result = score_file(bundle, penguins_csv, output, batch_rows=BATCH)
    assert (result.scored, result.rejected) == (len(penguins), 0)
    assert not result.rejected_path.exists()
    original = _as_text(penguins_csv)
    # Every input column as it was written, text for text.
    pd.testing.assert_frame_equal(_as_text(output)[original.columns], original)
    scored = pd.read_csv(output)
    expected = predict(bundle, penguins)
{%- if cookiecutter.task == "classification" %}
    assert scored["prediction"].tolist() == expected["prediction"].tolist()
    probabilities = [f"probability_{label}" for label in bundle.pipeline.classes_]
    np.testing.assert_allclose(scored[probabilities], expected[probabilities], rtol=1e-9)
{%- else %}
    np.testing.assert_allclose(scored["prediction"], expected["prediction"], rtol=1e-9)
{%- endif %}


@pytest.mark.parametrize(("source", "target"), [("parquet", "parquet"), ("feather", "csv")])
def test_columnar_files_in_and_out(
    bundle: ModelBundle, penguins: pd.DataFrame, tmp_path: Path, source: str, target: str
) -> None:
    rows = tmp_path / f"rows.{source}"
    if source == "parquet":
        penguins.to_parquet(rows, row_group_size=120)
    else:
        feather.write_feather(penguins, rows, chunksize=120)
    output = tmp_path / f"scored.{target}"
    assert score_file(bundle, rows, output, batch_rows=BATCH).scored == len(penguins)
    scored = pd.read_parquet(output) if target == "parquet" else pd.read_csv(output)
    pd.testing.assert_frame_equal(
        scored[bundle.features], penguins[bundle.features], check_dtype=False
    )
    expected = predict(bundle, penguins)["prediction"]
{%- if cookiecutter.task == "classification" %}
    assert scored["prediction"].tolist() == expected.tolist()
{%- else %}
    np.testing.assert_allclose(scored["prediction"], expected, rtol=1e-9)
{%- endif %}


def test_rows_the_model_cannot_take_are_set_aside_with_their_reasons(
    bundle: ModelBundle, penguins: pd.DataFrame, tmp_path: Path
) -> None:
    first, second = bundle.numeric_features[:2]
    rows = penguins.astype({first: object, second: object})
    rows.loc[3, first] = "unknown"
    rows.loc[70, second] = "inf"
    rows.loc[200, bundle.features] = np.nan
    source = tmp_path / "rows.csv"
    rows.to_csv(source, index=False)
    output = tmp_path / "scored.csv"
    result = score_file(bundle, source, output, batch_rows=BATCH)

    assert (result.scored, result.rejected) == (len(rows) - 3, 3)
    rejected = pd.read_csv(result.rejected_path)
    # Row numbers count data rows from 1, so row 4 is the line after three others.
    assert rejected["row"].tolist() == [4, 71, 201]
    assert rejected["reason"].tolist() == [
        f"{first}: 'unknown' is not a number",
        f"{second}: 'inf' is infinite",
        "every feature is missing",
    ]
    assert rejected.loc[0, first] == "unknown"
    # The others are scored, in their order, as if the three had never been there.
    kept = penguins.drop(index=[3, 70, 200]).reset_index(drop=True)
    scored = pd.read_csv(output)
    expected = predict(bundle, kept)["prediction"]
{%- if cookiecutter.task == "classification" %}
    assert scored["prediction"].tolist() == expected.tolist()
{%- else %}
    np.testing.assert_allclose(scored["prediction"], expected, rtol=1e-9)
{%- endif %}


def test_a_clean_run_removes_the_rejected_rows_of_an_earlier_one(
    bundle: ModelBundle, penguins_csv: Path, tmp_path: Path
) -> None:
    output = tmp_path / "scored.csv"
    stale = rejected_path_for(output)
    stale.write_text("row,reason\n1,from yesterday\n")
    score_file(bundle, penguins_csv, output)
    assert not stale.exists()


def test_when_no_row_can_be_scored_nothing_is_written_but_the_reasons(
    bundle: ModelBundle, penguins: pd.DataFrame, tmp_path: Path
) -> None:
    source = tmp_path / "rows.csv"
    penguins.head(5).assign(flipper_length_mm="n/k").to_csv(source, index=False)
    output = tmp_path / "scored.csv"
    with pytest.raises(DataError, match=r"No row of .* could be scored: the 5 rows"):
        score_file(bundle, source, output)
    assert not output.exists()
    assert len(pd.read_csv(rejected_path_for(output))) == 5


def test_a_file_that_breaks_part_way_leaves_the_earlier_output_as_it_was(
    bundle: ModelBundle, penguins_csv: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.csv"
    # Bytes that are no UTF-8 after the first batches: the reading stops there.
    broken.write_bytes(penguins_csv.read_bytes() + b"Torgersen\xff,,,,,,,\n")
    output = tmp_path / "scored.csv"
    output.write_text("yesterday's scores\n")
    with pytest.raises(DataError, match="is not a readable CSV file"):
        score_file(bundle, broken, output, batch_rows=BATCH)
    assert output.read_text() == "yesterday's scores\n"
    # Nor a partial file beside it.
    assert {path.name for path in tmp_path.iterdir()} == {broken.name, "penguins.csv", output.name}


def test_a_line_of_too_many_or_too_few_fields_is_set_aside(
    bundle: ModelBundle, penguins: pd.DataFrame, tmp_path: Path
) -> None:
    first = bundle.numeric_features[0]
    rows = penguins.astype({first: object})
    rows.loc[57, first] = "unknown"
    lines = rows.to_csv(index=False).splitlines(keepends=True)
    lines.insert(3, "Adelie,Torgersen,39.1\n")
    source = tmp_path / "rows.csv"
    source.write_text("".join(lines))
    output = tmp_path / "scored.csv"
    result = score_file(bundle, source, output, batch_rows=BATCH)
    assert (result.scored, result.rejected) == (len(penguins) - 1, 2)
    rejected = pd.read_csv(result.rejected_path).sort_values("row")
    assert rejected["reason"].tolist() == [
        "3 fields, the header has 8: 'Adelie,Torgersen,39.1'",
        f"{first}: 'unknown' is not a number",
    ]
    # Rows after the line set aside keep their numbers in the file: the 58th penguin is
    # the 59th row there, in the second batch.
    assert rejected["row"].tolist() == [3, 59]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rows.xlsx", "", r"rows.xlsx: a file of rows ends in .csv, .parquet"),
        ("empty.csv", "", r"empty.csv is empty"),
        ("rows.parquet", "not parquet", r"rows.parquet is not a readable Parquet file"),
        ("missing.csv", None, r"No file at .*missing.csv"),
        ("wrong.csv", "island,sex\nBiscoe,male\n", r"missing column\(s\):.* bill_length_mm"),
    ],
)
def test_bad_input_files_are_refused_by_name(
    bundle: ModelBundle, tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    source = tmp_path / name
    if content is not None:
        source.write_text(content)
    output = tmp_path / "scored.csv"
    with pytest.raises(DataError, match=message):
        score_file(bundle, source, output)
    assert not output.exists()


def test_an_output_format_it_cannot_write_is_refused_before_reading(
    bundle: ModelBundle, penguins_csv: Path, tmp_path: Path
) -> None:
    with pytest.raises(DataError, match=r"scored.json: a file of rows ends in"):
        score_file(bundle, penguins_csv, tmp_path / "scored.json")


def test_an_arrow_table_of_text_columns_is_parsed_like_a_csv(
    bundle: ModelBundle, penguins: pd.DataFrame, tmp_path: Path
) -> None:
    # Some writers store every column as text; the numbers are still the model's numbers.
    text = pa.Table.from_pandas(penguins.astype(str).replace("nan", None), preserve_index=False)
    source = tmp_path / "rows.feather"
    feather.write_feather(text, source)
    output = tmp_path / "scored.parquet"
    assert score_file(bundle, source, output).rejected == 0
    expected = predict(bundle, penguins)["prediction"]
{%- if cookiecutter.task == "classification" %}
    assert pd.read_parquet(output)["prediction"].tolist() == expected.tolist()
{%- else %}
    np.testing.assert_allclose(pd.read_parquet(output)["prediction"], expected, rtol=1e-9)
{%- endif %}
