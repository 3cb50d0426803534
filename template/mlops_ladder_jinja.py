"""Cookiecutter's door to the shared Jinja extension in the repository's ``hooks/``.

Cookiecutter puts this folder on ``sys.path`` and imports ``_extensions`` by dotted name;
the extension itself lives once in ``hooks/jinja_extension.py`` for both engines.
"""

import importlib.util
from pathlib import Path

_path = Path(__file__).resolve().parent.parent / "hooks" / "jinja_extension.py"
_spec = importlib.util.spec_from_file_location("_mlops_ladder_jinja_extension", _path)
assert _spec and _spec.loader
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)

MlopsLadderExtension = _module.MlopsLadderExtension
