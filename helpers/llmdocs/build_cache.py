"""Files that builds keep for the next build: JSON, written whole or not at all.

Best effort both ways: a damaged or missing file reads as missing (the caller computes the
value again and rewrites it), and a checkout that cannot be written builds without a cache.
Reading a file marks it as used (its mtime), and `prune` keeps the most recently used ones,
so that edits (each a new key) do not grow a folder without end.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any


def load(path: Path) -> Any | None:
    """The value saved at ``path``, or None when there is none or it cannot be read."""
    text = load_text(path)
    try:
        return None if text is None else json.loads(text)
    except ValueError:
        return None


def save(path: Path, value: Any) -> None:
    """Save ``value`` at ``path`` atomically (a reader never sees half a file)."""
    save_text(path, json.dumps(value, ensure_ascii=False))


def load_text(path: Path) -> str | None:
    """The text saved at ``path`` (by `save_text`), or None; marks it as used, as `load` does.

    Bytes, decoded: text mode would turn a saved "\\r\\n" into "\\n", and its newline
    translation took twice as long as reading and decoding (kept page renders, 4.6 MB)."""
    try:
        text = path.read_bytes().decode("utf-8")
        os.utime(path)
    except (OSError, ValueError):
        return None
    return text


def save_text(path: Path, text: str) -> None:
    """Save ``text`` at ``path`` atomically, as `save` does a JSON value."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(text.encode("utf-8"))
        os.replace(temporary, path)
    except (OSError, ValueError):  # ValueError: text that UTF-8 cannot hold (a lone surrogate)
        pass


def prune(folder: Path, keep: int, suffix: str = ".json") -> None:
    """Delete all but the ``keep`` most recently used ``suffix`` files of ``folder``."""
    try:
        files = [(entry.stat().st_mtime_ns, entry.path) for entry in os.scandir(folder)
                 if entry.name.endswith(suffix)]
        for _, path in sorted(files, reverse=True)[keep:]:
            os.unlink(path)
    except OSError:
        pass


@cache
def code_digest(*sources: Path) -> str:
    """A hash of the code that produces a cached value: a change to it computes the value again."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()
