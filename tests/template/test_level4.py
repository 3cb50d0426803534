"""Level 4 renders: in a fresh clone, the service started as its image starts it logs every
prediction it answers; after 500 simulated drifted requests the monitor exits 1 naming the
shifted features and the decay, after 500 steady ones it exits 0; the render passes its
lints and checkers, and its own tests (matrix.OWN_SUITE: the others' run as their CI's
test job in test_scenario.py). One render adds Ray and scores a folder on it, the run
logged for the monitor. The scheduled monitor and retrain jobs of every provider run in
test_scenario.py's first weeks (GitHub's and GitLab's on real runners, Azure's on the
emulation)."""

from __future__ import annotations

import json
from pathlib import Path

import azureml_jobs
import pandas as pd
import pytest
from deployment import check_deployment
from generated import (
    check_ci_config,
    check_generated_project,
    deployed_version,
    pipeline,
    python_available,
    run,
    serving_as_image,
    uv,
    write_training_csv,
)
from matrix import COMBINATIONS, OWN_SUITE, answers
from ray_scoring import check_batch_on_ray

from mlops_ladder.render import copier_copy

pytestmark = pytest.mark.slow

LEVEL = 4
REQUESTS = 500
# The render that adds Ray and scores on it, with the run logged for the monitor.
RAY_RENDER = "py310-classification-sample-mit"


def _shifted(data: dict) -> set[str]:
    """What the simulator moves: the model's first numeric and first categorical feature.
    Regression learns from the species, the table's first column; classification's first
    category is the island."""
    return {"bill_length_mm", "species" if data["task"] == "regression" else "island"}


def _azureml_batch(clone: Path, workdir: Path) -> None:
    """azureml/batch-job.yml validates and runs as Azure ML would run it (tests/azureml_jobs):
    the held-out rows scored with the checkout's model, every one, and the run logged."""
    azureml_jobs.check_specs(clone)
    outputs = azureml_jobs.run_command_job(clone, workdir, "batch-job.yml")
    rows = len(pd.read_csv(clone / "data" / "processed" / "test.csv"))
    assert len(pd.read_parquet(outputs["scores"] / "scores.parquet")) == rows
    assert not (outputs["scores"] / "scores.rejected.csv").exists()
    (log,) = outputs["predictions"].glob("batch-*.parquet")
    logged = pd.read_parquet(log)
    assert len(logged) == rows
    # The version the service names: the skops copy's, which the monitor judges.
    assert set(logged["model_version"]) == {deployed_version(clone)}


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_monitor_in_a_fresh_clone_tells_drifted_traffic_from_steady(
    name: str, tmp_path: Path
) -> None:
    data = answers(name, level=LEVEL, initialize_git=True)
    if not python_available(data["python_version"]):
        pytest.skip(f"Python {data['python_version']} is not installed or not enabled")
    project = copier_copy(tmp_path / "project", data)
    check_generated_project(project, own_suite=name in OWN_SUITE[LEVEL])
    check_ci_config(project)
    check_deployment(project, data, tmp_path)
    if data.get("dataset") == "csv":
        write_training_csv(project, data)
        run(project, uv(), "run", "--no-sync", "dvc", "add", data["csv_path"])
    run(project, uv(), "run", "--no-sync", "dvc", "exp", "run")
    run(project, "git", "add", "--all")
    run(project, "git", "commit", "--quiet", "-m", "First model")
    run(project, uv(), "run", "--no-sync", "dvc", "push")

    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "--quiet", str(project), str(clone))
    run(clone, uv(), "sync", "--locked", "--quiet")
    run(clone, uv(), "run", "--no-sync", "dvc", "pull")
    if data["compute"] == "azureml":
        _azureml_batch(clone, tmp_path / "azureml-batch")

    for kind, seed in (("drifted", 1), ("steady", 2)):
        batch = pipeline(clone, "simulate", kind, "--rows", str(REQUESTS), "--seed", str(seed))
        assert batch.returncode == 0, batch.stderr
        log = tmp_path / f"{kind}-log"
        # The image's own command and variables; the log folder is the volume it mounts.
        with serving_as_image(clone, PREDICTION_LOG_DIR=str(log)) as url:
            sent = pipeline(clone, "replay", f"data/simulated/{kind}.csv", "--url", url)
            assert sent.returncode == 0, sent.stderr
        # Stopped: every answered request is a line, none lost on the way out.
        lines = [
            json.loads(line)
            for path in sorted(log.glob("predictions.jsonl*"))
            for line in path.read_text(encoding="utf-8").splitlines()
        ]
        assert len(lines) == REQUESTS, f"{len(lines)} logged for {REQUESTS} answered"
        assert len({line["request_id"] for line in lines}) == REQUESTS

        verdict = pipeline(
            clone, "monitor", "--log", str(log), "--labels", f"data/simulated/{kind}-labels.csv"
        )
        output = verdict.stdout + verdict.stderr
        report = json.loads((clone / "reports" / "drift.json").read_text())
        assert report["rows"] == REQUESTS
        drifted = {column for column, shift in report["features"].items() if shift["drifted"]}
        if kind == "drifted":
            assert verdict.returncode == 1, output
            assert drifted >= _shifted(data), report["features"]
            for column in _shifted(data):
                assert column in output, output
            assert report["performance"]["decayed"], report["performance"]
        else:
            assert verdict.returncode == 0, output
            assert drifted == set(), report["features"]
            assert "no drift" in output, output
    if name == RAY_RENDER:
        check_batch_on_ray(project, logged=True)
