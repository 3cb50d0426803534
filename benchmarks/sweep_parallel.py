"""Parallel trials: an 8-trial Optuna search with the joblib launcher (the default of
conf/hparams_search/, one worker per core) against the same 8 trials one after another
(Hydra's basic launcher, in one process).

Renders a level-2 project (default answers), installs it, runs the pipeline's ingest and
validate stages once (a search reads the validated table), then times each mode a few
times on the same seed, so both run the same trials. The sweeper's own start-up (imports,
composing conf/) is in both figures, as a user waits for it too.

The penguins table is small (342 rows): a trial takes well under a second, so what
parallel trials save is bounded by each worker's start-up. --scale repeats the table's rows
to time trials of a realistic size as well (the validate stage checks the larger table).
Run: uv run python benchmarks/sweep_parallel.py [--search random_forest] [--scale 1 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from mlops_ladder.project_env import project_env
from mlops_ladder.render import copier_copy

TRIALS = 8


def _env() -> dict[str, str]:
    env = project_env()
    # One thread per trial in both modes: parallelism comes from the launcher alone.
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _timed(command: list[str], project: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=project, env=_env(), check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--search", default="random_forest", help="a conf/hparams_search/ option")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, nargs="+", default=[1, 20], help="row repeats")
    parser.add_argument(
        "--batch", type=int, help="trials per batch (the sweeper's n_jobs); conf/ says 8"
    )
    args = parser.parse_args()
    uv = shutil.which("uv")
    assert uv, "uv must be on the PATH"
    print(f"{TRIALS} trials of hparams_search={args.search} on {os.cpu_count()} cores, ", end="")
    print(f"batches of {args.batch or 'conf/'} trials, median of {args.repeats}:")
    print("| table rows | joblib (parallel) s | basic (one after another) s | ratio |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        project = copier_copy(Path(scratch) / "project", {"maturity_level": 2})
        subprocess.run([uv, "sync", "--locked", "--quiet"], cwd=project, env=_env(), check=True)
        package = next(p.name for p in (project / "src").iterdir() if p.is_dir())
        run = [uv, "run", "--no-sync"]
        subprocess.run(
            [*run, "dvc", "repro", "validate"],
            cwd=project,
            env=_env(),
            check=True,
            capture_output=True,
        )
        raw = project / "data" / "raw" / "penguins.csv"
        header, *rows = raw.read_text(encoding="utf-8").splitlines()
        for scale in args.scale:
            raw.write_text("\n".join([header, *rows * scale]) + "\n", encoding="utf-8")
            _timed([*run, "python", "-m", f"{package}.pipeline", "validate"], project)
            search = [
                *run,
                "python",
                "-m",
                f"{package}.pipeline.experiment",
                f"hparams_search={args.search}",
                f"hydra.sweeper.n_trials={TRIALS}",
                *([f"hydra.sweeper.n_jobs={args.batch}"] if args.batch else []),
            ]
            times: dict[str, list[float]] = {"joblib": [], "basic": []}
            for repeat in range(args.repeats):
                for launcher, values in times.items():
                    folder = f"hydra.sweep.dir=multirun/{scale}-{repeat}-{launcher}"
                    launch = [f"hydra/launcher={launcher}", folder]
                    values.append(_timed([*search, *launch], project))
            parallel, sequential = (statistics.median(values) for values in times.values())
            cells = f"{parallel:.1f} | {sequential:.1f} | {parallel / sequential:.2f}"
            print(f"| {len(rows) * scale} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
