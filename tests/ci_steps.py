"""Azure Pipelines, which has no local agent: the config read and run job by job on this
machine. (GitHub's workflows and GitLab's pipelines run on their real runners:
tests/real_ci.py.)

Each job runs in a fresh copy of the render, the way a CI agent checks out a fresh tree.
Script steps execute with Azure's shell rules (bash, without -e) and the variables the
pipeline sets; pipeline variables given as ``settings`` reach scripts as environment
variables, as Azure hands them. Tasks that set up what this machine already has (checkout,
a Python, uv) map to no-ops; steps the emulation cannot run (a container engine, registry
credentials, a cluster) are listed by name in ``NOT_RUN_HERE`` with the reason. Any other
task fails the run, so a new kind of step must be classified here before the suite passes,
and a listed name the config no longer has fails as stale.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from generated import release_tag, uv_env

# Actions, tasks and steps that only prepare what this machine already provides.
SETUP: dict[str, str] = {
    "checkout": "the render is the checkout",
    "UsePythonVersion@0": "uv finds the Python that .python-version names",
    "PublishTestResults@2": "uploads the JUnit report to Azure's UI; the tests ran before it",
    "Install uv": "uv is on the PATH (the step pip-installs it on Azure's agent)",
}

_NO_ENGINE = (
    "needs a container engine: the same image is built and run on a real daemon "
    "(tests/template/test_images.py), and GitHub's and GitLab's image jobs on their real runners"
)
_CREDENTIALS = (
    "needs registry credentials and a container engine: GitHub's and GitLab's releases "
    "log in and push to a real registry on their real runners (tests/template/test_level1.py)"
)
_CLUSTER = "needs the environment's deployment target (a cluster or Azure ML) and its credentials"
_STAGING = (
    "tests a deployed service; GitHub's and GitLab's staging jobs run the same tests "
    "(tests/test_deployed.py) against the released image on their real runners "
    "(tests/template/test_level3.py)"
)

# Steps ("job/step name") not run here.
NOT_RUN_HERE: dict[str, str] = {
    "build/Keep the model card and the gate's report for the approval": "publishes to "
    "Azure's artifact storage; the stages that write the files ran in the step before",
    "build/Log in to the registry": _CREDENTIALS,
    "build/Build and push the image": _CREDENTIALS,
    "staging/Deploy to staging": _CLUSTER,
    "staging/Test the service in staging": _STAGING,
    "production/Deploy to production": _CLUSTER,
    "production/Assign the prod stage": "runs after a production deployment, on the "
    "commit Azure deployed; the test registers and assigns versions with GTO itself",
    "production/Push the registry's tags": "needs the build service's token to push tags",
    "image/Build the image": _NO_ENGINE,
    "publish/Log in to the registry": _CREDENTIALS,
    "publish/Build the image": _NO_ENGINE,
    "publish/Push the image": _CREDENTIALS,
    "monitor/Keep the drift report": "publishes to Azure's artifact storage; the steps "
    "before it wrote the report",
    "retrain/Open a pull request": "needs the build service's token to push a branch and "
    "open the pull request; the step before it wrote the branch's commit and its body",
    "template_update/Open a pull request": "needs the build service's token to push a "
    "branch and open the pull request; the step before it ran (no newer template release "
    "here)",
}

# Variables whose value belongs to the runner, not the project: the shared uv cache here.
_RUNNER_OWNED = {"UV_CACHE_DIR"}
_COPY_IGNORE = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache", ".ruff_cache")


@dataclass
class Step:
    id: str
    script: str | None = None
    action: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Job:
    name: str
    steps: list[Step]
    shell: list[str]


@dataclass
class Outcome:
    ran: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)


def _load(path: Path) -> Any:
    # BaseLoader keeps every scalar a string ("on" stays "on", versions stay "3.10").
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)


def _strings(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items()}


# Azure Pipelines -----------------------------------------------------------------------
_MACRO = re.compile(r"\$\(([A-Za-z_][\w.]*)\)")


def azure_jobs(project: Path) -> list[Job]:
    """The jobs of azure-pipelines.yml and of the pipelines beside it (azure-pipelines-*.yml,
    each a pipeline of its own in Azure DevOps)."""
    return [job for path in sorted(project.glob("azure-pipelines*.yml")) for job in _azure(path)]


def _azure(path: Path) -> list[Job]:
    config = _load(path)
    variables = _strings(config.get("variables"))
    # Pipeline variables reach scripts as environment variables, upper-cased, "." -> "_".
    variable_env = {k.upper().replace(".", "_"): v for k, v in variables.items()}

    def expand(text: str) -> str:
        # Azure replaces $(name) for defined variables and leaves any other $( ) alone.
        return _MACRO.sub(lambda m: variables.get(m.group(1), m.group(0)), text)

    jobs = []
    # A pipeline of one stage may list its jobs at the top.
    for stage in config.get("stages") or [{"jobs": config["jobs"]}]:
        for spec in stage["jobs"]:
            # A deployment job (environment approvals) keeps its steps in its strategy.
            name = spec.get("job") or spec["deployment"]
            listed_steps = spec.get("steps") or spec["strategy"]["runOnce"]["deploy"]["steps"]
            steps = []
            for step in listed_steps:
                label = step.get("displayName") or step.get("task") or step.get("checkout")
                step_id = f"{name}/{label}"
                step_env = {k: expand(v) for k, v in _strings(step.get("env")).items()}
                env = {**variable_env, **step_env}
                if "script" in step:
                    steps.append(Step(step_id, script=expand(step["script"]), env=env))
                else:
                    action = step.get("task") or "checkout"
                    steps.append(Step(step_id, action=action, env=env))
            # Azure runs a Linux script step with bash, without -e.
            jobs.append(Job(name, steps, ["bash", "--noprofile", "--norc"]))
    return jobs


# Running -------------------------------------------------------------------------------
def agent_temp(tree: Path) -> Path:
    """The agent's temporary folder, beside the job's checkout (inside, it would make the
    checkout dirty)."""
    return tree.with_name(f"{tree.name}.agent")


def agent_env(tag: str, workdir: Path) -> dict[str, str]:
    """What Azure's agent sets. One run plays every event the pipelines react to: a push of
    ``tag`` (releases) and a pull request into main (training checks)."""
    return {
        "CI": "true",
        "TF_BUILD": "True",
        "BUILD_SOURCEBRANCH": f"refs/tags/{tag}",
        "BUILD_SOURCEBRANCHNAME": tag,
        "BUILD_SOURCEVERSION": "0" * 40,
        "SYSTEM_PULLREQUEST_TARGETBRANCH": "refs/heads/main",
        "BUILD_BUILDID": "1",
        "AGENT_TEMPDIRECTORY": str(agent_temp(workdir)),
    }


def _checkout(project: Path, tree: Path) -> None:
    """A fresh tree of the render, with the render as its ``origin``, as a CI checkout has."""
    shutil.copytree(project, tree, ignore=_COPY_IGNORE, symlinks=True)
    if (tree / ".git").is_dir():
        git = ["git", "-C", str(tree)]
        subprocess.run([*git, "remote", "remove", "origin"], capture_output=True, check=False)
        subprocess.run([*git, "remote", "add", "origin", str(project)], check=True)
        subprocess.run([*git, "fetch", "--quiet", "origin"], check=True)


def _expand(value: str, env: Mapping[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), m.group(0)), value)


def run_ci(
    project: Path,
    workdir: Path,
    *,
    tag: str | None = None,
    only: set[str] | None = None,
    settings: Mapping[str, str] | None = None,
) -> Outcome:
    """Run the jobs of the render's Azure pipelines (all, or those named in ``only``) as for
    a push of ``tag`` (default: the project's version); AssertionError names a failing
    step. ``settings`` are pipeline variables: scripts see them as environment variables."""
    tag = tag or release_tag(project)
    outcome = Outcome()
    jobs = [job for job in azure_jobs(project) if only is None or job.name in only]
    for job in jobs:
        tree = workdir / job.name
        _checkout(project, tree)
        agent_temp(tree).mkdir(exist_ok=True)
        agent = agent_env(tag, tree) | dict(settings or {})
        for step in job.steps:
            _run_step(step, job, tree, agent, outcome)
    if only is None:
        # Entries of jobs this render does not have (another level's, another target's) are
        # not stale; a listed step of a job that ran is.
        names = {job.name for job in jobs}
        stale = sorted(
            entry
            for entry in set(NOT_RUN_HERE) - set(outcome.not_run)
            if entry.split("/")[0] in names
        )
        assert not stale, f"NOT_RUN_HERE lists {stale}, which the Azure pipelines do not have"
    return outcome


def _run_step(step: Step, job: Job, tree: Path, agent: Mapping[str, str], outcome: Outcome) -> None:
    if step.id in NOT_RUN_HERE:
        outcome.not_run.append(step.id)
        return
    if step.action is not None:
        assert step.action in SETUP, (
            f"step {step.id!r} uses {step.action!r}, which this runner does not know: "
            "add it to SETUP (if this machine provides what it sets up) or NOT_RUN_HERE"
        )
        outcome.setup.append(step.id)
        return
    if step.id.split("/")[-1] in SETUP:
        outcome.setup.append(step.id)
        return
    assert step.script is not None
    env = {**uv_env(), **agent}
    for key, value in step.env.items():
        if key not in _RUNNER_OWNED:
            env[key] = _expand(value, env)
    result = subprocess.run(
        [*job.shell, "-c", step.script],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, (
        f"CI step {step.id!r} failed (exit {result.returncode}):\n$ {step.script}\n"
        f"{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
    )
    outcome.ran.append(step.id)
