"""Time-to-green per level: render, `uv sync` (warm cache), the project's tests, and from
level 2 the pipeline (`dvc repro`), one after another, as a new user would run them.

Renders with the default answers and git (so `uv lock` and the first commit are part of
the render). A preview level, if there is one, is rendered with MLOPS_LADDER_PREVIEW set.
Run: uv run python benchmarks/time_to_green.py [--levels 0 1 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from mlops_ladder.project_env import project_env
from mlops_ladder.render import answer_rules, copier_copy


def _timed(command: list[str], project: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=project, env=project_env(), check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    rules = answer_rules()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--levels",
        type=int,
        nargs="+",
        default=list(range((rules.PREVIEW_LEVEL or rules.HIGHEST_BUILT_LEVEL) + 1)),
    )
    args = parser.parse_args()
    uv = shutil.which("uv")
    assert uv, "uv must be on the PATH"
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    print("| level | render s | uv sync s | pytest s | dvc repro s | total s |")
    print("|---|---|---|---|---|---|")
    for level in args.levels:
        if rules.PREVIEW_LEVEL is not None and level == rules.PREVIEW_LEVEL:
            os.environ[rules.PREVIEW_VARIABLE] = str(level)
        with tempfile.TemporaryDirectory() as scratch:
            project = Path(scratch) / "project"
            start = time.perf_counter()
            copier_copy(project, {"maturity_level": level})
            render = time.perf_counter() - start
            sync = _timed([uv, "sync", "--locked", "--quiet"], project)
            tests = _timed(
                [uv, "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"], project
            )
            repro = _timed([uv, "run", "--no-sync", "dvc", "repro"], project) if level >= 2 else 0.0
            total = render + sync + tests + repro
            cells = [f"{value:.1f}" for value in (render, sync, tests, repro, total)]
            if level < 2:
                cells[3] = "-"
            print(f"| {level} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
