"""Render time per level: Copier and Cookiecutter, against Copier's floor.

The floor is a one-file, one-question Copier template in a git repository, rendered the
same way: what any Copier template costs before its own content. Each figure is the
median of --repeat runs after one untimed run, the rows taking turns, as a command line
(a new process, as users run it) and in-process (the Python API, as the test suite runs
it). Command lines run with bytecode written, as on a user's machine: the untimed run
leaves the .pyc files that their later runs, and a user's, load instead of compiling
Copier, Jinja and pydantic again.

Every render makes folders and files twice: Copier's clone of the template's repository
and the project itself. What that costs depends on the disk, so --scratch picks where
both go (the system's temporary folder by default), and the table opens with what making
a folder holding one file costs there. The last lines check issue 9's target: a level-4
render within 2x the floor plus 0.3 s.
Run: uv run python benchmarks/render_time.py [--scratch /dev/shm]
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


def commit_all(repository: Path) -> Path:
    """Make ``repository`` a git repository with one commit of all it holds: Copier
    clones a template that is one, as it does this project."""
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run([*git, "init", "-q"], cwd=repository, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repository, check=True)
    subprocess.run([*git, "commit", "-qm", "benchmark"], cwd=repository, check=True)
    return repository


def parse_arguments(description: str | None, repeat: int) -> argparse.Namespace:
    """--repeat and --scratch; --scratch becomes the folder of every temporary folder
    made after this, the engines' clones in process included."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument(
        "--scratch", type=Path, help="folder for renders and clones (default: system temp)"
    )
    args = parser.parse_args()
    if args.scratch is not None:
        tempfile.tempdir = str(args.scratch.resolve())
    return args


def _floor_template(root: Path) -> Path:
    template = root / "floor"
    template.mkdir()
    (template / "copier.yml").write_text("name:\n  type: str\n  default: floor\n")
    (template / "README.md.jinja").write_text("# {{ name }}\n")
    return commit_all(template)


def _seconds(render: Callable[[Path], object]) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        render(Path(scratch))
        return time.perf_counter() - start


def medians(rows: dict[str, Callable[[Path], object]], repeat: int) -> dict[str, float]:
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
    # TMPDIR carries --scratch to the engine's own temporary clone.
    env = {**project_env(), "TMPDIR": tempfile.gettempdir()}
    subprocess.run(list(command), check=True, capture_output=True, env=env)


def _path_seconds(paths: int = 100, repeat: int = 7) -> float:
    """Median seconds to make a new folder and write one small file in it, on --scratch."""
    samples = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as scratch:
            start = time.perf_counter()
            for number in range(paths):
                folder = Path(scratch, f"folder{number}")
                folder.mkdir()
                (folder / "module.py").write_bytes(b"VALUE = 1\n")
            samples.append((time.perf_counter() - start) / paths)
    return statistics.median(samples)


def _verdict(results: dict[str, float], top: int, kind: str) -> str:
    floor = results[f"Copier floor (1 file), {kind}"]
    render = results[f"mlops-ladder level {top}, Copier {kind}"]
    target = 2 * floor + 0.3
    met = "met" if render <= target else f"not met, {render / target - 1:.0%} over"
    return (
        f"Level {top}, Copier {kind}: {render:.3f} s against 2 x {floor:.3f} + 0.3 = "
        f"{target:.3f} s: {met}."
    )


def main() -> None:
    args = parse_arguments(__doc__, repeat=7)
    copier = [str(BIN / "copier"), "copy", "-q", "--trust", "--defaults", "--vcs-ref", "HEAD"]
    cookiecutter = [str(BIN / "cookiecutter"), "--no-input", "--directory", COOKIECUTTER_DIRECTORY]
    source = str(template_root())
    with tempfile.TemporaryDirectory() as root:
        floor = str(_floor_template(Path(root)))
        rows: dict[str, Callable[[Path], object]] = {
            "Copier floor (1 file), CLI": lambda d: _cli(*copier, floor, str(d / "p")),
            "Copier floor (1 file), API": lambda d: _api_floor(floor, d / "p"),
        }
        top = answer_rules().HIGHEST_BUILT_LEVEL
        for level in range(top + 1):
            rows.update(_level_rows(level, copier, cookiecutter, source))
        path_ms = _path_seconds() * 1000
        results = medians(rows, args.repeat)
    print(f"Scratch: {tempfile.gettempdir()}; a new folder with one file: {path_ms:.3f} ms.\n")
    print(f"| render (median of {args.repeat}) | seconds |\n|---|---|")
    for name, seconds in results.items():
        print(f"| {name} | {seconds:.3f} |")
    print()
    for kind in ("CLI", "API"):
        print(_verdict(results, top, kind))


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
