"""What an inference runtime would give one-row scoring: the fitted pipeline called by
scikit-learn against the same pipeline converted to ONNX (skl2onnx) and run by
onnxruntime, in a rendered project's environment.

Not something the template does (yet): it measures the lever that issue 5's one-row
/predict target needs (see RESULTS.md). Renders a level-3 project (default answers:
classification on the penguins sample) and trains it. In its environment, with skl2onnx
and onnxruntime (and protobuf below 7, see main) added for this run only (`uv run
--with`), it times one-row calls of the trained pipeline, and of a random forest and a
gradient boosting fitted on the same preprocessing (the runtime's input built from a
request-like dict, as a service would, without a DataFrame), and compares the runtime's
probabilities with scikit-learn's on the whole table.

The conversion needs one change: skl2onnx converts an imputer of string categories only
when its missing value is a string, and the template's categorical imputer looks for NaN.
The converted copy's categorical imputers look for "" instead (their fitted statistics
unchanged), and the runtime is fed "" for a missing category.
Run:
    uv run python benchmarks/inference_runtime.py [--calls 500]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from mlops_ladder.project_env import project_env
from mlops_ladder.render import copier_copy

# Runs in the project's environment; prints one Markdown table row per model.
_COMPARE = """
import copy, statistics, sys, timeit
from pathlib import Path
import numpy as np
import pandas as pd
from palmerpenguins import load_penguins
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
import onnxruntime
from penguin_model.score import load_model

calls = int(sys.argv[1])
bundle = load_model(Path("models/model.joblib"))
table = load_penguins().dropna(subset=[bundle.target])
rows, target = table[bundle.features], table[bundle.target]
numeric = bundle.numeric_features
categorical = [c for c in bundle.features if c not in numeric]


def runtime_session(pipeline):
    converted = copy.deepcopy(pipeline)
    for _, transformer, columns in converted[0].transformers_:
        if set(columns) <= set(categorical) and hasattr(transformer, "steps"):
            for _, step in transformer.steps:
                if isinstance(step, SimpleImputer):
                    step.missing_values = ""
    types = [
        (c, FloatTensorType([None, 1]) if c in numeric else StringTensorType([None, 1]))
        for c in bundle.features
    ]
    # zipmap off: probabilities as one array, not a list of dicts.
    conversion = {id(converted[-1]): {"zipmap": False}}
    model = to_onnx(converted, initial_types=types, options=conversion)
    session = onnxruntime.SessionOptions()
    session.intra_op_num_threads = session.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(model.SerializeToString(), session)


def requests(frame):
    # The rows as a service receives them: dicts, None for a missing value.
    records = frame.to_dict("records")
    return [{c: None if pd.isna(v) else v for c, v in row.items()} for row in records]


def feed(records):
    # As a service would build it from validated requests: no DataFrame.
    return {
        c: np.array([[np.nan if r[c] is None else r[c]] for r in records], dtype=np.float32)
        if c in numeric
        else np.array([["" if r[c] is None else r[c]] for r in records], dtype=object)
        for c in bundle.features
    }


def median_ms(call):
    call()
    return statistics.median(timeit.repeat(call, number=1, repeat=calls)) * 1000


def refit(estimator):
    pipeline = clone(bundle.pipeline)
    pipeline.steps[-1] = (pipeline.steps[-1][0], estimator)
    return pipeline.fit(rows, target)


models = {
    f"{type(bundle.pipeline[-1]).__name__} (trained)": bundle.pipeline,
    "RandomForestClassifier (100 trees)": refit(RandomForestClassifier(random_state=0)),
    "HistGradientBoostingClassifier": refit(HistGradientBoostingClassifier(random_state=0)),
}
for name, pipeline in models.items():
    try:
        session = runtime_session(pipeline)
    except Exception as error:  # what skl2onnx cannot convert is a finding, not a crash
        reason = " ".join(str(error).split())[:80]
        print(f"| {name} | - | conversion failed: {type(error).__name__}: {reason} | - | - |")
        continue
    one = rows.iloc[[0]]
    request = requests(one)
    sklearn_ms = median_ms(lambda: pipeline.predict_proba(one))
    runtime_ms = median_ms(lambda: session.run(None, feed(request)))
    expected = pipeline.predict_proba(rows)
    got = session.run(None, feed(requests(rows)))[1]
    agree = (expected.argmax(axis=1) == got.argmax(axis=1)).mean()
    gap = np.abs(expected - got).max()
    print(f"| {name} | {sklearn_ms:.3f} | {runtime_ms:.3f} | {gap:.1e} | {agree:.4f} |")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=500, help="timed one-row calls per model")
    args = parser.parse_args()
    uv = shutil.which("uv")
    assert uv, "uv must be on the PATH"
    with tempfile.TemporaryDirectory() as scratch:
        project = copier_copy(Path(scratch) / "p", {"maturity_level": 3})
        env = project_env()
        subprocess.run([uv, "sync", "--locked", "--quiet"], cwd=project, env=env, check=True)
        run = [uv, "run", "--no-sync"]
        subprocess.run([*run, "penguin-model", "train"], cwd=project, env=env, check=True)
        print(
            "| pipeline (one row) | scikit-learn ms | onnxruntime ms (feed included) "
            "| max probability difference | same class |"
        )
        print("|---|---|---|---|---|")
        # skl2onnx 1.20's tree-ensemble converter hands protobuf 7 a bool where it wants
        # an int (TypeError) and cannot convert HistGradientBoosting; protobuf 6 takes it.
        runtime = ["skl2onnx", "onnxruntime", "protobuf<7"]
        with_runtime = [*run, *(item for name in runtime for item in ("--with", name))]
        subprocess.run(
            [*with_runtime, "python", "-c", _COMPARE, str(args.calls)],
            cwd=project,
            env=env,
            check=True,
        )


if __name__ == "__main__":
    main()
