"""Cookiecutter post-generation hook: the same steps Copier runs as its task."""

import sys
from pathlib import Path

sys.path.insert(0, r"{{ hooks_dir }}")

from post_gen import main  # noqa: E402

sys.exit(
    main(
        [
            str(Path.cwd()),
            "--operation=copy",
            "--init-git={{ cookiecutter.initialize_git | lower }}",
            "--author-name=" + {{ cookiecutter.author_name | quoted }},
            "--author-email=" + {{ cookiecutter.author_email | quoted }},
        ]
    )
)
