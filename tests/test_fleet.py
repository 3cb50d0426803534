"""`mlops-ladder fleet` over repositories a platform group looks after: ten rendered with
one organisation profile at different levels and template releases, some edited, one read
through its git URL, beside a repository this template did not make, one that is gone and
one whose template has moved away.
Every cell of the report is checked against what the test did to each repository."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from generated import ORG_PROFILE as PROFILE
from generated import run, template_snapshot
from typer.testing import CliRunner

from mlops_ladder.cli import app
from mlops_ladder.render import copier_copy
from mlops_ladder.upgrade import profile_answers

runner = CliRunner()
GIT = ["git", "-c", "user.name=tests", "-c", "user.email=tests@localhost"]
# (level, release it is rendered from) for the ten repositories.
FLEET = [
    *[(level, "v0.1.0") for level in (0, 1, 2, 3, 4)],
    *[(level, "v0.2.0") for level in (0, 1, 2, 1, 0)],
]
# The team's own note at the end of the README (a template-managed file).
NOTE = "\n## Our team's notes\n\nOn call: the seabird desk.\n"


class _Rows(HTMLParser):
    """The report page's table body, cell texts per row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag == "td":
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._in_body and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data


@pytest.mark.slow
def test_the_fleet_report_has_every_repositorys_level_release_update_and_edits(
    tmp_path: Path,
) -> None:
    template = template_snapshot(tmp_path / "template")
    profile = tmp_path / "acme.yml"
    profile.write_text(PROFILE, encoding="utf-8")
    run(template, *GIT, "tag", "v0.1.0")
    repos: list[Path] = []
    for index, (level, release) in enumerate(FLEET):
        if release == "v0.2.0" and not (template / "RELEASE").exists():
            (template / "RELEASE").write_text("0.2.0\n", encoding="utf-8")
            run(template, *GIT, "add", "RELEASE")
            run(template, *GIT, "commit", "--quiet", "-m", "Release 0.2.0")
            run(template, *GIT, "tag", "v0.2.0")
        chosen = {"maturity_level": level, "project_name": f"Model {index}"}
        data = {**profile_answers(str(profile), chosen), "initialize_git": True}
        repos.append(copier_copy(tmp_path / f"repo{index}", data, template=str(template)))

    # The teams' edits: a note in one README, a deleted pipeline (which costs level 2),
    # a file of their own (not the template's: not reported), all committed.
    (repos[1] / "README.md").write_text(
        (repos[1] / "README.md").read_text(encoding="utf-8") + NOTE, encoding="utf-8"
    )
    (repos[7] / "dvc.yaml").unlink()
    (repos[6] / "ours.py").write_text("TEAM = 'seabirds'\n", encoding="utf-8")
    for repo in (repos[1], repos[7], repos[6]):
        run(repo, *GIT, "add", "--all")
        run(repo, *GIT, "commit", "--quiet", "-m", "Our change")
    # A team tries to leave the platform's CI: refused, nothing changed.
    refused = runner.invoke(app, ["climb", str(repos[0]), "--data", "ci_provider=github"])
    assert refused.exit_code == 2
    assert "locked to 'gitlab' by the organisation profile 'acme-platform'" in refused.stderr
    assert run(repos[0], "git", "status", "--porcelain").stdout == ""

    # A repository whose template has moved: its recorded source is gone.
    moved = tmp_path / "moved"
    shutil.copytree(repos[2], moved)
    answers_file = moved / ".copier-answers.yml"
    recorded = answers_file.read_text(encoding="utf-8")
    gone_template = tmp_path / "template-moved-away"
    answers_file.write_text(
        recorded.replace(f"_src_path: {template}", f"_src_path: {gone_template}"),
        encoding="utf-8",
    )
    assert answers_file.read_text(encoding="utf-8") != recorded
    run(moved, *GIT, "commit", "--quiet", "--all", "-m", "The template moved")

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "README.md").write_text("# A notebook dump\n", encoding="utf-8")
    names = [str(repo) for repo in repos]
    names[4] = f"file://{repos[4]}"  # read through its git URL, as CI would clone it
    listing = tmp_path / "fleet.txt"
    listing.write_text(
        "# the platform's repositories\n" + "\n".join(names[1:]) + "\n", encoding="utf-8"
    )
    arguments = [names[0], str(foreign), str(tmp_path / "gone"), str(moved), "--list", str(listing)]

    result = runner.invoke(app, ["fleet", *arguments, "--format", "json"])
    assert result.exit_code == 1, result.output  # one repository could not be assessed
    report = {row["repository"]: row for row in json.loads(result.stdout)}
    assert list(report) == [names[0], str(foreign), str(tmp_path / "gone"), str(moved), *names[1:]]

    for index, (level, release) in enumerate(FLEET):
        row = report[names[index]]
        expected_level = 1 if index == 7 else level  # its pipeline is gone
        assert row["error"] == "", row
        assert (row["level"], row["template_version"]) == (expected_level, release), row
        assert row["update"] == ("0.1.0 -> 0.2.0" if release == "v0.1.0" else "up to date")
        assert row["edited"] == (["README.md"] if index == 1 else []), row
        assert row["deleted"] == (["dvc.yaml"] if index == 7 else []), row
        if expected_level == 4:
            assert row["todo"] == []
        else:
            # What the next level needs: its failing checks, by id, none of another level.
            assert row["todo"], row
            assert all(check.startswith(f"ML{expected_level + 1}") for check in row["todo"])
    assert report[str(foreign)]["update"] == "not made from this template"
    assert report[str(foreign)]["level"] == 0
    assert report[str(tmp_path / "gone")]["error"] == f"{tmp_path / 'gone'} does not exist."
    # The moved template's repository: level, release and to-do stand; edits and update
    # say why they are not known.
    row = report[str(moved)]
    assert (row["error"], row["level"], row["template_version"]) == ("", 2, "v0.1.0"), row
    assert row["todo"] == report[names[2]]["todo"]
    assert row["update"].startswith("unknown:"), row
    assert str(gone_template) in row["edits_unknown"], row
    assert (row["edited"], row["deleted"]) == ([], []), row

    page = runner.invoke(app, ["fleet", *arguments, "--format", "html"])
    parser = _Rows()
    parser.feed(page.stdout)
    cells = [[cell.strip() for cell in row] for row in parser.rows]
    assert [row[0] for row in cells] == list(report), page.stdout
    todo = ", ".join(report[names[0]]["todo"])
    assert cells[0][1:] == ["0 No MLOps", "v0.1.0", "0.1.0 -> 0.2.0", "none", todo]
    assert cells[2][1] == f"{tmp_path / 'gone'} does not exist."
    assert cells[3][4].startswith(f"unknown: {report[str(moved)]['edits_unknown'][:20]}")
    assert cells[4][4] == "README.md"  # repo1, first of the list after the four named
    assert "updates waiting: <strong>5</strong>" in page.stdout
