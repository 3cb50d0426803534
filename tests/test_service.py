"""mlops_ladder.service: free ports, JSON requests, waiting for /health."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mlops_ladder.service import free_port, request_json, wait_healthy


class _Echo(BaseHTTPRequestHandler):
    def _answer(self, status: int, body: object) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._answer(200 if self.path == "/health" else 404, {"path": self.path})

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        self._answer(200, {"got": json.loads(self.rfile.read(length))})

    def log_message(self, *_: object) -> None:  # keep the test output clean
        pass


@pytest.fixture
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_free_port_can_be_bound() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", free_port()))


def test_request_json_gets_and_posts(base_url: str) -> None:
    assert request_json(f"{base_url}/health") == {"path": "/health"}
    assert request_json(f"{base_url}/predict", {"rows": [1, 2]}) == {"got": {"rows": [1, 2]}}
    with pytest.raises(OSError, match="404"):
        request_json(f"{base_url}/missing")


def test_wait_healthy_returns_once_health_answers(base_url: str) -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as alive:
        try:
            wait_healthy(base_url, alive, timeout=5)
        finally:
            alive.kill()


def test_wait_healthy_reports_a_server_that_exited() -> None:
    with subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]) as exited:
        exited.wait()
        with pytest.raises(RuntimeError, match="exited with code 3"):
            wait_healthy(f"http://127.0.0.1:{free_port()}", exited)


def test_wait_healthy_gives_up_after_its_timeout() -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as silent:
        try:
            with pytest.raises(RuntimeError, match="did not answer /health"):
                wait_healthy(f"http://127.0.0.1:{free_port()}", silent, timeout=1)
        finally:
            silent.kill()
