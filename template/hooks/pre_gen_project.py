"""Cookiecutter pre-generation hook: refuse bad answers with the rules Copier uses.

A non-zero exit makes Cookiecutter delete the half-made project folder.
"""

import json
import sys

sys.path.insert(0, r"{{ hooks_dir }}")

from answers import check_all  # noqa: E402

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

problems = check_all(ANSWERS)
for problem in problems:
    print(f"Invalid answer: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
