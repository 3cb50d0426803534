"""How much of a level-4 Copier render goes to Copier's per-path redundancies and its clone.

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
if a Copier release no longer has them. Run it on a clean checkout: Copier adds uncommitted
changes to its clone of this repository, while the template-only one is built from HEAD.
Run: uv run python benchmarks/copier_overhead.py [--repeat 9] [--scratch /dev/shm]
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from copier import _main as copier_main

# render_time.py sits beside this script, whose folder Python puts first on sys.path.
from render_time import commit_all, medians, parse_arguments

from mlops_ladder.render import copier_copy, template_root

REDUNDANT = ("_sync_git_index_executable_bit", "answers_relpath")
ANSWERS = {"maturity_level": 4, "initialize_git": False}


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
    return commit_all(repository)


def _render(
    template: Path, patch: Callable[[], AbstractContextManager[None]]
) -> Callable[[Path], object]:
    def render(scratch: Path) -> None:
        with patch():
            copier_copy(scratch / "p", ANSWERS, template=template)

    return render


def main() -> None:
    args = parse_arguments(__doc__, repeat=9)
    missing = [name for name in REDUNDANT if name not in copier_main.Worker.__dict__]
    if missing:
        raise SystemExit(f"This Copier has no Worker.{', '.join(missing)}: nothing to compare.")
    with tempfile.TemporaryDirectory() as root:
        here, slim = template_root(), _template_only(Path(root))
        results = medians(
            {
                "stock Copier, this repository": _render(here, nullcontext),
                "stock Copier, template-only repository": _render(slim, nullcontext),
                "without the per-path redundancies, this repository": _render(
                    here, _without_redundancies
                ),
                "without the per-path redundancies, template-only repository": _render(
                    slim, _without_redundancies
                ),
            },
            args.repeat,
        )
    print(f"Scratch: {tempfile.gettempdir()}\n")
    print(f"| level-4 Copier API render (median of {args.repeat}) | seconds |\n|---|---|")
    for name, seconds in results.items():
        print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
