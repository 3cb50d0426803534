"""Rendering from an installed wheel as if from the template's published release.

A project must record where its template lives and which release made it (Copier's
``_src_path`` and ``_commit``): `update`, `climb` and `check-update` read the releases
there, and so do the generated template-update job and Renovate. A wheel carries the
template's files, not its git history, and a path into site-packages is no source a
teammate or a CI runner can reach. So a render from the wheel is a render of the wheel's
release tag at the package's ``Source`` URL, served from the wheel's own files: git's
``url.<base>.insteadOf`` (the standard mirror setting, given for Copier's git calls only)
sends that one URL to a local repository made from the packaged template and tagged with
the package's version. Copier then records the URL and the tag itself, exactly as
``copier copy --vcs-ref vX.Y.Z URL`` would, with no network.

The release workflow builds the wheel from that tag, so the tag's files and the wheel's
are the same files; `tests/test_release.py` renders both ways and compares.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "mlops-ladder"
SOURCE_LABEL = "Source"  # the [project.urls] entry that names the template's repository
COPIER_CACHE_DIR = "COPIER_CACHE_DIR"  # where Copier keeps its mirrors of remote templates


@dataclass(frozen=True)
class Release:
    source: str  # the git URL projects record and update from
    tag: str  # the release tag this wheel was built from (vX.Y.Z)


def installed_release() -> Release:
    """The release the installed package was built from, read from its metadata."""
    meta = metadata.metadata(DISTRIBUTION)
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip() == SOURCE_LABEL:
            return Release(source=url.strip(), tag=f"v{meta['Version']}")
    raise LookupError(
        f"The installed {DISTRIBUTION} names no {SOURCE_LABEL} URL in its metadata: "
        "projects rendered from it would not know where to update from."
    )


@contextmanager
def served_from(files: Path, release: Release) -> Iterator[str]:
    """Serve ``release.source`` at ``release.tag`` from ``files`` for the git calls made
    inside the block (Copier's); yields the URL to render from."""
    identity = {"GIT_AUTHOR_NAME": DISTRIBUTION, "GIT_AUTHOR_EMAIL": "release@localhost"}
    with tempfile.TemporaryDirectory(prefix="mlops-ladder-release-") as scratch:
        mirror = Path(scratch) / "template"
        shutil.copytree(files, mirror, ignore=shutil.ignore_patterns("__pycache__"))
        for args in (
            ("init", "--quiet", "--initial-branch=main"),
            ("add", "--all"),
            ("commit", "--quiet", "--no-verify", "-m", f"{DISTRIBUTION} {release.tag}"),
            ("tag", release.tag),
        ):
            subprocess.run(
                ["git", *args],
                cwd=mirror,
                check=True,
                capture_output=True,
                env={
                    **os.environ,
                    **identity,
                    "GIT_COMMITTER_NAME": identity["GIT_AUTHOR_NAME"],
                    "GIT_COMMITTER_EMAIL": identity["GIT_AUTHOR_EMAIL"],
                },
            )
        redirect = {f"url.{mirror.as_uri()}.insteadOf": _clone_url(release.source)}
        # Copier keeps a mirror of each remote template, keyed by its URL, and refreshes
        # it from wherever git's settings send that URL. Rendered here, the real URL's
        # mirror would take this one-off repository's refs (its other tags pruned): the
        # packaged release's mirror lives and dies with the block instead.
        cache = {COPIER_CACHE_DIR: str(Path(scratch) / "copier-cache")}
        with _environment({**_git_config(redirect), **cache}):
            yield release.source


def _clone_url(source: str) -> str:
    # What git is asked to clone: Copier drops a "git+" prefix before it calls git.
    return source.removeprefix("git+")


def _git_config(settings: dict[str, str]) -> dict[str, str]:
    """git settings as environment variables (GIT_CONFIG_COUNT, git 2.31+), after the
    caller's own GIT_CONFIG_* settings (a mirror, say), which stay in force; the user's
    configuration files are not touched."""
    start = int(os.environ.get("GIT_CONFIG_COUNT") or 0)
    variables = {"GIT_CONFIG_COUNT": str(start + len(settings))}
    for index, (key, value) in enumerate(settings.items(), start):
        variables[f"GIT_CONFIG_KEY_{index}"] = key
        variables[f"GIT_CONFIG_VALUE_{index}"] = value
    return variables


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """These environment variables for Copier and the git calls it makes, inside the block.

    Copier runs git through plumbum, whose environment is a copy of os.environ taken at
    import, and reads its own settings from os.environ: the variables go into both.
    """
    from plumbum import local

    before = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        with local.env(**variables):
            yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
