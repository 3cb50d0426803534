"""The documentation site builds strictly, and its generated parts follow the template."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from mlops_ladder.render import answer_rules

ROOT = Path(__file__).resolve().parents[1]


def _gen_pages() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_pages", ROOT / "docs" / "gen_pages.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _text(html: Path) -> str:
    return re.sub(r"<[^>]+>", "", html.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).with_name("mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    result = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(built)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return built


def test_each_built_level_page_shows_its_render(site: Path) -> None:
    pages = {
        level: _text(site / "levels" / f"level-{level}" / "index.html")
        for level in range(answer_rules().HIGHEST_BUILT_LEVEL + 1)
    }
    assert "── train.py" in pages[0]
    assert "── serving" not in pages[0]
    assert "── app.py" in pages[1]
    assert "── ci.yml" in pages[1]
    assert "── dvc.yaml" not in pages[1]
    assert "── dvc.yaml" in pages[2]
    assert "stages:" in pages[2]  # dvc.yaml, shown whole
    assert "── gate.py" in pages[3]
    assert "── routing.py" in pages[3]
    assert "max_slice_drop" in pages[3]  # conf/gate/default.yaml
    assert "environment: production" in pages[3]  # deploy.yml's approval


def test_the_option_page_lists_every_question(site: Path) -> None:
    page = _text(site / "options" / "index.html")
    for question in ("project_name", "maturity_level", "ci_provider", "tracking", "compute"):
        assert question in page
    assert "cookiecutter" not in re.findall(r"^\s*(\w+)\s*$", page, re.MULTILINE)


def test_the_benchmark_page_is_the_results_table(site: Path) -> None:
    assert "Parallel sweep trials" in _text(site / "benchmarks" / "index.html")


def test_a_key_file_the_template_no_longer_renders_fails_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen_pages = _gen_pages()
    root = gen_pages.render(0, tmp_path / "penguin-model")
    monkeypatch.setitem(gen_pages.KEY_FILES, 0, ("src/{package}/renamed.py",))
    with pytest.raises(FileNotFoundError, match=r"src/penguin_model/renamed\.py.*KEY_FILES"):
        gen_pages.key_files(root, 0)
