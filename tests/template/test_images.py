"""Every level's images, built by a real Docker daemon and run as their own commands.

From level 2 the training image reproduces the DVC pipeline on the mounted checkout, as
its header says to run it, and the model it writes is the one `dvc repro` makes outside
the image, byte for byte; the service image is then built from that model (level 1: from
`train`, as CI's image job does), becomes healthy by its own HEALTHCHECK, answers
predictions, and from level 3 passes the release's staging tests (tests/test_deployed.py)
against the container. The service image scores a mounted file with `score`, as the
level-1 page says to run it, as a user with no account in the image (from level 4 its log
in the mounted prediction-log volume). From level 2 the service image's `pipeline`
commands, whose libraries it leaves out, exit 2 saying what to install.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from engines import build_image, docker, image_size, report, run_docker, running, wait_healthy
from generated import (
    check_answers,
    check_docker_context,
    console_script,
    deployed_version,
    python_available,
    run,
    uv,
    uv_env,
)
from matrix import answers
from palmerpenguins import load_penguins

from mlops_ladder.render import copier_copy
from mlops_ladder.service import free_port

pytestmark = pytest.mark.slow

# One render a level, both tasks and the two Pythons at either end of what CI images use.
RENDERS = {
    1: "py310-classification-sample-mit",
    2: "py311-regression-sample-apache",
    3: "py310-classification-sample-mit",
    4: "py311-regression-sample-apache",
}


def _digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir()}


def _scores_a_file(project: Path, tag: str, level: int, folder: Path) -> None:
    """`score` as the image's command on a mounted CSV, the penguins with one cell the model
    cannot take: the other rows scored to Parquet, that one beside them with its reason;
    from level 4 the run logged in the mounted volume under the image's model version."""
    data, logs = folder / "data", folder / "predictions"
    for mounted in (data, logs):
        mounted.mkdir(parents=True)
        # Writable by a user the image has no account for, as a team's CI user is.
        mounted.chmod(0o777)
    rows = load_penguins().astype({"bill_length_mm": object})
    rows.loc[5, "bill_length_mm"] = "unknown"
    rows.to_csv(data / "rows.csv", index=False)
    started = time.monotonic()
    run_docker(
        *("run", "--rm", "--user", "4321:4321", "--volume", f"{data}:/data"),
        *(("--volume", f"{logs}:/app/logs/predictions") if level >= 4 else ()),
        *(tag, console_script(project), "score", "/data/rows.csv"),
        *("--output", "/data/scores.parquet"),
    )
    report(f"image run: {tag} scored {len(rows)} rows in {time.monotonic() - started:.0f} s")
    scores = pd.read_parquet(data / "scores.parquet")
    rejected = pd.read_csv(data / "scores.rejected.csv")
    assert len(scores) == len(rows) - 1 and scores["prediction"].notna().all()
    assert rejected["row"].tolist() == [6], rejected
    assert "bill_length_mm: 'unknown' is not a number" in rejected["reason"][0]
    if level >= 4:
        _unmounted_log_stops_first(project, tag, data)
        (log,) = logs.glob("batch-*.parquet")
        logged = pd.read_parquet(log)
        assert len(logged) == len(scores)
        assert set(logged["model_version"]) == {deployed_version(project)}


def _unmounted_log_stops_first(project: Path, tag: str, data: Path) -> None:
    """Without a folder mounted at the prediction-log volume, the volume is the image's user's:
    `score` as another user stops before it scores, saying what to do, and writes nothing."""
    user, mounted = ("--user", "4321:4321"), ("--volume", f"{data}:/data")
    score = (console_script(project), "score", "/data/rows.csv", "--output", "/data/unlogged.csv")
    refused = _refused(*user, *mounted, tag, *score)
    assert "cannot be written (Permission denied)" in refused, refused
    assert "--no-log" in refused, refused
    assert not list(data.glob("*unlogged*")), list(data.iterdir())


def _refused(*arguments: str) -> str:
    """What `docker run --rm` with ``arguments`` prints on stderr, the command having exited
    2, the project's exit status for a refusal it explains."""
    refused = subprocess.run(
        [docker(), "run", "--rm", *arguments],
        env=uv_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert refused.returncode == 2, (refused.stdout, refused.stderr)
    return refused.stderr


def _built(project: Path, dockerfile: str, tag: str) -> None:
    seconds = build_image(project, dockerfile, tag)
    size = image_size(tag) / 1e6
    report(f"image built: {tag} from {dockerfile} in {seconds:.0f} s, {size:.0f} MB")


@pytest.mark.parametrize("level", sorted(RENDERS), ids=lambda level: f"level{level}")
def test_images_build_and_run(level: int, tmp_path: Path) -> None:
    data = answers(RENDERS[level], level=level, initialize_git=True)
    if not python_available(data["python_version"]):
        pytest.skip(f"Python {data['python_version']} is not installed or not enabled")
    project = copier_copy(tmp_path / "project", data)
    tag = f"mlops-ladder-test/{project.name}-{level}-{os.getpid()}"

    if level >= 2:
        _built(project, "Dockerfile.train", f"{tag}-train")
        started = time.monotonic()
        owner = f"{os.getuid()}:{os.getgid()}"
        run_docker("run", "--rm", "--user", owner, "--volume", f"{project}:/app", f"{tag}-train")
        seconds = time.monotonic() - started
        report(f"image run: {tag}-train reproduced the pipeline in {seconds:.0f} s")
        assert (project / "dvc.lock").is_file(), "the training image wrote no dvc.lock"
        # One model identity: trained again outside the image, the same data, code and
        # seed give the same bytes (provenance included), so the same version.
        in_image = _digests(project / "models")
        run(project, uv(), "sync", "--locked", "--quiet")
        run(project, uv(), "run", "--no-sync", "dvc", "repro", "--force", "--single-item", "train")
        assert _digests(project / "models") == in_image
    else:
        run(project, uv(), "sync", "--locked", "--quiet")
        run(project, uv(), "run", "--no-sync", console_script(project), "train")

    check_docker_context(project)
    _built(project, "Dockerfile", tag)
    port = free_port()
    published = ("--publish", f"127.0.0.1:{port}:8000")
    with running(tag, *published, name=f"service-{level}-{os.getpid()}") as container:
        started = time.monotonic()
        wait_healthy(container)
        seconds = time.monotonic() - started
        report(f"image run: {tag} healthy by its HEALTHCHECK in {seconds:.0f} s")
        url = f"http://127.0.0.1:{port}"
        answer = check_answers(url)
        assert answer["prediction"] is not None
        if level >= 3:
            run(project, uv(), "sync", "--locked", "--quiet")
            deployed = run(
                project,
                "env",
                f"SERVICE_URL={url}",
                *(uv(), "run", "--no-sync", "pytest", "-p", "no:cacheprovider", "-rs"),
                "tests/test_deployed.py",
            ).stdout
            assert "4 passed" in deployed and "skipped" not in deployed, deployed
    _scores_a_file(project, tag, level, tmp_path / "scoring")
    if level >= 2:
        # The scoring image leaves the pipeline group out (--no-default-groups): the image's
        # command line still lists the group, and a stage says what is missing.
        stage = (console_script(project), "pipeline", "validate")
        refused = _refused(tag, *stage)
        assert "is not installed here: run `uv sync`" in refused, refused
