"""Azure Pipelines (no local agent exists) and, until they move to the real runners, the
GitHub and GitLab jobs of levels 2 to 4 that tests/real_ci.py does not run yet: the
config read and run job by job on this machine.

Each job runs in a fresh copy of the render, the way a CI runner checks out a fresh tree.
Shell steps (``run:``, ``script:``) execute with the provider's shell rules and the
variables the config sets. Steps that set up what this machine already has (checkout, a
Python, uv) map to no-ops; steps this emulation cannot run (a container engine, registry
credentials, a cluster) are listed by name in ``NOT_RUN_HERE`` with the reason, and where
the real runners run them instead. Any other step that is not a shell step fails the run,
so a new kind of step must be classified here before the suite passes, and a listed name
the config no longer has fails as stale.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from generated import run, uv, uv_env

# Actions, tasks and steps that only prepare what this machine already provides.
SETUP: dict[str, str] = {
    "actions/checkout": "the render is the checkout",
    "actions/setup-python": "uv finds the Python that .python-version names",
    "astral-sh/setup-uv": "uv is on the PATH",
    "checkout": "the render is the checkout",
    "UsePythonVersion@0": "uv finds the Python that .python-version names",
    "PublishTestResults@2": "uploads the JUnit report to Azure's UI; the tests ran before it",
    "Install uv": "uv is on the PATH (the step pip-installs it on Azure's agent)",
}

_NO_ENGINE = (
    "needs a container engine: GitHub's and GitLab's image jobs run on their real runners "
    "against a real daemon (tests/template/test_level1.py), every level's images are built "
    "and run there (tests/template/test_images.py)"
)
_CREDENTIALS = (
    "needs registry credentials and a container engine: GitHub's and GitLab's releases "
    "log in and push to a real registry on their real runners (tests/template/test_level1.py)"
)
_CLUSTER = "needs the environment's deployment target (a cluster or Azure ML) and its credentials"
_STAGING = (
    "tests a deployed service; tests/template/test_level3.py runs the same tests "
    "(tests/test_deployed.py) against the image's command started here"
)

# Steps (GitHub, Azure: "job/step name") and jobs (GitLab: job name) not run here.
NOT_RUN_HERE: dict[str, dict[str, str]] = {
    "github": {
        "image/Build the image": _NO_ENGINE,
        "image/Smoke-test the image": _NO_ENGINE,
        "publish/Log in to the registry": _CREDENTIALS,
        "publish/Build the image": _NO_ENGINE,
        "publish/Push the image": _CREDENTIALS,
        "update/Open a pull request": "needs the workflow's token to push a branch and open "
        "the pull request; the step before it ran (no newer template release here)",
        "build/Keep the model card and the gate's report for the approval": "stores files in "
        "GitHub's artifact storage; the stages that write them ran in the step before",
        "build/Log in to the registry": _CREDENTIALS,
        "build/Build and push the image": _CREDENTIALS,
        "staging/Deploy to staging": _CLUSTER,
        "staging/Log in to Azure": _CLUSTER,
        "staging/Run the image": _NO_ENGINE,
        "staging/Remove the container": _NO_ENGINE,
        "staging/Test the service in staging": _STAGING,
        "production/Log in to Azure": _CLUSTER,
        "production/Deploy to production": _CLUSTER,
        "registry/Push the registry's tags": "needs the workflow's token to push tags",
        "monitor/Keep the drift report": "stores files in GitHub's artifact storage; the "
        "steps before it wrote them",
        "monitor/Start the Retrain workflow": "needs the workflow's token to dispatch; the "
        "test reads the trigger's decision from the step outputs and runs the Retrain job",
        "retrain/Open a pull request": "needs the workflow's token to push a branch and open "
        "the pull request; the step before it wrote the branch's commit and the request's body",
    },
    "gitlab": {
        "build-image": _NO_ENGINE,
        "release": _CREDENTIALS,
        "publish-model": _CREDENTIALS,
        "deploy-staging": _CLUSTER,
        "test-staging": _STAGING,
        "deploy-production": _CLUSTER,
        "registry": "needs a project access token to push the registry's tags",
    },
    "azure": {
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
    },
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
    needs: list[str] | None = None
    artifacts: list[str] = field(default_factory=list)
    # GitLab: dotenv reports, whose variables the jobs that need this one receive.
    dotenv: list[str] = field(default_factory=list)
    # GitLab's unit of naming is the job: a listed job is not run at all.
    listed_as_job: bool = False


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


# GitHub Actions ------------------------------------------------------------------------
_GITHUB_SHELL = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]


def github_jobs(project: Path) -> list[Job]:
    jobs = []
    for path in sorted((project / ".github" / "workflows").glob("*.yml")):
        workflow = _load(path)
        workflow_env = _strings(workflow.get("env"))
        for name, spec in workflow["jobs"].items():
            if "uses" in spec:
                jobs.append(Job(name, [_called_workflow(project, name, spec["uses"])], []))
                continue
            steps = []
            for step in spec["steps"]:
                step_id = f"{name}/{step['name']}"
                env = {**workflow_env, **_strings(spec.get("env")), **_strings(step.get("env"))}
                if "uses" in step:
                    steps.append(Step(step_id, action=step["uses"].split("@")[0], env=env))
                else:
                    steps.append(Step(step_id, script=step["run"], env=env))
            jobs.append(Job(name, steps, _GITHUB_SHELL))
    return jobs


def _called_workflow(project: Path, job: str, uses: str) -> Step:
    """A job that calls a workflow of this repository: that workflow runs on its own."""
    called = re.sub(r"^(\$|\.)/", "", uses)
    path = project / called
    assert path.is_file(), f"job {job!r} calls {uses}, which the render does not have"
    triggers = _load(path)["on"]
    assert "workflow_call" in triggers, f"job {job!r} calls {uses}, which has no workflow_call"
    return Step(f"{job}/{uses}", action="workflow")


# GitLab CI -----------------------------------------------------------------------------
_GITLAB_KEYWORDS = {"workflow", "stages", "variables", "default", "include", "image", "cache"}


def gitlab_jobs(project: Path) -> list[Job]:
    config = _load(project / ".gitlab-ci.yml")
    stages = config.get("stages", ["build", "test", "deploy"])
    variables = _strings(config.get("variables"))
    specs = {
        name: _extended(config, spec)
        for name, spec in config.items()
        if name not in _GITLAB_KEYWORDS and not name.startswith(".")
    }
    jobs = []
    for name, spec in sorted(specs.items(), key=lambda item: stages.index(item[1]["stage"])):
        lines = [*spec.get("before_script", []), *spec["script"]]
        env = {**variables, **_strings(spec.get("variables"))}
        # The runner stops a job at the first failing line.
        job = Job(name, [Step(name, script="\n".join(lines), env=env)], ["bash", "-e"])
        job.needs = spec.get("needs")
        job.artifacts = spec.get("artifacts", {}).get("paths", [])
        dotenv = spec.get("artifacts", {}).get("reports", {}).get("dotenv", [])
        job.dotenv = [dotenv] if isinstance(dotenv, str) else dotenv
        job.listed_as_job = True
        jobs.append(job)
    return jobs


def _extended(config: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """The job with what it extends merged in (GitLab: later templates win, the job last)."""
    parents = spec.get("extends", [])
    merged: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged.update(_extended(config, config[parent]))
    return {**merged, **{key: value for key, value in spec.items() if key != "extends"}}


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


JOBS = {"github": github_jobs, "gitlab": gitlab_jobs, "azure": azure_jobs}


# Running -------------------------------------------------------------------------------
def release_tag(project: Path) -> str:
    """The tag a release of the render's current version is pushed with."""
    return "v" + run(project, uv(), "version", "--short").stdout.strip()


def runner_files(tree: Path) -> Path:
    """Beside a job's checkout, as on GitHub's runner: the step summary, the step outputs
    and the temporary folder (inside, they would make the checkout dirty)."""
    return tree.with_name(f"{tree.name}.runner")


def provider_env(provider: str, tag: str, workdir: Path) -> dict[str, str]:
    """What each provider's runner sets. One run plays every event the configs react to:
    a push of ``tag`` (releases) and a pull/merge request into main (training checks)."""
    sha = "0" * 40
    return {
        "github": {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REF": f"refs/tags/{tag}",
            "GITHUB_REF_NAME": tag,
            "GITHUB_SHA": sha,
            "GITHUB_BASE_REF": "main",
            "GITHUB_STEP_SUMMARY": str(runner_files(workdir) / "step-summary.md"),
            "GITHUB_OUTPUT": str(runner_files(workdir) / "step-outputs"),
            "GITHUB_RUN_ID": "1",
            "RUNNER_TEMP": str(runner_files(workdir)),
        },
        "gitlab": {
            "GITLAB_CI": "true",
            "CI_COMMIT_TAG": tag,
            "CI_COMMIT_SHA": sha,
            "CI_COMMIT_SHORT_SHA": sha[:8],
            "CI_PROJECT_DIR": str(workdir),
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
            "CI_DEFAULT_BRANCH": "main",
            "CI_PIPELINE_ID": "1",
        },
        "azure": {
            "TF_BUILD": "True",
            "BUILD_SOURCEBRANCH": f"refs/tags/{tag}",
            "BUILD_SOURCEBRANCHNAME": tag,
            "BUILD_SOURCEVERSION": sha,
            "SYSTEM_PULLREQUEST_TARGETBRANCH": "refs/heads/main",
            "BUILD_BUILDID": "1",
            "AGENT_TEMPDIRECTORY": str(runner_files(workdir)),
        },
    }[provider] | {"CI": "true"}


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
    provider: str,
    workdir: Path,
    *,
    tag: str | None = None,
    only: set[str] | None = None,
    settings: Mapping[str, str] | None = None,
) -> Outcome:
    """Run the jobs of the render's CI config (all, or those named in ``only``) as for a
    push of ``tag`` (default: the project's version); AssertionError names a failing step.
    ``settings`` plays GitHub's repository variables and workflow inputs: a step's
    ``${{ vars.NAME }}`` or ``${{ inputs.NAME }}`` is its value here ("" when not given).
    """
    listed = NOT_RUN_HERE[provider]
    tag = tag or release_tag(project)
    outcome = Outcome()
    artifacts: dict[str, Path] = {}
    exported: dict[str, dict[str, str]] = {}
    jobs = [job for job in JOBS[provider](project) if only is None or job.name in only]
    for job in jobs:
        if job.listed_as_job and job.name in listed:
            outcome.not_run.append(job.name)
            continue
        tree = workdir / job.name
        _checkout(project, tree)
        runner_files(tree).mkdir(exist_ok=True)
        for source in job.needs if job.needs is not None else list(artifacts):
            if source in artifacts:
                shutil.copytree(artifacts[source], tree, dirs_exist_ok=True)
        runner_env = provider_env(provider, tag, tree)
        if provider != "github":
            # GitLab's CI/CD variables and Azure's pipeline variables reach scripts as
            # environment variables (GitHub's only through expressions).
            runner_env |= settings or {}
        for source in job.needs or []:
            runner_env |= exported.get(source, {})
        for step in job.steps:
            _run_step(step, job, tree, runner_env, listed, outcome, settings or {})
        exported[job.name] = {
            key: value
            for report in job.dotenv
            for key, _, value in (
                line.partition("=") for line in (tree / report).read_text().splitlines() if line
            )
        }
        if job.artifacts:
            artifacts[job.name] = _collect(tree, job.artifacts, workdir / f"{job.name}.artifacts")
    if only is None:
        # Entries of jobs this render does not have (another level's, another target's) are
        # not stale; a listed step of a job that ran is.
        names = {job.name for job in jobs}
        stale = sorted(
            entry for entry in set(listed) - set(outcome.not_run) if entry.split("/")[0] in names
        )
        assert not stale, f"NOT_RUN_HERE lists {stale}, which the {provider} config does not have"
    return outcome


# GitHub's expressions for a repository variable or a workflow input.
_SETTING = re.compile(r"\$\{\{\s*(?:vars|inputs)\.(\w+)\s*\}\}")


def _run_step(
    step: Step,
    job: Job,
    tree: Path,
    runner_env: Mapping[str, str],
    listed: Mapping[str, str],
    outcome: Outcome,
    settings: Mapping[str, str],
) -> None:
    if step.id in listed:
        outcome.not_run.append(step.id)
        return
    if step.action is not None:
        assert step.action in SETUP or step.action == "workflow", (
            f"step {step.id!r} uses {step.action!r}, which this runner does not know: "
            "add it to SETUP (if this machine provides what it sets up) or NOT_RUN_HERE"
        )
        outcome.setup.append(step.id)
        return
    if step.id.split("/")[-1] in SETUP:
        outcome.setup.append(step.id)
        return
    assert step.script is not None
    env = {**uv_env(), **runner_env}
    for key, value in step.env.items():
        value = _SETTING.sub(lambda m: settings.get(m.group(1), ""), value)
        assert "${{" not in value, (
            f"step {step.id!r} needs the expression {value!r}, which only GitHub evaluates: "
            "list the step in NOT_RUN_HERE or pass the value another way"
        )
        if key not in _RUNNER_OWNED:
            env[key] = _expand(value, env)
    assert "${{" not in step.script, (
        f"step {step.id!r} puts an expression in its script (template injection): use env"
    )
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


def _collect(tree: Path, paths: list[str], store: Path) -> Path:
    for relative in paths:
        source = tree / relative
        assert source.exists(), f"artifact path {relative!r} was not produced"
        target = store / relative
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return store


def ci_config_files(project: Path) -> Iterator[Path]:
    yield from sorted((project / ".github" / "workflows").glob("*.yml"))
    for name in (".gitlab-ci.yml", "azure-pipelines.yml"):
        if (project / name).is_file():
            yield project / name
