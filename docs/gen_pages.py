"""Pages of the documentation site that come from the template itself (mkdocs-gen-files).

At build time: each built level is rendered with the default answers (GitHub CI from level
1), and its page gets the file tree of that render and the text of its key files; the
option reference is read from copier.yml; the benchmark page is benchmarks/RESULTS.md. A
key file the template no longer renders fails the build, so the pages follow the template.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml

from mlops_ladder.render import answer_rules, copier_copy, template_root

# Per level: the files its page shows whole ({package} is the package folder's name).
KEY_FILES: dict[int, tuple[str, ...]] = {
    0: ("src/{package}/train.py", "Makefile"),
    1: (".github/workflows/ci.yml", "Dockerfile", "src/{package}/serving/app.py"),
    2: ("dvc.yaml", "conf/config.yaml", "conf/model/random_forest.yaml"),
    3: (
        "conf/gate/default.yaml",
        ".github/workflows/deploy.yml",
        "deploy/kubernetes/base/deployment.yaml",
        "deploy/kubernetes/overlays/production/kustomization.yaml",
    ),
    4: (
        "conf/monitor/default.yaml",
        "conf/retrain/default.yaml",
        ".github/workflows/monitor.yml",
        ".github/workflows/retrain.yml",
    ),
}
LANGUAGES = {".py": "python", ".yml": "yaml", ".yaml": "yaml", ".toml": "toml"}
# Not part of a project a user reads: the answers record and empty-folder keepers.
HIDDEN = {".copier-answers.yml"}


def render(level: int, destination: Path) -> Path:
    data: dict[str, Any] = {"maturity_level": level, "initialize_git": False}
    if level >= 1:
        data["ci_provider"] = "github"
    return copier_copy(destination, data)


def tree(root: Path) -> str:
    """The render's files as an indented tree, folders first."""
    lines = [f"{root.name}/"]

    def walk(folder: Path, prefix: str) -> None:
        entries = sorted(
            (p for p in folder.iterdir() if p.name not in HIDDEN),
            key=lambda p: (p.is_file(), p.name),
        )
        for index, entry in enumerate(entries):
            last = index == len(entries) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{entry.name}")
            if entry.is_dir():
                walk(entry, prefix + ("    " if last else "│   "))

    walk(root, "")
    return "\n".join(lines)


def key_files(root: Path, level: int) -> str:
    package = next(p.name for p in (root / "src").iterdir() if p.is_dir())
    sections = []
    for pattern in KEY_FILES[level]:
        relative = pattern.format(package=package)
        path = root / relative
        if not path.is_file():
            raise FileNotFoundError(
                f"docs/gen_pages.py shows {relative} on the level-{level} page, but the "
                "template no longer renders it: update KEY_FILES and the page's text."
            )
        fence = LANGUAGES.get(path.suffix, "text")
        text = path.read_text(encoding="utf-8").rstrip("\n")
        sections.append(f"### `{relative}`\n\n```{fence}\n{text}\n```\n")
    return "\n".join(sections)


def level_section(level: int, scratch: Path) -> str:
    root = render(level, scratch / f"level-{level}" / "penguin-model")
    return (
        "\n## The files, from a real render\n\n"
        "The default answers (classification on the penguins sample"
        f"{', GitHub Actions' if level >= 1 else ''}), rendered when this site was built:\n\n"
        f"```text\n{tree(root)}\n```\n\n## Key files\n\n{key_files(root, level)}"
    )


def option_reference() -> str:
    """Every question of copier.yml: help, default, and when it is asked."""
    config = yaml.safe_load((template_root() / "copier.yml").read_text(encoding="utf-8"))
    rows = []
    for name, spec in config.items():
        if name.startswith("_") or not isinstance(spec, dict) or spec.get("when") is False:
            continue
        choices = spec.get("choices")
        if isinstance(choices, dict):
            choices = list(choices.values())
        default = spec.get("default", "")
        rows.append(
            "| `{}` | {} | {} | {} | {} |".format(
                name,
                str(spec.get("help", "")).replace("|", "\\|"),
                ", ".join(f"`{c}`" for c in choices) if choices else spec.get("type", "str"),
                f"`{default}`" if default != "" else "",
                _when(spec.get("when")),
            )
        )
    header = (
        "# Options\n\nEvery question the template asks, read from `copier.yml` when this "
        "site was built. Give answers with `mlops-ladder new --data KEY=VALUE` (or Copier's "
        "`--data`, Cookiecutter's `key=value`); `{{ ... }}` defaults are derived from "
        "earlier answers.\n\n"
        "| question | help | choices | default | asked |\n|---|---|---|---|---|\n"
    )
    return header + "\n".join(rows) + "\n"


def _when(condition: object) -> str:
    if condition is None:
        return "always"
    return f"when `{str(condition).strip('{} ')}`"


def main() -> None:
    import mkdocs_gen_files

    built = answer_rules().HIGHEST_BUILT_LEVEL
    with tempfile.TemporaryDirectory(prefix="mlops-ladder-docs-") as scratch:
        for level in range(built + 1):
            with mkdocs_gen_files.open(f"levels/level-{level}.md", "a") as page:
                page.write(level_section(level, Path(scratch)))
    with mkdocs_gen_files.open("options.md", "w") as page:
        page.write(option_reference())
    results = template_root() / "benchmarks" / "RESULTS.md"
    with mkdocs_gen_files.open("benchmarks.md", "w") as page:
        page.write(results.read_text(encoding="utf-8"))


if __name__ in {"__main__", "<run_path>"}:
    main()
