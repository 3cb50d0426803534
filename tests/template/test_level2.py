"""Level 2 renders: the DVC pipeline reproduces, experiments are
recorded, an edit in conf/ reaches the next run, and data and model round-trip through
the default remote into a fresh clone; the pull-request training job runs on the
provider's real runner (GitHub: act; GitLab: gitlab-ci-local; Azure: the emulation)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import azureml_jobs
import pytest
import yaml
from ci_steps import run_ci
from engines import report
from generated import (
    LAUNCHER_PLUGINS,
    check_ci_config,
    check_generated_project,
    check_launcher_configs,
    check_pre_commit,
    dockerfile_instructions,
    project_files,
    python_available,
    run,
    template_snapshot,
    uv,
    uv_env,
    write_training_csv,
)
from levels import expected_files
from matrix import COMBINATIONS, OWN_SUITE, answers
from ray_scoring import check_batch_on_ray
from real_ci import fetch_depth, run_pipeline, run_workflow, shallow_checkout

from mlops_ladder.render import answer_rules, copier_copy, copier_update

pytestmark = pytest.mark.slow


LEVEL = 2


def _dvc(project: Path, *arguments: str) -> str:
    return run(project, uv(), "run", "--no-sync", "dvc", *arguments).stdout


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _experiments(project: Path) -> list[dict]:
    """The recorded experiments of the baseline commit, from `dvc exp show --json`."""
    rows = json.loads(_dvc(project, "exp", "show", "--json"))
    (baseline,) = [row for row in rows if row["rev"] != "workspace"]
    return [rev for exp in baseline.get("experiments") or [] for rev in exp["revs"]]


# Both tasks with both trackers, both datasets, and each CI provider's training job.
TRAINING_RENDERS = sorted(COMBINATIONS)
# The Optuna search (conf/hparams_search/) each combination runs: every model's search space.
SEARCHES = {
    "py310-classification-sample-mit": "random_forest",
    "py311-regression-sample-apache": "linear",
    "py312-classification-csv-bsd": "hist_gradient_boosting",
    "py313-regression-csv-proprietary-long-name": "random_forest",
}
TRIALS = 4


# The render whose search also runs through the cluster launchers, as its docs switch them.
LAUNCHER_RENDER = "py311-regression-sample-apache"


def _launcher_sweeps(project: Path, package: str, search: str) -> None:
    """The docs' switch to each cluster launcher, run: the plugin added as
    conf/hydra/launcher/'s comments say, then a two-trial search through it.

    With no address, the Ray launcher starts a Ray instance on this machine (a one-node
    cluster) and runs each trial as a Ray task. SLURM cannot be had here: its plugin runs
    the trials through submitit's local executor instead, the same plugin and pickling of
    the job a cluster gets, and slurm.yaml is checked against the plugin's own
    configuration (check_launcher_configs)."""
    for plugin in LAUNCHER_PLUGINS.values():
        run(project, uv(), "add", "--quiet", "--group", "pipeline", plugin[0])
    experiment = ["python", "-m", f"{package}.pipeline.experiment", f"hparams_search={search}"]
    # Ray's uv hook would start each worker with its own `uv run` (ray_cluster.yaml).
    ray = ["env", "RAY_ENABLE_UV_RUN_RUNTIME_ENV=0"]
    for launcher, prefix, sign in (
        ("ray_cluster", ray, "Started a local Ray instance"),
        ("submitit_local", [], "Submitit 'local' sweep output dir"),
    ):
        sweep = Path("multirun") / launcher
        overrides = [
            f"hydra/launcher={launcher}",
            f"hydra.sweep.dir={sweep}",
            "hydra.sweeper.n_trials=2",
        ]
        log = run(project, *prefix, uv(), "run", *experiment, *overrides)
        assert sign in log.stdout + log.stderr, (launcher, log.stdout, log.stderr)
        assert len(list((project / sweep).glob("*/metrics.json"))) == 2, launcher
        results = yaml.safe_load((project / sweep / "optimization_results.yaml").read_text())
        assert results["best_params"], (launcher, results)


def _optuna_search(project: Path, package: str, search: str, data: dict) -> Path:
    """Run a 4-trial search as the README says; returns the study's results file."""
    sweep = project / "multirun" / "search"
    experiment = [uv(), "run", "--no-sync", "python", "-m", f"{package}.pipeline.experiment"]
    overrides = [f"hparams_search={search}", f"hydra.sweeper.n_trials={TRIALS}"]
    log = run(project, *experiment, *overrides, f"hydra.sweep.dir={sweep.relative_to(project)}")
    assert "Joblib.Parallel" in log.stdout + log.stderr, "the trials did not go to joblib"
    trials = sorted(sweep.glob("*/metrics.json"))
    assert len(trials) == TRIALS, trials
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    score = "f1_macro" if data["task"] == "classification" else "r2"
    scores = [json.loads(trial.read_text())[score] for trial in trials]
    assert results["best_value"] == pytest.approx(max(scores)), (results, scores)
    model = yaml.safe_load((project / "conf" / "model" / f"{search}.yaml").read_text())
    assert results["best_params"] and {f"model.{key}" for key in model} >= set(
        results["best_params"]
    ), results
    if data["tracking"] == "dvclive":
        tracked = sorted(sweep.glob("*/dvclive/metrics.json"))
        assert len(tracked) == TRIALS, tracked
    else:
        count = (
            "import mlflow;"
            "mlflow.set_tracking_uri('sqlite:///mlflow/mlflow.db');"
            "runs = mlflow.search_runs(search_all_experiments=True, output_format='list');"
            f"print(sum(r.data.tags.get('output_dir', '').startswith('{sweep}') for r in runs))"
        )
        tracked = run(project, uv(), "run", "--no-sync", "python", "-c", count).stdout
        assert tracked.strip().splitlines()[-1] == str(TRIALS), tracked
    return sweep / "optimization_results.yaml"


@pytest.mark.parametrize("name", TRAINING_RENDERS)
def test_pipeline_experiments_and_remote_round_trip(name: str, tmp_path: Path) -> None:
    data = answers(name, level=LEVEL, initialize_git=True)
    if not python_available(data["python_version"]):
        pytest.skip(f"Python {data['python_version']} is not installed or not enabled")
    project = copier_copy(tmp_path / "project", data)
    check_generated_project(project, own_suite=name in OWN_SUITE[LEVEL])
    check_pre_commit(project)
    check_ci_config(project)

    if data.get("dataset") == "csv":
        # A bad batch first: the validate stage stops the run with its report, and no
        # model is written.
        write_training_csv(project, data)
        table = project / data["csv_path"]
        lines = table.read_text().splitlines()
        header = lines[0].split(",")
        target = header.index(data["target_column"])
        broken = [
            ",".join(v if i != target else "" for i, v in enumerate(line.split(",")))
            for line in lines[1:4]
        ]
        table.write_text("\n".join([lines[0], *broken, *lines[4:]]) + "\n")
        _dvc(project, "add", data["csv_path"])
        failed = subprocess.run(
            [uv(), "run", "--no-sync", "dvc", "exp", "run"],
            cwd=project,
            env=uv_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert failed.returncode != 0
        report = failed.stdout + failed.stderr
        assert "failed validation" in report and "not_nullable" in report, report
        assert not (project / "models" / "model.joblib").exists()
        # The user's step for their own table: copy it in, let DVC track it, commit the
        # pointer (queued experiments start from a commit).
        write_training_csv(project, data)
        _dvc(project, "add", data["csv_path"])
        run(project, "git", "add", f"{data['csv_path']}.dvc")
        run(project, "git", "commit", "--quiet", "-m", "Track the raw table")
    _dvc(project, "exp", "run")
    assert (project / "models" / "model.joblib").is_file()
    metrics_file = project / data["tracking"] / "metrics.json"
    baseline = json.loads(metrics_file.read_text())
    metrics = _dvc(project, "metrics", "show")
    assert str(round(next(iter(baseline.values())), 5))[:4] in metrics

    model_targets = {
        path.stem: yaml.safe_load(path.read_text())["_target_"]
        for path in (project / "conf" / "model").glob("*.yaml")
    }
    # The README's grid through DVC's queue: queued, then run one after another.
    grid = ["-S", "model=random_forest", "-S", "model.n_estimators=20,50"]
    _dvc(project, "exp", "run", "--queue", *grid)
    _dvc(project, "exp", "run", "--run-all")
    models = [
        # rev data -> params files -> params.yaml's content -> the model group
        exp["data"]["params"]["params.yaml"]["data"]["model"]
        for exp in _experiments(project)
    ]
    assert len(models) == 3, models
    forests = sorted(m["n_estimators"] for m in models if "RandomForest" in m["_target_"])
    assert forests == [20, 50], models

    # Hydra multirun outside DVC: one folder per run, never over the pipeline's files.
    package = next(p.name for p in (project / "src").iterdir() if p.is_dir())
    sweep = ["-m", "model=linear,random_forest", "hydra.sweep.dir=multirun/test"]
    run(project, uv(), "run", "--no-sync", "python", "-m", f"{package}.pipeline.experiment", *sweep)
    runs = sorted((project / "multirun" / "test").glob("*/metrics.json"))
    assert len(runs) == 2, runs
    # Each run folder records the model its run composed (the scores may tie).
    overrides = [(run.parent / ".hydra" / "overrides.yaml").read_text() for run in runs]
    assert "model=linear" in overrides[0] and "model=random_forest" in overrides[1], overrides

    # An Optuna search with the joblib launcher: every trial tracked, the best one promoted.
    search = SEARCHES[name]
    best = _optuna_search(project, package, search, data)
    promote = ["python", "-m", package, "pipeline", "promote", str(best.parent)]
    run(project, uv(), "run", "--no-sync", *promote)
    # The cluster launchers are one switch away: their configs match the plugins' own.
    check_launcher_configs(project, tmp_path)
    if name == LAUNCHER_RENDER:
        _launcher_sweeps(project, package, search)
        check_batch_on_ray(project, logged=False)

    # An edit in conf/ reaches the next documented run (`dvc exp run` recomposes params.yaml).
    train_conf = project / "conf" / "train" / "default.yaml"
    train_conf.write_text(train_conf.read_text().replace("test_size: 0.2", "test_size: 0.3"))
    _dvc(project, "exp", "run")
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["train"]["test_size"] == 0.3
    # ... and so does the promoted search: its model with the best trial's parameters.
    promoted = yaml.safe_load(best.read_text())["best_params"]
    trained = {f"model.{key}": value for key, value in params["model"].items()}
    assert {key: trained.get(key) for key in promoted} == promoted, (trained, promoted)
    assert params["model"]["_target_"] == model_targets[search]
    rows = json.loads(metrics_file.read_text())["n_test_rows"]
    assert rows > baseline["n_test_rows"]

    # The training image's command, run directly: reproduces from the committed state.
    instructions = dict(dockerfile_instructions(project / "Dockerfile.train"))
    command = json.loads(instructions["CMD"])
    assert command == ["dvc", "repro"], command
    run(project, uv(), "run", "--no-sync", *command)

    if data["compute"] == "azureml":
        # The Azure ML specs validate, and the jobs run as Azure ML would run them: the
        # pipeline job in every such render, the command job (dvc repro without git, the
        # table as an input) in the CSV one.
        azureml_jobs.check_specs(project)
        if data.get("dataset") == "csv":
            job = azureml_jobs.run_command_job(project, tmp_path / "azureml-job")["run"]
            assert (job / "models" / "model.joblib").is_file()
            assert (job / data["tracking"] / "metrics.json").is_file()
        outputs = azureml_jobs.run_pipeline_job(project, tmp_path / "azureml-pipeline")
        assert (outputs["model"] / "model.joblib").is_file()
        metrics = json.loads((outputs["report"] / data["tracking"] / "metrics.json").read_text())
        assert metrics["n_test_rows"] == rows, metrics

    # Commit the run, push data and model, and restore both in a fresh clone.
    run(project, "git", "add", "--all")
    run(project, "git", "commit", "--quiet", "-m", "Train with a 30% test part")
    _dvc(project, "push")
    raw = project / data.get("csv_path", "data/raw/penguins.csv")
    model = project / "models" / "model.joblib"
    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "--quiet", str(project), str(clone))
    # The remote's folder is relative to the repository: a clone beside it shares it.
    remote = project.parent / "dvc-storage"
    assert remote.is_dir() and any(remote.rglob("*")), "dvc push wrote nothing to the remote"
    run(clone, uv(), "sync", "--locked", "--quiet")
    _dvc(clone, "pull")
    assert _md5(clone / raw.relative_to(project)) == _md5(raw)
    assert _md5(clone / "models" / "model.joblib") == _md5(model)
    assert "up to date" in _dvc(clone, "status").lower()

    # The registry: a version and a stage as git tags, read back by GTO.
    rules = answer_rules()
    artifact = rules.artifact_name(rules.dist_name(data.get("project_name", "Penguin Model")))
    gto = [uv(), "run", "--no-sync", "gto"]
    run(project, *gto, "register", artifact, "--version", "v0.1.0")
    run(project, *gto, "assign", artifact, "--version", "v0.1.0", "--stage", "prod")
    shown = run(project, *gto, "show").stdout
    assert artifact in shown and "v0.1.0" in shown

    if data["ci_provider"] == "none":
        return
    # The pull/merge request job: reproduce from the committed state, diff the metrics
    # against main.
    run(project, "git", "checkout", "--quiet", "-b", "change")
    if data["ci_provider"] in ("github", "gitlab"):
        _pull_request_on_a_real_runner(project, data, tmp_path / "runner")
        return
    # Azure's emulation: its checkout sits beside the project, so it reaches the remote.
    outcome = run_ci(project, tmp_path, only={"reproduce"})
    assert any("Reproduce" in step for step in outcome.ran), outcome
    diff = (tmp_path / "reproduce" / "metrics-diff.md").read_text()
    assert f"{data['tracking']}/metrics.json" in diff, diff


def _pull_request_on_a_real_runner(project: Path, data: dict, workdir: Path) -> None:
    """The training job of a pull (merge) request from the branch ``change`` into main,
    on the provider's real runner, in a clone as deep as its checkout makes it."""
    if data["ci_provider"] == "github":
        workflow = (project / ".github" / "workflows" / "train.yml").read_text()
        depth = fetch_depth(workflow)
        checkout = shallow_checkout(project, workdir, depth=depth, branch="change")
        pull_request = {"number": 1, "base": {"ref": "main"}, "head": {"ref": "change"}}
        outcome = run_workflow(
            checkout, "train.yml", "pull_request", workdir, payload={"pull_request": pull_request}
        )
        # The diff step fails without the base branch's commit: it passed, so it compared.
        outcome.succeeded("Train/Reproduce the pipeline")
        report(f"act: train.yml on pull_request: reproduced and diffed in {outcome.seconds:.0f} s")
        return
    # GitLab clones GIT_DEPTH commits (20 by default; depth 1 here is shallower still);
    # the job fetches the target branch itself.
    checkout = shallow_checkout(project, workdir, branch="change")
    event = {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    }
    pipeline = run_pipeline(checkout, ["reproduce", "model"], workdir, variables=event)
    pipeline.passed("reproduce", "model")
    assert f"{data['tracking']}/metrics.json" in pipeline.log, pipeline.log[-4000:]
    # One path to a model: the image's comes from the pipeline's train stage, which writes
    # the provenance DVC tracks beside it (the level-1 command wrote no such file).
    models = checkout / ".gitlab-ci-local" / "artifacts" / "model" / "models"
    handed = sorted(path.name for path in models.glob("*"))
    assert {"model.joblib", "provenance.json"} <= set(handed), handed
    seconds = pipeline.seconds
    report(f"gitlab-ci-local: reproduce and model (merge request) passed in {seconds:.0f} s")


def test_climb_from_level_1_keeps_the_users_edits(tmp_path: Path) -> None:
    """A committed level-1 repo with edits to train.py and README climbs to level 2 with
    `copier update`: edits kept, level-2 files added, tests and pipeline green."""
    data = answers("py311-regression-sample-apache", level=1, initialize_git=True)
    template = template_snapshot(tmp_path / "template")
    project = copier_copy(tmp_path / "project", data, template=template)
    train = next((project / "src").glob("*/train.py"))
    train.write_text(train.read_text().replace("Ridge(alpha=1.0)", "Ridge(alpha=0.5)"))
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\n## Owners\n\nOwned by the seabird team.\n")
    run(project, "git", "commit", "--quiet", "--all", "-m", "Our own changes")

    copier_update(project, {"maturity_level": LEVEL})

    assert "Ridge(alpha=0.5)" in train.read_text()
    assert readme.read_text().endswith("\n## Owners\n\nOwned by the seabird team.\n")
    assert "<<<<<<<" not in readme.read_text()
    assert "(docs/mlops/level-2.md)" in readme.read_text()
    assert (
        (project / "docs" / "mlops" / "level-2.md")
        .read_text()
        .startswith("# Level 2: Automated training")
    )
    package = train.parent.name
    missing = expected_files(LEVEL, package, data["ci_provider"]) - set(project_files(project))
    assert not missing, f"the climb did not add {sorted(map(str, missing))}"
    leftovers = [p for p in project_files(project) if p.suffix == ".rej"]
    assert not leftovers, f"the climb left rejected hunks: {leftovers}"
    run(project, "git", "add", "--all")
    run(project, "git", "commit", "--quiet", "-m", "Climb to level 2")

    run(project, uv(), "sync", "--locked", "--quiet")
    run(project, uv(), "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider")
    _dvc(project, "repro")
    assert (project / "models" / "model.joblib").is_file()
