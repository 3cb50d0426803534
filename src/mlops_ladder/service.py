"""Talking to a rendered project's scoring service on this machine: a free port, waiting
until it answers /health, and JSON requests. The demo and the latency benchmark use it."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from typing import Any


def free_port() -> int:
    """A TCP port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request_json(url: str, body: Any = None, timeout: float = 30) -> Any:
    """GET ``url``, or POST ``body`` as JSON when given; the decoded JSON answer. An error
    status raises urllib's HTTPError."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def wait_healthy(base_url: str, server: subprocess.Popen[Any], timeout: float = 60) -> None:
    """Poll ``base_url``/health until it answers; raise if the server exits first or the
    time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"the service exited with code {server.returncode}")
        try:
            request_json(f"{base_url}/health", timeout=2)
            return
        except OSError as error:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the service did not answer /health: {error}") from error
            time.sleep(0.5)
