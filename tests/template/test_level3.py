"""Level 3 renders: in a fresh clone the release gate passes the registered champion's
equal and stops a deliberately worse model naming the slices it fails; the pipeline writes
a model card; the staging tests pass against the service started as its image starts it;
the manifests and workflows pass their checkers. The delivery pipeline runs on real
runners (GitHub's on act, GitLab's on gitlab-ci-local; Azure's gate job on the emulation):
against a champion whose model is on a real S3 remote, it gates, pushes the image to a
real registry, tests it in staging and records the release as the registry's prod."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from ci_steps import run_ci
from deployment import check_deployment
from engines import Registry, S3Server, ensure_base_images, registry, report, s3_server
from generated import (
    check_ci_config,
    check_generated_project,
    python_available,
    run,
    serving_as_image,
    uv,
    uv_env,
    write_training_csv,
)
from matrix import CI_PROVIDERS, COMBINATIONS, answers
from real_ci import NO_GITLAB_SERVER, run_pipeline, run_workflow, shallow_checkout

from mlops_ladder.render import answer_rules, copier_copy

pytestmark = pytest.mark.slow

LEVEL = 3
# A one-tree forest of depth 1: much worse than the default model, on every island.
WORSE = ["-S", "model=random_forest", "-S", "model.n_estimators=1", "-S", "model.max_depth=1"]


def _dvc(project: Path, *arguments: str) -> str:
    return run(project, uv(), "run", "--no-sync", "dvc", *arguments).stdout


def _gate(project: Path) -> dict:
    return json.loads((project / "reports" / "gate.json").read_text())


# Both tasks with both trackers (the champion comes from GTO's tags under either), and both
# datasets: the sample is sliced by island, a CSV (no group column) is judged overall.
@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_gate_in_a_fresh_clone_passes_the_champion_and_stops_a_worse_model(
    name: str, tmp_path: Path
) -> None:
    data = answers(name, level=LEVEL, initialize_git=True)
    if not python_available(data["python_version"]):
        pytest.skip(f"Python {data['python_version']} is not installed or not enabled")
    project = copier_copy(tmp_path / "project", data)
    check_generated_project(project)
    check_ci_config(project)
    check_deployment(project, data, tmp_path)
    if data.get("dataset") == "csv":
        write_training_csv(project, data)
        _dvc(project, "add", data["csv_path"])
        run(project, "git", "add", "--all")
        run(project, "git", "commit", "--quiet", "-m", "Track the raw table")

    # The first model: no champion yet, so the gate only asks for the minimum score.
    _dvc(project, "exp", "run")
    first = _gate(project)
    assert first["passed"] and first["champion"] is None, first
    card = (project / "reports" / "model_card.md").read_text()
    assert f"model `{first['candidate']['version']}`" in card
    run(project, "git", "add", "--all")
    run(project, "git", "commit", "--quiet", "-m", "First model")
    _dvc(project, "push")
    rules = answer_rules()
    artifact = rules.artifact_name(rules.dist_name(data.get("project_name", "Penguin Model")))
    gto = [uv(), "run", "--no-sync", "gto"]
    run(project, *gto, "register", artifact, "--version", "v1.0.0")
    run(project, *gto, "assign", artifact, "--version", "v1.0.0", "--stage", "prod")
    _test_as_deployed(project)
    if data["ci_provider"] == "azure":
        # Azure Pipelines has no local agent: its gate job on the emulation (the GitHub
        # and GitLab pipelines run on real runners below).
        # (Checkouts beside the project reach the same DVC remote.)
        outcome = run_ci(project, tmp_path, only={"build"})
        assert "build/Reproduce what is missing and pass the gate" in outcome.ran, outcome
        assert "build/Name the image after the model version" in outcome.ran, outcome

    # A fresh clone reproduces and judges against the champion it reads from the tags.
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "--quiet", str(project), str(clone))
    run(clone, uv(), "sync", "--locked", "--quiet")
    _dvc(clone, "pull")
    _dvc(clone, "repro")
    again = _gate(clone)
    assert again["passed"], again
    assert again["champion"]["registry_version"] == "v1.0.0"
    assert again["champion"]["version"] == first["candidate"]["version"]

    failed = subprocess.run(
        [uv(), "run", "--no-sync", "dvc", "exp", "run", *WORSE],
        cwd=clone,
        env=uv_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output
    assert "Gate FAILED" in output, output
    verdict = _gate(clone)
    assert not verdict["passed"]
    failing = [failure["scope"] for failure in verdict["failures"]]
    if data.get("dataset") == "csv":
        assert set(failing) == {"overall"}, verdict["failures"]
    else:
        assert any(scope.startswith("island=") for scope in failing), verdict["failures"]
    for scope in failing:
        assert f"Failed: {scope}:" in output, output


def _test_as_deployed(project: Path) -> None:
    """The release's staging tests (tests/test_deployed.py) against the service started
    with the Dockerfile's command and variables, as staging would run it."""
    with serving_as_image(project) as url:
        tests = run(
            project,
            "env",
            f"SERVICE_URL={url}",
            uv(),
            "run",
            "--no-sync",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-rs",
            "tests/test_deployed.py",
        ).stdout
    assert "4 passed" in tests and "skipped" not in tests, tests


# The real delivery pipelines -------------------------------------------------------------
REMOTE = "s3://dvc-remote/penguin-model"
IMAGE_PATH = "data-science-team/penguin-model"
ARTIFACT = "penguin-model"
PROD = (ARTIFACT, "prod")


def _champion_and_change(project: Path, server: S3Server) -> str:
    """What a team has when its second change reaches main: a first model reproduced,
    committed and pushed to the S3 remote, registered as v1.0.0 and in prod; then a commit
    that leaves the model as it is. Returns the champion's version."""
    run(project, uv(), "sync", "--locked", "--quiet")
    run(project, *server.wrap(uv(), "run", "--no-sync", "dvc", "repro"))
    run(project, "git", "add", "--all")
    run(project, "git", "commit", "--quiet", "-m", "First model")
    run(project, *server.wrap(uv(), "run", "--no-sync", "dvc", "push"))
    gto = [uv(), "run", "--no-sync", "gto"]
    run(project, *gto, "register", ARTIFACT, "--version", "v1.0.0")
    run(project, *gto, "assign", ARTIFACT, "--version", "v1.0.0", "--stage", "prod")
    with (project / "README.md").open("a", encoding="utf-8") as readme:
        readme.write("\nThe first model is in production.\n")
    run(project, "git", "commit", "--quiet", "--all", "-m", "Say so in the README")
    return _gate(project)["candidate"]["version"]


def _prod_tags(origin: Path, commit: str) -> list[str]:
    """The registry's prod assignments (GTO's tags) on ``commit`` in the origin."""
    tags = run(origin, "git", "tag", "--points-at", commit).stdout.split()
    return [tag for tag in tags if re.fullmatch(rf"{ARTIFACT}#prod#\d+", tag)]


def _act_credentials(server: S3Server, images: Registry) -> dict[str, dict[str, str]]:
    """The secrets and variables deploy.yml and rollback.yml document, for act."""
    return {
        "secrets": {
            "REGISTRY_USER": images.user,
            "REGISTRY_PASSWORD": images.password,
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key,
        },
        "variables": {"AWS_ENDPOINT_URL": server.endpoint},
    }


def _github_delivery(
    checkout: Path, workdir: Path, server: S3Server, images: Registry
) -> tuple[str, str]:
    """deploy.yml for a push to main, every job: CI, the gate against the champion on S3,
    the image pushed, staging (the image pulled, run and tested), production and the
    registry's prod tag pushed to the origin. Returns the gate's report and the log."""
    deploy = run_workflow(
        checkout,
        "deploy.yml",
        "push",
        workdir,
        payload={"ref": "refs/heads/main"},
        **_act_credentials(server, images),
    )
    deploy.succeeded(
        "Deploy/Gate and build the image",
        "Deploy/Deploy to staging and test",
        "Deploy/Deploy to production",
        "Deploy/Record the model as production's",
    )
    jobs = ", ".join(sorted(deploy.jobs))
    report(f"act: deploy.yml on push: {jobs} passed in {deploy.seconds:.0f} s")
    return (deploy.artifacts / "model-card" / "reports" / "gate.json").read_text(), deploy.log


def _github_rollback(project: Path, workdir: Path, server: S3Server, images: Registry) -> None:
    """rollback.yml dispatched after the release: production's stage goes back from the
    release's version (v1.0.1) to v1.0.0, the first model read from S3 and its image pulled
    from the registry, and the tag that records why is pushed to the origin."""
    checkout = shallow_checkout(project, workdir, depth=None)  # the origin, release tags too
    first = run(checkout, "git", "rev-list", "-n", "1", f"{ARTIFACT}@v1.0.0").stdout.strip()
    before = _prod_tags(workdir / "origin.git", first)
    rollback = run_workflow(
        checkout,
        "rollback.yml",
        "workflow_dispatch",
        workdir,
        payload={"ref": "refs/heads/main", "inputs": {"reason": "accuracy fell", "version": ""}},
        **_act_credentials(server, images),
    )
    rollback.succeeded("Rollback/Roll production back")
    report(f"act: rollback.yml on workflow_dispatch passed in {rollback.seconds:.0f} s")
    made = set(_prod_tags(workdir / "origin.git", first)) - set(before)
    assert len(made) == 1, f"no new prod tag on the first model's commit:\n{rollback.log[-6000:]}"
    message = run(workdir / "origin.git", "git", "tag", "--list", *made, "--format=%(contents)")
    assert message.stdout.startswith("Rollback from v1.0.1: accuracy fell (by "), message.stdout
    # The next release's gate reads the first model as production's, in a fresh clone.
    clone = shallow_checkout(project, workdir, depth=None)
    (package,) = (path.name for path in (project / "src").iterdir() if path.is_dir())
    gate = f"from {package}.pipeline.gate import find_champion as f; print(f(*{PROD!r})[1])"
    champion = run(clone, str(project / ".venv" / "bin" / "python"), "-c", gate).stdout
    assert champion.strip() == "v1.0.0", champion


def _gitlab_delivery(
    checkout: Path, workdir: Path, server: S3Server, images: Registry
) -> tuple[str, str]:
    """The default branch's pipeline: lint, tests, the gate against the champion on S3, the
    image pushed, staging tested, production approved (its manual job run), and the
    registry job up to its push: the GitLab server it pushes the tags to does not exist
    here, so the test reads the prod tag from the job's log. Returns the gate's report and
    the log."""
    variables = {
        "REGISTRY_USER": images.user,
        "REGISTRY_PASSWORD": images.password,
        # CI/CD variables reach the jobs as they are.
        **server.credentials(),
    }
    jobs = ["lint", "test", "gate", "publish-model", "test-staging", "deploy-production"]
    pipeline = run_pipeline(
        checkout, jobs, workdir, variables=variables, manual=("deploy-production",)
    )
    pipeline.passed(*jobs)
    names = ", ".join(sorted(pipeline.jobs))
    report(f"gitlab-ci-local: {names} passed in {pipeline.seconds:.0f} s")
    registry_job = run_pipeline(
        checkout,
        ["registry"],
        workdir,
        variables={"RELEASE_TOKEN": "no-server-here", **NO_GITLAB_SERVER},
        check=False,
    )
    registry_job.stopped_at_server_push("registry")
    made = re.findall(rf"Created git tag '({ARTIFACT}#prod#\d+)'", registry_job.log)
    assert made, f"the registry job assigned no prod stage:\n{registry_job.log[-6000:]}"
    report("gitlab-ci-local: registry ran to its push (no GitLab server here)")
    gate = checkout / ".gitlab-ci-local" / "artifacts" / "gate" / "reports" / "gate.json"
    return gate.read_text(), pipeline.log


def _gitlab_rollback(
    project: Path, checkout: Path, workdir: Path, server: S3Server, champion: str
) -> None:
    """A rollback pipeline (ROLLBACK_REASON) after the release: its jobs read the first
    model from S3, name its image, run production's job and create the registry's tag
    recording why, up to the push to the GitLab server, which is not here. The registry
    job's push of the release's prod tag is done by hand first, for the same reason."""
    run(
        checkout,
        uv(),
        "run",
        "--no-sync",
        "--project",
        str(project),
        "gto",
        "assign",
        ARTIFACT,
        "HEAD",
        "--stage",
        "prod",
    )
    run(checkout, "git", "push", "--quiet", "origin", "--tags")
    jobs = ["rollback", "rollback-production", "rollback-registry"]
    variables = {"ROLLBACK_REASON": "accuracy fell", **server.credentials()}
    pipeline = run_pipeline(
        checkout,
        jobs,
        workdir,
        variables={**variables, "RELEASE_TOKEN": "no-server-here", **NO_GITLAB_SERVER},
        check=False,
    )
    pipeline.passed("rollback", "rollback-production")
    pipeline.stopped_at_server_push("rollback-registry")
    # rollback-registry chose again what rollback chose, and checked it against its TAG.
    done = "prod (was v1.0.1) is v1.0.0 again. Push the registry's tags"
    assert done in pipeline.log, f"the rollback assigned no prod stage:\n{pipeline.log[-6000:]}"
    assert f"its image model-{champion}." in pipeline.log, pipeline.log[-6000:]
    report(f"gitlab-ci-local: {', '.join(jobs)} (up to its push) in {pipeline.seconds:.0f} s")


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_delivery_on_real_runners(provider: str, tmp_path: Path, template_url: str) -> None:
    (name,) = [n for n, chosen in CI_PROVIDERS.items() if chosen == provider]
    with (
        s3_server(tmp_path / "s3", ("dvc-remote",)) as server,
        registry(tmp_path / "registry") as images,
    ):
        # deploy_target none: staging is the image run on the runner (a cluster's or Azure's
        # deploy jobs cannot run here; their manifests are checked offline above).
        data = answers(
            name,
            level=LEVEL,
            initialize_git=True,
            dvc_remote=REMOTE,
            deploy_target="none",
            container_image=f"{images.host}/{IMAGE_PATH}",
        )
        if not python_available(data["python_version"]):
            pytest.skip(f"Python {data['python_version']} is not installed or not enabled")
        project = copier_copy(tmp_path / "project", data, template=template_url)
        check_ci_config(project)  # with the S3 credentials' lines
        champion = _champion_and_change(project, server)
        head = run(project, "git", "rev-parse", "HEAD").stdout.strip()
        # The delivery jobs check out the whole history (the gate reads the registry).
        checkout = shallow_checkout(project, tmp_path / provider, depth=None)
        ensure_base_images(checkout / "Dockerfile")
        deliver = _github_delivery if provider == "github" else _gitlab_delivery
        report_text, log = deliver(checkout, tmp_path / provider, server, images)
        gate = json.loads(report_text)
        # The gate judged against the champion it read from S3 through the registry.
        assert gate["passed"], gate
        assert gate["champion"]["registry_version"] == "v1.0.0", gate
        assert gate["champion"]["version"] == champion, gate
        # One model identity: the change left the model alone, so the job pulled the file
        # the commit names instead of training again, and the image carries that version.
        assert "Stage 'train' didn't change, skipping" in log, log[-6000:]
        assert gate["candidate"]["version"] == champion, gate
        assert images.tags(IMAGE_PATH) == [f"model-{champion}"]
        if provider == "github":
            # The registry now has this commit in prod, in the origin every clone reads.
            assert _prod_tags(tmp_path / provider / "origin.git", head), "no prod tag pushed"
            _github_rollback(project, tmp_path / provider, server, images)
        else:
            _gitlab_rollback(project, checkout, tmp_path / provider, server, champion)
