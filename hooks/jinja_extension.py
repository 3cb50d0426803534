"""One Jinja extension that both engines load, so templates and questions share helpers.

Copier loads it by file path (``copier-template-extensions``, see ``copier.yml``);
Cookiecutter imports it through ``template/mlops_ladder_jinja.py``. It exposes:

- filters ``dist_name`` and ``package_name``: derived defaults for the naming questions;
- filter ``answer_error``: Copier's question validators (the same rules Cookiecutter's
  pre-generation hook runs);
- filter ``quoted``: a double-quoted string literal valid in TOML, YAML, JSON and Python,
  for free-text answers (names, descriptions) written into those files;
- filter ``docstring``: free text escaped and wrapped for a triple-quoted docstring;
- filter ``target_column``: the column the generated model predicts;
- filter ``default_image``: the container image a release pushes, from the CI provider;
- filters ``dvc_remote_url`` and ``dvc_extra``: the DVC remote as .dvc/config needs it, and
  the dvc extra its scheme needs; ``artifact_name``: the model's registry name;
  ``endpoint_name``: the Azure ML online endpoint's name;
- test ``at_level``: ``{% if cookiecutter is at_level(2) %}``, the one way templates ask
  whether a level's features belong in the render;
- test ``ci``: ``{% if cookiecutter is ci("github") %}``, level 1 or above with that CI;
- global ``azure_s3_env(remote, indent)``: an Azure Pipelines step's ``env:`` mapping of
  the two S3 keys when the DVC remote is on S3 (secret variables reach a script only
  through its ``env:``), for each step that reads or writes S3;
- global ``ladder_requirement()``: what generated CI installs mlops-ladder from (the
  template's git source at the rendered commit, under Copier; see answers.py);
- global ``hooks_dir``: this folder, for Cookiecutter's hook shims;
- global ``current_year`` for licence headers (Copier has no ``{% now %}`` tag).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.exceptions import UndefinedError
from jinja2.ext import Extension
from jinja2.runtime import Context


def _load_answers() -> Any:
    # Loaded by path under a private name: Copier imports this file by path, not as part of
    # a package, and a bare ``import answers`` could pick up an unrelated module.
    name = "_mlops_ladder_answers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("answers.py"))
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


answers = _load_answers()


def _derive(function: Any) -> Any:
    def derive(value: Any) -> str:
        try:
            return str(function(value))
        except answers.AnswerError as error:
            # Cookiecutter reports an UndefinedError raised while rendering a default as
            # "Unable to render variable ..." plus our message, and stops before writing.
            raise UndefinedError(str(error)) from error

    return derive


def _quoted(value: Any) -> str:
    return json.dumps(str(value), ensure_ascii=False)


def _docstring(value: Any, width: int = 88) -> str:
    """Free text made safe inside a triple-quoted Python string, wrapped at ``width``."""
    text = str(value).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    return textwrap.fill(text, width=width, break_long_words=False, break_on_hyphens=False)


@pass_context
def _ladder_requirement(context: Context) -> str:
    # Copier's context only: the source the answers file records and the commit rendered.
    remembered = context.get("_copier_answers") or {}
    conf = context.get("_copier_conf")
    commit = str(conf["vcs_ref_hash"] or "") if conf is not None else ""
    return answers.ladder_requirement(str(remembered.get("_src_path", "")), commit)


def _azure_s3_env(remote: str, indent: int) -> str:
    if answers.dvc_extra(remote) != "s3":
        return ""
    lines = [
        "env:",
        "  AWS_ACCESS_KEY_ID: $(AWS_ACCESS_KEY_ID)",
        "  AWS_SECRET_ACCESS_KEY: $(AWS_SECRET_ACCESS_KEY)",
    ]
    # A line of its own under the step, as the call sits at the end of the step's last line.
    return "".join(f"\n{' ' * indent}{line}" for line in lines)


class MlopsLadderExtension(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["dist_name"] = _derive(answers.dist_name)
        environment.filters["package_name"] = _derive(answers.package_name)
        environment.filters["answer_error"] = answers.check
        environment.filters["target_column"] = answers.target
        environment.filters["quoted"] = _quoted
        environment.filters["docstring"] = _docstring
        environment.filters["default_image"] = answers.default_image
        environment.filters["dvc_remote_url"] = answers.dvc_remote_url
        environment.filters["dvc_extra"] = answers.dvc_extra
        environment.filters["artifact_name"] = answers.artifact_name
        environment.filters["endpoint_name"] = answers.endpoint_name
        environment.tests["at_level"] = answers.at_level
        environment.tests["ci"] = answers.ci
        environment.tests["ci_reads_s3"] = answers.ci_reads_s3
        environment.globals["current_year"] = dt.date.today().year
        environment.globals["ladder_requirement"] = _ladder_requirement
        environment.globals["azure_s3_env"] = _azure_s3_env
        # Absolute, so generation hooks find the shared code from inside the new project.
        environment.globals["hooks_dir"] = str(Path(__file__).resolve().parent)
