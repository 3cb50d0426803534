"""The end-to-end demo: render a project at the highest level built, then run it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from mlops_ladder.render import answer_rules, copier_copy

Step = Callable[[str], None]


def _run(project: Path, *command: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    result = subprocess.run(
        list(command), cwd=project, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"`{' '.join(command)}` failed (exit {result.returncode}):\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result.stdout


def run_demo(destination: Path, report: Step, show: Callable[[Path], None]) -> Path:
    """Render, install, test, train, score.

    ``report`` is told each step as it starts; ``show`` gets the scored CSV at the end.
    """
    uv = shutil.which("uv")
    if uv is None:
        raise RuntimeError("uv is not on the PATH: run the demo through './dev demo'.")
    level = answer_rules().HIGHEST_BUILT_LEVEL
    report(f"Rendering a level-{level} project into {destination}")
    project = copier_copy(destination, {"maturity_level": level})
    package = _package(project)

    def run_in_project(*arguments: str) -> str:
        return _run(project, uv, "run", "--no-sync", *arguments)

    report("Installing its locked environment (uv sync)")
    _run(project, uv, "sync", "--locked", "--quiet")
    report("Running its own test suite")
    run_in_project("pytest", "-q")
    report("Training on the Palmer penguins sample")
    report(run_in_project("python", "-m", package, "train").strip())
    rows = project / "data" / "raw" / "rows_to_score.csv"
    sample = f"load_penguins().sample(10, random_state=0).to_csv({str(rows)!r}, index=False)"
    run_in_project("python", "-c", f"from palmerpenguins import load_penguins; {sample}")
    output = project / "data" / "processed" / "predictions.csv"
    report(f"Scoring {rows.relative_to(project)} with the trained model")
    run_in_project("python", "-m", package, "score", str(rows), "--output", str(output))
    show(output)
    return project


def _package(project: Path) -> str:
    (package,) = [p.name for p in (project / "src").iterdir() if (p / "__init__.py").is_file()]
    return package
