"""Checks the generator's tests run on a rendered project.

Each check raises AssertionError with the evidence, so a broken render fails the suite;
``tests/template/test_checks_fail.py`` proves that for each of them.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from palmerpenguins import load_penguins

from mlops_ladder.project_env import project_env
from mlops_ladder.service import free_port

# An opening Jinja delimiter followed by an expression, tag or comment. A bare "}}" is
# ordinary code (a nested dict literal), Go templates ({{.Field}}, as in docker inspect)
# start with a dot, and GitHub Actions' ${{ }} is taken out first.
_JINJA = re.compile(r"\{\{-?\s*[\w(\[\"']|\{%-?\s*\w|\{#")
_ACTIONS_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
_SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}


def project_files(root: Path) -> list[Path]:
    """Every file of a render, relative to its root, ignoring tool output and .git."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        found.extend(Path(dirpath, name).relative_to(root) for name in filenames)
    return sorted(found)


def assert_no_leftover_jinja(root: Path) -> None:
    leftovers = []
    for relative in project_files(root):
        text = (root / relative).read_text(encoding="utf-8", errors="replace")
        text = _ACTIONS_EXPRESSION.sub("", text)
        for number, line in enumerate(text.splitlines(), start=1):
            if _JINJA.search(line):
                leftovers.append(f"{relative}:{number}: {line.strip()}")
    assert not leftovers, "Leftover Jinja syntax in the render:\n" + "\n".join(leftovers)


def assert_same_tree(left: Path, right: Path, *, ignore: tuple[str, ...] = ()) -> None:
    """Same files with the same bytes, except the paths in ``ignore``."""
    left_files = {p for p in project_files(left) if p.as_posix() not in ignore}
    right_files = {p for p in project_files(right) if p.as_posix() not in ignore}
    assert left_files == right_files, (
        f"Only in {left}: {sorted(map(str, left_files - right_files))}\n"
        f"Only in {right}: {sorted(map(str, right_files - left_files))}"
    )
    differing = [
        str(p) for p in sorted(left_files) if (left / p).read_bytes() != (right / p).read_bytes()
    ]
    assert not differing, f"Files that differ between {left} and {right}: {differing}"


def uv_env() -> dict[str, str]:
    """The environment for uv in a rendered project: its own .venv, the shared cache."""
    env = project_env()
    env.setdefault("UV_NO_PROGRESS", "1")
    return env


# What the generator's tests give rendered projects and a CI runner would not have: the
# type checker's cache that every render shares (tests/conftest.py). Runs of generated CI
# (tests/real_ci.py, tests/ci_steps.py) start without it, as a runner's job does.
HARNESS_ONLY = ("MYPY_CACHE_DIR",)


def runner_env(**extra: str) -> dict[str, str]:
    """uv_env() as a CI runner's job sees it: without the harness's own caches."""
    env = {key: value for key, value in uv_env().items() if key not in HARNESS_ONLY}
    return {**env, **extra}


def uv() -> str:
    found = shutil.which("uv")
    assert found, "uv is not on the PATH: run the tests through the README's test command"
    return found


def run(project: Path, *command: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run a command in the project; fail with its output when it fails."""
    result = subprocess.run(
        list(command),
        cwd=project,
        env=uv_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"`{' '.join(command)}` failed in {project} (exit {result.returncode}):\n"
        f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    )
    return result


def pipeline(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``python -m <package> pipeline <arguments>`` in the project, whatever its exit."""
    (package,) = [p.name for p in (project / "src").iterdir() if p.is_dir()]
    return subprocess.run(
        [uv(), "run", "--no-sync", "python", "-m", package, "pipeline", *arguments],
        cwd=project,
        env=uv_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def release_tag(project: Path) -> str:
    """The tag a release of the render's current version is pushed with."""
    return "v" + run(project, uv(), "version", "--short").stdout.strip()


def find_python(version: str) -> Path | None:
    """The interpreter uv finds for ``version`` on this machine (never a download)."""
    found = subprocess.run(
        [uv(), "python", "find", "--no-project", version],
        env=uv_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    return Path(found.stdout.strip()) if found.returncode == 0 else None


def python_available(version: str) -> bool:
    return find_python(version) is not None


def check_generated_project(project: Path, *, own_suite: bool = True) -> None:
    """What a team does on day one: install, test (with the coverage floor CI enforces,
    from level 1), lint, format-check, type-check. ``own_suite=False`` leaves out the
    tests, for a render whose suite another test runs (matrix.OWN_SUITE)."""
    run(project, uv(), "sync", "--quiet")
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    coverage = ["--cov"] if "[tool.coverage.report]" in pyproject else []
    if own_suite:
        run(project, uv(), "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider", *coverage)
    run(project, uv(), "run", "--no-sync", "ruff", "check", "--no-cache", ".")
    run(project, uv(), "run", "--no-sync", "ruff", "format", "--check", "--no-cache", ".")
    run(project, uv(), "run", "--no-sync", "mypy")


# Level 1 -------------------------------------------------------------------------------
_TOOLS = Path(sys.executable).parent  # this repo's venv: the checkers group of pyproject.toml

# check-jsonschema's vendored schema for each provider's config files (Azure: the main
# pipeline and the pipelines beside it) and for the dependency-update bot's.
_CI_SCHEMAS = {
    ".gitlab-ci.yml": "vendor.gitlab-ci",
    "azure-pipelines*.yml": "vendor.azure-pipelines",
    ".github/dependabot.yml": "vendor.dependabot",
    "renovate.json": "vendor.renovate",
}


def _tool(name: str) -> str:
    path = _TOOLS / name
    assert path.is_file(), f"{name} is not installed: run the tests through the README's command"
    return str(path)


def check_ci_config(project: Path) -> None:
    """Workflows pass actionlint, zizmor and their JSON schema; Dockerfiles pass hadolint."""
    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    if workflows:
        run(project, _tool("actionlint"), *map(str, workflows))
        run(project, _tool("zizmor"), "--offline", "--no-progress", *map(str, workflows))
        schema = ["--builtin-schema", "vendor.github-workflows"]
        run(project, _tool("check-jsonschema"), *schema, *map(str, workflows))
    for pattern, schema_name in _CI_SCHEMAS.items():
        for path in sorted(project.glob(pattern)):
            # The Azure schema's patterns need Python's regex engine.
            run(
                project,
                _tool("check-jsonschema"),
                *("--regex-variant", "python", "--builtin-schema", schema_name, str(path)),
            )
    for dockerfile in project.glob("Dockerfile*"):
        run(project, _tool("hadolint"), dockerfile.name)


def check_pre_commit(project: Path) -> None:
    """Every hook passes on every file and changes none (pre-commit reads git's index)."""
    if not (project / ".git").is_dir():
        run(project, "git", "init", "--quiet", "--initial-branch=main")
    run(project, "git", "add", "--all")
    run(project, _tool("pre-commit"), "run", "--all-files", "--show-diff-on-failure")
    if "stages: [pre-push]" in (project / ".pre-commit-config.yaml").read_text(encoding="utf-8"):
        # A project without CI runs its tests before each push.
        pre_push = ("--hook-stage", "pre-push", "--all-files")
        run(project, _tool("pre-commit"), "run", *pre_push, "--show-diff-on-failure")


def write_training_csv(project: Path, data: Mapping[str, Any]) -> None:
    """For a CSV project: the penguins table at csv_path, the target renamed as answered."""
    if data.get("dataset") != "csv":
        return
    sample_target = "species" if data["task"] == "classification" else "body_mass_g"
    # A clean table: every row labelled (from level 2, validation refuses empty targets).
    penguins = load_penguins().dropna(subset=[sample_target])
    frame = penguins.rename(columns={sample_target: data["target_column"]})
    path = project / data["csv_path"]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def dockerfile_instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def check_docker_context(project: Path) -> None:
    """Every file the image COPYs from the build context exists and .dockerignore keeps it."""
    patterns = [
        line.strip()
        for line in (project / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def sent(path: str) -> bool:
        # .dockerignore: the last matching pattern wins; "!" re-includes.
        included = True
        for pattern in patterns:
            negated = pattern.startswith("!")
            body = pattern.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, body) or path.startswith(body + "/"):
                included = negated
        return included

    for instruction, arguments in dockerfile_instructions(project / "Dockerfile"):
        if instruction != "COPY" or "--from=" in arguments:
            continue
        *sources, _ = arguments.split()
        for source in sources:
            path = source.rstrip("/")
            assert (project / path).exists(), f"Dockerfile copies {source}, which is missing"
            assert sent(path), f"Dockerfile copies {source}, which .dockerignore leaves out"


def _json_command(arguments: str) -> list[str]:
    command = json.loads(arguments)
    assert isinstance(command, list), f"use the exec (JSON) form, not {arguments!r}"
    return [str(part) for part in command]


def image_commands(project: Path, port: int) -> tuple[list[str], list[str]]:
    """The image's CMD and HEALTHCHECK command, moved to ``port``."""
    instructions = dict(dockerfile_instructions(project / "Dockerfile"))
    serve = _json_command(instructions["CMD"])
    health = _json_command(instructions["HEALTHCHECK"].split(" CMD ", 1)[1])
    assert "--port" in serve, f"the image's CMD sets no --port: {serve}"
    serve[serve.index("--port") + 1] = str(port)
    health = [part.replace(":8000/", f":{port}/") for part in health]
    return serve, health


def image_env(project: Path) -> dict[str, str]:
    """The variables the image's ENV instructions set, but PATH (its venv is elsewhere here)."""
    variables: dict[str, str] = {}
    for name, arguments in dockerfile_instructions(project / "Dockerfile"):
        if name == "ENV":
            variables.update(pair.split("=", 1) for pair in shlex.split(arguments))
    variables.pop("PATH", None)
    return variables


@contextlib.contextmanager
def serving_as_image(project: Path, **overrides: str) -> Iterator[str]:
    """The image's command on a free port, with the image's variables and ``overrides``;
    yields its URL, and stops it (SIGTERM, as Docker stops a container) on the way out."""
    port = free_port()
    serve, health = image_commands(project, port)
    with (
        tempfile.TemporaryFile(mode="w+") as log,
        subprocess.Popen(
            [uv(), "run", "--no-sync", *serve],
            cwd=project,
            env={**uv_env(), **image_env(project), **overrides},
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        ) as server,
    ):
        try:
            _wait_healthy(project, health, server, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=30)


def _request(url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def check_service(project: Path, data: Mapping[str, Any]) -> dict[str, Any]:
    """Train, start the image's command on a free port, and ask it for predictions.

    Returns the /predict answer for one penguin, for the caller to show or check.
    """
    write_training_csv(project, data)
    run(project, uv(), "run", "--no-sync", console_script(project), "train")
    check_docker_context(project)
    port = free_port()
    serve, health = image_commands(project, port)
    with (
        tempfile.TemporaryFile(mode="w+") as log,
        subprocess.Popen(
            [uv(), "run", "--no-sync", *serve],
            cwd=project,
            env=uv_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        ) as server,
    ):
        try:
            _wait_healthy(project, health, server, log)
            return check_answers(f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            server.wait(timeout=30)


def check_answers(url: str) -> dict[str, Any]:
    """A running service answers /predict and /predict/batch for a penguin and refuses a
    bad row with 422; returns the /predict answer."""
    features = _request(f"{url}/metadata")[1]["features"]
    # to_json writes NaN as null and numpy numbers as JSON numbers.
    rows = load_penguins().loc[[0], list(features)].to_json(orient="records")
    payload = json.loads(rows)[0]
    status, answer = _request(f"{url}/predict", payload)
    assert status == 200, f"/predict answered {status}: {answer}"
    assert "prediction" in answer and answer["model_version"], answer
    status, batch = _request(f"{url}/predict/batch", {"rows": [payload, payload]})
    assert status == 200 and len(batch["predictions"]) == 2, batch
    status, refusal = _request(f"{url}/predict", {"island": 1})
    assert status == 422, f"a bad request got {status}, not 422: {refusal}"
    return dict(answer)


def deployed_version(project: Path) -> str:
    """The model version a level-3+ project's service names: the first 12 hex digits of the
    SHA-256 of its skops copy, the file the image carries (the project's score.model_version)."""
    skops = project / "models" / "model.skops"
    return hashlib.sha256(skops.read_bytes()).hexdigest()[:12]


def console_script(project: Path) -> str:
    """The command the project installs: its distribution name (``uv version`` prints it)."""
    return run(project, uv(), "version").stdout.split()[0]


def _wait_healthy(
    project: Path, health: list[str], server: subprocess.Popen[str], log: Any
) -> None:
    """Poll with the image's own HEALTHCHECK command, as Docker would."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise AssertionError(f"the service exited ({server.returncode}):\n{log.read()}")
        probe = subprocess.run(
            [uv(), "run", "--no-sync", *health], cwd=project, env=uv_env(), capture_output=True
        )
        if probe.returncode == 0:
            return
        time.sleep(0.5)
    raise AssertionError("the service did not pass its HEALTHCHECK within 60 s")


# The organisation profile the answer-rule, profile and fleet tests share: one answer
# pre-answered (a team may change it), two locked.
ORG_PROFILE = """name: acme-platform
answers:
  python_version: "3.12"
locked:
  ci_provider: gitlab
  license: Proprietary
"""


_GIT = ["git", "-c", "user.name=tests", "-c", "user.email=tests@localhost"]
_CHECKOUT = Path(__file__).resolve().parents[1]


def template_snapshot(destination: Path) -> Path:
    """This checkout's working tree committed into a repository of its own.

    Copier records the template commit in the answers file and `copier update` renders
    that commit again; a checkout with uncommitted changes has no such commit, so tests
    that update render from a snapshot instead.
    """
    return template_history(destination, {})


def template_history(destination: Path, releases: Mapping[str, str]) -> Path:
    """A repository of the template's releases (tag -> commit of this checkout's history),
    each its files committed and tagged, oldest first; then this checkout's working tree
    as the last commit, untagged."""
    skip = shutil.ignore_patterns(".git", ".venv", ".tools", "__pycache__", "*_cache")
    destination.mkdir(parents=True)
    subprocess.run([*_GIT, "init", "-q"], cwd=destination, check=True, capture_output=True)
    for tag, commit in releases.items():
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit], cwd=_CHECKOUT, capture_output=True
        )
        assert archive.returncode == 0, (
            f"This clone lacks {commit}, release {tag}: the migration tests need the "
            f"repository's history (a clone without --depth).\n{archive.stderr.decode()}"
        )
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as files:
            files.extractall(destination, filter="data")
        _commit_all(destination, tag)
        subprocess.run([*_GIT, "tag", tag], cwd=destination, check=True, capture_output=True)
        for path in destination.iterdir():  # the next commit has only its own files
            if path.is_dir() and path.name != ".git":
                shutil.rmtree(path)
            elif path.is_file():
                path.unlink()
    shutil.copytree(_CHECKOUT, destination, ignore=skip, symlinks=True, dirs_exist_ok=True)
    _commit_all(destination, "snapshot")
    return destination


def _commit_all(repository: Path, message: str) -> None:
    for command in (["add", "--all"], ["commit", "-q", "--allow-empty", "-m", message]):
        subprocess.run([*_GIT, *command], cwd=repository, check=True, capture_output=True)


# Level 2 -------------------------------------------------------------------------------
# conf/hydra/launcher/ file -> (its plugin on PyPI, the plugin's config module, dataclass)
LAUNCHER_PLUGINS = {
    "slurm": (
        "hydra-submitit-launcher",
        "hydra_plugins.hydra_submitit_launcher.config",
        "SlurmQueueConf",
    ),
    "ray_cluster": (
        # As ray_cluster.yaml says: 1.4 is a pre-release for Hydra 1.4.
        "hydra-ray-launcher>=1.2.2,<1.4",
        "hydra_plugins.hydra_ray_launcher._config",
        "RayLauncherConf",
    ),
}

_LAUNCHER_CHECK = """
import importlib, json, sys
from omegaconf import OmegaConf
for name, (module, dataclass) in json.loads(sys.argv[1]).items():
    ours = OmegaConf.load(f"conf/hydra/launcher/{name}.yaml")
    schema = OmegaConf.structured(getattr(importlib.import_module(module), dataclass))
    OmegaConf.merge(schema, ours)  # a key the plugin lacks, or a wrong type, raises
    assert set(ours) == set(schema), (name, sorted(set(schema) ^ set(ours)))
    assert ours._target_ == schema._target_, name
"""


def check_launcher_configs(project: Path, workdir: Path) -> None:
    """The cluster launcher configs carry exactly their plugin's keys. The plugins are
    installed without dependencies (no submitit, no Ray) beside the project's venv."""
    target = workdir / "launcher-plugins"
    plugins = [package for package, _, _ in LAUNCHER_PLUGINS.values()]
    run(project, uv(), "pip", "install", "--quiet", "--no-deps", "--target", str(target), *plugins)
    checks = json.dumps(
        {name: [module, cls] for name, (_, module, cls) in LAUNCHER_PLUGINS.items()}
    )
    python = [uv(), "run", "--no-sync", "python", "-c", _LAUNCHER_CHECK, checks]
    run(project, "env", f"PYTHONPATH={target}", *python)
