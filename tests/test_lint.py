"""The generator's own code (CLI, hooks, benchmarks, tests, docs scripts) passes ruff, as
the projects it renders must."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from generated import check_ci_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_passes(command: list[str]) -> None:
    # ruff is in the dev group; run the one installed beside this interpreter.
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), *command, "--no-cache", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_this_repositorys_workflows_pass_what_rendered_workflows_pass() -> None:
    """The release workflow (.github/workflows/release.yml): actionlint, zizmor, schema."""
    assert list((ROOT / ".github" / "workflows").glob("*.yml"))
    check_ci_config(ROOT)
