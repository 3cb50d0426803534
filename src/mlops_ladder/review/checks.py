"""The checks, one class per observable practice of the MLOps maturity model.

Ids are stable: ``ML<level><nn>``. A class's docstring is its one-line title; its
``check`` method's docstring says why the practice matters, in the maturity model's words
(../shared/seeds: "Machine Learning Operations maturity model", Microsoft); a failed check
returns a message that says what to add. A level is reached when every check of its family
and of the families below it passes.
"""

from __future__ import annotations

import re

from mlops_ladder.review.evidence import CI_PATTERNS, LOCK_FILES, NOT_MODULES, Evidence

ALL_CI = tuple(pattern for patterns in CI_PATTERNS.values() for pattern in patterns)
# Python files that configure tools rather than hold the project's code.
NOT_CODE = frozenset({"setup.py", "noxfile.py", "conftest.py", "tasks.py", "dodo.py"})
CI_FILES = ".github/workflows/*.yml, .gitlab-ci.yml or azure-pipelines.yml"

# Top-level keys of .gitlab-ci.yml that are not jobs.
GITLAB_KEYWORDS = frozenset(
    {"default", "include", "stages", "variables", "workflow", "image", "services", "cache"}
    | {"before_script", "after_script", "spec"}
)

# Commands that run a test suite, a training pipeline, or build an image.
TESTS = r"\b(pytest|tox|nox|unittest)\b|\bmake (test|check)\b|\bjust test\b"
PIPELINE = r"\bdvc (repro|exp run)\b|\bmlflow run\b|\bkedro run\b|\baz ml job create\b"
IMAGE = r"\b(docker|podman|buildah) (build|buildx)|\bkaniko\b|docker/build-push-action|Docker@2"


def _ci_problems(mlops: Evidence, *also: str) -> str:
    broken = mlops.broken(*ALL_CI, *also)
    return f"Fix the CI config first: {'; '.join(broken)}." if broken else ""


def _pre_commit_runs_tests(mlops: Evidence) -> bool:
    repos = mlops.pre_commit.get("repos")
    hooks = [
        hook
        for repo in (repos if isinstance(repos, list) else [])
        if isinstance(repo, dict) and isinstance(repo.get("hooks"), list)
        for hook in repo["hooks"]
        if isinstance(hook, dict)
    ]
    return any("pytest" in str(hook.get("entry", "")) for hook in hooks)


class ML001:
    "Dependencies are declared in a project file"

    family = "ML0"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Level 0 begins with "Create environment [...] manually"; a declared environment
        is what every later level rebuilds from."""
        if mlops.matching("pyproject.toml", "setup.py", "setup.cfg", "requirements*.txt"):
            return True
        if mlops.matching("environment.yml", "environment.yaml", "Pipfile"):
            return True
        return "Declare the dependencies: a `pyproject.toml` (or `requirements.txt`)."


class ML002:
    "Training and scoring code lives in modules, not only notebooks"

    family = "ML0"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Level 0: "Scoring script may be manually created well after experiments, not
        version controlled". Code in modules can be imported, tested and reviewed."""
        outside = set(mlops.matching("*.py")) - set(mlops.matching(*NOT_MODULES))
        modules = [p for p in outside if p.rsplit("/", 1)[-1] not in NOT_CODE]
        if modules:
            return True
        notebooks = mlops.matching("*.ipynb")
        found = f" (found only notebooks: {', '.join(notebooks[:3])})" if notebooks else ""
        return f"Move training and scoring into a Python package, e.g. `src/<package>/`{found}."


class ML101:
    "Unit tests exist"

    family = "ML1"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Level 1: "Maintain code test against application and training/inference
        scripts"; "Application code has unit tests"."""
        if mlops.matching("test_*.py", "*/test_*.py", "*_test.py"):
            return True
        return "Add tests of the training and scoring code: `tests/test_*.py` run by pytest."


class ML102:
    "Dependencies are locked"

    family = "ML1"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """What CI tests must be what is released: a lock file pins every package, so a
        build today and a build next month install the same versions."""
        if mlops.matching(*LOCK_FILES) or mlops.matching("*requirements*.lock", "*.lock.txt"):
            return True
        if "==" in mlops.declarations and "--hash=" in mlops.declarations:
            return True  # pip-compile --generate-hashes output
        return (
            "Lock the dependencies: commit a `uv.lock` (`uv lock`), `poetry.lock` or a hashed"
            " `requirements.txt`."
        )


class ML103:
    "Tests run automatically on every change"

    family = "ML1"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """The maturity model's DevOps: "Each time you commit, your work is automatically
        built and tested, and bugs are detected faster." A CI config or a pre-commit hook
        that runs the tests both do that."""
        if mlops.ci_runs(TESTS) or _pre_commit_runs_tests(mlops):
            return True
        if problems := _ci_problems(mlops, ".pre-commit-config.yaml"):
            return problems
        if mlops.ci:
            listed = ", ".join(sorted(mlops.ci))
            # The files found may be side pipelines (a schedule, a template update): name
            # them, and where the tests belong.
            return (
                f"No CI job runs the tests ({listed} run none): add a `pytest` step to the"
                f" pipeline that runs on every change ({CI_FILES})."
            )
        return (
            f"Run the tests on every change: add a CI config ({CI_FILES}) with a `pytest`"
            " step, or a `pytest` hook in `.pre-commit-config.yaml`."
        )


class ML104:
    "Lint and format rules are configured"

    family = "ML1"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Shared rules keep code that several people change readable; the maturity model
        asks engineers to "blend together the work of individual engineers in a repository"."""
        linters = ("ruff", "black", "flake8", "pylint")
        sections = [f"[tool.{name}" for name in linters] + ["[flake8]", "[pylint"]
        configured = any(section in mlops.declarations for section in sections)
        if configured or mlops.matching("ruff.toml", ".ruff.toml", ".flake8", ".pylintrc"):
            return True
        hooks = str(mlops.pre_commit)
        if any(name in hooks for name in linters):
            return True
        return "Configure a linter and formatter: `[tool.ruff]` in `pyproject.toml`."


class ML201:
    "Training is a declared pipeline"

    family = "ML2"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Level 2: "Automate training process using pipeline"; experimentation code becomes
        "repeatable scripts/jobs"."""
        if broken := mlops.broken("dvc.yaml"):
            return f"Fix the pipeline file: {'; '.join(broken)}."
        if mlops.dvc_yaml.get("stages") or mlops.matching("MLproject", "*/MLproject"):
            return True
        if "kedro" in mlops.declarations and mlops.matching("*pipeline_registry.py"):
            return True
        return "Declare the training pipeline's stages in `dvc.yaml` (`dvc stage add`)."


class ML202:
    "Data is version controlled with a remote to share it"

    family = "ML2"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Level 2: "Make Code, Data, Model tracked, saved and version controlled". Data
        tracked by DVC with a remote can be fetched by CI and by a colleague."""
        if ".dvc/config" not in mlops.files:
            return (
                "Track the data with DVC: `dvc init`, `dvc add data/raw/...`, commit the `.dvc`"
                " files."
            )
        if not mlops.dvc_remotes:
            return (
                "Add a DVC remote to share the data: `dvc remote add --default <name> <url>` (in"
                " `.dvc/config`)."
            )
        return True


class ML203:
    "Experiments are tracked"

    family = "ML2"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Level 2: "Experiment results tracked" (at levels 0 and 1 "Experiments aren't
        predictably tracked")."""
        if mlops.uses("dvclive", "mlflow", "wandb", "neptune", "clearml", "aim", "comet-ml"):
            return True
        return "Track experiments: log parameters and metrics with DVCLive or MLflow."


class ML204:
    "Parameters live in configuration, not in code"

    family = "ML2"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """A run is reproducible and comparable when what changes between runs (model,
        hyperparameters, data paths) is a versioned config file."""
        if mlops.matching("params.yaml", "conf/*.yaml", "configs/*.yaml", "config/*.yaml"):
            return True
        stages = mlops.dvc_yaml.get("stages") or {}
        if any(isinstance(s, dict) and s.get("params") for s in stages.values()):
            return True
        return "Move hyperparameters into config: `params.yaml` or Hydra's `conf/`."


class ML205:
    "Input data is validated against a schema"

    family = "ML2"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """A pipeline that "gathers data automatically" must stop on bad data rather than
        train on it."""
        if mlops.uses("pandera", "great-expectations", "great_expectations", "pointblank"):
            return True
        return "Validate the input data before training, e.g. a pandera schema in the pipeline."


class ML206:
    "The training pipeline runs in CI"

    family = "ML2"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Level 2 automates training: the pipeline runs without a data scientist's
        machine, and its results are compared in review."""
        if mlops.ci_runs(PIPELINE):
            return True
        if problems := _ci_problems(mlops):
            return problems
        return f"Reproduce the pipeline in CI: a job that runs `dvc repro` ({CI_FILES})."


class ML207:
    "Models are versioned in a registry"

    family = "ML2"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Level 2: "Both training code and resulting models are version controlled"."""
        if mlops.dvc_yaml.get("artifacts") or "register_model" in mlops.code:
            return True
        if "registered_model_name" in mlops.code:
            return True
        return (
            "Register the model: an `artifacts:` entry in `dvc.yaml` (or the MLflow model"
            " registry)."
        )


class ML301:
    "A validation gate compares each candidate with production"

    family = "ML3"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Level 3: "Certify model" is automated; "unit and integration tests for each
        model release" and a new model replaces the old only when it is as good."""
        stages = mlops.dvc_yaml.get("stages") or {}
        if any("gate" in name for name in stages) or mlops.ci_runs(r"\bgate\b"):
            return True
        return (
            "Add a validation gate: a `gate` stage that scores the candidate against the"
            " production model."
        )


class ML302:
    "CI builds the model's serving image"

    family = "ML3"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Level 3: "Package model [...] automated"; what is tested is what is deployed."""
        dockerfiles = mlops.matching("Dockerfile", "*/Dockerfile", "Dockerfile.*", "Containerfile")
        if not dockerfiles:
            return "Package the scoring service as an image: add a `Dockerfile`."
        if mlops.ci_runs(IMAGE):
            return True
        if problems := _ci_problems(mlops):
            return problems
        return f"Build the image in CI: a `docker build` step ({CI_FILES})."


class ML303:
    "Releases go through deployment environments with an approval"

    family = "ML3"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Level 3: "Release managed by continuous delivery (CI/CD) pipeline"; staging
        before production, a person approving the last step."""
        for document in mlops.ci.values():
            jobs = [job for job in _jobs(document) if isinstance(job, dict)]
            if any("environment" in job for job in jobs):
                return True
        if problems := _ci_problems(mlops):
            return problems
        return "Deploy from CI through environments (staging, production) with a required approval."


class ML304:
    "Each model version has a model card"

    family = "ML3"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Model validation includes "interpretability/fairness"; a card per version says
        what the model is for, how it was measured and where it fails."""
        if mlops.matching("*model_card*", "*MODEL_CARD*", "*model-card*"):
            return True
        if "model_card" in str(mlops.dvc_yaml) or "model-card" in str(mlops.dvc_yaml):
            return True
        return "Write a model card per version: a pipeline stage that renders `model_card.md`."


class ML401:
    "Predictions are logged"

    family = "ML4"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Level 4: "Implementing post-deployment metrics gathering"; drift and performance
        can only be measured on what the service saw and answered."""
        if "prediction_log" in mlops.code or "log_prediction" in mlops.code:
            return True
        return "Log each prediction (inputs, output, model version, time) from the scoring service."


class ML402:
    "Data and prediction drift are monitored"

    family = "ML4"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Four key aspects: "Automatic monitoring with established performance thresholds
        on models and/or statistical tests on data, that trigger alerts"."""
        if mlops.uses("evidently", "nannyml", "alibi-detect", "whylogs", "deepchecks"):
            return True
        stages = mlops.dvc_yaml.get("stages") or {}
        if any("monitor" in name or "drift" in name for name in stages):
            return True
        if "drift" in mlops.code and "monitor" in mlops.code:
            return True
        return (
            "Monitor drift: a job that compares live inputs and predictions with the training data."
        )


class ML403:
    "Retraining is triggered automatically"

    family = "ML4"

    @staticmethod
    def check(mlops: Evidence) -> bool | str:
        """Level 4: "Retraining triggered automatically based on production metrics"."""
        scheduled = [path for path, document in mlops.ci.items() if _scheduled(document)]
        retrains = [path for path in scheduled if path in mlops.ci_runs(PIPELINE)]
        if any(_gitlab_schedule_runs(mlops.ci[path], PIPELINE) for path in retrains):
            return True
        if problems := _ci_problems(mlops):
            return problems
        return (
            "Schedule monitoring in CI and retrain past its thresholds: a scheduled job that"
            " runs `dvc repro`."
        )


def _jobs(document: dict[str, object]) -> list[object]:
    """The jobs of a GitHub workflow, a GitLab CI file or an Azure pipeline."""
    if isinstance(document.get("jobs"), dict):  # GitHub
        return list(document["jobs"].values())  # type: ignore[union-attr]
    if isinstance(document.get("stages"), list) and any(
        isinstance(stage, dict)
        for stage in document["stages"]  # type: ignore[union-attr]
    ):  # Azure: stages of jobs
        return [
            job
            for stage in document["stages"]  # type: ignore[union-attr]
            if isinstance(stage, dict)
            for job in stage.get("jobs", [])
        ]
    if isinstance(document.get("jobs"), list):  # Azure: jobs only
        return list(document["jobs"])  # type: ignore[arg-type]
    return [  # GitLab: every top-level key but its keywords and hidden (".") templates
        value
        for key, value in document.items()
        if key not in GITLAB_KEYWORDS and not str(key).startswith(".")
    ]


def _gitlab_schedule_runs(document: dict[object, object], pattern: str) -> bool:
    """Whether the file's schedule runs ``pattern``: any file of GitHub or Azure (a
    scheduled workflow or pipeline runs whole); in GitLab's one file, a job that a
    schedule rule starts and whose script runs it (other jobs may run it on merges only)."""
    if not _scheduled(document) or "CI_PIPELINE_SOURCE" not in str(document):
        return True
    return any(
        isinstance(job, dict)
        and "schedule" in str(job.get("rules", ""))
        and re.search(pattern, str(job.get("script", "")))
        for job in document.values()
    )


def _scheduled(document: dict[object, object]) -> bool:
    triggers = document.get("on", document.get(True))  # YAML 1.1 reads `on:` as true
    if isinstance(triggers, dict) and "schedule" in triggers:
        return True
    if document.get("schedules"):  # Azure
        return True
    return "schedule" in str(document) and "CI_PIPELINE_SOURCE" in str(document)  # GitLab


CHECKS = (
    ML001,
    ML002,
    ML101,
    ML102,
    ML103,
    ML104,
    ML201,
    ML202,
    ML203,
    ML204,
    ML205,
    ML206,
    ML207,
    ML301,
    ML302,
    ML303,
    ML304,
    ML401,
    ML402,
    ML403,
)
