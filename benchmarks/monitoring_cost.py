"""What level 4's monitoring costs: the prediction log per /predict request, and the
monitor on a large window of logged predictions.

1. Prediction logging: a level-4 render (default answers) is trained; the service app is
   built twice in the project's own process, with and without a PredictionLog writing to a
   folder, and one-row /predict is timed through the ASGI app (Starlette's TestClient: no
   socket, so the difference is the log's own cost, not network noise).
2. Monitor: a synthetic table of --features columns (two thirds numeric, a third
   categorical) trains the project's model; --rows logged predictions from the same
   distribution (their model version, timestamp and prediction included) are judged by
   `monitor.monitor` (the statistics) and `write_report` (drift.json, drift.md, one plot
   per drifted column); reading the same rows back from a JSON-lines log (`read_log`) is
   timed on its own.

Run:
    uv run python benchmarks/monitoring_cost.py [--requests 2000] [--rows 1000000] [--features 30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mlops_ladder.project_env import project_env
from mlops_ladder.render import answer_rules, copier_copy

LEVEL = 4

# Runs in the project's environment: p50 and p95 ms of one-row /predict without and with
# the prediction log.
_LOG_COST = """
import json, statistics, sys, tempfile, time
from pathlib import Path
from fastapi.testclient import TestClient
from palmerpenguins import load_penguins
from penguin_model.serving.app import create_app
from penguin_model.serving.prediction_log import PredictionLog, folder_sink
from penguin_model.serving.routing import Router
from penguin_model.serving.telemetry import Telemetry

requests = int(sys.argv[1])
features = load_penguins().drop(columns=["species", "year"])
row = json.loads(features.loc[[0]].to_json(orient="records"))[0]

def timings(log):
    # The service as level 4's `serve` puts it together, with the log or without it.
    extensions = [Telemetry(Path("reports/drift.json"), log), *([log] if log else [])]
    service = create_app(
        Router.load(Path("models/model.skops")), extensions, refuse_out_of_schema=False
    )
    with TestClient(service) as client:
        for _ in range(50):
            client.post("/predict", json=row)
        samples = []
        for _ in range(requests):
            start = time.perf_counter()
            client.post("/predict", json=row)
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=20)[18]

with tempfile.TemporaryDirectory() as folder:
    # Alternate, so that drift in the machine's load falls on both alike.
    runs = {"without": [], "with": []}
    for _ in range(3):
        runs["without"].append(timings(None))
        runs["with"].append(timings(PredictionLog(folder_sink(Path(folder)))))
for name, samples in runs.items():
    p50 = statistics.median(s[0] for s in samples)
    p95 = statistics.median(s[1] for s in samples)
    print(name, p50, p95)
"""

# Runs in the project's environment: seconds for each monitoring step.
_MONITOR_COST = """
import sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd
from penguin_model.config import Settings
from penguin_model.monitoring.monitor import Thresholds, monitor, read_log, write_report
from penguin_model.serving.prediction_log import FILE_NAME
from penguin_model.score import predict
from penguin_model.train import train

rows, features = int(sys.argv[1]), int(sys.argv[2])
random = np.random.default_rng(0)
numeric = features * 2 // 3

def table(n, shift=0.0):
    columns = {f"x{i:02d}": random.normal(shift if i == 0 else 0.0, 1.0, n) for i in range(numeric)}
    for i in range(numeric, features):
        columns[f"c{i:02d}"] = random.choice(["a", "b", "c", "d", "e"], n)
    frame = pd.DataFrame(columns)
    frame["label"] = np.where(frame["x00"] + frame["x01"] > 0, "yes", "no")
    return frame

reference = table(50_000)
bundle = train(reference, Settings(target="label", drop_columns=()))
current = table(rows, shift=0.5)
logged = predict(bundle, current.drop(columns="label"))
logged["model_version"] = "benchmark"
logged["timestamp"] = pd.Timestamp("2026-11-24", tz="UTC").isoformat()
logged["request_id"] = [f"r{i}" for i in range(rows)]
thresholds = Thresholds(min_rows=100, psi=0.2, p_value=0.01, bins=10, max_metric_drop=0.05)

start = time.perf_counter()
report = monitor(logged, reference, bundle, thresholds)
statistics_s = time.perf_counter() - start
with tempfile.TemporaryDirectory() as folder:
    start = time.perf_counter()
    write_report(report, logged, reference, Path(folder) / "drift.json")
    report_s = time.perf_counter() - start
    log = Path(folder) / "log"
    log.mkdir()
    records = logged[["request_id", "timestamp", "model_version", "prediction"]].copy()
    records["row"] = 0
    records["features"] = current.drop(columns="label").to_dict(orient="records")
    records.to_json(log / FILE_NAME, orient="records", lines=True)
    start = time.perf_counter()
    read_back = read_log(log, bundle)
    read_s = time.perf_counter() - start
assert len(read_back) == rows
print(statistics_s, report_s, read_s, len(report.reasons))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=30)
    args = parser.parse_args()
    uv = shutil.which("uv")
    assert uv, "uv must be on the PATH"
    rules = answer_rules()
    if rules.PREVIEW_LEVEL == LEVEL:
        os.environ[rules.PREVIEW_VARIABLE] = str(LEVEL)
    with tempfile.TemporaryDirectory() as scratch:
        project = copier_copy(Path(scratch) / "p", {"maturity_level": LEVEL})
        env = project_env()
        subprocess.run([uv, "sync", "--locked", "--quiet"], cwd=project, env=env, check=True)
        run = [uv, "run", "--no-sync"]
        subprocess.run([*run, "dvc", "repro"], cwd=project, env=env, check=True, stdout=-3)

        def python(code: str, *arguments: str) -> list[str]:
            command = [*run, "python", "-c", code, *arguments]
            result = subprocess.run(
                command, cwd=project, env=env, check=True, capture_output=True, text=True
            )
            return result.stdout.split("\n")

        lines = python(_LOG_COST, str(args.requests))
        figures = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in lines if line}
        (without, without_p95), (with_log, with_p95) = figures["without"], figures["with"]
        print(f"| one-row /predict ({args.requests} sequential, ASGI) | p50 ms | p95 ms |")
        print("|---|---|---|")
        print(f"| without the prediction log | {without:.3f} | {without_p95:.3f} |")
        print(f"| with the prediction log | {with_log:.3f} | {with_p95:.3f} |")
        print(f"\nlog cost: {with_log - without:.3f} ms, {(with_log / without - 1):.1%} of p50\n")

        statistics_s, report_s, read_s, reasons = python(
            _MONITOR_COST, str(args.rows), str(args.features)
        )[0].split()
        print(f"| monitor, {args.rows:,} rows x {args.features} features | seconds |")
        print("|---|---|")
        print(f"| statistics (`monitor`) | {float(statistics_s):.2f} |")
        print(f"| report (`write_report`, {reasons} drifted) | {float(report_s):.2f} |")
        print(f"| reading the JSON-lines log (`read_log`) | {float(read_s):.2f} |")


if __name__ == "__main__":
    main()
