"""A team's first weeks with a level-4 render, on real runners (GitHub's workflows on act,
GitLab's pipelines on gitlab-ci-local) and, for Azure Pipelines, which has no local agent,
on the emulation that runs its pipelines as Azure does (tests/ci_steps.py's run_azure),
against a real S3 server (the DVC remote and the
prediction log), a real registry and the Docker daemon. Each step asserts its outcome:

1. The first model is reproduced, pushed to the DVC remote and to main.
2. The delivery releases it: the gate (no champion yet), the image pushed, staging
   tested, production approved, the registry's `prod` tag pushed to the origin.
3. Production: the released image, pulled from the registry and run as its own command,
   answers a week of drifted traffic and ships its log to S3; the labels arrive beside it.
   The scheduled batch job scores a file on S3 with production's model, writes the scores
   and the row it sets aside back to S3, and ships its log beside the service's.
4. The scheduled monitor judges production's model on that log, finds the drift and the
   decay, and starts the retraining.
5. Retraining keeps the labelled rows with DVC, retrains on them, pushes its branch and
   asks for the pull (merge) request.
6. CI's jobs that the proposal changes (the image, the reproduction) run on that request,
   with the rows it proposes; it is merged.
7. The delivery releases the merge: the gate judges the retrained model against the real
   champion (the first release), reading both from S3; the new version takes `prod`.
8. A rollback puts the first version back, with the reason; the next gate's champion is
   that version.

What the runners cannot reach is played as tests/real_ci.py says: GitHub's API calls and
GitLab's (and Azure's) are recorded by stand-ins, GitLab's pushes land in the origin,
environment approvals are not played (GitLab's manual production job is started), and the
test merges with git."""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from ci_steps import PipelineRun, run_azure
from engines import (
    Registry,
    S3Server,
    docker,
    ensure_base_images,
    registry,
    report,
    running,
    s3_objects,
    s3_server,
    wait_healthy,
)
from filelock import FileLock
from generated import (
    check_ci_config,
    pipeline,
    python_available,
    run,
    uv,
    uv_env,
    write_training_csv,
)
from matrix import CI_PROVIDERS, answers
from real_ci import (
    ActRun,
    GitlabServer,
    api_recorder,
    fetch_depth,
    gh_calls,
    gitlab_server,
    run_pipeline,
    run_workflow,
    shallow_checkout,
)

from mlops_ladder.render import copier_copy

pytestmark = pytest.mark.slow

LEVEL = 4
REMOTE = "s3://dvc-remote/penguin-model"
IMAGE_PATH = "data-science-team/penguin-model"
ARTIFACT = "penguin-model"
LOG_URL = "s3://predictions/penguin-model/"
LABELS_URL = "s3://predictions/labels/drifted.csv"
BATCH_INPUT_URL = "s3://batch/incoming/today.csv"
BATCH_OUTPUT_URL = "s3://batch/scores/"
# The batch file's rows, one of them with a cell the model cannot take.
BATCH_ROWS = 40
REQUESTS = 500
REASON = "accuracy fell"  # the rollback's
# The port the image's command serves on (its CMD and HEALTHCHECK).
IMAGE_PORT = 8000


def _shifted(data: dict) -> set[str]:
    """What the simulator moves (as test_level4 says)."""
    return {"bill_length_mm", "species" if data["task"] == "regression" else "island"}


def _settings(server: S3Server, images: Registry) -> dict[str, dict[str, str]]:
    """The secrets and variables the workflows document, as a team sets them."""
    return {
        "secrets": {
            "REGISTRY_USER": images.user,
            "REGISTRY_PASSWORD": images.password,
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key,
        },
        "variables": {
            "AWS_ENDPOINT_URL": server.endpoint,
            "PREDICTION_LOG_URL": LOG_URL,
            "LABELS_URL": LABELS_URL,
            "BATCH_INPUT_URL": BATCH_INPUT_URL,
            "BATCH_OUTPUT_URL": BATCH_OUTPUT_URL,
        },
    }


def _prod(project: Path, workdir: Path) -> tuple[str, str]:
    """(commit, registry version) of production's model, as a fresh clone of the origin
    reads it: what the next gate compares with."""
    clone = shallow_checkout(project, workdir, depth=None)
    (package,) = (path.name for path in (project / "src").iterdir() if path.is_dir())
    code = (
        f"from {package}.pipeline.gate import find_champion as f; print(*f({ARTIFACT!r}, 'prod'))"
    )
    found = run(clone, str(project / ".venv" / "bin" / "python"), "-c", code).stdout.split()
    assert len(found) == 2, f"the origin has no prod version: {found}"
    return found[0], found[1]


def _released(project: Path, workdir: Path, images: Registry, gate: dict, log: str) -> None:
    """The delivery passed the gate, shipped the model the commit names (pulled, not
    trained again) in an image tagged with its version, and put main's head in prod."""
    assert gate["passed"], gate
    assert "Stage 'train' didn't change, skipping" in log, log[-6000:]
    assert f"model-{gate['candidate']['version']}" in images.tags(IMAGE_PATH)
    head = run(workdir / "origin.git", "git", "rev-parse", "main").stdout.strip()
    commit, _ = _prod(project, workdir)
    assert commit == head, f"prod is {commit}, not the released {head}"


def _free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _production_traffic(
    project: Path, server: S3Server, images: Registry, tag: str, version: str
) -> None:
    """The released image, pulled from the registry and run as its own command with the
    log shipped to S3, answers a week of drifted traffic; the labels arrive beside it."""
    image = f"{images.host}/{IMAGE_PATH}:{tag}"
    client = docker()
    # The daemon built it for the release: without the local copy, the pull proves the
    # registry has it.
    subprocess.run([client, "image", "rm", image], env=uv_env(), capture_output=True)
    login = subprocess.run(
        [client, "login", images.host, "--username", images.user, "--password-stdin"],
        input=images.password,
        env=uv_env(),
        capture_output=True,
        text=True,
    )
    assert login.returncode == 0, login.stderr
    pulled = subprocess.run([client, "pull", image], env=uv_env(), capture_output=True)
    assert pulled.returncode == 0, pulled.stderr
    batch = pipeline(project, "simulate", "drifted", "--rows", str(REQUESTS), "--seed", "1")
    assert batch.returncode == 0, batch.stderr
    # The host's network: the S3 server listens on loopback only. The image serves on its
    # own port, which one scenario at a time may hold.
    variables = {"PREDICTION_LOG_URL": LOG_URL, **server.env()}
    options = [f"--env={name}={value}" for name, value in variables.items()]
    lock = Path(tempfile.gettempdir()) / f"mlops-ladder-port-{IMAGE_PORT}.lock"
    with FileLock(str(lock)):
        assert _free(IMAGE_PORT), f"port {IMAGE_PORT} is taken: the image serves on it"
        with running(image, "--network=host", *options, name=f"production-{tag}") as container:
            wait_healthy(container)
            url = f"http://127.0.0.1:{IMAGE_PORT}"
            sent = pipeline(project, "replay", "data/simulated/drifted.csv", "--url", url)
            assert sent.returncode == 0, sent.stderr
            # As the cluster stops a pod: SIGTERM, and the log's last batch goes out.
            stopped = subprocess.run([client, "stop", container], env=uv_env(), capture_output=True)
            assert stopped.returncode == 0, stopped.stderr
    shipped = s3_objects(server, "predictions", "penguin-model/")
    lines = [json.loads(line) for body in shipped.values() for line in body.splitlines()]
    assert len(lines) == REQUESTS, f"{len(lines)} logged for {REQUESTS} answered"
    assert {line["model_version"] for line in lines} == {version}
    labels = (project / "data" / "simulated" / "drifted-labels.csv").read_bytes()
    server.client().put_object(Bucket="predictions", Key="labels/drifted.csv", Body=labels)


def _batch_input(project: Path, server: S3Server) -> None:
    """The day's file for the batch job: drifted rows, the sixth with a length in words."""
    rows = pd.read_csv(project / "data" / "simulated" / "drifted.csv").head(BATCH_ROWS)
    rows = rows.astype({"bill_length_mm": object})
    rows.loc[5, "bill_length_mm"] = "unknown"
    bucket, key = BATCH_INPUT_URL.removeprefix("s3://").split("/", 1)
    server.client().put_object(Bucket=bucket, Key=key, Body=rows.to_csv(index=False).encode())


def _batch_scored(server: S3Server, version: str) -> None:
    """The batch job scored the file with production's model: the scores and the row set
    aside in the output folder, the run's log beside the service's."""
    bucket, prefix = BATCH_OUTPUT_URL.removeprefix("s3://").split("/", 1)
    written = s3_objects(server, bucket, prefix)
    (scores,) = (body for key, body in written.items() if key.endswith(".parquet"))
    (rejected,) = (body for key, body in written.items() if key.endswith(".rejected.csv"))
    assert len(pd.read_parquet(io.BytesIO(scores))) == BATCH_ROWS - 1
    set_aside = pd.read_csv(io.BytesIO(rejected))
    assert set_aside[["row", "reason"]].to_dict("records") == [
        {"row": 6, "reason": "bill_length_mm: 'unknown' is not a number"}
    ]
    logged = s3_objects(server, "predictions", "penguin-model/")
    (run,) = (body for key, body in logged.items() if key.endswith(".parquet"))
    log = pd.read_parquet(io.BytesIO(run))
    assert len(log) == BATCH_ROWS - 1
    assert set(log["model_version"]) == {version}


def _merge(workdir: Path, branch: str) -> None:
    """The merge button: a merge commit of ``branch`` on the origin's main."""
    merge = workdir / "merge"
    run(workdir, "git", "clone", "--quiet", str(workdir / "origin.git"), str(merge))
    run(merge, "git", "merge", "--no-ff", "--quiet", "-m", f"Merge {branch}", f"origin/{branch}")
    run(merge, "git", "push", "--quiet", "origin", "HEAD:main")


def _proposed(origin: Path, branch: str, reason: str) -> None:
    """The retrain proposal's branch in the origin: its commit says why and how many new
    labelled rows it learned from, and keeps them with DVC."""
    message = run(origin, "git", "log", "-1", "--format=%B", branch).stdout
    assert message.startswith(f"Retrain: {reason}\n"), message
    assert f"Learned from {REQUESTS} new labelled rows." in message, message
    files = run(origin, "git", "show", "--name-only", "--format=", branch).stdout
    assert re.search(rf"data/feedback/labelled-\S+-{REQUESTS}\.csv\.dvc", files), files


# What the check jobs read (lint, test, image) and retraining must leave alone: it
# changes data pointers, the pipeline's lock and its outputs.
_CODE = (
    *("src", "tests", "conf", "notebooks", "pyproject.toml", "uv.lock", "dvc.yaml"),
    *("Dockerfile", ".dockerignore", ".pre-commit-config.yaml", "Makefile"),
)


def _same_code(origin: Path, released: str, branch: str) -> None:
    """main (merged) has the reviewed branch's tree and the released commit's code: the
    check jobs that passed on them would check the same thing again."""
    tree = [f"{ref}^{{tree}}" for ref in ("main", branch)]
    main_tree, branch_tree = run(origin, "git", "rev-parse", *tree).stdout.split()
    assert main_tree == branch_tree, "the merge changed the reviewed tree"
    changed = run(origin, "git", "diff", "--name-only", released, "main", "--", *_CODE).stdout
    assert not changed, f"retraining changed code: {changed}"


def _judged(drift: dict, data: dict, version: str) -> None:
    """The monitor judged production's model on the week's log, and found the drift the
    simulator made and the decay the labels show."""
    assert drift["model_version"] == version, drift
    # The service's requests and the batch run's scored rows.
    assert drift["rows"] == REQUESTS + BATCH_ROWS - 1, drift
    drifted = {column for column, shift in drift["features"].items() if shift["drifted"]}
    assert drifted >= _shifted(data), drift["features"]
    assert drift["performance"]["decayed"], drift["performance"]


# The pull request's image job trained on the proposal's rows, which it pulled from the
# DVC remote: without them it would build a model the branch does not name.
_FEEDBACK_PULLED = re.compile(r"data/feedback/labelled-\S+\.csv")


class GitHub:
    """The workflows on act (tests/real_ci.py says what act plays and how)."""

    def __init__(self, project: Path, workdir: Path, server: S3Server, images: Registry):
        self.project, self.workdir, self.images = project, workdir, images
        self.settings = _settings(server, images)

    def _checkout(self, workflow: str, branch: str | None = None) -> Path:
        """The origin cloned as deep as ``workflow``'s checkout asks."""
        text = (self.project / ".github" / "workflows" / workflow).read_text(encoding="utf-8")
        return shallow_checkout(self.project, self.workdir, depth=fetch_depth(text), branch=branch)

    def release(self, *, again: bool = False) -> tuple[dict, str]:
        """deploy.yml for a push to main, every job; the gate's report and the log.
        ``again`` leaves nothing out: act runs a job with the jobs it needs, and the
        checks (ci.yml, called) are what the delivery jobs need."""
        checkout = self._checkout("deploy.yml")
        ensure_base_images(checkout / "Dockerfile")
        deploy = run_workflow(
            checkout,
            "deploy.yml",
            "push",
            self.workdir,
            payload={"ref": "refs/heads/main"},
            **self.settings,
        )
        deploy.succeeded(
            "Deploy/Gate and build the image",
            "Deploy/Deploy to staging and test",
            "Deploy/Deploy to production",
            "Deploy/Record the model as production's",
        )
        report(f"act: deploy.yml on push passed in {deploy.seconds:.0f} s")
        gate = deploy.artifacts / "model-card" / "reports" / "gate.json"
        return json.loads(gate.read_text()), deploy.log

    def batch_score(self) -> None:
        """batch.yml as its schedule starts it."""
        checkout = self._checkout("batch.yml")
        batch = run_workflow(checkout, "batch.yml", "schedule", self.workdir, **self.settings)
        batch.succeeded("Batch score/Score the day's rows")
        report(f"act: batch.yml on schedule passed in {batch.seconds:.0f} s")

    def monitor_and_retrain(self, data: dict, version: str) -> str:
        """monitor.yml as its schedule starts it, then retrain.yml as its dispatch starts
        it; returns the proposal's branch."""
        checkout = self._checkout("monitor.yml")
        monitor = run_workflow(checkout, "monitor.yml", "schedule", self.workdir, **self.settings)
        monitor.succeeded("Monitor/Judge the logged predictions")
        drift = monitor.artifacts / "drift-report" / "reports" / "drift.json"
        _judged(json.loads(drift.read_text()), data, version)
        (dispatch,) = gh_calls(self.workdir)
        start = "workflow run retrain.yml --ref main --field reason="
        assert dispatch.startswith(f"{start}drift in "), dispatch
        report(f"act: monitor.yml on schedule passed in {monitor.seconds:.0f} s: {dispatch}")
        reason = dispatch.removeprefix(start)

        checkout = self._checkout("retrain.yml")
        retrain = run_workflow(
            checkout,
            "retrain.yml",
            "workflow_dispatch",
            self.workdir,
            payload={"ref": "refs/heads/main", "inputs": {"reason": reason}},
            **self.settings,
        )
        retrain.succeeded("Retrain/Retrain and propose the model")
        proposal = gh_calls(self.workdir)[-1]
        assert proposal.startswith("pr create --head retrain/"), proposal
        branch = proposal.split()[3]
        _proposed(self.workdir / "origin.git", branch, reason)
        report(f"act: retrain.yml pushed {branch} in {retrain.seconds:.0f} s")
        return branch

    def review(self, branch: str) -> None:
        """The pull request's checks that the proposal changes: ci.yml's image job (its
        lint and test jobs run in both releases, on this code) and train.yml's reproduction
        and metrics diff with main, each on a clone of the branch as deep as it asks."""
        event = {"pull_request": {"head": {"ref": branch}, "base": {"ref": "main"}}}
        runs: list[ActRun] = []
        for workflow, job in (("ci.yml", "image"), ("train.yml", None)):
            checkout = self._checkout(workflow, branch=branch)
            runs.append(
                run_workflow(
                    checkout,
                    workflow,
                    "pull_request",
                    self.workdir,
                    payload=event,
                    job=job,
                    **self.settings,
                )
            )
        ci, train = runs
        ci.succeeded("CI/Image")
        image = "\n".join(line for line in ci.log.splitlines() if line.startswith("[CI/Image"))
        assert _FEEDBACK_PULLED.search(image), image[-6000:]
        train.succeeded("Train/Reproduce the pipeline")
        seconds = ci.seconds + train.seconds
        report(f"act: ci.yml and train.yml on the pull request passed in {seconds:.0f} s")

    def rollback(self) -> None:
        """rollback.yml dispatched with a reason and no version (the one before)."""
        checkout = self._checkout("rollback.yml")
        rollback = run_workflow(
            checkout,
            "rollback.yml",
            "workflow_dispatch",
            self.workdir,
            payload={
                "ref": "refs/heads/main",
                "inputs": {"reason": "accuracy fell", "version": ""},
            },
            **self.settings,
        )
        rollback.succeeded("Rollback/Roll production back")
        report(f"act: rollback.yml on workflow_dispatch passed in {rollback.seconds:.0f} s")


class GitLab:
    """The pipelines on gitlab-ci-local, their pushes and API calls reaching the stand-in
    GitLab server (tests/real_ci.py's gitlab_server)."""

    def __init__(
        self,
        project: Path,
        workdir: Path,
        server: S3Server,
        images: Registry,
        gitlab: GitlabServer,
    ):
        self.project, self.workdir, self.gitlab = project, workdir, gitlab
        self.variables = {
            "REGISTRY_USER": images.user,
            "REGISTRY_PASSWORD": images.password,
            **server.credentials(),
            **gitlab.variables,
        }

    def release(self, *, again: bool = False) -> tuple[dict, str]:
        """The default branch's pipeline, production approved (its manual job run);
        ``again``: without the lint and test jobs, which passed on this code before."""
        checkout = shallow_checkout(self.project, self.workdir, depth=None)
        ensure_base_images(checkout / "Dockerfile")
        checks = [] if again else ["lint", "test"]
        jobs = [*checks, "gate", "publish-model", "test-staging", "deploy-production"]
        jobs.append("registry")
        pipeline = run_pipeline(
            checkout, jobs, self.workdir, variables=self.variables, manual=("deploy-production",)
        )
        pipeline.passed(*jobs)
        report(f"gitlab-ci-local: the release pipeline passed in {pipeline.seconds:.0f} s")
        gate = checkout / ".gitlab-ci-local" / "artifacts" / "gate" / "reports" / "gate.json"
        return json.loads(gate.read_text()), pipeline.log

    def batch_score(self) -> None:
        """A pipeline the batch job's schedule starts."""
        checkout = shallow_checkout(self.project, self.workdir, depth=None)
        schedule = {
            "CI_PIPELINE_SOURCE": "schedule",
            "BATCH_INPUT_URL": BATCH_INPUT_URL,
            "BATCH_OUTPUT_URL": BATCH_OUTPUT_URL,
            "PREDICTION_LOG_URL": LOG_URL,
        }
        pipeline = run_pipeline(
            checkout, ["batch-score"], self.workdir, variables=self.variables | schedule
        )
        pipeline.passed("batch-score")
        report(f"gitlab-ci-local: the batch job (schedule) passed in {pipeline.seconds:.0f} s")

    def monitor_and_retrain(self, data: dict, version: str) -> str:
        """The scheduled pipeline: the monitor, then the retrain job's merge request."""
        checkout = shallow_checkout(self.project, self.workdir, depth=None)
        schedule = {
            "CI_PIPELINE_SOURCE": "schedule",
            "PREDICTION_LOG_URL": LOG_URL,
            "LABELS_URL": LABELS_URL,
        }
        variables = self.variables | schedule
        pipeline = run_pipeline(checkout, ["monitor", "retrain"], self.workdir, variables=variables)
        pipeline.passed("monitor", "retrain")
        artifacts = checkout / ".gitlab-ci-local" / "artifacts" / "monitor"
        _judged(json.loads((artifacts / "reports" / "drift.json").read_text()), data, version)
        (request,) = self.gitlab.calls
        assert request["path"] == "/api/v4/projects/1/merge_requests", request
        assert request["token"] == self.variables["RETRAIN_TOKEN"], request
        form = request["form"]
        reason = form["title"].removeprefix("Retrain: ")
        assert reason.startswith("drift in "), form
        assert f"Learned from {REQUESTS} new labelled rows" in form["description"], form
        branch = form["source_branch"]
        assert form["target_branch"] == "main", form
        _proposed(self.workdir / "origin.git", branch, reason)
        report(
            f"gitlab-ci-local: monitor and retrain (schedule) pushed {branch} in "
            f"{pipeline.seconds:.0f} s"
        )
        return branch

    def review(self, branch: str) -> None:
        """The merge request's pipeline, the jobs the proposal changes (lint and test ran
        in the first release, on this code). GitLab clones GIT_DEPTH (20) commits, all of this
        history; reproduce asks for all of it (the gate reads the registry)."""
        checkout = shallow_checkout(self.project, self.workdir, depth=None, branch=branch)
        event = {
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        }
        jobs = ["model", "reproduce"]
        pipeline = run_pipeline(checkout, jobs, self.workdir, variables=self.variables | event)
        pipeline.passed(*jobs)
        model = pipeline.log.split("Job model", 1)[-1] if "Job model" in pipeline.log else ""
        assert _FEEDBACK_PULLED.search(model or pipeline.log), pipeline.log[-6000:]
        report(f"gitlab-ci-local: the merge request's pipeline passed in {pipeline.seconds:.0f} s")

    def rollback(self) -> None:
        """A pipeline for main with ROLLBACK_REASON."""
        checkout = shallow_checkout(self.project, self.workdir, depth=None)
        jobs = ["rollback", "rollback-production", "rollback-registry"]
        variables = self.variables | {
            "ROLLBACK_REASON": REASON,
            "GITLAB_USER_LOGIN": "release-manager",
        }
        pipeline = run_pipeline(checkout, jobs, self.workdir, variables=variables)
        pipeline.passed(*jobs)
        report(f"gitlab-ci-local: the rollback pipeline passed in {pipeline.seconds:.0f} s")


class Azure:
    """The pipelines on the emulation (tests/ci_steps.py's run_azure): conditions, output
    variables, checkouts as deep as each asks, secrets only where a step maps them, the
    docker steps on the daemon and the registry; the REST API is a recorder."""

    def __init__(
        self,
        project: Path,
        workdir: Path,
        server: S3Server,
        images: Registry,
        api: tuple[str, list[dict[str, Any]]],
    ):
        self.project, self.workdir = project, workdir
        self.api, self.calls = api
        self.origin = workdir / "origin.git"
        self.variables = {
            "AWS_ENDPOINT_URL": server.endpoint,
            "PREDICTION_LOG_URL": LOG_URL,
            "LABELS_URL": LABELS_URL,
            "BATCH_INPUT_URL": BATCH_INPUT_URL,
            "BATCH_OUTPUT_URL": BATCH_OUTPUT_URL,
        }
        self.secrets = {
            "registryUser": images.user,
            "registryPassword": images.password,
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key,
        }

    def _run(self, pipeline: str, branch: str = "main", **event: Any) -> PipelineRun:
        # The definition is the branch's, as Azure reads it.
        checkout = shallow_checkout(self.project, self.workdir, branch=branch)
        ensure_base_images(checkout / "Dockerfile")
        outcome = run_azure(
            checkout / pipeline,
            self.origin,
            self.workdir,
            branch=branch,
            variables=self.variables,
            secrets=self.secrets,
            api=self.api,
            **event,
        )
        report(f"Azure emulation: {pipeline} ({event.get('reason')}) in {outcome.seconds:.0f} s")
        return outcome

    def release(self, *, again: bool = False) -> tuple[dict, str]:
        """azure-pipelines.yml for a push to main: check, gate, staging, production;
        ``again``: the check stage's jobs not played, which passed on this tree before
        (lint and test in the first release, image in the review)."""
        delivery = {"gate", "build", "staging", "production"}
        checks = {"lint", "test", "image"}
        only = delivery if again else None
        outcome = self._run("azure-pipelines.yml", reason="IndividualCI", only=only)
        outcome.succeeded(*sorted(delivery if again else delivery | checks))
        outcome.skipped("reproduce", "rollback")
        gate = outcome.trees["build"] / "reports" / "gate.json"
        return json.loads(gate.read_text()), outcome.log

    def batch_score(self) -> None:
        """azure-pipelines-batch.yml on its schedule."""
        outcome = self._run("azure-pipelines-batch.yml", reason="Schedule")
        outcome.succeeded("score")

    def monitor_and_retrain(self, data: dict, version: str) -> str:
        """azure-pipelines-monitor.yml on its schedule: the monitor, then the retrain
        stage's pull request."""
        outcome = self._run("azure-pipelines-monitor.yml", reason="Schedule")
        outcome.succeeded("monitor", "retrain")
        drift = outcome.trees["monitor"] / "reports" / "drift.json"
        _judged(json.loads(drift.read_text()), data, version)
        (request,) = self.calls
        path = "/data-science-team/penguin-model/_apis/git/repositories/penguin-model/"
        assert request["path"] == f"{path}pullrequests?api-version=7.1", request
        assert request["authorization"] == "Bearer build-service-token", request
        body = request["json"]
        reason = body["title"].removeprefix("Retrain: ")
        assert reason.startswith("drift in "), body
        assert f"Learned from {REQUESTS} new labelled rows" in body["description"], body
        assert body["targetRefName"] == "refs/heads/main", body
        branch = body["sourceRefName"].removeprefix("refs/heads/")
        _proposed(self.origin, branch, reason)
        return branch

    def review(self, branch: str) -> None:
        """The pull request's validation run; the lint and test jobs ran in the first
        release, on this code; the image and reproduce jobs are the ones the proposal
        changes."""
        outcome = self._run(
            "azure-pipelines.yml",
            branch,
            reason="PullRequest",
            target="main",
            only={"image", "reproduce"},
        )
        outcome.succeeded("image", "reproduce")
        outcome.skipped("gate", "rollback")
        pulled = outcome.logs["image/Pull the labelled rows retraining kept"]
        assert _FEEDBACK_PULLED.search(pulled), pulled[-6000:]

    def rollback(self) -> None:
        """Run pipeline on main with the rollback's reason (its rollback stage; the check
        stage, which a rollback run also starts, ran on every release)."""
        outcome = self._run(
            "azure-pipelines.yml",
            reason="Manual",
            parameters={"rollbackReason": REASON},
            only={"rollback"},
        )
        outcome.succeeded("rollback")
        outcome.skipped("gate")


@contextlib.contextmanager
def _provider(
    name: str, project: Path, workdir: Path, server: S3Server, images: Registry
) -> Iterator[GitHub | GitLab]:
    if name == "github":
        yield GitHub(project, workdir, server, images)
    elif name == "azure":
        with api_recorder() as api:
            yield Azure(project, workdir, server, images, api)
    else:
        with gitlab_server(workdir / "origin.git") as gitlab:
            yield GitLab(project, workdir, server, images, gitlab)


@pytest.mark.parametrize("provider", ["github", "gitlab", "azure"])
def test_first_weeks_of_a_level_4_repository(
    provider: str, tmp_path: Path, template_url: str
) -> None:
    (name,) = [n for n, chosen in CI_PROVIDERS.items() if chosen == provider]
    with (
        s3_server(tmp_path / "s3", ("dvc-remote", "predictions", "batch")) as server,
        registry(tmp_path / "registry") as images,
    ):
        # deploy_target none: staging and production are the image (a cluster's or Azure's
        # deploy jobs cannot run here; their manifests are checked offline elsewhere).
        data = answers(
            name,
            level=LEVEL,
            initialize_git=True,
            dvc_remote=REMOTE,
            deploy_target="none",
            container_image=f"{images.host}/{IMAGE_PATH}",
        )
        if not python_available(data["python_version"]):
            pytest.skip(f"Python {data['python_version']} is not installed or not enabled")
        project = copier_copy(tmp_path / "project", data, template=template_url)
        check_ci_config(project)
        workdir = tmp_path / provider

        # 1. The first model, in the DVC remote and on main.
        run(project, uv(), "sync", "--locked", "--quiet")
        if data.get("dataset") == "csv":
            write_training_csv(project, data)
            run(project, uv(), "run", "--no-sync", "dvc", "add", data["csv_path"])
        run(project, *server.wrap(uv(), "run", "--no-sync", "dvc", "repro"))
        run(project, "git", "add", "--all")
        run(project, "git", "commit", "--quiet", "-m", "First model")
        run(project, *server.wrap(uv(), "run", "--no-sync", "dvc", "push"))
        shallow_checkout(project, workdir)  # main pushed to the origin

        with _provider(provider, project, workdir, server, images) as ci:
            # 2. Its release: no champion yet.
            released = run(workdir / "origin.git", "git", "rev-parse", "main").stdout.strip()
            gate, log = ci.release()
            _released(project, workdir, images, gate, log)
            assert gate["champion"] is None, gate
            version = gate["candidate"]["version"]
            _, first = _prod(project, workdir)

            # 3-5. Production meets drift; the monitor sees it; retraining proposes.
            _production_traffic(project, server, images, f"model-{version}", version)
            _batch_input(project, server)
            ci.batch_score()
            _batch_scored(server, version)
            branch = ci.monitor_and_retrain(data, version)

            # 6-7. Reviewed, merged, released against the real champion. The release's
            # check jobs are not played again: the merge's tree is the reviewed branch's,
            # and its code is the first release's.
            ci.review(branch)
            _merge(workdir, branch)
            _same_code(workdir / "origin.git", released, branch)
            gate, log = ci.release(again=True)
            _released(project, workdir, images, gate, log)
            assert gate["champion"]["registry_version"] == first, gate
            assert gate["champion"]["version"] == version, gate
            assert gate["candidate"]["version"] != version, gate
            _, second = _prod(project, workdir)
            assert second != first, second

            # 8. Rolled back, with the reason; the next gate's champion is the first.
            ci.rollback()
        _, now = _prod(project, workdir)
        assert now == first, f"prod is {now} after the rollback, not {first}"
        origin = workdir / "origin.git"
        tags = run(origin, "git", "tag", "--list", f"{ARTIFACT}#prod#*", "--sort=-creatordate")
        newest = tags.stdout.split()[0]
        message = run(origin, "git", "tag", "--list", newest, "--format=%(contents)").stdout
        assert message.startswith(f"Rollback from {second}: {REASON} (by "), message
