"""Shared fixtures of the generator's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _offline_python() -> None:
    # Rendered projects use the machine's interpreters; a managed-Python download fails
    # offline and would hide a default that pins a Python the machine lacks.
    os.environ["UV_PYTHON_DOWNLOADS"] = "never"


def _own_uv_config() -> bool:
    """Whether the caller configures uv already: UV_CONFIG_FILE, or a user or system
    uv.toml (a mirror, say), which UV_CONFIG_FILE would replace."""
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    system = [Path(d) for d in os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":") if d]
    candidates = [config_home / "uv" / "uv.toml", *(d / "uv" / "uv.toml" for d in system)]
    candidates.append(Path("/etc/uv/uv.toml"))
    return "UV_CONFIG_FILE" in os.environ or any(path.is_file() for path in candidates)


@pytest.fixture(autouse=True, scope="session")
def _index_pages_cached() -> None:
    # See tests/uv.toml. A caller's own configuration wins: the tests are then slower, not
    # pointed at an index the caller does not use.
    if not _own_uv_config():
        os.environ["UV_CONFIG_FILE"] = str(Path(__file__).with_name("uv.toml"))


@pytest.fixture(autouse=True, scope="session")
def _one_mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Every render type-checks the same stubs (pandas-stubs and numpy are most of a cold
    # run: 36 s against 5 s with a warm cache, a level-4 render here). mypy checks each
    # cached module against its source's hash, so a cache that renders on the same Python
    # share is as strict as a cold one (test_checks_fail plants a type error). One folder
    # per session, which xdist's workers share: each worker's basetemp is in the
    # session's. Generated CI's jobs start without it (tests/generated.py's runner_env).
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if "PYTEST_XDIST_WORKER" in os.environ else base
    os.environ["MYPY_CACHE_DIR"] = str(shared / "mypy-cache")


@pytest.fixture(autouse=True, scope="session")
def _own_copier_mirrors(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Copier caches each remote template as a git mirror keyed by its URL, and refreshes
    # it (tags pruned) from wherever git's insteadOf sends the URL. Tests send the same
    # URL (the package's Source) to repositories of their own: sharing the user's cache,
    # a test on the other worker moved a tag under a render, which then recorded a bare
    # commit instead of its release. Session fixtures get a cache per worker, tests one
    # each (below), as on a fresh machine.
    os.environ["COPIER_CACHE_DIR"] = str(tmp_path_factory.mktemp("copier-mirrors"))


@pytest.fixture(autouse=True)
def _copier_mirrors_per_test(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPIER_CACHE_DIR", str(tmp_path_factory.mktemp("copier-mirrors")))


# The slow tests' modules, longest tests first (figures from `./dev test`'s --durations,
# a fresh clone of 010d0a3).
# With `./dev test`'s --maxschedchunk 1, xdist hands each worker one or two tests at a
# time, so the longest start first, on both workers, and the short tests fill the last
# minutes. xdist's default hands out chunks of a quarter of a worker's share: the renders,
# in one chunk, ran one after another on one worker while the other idled (38.6 min for
# the suite, its last 22 on one worker).
# An entry is a module or a test's node id. Each test's S3 server has ports of its own,
# so the three scenarios, the longest tests, go first.
LONGEST_FIRST = (
    "test_scenario.py::test_first_weeks_of_a_level_4_repository[gitlab]",  # 1060 s
    "test_scenario.py::test_first_weeks_of_a_level_4_repository[github]",  # 810 s
    "test_scenario.py",  # Azure's, on the emulation: 1000 s
    "test_level4.py",  # 275-330 s each
    "test_level3.py",  # 180-320 s
    "test_level2.py",  # 205-360 s
    "test_upgrade.py",  # the climb to level 4: 350 s
    "test_cli.py",  # the demo: 215 s
    "test_images.py",  # 55-230 s: image builds and container runs
    "test_doc_commands.py",  # getting-started's session: 110 s
    "test_level1.py",  # 40-170 s: GitHub and GitLab on real runners
    "test_object_storage.py",  # 60 s
    "test_renovate.py",  # Renovate from npm, once: 130 s, then 30 s
    "test_generated_suite.py",
    "test_real_checks_fail.py",
    "test_checks_fail.py",
)


@pytest.fixture(scope="session")
def template_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """This checkout, committed, as a git URL: it stands in for the template's public URL.

    Copier records it as the project's template source, and generated CI installs
    mlops-ladder from it at the rendered commit, as a real runner would from the public one
    (a render from a plain folder pins the package index's release instead).
    """
    from generated import template_snapshot

    snapshot = template_snapshot(tmp_path_factory.mktemp("template") / "template")
    return f"git+file://{snapshot}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("slow") is None:
            return len(LONGEST_FIRST) + 1
        found = (
            index
            for index, entry in enumerate(LONGEST_FIRST)
            if item.nodeid.endswith(entry) or item.path.name == entry
        )
        return next(found, len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the order within a rank is the collection's


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What ran on a real engine (images built and run, CI jobs on real runners): the
    tests write it to the file ./dev test names, from every xdist worker."""
    path = os.environ.get("MLOPS_LADDER_ENGINE_REPORT", "")
    lines = Path(path).read_text(encoding="utf-8").splitlines() if Path(path).is_file() else []
    if lines:
        terminalreporter.section("ran on real engines")
        for line in sorted(lines):
            terminalreporter.write_line(line)
