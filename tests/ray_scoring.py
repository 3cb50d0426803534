"""The generated `score --on-ray` switch, run as the level-2 docs say: Ray Data added with
`uv add`, then the command on a folder of Parquet files, on the Ray instance it starts on
this machine; then the project's own tests of it, which skip until Ray is there."""

from __future__ import annotations

import shutil
from pathlib import Path

from generated import console_script, run, uv

# The penguins in two Parquet files, an id on each row and, on the eighth, an infinite
# length the model refuses.
_ROWS = """
import sys
from pathlib import Path
import numpy as np
from palmerpenguins import load_penguins
rows = load_penguins().assign(row_id=np.arange(344))
rows.loc[7, "bill_length_mm"] = np.inf
folder = Path(sys.argv[1])
folder.mkdir()
rows.iloc[:200].to_parquet(folder / "a.parquet")
rows.iloc[200:].to_parquet(folder / "b.parquet")
"""

# What came out: the scored rows numbered as the input's rows, the refused one with why.
_OUTPUT = (
    "import pandas as pd;"
    "scored = pd.read_parquet('ray-scored');"
    "rejected = pd.read_parquet('ray-scored.rejected');"
    "print((scored.row == scored.row_id + 1).all(),"
    " sorted(scored.row_id) == [i for i in range(344) if i != 7],"
    " scored.prediction.notna().all(), rejected.row.tolist(), rejected.reason[0])"
)

# Level 4: the run's log beside the service's, every scored row under its row number.
_LOG = (
    "import pandas as pd, pathlib;"
    "(log,) = pathlib.Path('logs/predictions').glob('batch-*.parquet');"
    "logged = pd.read_parquet(log);"
    "print(sorted(logged.row) == [i for i in range(1, 345) if i != 8], log)"
)


def check_batch_on_ray(project: Path, *, logged: bool) -> None:
    """``logged``: the render is at level 4, where the run writes the prediction log."""
    run(project, uv(), "add", "--quiet", "ray[data]>=2.40")
    run(project, uv(), "run", "--no-sync", "python", "-c", _ROWS, "ray-rows")
    # The command line is named after the project, as its README's commands are.
    score = [uv(), "run", console_script(project), "score", "ray-rows", "--output", "ray-scored"]
    log = run(project, *score, "--on-ray")
    assert "Scored 343 rows into ray-scored" in log.stdout, log.stdout
    assert "Rejected 1 rows; the rows and why are in ray-scored.rejected" in log.stderr
    checked = run(project, uv(), "run", "--no-sync", "python", "-c", _OUTPUT).stdout.strip()
    assert checked == "True True True [8] bill_length_mm: inf is infinite", checked
    made = [project / name for name in ("ray-rows", "ray-scored", "ray-scored.rejected")]
    if logged:
        found = run(project, uv(), "run", "--no-sync", "python", "-c", _LOG).stdout.split()
        assert found[0] == "True", found
        made.append(project / found[1])
    tests = run(project, uv(), "run", "--no-sync", "pytest", "-q", "tests/test_batch_on_ray.py")
    assert "5 passed" in tests.stdout and "skipped" not in tests.stdout, tests.stdout
    # With Ray's own type information, the module still passes strict mypy.
    run(project, uv(), "run", "--no-sync", "mypy")
    for path in made:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
