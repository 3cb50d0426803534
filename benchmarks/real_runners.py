"""Generated CI on its real runners, and every level's images on a real Docker daemon:
wall times and image sizes.

- Level 1's `ci.yml` for a push (lint, tests, image build and smoke test) on act, and its
  GitLab pipeline (lint, test, model, build-image) on gitlab-ci-local, each on a shallow
  clone: a first run, then the same run again (warm: uv's cache, the runner's tools and
  the daemon's layers from the first).
- Each level's service image (and from level 2 its training image): a cold build (BuildKit's
  layers and uv's cache mount emptied first, so the build downloads its packages from the
  index, as on a fresh runner), a rebuild with nothing changed, and the image size.

Needs the engines: ./dev engines python benchmarks/real_runners.py [--levels 1 2 3 4]
Imports the tests' runner helpers (tests/real_ci.py, tests/engines.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from engines import build_image, ensure_base_images, image_size, run_docker
from generated import console_script, run, template_snapshot, uv
from real_ci import run_pipeline, run_workflow, shallow_checkout

from mlops_ladder.render import copier_copy


def _runners(scratch: Path, template: str) -> None:
    print("| runner | what ran | first run s | warm run s |")
    print("|---|---|---|---|")
    for provider in ("github", "gitlab"):
        data = {"maturity_level": 1, "ci_provider": provider, "initialize_git": True}
        project = copier_copy(scratch / provider / "project", data, template=template)
        checkout = shallow_checkout(project, scratch / provider)
        ensure_base_images(checkout / "Dockerfile")
        seconds = []
        for _ in range(2):
            if provider == "github":
                outcome = run_workflow(checkout, "ci.yml", "push", scratch / provider)
                what = "ci.yml on push: " + ", ".join(sorted(outcome.jobs))
            else:
                jobs = ["lint", "test", "model", "build-image"]
                outcome = run_pipeline(checkout, jobs, scratch / provider)
                what = ".gitlab-ci.yml: " + ", ".join(jobs)
            seconds.append(outcome.seconds)
        runner = "act" if provider == "github" else "gitlab-ci-local"
        print(f"| {runner} | {what} | {seconds[0]:.0f} | {seconds[1]:.0f} |")


def _images(scratch: Path, levels: list[int]) -> None:
    print("| level | image | first build s | rebuild s | size MB |")
    print("|---|---|---|---|---|")
    for level in levels:
        data = {"maturity_level": level, "ci_provider": "none", "initialize_git": True}
        project = copier_copy(scratch / f"level{level}", data)
        run(project, uv(), "sync", "--locked", "--quiet")
        if level >= 2:
            run(project, uv(), "run", "--no-sync", "dvc", "repro")
        else:
            run(project, uv(), "run", "--no-sync", console_script(project), "train")
        for dockerfile in ("Dockerfile", "Dockerfile.train"):
            if not (project / dockerfile).is_file():
                continue
            ensure_base_images(project / dockerfile)
            tag = f"mlops-ladder-bench/level{level}-{dockerfile.lower().replace('.', '-')}"
            run_docker("builder", "prune", "--all", "--force")
            first = build_image(project, dockerfile, tag)
            again = build_image(project, dockerfile, tag)
            size = image_size(tag) / 1e6
            print(f"| {level} | {dockerfile} | {first:.0f} | {again:.1f} | {size:.0f} |")
            run_docker("image", "rm", tag)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--skip-runners", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        if not args.skip_runners:
            template = f"git+file://{template_snapshot(scratch / 'template')}"
            started = time.monotonic()
            _runners(scratch, template)
            print(f"\n(runners: {time.monotonic() - started:.0f} s in all)\n")
        _images(scratch, args.levels)


if __name__ == "__main__":
    main()
