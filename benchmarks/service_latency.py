"""Latency of a rendered scoring service: /predict and /predict/batch against /health, and
the batch against scoring the same rows in process.

/health does no model work, so it is the floor of the HTTP stack (uvicorn, FastAPI, one
local connection); the difference is what validation and the model cost per request.
A /predict whose row the schema refuses (422) reads, parses and validates the same body and
stops before the model: the floor of a POST with a row, no model work.
Renders a project at --level (default answers; level 3 with its champion/challenger
routing and request log; a level in preview is rendered with MLOPS_LADDER_PREVIEW),
installs it, trains, starts `serve` on a free port and times sequential requests from one
client; then times `score.predict` on the batch's rows inside the project's environment.
Run:
    uv run python benchmarks/service_latency.py --requests 300 [--level 3] [--batch 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlops_ladder.project_env import project_env
from mlops_ladder.render import answer_rules, copier_copy
from mlops_ladder.service import free_port, request_json, wait_healthy

# Runs in the project's environment: median and p95 ms of `score.predict` on the batch.
_IN_PROCESS = """
import json, statistics, sys, time
from pathlib import Path
import pandas as pd
from penguin_model.score import load_model, predict
row, rows = json.loads(sys.argv[1]), int(sys.argv[2])
bundle = load_model(Path("models/model.joblib"))
frame = pd.DataFrame([row] * rows)
for _ in range(20):
    predict(bundle, frame)
samples = []
for _ in range(300):
    start = time.perf_counter()
    predict(bundle, frame)
    samples.append((time.perf_counter() - start) * 1000)
print(statistics.median(samples), statistics.quantiles(samples, n=20)[18])
"""


_ROW_CODE = (
    "from palmerpenguins import load_penguins; "
    "print(load_penguins().drop(columns=['species', 'year'])"
    ".loc[[0]].to_json(orient='records')[1:-1])"
)


def penguin_row(run: list[str], project: Path, env: dict[str, str]) -> str:
    """The penguins' first row, its features only, as the JSON body of one /predict: read
    in the project's environment, which has the sample data (this one need not)."""
    found = subprocess.run(
        [*run, "python", "-c", _ROW_CODE],
        cwd=project,
        env=env,
        check=True,
        text=True,
        capture_output=True,
    )
    return found.stdout.strip()


def _refused(url: str, body: Any) -> Any:
    """POST ``body``, which the service must refuse with 422; its decoded answer."""
    try:
        request_json(url, body)
    except urllib.error.HTTPError as error:
        if error.code != 422:
            raise
        return json.loads(error.read())
    raise AssertionError(f"{url} accepted a row it should refuse: {body}")


def _timings(
    url: str, body: Any, requests: int, send: Callable[[str, Any], Any] = request_json
) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds (decoding the answer included), after 20
    warm-up requests."""
    for _ in range(20):
        send(url, body)
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        send(url, body)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=20)[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--batch", type=int, default=1000, help="rows per /predict/batch")
    parser.add_argument("--level", type=int, default=1, help="the rendered project's level")
    args = parser.parse_args()
    uv = shutil.which("uv")
    assert uv, "uv must be on the PATH"
    rules = answer_rules()
    if args.level == rules.PREVIEW_LEVEL:
        os.environ[rules.PREVIEW_VARIABLE] = str(args.level)
    with tempfile.TemporaryDirectory() as scratch:
        project = copier_copy(Path(scratch) / "p", {"maturity_level": args.level})
        env = project_env()
        subprocess.run([uv, "sync", "--locked", "--quiet"], cwd=project, env=env, check=True)
        run = [uv, "run", "--no-sync"]
        train = [*run, "penguin-model", "train"]
        subprocess.run(train, cwd=project, env=env, check=True, stdout=-3)
        row = json.loads(penguin_row(run, project, env))
        port = free_port()
        serve = [*run, "penguin-model", "serve", "--port", str(port)]
        with subprocess.Popen(serve, cwd=project, env=env, stdout=-3, stderr=-3) as server:
            try:
                base = f"http://127.0.0.1:{port}"
                wait_healthy(base, server)
                # The same row with one number sent as text: refused by the strict schema.
                refused = {**row, "bill_length_mm": str(row["bill_length_mm"])}
                cases = {
                    "GET /health": (f"{base}/health", None, request_json),
                    "POST /predict (1 row refused, 422: no model work)": (
                        f"{base}/predict",
                        refused,
                        _refused,
                    ),
                    "POST /predict (1 row)": (f"{base}/predict", row, request_json),
                    f"POST /predict/batch ({args.batch} rows)": (
                        f"{base}/predict/batch",
                        {"rows": [row] * args.batch},
                        request_json,
                    ),
                }
                print(f"| request ({args.requests} sequential) | median ms | p95 ms |")
                print("|---|---|---|")
                for name, (url, body, send) in cases.items():
                    median, p95 = _timings(url, body, args.requests, send)
                    print(f"| {name} | {median:.2f} | {p95:.2f} |", flush=True)
                in_process = subprocess.run(
                    [*run, "python", "-c", _IN_PROCESS, json.dumps(row), str(args.batch)],
                    cwd=project,
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.split()
                print(
                    f"| `score.predict` in process ({args.batch} rows) | "
                    f"{float(in_process[0]):.2f} | {float(in_process[1]):.2f} |"
                )
            finally:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    main()
