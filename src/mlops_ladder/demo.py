"""The end-to-end demo: render a project at the highest level built, then run it."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

from uv import find_uv_bin

from mlops_ladder.project_env import project_env
from mlops_ladder.render import answer_rules, copier_copy
from mlops_ladder.service import free_port, request_json, wait_healthy

Step = Callable[[str], None]


def _run(project: Path, *command: str) -> str:
    result = subprocess.run(
        list(command), cwd=project, env=project_env(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"`{' '.join(command)}` failed (exit {result.returncode}):\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result.stdout


def run_demo(destination: Path, report: Step, show: Callable[[Path], None]) -> Path:
    """Render, install, test, train (from level 2 through the DVC pipeline; from level 3
    with its release gate and model card), score; from level 1, also serve and ask
    /predict.

    ``report`` is told each step as it starts; ``show`` gets the scored CSV at the end.
    """
    uv = find_uv_bin()  # the uv installed with mlops-ladder, on the PATH or not
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
    if level >= 2:
        last = "the release gate and the model card" if level >= 3 else "evaluate"
        report(f"Running its training pipeline with dvc exp run (ingest to {last})")
        run_in_project("dvc", "exp", "run", "--quiet")
        report(run_in_project("dvc", "metrics", "show").strip())
        if level >= 3:
            report(_gate_summary(project / "reports" / "gate.json"))
            report(f"Model card: {project / 'reports' / 'model_card.md'}")
    else:
        report("Training on the Palmer penguins sample")
        report(run_in_project("python", "-m", package, "train").strip())
    rows = project / "data" / "interim" / "rows_to_score.csv"
    sample = f"load_penguins().sample(10, random_state=0).to_csv({str(rows)!r}, index=False)"
    run_in_project("python", "-c", f"from palmerpenguins import load_penguins; {sample}")
    output = project / "data" / "processed" / "predictions.csv"
    report(f"Scoring {rows.relative_to(project)} with the trained model")
    run_in_project("python", "-m", package, "score", str(rows), "--output", str(output))
    show(output)
    if level >= 1:
        port = free_port()
        report(f"Serving the model on http://127.0.0.1:{port} and asking /predict for one penguin")
        command = [uv, "run", "--no-sync", "python", "-m", package, "serve", "--port", str(port)]

        def first_penguin(features: list[str]) -> dict[str, Any]:
            # The project's own environment has the sample; NaN becomes JSON null.
            code = f"{_PENGUINS}.loc[[0], {features!r}].to_json(orient='records')[1:-1])"
            return dict(json.loads(run_in_project("python", "-c", code)))

        url = f"http://127.0.0.1:{port}"
        replay: Callable[[str], None] | None = None
        if level >= 4:
            report("Simulating 500 requests from a drifted world (pipeline simulate drifted)")
            run_in_project(*_pipeline(package, "simulate", "drifted"))

            def send_drifted(url: str) -> None:
                report("Sending them to the service, which logs every prediction")
                sent = run_in_project(*_pipeline(package, "replay", _DRIFTED, "--url", url))
                report(sent.strip())

            replay = send_drifted

        row, answer = _ask_service(project, command, url, first_penguin, replay)
        report(f"POST /predict {json.dumps(row)}\n  -> {json.dumps(answer)}")
        if level >= 4:
            _monitor_and_retrain(project, [uv, "run", "--no-sync"], package, report)
    return project


_DRIFTED = "data/simulated/drifted.csv"


def _pipeline(package: str, *arguments: str) -> tuple[str, ...]:
    return ("python", "-m", package, "pipeline", *arguments)


def _monitor_and_retrain(project: Path, run: list[str], package: str, report: Step) -> None:
    """Level 4's loop after the service stopped: the monitor judges the log against the
    training data (exit 1: drift), the trigger decides, and retraining keeps the labelled
    predictions as training rows and reruns the pipeline with its release gate, as the
    scheduled CI jobs do; then the champion and the retrained model score a fresh drifted
    batch neither learned from."""
    report("Judging the prediction log against the training data (pipeline monitor)")
    labels = _DRIFTED.replace(".csv", "-labels.csv")
    command = [*run, *_pipeline(package, "monitor", "--labels", labels)]
    verdict = subprocess.run(
        command, cwd=project, env=project_env(), capture_output=True, text=True, check=False
    )
    if verdict.returncode not in (0, 1):  # 2: the monitor could not judge
        raise RuntimeError(f"`{' '.join(command)}` failed:\n{verdict.stderr[-3000:]}")
    report((verdict.stdout + verdict.stderr).strip())
    decision = _run(project, *run, *_pipeline(package, "trigger")).strip()
    report(f"Trigger: {decision}")
    if not decision.startswith("Retrain"):
        return
    report("Keeping the labelled predictions as training rows (pipeline feedback)")
    kept = _run(project, *run, *_pipeline(package, "feedback", "--labels", labels))
    report(kept.strip().splitlines()[-1])
    champion = Path(tempfile.mkdtemp(prefix="mlops-ladder-champion.")) / "model.joblib"
    shutil.copyfile(project / "models" / "model.joblib", champion)
    report("Retraining as the scheduled job does: dvc repro, release gate included")
    _run(project, *run, "dvc", "repro", "--quiet")
    gate = project / "reports" / "gate.json"
    report(_gate_summary(gate))
    report("A fresh drifted batch neither model learned from (pipeline simulate drifted)")
    _run(project, *run, *_pipeline(package, "simulate", "drifted", "--seed", "2"))
    metric = json.loads(gate.read_text(encoding="utf-8"))["metric"]
    compare = _COMPARE.format(package=package)
    models = (str(champion), "models/model.joblib")
    scores = _run(project, *run, "python", "-c", compare, _DRIFTED, labels, metric, *models)
    before, after = map(float, scores.split())
    report(f"On those rows, {metric}: champion {before:.3f}, retrained {after:.3f}")
    if after <= before:
        raise RuntimeError("The retrained model does not beat the champion on drifted rows.")


# The gate's metric for each model file on a batch and its labels, in the project's
# environment: argv = batch CSV, labels CSV, metric, model files.
_COMPARE = """
import sys
from pathlib import Path
import pandas as pd
from {package}.pipeline.gate import METRICS
from {package}.score import load_model, predict
rows = pd.read_csv(sys.argv[1]).merge(pd.read_csv(sys.argv[2]), on="request_id")
for model in map(load_model, map(Path, sys.argv[4:])):
    print(METRICS[sys.argv[3]](rows[model.target], predict(model, rows)["prediction"]))
"""


def _gate_summary(report: Path) -> str:
    """One line from the gate's report: the verdict, the candidate's score, the champion."""
    verdict = json.loads(report.read_text(encoding="utf-8"))
    candidate = verdict["candidate"]
    slices = ", ".join(f"{name} {score:.3f}" for name, score in candidate["slices"].items())
    return (
        f"Release gate {'passed' if verdict['passed'] else 'FAILED'}: "
        f"{verdict['metric']} {candidate['overall']:.3f} overall ({slices}); "
        f"champion: {verdict['champion_source']}"
    )


_PENGUINS = "from palmerpenguins import load_penguins; print(load_penguins()"


def _ask_service(
    project: Path,
    command: list[str],
    url: str,
    make_row: Callable[[list[str]], dict[str, Any]],
    while_serving: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], Any]:
    """Start the service, wait for /health, post a row of the model's features to
    /predict, run ``while_serving`` with the URL, stop the service (SIGTERM, which lets it
    write what its prediction log still holds). Returns the row and the answer."""
    with subprocess.Popen(
        command, cwd=project, env=project_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as server:
        try:
            try:
                wait_healthy(url, server)
            except RuntimeError as error:
                exited = server.poll() is not None and server.stderr is not None
                stderr = server.stderr.read().decode() if exited and server.stderr else ""
                raise RuntimeError(f"{error}\n{stderr[-3000:]}") from error
            row = make_row(list(request_json(f"{url}/metadata", timeout=10)["features"]))
            try:
                answer = request_json(f"{url}/predict", row, timeout=10)
            except urllib.error.HTTPError as error:
                raise RuntimeError(f"/predict answered {error.code}: {error.read()!r}") from error
            if while_serving is not None:
                while_serving(url)
            return row, answer
        finally:
            server.terminate()
            server.wait(timeout=30)


def _package(project: Path) -> str:
    (package,) = [p.name for p in (project / "src").iterdir() if (p / "__init__.py").is_file()]
    return package
