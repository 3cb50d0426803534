"""A level-4 scoring service under load from a second process: one-row /predict against
/health, side by side in one run, the prediction log on.

Renders a level-4 project (default answers), installs it, trains (`dvc repro train`), and
starts `serve` as its own process (the log in the render's logs/predictions, as it runs by
default). wrk, a separate process on the same two cores, keeps --connections connections
busy for --duration seconds per round; rounds alternate /health and /predict (the penguins' first
row as JSON), so drift on the machine falls on both. Reported per round and as the median
of the rounds: requests per second and wrk's 99th percentile of latency, and the ratios
the issue's target names (/predict's throughput over /health's, its p99 over /health's).
Every /predict answer is checked to have been logged at the end.

Needs wrk (Debian: `apt-get install wrk`). Run:
    uv run python benchmarks/service_load.py [--connections 4] [--duration 10] [--rounds 3]
        [-- <serve options, e.g. --limit-concurrency 64>]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from service_latency import penguin_row

from mlops_ladder.project_env import project_env
from mlops_ladder.render import copier_copy
from mlops_ladder.service import free_port, wait_healthy

LEVEL = 4
_POST = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {body!r}
"""
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk(
    url: str, connections: int, duration: int, script: Path | None
) -> tuple[float, float, int]:
    """Requests per second, the 99th percentile in ms and the requests sent of one wrk
    run; non-2xx answers fail the run."""
    command = ["wrk", "--latency", "-t1", f"-c{connections}", f"-d{duration}s", url]
    if script:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    assert "Non-2xx" not in out and "Socket errors" not in out, out
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    sent = int(re.search(r"(\d+) requests in", out).group(1))
    return rate, float(value) * _UNITS[unit], sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--duration", type=int, default=10, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("serve_options", nargs="*", help="passed to `serve` after --")
    args = parser.parse_args()
    uv, wrk = shutil.which("uv"), shutil.which("wrk")
    assert uv, "uv must be on the PATH"
    assert wrk, "wrk must be on the PATH (Debian: apt-get install wrk)"
    with tempfile.TemporaryDirectory() as scratch:
        project = copier_copy(Path(scratch) / "p", {"maturity_level": LEVEL})
        env = project_env()
        subprocess.run([uv, "sync", "--locked", "--quiet"], cwd=project, env=env, check=True)
        run = [uv, "run", "--no-sync"]
        # Level 4 trains through its pipeline (the model and its skops copy the image serves).
        subprocess.run([*run, "dvc", "repro", "train"], cwd=project, env=env, check=True)
        row = penguin_row(run, project, env)
        script = Path(scratch) / "predict.lua"
        script.write_text(_POST.format(body=row), encoding="utf-8")
        port = free_port()
        serve = [*run, "penguin-model", "serve", "--port", str(port), *args.serve_options]
        base = f"http://127.0.0.1:{port}"
        results: dict[str, list[tuple[float, float, int]]] = {"health": [], "predict": []}
        with subprocess.Popen(serve, cwd=project, env=env, stdout=-3, stderr=-3) as server:
            try:
                wait_healthy(base, server)
                # Warm-up: the first requests pay for imports and the runtime's first call.
                warm = _wrk(f"{base}/predict", args.connections, 2, script)
                _wrk(f"{base}/health", args.connections, 2, None)
                for round_ in range(1, args.rounds + 1):
                    health = _wrk(f"{base}/health", args.connections, args.duration, None)
                    predict = _wrk(f"{base}/predict", args.connections, args.duration, script)
                    results["health"].append(health)
                    results["predict"].append(predict)
                    print(
                        f"| {round_} | {health[0]:.0f} | {health[1]:.2f} | {predict[0]:.0f} | "
                        f"{predict[1]:.2f} | {predict[0] / health[0]:.2f} | "
                        f"{predict[1] / health[1]:.2f} |",
                        flush=True,
                    )
            finally:
                server.terminate()
                server.wait(timeout=60)
        logged = sum(
            len(path.read_text(encoding="utf-8").splitlines())
            for path in (project / "logs" / "predictions").glob("predictions.jsonl*")
        )
    rate = {name: statistics.median(run[0] for run in runs) for name, runs in results.items()}
    p99 = {name: statistics.median(run[1] for run in runs) for name, runs in results.items()}
    answered = warm[2] + sum(run[2] for run in results["predict"])
    print(
        f"| median | {rate['health']:.0f} | {p99['health']:.2f} | {rate['predict']:.0f} | "
        f"{p99['predict']:.2f} | {rate['predict'] / rate['health']:.2f} | "
        f"{p99['predict'] / p99['health']:.2f} |"
    )
    # wrk counts the requests it completed; the ones cut off at a round's end may have been
    # answered (and logged) too.
    print(f"/predict requests wrk completed: {answered}; predictions logged: {logged}")
    print(json.dumps({"rate": rate, "p99_ms": p99}))


if __name__ == "__main__":
    main()
