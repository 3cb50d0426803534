"""Render the template with either engine: the one code path the CLI and the tests share."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from mlops_ladder.release import installed_release, served_from

# In a checkout the template is this repository: copier.yml at its root, the tree under
# template/. A wheel carries the same files in mlops_ladder/_template (pyproject.toml).
CHECKOUT = Path(__file__).resolve().parents[2]
PACKAGED = Path(__file__).resolve().parent / "_template"
COOKIECUTTER_DIRECTORY = "template"


def template_root() -> Path:
    for root in (CHECKOUT, PACKAGED):
        if (root / "copier.yml").is_file():
            return root
    raise FileNotFoundError(
        f"No copier.yml at {CHECKOUT} or {PACKAGED}: this mlops-ladder install has lost its "
        "template; install it again."
    )


@cache
def answer_rules() -> ModuleType:
    """The template's answer rules (hooks/answers.py): levels, choices, validators."""
    path = template_root() / "hooks" / "answers.py"
    spec = importlib.util.spec_from_file_location("_mlops_ladder_answers", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def copier_copy(
    destination: Path,
    data: Mapping[str, Any],
    *,
    vcs_ref: str | None = "HEAD",
    quiet: bool = True,
    defaults: bool = True,
    template: str | Path | None = None,
) -> Path:
    """Render with Copier (tasks included: they only touch the new project).

    ``vcs_ref="HEAD"`` renders the checkout's latest commit plus uncommitted changes (what
    the tests want); ``None`` lets Copier pick the latest release tag, as users get.
    ``template`` (a path or a URL) defaults to this checkout; installed from a wheel, to
    the wheel's release, whatever ``vcs_ref`` says (mlops_ladder/release.py).
    """
    from copier import run_copy

    def copy(source: str, ref: str | None) -> None:
        run_copy(
            source,
            str(destination),
            data=dict(data),
            defaults=defaults,
            unsafe=True,
            vcs_ref=ref,
            quiet=quiet,
        )

    if template is None and template_root() == PACKAGED:
        release = installed_release()
        with served_from(PACKAGED, release) as source:
            copy(source, release.tag)
    else:
        copy(str(template or template_root()), vcs_ref)
    return destination


def copier_update(
    project: Path, data: Mapping[str, Any], *, vcs_ref: str | None = "HEAD", quiet: bool = True
) -> Path:
    """Update a Copier-made project to the template at ``vcs_ref`` with changed answers
    (a level climb is ``{"maturity_level": N}``), keeping the other answers.

    Copier merges the template's changes into the project's own edits (a 3-way merge
    against a fresh render of the project's recorded template commit).
    """
    from copier import run_update

    run_update(
        str(project),
        data=dict(data),
        defaults=True,
        overwrite=True,
        unsafe=True,
        # With defaults=True nothing is asked either way; not skipping makes Copier reload
        # the answers after the "before" migrations, so a renamed answer keeps its value.
        skip_answered=False,
        vcs_ref=vcs_ref,
        quiet=quiet,
    )
    return project


def cookiecutter_copy(output_dir: Path, data: Mapping[str, Any]) -> Path:
    """Render with Cookiecutter; returns the project folder it made inside ``output_dir``."""
    from cookiecutter.main import cookiecutter

    extra = {key: _cookiecutter_value(value) for key, value in data.items()}
    made = cookiecutter(
        str(template_root()),
        directory=COOKIECUTTER_DIRECTORY,
        no_input=True,
        extra_context=extra,
        output_dir=str(output_dir),
    )
    return Path(made)


def _cookiecutter_value(value: Any) -> Any:
    # Cookiecutter's choice variables are strings ("0".."4"); booleans stay booleans.
    if isinstance(value, bool):
        return value
    return str(value)
