"""Settings of one training and scoring run.

Defaults come from the answers the project was generated with; the CLI overrides them
per run. Level 2 moves these values into Hydra configs under ``conf/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Task = Literal["classification", "regression"]


@dataclass(frozen=True)
class Settings:
    target: str = {{ cookiecutter | target_column | quoted }}
    task: Task = "{{ cookiecutter.task }}"
{%- if cookiecutter.dataset == "sample" %}
    # None reads the Palmer penguins table shipped inside the palmerpenguins package.
    data_path: Path | None = None
    # ``year`` is when a penguin was measured, not a trait of the penguin: it is kept in
    # the data as a time axis (for drift analysis) but not learned from.
    drop_columns: tuple[str, ...] = ("year",)
{%- else %}
    data_path: Path | None = Path({{ cookiecutter.csv_path | quoted }})
    # Identifier or timestamp columns that must not be learned from.
    drop_columns: tuple[str, ...] = ()
{%- endif %}
    test_size: float = 0.2
    seed: int = 42
    model_path: Path = Path("models/model.joblib")
