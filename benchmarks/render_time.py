"""Render time of a level-0 project: Copier and Cookiecutter, against Copier's floor.

The floor is a one-file, one-question Copier template in a git repository, rendered the
same way: what any Copier template costs before its own content. Each figure is the
median of --repeat runs, as a command line (a new process, as users run it) and in-process
(the Python API, as the test suite runs it). Run: uv run python benchmarks/render_time.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mlops_ladder.render import (
    COOKIECUTTER_DIRECTORY,
    cookiecutter_copy,
    copier_copy,
    template_root,
)

BIN = Path(sys.executable).parent
ANSWERS = {"maturity_level": 0, "initialize_git": False}


def _floor_template(root: Path) -> Path:
    template = root / "floor"
    template.mkdir()
    (template / "copier.yml").write_text("name:\n  type: str\n  default: floor\n")
    (template / "README.md.jinja").write_text("# {{ name }}\n")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run([*git, "init", "-q"], cwd=template, check=True)
    subprocess.run([*git, "add", "-A"], cwd=template, check=True)
    subprocess.run([*git, "commit", "-qm", "floor"], cwd=template, check=True)
    return template


def _median_seconds(render: Callable[[Path], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as scratch:
            start = time.perf_counter()
            render(Path(scratch))
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def _cli(*command: str) -> None:
    subprocess.run(list(command), check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    data = [item for key, value in ANSWERS.items() for item in ("-d", f"{key}={value}")]
    copier = [str(BIN / "copier"), "copy", "-q", "--trust", "--defaults", "--vcs-ref", "HEAD"]
    cookiecutter = [str(BIN / "cookiecutter"), "--no-input", "--directory", COOKIECUTTER_DIRECTORY]
    source = str(template_root())
    with tempfile.TemporaryDirectory() as root:
        floor = str(_floor_template(Path(root)))
        rows = {
            "Copier floor (1 file), CLI": lambda d: _cli(*copier, floor, str(d / "p")),
            "mlops-ladder level 0, Copier CLI": lambda d: _cli(
                *copier, *data, source, str(d / "p")
            ),
            "mlops-ladder level 0, Cookiecutter CLI": lambda d: _cli(
                *cookiecutter, "-o", str(d), source, *(f"{k}={v}" for k, v in ANSWERS.items())
            ),
            "Copier floor (1 file), API": lambda d: _api_floor(floor, d / "p"),
            "mlops-ladder level 0, Copier API": lambda d: copier_copy(d / "p", ANSWERS),
            "mlops-ladder level 0, Cookiecutter API": lambda d: cookiecutter_copy(d, ANSWERS),
        }
        print(f"| render (median of {args.repeat}) | seconds |\n|---|---|")
        for name, render in rows.items():
            print(f"| {name} | {_median_seconds(render, args.repeat):.3f} |", flush=True)


def _api_floor(template: str, destination: Path) -> None:
    from copier import run_copy

    run_copy(template, str(destination), defaults=True, vcs_ref="HEAD", quiet=True)


if __name__ == "__main__":
    main()
