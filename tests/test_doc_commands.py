"""Every command the docs give a reader is run, as written, by a test.

The commands are the fenced ``bash`` and ``console`` blocks of README.md and docs/. Each
page's blocks run in order, line by line, in a scratch folder, as a user in a fresh shell
runs them: ``mlops-ladder`` is the wheel built from this checkout, installed with
``uv tool install``, and ``uvx mlops-ladder`` resolves to the same wheel; nothing of the
checkout's own environment is on the PATH. A ``console`` block's shown output must be what
the command prints.

What cannot run as written is declared in the tables below, each with its reason, and the
fast tests fail when a table names a command the docs no longer give or the docs give one
no table or run covers.
"""

from __future__ import annotations

import http.server
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
from generated import run, template_snapshot, uv, uv_env

from mlops_ladder.release import installed_release

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("README.md", *sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("docs/**/*.md")))


@dataclass
class Command:
    line: str  # as the docs give it, comments and all
    output: str = ""  # what a console block shows after it

    @property
    def text(self) -> str:
        """The command without its trailing comment."""
        return re.sub(r"\s+#.*$", "", self.line).strip()


@dataclass
class Block:
    page: str
    index: int
    commands: list[Command] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.page} block {self.index}"


def doc_blocks(page: str) -> list[Block]:
    """The page's fenced bash and console blocks, their comment-only lines left out."""
    source = (ROOT / page).read_text(encoding="utf-8")
    blocks = []
    fenced = re.finditer(r"^```(bash|console)\n(.*?)^```", source, re.MULTILINE | re.DOTALL)
    for index, match in enumerate(fenced):
        block = Block(page, index)
        body = match[2].replace("\\\n", " ")
        if match[1] == "bash":
            block.commands = [Command(line) for line in body.splitlines() if _is_command(line)]
        else:
            for line in body.splitlines():
                if line.startswith("$ "):
                    block.commands.append(Command(line[2:]))
                elif block.commands and line.strip():
                    block.commands[-1].output += line + "\n"
        blocks.append(block)
    return blocks


def _is_command(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


# What only the reader has, and what the test gives instead.
PLACEHOLDERS = {
    # Copier and Cookiecutter render this checkout, committed as it is.
    "PATH_OR_URL_OF_THIS_REPO": "{template}",
    # The organisation profile: served over HTTP here, from the page's own YAML block.
    "https://platform.example.com/": "{profiles}",
}

# Commands that ask their questions on a terminal: the test has none, so it takes every
# default, as a reader pressing Enter at each question does.
NO_TERMINAL = {
    "uvx mlops-ladder new": "--defaults",
    "mlops-ladder new": "--defaults",
    "uvx --with copier-template-extensions copier copy": "--defaults",
    "uvx cookiecutter": "--no-input",
}

# Commands that serve until stopped: started, answered at the URL, stopped.
SERVES = {"make serve": "http://127.0.0.1:8000/health"}

# Commands another test runs, and why not this one.
RUN_ELSEWHERE = {
    "./dev demo": (
        "tests/test_cli.py::test_demo_runs_end_to_end",
        "the demo is the CLI's `demo` command, which that test runs end to end",
    ),
    "./dev test": (".ci/run", "the whole suite: CI runs it through .ci/run"),
    "uv run <project> pipeline promote multirun/<date>/<time>": (
        "template/{{cookiecutter.project_slug}}/tests/"
        "{% if cookiecutter is at_level(2) %}test_sweeps.py{% endif %}"
        "::test_promote_makes_the_best_trial_the_pipelines_config",
        "it needs a finished search; each level-2 render's own suite promotes one",
    ),
}


def _ours(command: Command) -> bool:
    return command.text not in RUN_ELSEWHERE


# Files and repositories a command reads that the reader brings, made before it runs.
def _rows_to_score(where: Path, env: dict[str, str]) -> None:
    """A file of penguin rows without their species, beside the project."""
    script = (
        "from palmerpenguins import load_penguins; "
        "load_penguins().drop(columns='species').head(20).to_csv('../rows.csv', index=False)"
    )
    run(where, uv(), "run", "--no-sync", "python", "-c", script)


def _a_project(where: Path, env: dict[str, str]) -> None:
    """A level-2 project in the folder: what `assess .` and its gate look at."""
    if not (where / ".copier-answers.yml").exists():
        _shell("mlops-ladder new . --level 2 --defaults", where, env)


def _repositories(where: Path, env: dict[str, str]) -> None:
    """Three repositories beside the folder, one of them named in the list file."""
    for name, level in (("model-a", 0), ("model-b", 1), ("model-c", 2)):
        _shell(f"mlops-ladder new ../{name} --level {level} --defaults", where, env)
    (where / "repositories.txt").write_text("../model-c\n", encoding="utf-8")


def page_profile() -> str:
    """The organisation profile the profiles page shows."""
    page = (ROOT / "docs/profiles.md").read_text(encoding="utf-8")
    (profile,) = re.findall(r"^```yaml\n(.*?)^```", page, re.MULTILINE | re.DOTALL)
    return profile


def _profile_file(where: Path, env: dict[str, str]) -> None:
    (where / "acme.yml").write_text(page_profile(), encoding="utf-8")


BRINGS: dict[str, Callable[[Path, dict[str, str]], None]] = {
    "make score INPUT=../rows.csv": _rows_to_score,
    "mlops-ladder assess .": _a_project,
    "mlops-ladder fleet ../model-a": _repositories,
    "mlops-ladder new my-model --profile acme.yml": _profile_file,
}


def _bash(line: str, where: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One command line, as a shell with no terminal runs it."""
    return subprocess.run(
        ["bash", "-c", line],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _shell(line: str, where: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One command line that must succeed."""
    result = _bash(line, where, env)
    assert result.returncode == 0, (
        f"`{line}` failed in {where} (exit {result.returncode}):\n"
        f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    )
    return result


def _serve(line: str, url: str, where: Path, env: dict[str, str]) -> None:
    server = subprocess.Popen(
        ["bash", "-c", f"exec {line}"],
        cwd=where,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, f"`{line}` exited:\n{server.communicate()[0]}"
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    assert answer.status == 200
                    return
            except OSError:
                assert time.monotonic() < deadline, f"{url} did not answer within 90 s"
                time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _matches(expected: str, printed: str, where: Path) -> bool:
    """The shown output, with the docs' home folder standing for the block's folder, and
    line breaks and box drawing ignored (the terminal's width decides them)."""
    expected = expected.replace("/home/me/", f"{where}/")

    def words(text: str) -> str:
        return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())

    return words(expected) in words(printed)


# Blocks that start somewhere new rather than where the page's session stands: the other
# ways to create the same project, another team's try, a platform group's own folder.
FRESH = (
    "uvx --with copier-template-extensions copier copy",
    "uvx cookiecutter",
    "mlops-ladder new my-model --profile acme.yml",
    "mlops-ladder fleet",
)


class Reader:
    """A reader's shell through one page: each block goes on in the folder the one before
    it ended in, with what `export` set; a FRESH block runs in a folder of its own."""

    def __init__(self, scratch: Path, env: dict[str, str], values: dict[str, str]):
        self.scratch, self.env, self.values = scratch, env, values
        self.where = scratch / "session"
        self.where.mkdir()

    def run_block(self, block: Block) -> None:
        commands = [c for c in block.commands if _ours(c)]
        if not commands:
            return
        if commands[0].text.startswith(FRESH):
            where = self.scratch / f"block-{block.index}"
            where.mkdir()
            for command in commands:
                where = self.run(command, where)
        else:
            for command in commands:
                self.where = self.run(command, self.where)

    def run(self, command: Command, where: Path) -> Path:
        line = command.text
        for placeholder, value in PLACEHOLDERS.items():
            line = line.replace(placeholder, value.format(**self.values))
        if cd := re.fullmatch(r"cd (\S+)", line):
            return where / cd[1]
        if export := re.fullmatch(r"export (\w+)=(\S+)", line):
            self.env[export[1]] = export[2]
            return where
        for prefix, bring in BRINGS.items():
            if line.startswith(prefix):
                bring(where, self.env)
        for prefix, flag in NO_TERMINAL.items():
            if line.startswith(prefix) and flag not in line.split():
                line = f"{line} {flag}"
        if line in SERVES:
            _serve(line, SERVES[line], where, self.env)
        elif command.output.startswith("Error:"):
            result = _bash(line, where, self.env)
            printed = result.stdout + result.stderr
            assert result.returncode != 0, f"`{line}` did not fail:\n{printed}"
            assert "Traceback" not in printed, printed
            assert _matches(command.output, printed, where), (command.output, printed)
        else:
            printed = _shell(line, where, self.env).stdout
            assert _matches(command.output, printed, where), (command.output, printed)
        return where


# Fast: the docs and the tables agree ---------------------------------------------------


def _all_commands() -> list[str]:
    return [c.text for page in PAGES for block in doc_blocks(page) for c in block.commands]


def test_the_docs_have_commands_to_run() -> None:
    commands = _all_commands()
    assert len(commands) >= 10, commands
    assert "make install test train" in commands


def test_every_table_entry_is_a_command_the_docs_give() -> None:
    commands = _all_commands()
    for prefix in [*NO_TERMINAL, *SERVES, *RUN_ELSEWHERE, *BRINGS, *FRESH]:
        assert any(c.startswith(prefix) for c in commands), f"no doc command starts {prefix!r}"
    joined = "\n".join(commands)
    for placeholder in PLACEHOLDERS:
        assert placeholder in joined, f"no doc command uses {placeholder!r}"


def test_a_placeholder_the_tables_do_not_know_fails() -> None:
    """Angle brackets and capitals stand for what the reader fills in: each must be in
    PLACEHOLDERS, or the command run elsewhere."""
    for page in PAGES:
        for block in doc_blocks(page):
            for command in filter(_ours, block.commands):
                line = command.text
                for placeholder in PLACEHOLDERS:
                    line = line.replace(placeholder, "")
                unknown = re.findall(r"<[a-z]+>|\b[A-Z]{2,}(?:_[A-Z]+)+\b(?!=)", line)
                assert not unknown, f"{block.label}: {unknown} in `{command.text}`"


def test_each_command_run_elsewhere_names_a_test_that_exists() -> None:
    for node, _ in RUN_ELSEWHERE.values():
        path, _, name = node.partition("::")
        source = (ROOT / path).read_text(encoding="utf-8")
        assert (f"def {name}(" if name else "./dev test") in source, node


def test_console_output_is_compared_without_line_breaks(tmp_path: Path) -> None:
    shown = "Error: a is locked by\n(/home/me/acme.yml); owners.\n"
    printed = f"╭─ Error ─╮\n│ Error: a is locked by ({tmp_path}/acme.yml); │\n│ owners. │"
    assert _matches(shown, printed, tmp_path)
    assert not _matches(shown.replace("locked", "fixed"), printed, tmp_path)


# Slow: every page's commands, run ------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's wheel, in a folder uv reads as a package source (find-links): the
    package is not on the index, so `uvx mlops-ladder` finds this one."""
    folder = tmp_path_factory.mktemp("wheel")
    run(ROOT, uv(), "build", "--quiet", "--wheel", "--out-dir", str(folder))
    return folder


@pytest.fixture
def profile_server(tmp_path: Path) -> Iterator[str]:
    """The profiles page's own profile, served as a platform group would serve it."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "acme.yml").write_text(page_profile(), encoding="utf-8")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def _published(template: Path, where: Path) -> Path:
    """The template's repository as a release leaves it: this checkout, tagged."""
    run(template, "git", "tag", installed_release().tag)
    run(where, "git", "clone", "--quiet", "--bare", str(template), "published.git")
    return where / "published.git"


def _reader_env(tmp_path: Path, wheel: Path, published: Path) -> dict[str, str]:
    """A user's shell with uv and nothing else of this checkout, and `mlops-ladder`
    installed from the wheel as `uv tool install` does.

    Projects record the template's repository (the package's Source URL) and update from
    it; that host cannot be reached here, so git's standard mirror setting sends the URL
    to the published repository."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in ("uv", "uvx"):
        (bin_dir / program).symlink_to(Path(uv()).with_name(program))
    ours = str(Path(uv()).parent)
    path = [p for p in os.environ["PATH"].split(os.pathsep) if p != ours]
    env = {
        **uv_env(),
        "PATH": os.pathsep.join([str(bin_dir), *path]),
        "UV_FIND_LINKS": str(wheel),
        "UV_TOOL_DIR": str(tmp_path / "tools"),
        "UV_TOOL_BIN_DIR": str(bin_dir),
        # A user's git identity, for the commits the pages make.
        **{
            f"GIT_{role}_{key}": value
            for role in ("AUTHOR", "COMMITTER")
            for key, value in (("NAME", "Docs Reader"), ("EMAIL", "reader@example.com"))
        },
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{published.as_uri()}.insteadOf",
        "GIT_CONFIG_VALUE_0": installed_release().source,
    }
    env.pop("VIRTUAL_ENV", None)
    _shell("uv tool install --quiet mlops-ladder", tmp_path, env)
    return env


@pytest.mark.slow
@pytest.mark.parametrize(
    "page", [p for p in PAGES if any(filter(_ours, (c for b in doc_blocks(p) for c in b.commands)))]
)
def test_the_pages_commands_run_as_written(
    page: str, tmp_path: Path, wheel: Path, profile_server: str
) -> None:
    scratch = tmp_path / "reader"
    scratch.mkdir()
    template = template_snapshot(tmp_path / "template")
    env = _reader_env(tmp_path, wheel, _published(template, tmp_path))
    reader = Reader(scratch, env, {"template": str(template), "profiles": profile_server})
    for block in doc_blocks(page):
        reader.run_block(block)
