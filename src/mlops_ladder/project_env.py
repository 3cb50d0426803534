"""The environment for commands run inside a rendered project, shared by the demo, the
benchmarks and the generator's tests."""

from __future__ import annotations

import os

# VIRTUAL_ENV and UV_PROJECT_ENVIRONMENT name the caller's venv: `uv run` in the project
# must use the project's own .venv. PYTHONDONTWRITEBYTECODE (set on some CI images) makes
# every process in the project compile scikit-learn, SciPy and pandas from source again,
# about 2.5 s per start-up here, which a user's machine pays once per venv.
_CALLERS = frozenset({"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONDONTWRITEBYTECODE"})


def project_env() -> dict[str, str]:
    """This process's environment, minus the caller's venv, with managed Pythons off."""
    env = {key: value for key, value in os.environ.items() if key not in _CALLERS}
    # Projects use the machine's interpreters; a download fails offline and would hide a
    # default that pins a Python the machine lacks.
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env
