"""The exploration notebook runs top to bottom; a notebook that no longer runs misleads."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs(path: Path) -> None:
{%- if cookiecutter.dataset == "csv" %}
    data = Path(__file__).parents[1] / {{ cookiecutter.csv_path | quoted }}
    if not data.is_file():
        pytest.skip(f"{data} is not there yet: copy your CSV there to run the notebook")
{%- endif %}
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=300, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
