"""``mlops-ladder``: create ML repositories at a chosen MLOps maturity level."""

from __future__ import annotations

import csv
import enum
from pathlib import Path
from typing import Annotated

import typer
from copier.errors import InteractiveSessionError, UserMessageError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlops_ladder.demo import run_demo
from mlops_ladder.fleet import RepoReport, survey
from mlops_ladder.fleet import as_html as fleet_html
from mlops_ladder.fleet import as_json as fleet_json
from mlops_ladder.render import answer_rules, copier_copy, template_root
from mlops_ladder.review import LEVELS, level_of
from mlops_ladder.review.assess import (
    HIGHEST,
    AssessError,
    Assessment,
    as_json,
    as_markdown,
    assess,
    todo_lines,
)
from mlops_ladder.upgrade import (
    Outcome,
    UpgradeError,
    files_added,
    latest_release,
    locked_answers,
    profile_answers,
    read_answers,
    recorded_version,
    require_clean_tree,
    run_update,
    target_level,
)

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
console = Console()
# Soft wrap: an error sentence stays on one line, whole, for people and for grep.
errors = Console(stderr=True, soft_wrap=True)


def _parse_data(pairs: list[str]) -> dict[str, str]:
    parsed = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--data")
        parsed[key.strip()] = value
    return parsed


@app.command()
def new(
    destination: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    level: Annotated[
        int | None, typer.Option("--level", "-l", help="MLOps maturity level (0-4).")
    ] = None,
    data: Annotated[
        list[str] | None, typer.Option("--data", "-d", help="An answer, as KEY=VALUE; repeatable.")
    ] = None,
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Take the default for every unanswered question.")
    ] = False,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            envvar="MLOPS_LADDER_PROFILE",
            help="An organisation profile (a YAML file's path or URL): its answers, some locked.",
        ),
    ] = None,
) -> None:
    """Create a project (Copier copy, with the template's generation steps trusted)."""
    answers: dict[str, object] = dict(_parse_data(data or []))
    if level is not None:
        answers["maturity_level"] = level
    if destination.exists() and any(destination.iterdir()):
        errors.print(f"[red]Error:[/] {destination} exists and is not empty.")
        raise typer.Exit(2)
    _refuse_inside_template(destination)
    if profile:
        try:
            answers = profile_answers(profile, answers)
        except (UpgradeError, ValueError) as error:
            raise _refuse(error) from error
    try:
        # From a clone, the clone as it is (not Copier's default, its latest release tag);
        # installed, the wheel's release.
        copier_copy(destination, answers, vcs_ref="HEAD", quiet=False, defaults=defaults)
    except InteractiveSessionError as error:  # a question to ask, and no terminal
        errors.print(
            "[red]Error:[/] the template has questions to ask and there is no terminal to"
            " ask them on: add --defaults (each unanswered question takes its default)"
            " and answer the ones you choose with --data KEY=VALUE."
        )
        raise typer.Exit(2) from error
    except ValueError as error:  # Copier reports a refused answer as ValueError.
        errors.print(f"[red]Error:[/] {error}")
        raise typer.Exit(2) from error
    console.print(f"[green]Created[/] {destination}. Next: cd {destination} && make install test")


def _show_predictions(path: Path) -> None:
    """The scored rows: the known answer beside the prediction (and its confidence)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    probabilities = [column for column in rows[0] if column.startswith("probability_")]
    known = "species" if probabilities else "body_mass_g"
    table = Table(title=f"{path.name}: {len(rows)} rows scored")
    for column in ("island", known, "prediction"):
        table.add_column(column)
    if probabilities:
        table.add_column("confidence", justify="right")
    for row in rows:
        cells = [row["island"], row[known], _rounded(row["prediction"])]
        if probabilities:
            cells.append(f"{max(float(row[column]) for column in probabilities):.3f}")
        table.add_row(*cells)
    console.print(table)


def _rounded(value: str) -> str:
    try:
        return f"{float(value):.0f}"
    except ValueError:
        return value


@app.command()
def demo(
    destination: Annotated[
        Path, typer.Argument(help="Folder for the demo project (must not exist).")
    ] = Path("demo-project"),
) -> None:
    """Render a project at the highest level built and run it end to end."""
    if destination.exists():
        errors.print(f"[red]Error:[/] {destination} already exists; name a new folder.")
        raise typer.Exit(2)
    _refuse_inside_template(destination)
    level = answer_rules().HIGHEST_BUILT_LEVEL
    console.rule(f"mlops-ladder demo: level {level}")
    try:
        run_demo(
            destination.resolve(),
            report=lambda step: console.print(f"[bold cyan]>[/] {step}"),
            show=_show_predictions,
        )
    except RuntimeError as error:
        errors.print(f"[red]Demo failed:[/] {error}")
        raise typer.Exit(1) from error
    console.print(f"[green]Done.[/] The project is in {destination}.")


def _refuse_inside_template(destination: Path) -> None:
    """A project inside the template's checkout is a git repository inside the repository
    Copier clones for every later render (uncommitted files included), which then fails."""
    root = template_root().resolve()
    inside = destination.resolve()
    if inside == root or root in inside.parents:
        errors.print(
            f"[red]Error:[/] {destination} is inside the template's checkout ({root}); "
            "a project there breaks every later render from it. Name a folder outside it."
        )
        raise typer.Exit(2)


def _refuse(error: Exception) -> typer.Exit:
    """A refused request: its reason, exit 2 (nothing was changed)."""
    errors.print(f"[red]Error:[/] {error}")
    return typer.Exit(2)


class Format(str, enum.Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


def _print_table(assessment: Assessment) -> None:
    level = assessment.level
    table = Table(title=f"{assessment.path}: level {level} ({LEVELS[level]})")
    for column in ("level", "check", "", "result"):
        table.add_column(column)
    marks = {True: "[green]pass[/]", False: "[red]fail[/]", None: "[yellow]skipped[/]"}
    for result in assessment.results:
        table.add_row(
            str(level_of(result.family)), result.name, result.description, marks[result.result]
        )
    console.print(table)
    for line in todo_lines(assessment):
        console.print(line, markup=False)


@app.command(name="assess")
def assess_command(
    path: Annotated[Path, typer.Argument(help="The repository's folder.")] = Path(),
    output: Annotated[Format, typer.Option("--format", help="How to print it.")] = Format.table,
    min_level: Annotated[
        int | None,
        typer.Option(
            "--min-level",
            min=0,
            max=HIGHEST,
            help="Exit 1 when the repository is below this level (a CI gate).",
        ),
    ] = None,
) -> None:
    """Which MLOps maturity level a repository has reached, and what the next one needs."""
    try:
        assessment = assess(path)
    except AssessError as error:
        raise _refuse(error) from error
    if output is Format.json:
        print(as_json(assessment))
    elif output is Format.markdown:
        print(as_markdown(assessment), end="")
    else:
        _print_table(assessment)
    if min_level is not None and assessment.level < min_level:
        errors.print(
            f"[red]Error:[/] {path} is at level {assessment.level}, below the required"
            f" {min_level}; the checks to fix are listed above."
        )
        raise typer.Exit(1)


class FleetFormat(str, enum.Enum):
    table = "table"
    json = "json"
    html = "html"


@app.command()
def fleet(
    repositories: Annotated[
        list[str] | None,
        typer.Argument(help="Repositories: folders or git URLs (cloned, depth 1)."),
    ] = None,
    listing: Annotated[
        Path | None,
        typer.Option("--list", help="A file naming one repository per line (# comments)."),
    ] = None,
    output: Annotated[
        FleetFormat, typer.Option("--format", help="How to print it.")
    ] = FleetFormat.table,
) -> None:
    """Where many repositories stand: level, template release, pending update, edited
    template files, and what the next level needs. Exit 1 if one could not be assessed."""
    names = list(repositories or [])
    if listing is not None:
        try:
            lines = listing.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise _refuse(error) from error
        names += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not names:
        raise _refuse(ValueError("Name at least one repository, or a --list file."))
    reports = survey(names)
    if output is FleetFormat.json:
        print(fleet_json(reports))
    elif output is FleetFormat.html:
        print(fleet_html(reports), end="")
    else:
        _print_fleet(reports)
    if any(report.error for report in reports):
        raise typer.Exit(1)


def _print_fleet(reports: list[RepoReport]) -> None:
    table = Table(title=f"{len(reports)} repositories")
    for column in ("repository", "level", "template", "update", "edited", "next level needs"):
        table.add_column(column)
    for r in reports:
        if r.error:
            table.add_row(r.repository, f"[red]{r.error}[/]", "", "", "", "")
            continue
        edits = [*r.edited, *(f"{path} (deleted)" for path in r.deleted)]
        if r.edits_unknown:
            edits = [f"[red]unknown: {escape(r.edits_unknown)}[/]"]
        table.add_row(
            r.repository,
            f"{r.level} {LEVELS[r.level]}" if r.level is not None else "-",
            r.template_version or "-",
            r.update,
            "\n".join(edits) or "none",
            ", ".join(r.todo) or "-",
        )
    console.print(table)


ProjectPath = Annotated[Path, typer.Argument(help="The project's folder.")]
VcsRef = Annotated[
    str | None,
    typer.Option("--vcs-ref", help="Template git ref to update to (default: its latest release)."),
]


def _report(outcome: Outcome) -> None:
    """Changed files, then each conflict with what to do; exit 1 when a person must act."""
    console.print(f"{len(outcome.changed)} files changed; review them with `git diff`.")
    if outcome.conflicts or outcome.rejected:
        errors.print("[red]Conflicts[/] where the template and your edits changed the same lines:")
        for path in outcome.conflicts:
            errors.print(f"  {path}: keep what you need between the <<<<<<< and >>>>>>> markers")
        for path in outcome.rejected:
            errors.print(f"  {path}: apply this rejected hunk by hand to the file, then delete it")
        errors.print("The pre-commit hooks refuse to commit markers or .rej files until then.")
    if outcome.lock_error:
        errors.print("[red]`uv lock` failed[/]; run it once pyproject.toml is fixed:")
        errors.print(outcome.lock_error, markup=False)
    if outcome.conflicts or outcome.rejected or outcome.lock_error:
        raise typer.Exit(1)
    console.print("[green]No conflicts.[/] Run the tests, then commit.")


def _update(project: Path, changes: dict[str, object], vcs_ref: str | None) -> Outcome:
    try:
        return run_update(project, changes, vcs_ref)
    except (UserMessageError, ValueError) as error:
        # Copier refuses (an answer its validator rejects, an unreachable template)
        # before it writes anything.
        raise _refuse(error) from error


@app.command()
def climb(
    project: ProjectPath = Path(),
    to: Annotated[
        int | None, typer.Option("--to", help="The level to reach (default: one up).")
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", help="An answer to a new question, as KEY=VALUE."),
    ] = None,
    vcs_ref: VcsRef = None,
) -> None:
    """Move a project up one MLOps level (or to --to), keeping its own edits."""
    try:
        answers = read_answers(project)
        require_clean_tree(project)
        target = target_level(int(answers["maturity_level"]), to)
        chosen = _parse_data(data or [])
        changes = {**locked_answers(answers, chosen), **chosen, "maturity_level": target}
        added = files_added(answers, changes, vcs_ref)
    except (UpgradeError, UserMessageError, ValueError) as error:
        raise _refuse(error) from error
    console.print(f"Level {answers['maturity_level']} -> {target} adds {len(added)} files:")
    for path in added:
        console.print(f"  + {path}", markup=False)
    _report(_update(project, changes, vcs_ref))


@app.command()
def update(project: ProjectPath = Path(), vcs_ref: VcsRef = None) -> None:
    """Update a project to the template's latest release, at its level, keeping its edits."""
    try:
        answers = read_answers(project)
        require_clean_tree(project)
        changes = locked_answers(answers, {})
    except (UpgradeError, ValueError) as error:
        raise _refuse(error) from error
    _report(_update(project, changes, vcs_ref))


@app.command(name="check-update")
def check_update(project: ProjectPath = Path()) -> None:
    """Exit 1 when the template has a newer release than the project's (for CI)."""
    try:
        answers = read_answers(project)
        latest = latest_release(str(answers.get("_src_path", "")))
    except UpgradeError as error:
        raise _refuse(error) from error
    current = recorded_version(answers)
    if latest is None:
        console.print("The template has no release tags yet: nothing to compare with.")
        return
    if current is not None and current >= latest:
        console.print(f"Up to date: the project is on {current}, the latest release.")
        return
    console.print(f"Update available: {current or answers.get('_commit')} -> {latest}.")
    console.print("Run `mlops-ladder update` (CHANGELOG.md says what changes).")
    raise typer.Exit(1)
