"""How much of a level-4 Copier render is Copier's per-path work and the template's clone.

A diagnostic behind issue 9's render target, for an upstream report rather than a target
of its own. It times the same in-process level-4 render (the median of --repeat runs after
one untimed run, the rows taking turns) four ways:

- stock Copier from this repository;
- stock Copier from a repository holding only what Copier renders from (copier.yml,
  hooks/ and template/), which shows what cloning the tests, docs and benchmarks costs;
- Copier without its two per-path redundancies, which shows what an upstream fix would
  save: ``_sync_git_index_executable_bit`` runs ``git config`` once per rendered file,
  though ``copier copy`` of a new project never needs it (copier-org/copier#2604), and
  ``answers_relpath`` compiles the answers file's name again for every path part;
- both.

The third and fourth rows replace private Copier methods; the script stops, naming them,
if a Copier release no longer has them.
Run: uv run python benchmarks/copier_overhead.py [--repeat 9] [--scratch /dev/shm]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from copier import _main as copier_main

from mlops_ladder.render import copier_copy, template_root

REDUNDANT = ("_sync_git_index_executable_bit", "answers_relpath")
Patch = Callable[[], AbstractContextManager[None]]


@contextmanager
def _without_redundancies() -> Iterator[None]:
    worker = copier_main.Worker
    stock = {name: worker.__dict__[name] for name in REDUNDANT}
    render_answers_relpath = stock["answers_relpath"].fget

    def answers_relpath_once(self: copier_main.Worker) -> Path:
        # The name cannot change during a render: compile it once per worker.
        if "_answers_relpath_once" not in self.__dict__:
            self.__dict__["_answers_relpath_once"] = render_answers_relpath(self)
        return self.__dict__["_answers_relpath_once"]

    # On Linux core.fileMode is true, where the stock method returns without a change.
    worker._sync_git_index_executable_bit = lambda self, dst_relpath, src_mode: None
    worker.answers_relpath = property(answers_relpath_once)
    try:
        yield
    finally:
        for name, attribute in stock.items():
            setattr(worker, name, attribute)


def _template_only(root: Path) -> Path:
    """A git repository with only the paths Copier renders from, at this checkout's HEAD."""
    archive = subprocess.run(
        ["git", "archive", "HEAD", "copier.yml", "hooks", "template"],
        cwd=template_root(),
        check=True,
        capture_output=True,
    ).stdout
    repository = root / "template-only"
    repository.mkdir()
    subprocess.run(["tar", "-x"], input=archive, cwd=repository, check=True)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run([*git, "init", "-q"], cwd=repository, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repository, check=True)
    subprocess.run([*git, "commit", "-qm", "template only"], cwd=repository, check=True)
    return repository


def _seconds(template: Path, patch: Patch) -> float:
    answers = {"maturity_level": 4, "initialize_git": False}
    with tempfile.TemporaryDirectory() as scratch, patch():
        start = time.perf_counter()
        copier_copy(Path(scratch) / "p", answers, template=template)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument(
        "--scratch", type=Path, help="folder for renders and clones (default: system temp)"
    )
    args = parser.parse_args()
    missing = [name for name in REDUNDANT if name not in copier_main.Worker.__dict__]
    if missing:
        raise SystemExit(f"This Copier has no Worker.{', '.join(missing)}: nothing to compare.")
    if args.scratch is not None:
        tempfile.tempdir = str(args.scratch.resolve())
    with tempfile.TemporaryDirectory() as root:
        here = template_root()
        slim = _template_only(Path(root))
        rows: dict[str, tuple[Path, Patch]] = {
            "stock Copier, this repository": (here, nullcontext),
            "stock Copier, template-only repository": (slim, nullcontext),
            "without the per-path redundancies, this repository": (here, _without_redundancies),
            "without the per-path redundancies, template-only repository": (
                slim,
                _without_redundancies,
            ),
        }
        for template, patch in rows.values():
            _seconds(template, patch)
        times: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(args.repeat):
            for name, (template, patch) in rows.items():
                times[name].append(_seconds(template, patch))
    print(f"Scratch: {tempfile.gettempdir()}\n")
    print(f"| level-4 Copier API render (median of {args.repeat}) | seconds |\n|---|---|")
    for name, samples in times.items():
        print(f"| {name} | {statistics.median(samples):.3f} |")


if __name__ == "__main__":
    main()
