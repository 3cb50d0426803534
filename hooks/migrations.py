"""Copier migrations: project changes a three-way merge cannot express.

Each release that needs one lists it in copier.yml's `_migrations` (with its version, run
at the "before" stage, in the project being updated) and in CHANGELOG.md, and has a test.

    migrations.py rename-answer OLD NEW             # stage "before"
    migrations.py rename-file OLD NEW --stage STAGE  # both stages: "{{ _stage }}"

rename-answer runs before the update renders anything, so the new version's question
finds its answer (the update must not skip answered questions: mlops-ladder's does not).
rename-file moves the project's file with `git mv` before the update; Copier then sees the
renamed file as added on both sides and marks the whole file as a conflict, so after the
update it puts back the project's own version (from HEAD, under the old name). A release
that renames a file therefore must not also change its content: change it in the next.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ANSWERS_FILE = Path(".copier-answers.yml")


def rename_answer(old: str, new: str) -> str:
    """Rename a key of the answers file in place, keeping its value and the file's layout."""
    text = ANSWERS_FILE.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{re.escape(old)}:", re.MULTILINE)
    if not pattern.search(text):
        return f"{ANSWERS_FILE} has no answer {old!r}: nothing to rename"
    if re.search(rf"^{re.escape(new)}:", text, re.MULTILINE):
        return f"{ANSWERS_FILE} already answers {new!r}: kept, {old!r} left as it is"
    ANSWERS_FILE.write_text(pattern.sub(f"{new}:", text), encoding="utf-8")
    return f"answer {old!r} renamed to {new!r}"


def rename_file(old: str, new: str, stage: str) -> str:
    """Move a file the template renamed, with the project's edits (see the module doc)."""
    if stage == "after":
        return _keep_projects_version(old, new)
    source, target = Path(old), Path(new)
    if not source.exists():
        return f"{old} is not in the project (deleted or moved already): nothing to rename"
    if target.exists():
        return f"{new} exists already: {old} left for you to merge into it"
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "mv", old, new], check=True)
    return f"{old} renamed to {new}"


def _keep_projects_version(old: str, new: str) -> str:
    committed = subprocess.run(["git", "show", f"HEAD:{old}"], capture_output=True, check=False)
    target = Path(new)
    if committed.returncode != 0 or not target.is_file():
        return f"{old} was not in the project: {new} is the template's"
    if b"<<<<<<< before updating" not in target.read_bytes():
        return f"{new} merged cleanly"
    target.write_bytes(committed.stdout)
    subprocess.run(["git", "add", new], check=True)
    return f"{new} is the project's {old}, with its edits"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["rename-answer", "rename-file"])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--stage", choices=["before", "after"], default="before")
    args = parser.parse_args(argv)
    if args.action == "rename-answer":
        outcome = rename_answer(args.old, args.new)
    else:
        outcome = rename_file(args.old, args.new, args.stage)
    print(f"migration: {outcome}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
