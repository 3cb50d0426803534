"""Every combination renders the exact tree of its level, free of Jinja, alike in both engines."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from generated import assert_no_leftover_jinja, assert_same_tree, project_files
from levels import expected_files
from matrix import PREVIEW_LEVEL, PREVIEW_RENDERS, RENDERS, answers

from mlops_ladder.render import answer_rules, cookiecutter_copy, copier_copy

ALL_RENDERS = RENDERS + PREVIEW_RENDERS


@pytest.fixture(
    scope="module",
    params=ALL_RENDERS,
    ids=[f"level{level}-{name}" for name, level in ALL_RENDERS],
)
def renders(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    name, level = request.param
    data = answers(name, level)
    base = tmp_path_factory.mktemp(f"level{level}-{name}")
    with pytest.MonkeyPatch.context() as patch:
        if level == PREVIEW_LEVEL:
            patch.setenv(answer_rules().PREVIEW_VARIABLE, str(level))
        copied = copier_copy(base / "copier", data)
        cooked = cookiecutter_copy(base / "cookiecutter", data)
    return data, copied, cooked


def _package(project: Path) -> str:
    (package,) = [p.name for p in (project / "src").iterdir() if p.is_dir()]
    return package


def test_tree_is_exactly_the_level_files(renders) -> None:
    data, copied, _ = renders
    actual = set(project_files(copied))
    expected = expected_files(
        data["maturity_level"],
        _package(copied),
        data.get("ci_provider", "none"),
        data.get("dataset", "sample"),
        data.get("compute", "local"),
        data.get("deploy_target", "kubernetes"),
    )
    assert actual == expected, (
        f"missing: {sorted(map(str, expected - actual))}; "
        "unexpected (a higher level's file or an unlisted one): "
        f"{sorted(map(str, actual - expected))}"
    )


def test_python_passes_ruff(renders) -> None:
    """CI's lint job on every combination, in the fast tier: a long project name must not
    push a generated line past the limit (the slow tests run each level's suite once)."""
    _, copied, _ = renders
    ruff = str(Path(sys.executable).parent / "ruff")
    for command in (["check", "."], ["format", "--check", "."]):
        checked = subprocess.run(
            [ruff, *command, "--no-cache"], cwd=copied, capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr


def _import_time_imports(module: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports a module runs when it is imported: at its top level, in a ``try`` or an
    ``if`` there, but not under ``if TYPE_CHECKING`` nor inside a function."""
    pending: list[ast.stmt] = list(module.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, ast.Import | ast.ImportFrom):
            yield statement
        elif isinstance(statement, ast.If):
            if not (isinstance(statement.test, ast.Name) and statement.test.id == "TYPE_CHECKING"):
                pending += statement.body + statement.orelse
        elif isinstance(statement, ast.Try):
            pending += statement.body + statement.orelse + statement.finalbody
            pending += [line for handler in statement.handlers for line in handler.body]


def _import_graph(project: Path) -> dict[str, set[str]]:
    """The package's modules, each with the package's modules it imports when imported."""
    source = project / "src"
    modules = {
        ".".join(path.relative_to(source).with_suffix("").parts).removesuffix(".__init__"): path
        for path in source.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = set()
        for node in _import_time_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                graph[name] |= {alias.name for alias in node.names} & modules.keys()
            elif node.module and node.level == 0:
                # `from a.b import c` imports a.b, and a.b.c when c is a module.
                named = {f"{node.module}.{alias.name}" for alias in node.names}
                graph[name] |= ({node.module} | named) & modules.keys()
    return graph


def test_the_package_has_no_import_cycle(renders) -> None:
    """Serving, training, the pipeline and monitoring import each other one way only, so
    importing any module works whatever was imported before it."""
    _, copied, _ = renders
    graph = _import_graph(copied)
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    # The check sees the package: the service's app imports its models and routes.
    assert any(module.endswith(".cli") for module in graph)


def test_no_leftover_jinja(renders) -> None:
    _, copied, cooked = renders
    assert_no_leftover_jinja(copied)
    assert_no_leftover_jinja(cooked)


def test_cookiecutter_renders_the_same_tree(renders) -> None:
    _, copied, cooked = renders
    recorded = yaml.safe_load((copied / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert cooked.name == recorded["project_slug"]
    assert_same_tree(copied, cooked, ignore=(".copier-answers.yml",))


def test_answers_file_records_the_answers(renders) -> None:
    data, copied, _ = renders
    recorded = yaml.safe_load((copied / ".copier-answers.yml").read_text(encoding="utf-8"))
    for key, value in data.items():
        if key in {"csv_path", "target_column"} and data.get("dataset") != "csv":
            continue
        assert recorded[key] == value, key
    assert "cookiecutter" not in recorded, "the computed mapping must not be stored"


def test_free_text_answers_survive_every_file_format(renders) -> None:
    import json

    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")
    data, copied, _ = renders
    pyproject = tomllib.loads((copied / "pyproject.toml").read_text(encoding="utf-8"))
    if "description" in data:
        assert pyproject["project"]["description"] == data["description"]
    if "author_name" in data:
        assert pyproject["project"]["authors"][0]["name"] == data["author_name"]
    json.loads((copied / "notebooks" / "01-explore.ipynb").read_text(encoding="utf-8"))
    for source in (copied / "src").rglob("*.py"):
        compile(source.read_text(encoding="utf-8"), str(source), "exec")
    for config in [*copied.glob("*.yml"), *copied.glob("*.yaml"), *copied.glob(".github/*/*.yml")]:
        assert isinstance(yaml.safe_load(config.read_text(encoding="utf-8")), dict), config
