"""Shared fixtures of the generator's tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _offline_python() -> None:
    # Rendered projects use the machine's interpreters; a managed-Python download fails
    # offline and would hide a default that pins a Python the machine lacks.
    os.environ["UV_PYTHON_DOWNLOADS"] = "never"
