{%- if cookiecutter is at_level(2) -%}
"""The project's command line: ``score`` files with the pipeline's model, ``serve`` it over
HTTP, and run the ``pipeline``'s commands. Training is the DVC pipeline's (``make train``)."""
{%- elif cookiecutter is at_level(1) -%}
"""The project's command line: ``train`` a model, ``score`` files or ``serve`` it over HTTP."""
{%- else -%}
"""The project's command line: ``train`` a model, then ``score`` files with it."""
{%- endif %}

from __future__ import annotations
{% if cookiecutter is at_level(1) %}
import copy
{%- endif %}
{%- if cookiecutter is at_level(4) %}
import logging
{%- endif %}
{%- if not cookiecutter is at_level(2) %}
from dataclasses import replace
{%- endif %}
from pathlib import Path
from typing import Annotated

import typer

import {{ cookiecutter.package_name }}
from {{ cookiecutter.package_name }} import batch
from {{ cookiecutter.package_name }} import score as scoring
{%- if not cookiecutter is at_level(2) %}
from {{ cookiecutter.package_name }} import train as training
{%- endif %}
from {{ cookiecutter.package_name }}.config import Settings
{%- if cookiecutter is at_level(2) %}
from {{ cookiecutter.package_name }}.data import DataError
from {{ cookiecutter.package_name }}.pipeline.commands import (
    app as pipeline_app,
)
{%- else %}
from {{ cookiecutter.package_name }}.data import DataError, load_raw
{%- endif %}
{%- if cookiecutter is at_level(4) %}
from {{ cookiecutter.package_name }}.serving.prediction_log import (
    MAX_FOLDER_BYTES,
)
{%- endif %}

app = typer.Typer(
    help={{ cookiecutter.package_name }}.__doc__,
    no_args_is_help=True,
    add_completion=False,
)
{%- if cookiecutter is at_level(2) %}
# The stages dvc.yaml runs and the commands that act on their results. The group imports
# each command's libraries when it runs, so `score` and `serve` work without them.
app.add_typer(pipeline_app, name="pipeline")
{%- endif %}

DEFAULTS = Settings()
ModelOption = Annotated[Path, typer.Option("--model", help="Model file.")]
{%- if cookiecutter is at_level(3) %}
# The image names the model it carries, its skops copy, in MODEL_PATH: `score` run in the
# image scores with the model the service answers with, as `serve` does.
ScoreModelOption = Annotated[
    Path, typer.Option("--model", envvar="MODEL_PATH", help="Model file (.joblib or .skops).")
]
{%- else %}
ScoreModelOption = ModelOption
{%- endif %}


def _fail(error: Exception) -> typer.Exit:
    typer.secho(f"Error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)
{%- if cookiecutter is at_level(1) %}


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    limit_concurrency: Annotated[
        int | None,
        typer.Option(
            envvar="LIMIT_CONCURRENCY",
            min=1,
            help="Open connections (or requests in flight, the arriving one counted) at "
            "which the service answers 503 at once rather than queue more; none: no limit.",
        ),
    ] = None,
    timeout_keep_alive: Annotated[
        int,
        typer.Option(
            envvar="TIMEOUT_KEEP_ALIVE",
            min=1,
            help="Seconds an idle connection is kept open for its next request.",
        ),
    ] = 5,
{%- if cookiecutter is at_level(3) %}
    model: Annotated[
        Path, typer.Option("--model", envvar="MODEL_PATH", help="The champion's model file.")
    ] = DEFAULTS.model_path,
    challenger: Annotated[
        Path | None,
        typer.Option(envvar="CHALLENGER_MODEL", help="A challenger's model file."),
    ] = None,
    challenger_fraction: Annotated[
        float,
        typer.Option(
            envvar="CHALLENGER_FRACTION", help="Share of requests the challenger answers."
        ),
    ] = 0.0,
{%- if cookiecutter is at_level(4) %}
    prediction_log: Annotated[
        Path,
        typer.Option(
            envvar="PREDICTION_LOG_DIR", help="Folder the service logs every prediction to."
        ),
    ] = Path("logs/predictions"),
    prediction_log_mb: Annotated[
        int,
        typer.Option(
            envvar="PREDICTION_LOG_MB",
            min=1,
            help="Megabytes the folder keeps: the latest predictions, the oldest deleted.",
        ),
    ] = MAX_FOLDER_BYTES // 2**20,
    prediction_log_url: Annotated[
        str | None,
        typer.Option(
            envvar="PREDICTION_LOG_URL",
            help="s3://bucket/prefix to log predictions to instead (the s3 extra).",
        ),
    ] = None,
    drift_report: Annotated[
        Path,
        typer.Option(envvar="DRIFT_REPORT", help="The monitor's report, shown on /metrics."),
    ] = Path("reports/drift.json"),
    refuse_out_of_schema: Annotated[
        bool,
        typer.Option(
            "--refuse-out-of-schema/--flag-out-of-schema",
            envvar="REFUSE_OUT_OF_SCHEMA",
            help="Refuse (422) rows with a category or number training never saw, instead "
            "of answering them and counting them on /metrics.",
        ),
    ] = False,
{%- endif %}
{%- else %}
    model: ModelOption = DEFAULTS.model_path,
{%- endif %}
) -> None:
    """Serve the model over HTTP (/health, /predict, /predict/batch, /metadata, /docs)."""
    # Imported here so that `train` and `score` do not pay for loading the web stack.
    import uvicorn

    # The service is put together here, and only here, from what this level has: which
    # models answer (serving/models.py, serving/routing.py) and the app's extensions.
    from {{ cookiecutter.package_name }}.serving.app import (
        create_app,
        logger,
    )
{%- if not cookiecutter is at_level(3) %}
    from {{ cookiecutter.package_name }}.serving.models import (
        OneModel,
    )
{%- endif %}
{%- if cookiecutter is at_level(4) %}
    from {{ cookiecutter.package_name }}.serving.prediction_log import (
        PredictionLog,
        folder_sink,
    )
{%- endif %}
{%- if cookiecutter is at_level(3) %}
    from {{ cookiecutter.package_name }}.serving.routing import (
        Router,
    )
{%- endif %}
{%- if cookiecutter is at_level(4) %}
    from {{ cookiecutter.package_name }}.serving.telemetry import (
        Telemetry,
    )
{%- endif %}

{%- if cookiecutter is at_level(4) %}

    # A bad log URL is refused before the models load.
    sink = (
        _s3_sink(prediction_log_url)
        if prediction_log_url
        else folder_sink(prediction_log, prediction_log_mb * 2**20)
    )
{%- endif %}

    try:
{%- if cookiecutter is at_level(3) %}
        models = Router.load(model, challenger, challenger_fraction)
{%- else %}
        models = OneModel.load(model)
{%- endif %}
    except DataError as error:
        raise _fail(error) from error
{%- if cookiecutter is at_level(4) %}
    log = PredictionLog(sink)
    service = create_app(
        models, [log, Telemetry(drift_report, log)], refuse_out_of_schema=refuse_out_of_schema
    )
{%- else %}
    service = create_app(models)
{%- endif %}
    # The service logs one line per request, naming the model version that answered; it
    # replaces uvicorn's access log, which cannot know the version.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["loggers"][logger.name] = {"handlers": ["default"], "level": "INFO"}
    # One process per container: replicas of the image scale it out, balanced and restarted
    # by the orchestrator.
{%- if cookiecutter is at_level(4) %}
    # Worker processes would write one prediction log file and split /metrics' counters.
{%- endif %}
    uvicorn.run(
        service,
        host=host,
        port=port,
        access_log=False,
        log_config=log_config,
        limit_concurrency=limit_concurrency,
        timeout_keep_alive=timeout_keep_alive,
    )
{%- endif %}
{%- if cookiecutter is at_level(4) %}


def _s3_sink(url: str) -> logging.Handler:
    """The prediction log's S3 sink, or exit 2 saying why not (a bad URL, no s3 extra)."""
    try:
        from {{ cookiecutter.package_name }}.serving.s3_sink import (
            S3Sink,
        )
    except ModuleNotFoundError as error:
        message = f"PREDICTION_LOG_URL={url} needs the s3 extra (uv sync --extra s3): {error}"
        raise _fail(RuntimeError(message)) from error
    try:
        return S3Sink(url)
    except ValueError as error:
        raise _fail(error) from error
{%- endif %}
{%- if not cookiecutter is at_level(2) %}


@app.command()
def train(
    data: Annotated[
        Path | None,
{%- if cookiecutter.dataset == "sample" %}
        typer.Option(help="Training CSV (default: the bundled penguins sample)."),
{%- else %}
        typer.Option(help="Training CSV (default: data_path in config.py)."),
{%- endif %}
    ] = DEFAULTS.data_path,
    target: Annotated[str, typer.Option(help="Column to predict.")] = DEFAULTS.target,
    model: ModelOption = DEFAULTS.model_path,
    seed: Annotated[int, typer.Option(help="Seed of the split and the model.")] = DEFAULTS.seed,
) -> None:
    """Train on the raw data, report held-out metrics, and save the model."""
    settings = replace(DEFAULTS, data_path=data, target=target, model_path=model, seed=seed)
    try:
        bundle = training.train(load_raw(settings), settings)
    except DataError as error:
        raise _fail(error) from error
    metrics_path = training.save(bundle, settings.model_path)
    for name, value in bundle.metrics.items():
        typer.echo(f"{name}: {value:.4f}")
    typer.echo(f"Model written to {settings.model_path}, metrics to {metrics_path}")
{%- endif %}


def _score_here(
    model: Path,
    input_path: Path,
    output: Path,
    batch_rows: int,
{%- if cookiecutter is at_level(4) %}
    prediction_log: Path,
    log: bool,
{%- endif %}
) -> batch.BatchResult:
    try:
        bundle = scoring.load_model(model)
{%- if cookiecutter is at_level(4) %}
        from {{ cookiecutter.package_name }}.monitoring.batch_log import (
            BatchLog,
        )

        run_log = BatchLog(prediction_log, bundle, scoring.model_version(model)) if log else None
        result = batch.score_file(bundle, input_path, output, batch_rows, log=run_log)
{%- else %}
        result = batch.score_file(bundle, input_path, output, batch_rows)
{%- endif %}
    except DataError as error:
        raise _fail(error) from error
    return result
{%- if cookiecutter is at_level(2) %}


def _score_on_ray(
    model: Path,
    input_path: Path,
    output: Path,
    batch_rows: int,
{%- if cookiecutter is at_level(4) %}
    prediction_log: Path,
    log: bool,
{%- endif %}
) -> batch.BatchResult:
    try:
        from {{ cookiecutter.package_name }}.batch_on_ray import (
            score_on_ray,
        )
    except ImportError as error:
        message = f"--on-ray needs Ray Data ({error}): uv add 'ray[data]>=2.40'"
        raise _fail(RuntimeError(message)) from error
    try:
{%- if cookiecutter is at_level(4) %}
        from {{ cookiecutter.package_name }}.monitoring.batch_log import (
            BatchLog,
        )

        version = scoring.model_version(model)
        run_log = BatchLog(prediction_log, scoring.load_model(model), version) if log else None
        return score_on_ray(model, input_path, output, batch_rows, log=run_log)
{%- else %}
        return score_on_ray(model, input_path, output, batch_rows)
{%- endif %}
    except DataError as error:
        raise _fail(error) from error
{%- endif %}


# Each level adds its commands above this one, so that commands you add below it stay as
# they are when the project climbs a level (copier update).
@app.command()
def score(
    input_path: Annotated[
        Path, typer.Argument(help="Rows to score: a .csv, .parquet or .arrow/.feather file.")
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Where to write the scored rows (.csv, .parquet, .arrow)."
        ),
    ],
    model: ScoreModelOption = DEFAULTS.model_path,
    batch_rows: Annotated[
        int, typer.Option(min=1, help="Rows read, scored and written at a time.")
    ] = batch.BATCH_ROWS,
{%- if cookiecutter is at_level(2) %}
    on_ray: Annotated[
        bool,
        typer.Option(
            "--on-ray",
            help="Score on a Ray cluster (RAY_ADDRESS, or one started here): Parquet in, "
            "a folder of Parquet out. Needs `uv add 'ray[data]'`.",
        ),
    ] = False,
{%- endif %}
{%- if cookiecutter is at_level(4) %}
    prediction_log: Annotated[
        Path,
        typer.Option(
            envvar="PREDICTION_LOG_DIR",
            help="Folder the scored rows are logged to for `monitor`, beside the service's.",
        ),
    ] = Path("logs/predictions"),
    log: Annotated[
        bool, typer.Option("--log/--no-log", help="Log the scored rows for `monitor`.")
    ] = True,
{%- endif %}
) -> None:
    """Add the model's answers to every row of a file, a batch of rows at a time.

    Rows the model cannot take go, with the reason, to OUTPUT's .rejected.csv beside it.
{%- if cookiecutter is at_level(2) %}
    On Ray, OUTPUT is a folder, and they go to the folder OUTPUT.rejected beside it.
{%- endif %}
    """
{%- if cookiecutter is at_level(2) %}
    if on_ray:
{%- if cookiecutter is at_level(4) %}
        result = _score_on_ray(model, input_path, output, batch_rows, prediction_log, log)
{%- else %}
        result = _score_on_ray(model, input_path, output, batch_rows)
{%- endif %}
    else:
{%- if cookiecutter is at_level(4) %}
        result = _score_here(model, input_path, output, batch_rows, prediction_log, log)
{%- else %}
        result = _score_here(model, input_path, output, batch_rows)
{%- endif %}
{%- else %}
    result = _score_here(model, input_path, output, batch_rows)
{%- endif %}
    typer.echo(f"Scored {result.scored} rows into {output}")
    if result.rejected:
        typer.secho(
            f"Rejected {result.rejected} rows; the rows and why are in {result.rejected_path}",
            fg=typer.colors.YELLOW,
            err=True,
        )
