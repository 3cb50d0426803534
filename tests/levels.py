"""The files each maturity level adds to a render, with ``{package}`` for the import name.

CI configuration depends on the ci_provider answer as well, so it is listed apart.

A render at level L must hold exactly the files of levels 0..L: a missing file is a broken
level, an extra one is either a file of a higher level leaking down or an unlisted file.
"""

from __future__ import annotations

from pathlib import Path

LEVEL_FILES: dict[int, tuple[str, ...]] = {
    0: (
        ".copier-answers.yml",
        ".gitignore",
        ".python-version",
        "LICENSE",
        "Makefile",
        "README.md",
        "data/feedback/.gitkeep",
        "docs/mlops/level-0.md",
        "data/interim/.gitkeep",
        "data/processed/.gitkeep",
        "data/raw/.gitkeep",
        "models/.gitkeep",
        "notebooks/01-explore.ipynb",
        "pyproject.toml",
        "src/{package}/__init__.py",
        "src/{package}/__main__.py",
        "src/{package}/batch.py",
        "src/{package}/bundle.py",
        "src/{package}/cli.py",
        "src/{package}/config.py",
        "src/{package}/data.py",
        "src/{package}/features.py",
        "src/{package}/score.py",
        "src/{package}/train.py",
        "tests/conftest.py",
        "tests/test_batch.py",
        "tests/test_cli.py",
        "tests/test_data.py",
        "tests/test_features.py",
        "tests/test_notebook.py",
        "tests/test_score.py",
        "tests/test_train.py",
    ),
    1: (
        ".dockerignore",
        "docs/mlops/level-1.md",
        ".pre-commit-config.yaml",
        "Dockerfile",
        "src/{package}/feature_schema.py",
        "src/{package}/serving/__init__.py",
        "src/{package}/serving/app.py",
        "src/{package}/serving/body_limit.py",
        "src/{package}/serving/models.py",
        "src/{package}/serving/routes.py",
        "tests/test_serve.py",
    ),
    2: (
        ".dvc/.gitignore",
        "docs/mlops/level-2.md",
        ".dvc/config",
        ".dvcignore",
        "Dockerfile.train",
        "conf/config.yaml",
        "conf/data/default.yaml",
        "conf/hparams_search/hist_gradient_boosting.yaml",
        "conf/hparams_search/linear.yaml",
        "conf/hparams_search/random_forest.yaml",
        "conf/hydra/launcher/ray_cluster.yaml",
        "conf/hydra/launcher/slurm.yaml",
        "conf/hydra/sweeper/tpe.yaml",
        "conf/model/hist_gradient_boosting.yaml",
        "conf/model/linear.yaml",
        "conf/model/random_forest.yaml",
        "conf/train/default.yaml",
        "dvc.yaml",
        "params.yaml",
        "src/{package}/batch_on_ray.py",
        "src/{package}/pipeline/__init__.py",
        "src/{package}/pipeline/commands.py",
        "src/{package}/pipeline/evaluate.py",
        "src/{package}/pipeline/experiment.py",
        "src/{package}/pipeline/paths.py",
        "src/{package}/pipeline/config.py",
        "src/{package}/pipeline/prepare.py",
        "src/{package}/pipeline/promote.py",
        "src/{package}/pipeline/schema.py",
        "src/{package}/pipeline/tracking.py",
        "src/{package}/pipeline/train.py",
        "src/{package}/pipeline/validate.py",
        "tests/test_batch_on_ray.py",
        "tests/test_pipeline.py",
        "tests/test_sweeps.py",
    ),
    3: (
        "conf/card/default.yaml",
        "conf/gate/default.yaml",
        "docs/mlops/level-3.md",
        "src/{package}/pipeline/card.py",
        "src/{package}/pipeline/gate.py",
        "src/{package}/pipeline/rollback.py",
        "src/{package}/persistence.py",
        "src/{package}/reproducible.py",
        "src/{package}/runtime.py",
        "src/{package}/serving/routing.py",
        "tests/test_api_contract.py",
        "tests/test_deployed.py",
        "tests/test_gate.py",
        "tests/test_image_command.py",
        "tests/test_persistence.py",
        "tests/test_rollback.py",
        "tests/test_routing.py",
        "tests/test_runtime.py",
    ),
    4: (
        "conf/feedback/default.yaml",
        "conf/monitor/default.yaml",
        "conf/retrain/default.yaml",
        "docs/mlops/level-4.md",
        "src/{package}/monitoring/__init__.py",
        "src/{package}/monitoring/batch_job.py",
        "src/{package}/monitoring/batch_log.py",
        "src/{package}/monitoring/feedback.py",
        "src/{package}/monitoring/fetch.py",
        "src/{package}/monitoring/monitor.py",
        "src/{package}/monitoring/simulate.py",
        "src/{package}/monitoring/trigger.py",
        "src/{package}/serving/prediction_log.py",
        "src/{package}/serving/s3_sink.py",
        "src/{package}/serving/telemetry.py",
        "tests/test_batch_job.py",
        "tests/test_batch_log.py",
        "tests/test_feedback.py",
        "tests/test_fetch.py",
        "tests/test_monitor.py",
        "tests/test_prediction_log.py",
        "tests/test_s3_sink.py",
        "tests/test_telemetry.py",
        "tests/test_trigger.py",
    ),
}

# Files that depend on the dataset answer as well, from the level given.
SAMPLE_FILES: dict[int, tuple[str, ...]] = {2: ("src/{package}/pipeline/ingest.py",)}

# The CI files each level adds, per provider (GitLab and Azure grow one file), with the
# dependency-update bot's configuration (Dependabot on GitHub, Renovate elsewhere).
CI_FILES: dict[int, dict[str, tuple[str, ...]]] = {
    1: {
        "github": (
            ".github/dependabot.yml",
            ".github/workflows/ci.yml",
            ".github/workflows/release.yml",
            ".github/workflows/template-update.yml",
        ),
        "gitlab": (".gitlab-ci.yml", "renovate.json"),
        "azure": ("azure-pipelines.yml", "azure-pipelines-template-update.yml", "renovate.json"),
    },
    2: {"github": (".github/workflows/train.yml",)},
    3: {"github": (".github/workflows/deploy.yml", ".github/workflows/rollback.yml")},
    4: {
        "github": (
            ".github/workflows/batch.yml",
            ".github/workflows/monitor.yml",
            ".github/workflows/retrain.yml",
        ),
        "azure": ("azure-pipelines-batch.yml", "azure-pipelines-monitor.yml"),
    },
}

# CI files a level replaces: from level 3 the delivery workflow (deploy.yml) is the release,
# shipping the gated model rather than one release.yml trained again.
CI_FILES_REMOVED: dict[int, dict[str, tuple[str, ...]]] = {
    3: {"github": (".github/workflows/release.yml",)},
}


# Files of compute=azureml (from level 2): the Azure ML specs and, on GitHub, the workflow
# that submits them (GitLab and Azure grow a job in their one file).
AZUREML_LEVEL = 2
AZUREML_FILES = ("azureml/environment.yml", "azureml/train-job.yml", "azureml/train-pipeline.yml")
AZUREML_CI_FILES = {"github": (".github/workflows/azureml.yml",)}
# From level 4, the batch scoring job beside them.
AZUREML_BATCH_LEVEL = 4
AZUREML_BATCH_FILES = ("azureml/batch-job.yml",)


# Files of each deploy_target (from level 3): kustomize's base and overlays, or the Azure ML
# online endpoint and deployment.
DEPLOY_LEVEL = 3
DEPLOY_FILES: dict[str, tuple[str, ...]] = {
    "kubernetes": (
        "deploy/kubernetes/base/deployment.yaml",
        "deploy/kubernetes/base/hpa.yaml",
        "deploy/kubernetes/base/kustomization.yaml",
        "deploy/kubernetes/base/pdb.yaml",
        "deploy/kubernetes/base/service.yaml",
        "deploy/kubernetes/overlays/production/kustomization.yaml",
        "deploy/kubernetes/overlays/staging/kustomization.yaml",
    ),
    "azureml": ("deploy/azureml/deployment.yml", "deploy/azureml/endpoint.yml"),
    "none": (),
}


def expected_files(
    level: int,
    package: str,
    ci_provider: str = "none",
    dataset: str = "sample",
    compute: str = "local",
    deploy_target: str = "kubernetes",
) -> set[Path]:
    names = [name for at, names in LEVEL_FILES.items() if at <= level for name in names]
    for at, providers in CI_FILES.items():
        if at <= level:
            names.extend(providers.get(ci_provider, ()))
    for at, providers in CI_FILES_REMOVED.items():
        if at <= level:
            names = [name for name in names if name not in providers.get(ci_provider, ())]
    if dataset == "sample":
        names.extend(name for at, more in SAMPLE_FILES.items() if at <= level for name in more)
    if compute == "azureml" and level >= AZUREML_LEVEL:
        names.extend((*AZUREML_FILES, *AZUREML_CI_FILES.get(ci_provider, ())))
    if compute == "azureml" and level >= AZUREML_BATCH_LEVEL:
        names.extend(AZUREML_BATCH_FILES)
    if level >= DEPLOY_LEVEL:
        names.extend(DEPLOY_FILES[deploy_target])
    return {Path(name.format(package=package)) for name in names}
