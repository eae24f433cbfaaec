"""Compile each theme template once, not on every build.

MkDocs gives every build a new Jinja environment, and static-i18n runs one build per
language, so Material's templates were compiled twice per build and again on every
`mkdocs serve` rebuild (about a quarter of a rebuild's time in a profile). Jinja's own
bytecode cache keeps the compiled templates in .cache/jinja, keyed by each template's
source, so an edited template (overrides/) is compiled again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache


def on_env(env: Environment, config: Any, files: Any) -> Environment:
    folder = Path(config["config_file_path"]).resolve().parent / ".cache" / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only checkout builds without the cache
        return env
    env.bytecode_cache = FileSystemBytecodeCache(str(folder))
    return env
