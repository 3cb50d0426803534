"""Batch scoring throughput of a rendered project against the model's raw `predict`.

Renders a level-0 project per task (default answers otherwise), installs it and trains,
then, inside the project's own environment, scores a table of the penguins' rows repeated
to --rows rows two ways: the package's `score.predict` (column checks, the prediction and,
for classification, one probability column per class, added to a copy of the input) and
`bundle.pipeline.predict` on the feature columns alone. Both run in one process on the
same in-memory table, so file reading and writing are out of both figures. Run:
    uv run python benchmarks/batch_scoring.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from mlops_ladder.project_env import project_env
from mlops_ladder.render import copier_copy

# Runs inside the rendered project's venv; prints "<raw s> <package s>".
_TIMING = """
import statistics, sys, time
from pathlib import Path
import pandas as pd
from palmerpenguins import load_penguins
from {package}.score import load_model, predict

rows, repeats = int(sys.argv[1]), int(sys.argv[2])
bundle = load_model(Path("models/model.joblib"))
# Rows with gaps too: the pipeline's imputers are part of scoring.
sample = load_penguins()[bundle.features]
table = pd.concat([sample] * (rows // len(sample) + 1), ignore_index=True).iloc[:rows]

def best(run):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)

raw = best(lambda: bundle.pipeline.predict(table[bundle.features]))
package = best(lambda: predict(bundle, table))
print(raw, package)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    uv = shutil.which("uv")
    assert uv, "uv must be on the PATH"
    env = project_env()
    print(f"{args.rows:,} rows in memory, median of {args.repeats}:")
    print("| task | raw `pipeline.predict` rows/s | `score.predict` rows/s | ratio |")
    print("|---|---|---|---|")
    for task in ("classification", "regression"):
        with tempfile.TemporaryDirectory() as scratch:
            project = copier_copy(Path(scratch) / "p", {"maturity_level": 0, "task": task})
            package = next(p.name for p in (project / "src").iterdir() if p.is_dir())
            subprocess.run([uv, "sync", "--locked", "--quiet"], cwd=project, env=env, check=True)
            run = [uv, "run", "--no-sync"]
            train = [*run, "python", "-m", package, "train"]
            subprocess.run(train, cwd=project, env=env, check=True, capture_output=True)
            timing = [*run, "python", "-c", _TIMING.format(package=package)]
            result = subprocess.run(
                [*timing, str(args.rows), str(args.repeats)],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise SystemExit(f"timing failed for {task}:\n{result.stderr}")
            raw, scored = (float(value) for value in result.stdout.split())
            cells = f"{args.rows / raw:,.0f} | {args.rows / scored:,.0f} | {raw / scored:.2f}"
            print(f"| {task} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
