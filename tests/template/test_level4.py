"""Level 4 renders: in a fresh clone, the service started as its image starts it logs every
prediction it answers; after 500 simulated drifted requests the monitor exits 1 naming the
shifted features and the decay, after 500 steady ones it exits 0; the render passes its
own tests, lints and checkers. The scheduled monitor runs on real runners (GitHub's on act,
GitLab's on gitlab-ci-local; Azure's on the emulation, with its retrain job): on a full
clone, it fetches the log the service shipped to a real S3 server and the labels beside
it, finds the drift and decides to retrain. The retrain jobs (GitHub's as the monitor's
dispatch starts it) keep the labelled drifted rows with DVC (`feedback`), retrain on them
and propose the model: GitHub's pushes its branch and asks for the pull request, GitLab's
commits and stops at its push to a server that is not here."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from ci_steps import run_ci
from deployment import check_deployment
from engines import S3Server, report, s3_objects, s3_server
from generated import (
    check_ci_config,
    check_generated_project,
    python_available,
    run,
    serving_as_image,
    uv,
    uv_env,
    write_training_csv,
)
from matrix import CI_PROVIDERS, COMBINATIONS, answers
from real_ci import NO_GITLAB_SERVER, gh_calls, run_pipeline, run_workflow, shallow_checkout

from mlops_ladder.render import answer_rules, copier_copy

pytestmark = pytest.mark.slow

LEVEL = 4
REQUESTS = 500


@pytest.fixture(autouse=True)
def _preview(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = answer_rules()
    if rules.PREVIEW_LEVEL == LEVEL:
        monkeypatch.setenv(rules.PREVIEW_VARIABLE, str(LEVEL))


def _pipeline(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    (package,) = [p.name for p in (project / "src").iterdir() if p.is_dir()]
    return subprocess.run(
        [uv(), "run", "--no-sync", "python", "-m", f"{package}.pipeline", *arguments],
        cwd=project,
        env=uv_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _shifted(data: dict) -> set[str]:
    """What the simulator moves: the model's first numeric and first categorical feature.
    Regression learns from the species, the table's first column; classification's first
    category is the island."""
    return {"bill_length_mm", "species" if data["task"] == "regression" else "island"}


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_monitor_in_a_fresh_clone_tells_drifted_traffic_from_steady(
    name: str, tmp_path: Path
) -> None:
    data = answers(name, level=LEVEL, initialize_git=True)
    if not python_available(data["python_version"]):
        pytest.skip(f"Python {data['python_version']} is not installed or not enabled")
    project = copier_copy(tmp_path / "project", data)
    check_generated_project(project)
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

    for kind, seed in (("drifted", 1), ("steady", 2)):
        batch = _pipeline(clone, "simulate", kind, "--rows", str(REQUESTS), "--seed", str(seed))
        assert batch.returncode == 0, batch.stderr
        log = tmp_path / f"{kind}-log"
        # The image's own command and variables; the log folder is the volume it mounts.
        with serving_as_image(clone, PREDICTION_LOG_DIR=str(log)) as url:
            sent = _pipeline(clone, "replay", f"data/simulated/{kind}.csv", "--url", url)
            assert sent.returncode == 0, sent.stderr
        # Stopped: every answered request is a line, none lost on the way out.
        lines = [
            json.loads(line)
            for path in sorted(log.glob("predictions.jsonl*"))
            for line in path.read_text(encoding="utf-8").splitlines()
        ]
        assert len(lines) == REQUESTS, f"{len(lines)} logged for {REQUESTS} answered"
        assert len({line["request_id"] for line in lines}) == REQUESTS

        verdict = _pipeline(
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
        if data["ci_provider"] == "azure" and kind == "drifted":
            # Azure Pipelines has no local agent: its scheduled jobs on the emulation, once,
            # on the path that runs every step (the steady verdict is the same monitor
            # command, and the trigger's "no" is tests/test_trigger.py's).
            labels = clone / "data" / "simulated" / f"{kind}-labels.csv"
            _azure_scheduled_jobs(clone, tmp_path / "ci", log, labels)


def _azure_scheduled_jobs(clone: Path, workdir: Path, log: Path, labels: Path) -> None:
    """Azure's scheduled monitor job on a drifted log and its labels (the variables name
    where they are): it decides to retrain, and the retrain job keeps the labelled rows and
    runs as far as its commit."""
    settings = {"PREDICTION_LOG_URL": str(log), "LABELS_URL": str(labels), "reason": "drift"}
    outcome = run_ci(clone, workdir, only={"monitor", "retrain"}, settings=settings)
    decision = (workdir / "monitor" / "trigger.env").read_text()
    assert "retrain=true" in decision, decision
    assert "reasons=drift in " in decision and " fell from " in decision, decision
    assert "retrain/Keep the predictions whose labels arrived" in outcome.ran, outcome
    assert "retrain/Commit the retrained model" in outcome.ran, outcome
    committed = run(workdir / "retrain", "git", "log", "-1", "--format=%B").stdout
    assert f"Learned from {REQUESTS} new labelled rows." in committed, committed
    assert "retrain/Open a pull request" in outcome.not_run, outcome


# The scheduled monitor on real runners -------------------------------------------------
LOG_URL = "s3://predictions/penguin-model/"
LABELS_URL = "s3://predictions/labels/drifted.csv"


def _drifted_traffic_shipped(project: Path, server: S3Server) -> None:
    """A week of drifted traffic: the service (as its image starts it, with the s3 extra)
    ships every prediction to the bucket; the labels that arrived go beside it."""
    run(project, uv(), "sync", "--locked", "--extra", "s3", "--quiet")
    batch = _pipeline(project, "simulate", "drifted", "--rows", str(REQUESTS), "--seed", "1")
    assert batch.returncode == 0, batch.stderr
    with serving_as_image(project, PREDICTION_LOG_URL=LOG_URL, **server.env()) as url:
        sent = _pipeline(project, "replay", "data/simulated/drifted.csv", "--url", url)
        assert sent.returncode == 0, sent.stderr
    labels = (project / "data" / "simulated" / "drifted-labels.csv").read_bytes()
    server.client().put_object(Bucket="predictions", Key="labels/drifted.csv", Body=labels)
    shipped = s3_objects(server, "predictions", "penguin-model/")
    assert sum(len(body.splitlines()) for body in shipped.values()) == REQUESTS


def _github_monitor(checkout: Path, workdir: Path, server: S3Server) -> str:
    """monitor.yml as its schedule starts it; returns the drift report it kept."""
    settings = {
        "PREDICTION_LOG_URL": LOG_URL,
        "LABELS_URL": LABELS_URL,
        "AWS_ENDPOINT_URL": server.endpoint,
    }
    credentials = {
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
    }
    monitor = run_workflow(
        checkout, "monitor.yml", "schedule", workdir, variables=settings, secrets=credentials
    )
    monitor.succeeded("Monitor/Judge the logged predictions")
    (dispatch,) = gh_calls(workdir)
    assert dispatch.startswith("workflow run retrain.yml --ref main --field reason=drift in "), (
        dispatch
    )
    report(f"act: monitor.yml on schedule passed in {monitor.seconds:.0f} s: {dispatch}")
    # The Retrain workflow as that dispatch starts it.
    reason = dispatch.split("--field reason=", 1)[1]
    retrain = run_workflow(
        checkout,
        "retrain.yml",
        "workflow_dispatch",
        workdir,
        payload={"inputs": {"reason": reason}},
        variables=settings,
        secrets=credentials,
    )
    retrain.succeeded("Retrain/Retrain and propose the model")
    # Without a PULL_REQUEST_TOKEN secret it says CI will not start on the pull request.
    assert "No PULL_REQUEST_TOKEN secret" in retrain.log, retrain.log[-4000:]
    # It learned from the labelled drifted rows, kept them with DVC, and proposed the
    # model: its branch reached the origin the job checked out, with the rows' file.
    proposal = gh_calls(workdir)[-1]
    assert proposal.startswith("pr create --head retrain/"), proposal
    branch = proposal.split()[3]
    message = run(workdir / "origin.git", "git", "log", "-1", "--format=%B", branch).stdout
    assert message.startswith(f"Retrain: {reason}\n"), message
    assert f"Learned from {REQUESTS} new labelled rows." in message, message
    files = run(workdir / "origin.git", "git", "show", "--name-only", "--format=", branch).stdout
    assert re.search(rf"data/feedback/labelled-\S+-{REQUESTS}\.csv\.dvc", files), files
    report(f"act: retrain.yml on workflow_dispatch pushed {branch} in {retrain.seconds:.0f} s")
    return (monitor.artifacts / "drift-report" / "reports" / "drift.json").read_text()


def _gitlab_monitor(checkout: Path, workdir: Path, server: S3Server) -> str:
    """The scheduled pipeline's monitor job; returns its drift report."""
    variables = {
        "CI_PIPELINE_SOURCE": "schedule",
        "PREDICTION_LOG_URL": LOG_URL,
        "LABELS_URL": LABELS_URL,
        **server.credentials(),
    }
    # The retrain job pushes its branch to the GitLab server over HTTPS, which does not
    # exist here: it runs up to that push.
    variables |= {"RETRAIN_TOKEN": "no-server-here", **NO_GITLAB_SERVER}
    pipeline = run_pipeline(
        checkout, ["monitor", "retrain"], workdir, variables=variables, check=False
    )
    pipeline.passed("monitor")
    artifacts = checkout / ".gitlab-ci-local" / "artifacts" / "monitor"
    decision = (artifacts / ".gitlab-ci-reports" / "dotenv" / "trigger.env").read_text()
    assert "retrain=true" in decision, decision
    pipeline.stopped_at_server_push("retrain")
    # It kept the labelled drifted rows with DVC and committed the model they taught.
    kept = f"{REQUESTS} new labelled rows kept in data/feedback/"
    assert kept in pipeline.log, pipeline.log[-6000:]
    assert re.search(r"\[retrain/\S+ [0-9a-f]+\] Retrain: drift in ", pipeline.log), (
        f"the retrain job committed no model:\n{pipeline.log[-6000:]}"
    )
    report(
        f"gitlab-ci-local: monitor and retrain (up to its push) on schedule in "
        f"{pipeline.seconds:.0f} s"
    )
    return (artifacts / "reports" / "drift.json").read_text()


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_scheduled_monitor_on_real_runners(provider: str, tmp_path: Path) -> None:
    (name,) = [n for n, chosen in CI_PROVIDERS.items() if chosen == provider]
    data = answers(name, level=LEVEL, initialize_git=True)
    if not python_available(data["python_version"]):
        pytest.skip(f"Python {data['python_version']} is not installed or not enabled")
    project = copier_copy(tmp_path / "project", data)
    run(project, uv(), "sync", "--locked", "--quiet")
    run(project, uv(), "run", "--no-sync", "dvc", "repro")
    run(project, "git", "add", "--all")
    run(project, "git", "commit", "--quiet", "-m", "First model")
    with s3_server(tmp_path / "s3", ("predictions",)) as server:
        _drifted_traffic_shipped(project, server)
        # The gate in the job's `dvc repro` reads the registry: a full clone.
        checkout = shallow_checkout(project, tmp_path / provider, depth=None)
        watch = _github_monitor if provider == "github" else _gitlab_monitor
        drift = json.loads(watch(checkout, tmp_path / provider, server))
    assert drift["rows"] == REQUESTS, drift
    drifted = {column for column, shift in drift["features"].items() if shift["drifted"]}
    assert drifted >= _shifted(data), drift["features"]
    assert drift["performance"]["decayed"], drift["performance"]
