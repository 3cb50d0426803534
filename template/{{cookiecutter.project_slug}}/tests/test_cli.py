"""The command line end to end, as a user runs it."""

from __future__ import annotations
{% if cookiecutter is at_level(2) %}
from importlib.util import find_spec
{%- endif %}
from pathlib import Path

import pandas as pd
{%- if cookiecutter is at_level(2) %}
import pytest
{%- endif %}
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
{%- if not cookiecutter is at_level(2) %}
from {{ cookiecutter.package_name }}.config import Settings
{%- endif %}

runner = CliRunner()
{%- if cookiecutter is at_level(2) %}


def test_score_writes_a_prediction_per_row(
    model_file: Path, penguins_csv: Path, tmp_path: Path
) -> None:
    output = tmp_path / "predictions.csv"
    scored = runner.invoke(
        app, ["score", str(penguins_csv), "--output", str(output), "--model", str(model_file)]
    )
    assert scored.exit_code == 0, scored.output
    assert len(pd.read_csv(output)) == 344


def test_training_is_the_pipelines_alone() -> None:
    # One path to a model: `make train` runs the pipeline's train stage (dvc.yaml); a CLI
    # command beside it would write a model no stage, lock file or gate knows of.
    result = runner.invoke(app, ["train"])
    assert result.exit_code == 2
    assert "No such command 'train'" in result.output
{%- else %}


def _train_args(data: Path, model: Path, settings: Settings) -> list[str]:
    return ["train", "--data", str(data), "--target", settings.target, "--model", str(model)]


def test_train_then_score(penguins_csv: Path, tmp_path: Path, settings: Settings) -> None:
    model = tmp_path / "model.joblib"
    trained = runner.invoke(app, _train_args(penguins_csv, model, settings))
    assert trained.exit_code == 0, trained.output
    assert "{{ 'accuracy' if cookiecutter.task == 'classification' else 'r2' }}:" in trained.output
    assert model.is_file()

    output = tmp_path / "predictions.csv"
    scored = runner.invoke(
        app, ["score", str(penguins_csv), "--output", str(output), "--model", str(model)]
    )
    assert scored.exit_code == 0, scored.output
    assert len(pd.read_csv(output)) == 344
{%- endif %}


def test_score_says_how_many_rows_it_set_aside_and_where(
    model_file: Path, penguins: pd.DataFrame, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.csv"
    some = penguins.head(10).astype({"bill_depth_mm": object})
    some.loc[0, "bill_depth_mm"] = "deep"
    some.to_csv(rows, index=False)
    output = tmp_path / "scored.parquet"
    result = runner.invoke(
        app, ["score", str(rows), "--output", str(output), "--model", str(model_file)]
    )
    assert result.exit_code == 0, result.output
    assert "Scored 9 rows into" in result.output
    assert f"Rejected 1 rows; the rows and why are in {tmp_path / 'scored.rejected.csv'}" in (
        result.output
    )


def test_score_refuses_a_csv_without_a_feature_column(
    model_file: Path, penguins: pd.DataFrame, tmp_path: Path
) -> None:
    incomplete = tmp_path / "incomplete.csv"
    penguins.drop(columns=["bill_depth_mm"]).to_csv(incomplete, index=False)
    result = runner.invoke(
        app,
        ["score", str(incomplete), "--output", str(tmp_path / "o.csv"), "--model", str(model_file)],
    )
    assert result.exit_code == 2
    assert "missing column(s): bill_depth_mm" in result.output
    assert not (tmp_path / "o.csv").exists()
{%- if cookiecutter is at_level(2) %}


@pytest.mark.skipif(find_spec("ray") is not None, reason="Ray is installed")
def test_scoring_on_ray_without_ray_says_what_to_add(
    model_file: Path, penguins: pd.DataFrame, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.parquet"
    penguins.to_parquet(rows)
    output = tmp_path / "scored"
    args = ["score", str(rows), "-o", str(output), "--model", str(model_file), "--on-ray"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--on-ray needs Ray Data" in result.output
    assert "uv add 'ray[data]" in result.output
    assert not output.exists()
{%- endif %}
{%- if not cookiecutter is at_level(2) %}


def test_train_refuses_data_without_the_target(
    penguins: pd.DataFrame, tmp_path: Path, settings: Settings
) -> None:
    unlabeled = tmp_path / "unlabeled.csv"
    penguins.drop(columns=[settings.target]).to_csv(unlabeled, index=False)
    model = tmp_path / "model.joblib"
    result = runner.invoke(app, _train_args(unlabeled, model, settings))
    assert result.exit_code == 2
    assert f"missing column(s): {settings.target}" in result.output
    assert not model.exists()
{%- endif %}
