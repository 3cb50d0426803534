"""The mlops-ladder command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlops_ladder.cli import app
from mlops_ladder.render import answer_rules, template_root

runner = CliRunner()
UNBUILT = answer_rules().HIGHEST_BUILT_LEVEL + 1


def test_new_renders_with_defaults_and_answers(tmp_path: Path) -> None:
    destination = tmp_path / "fraud"
    result = runner.invoke(
        app,
        [
            *("new", str(destination), "--defaults", "--level", "0"),
            *("--data", "project_name=Fraud Scores", "--data", "initialize_git=false"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (destination / "src" / "fraud_scores" / "train.py").is_file()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--data", "project_name"], "is not KEY=VALUE"),
        (["--data", "author_email=nobody"], "is not an e-mail address"),
        (["--level", "5"], "Invalid choice for 'maturity_level'"),
        # A level this version does not build yet, while there is one.
        *([(["--level", str(UNBUILT)], "is not built in this version")] if UNBUILT <= 4 else []),
    ],
)
def test_new_refuses_bad_input_and_writes_nothing(
    arguments: list[str], message: str, tmp_path: Path
) -> None:
    destination = tmp_path / "out"
    result = runner.invoke(app, ["new", str(destination), "--defaults", *arguments])
    assert result.exit_code == 2
    assert message in result.output
    assert not destination.exists()


def test_new_without_a_terminal_asks_for_its_answers_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """A script or a CI job has no terminal for the questions: one sentence, no traceback."""
    destination = tmp_path / "out"
    result = runner.invoke(app, ["new", str(destination), "--level", "1"])
    assert result.exit_code == 2, result.output
    assert "no terminal to ask them on: add --defaults" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not destination.exists()


def test_new_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["new", str(tmp_path), "--defaults"])
    assert result.exit_code == 2
    assert "is not empty" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_demo_refuses_an_existing_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", str(tmp_path)])
    assert result.exit_code == 2
    assert "already exists" in result.output


@pytest.mark.slow
@pytest.mark.parametrize("command", ["demo", "new"])
def test_a_project_inside_the_template_checkout_is_refused(command: str) -> None:
    # A git repository there would break every later render from the checkout (Copier
    # clones it, uncommitted files included).
    inside = template_root() / "demo-project"
    result = runner.invoke(
        app, [command, str(inside), *(["--defaults"] if command == "new" else [])]
    )
    assert result.exit_code == 2, result.output
    assert "inside the template's checkout" in result.output
    assert not inside.exists()


# Slow: it installs a level-4 project and runs its whole loop (minutes, not seconds).
@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    """The README's demo command: render, install, test, train, score, serve one /predict;
    at level 4 the loop too: drifted traffic logged, the drift found, retraining run."""
    result = runner.invoke(app, ["demo", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output
    assert "10 rows scored" in result.output
    predictions = tmp_path / "demo" / "data" / "processed" / "predictions.csv"
    assert len(predictions.read_text().splitlines()) == 11
    assert "Release gate passed" in result.output
    assert "island=" in result.output  # the gate's slices
    assert (tmp_path / "demo" / "reports" / "model_card.md").is_file()
    assert "POST /predict" in result.output
    assert '"model_version"' in result.output
    text = " ".join(result.output.split())  # as read, whatever the console's width
    assert "500 requests answered" in text
    # The 500, the one /predict and the 10 rows `score` logged: nothing else, nothing lost.
    assert "DRIFT in 511 logged predictions" in text
    assert "Drifted: bill_length_mm: PSI" in text and "Drifted: island: PSI" in text
    assert "Trigger: Retrain: drift in " in text and "accuracy fell from" in text
    assert text.count("Release gate passed") == 2  # trained, then retrained
    assert "500 new labelled rows kept in data/feedback/" in text
    # The demo fails unless the retrained model beats the champion on fresh drifted rows.
    assert re.search(r"accuracy: champion 0\.\d+, retrained 0\.\d+", text), text[-2000:]
