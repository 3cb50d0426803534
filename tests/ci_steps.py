"""Azure Pipelines, which has no local agent: the config read and run on this machine,
job by job (``run_ci``) or as Azure runs a pipeline for an event (``run_azure``, which the
first-weeks scenario plays: conditions, output variables, checkouts as deep as each asks,
secrets only where a step maps them, docker steps on the test's daemon and registry).
(GitHub's workflows and GitLab's pipelines run on their real runners: tests/real_ci.py.)

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

import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from generated import release_tag, run, runner_env
from real_ci import exact_uv, runner_path

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
# Steps ("job/step name") not run here.
NOT_RUN_HERE: dict[str, str] = {
    "build/Keep the model card and the gate's report for the approval": "publishes to "
    "Azure's artifact storage; the stages that write the files ran in the step before",
    "build/Log in to the registry": _CREDENTIALS,
    "build/Build and push the image": _CREDENTIALS,
    "image/Build the image": _NO_ENGINE,
    "publish/Log in to the registry": _CREDENTIALS,
    "publish/Build the image": _NO_ENGINE,
    "publish/Push the image": _CREDENTIALS,
    "template_update/Open a pull request": "needs the build service's token to push a "
    "branch and open the pull request; the step before it ran (no newer template release "
    "here)",
}

# Variables whose value belongs to the runner, not the project: the shared uv cache here.
_RUNNER_OWNED = {"UV_CACHE_DIR"}
_COPY_IGNORE = shutil.ignore_patterns(
    ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"
)


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
    env = runner_env(**agent)
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


# A pipeline run, as Azure runs one for an event -----------------------------------------
# Steps no run here can do: a cluster's or Azure ML's deployment, Azure's artifact store
# and build summary. Everything else (docker, the registry, git pushes, the REST API
# through a recorder) runs.
CANNOT_RUN = {
    "PublishPipelineArtifact@1": "publishes to Azure's artifact storage; the steps before "
    "it wrote the files, which the test reads from the job's tree",
    "publish": "publishes to Azure's artifact storage (the publish: shortcut)",
}
_OUTPUT = re.compile(r"^##vso\[task\.setvariable variable=([^;\]]+)([^\]]*)\](.*)$", re.M)
_RUNTIME = re.compile(r"^\$\[(.*)\]$", re.S)
_UV_PIN = re.compile(r"\buv==([\w.]+)")
_PARAMETER = re.compile(r"\$\{\{\s*parameters\.(\w+)\s*\}\}")


@dataclass
class PipelineRun:
    """What a run did: each stage's and job's result ('succeeded', 'skipped', or 'not
    played': left out with ``only``), the steps run and not run, each job's tree, each
    step's output."""

    results: dict[str, str] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    trees: dict[str, Path] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)  # step -> its output
    seconds: float = 0.0

    @property
    def log(self) -> str:
        return "\n".join(f"[{step}]\n{output}" for step, output in self.logs.items())

    def succeeded(self, *names: str) -> None:
        for name in names:
            assert self.results.get(name) == "succeeded", f"{name}: {self.results}"

    def skipped(self, *names: str) -> None:
        for name in names:
            assert self.results.get(name) == "skipped", f"{name}: {self.results}"


class _Condition:
    """Azure's expression language, the part pipelines use: functions (and, or, not, eq,
    ne, startsWith, succeeded, succeededOrFailed, always), 'strings', variables['x'],
    dependencies.<...>.outputs['<...>'] and stageDependencies.<...>.outputs['<...>']."""

    _TOKEN = re.compile(r"\s*(?:'((?:[^']|'')*)'|([A-Za-z_][\w.]*)|(\S))")

    def __init__(self, text: str, lookup: Any, succeeded: bool) -> None:
        self.tokens = [m.groups() for m in self._TOKEN.finditer(text.strip())]
        self.position, self.lookup, self.ok = 0, lookup, succeeded

    def value(self) -> Any:
        found = self._expression()
        assert self.position == len(self.tokens), f"cannot read {self.tokens[self.position :]}"
        return found

    def _next(self) -> tuple[str | None, str | None, str | None]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _expression(self) -> Any:
        string, name, punct = self._next()
        if string is not None:
            return string.replace("''", "'")
        assert name is not None, f"unexpected {punct!r}"
        if self.position < len(self.tokens) and self.tokens[self.position][2] == "[":
            self._next()
            key, _, _ = self._next()
            assert self._next()[2] == "]"
            return self.lookup(name, key)
        if name.lower() in ("true", "false"):
            return name.lower() == "true"
        assert self._next()[2] == "(", f"{name} is not a function call"
        args: list[Any] = []
        while self.tokens[self.position][2] != ")":
            args.append(self._expression())
            if self.tokens[self.position][2] == ",":
                self._next()
        self._next()
        return self._call(name.lower(), args)

    def _call(self, name: str, args: list[Any]) -> Any:
        text = [str(arg).lower() for arg in args]
        functions = {
            "and": lambda: all(args),
            "or": lambda: any(args),
            "not": lambda: not args[0],
            "eq": lambda: text[0] == text[1],
            "ne": lambda: text[0] != text[1],
            "startswith": lambda: text[0].startswith(text[1]),
            "succeeded": lambda: self.ok,
            "succeededorfailed": lambda: True,
            "always": lambda: True,
        }
        assert name in functions, f"the emulation does not know the function {name}()"
        return functions[name]()


def _truthy(value: Any) -> bool:
    return value not in (False, "", "false", "False", None)


def run_azure(
    pipeline: Path,
    origin: Path,
    workdir: Path,
    *,
    branch: str = "main",
    reason: str = "IndividualCI",
    target: str | None = None,
    parameters: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    api: str = "http://127.0.0.1:9",
    only: set[str] | None = None,
) -> PipelineRun:
    """Run ``pipeline`` (a file of the render) as Azure runs it for an event: ``reason``
    (Build.Reason: IndividualCI, PullRequest, Schedule, Manual) on ``branch`` of the bare
    ``origin`` (``target``: a pull request's target branch). Stage, job and step conditions
    decide what runs; each job checks out as its checkout step asks (Azure's defaults for
    a new pipeline: one commit, no tags); output variables flow between steps, jobs and
    stages; ``parameters`` are the run's; ``variables`` are the pipeline's variables and
    ``secrets`` its secret ones, which reach a script only through a step's env:. The REST
    API (System.CollectionUri) is ``api``. ``only`` names the jobs to play; another job
    whose conditions hold is 'not played'. A failing step fails the test, naming it."""
    started = time.monotonic()
    config = _load(pipeline)
    declared = {p["name"]: p.get("default", "") for p in config.get("parameters") or []}
    config = _with_parameters(config, {**declared, **(parameters or {})})
    sha = run(origin, "git", "rev-parse", branch).stdout.strip()
    system = {
        "Build.Reason": reason,
        "Build.SourceBranch": f"refs/heads/{branch}",
        "Build.SourceBranchName": branch,
        "Build.SourceVersion": sha,
        # Unique on this machine, as Azure's are in an organisation (containers are named
        # after it, beside other tests' runs).
        "Build.BuildId": f"{os.getpid()}{len(list(workdir.glob('run-*'))) + 1:02d}",
        "Build.RequestedFor": "Release Manager",
        "Build.Repository.ID": "penguin-model",
        "System.CollectionUri": f"{api}/data-science-team/",
        "System.TeamProject": "penguin-model",
        "System.PullRequest.TargetBranch": f"refs/heads/{target}" if target else "",
        "TF_BUILD": "True",
    }
    shared = {**system, **_strings(config.get("variables")), **(variables or {})}
    hidden = {"System.AccessToken": "build-service-token", **(secrets or {})}
    folder = workdir / f"run-{system['Build.BuildId']}"
    outcome = PipelineRun()
    outputs: dict[str, str] = {}  # stage.job.step.variable -> value
    stages = config.get("stages") or [{"stage": "default", "jobs": config["jobs"]}]
    previous: str | None = None
    for stage in stages:
        name = stage["stage"]
        depends = stage.get("dependsOn", [previous] if previous else [])
        depends = [depends] if isinstance(depends, str) else depends
        previous = name

        def lookup(base: str, key: str, stage_name: str = name) -> str:
            if base == "variables":
                return shared.get(key, "")
            parts = [p for p in base.split(".") if p not in ("dependencies", "stageDependencies")]
            assert parts[-1] == "outputs", base
            path = ".".join([*parts[:-1], key])
            return outputs.get(path, outputs.get(f"{stage_name}.{path}", ""))

        ok = all(outcome.results.get(d) == "succeeded" for d in depends)
        if not _truthy(_Condition(stage.get("condition", "succeeded()"), lookup, ok).value()):
            outcome.results[name] = "skipped"
            continue
        stage_vars = _strings(stage.get("variables"))
        for spec in stage["jobs"]:
            job = spec.get("job") or spec["deployment"]
            condition = spec.get("condition", "succeeded()")
            if not _truthy(_Condition(condition, lookup, True).value()):
                outcome.results[job] = "skipped"
                continue
            if only is not None and job not in only:
                outcome.results[job] = "not played"
                continue
            job_vars = {**stage_vars, **_strings(spec.get("variables"))}
            own = {
                key: str(_Condition(m.group(1), lookup, True).value())
                if (m := _RUNTIME.match(value.strip()))
                else value
                for key, value in job_vars.items()
            }
            steps = spec.get("steps") or spec["strategy"]["runOnce"]["deploy"]["steps"]
            tree = folder / job
            _run_job(
                name,
                job,
                steps,
                tree,
                origin,
                branch,
                {**shared, **own},
                hidden,
                outputs,
                outcome,
                deployment="deployment" in spec,
            )
            outcome.trees[job] = tree
            outcome.results[job] = "succeeded"
        outcome.results[name] = "succeeded"
    outcome.seconds = time.monotonic() - started
    return outcome


def _with_parameters(node: Any, chosen: Mapping[str, str]) -> Any:
    """The config with ${{ parameters.x }} replaced, as Azure expands templates after
    reading the YAML."""
    if isinstance(node, dict):
        return {key: _with_parameters(value, chosen) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_parameters(value, chosen) for value in node]
    return _PARAMETER.sub(lambda m: chosen[m.group(1)], node)


def _clone(origin: Path, branch: str, tree: Path, checkout: Mapping[str, str]) -> None:
    """Azure's checkout: every branch as origin/<name>, ``fetchDepth`` commits (1 when
    unset, as in a new pipeline; "0" is all), tags only with fetchTags "true", the
    commit checked out detached."""
    tree.mkdir(parents=True, exist_ok=True)
    git = ["git", "-C", str(tree)]
    depth = checkout.get("fetchDepth", "1")
    options = [] if depth == "0" else [f"--depth={depth}"]
    options.append("--tags" if checkout.get("fetchTags") == "true" else "--no-tags")
    subprocess.run([*git, "init", "--quiet"], check=True)
    subprocess.run([*git, "remote", "add", "origin", f"file://{origin}"], check=True)
    refspec = "+refs/heads/*:refs/remotes/origin/*"
    subprocess.run([*git, "fetch", "--quiet", *options, "origin", refspec], check=True)
    subprocess.run([*git, "checkout", "--quiet", "--detach", f"origin/{branch}"], check=True)


def _run_job(
    stage: str,
    job: str,
    steps: list[dict[str, Any]],
    tree: Path,
    origin: Path,
    branch: str,
    variables: dict[str, str],
    secrets: Mapping[str, str],
    outputs: dict[str, str],
    outcome: PipelineRun,
    *,
    deployment: bool,
) -> None:
    variables = dict(variables)
    temp = agent_temp(tree)
    # A job checks out the repository first unless it says otherwise; a deployment job
    # only when it asks.
    if not any("checkout" in step for step in steps) and not deployment:
        _clone(origin, branch, tree, {})
    tree.mkdir(parents=True, exist_ok=True)
    temp.mkdir(exist_ok=True)
    # The hosted agent's tools (docker, git, curl, jq); uv once a step installs it.
    path = runner_path(tree.parent)

    def lookup(base: str, key: str) -> str:
        assert base == "variables", f"a step condition reads {base}"
        return variables.get(key, "")

    for step in steps:
        label = step.get("displayName") or step.get("task") or step.get("checkout")
        # A script step without a name is shown by its first line.
        label = label or str(step.get("script", "")).strip().splitlines()[0]
        step_id = f"{job}/{label}"
        if not _truthy(_Condition(step.get("condition", "succeeded()"), lookup, True).value()):
            continue
        if "checkout" in step:
            if step["checkout"] != "none":
                _clone(origin, branch, tree, _strings(step))
            continue
        kind = step.get("task") or ("publish" if "publish" in step else None)
        if kind in CANNOT_RUN:
            outcome.not_run.append(step_id)
            continue
        known = {**variables, **secrets}

        def expand(value: str, known: Mapping[str, str] = known) -> str:
            return _MACRO.sub(lambda m: known.get(m.group(1), m.group(0)), value)

        if kind is not None or label in SETUP:
            assert kind in SETUP or label in SETUP, f"{step_id} uses {kind}: classify it"
            # The agent's uv is the version the step installs, from the package index.
            if pinned := _UV_PIN.search(expand(str(step.get("script", "")))):
                path = f"{exact_uv(pinned.group(1))}{os.pathsep}{runner_path(tree.parent)}"
            continue

        env = runner_env(PATH=path, AGENT_TEMPDIRECTORY=str(temp))
        env |= {k.upper().replace(".", "_"): v for k, v in variables.items()}
        env |= {k: expand(v) for k, v in _strings(step.get("env")).items()}
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", expand(step["script"])],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        outcome.logs[step_id] = result.stdout + result.stderr
        assert result.returncode == 0, (
            f"Azure step {step_id!r} failed (exit {result.returncode}):\n"
            f"{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
        )
        outcome.ran.append(step_id)
        for key, options, value in _OUTPUT.findall(result.stdout):
            if "isOutput=true" in options:
                outputs[f"{stage}.{job}.{step['name']}.{key}"] = value.strip()
                variables[f"{step['name']}.{key}"] = value.strip()
            else:
                variables[key] = value.strip()
