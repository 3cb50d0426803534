"""Streaming batch scoring of a large file against the model's raw `predict`, side by side.

Renders a level-4 project (default answers), trains its default model (`make train`, the
linear one) and, with `--models`, others through the pipeline (`dvc exp run -S model=...`).
It writes the penguins' rows repeated to --rows rows as Parquet and as CSV, then, for each
model and each repeat, in separate processes of the project's own environment:

- raw: `bundle.pipeline.predict` over the same rows, already in memory as the frames the
  scorer hands the model, in batches of the scorer's size (the fastest a loop over the
  model can go; reading, checking and writing are left out), twice: with BLAS's default
  threads and with one (`OPENBLAS_NUM_THREADS=1`, as the scorer runs it). The ratios are
  taken against the faster of the two;
- `batch.score_file` from Parquet to Parquet and from CSV to CSV (read, check, score with
  probabilities, write), timed around the call: the start-up of Python is left out, as it
  is from raw; and from Parquet to Parquet with the level-4 prediction log
  (`monitoring.batch_log.BatchLog`), timed the same way;
- the `score` command as a user runs it (Parquet in and out, the prediction log on),
  timed from the outside: start-up and model loading included.

Peak memory is each process's maximum resident set (wait4). Run:
    uv run python benchmarks/batch_streaming.py [--rows 10000000] [--repeats 3]
        [--models linear hist_gradient_boosting]
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

import yaml

from mlops_ladder.project_env import project_env
from mlops_ladder.render import copier_copy

_MAKE_ROWS = """
import sys
import pandas as pd
import pyarrow as pa
import pyarrow.csv as csv
import pyarrow.parquet as pq
from palmerpenguins import load_penguins

rows = int(sys.argv[1])
sample = load_penguins()
table = pa.Table.from_pandas(
    pd.concat([sample] * (rows // len(sample) + 1), ignore_index=True).iloc[:rows],
    preserve_index=False,
)
pq.write_table(table, "rows.parquet")
csv.write_csv(table, "rows.csv")
"""

_RAW = """
import sys, time
from pathlib import Path
from {package}.batch import BATCH_ROWS, model_rows, open_table
from {package}.score import load_model

bundle = load_model(Path(sys.argv[1]))
_, batches = open_table(Path("rows.parquet"), BATCH_ROWS)
frames = [model_rows(bundle, batch)[0] for batch in batches]
start = time.perf_counter()
for frame in frames:
    bundle.pipeline.predict(frame)
print(time.perf_counter() - start)
"""

_STREAM = """
import sys, time
from pathlib import Path
from {package}.batch import score_file
from {package}.score import load_model

bundle = load_model(Path(sys.argv[1]))
log = None
if sys.argv[5] == "log":
    from {package}.monitoring.batch_log import BatchLog

    log = BatchLog(Path("bench-log"), bundle, "bench")
start = time.perf_counter()
result = score_file(bundle, Path(sys.argv[2]), Path(sys.argv[3]), log=log)
elapsed = time.perf_counter() - start
assert result.rejected == 0 and result.scored == int(sys.argv[4]), result
print(elapsed)
"""


# BLAS on one thread, as the scorer runs it (threadpoolctl in the template's batch.py).
_BLAS_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _measure(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak resident MiB and standard output of ``command``."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return wall, usage.ru_maxrss / 1024, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=["linear"])
    args = parser.parse_args()
    uv = shutil.which("uv")
    assert uv, "uv must be on the PATH"
    env = project_env()
    with tempfile.TemporaryDirectory() as scratch:
        project = copier_copy(Path(scratch) / "p", {"maturity_level": 4})
        package = next(p.name for p in (project / "src").iterdir() if p.is_dir())
        run = [uv, "run", "--no-sync"]
        subprocess.run([uv, "sync", "--locked", "--quiet"], cwd=project, env=env, check=True)
        subprocess.run(
            [*run, "python", "-c", _MAKE_ROWS, str(args.rows)], cwd=project, env=env, check=True
        )
        models: dict[str, Path] = {}
        for model in args.models:
            train = (
                ["make", "train"]
                if model == "linear"
                else [*run, "dvc", "exp", "run", "-q", "-S", f"model={model}"]
            )
            subprocess.run(train, cwd=project, env=env, check=True, capture_output=True)
            models[model] = project / f"{model}.joblib"
            shutil.copy(project / "models" / "model.joblib", models[model])
        # The project's command is named after it.
        answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
        command = str(project / ".venv" / "bin" / answers["project_slug"])
        print(f"{args.rows:,} rows; median of {args.repeats}; rows/s, peak resident MiB:")
        print(
            "| model | raw `predict` | raw `predict`, BLAS on one thread | Parquet to Parquet "
            "| ratio | Parquet to Parquet, log on | ratio | CSV to CSV | ratio "
            "| `score` command, log on | ratio |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for model, path in models.items():
            times: dict[str, list[float]] = {
                key: [] for key in ("raw", "raw_blas1", "parquet", "parquet_log", "csv", "command")
            }
            memory: dict[str, float] = dict.fromkeys(times, 0.0)
            raw = [*run, "python", "-c", _RAW.format(package=package), str(path)]
            for _ in range(args.repeats):
                for key, raw_env in (("raw", env), ("raw_blas1", {**env, **_BLAS_ONE_THREAD})):
                    _, peak, out = _measure(raw, project, raw_env)
                    times[key].append(float(out))
                    memory[key] = max(memory[key], peak)
                for kind, suffix, log in (
                    ("parquet", "parquet", "no-log"),
                    ("parquet_log", "parquet", "log"),
                    ("csv", "csv", "no-log"),
                ):
                    stream = [
                        *run,
                        "python",
                        "-c",
                        _STREAM.format(package=package),
                        str(path),
                        f"rows.{suffix}",
                        f"scored.{suffix}",
                        str(args.rows),
                        log,
                    ]
                    _, peak, out = _measure(stream, project, env)
                    times[kind].append(float(out))
                    memory[kind] = max(memory[kind], peak)
                cli = [
                    command,
                    "score",
                    "rows.parquet",
                    "--output",
                    "scored.parquet",
                    "--model",
                    str(path),
                ]
                wall, peak, _ = _measure(cli, project, env)
                times["command"].append(wall)
                memory["command"] = max(memory["command"], peak)
            rate = {key: args.rows / statistics.median(values) for key, values in times.items()}
            cells = [f"{rate[key]:,.0f} ({memory[key]:,.0f} MiB)" for key in ("raw", "raw_blas1")]
            baseline = max(rate["raw"], rate["raw_blas1"])
            for key in ("parquet", "parquet_log", "csv", "command"):
                cells += [
                    f"{rate[key]:,.0f} ({memory[key]:,.0f} MiB)",
                    f"{rate[key] / baseline:.2f}",
                ]
            print(f"| {model} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
