"""A render that offers s3://, against a real S3 server (SeaweedFS, which checks request
signatures): `make push` sends data and model to the bucket the answer names, a wrong
secret is refused, a fresh clone's `make pull` gets the same model back; and the level-4
service ships its prediction log to a bucket in batches that `pipeline fetch` (DVC's
get-url) brings back where the monitor reads them. (The generated unit tests of the S3
sink keep moto: an in-process fake is their point.)"""

from __future__ import annotations

import hashlib
import json
import subprocess
import urllib.request
from pathlib import Path

import pytest
from engines import S3Server, report, s3_objects, s3_server
from generated import python_available, run, serving_as_image, uv, uv_env
from matrix import answers
from palmerpenguins import load_penguins

from mlops_ladder.render import copier_copy

pytestmark = pytest.mark.slow

REMOTE = "s3://dvc-remote/penguin-model"
LOG_URL = "s3://predictions/penguin-model/"
REQUESTS = 25


def _endpoint(project: Path, server: S3Server) -> None:
    """What the README tells a team with an S3-compatible store to do once per clone."""
    dvc = [uv(), "run", "--no-sync", "dvc"]
    run(project, *dvc, "remote", "modify", "--local", "storage", "endpointurl", server.endpoint)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_s3_remote_round_trip_and_prediction_log(tmp_path: Path) -> None:
    data = answers(
        "py311-regression-sample-apache",
        level=4,
        ci_provider="none",
        initialize_git=True,
        dvc_remote=REMOTE,
    )
    if not python_available(data["python_version"]):
        pytest.skip(f"Python {data['python_version']} is not installed or not enabled")
    with s3_server(tmp_path / "s3", ("dvc-remote", "predictions")) as server:
        project = copier_copy(tmp_path / "project", data)
        run(project, uv(), "sync", "--locked", "--extra", "s3", "--quiet")
        _endpoint(project, server)
        run(project, uv(), "run", "--no-sync", "dvc", "repro")
        run(project, "git", "add", "--all")
        run(project, "git", "commit", "--quiet", "-m", "First model")
        run(project, *server.wrap("make", "push"))
        stored = s3_objects(server, "dvc-remote", "penguin-model/")
        model = project / "models" / "model.skops"
        assert any(content == model.read_bytes() for content in stored.values()), (
            f"the model is not among what `make push` stored: {sorted(stored)}"
        )

        refused = subprocess.run(
            server.wrap(uv(), "run", "--no-sync", "dvc", "push", secret="not-the-secret"),
            cwd=project,
            env=uv_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert refused.returncode != 0, "a wrong secret was not refused"

        clone = tmp_path / "clone"
        run(tmp_path, "git", "clone", "--quiet", str(project), str(clone))
        run(clone, uv(), "sync", "--locked", "--quiet")
        _endpoint(clone, server)
        run(clone, *server.wrap("make", "pull"))
        assert _md5(clone / "models" / "model.skops") == _md5(model)
        report(f"s3: {len(stored)} objects pushed to {REMOTE} and pulled into a fresh clone")

        _prediction_log(project, server, tmp_path)


def _prediction_log(project: Path, server: S3Server, tmp_path: Path) -> None:
    """The service logs to the bucket; the monitor's fetch reads every record back."""
    with serving_as_image(project, PREDICTION_LOG_URL=LOG_URL, **server.env()) as url:
        features = json.loads(urllib.request.urlopen(f"{url}/metadata").read())["features"]
        rows = json.loads(
            load_penguins().loc[: REQUESTS - 1, list(features)].to_json(orient="records")
        )
        for row in rows:
            request = urllib.request.Request(
                f"{url}/predict",
                data=json.dumps(row).encode(),
                headers={"content-type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
    # Stopping the service writes its last batch.
    objects = s3_objects(server, "predictions", "penguin-model/")
    records = [line for content in objects.values() for line in content.splitlines()]
    assert len(records) == REQUESTS, f"{len(records)} records in {sorted(objects)}"
    (package,) = [p.name for p in (project / "src").iterdir() if p.is_dir()]
    fetch = ["python", "-m", package, "pipeline", "fetch", "--log-url", LOG_URL]
    run(project, *server.wrap(uv(), "run", "--no-sync", *fetch))
    # The batches themselves, where `monitor` reads its default log (not nested in it).
    fetched = list((project / "logs" / "predictions").iterdir())
    assert fetched and all(path.is_file() for path in fetched), fetched
    lines = [line for path in fetched for line in path.read_text().splitlines()]
    assert len(lines) == REQUESTS, f"pipeline fetch fetched {len(lines)} records"
    report(
        f"s3: the service shipped {REQUESTS} predictions to {LOG_URL}; "
        "pipeline fetch read them back"
    )
