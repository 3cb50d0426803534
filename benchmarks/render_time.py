"""Render time per level: Copier and Cookiecutter, against Copier's floor.

The floor is a one-file, one-question Copier template in a git repository, rendered the
same way: what any Copier template costs before its own content. Each figure is the
median of --repeat runs after one untimed run, the rows taking turns, as a command line
(a new process, as users run it) and in-process (the Python API, as the test suite runs
it). Command lines run with bytecode written, as on a user's machine: the untimed run
leaves the .pyc files that their later runs, and a user's, load instead of compiling
Copier, Jinja and pydantic again.
Run: uv run python benchmarks/render_time.py
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

from mlops_ladder.project_env import project_env
from mlops_ladder.render import (
    COOKIECUTTER_DIRECTORY,
    answer_rules,
    cookiecutter_copy,
    copier_copy,
    template_root,
)

BIN = Path(sys.executable).parent


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


def _seconds(render: Callable[[Path], object]) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        render(Path(scratch))
        return time.perf_counter() - start


def _medians(rows: dict[str, Callable[[Path], object]], repeat: int) -> dict[str, float]:
    """Each row's median of ``repeat`` runs, after one untimed run of each. The rows take
    turns (one run of each, ``repeat`` times), so a slow spell of the machine, which on
    this VM's disk can add 30 % to a render for a minute, falls on every row alike
    rather than on the rows that happen to run in it."""
    for render in rows.values():
        _seconds(render)
    times: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(repeat):
        for name, render in rows.items():
            times[name].append(_seconds(render))
    return {name: statistics.median(samples) for name, samples in times.items()}


def _cli(*command: str) -> None:
    # project_env leaves out PYTHONDONTWRITEBYTECODE, which this CI image sets and a
    # user's machine does not: without it every run compiles Copier's imports again.
    subprocess.run(list(command), check=True, capture_output=True, env=project_env())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    copier = [str(BIN / "copier"), "copy", "-q", "--trust", "--defaults", "--vcs-ref", "HEAD"]
    cookiecutter = [str(BIN / "cookiecutter"), "--no-input", "--directory", COOKIECUTTER_DIRECTORY]
    source = str(template_root())
    with tempfile.TemporaryDirectory() as root:
        floor = str(_floor_template(Path(root)))
        rows: dict[str, Callable[[Path], object]] = {
            "Copier floor (1 file), CLI": lambda d: _cli(*copier, floor, str(d / "p")),
            "Copier floor (1 file), API": lambda d: _api_floor(floor, d / "p"),
        }
        for level in range(answer_rules().HIGHEST_BUILT_LEVEL + 1):
            rows.update(_level_rows(level, copier, cookiecutter, source))
        medians = _medians(rows, args.repeat)
        print(f"| render (median of {args.repeat}) | seconds |\n|---|---|")
        for name, seconds in medians.items():
            print(f"| {name} | {seconds:.3f} |")


def _level_rows(
    level: int, copier: list[str], cookiecutter: list[str], source: str
) -> dict[str, Callable[[Path], object]]:
    answers = {"maturity_level": level, "initialize_git": False}
    data = [item for key, value in answers.items() for item in ("-d", f"{key}={value}")]
    pairs = [f"{key}={value}" for key, value in answers.items()]
    return {
        f"mlops-ladder level {level}, Copier CLI": lambda d: _cli(
            *copier, *data, source, str(d / "p")
        ),
        f"mlops-ladder level {level}, Cookiecutter CLI": lambda d: _cli(
            *cookiecutter, "-o", str(d), source, *pairs
        ),
        f"mlops-ladder level {level}, Copier API": lambda d: copier_copy(d / "p", answers),
        f"mlops-ladder level {level}, Cookiecutter API": lambda d: cookiecutter_copy(d, answers),
    }


def _api_floor(template: str, destination: Path) -> None:
    from copier import run_copy

    run_copy(template, str(destination), defaults=True, vcs_ref="HEAD", quiet=True)


if __name__ == "__main__":
    main()
