"""The answer rules themselves (hooks/answers.py), engine-free."""

from __future__ import annotations

import pytest
from generated import ORG_PROFILE as PROFILE

from mlops_ladder.render import answer_rules

answers = answer_rules()


@pytest.mark.parametrize(
    ("name", "slug", "package"),
    [
        ("Penguin Model", "penguin-model", "penguin_model"),
        ("  Fraud  Detector v2 ", "fraud-detector-v2", "fraud_detector_v2"),
        ("3D Scans", "3d-scans", "m3d_scans"),
        ("Élan Vital", "elan-vital", "elan_vital"),
    ],
)
def test_names_are_derived(name: str, slug: str, package: str) -> None:
    assert answers.dist_name(name) == slug
    assert answers.package_name(slug) == package
    assert answers.check_project_slug(slug) is None
    assert answers.check_package_name(package) is None


@pytest.mark.parametrize("name", ["", "   ", "!!!"])
def test_a_name_without_letters_has_no_slug(name: str) -> None:
    with pytest.raises(answers.AnswerError, match="project_name"):
        answers.dist_name(name)


@pytest.mark.parametrize(
    ("package", "reason"),
    [
        ("json", "standard-library"),
        ("class", "keyword"),
        ("match", "keyword"),
        ("2fast", "identifier"),
        ("my-model", "identifier"),
        ("MyModel", "lowercase"),
    ],
)
def test_bad_package_names_are_refused_with_the_reason(package: str, reason: str) -> None:
    message = answers.check_package_name(package)
    assert message is not None
    assert reason in message
    assert repr(package) in message


@pytest.mark.parametrize("slug", ["-lead", "trail-", "has space", "", "a/b"])
def test_bad_slugs_are_refused(slug: str) -> None:
    assert "not a valid distribution name" in (answers.check_project_slug(slug) or "")


@pytest.mark.parametrize("email", ["team@example.com", "a.b+c@sub.example.org"])
def test_good_emails(email: str) -> None:
    assert answers.check_author_email(email) is None


@pytest.mark.parametrize("email", ["", "team", "team@", "team@example", "a b@example.com"])
def test_bad_emails(email: str) -> None:
    assert "is not an e-mail address" in (answers.check_author_email(email) or "")


def test_levels_beyond_the_model_and_unbuilt_levels_are_refused() -> None:
    assert "levels 0-4" in answers.check_maturity_level(5)
    assert "levels 0-4" in answers.check_maturity_level("x")
    for level in range(answers.HIGHEST_BUILT_LEVEL + 1, 5):
        assert "not built" in answers.check_maturity_level(level)
    for level in range(answers.HIGHEST_BUILT_LEVEL + 1):
        assert answers.check_maturity_level(level) is None


def test_csv_answers_are_only_required_for_csv() -> None:
    assert answers.check_target_column("", "sample") is None
    assert "target_column must not be empty" in answers.check_target_column("", "csv")
    assert "must name a .csv file" in answers.check_csv_path("data/raw/x.parquet", "csv")
    assert answers.check_csv_path("data/raw/x.csv", "csv") is None


def test_check_all_lists_every_problem() -> None:
    problems = answers.check_all(
        {
            "project_name": "x",
            "project_slug": "x",
            "package_name": "json",
            "author_email": "nope",
            "maturity_level": "9",
            "dataset": "csv",
            "csv_path": "data/raw/x.csv",
            "target_column": "",
        }
    )
    assert len(problems) == 4
    assert any("package_name" in p for p in problems)
    assert any("author_email" in p for p in problems)
    assert any("maturity_level" in p for p in problems)
    assert any("target_column" in p for p in problems)


def test_target_follows_task_or_csv_answer() -> None:
    assert answers.target({"dataset": "sample", "task": "classification"}) == "species"
    assert answers.target({"dataset": "sample", "task": "regression"}) == "body_mass_g"
    assert answers.target({"dataset": "csv", "task": "regression", "target_column": " y "}) == "y"


def test_at_level_reads_copier_and_cookiecutter_values() -> None:
    assert answers.at_level({"maturity_level": 2}, 1)
    assert answers.at_level({"maturity_level": "2"}, 2)
    assert not answers.at_level({"maturity_level": "0"}, 1)


@pytest.mark.parametrize(
    "image",
    ["ghcr.io/team/penguin-model", "registry.example.com:5000/a/b/c", "x.azurecr.io/model_v2"],
)
def test_good_images(image: str) -> None:
    assert answers.check_container_image(image) is None


@pytest.mark.parametrize(
    "image",
    ["penguin-model", "team/penguin-model", "ghcr.io/Team/model", "ghcr.io/team/model:1.0", ""],
)
def test_bad_images_are_refused(image: str) -> None:
    assert "is not an image name" in (answers.check_container_image(image) or "")


def test_default_image_follows_the_ci_provider() -> None:
    image = answers.default_image
    assert (
        image("github", "O'Brien & Sons", "Penguin-Model") == "ghcr.io/o-brien-sons/penguin-model"
    )
    assert image("gitlab", "Data Team", "p") == "registry.gitlab.com/data-team/p"
    assert image("azure", "Data Team", "p") == "datateam.azurecr.io/p"
    for provider in answers.CI_PROVIDERS:
        assert answers.check_container_image(image(provider, "Data Team", "p.q_r")) is None


def test_ci_needs_level_1_and_the_provider() -> None:
    assert answers.ci({"maturity_level": "1", "ci_provider": "gitlab"}, "gitlab")
    assert not answers.ci({"maturity_level": "1", "ci_provider": "gitlab"}, "github")
    assert not answers.ci({"maturity_level": "0", "ci_provider": "github"}, "github")


def test_the_preview_level_renders_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    preview = answers.PREVIEW_LEVEL
    if preview is None:
        # No level under construction: the variable opens nothing (above level 4 there is
        # nothing to open).
        monkeypatch.setenv(answers.PREVIEW_VARIABLE, str(answers.HIGHEST_BUILT_LEVEL + 1))
        assert answers.check_maturity_level(answers.HIGHEST_BUILT_LEVEL + 1) is not None
        return
    assert preview == answers.HIGHEST_BUILT_LEVEL + 1
    assert "not built" in answers.check_maturity_level(preview)
    monkeypatch.setenv(answers.PREVIEW_VARIABLE, str(preview))
    assert answers.check_maturity_level(preview) is None
    # The level above is refused: unbuilt, or (above level 4) not in the model at all.
    assert answers.check_maturity_level(preview + 1) is not None


@pytest.mark.parametrize(
    ("remote", "url", "extra"),
    [
        ("../dvc-storage/model", "../../dvc-storage/model", ""),
        ("/srv/dvc", "/srv/dvc", ""),
        ("s3://bucket/model", "s3://bucket/model", "s3"),
        ("azure://container/model", "azure://container/model", "azure"),
        ("gs://bucket/model", "gs://bucket/model", "gs"),
    ],
)
def test_dvc_remotes(remote: str, url: str, extra: str) -> None:
    assert answers.check_dvc_remote(remote) is None
    # .dvc/config resolves a relative folder from .dvc/, one level below the project.
    assert answers.dvc_remote_url(remote) == url
    assert answers.dvc_extra(remote) == extra


@pytest.mark.parametrize(
    ("level", "dataset", "remote", "reads"),
    [
        (2, "csv", "s3://bucket/model", True),  # the raw table
        (3, "sample", "s3://bucket/model", False),  # the package's data: nothing to pull
        (4, "sample", "s3://bucket/model", True),  # the labelled rows retraining kept
        (4, "csv", "gs://bucket/model", False),  # not S3: other credentials
        (1, "csv", "s3://bucket/model", False),  # no DVC yet
    ],
)
def test_ci_reads_s3_when_its_checks_pull_from_the_remote(
    level: int, dataset: str, remote: str, reads: bool
) -> None:
    chosen = {"maturity_level": level, "dataset": dataset, "dvc_remote": remote}
    assert answers.ci_reads_s3(chosen) is reads


@pytest.mark.parametrize("remote", ["", "ftp://host/path", "http://example.com/x"])
def test_bad_dvc_remotes_are_refused(remote: str) -> None:
    assert "dvc_remote" in (answers.check_dvc_remote(remote) or "")


def test_artifact_names_fit_dvc() -> None:
    assert answers.artifact_name("Seabird.Mass_Model") == "seabird-mass-model"


def test_template_version_and_level_names_match_the_package() -> None:
    # Generated CI installs mlops-ladder==TEMPLATE_VERSION to run `assess`; its level names
    # are the template's.
    from importlib.metadata import version

    from mlops_ladder.review import LEVELS

    assert version("mlops-ladder") == answers.TEMPLATE_VERSION
    assert answers.LEVEL_NAMES == LEVELS


SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("source", "requirement"),
    [
        ("gh:acme/mlops-ladder", f"git+https://github.com/acme/mlops-ladder@{SHA}"),
        ("gl:acme/ml/ladder", f"git+https://gitlab.com/acme/ml/ladder@{SHA}"),
        ("https://git.acme.test/ladder.git", f"git+https://git.acme.test/ladder.git@{SHA}"),
        ("git+file:///srv/ladder", f"git+file:///srv/ladder@{SHA}"),
        ("git@github.com:acme/ladder.git", f"git+ssh://git@github.com/acme/ladder.git@{SHA}"),
    ],
)
def test_ci_installs_mlops_ladder_from_the_rendered_source(source: str, requirement: str) -> None:
    assert answers.ladder_requirement(source, SHA) == requirement


@pytest.mark.parametrize(
    ("source", "commit"),
    [
        ("/home/me/mlops-ladder", SHA),  # a folder no runner reaches
        ("", ""),  # Cookiecutter records no source
        ("gh:acme/mlops-ladder", "v0.1.0-3-g0123456"),  # not a whole commit
    ],
)
def test_ci_pins_the_index_release_when_no_source_is_reachable(source: str, commit: str) -> None:
    expected = f"mlops-ladder=={answers.TEMPLATE_VERSION}"
    assert answers.ladder_requirement(source, commit) == expected


def _profile(tmp_path, text: str = PROFILE) -> str:
    path = tmp_path / "profile.yml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_profile_is_read_from_a_path_or_a_url(tmp_path) -> None:
    source = _profile(tmp_path)
    for ref in (source, f"file://{source}"):
        profile = answers.load_profile(ref)
        assert profile.name == "acme-platform"
        assert dict(profile.answers) == {"python_version": "3.12"}
        assert dict(profile.locked) == {"ci_provider": "gitlab", "license": "Proprietary"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[gitlab]", "must be a mapping with a 'name'"),
        ("answers: {}", "must be a mapping with a 'name'"),
        ("name: x\nowners: [platform]", r"unknown keys: \['owners'\]"),
        ("name: x\nlocked: [ci_provider]", "locked in the organisation profile .* is not a map"),
        ("name: x\nlocked: {runner: gpu}", "names 'runner', which is not one of the template"),
        ("name: x\nlocked: {org_profile: other.yml}", "names 'org_profile'"),
        ("name: x\nlocked: {ci_provider: jenkins}", r"\(locked\): ci_provider 'jenkins' is not"),
        (
            "name: x\nanswers: {license: MIT}\nlocked: {license: MIT}",
            r"both pre-answers and locks \['license'\]",
        ),
        ("name: x\nlocked: {ci_provider: [", "Cannot read the organisation profile"),
    ],
)
def test_a_wrong_profile_is_refused_naming_it(tmp_path, text: str, message: str) -> None:
    source = _profile(tmp_path, text)
    with pytest.raises(answers.AnswerError, match=message) as refused:
        answers.load_profile(source)
    assert source in str(refused.value)
    assert answers.check_org_profile(source) == str(refused.value)


def test_a_missing_profile_is_refused(tmp_path) -> None:
    missing = str(tmp_path / "nowhere.yml")
    assert answers.check_org_profile(missing).startswith(
        f"Cannot read the organisation profile {missing}"
    )
    assert answers.check_org_profile("") is None


def test_a_locked_answer_is_refused_naming_the_profile(tmp_path) -> None:
    source = _profile(tmp_path)
    profile = answers.load_profile(source)
    assert answers.locked_errors({"ci_provider": "gitlab", "license": "Proprietary"}, profile) == []
    assert answers.locked_errors({"ci_provider": "github", "python_version": "3.11"}, profile) == [
        f"ci_provider is locked to 'gitlab' by the organisation profile 'acme-platform' "
        f"({source}); its owners change it there."
    ]  # pre-answered is not locked
    problems = answers.check_all({"org_profile": source, "ci_provider": "azure", "license": "MIT"})
    assert [p.split(" is locked")[0] for p in problems] == ["ci_provider", "license"]
