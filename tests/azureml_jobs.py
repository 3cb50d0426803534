"""The Azure Machine Learning job specs of compute=azureml renders, loaded and run here.

azure-ai-ml's loaders validate each spec offline, as `az ml job create` does before it
uploads anything. Then each job runs as Azure ML would run it, without the cloud: its
``code`` is a snapshot of the repository without git-ignored files (and without .git), its
environment is the project's locked venv (the image Dockerfile.train builds holds the same),
``${{inputs.x}}`` and ``${{outputs.x}}`` are folders, and a pipeline's steps run one after
another in fresh snapshots, their outputs wired as the spec says.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from generated import run, uv_env

_BINDING = re.compile(r"\$\{\{\s*([\w.]+)\s*\}\}")


def _spec(project: Path, name: str) -> dict[str, Any]:
    return yaml.safe_load((project / "azureml" / name).read_text(encoding="utf-8"))


def _inputs(project: Path, spec: dict[str, Any]) -> dict[str, Path]:
    """A spec's top-level inputs: local files, uploaded at submission."""
    given = spec.get("inputs") or {}
    return {name: (project / "azureml" / value["path"]).resolve() for name, value in given.items()}


def check_specs(project: Path) -> None:
    """The specs load, and what they name (environment, code, inputs) is in the render."""
    from azure.ai.ml import load_environment, load_job

    folder = project / "azureml"
    environment = load_environment(folder / "environment.yml")
    assert (folder / environment.build.path / environment.build.dockerfile_path).is_file()
    specs = ["train-job.yml", "train-pipeline.yml"]
    # Level 4's batch scoring job, beside training's.
    specs += [path.name for path in folder.glob("batch-job.yml")]
    components = []
    for name in specs:
        job = load_job(folder / name)
        # A pipeline's inline steps become components; a command job is one itself.
        components += (
            [step.component for step in job.jobs.values()]
            if name.endswith("pipeline.yml")
            else [job]
        )
    for component in components:
        assert str(component.environment).removeprefix("azureml:") == f"{environment.name}@latest"
        assert (folder / str(component.code)).resolve() == project.resolve(), component.code
    for name in specs:
        for key, path in _inputs(project, _spec(project, name)).items():
            assert path.exists(), f"{name}: input {key} names {path}, which is missing"


def _snapshot(project: Path, destination: Path) -> Path:
    """What `code: ..` uploads: the files git does not ignore, without .git."""
    listed = run(project, "git", "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, listed.stdout.split("\0")):
        source = project / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def _bind(value: Any, bindings: dict[str, Path]) -> str:
    return _BINDING.sub(lambda match: str(bindings[match.group(1)]), str(value))


def _run_command(project: Path, command: str, workdir: Path, name: str) -> None:
    code = _snapshot(project, workdir / f"{name}-code")
    env = uv_env()
    env["PATH"] = f"{project / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{name}: {command}\n{result.stdout}\n{result.stderr}"


def run_command_job(project: Path, workdir: Path, name: str = "train-job.yml") -> dict[str, Path]:
    """Run the command job azureml/``name``; returns its outputs' folders by name."""
    spec = _spec(project, name)
    bindings = {f"inputs.{key}": path for key, path in _inputs(project, spec).items()}
    outputs = {key: workdir / "job-outputs" / key for key in spec["outputs"]}
    for key, folder in outputs.items():
        folder.mkdir(parents=True)
        bindings[f"outputs.{key}"] = folder
    _run_command(project, _bind(spec["command"], bindings), workdir, "job")
    return outputs


def run_pipeline_job(project: Path, workdir: Path) -> dict[str, Path]:
    """Run azureml/train-pipeline.yml's steps in order; returns its outputs' folders."""
    spec = _spec(project, "train-pipeline.yml")
    parent = {f"parent.inputs.{name}": path for name, path in _inputs(project, spec).items()}
    for name in spec["outputs"]:
        parent[f"parent.outputs.{name}"] = workdir / "pipeline-outputs" / name
    for step_name, step in spec["jobs"].items():
        bindings: dict[str, Path] = {}
        for name, given in (step.get("inputs") or {}).items():
            bindings[f"inputs.{name}"] = Path(_bind(given, parent))
        for name, given in (step.get("outputs") or {}).items():
            if isinstance(given, str):
                folder = Path(_bind(given, parent))
            else:
                folder = workdir / "step-outputs" / step_name / name
            folder.mkdir(parents=True, exist_ok=True)
            bindings[f"outputs.{name}"] = folder
            parent[f"parent.jobs.{step_name}.outputs.{name}"] = folder
        _run_command(project, _bind(step["command"], bindings), workdir, step_name)
    return {key.rpartition(".")[2]: path for key, path in parent.items() if ".outputs." in key}
