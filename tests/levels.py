"""The files each maturity level adds to a render, with ``{package}`` for the import name.

A render at level L must hold exactly the files of levels 0..L: a missing file is a broken
level, an extra one is either a file of a higher level leaking down or an unlisted file.
"""

from __future__ import annotations

from pathlib import Path

LEVEL_FILES: dict[int, tuple[str, ...]] = {
    0: (
        ".copier-answers.yml",
        ".gitignore",
        ".python-version",
        "LICENSE",
        "Makefile",
        "README.md",
        "data/interim/.gitkeep",
        "data/processed/.gitkeep",
        "data/raw/.gitkeep",
        "models/.gitkeep",
        "notebooks/01-explore.ipynb",
        "pyproject.toml",
        "src/{package}/__init__.py",
        "src/{package}/__main__.py",
        "src/{package}/cli.py",
        "src/{package}/config.py",
        "src/{package}/data.py",
        "src/{package}/features.py",
        "src/{package}/score.py",
        "src/{package}/train.py",
        "tests/conftest.py",
        "tests/test_cli.py",
        "tests/test_data.py",
        "tests/test_features.py",
        "tests/test_notebook.py",
        "tests/test_score.py",
        "tests/test_train.py",
    ),
}


def expected_files(level: int, package: str) -> set[Path]:
    return {
        Path(name.format(package=package))
        for at, names in LEVEL_FILES.items()
        if at <= level
        for name in names
    }
