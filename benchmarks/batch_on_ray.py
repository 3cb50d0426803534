"""Batch scoring on Ray (`score --on-ray`) against one process's `score` and the model's
raw `predict`, side by side.

Renders a level-2 project (default answers), trains its default model (`make train`, the
linear one), adds Ray Data as its docs say (`uv add "ray[data]>=2.40"`) and writes the
penguins' rows repeated to --rows rows: as one Parquet file for `score`, and as the same
rows in --files Parquet files of a folder for `score --on-ray` (a distributed read splits
work by file). Then, for each repeat, each in a process of its own:

- raw: `bundle.pipeline.predict` over the rows already in memory, as batch_streaming.py;
- the `score` command, Parquet to Parquet, timed from outside;
- the `score --on-ray` command, folder to folder, timed from outside: Ray's start on this
  machine (one worker per core) and stop included.

Peak memory is the largest sum, sampled every 0.1 s, of the resident sets of the command's
process and all its descendants (Ray's raylet, object store and workers are children of the
driver when it starts Ray). Shared pages count once per process, so this overstates.
Run:
    uv run python benchmarks/batch_on_ray.py [--rows 10000000] [--repeats 3] [--files 8]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import yaml
from batch_streaming import _MAKE_ROWS, _RAW, _measure

from mlops_ladder.project_env import project_env
from mlops_ladder.render import copier_copy

_SPLIT = """
import sys
from pathlib import Path
import pyarrow.parquet as pq

table = pq.read_table("rows.parquet")
folder = Path("rows")
folder.mkdir()
step = -(-table.num_rows // int(sys.argv[1]))
for index, start in enumerate(range(0, table.num_rows, step)):
    pq.write_table(table.slice(start, step), folder / f"part-{index:03}.parquet")
"""


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    resident: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            pages = int((entry / "statm").read_text().split()[1])
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
        resident[int(entry.name)] = pages * 4096
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += resident.get(current, 0)
        stack.extend(children.get(current, []))
    return total


def _measure_tree(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of ``command`` and its descendants."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.1)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return wall, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--files", type=int, default=8)
    args = parser.parse_args()
    uv = shutil.which("uv")
    assert uv, "uv must be on the PATH"
    env = project_env()
    with tempfile.TemporaryDirectory() as scratch:
        project = copier_copy(Path(scratch) / "p", {"maturity_level": 2})
        package = next(p.name for p in (project / "src").iterdir() if p.is_dir())
        run = [uv, "run", "--no-sync"]
        subprocess.run([uv, "sync", "--locked", "--quiet"], cwd=project, env=env, check=True)
        subprocess.run(["make", "train"], cwd=project, env=env, check=True, capture_output=True)
        add = [uv, "add", "--quiet", "ray[data]>=2.40"]
        subprocess.run(add, cwd=project, env=env, check=True)
        for script, argument in ((_MAKE_ROWS, args.rows), (_SPLIT, args.files)):
            subprocess.run(
                [*run, "python", "-c", script, str(argument)], cwd=project, env=env, check=True
            )
        model = project / "models" / "model.joblib"
        answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
        command = [str(project / ".venv" / "bin" / answers["project_slug"]), "score"]
        runs = {
            "score": [*command, "rows.parquet", "--output", "scored.parquet"],
            "on_ray": [*command, "rows", "--output", "scored", "--on-ray"],
        }
        times: dict[str, list[float]] = {key: [] for key in ("raw", *runs)}
        memory: dict[str, float] = dict.fromkeys(times, 0.0)
        for _ in range(args.repeats):
            raw = [*run, "python", "-c", _RAW.format(package=package), str(model)]
            _, peak, out = _measure(raw, project, env)
            times["raw"].append(float(out))
            memory["raw"] = max(memory["raw"], peak)
            for key, argv in runs.items():
                wall, peak = _measure_tree(argv, project, env)
                times[key].append(wall)
                memory[key] = max(memory[key], peak)
        rate = {key: args.rows / statistics.median(values) for key, values in times.items()}
        print(f"{args.rows:,} rows; median of {args.repeats}; rows/s (peak resident MiB):")
        print("| raw `predict` | `score` | ratio | `score --on-ray` | ratio |")
        print("|---|---|---|---|---|")
        cells = [f"{rate['raw']:,.0f} ({memory['raw']:,.0f} MiB)"]
        for key in runs:
            cells += [
                f"{rate[key]:,.0f} ({memory[key]:,.0f} MiB)",
                f"{rate[key] / rate['raw']:.2f}",
            ]
        print(f"| {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
