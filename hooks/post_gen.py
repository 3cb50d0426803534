"""Steps after the files are written, shared by Copier (``_tasks``) and Cookiecutter.

After every render and update: remove the folders the template holds for answers this
project did not give (both engines create a folder even when every file in it is
skipped). On a first render: ``git init``, ``uv lock`` when uv is on the PATH (so the
first commit carries the lock file), and a first commit; a machine with no git identity
still gets its commit, the author's answers standing in for ``user.name`` and
``user.email`` for that one command, without touching the user's git configuration. On
``copier update``: ``uv lock`` again when the project has a lock file, since an update
(a level climb above all) may change the dependencies.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

FIRST_COMMIT_MESSAGE = "Initial commit from mlops-ladder"
# Template folders whose files all depend on an answer (glob patterns), deepest first.
CONDITIONAL_FOLDERS = (
    ".github/workflows",
    ".github",
    ".dvc",
    "azureml",
    "deploy/kubernetes/overlays/*",
    "deploy/kubernetes/*",
    "deploy/*",
    "deploy",
    "conf/hydra/*",
    "conf/*",
    "conf",
    "src/*/pipeline",
    "src/*/serving",
    "src/*/monitoring",
)


def _git(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, text=True)


def _has_identity(project: Path) -> bool:
    for key in ("user.name", "user.email"):
        result = subprocess.run(
            ["git", "config", "--get", key], cwd=project, capture_output=True, text=True
        )
        if not result.stdout.strip():
            return False
    return True


def _uv() -> str | None:
    # Beside the interpreter running this hook: mlops-ladder installs uv with itself, and an
    # installed CLI's environment is often not on the PATH (uv tool install, pipx).
    beside = Path(sys.executable).parent / ("uv.exe" if os.name == "nt" else "uv")
    return shutil.which("uv") or (str(beside) if beside.is_file() else None)


def lock(project: Path) -> None:
    uv = _uv()
    if uv is None:
        print("uv is not on the PATH: run 'uv lock' and commit uv.lock.", file=sys.stderr)
        return
    result = subprocess.run([uv, "lock", "--quiet"], cwd=project, capture_output=True, text=True)
    if result.returncode != 0:
        # Offline with a cold cache, say: the project is still complete without the lock.
        print(f"'uv lock' failed, run it later:\n{result.stderr.strip()}", file=sys.stderr)


def init_repository(project: Path, author_name: str, author_email: str) -> None:
    if shutil.which("git") is None:
        print("git is not on the PATH: skipping 'git init' and the first commit.", file=sys.stderr)
        return
    if (project / ".git").exists():
        return
    _git(project, "init", "--quiet", "--initial-branch=main")
    lock(project)
    _git(project, "add", "--all")
    identity: list[str] = []
    if not _has_identity(project):
        identity = ["-c", f"user.name={author_name}", "-c", f"user.email={author_email}"]
    _git(project, *identity, "commit", "--quiet", "--no-verify", "-m", FIRST_COMMIT_MESSAGE)


def prune_empty_folders(project: Path) -> None:
    for pattern in CONDITIONAL_FOLDERS:
        for path in sorted(project.glob(pattern)):
            # Only an empty folder goes: one holding a file of the user's is theirs.
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("project", type=Path)
    parser.add_argument("--operation", choices=["copy", "update"], default="copy")
    parser.add_argument("--init-git", choices=["true", "false"], default="true")
    parser.add_argument("--author-name", default="mlops-ladder")
    parser.add_argument("--author-email", default="mlops-ladder@localhost")
    args = parser.parse_args(argv)
    project = args.project.resolve()
    prune_empty_folders(project)
    if args.operation == "copy" and args.init_git == "true":
        init_repository(project, args.author_name, args.author_email)
    elif args.operation == "update" and (project / "uv.lock").is_file():
        # An update can add dependencies (a level climb does): keep the lock in step, so
        # that `uv sync --locked` works before the user commits the update.
        lock(project)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
