"""One-row scoring by scikit-learn against the onnxruntime copy the service answers with
(level 3, runtime.py), for the trained model and two other model families.

Renders a level-3 project (default answers: classification on the penguins sample) and
trains it. In its environment it times one-row calls of the trained pipeline, and of a
random forest and a gradient boosting fitted on the same preprocessing, by scikit-learn
(on a one-row DataFrame) and by the runtime's copy (from a request-like dict, as the
service calls it); it compares the two on the whole table, and says whether training keeps
the copy (`runtime.attach` at its tolerance) or leaves the model to scikit-learn.
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
import dataclasses, statistics, sys, timeit
from pathlib import Path
import numpy as np
import pandas as pd
from palmerpenguins import load_penguins
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from penguin_model.runtime import Runtime, attach
from penguin_model.score import load_model

calls = int(sys.argv[1])
bundle = load_model(Path("models/model.joblib"))
table = load_penguins().dropna(subset=[bundle.target])
rows, target = table[bundle.features], table[bundle.target]


def requests(frame):
    # The rows as the service receives them: dicts, None for a missing value.
    records = frame.to_dict("records")
    return [{c: None if pd.isna(v) else v for c, v in row.items()} for row in records]


def median_ms(call):
    call()
    return statistics.median(timeit.repeat(call, number=1, repeat=calls)) * 1000


def refit(estimator):
    pipeline = clone(bundle.pipeline).set_params(model=estimator)
    return dataclasses.replace(bundle, pipeline=pipeline.fit(rows, target))


models = {
    f"{type(bundle.pipeline[-1]).__name__} (trained)": bundle,
    "RandomForestClassifier (100 trees)": refit(RandomForestClassifier(random_state=0)),
    "HistGradientBoostingClassifier": refit(HistGradientBoostingClassifier(random_state=0)),
}
for name, candidate in models.items():
    # Kept whatever its difference, to time it; at the template's tolerance, training
    # would keep it or leave the model to scikit-learn (the last column).
    timed = attach(candidate, table, tolerance=float("inf"))
    runtime = Runtime.of(timed)
    if runtime is None:
        print(f"| {name} | - | - | - | no: {timed.onnx_note} |")
        continue
    kept = Runtime.of(attach(candidate, table)) is not None
    one = rows.iloc[[0]]
    request = requests(one)
    sklearn_ms = median_ms(lambda: candidate.pipeline.predict_proba(one))
    runtime_ms = median_ms(lambda: runtime.predict(request))
    got = np.asarray(runtime.predict(requests(rows))[1])
    gap = np.abs(candidate.pipeline.predict_proba(rows) - got).max()
    answer = "yes" if kept else "no: scikit-learn answers"
    print(f"| {name} | {sklearn_ms:.3f} | {runtime_ms:.3f} | {gap:.1e} | {answer} |")
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
            "| max probability difference | copy kept (tolerance 1e-4) |"
        )
        print("|---|---|---|---|---|")
        subprocess.run(
            [*run, "python", "-c", _COMPARE, str(args.calls)], cwd=project, env=env, check=True
        )


if __name__ == "__main__":
    main()
