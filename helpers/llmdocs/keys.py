"""Source keys: a hash of a chapter's normalised code cells.

Only what can change an output goes in: each cell's name, tags and code, with trailing
whitespace, blank edge lines and line endings normalised away. Markdown cells and comments
outside code cells do not count, so prose edits never make a chapter stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from .chapters import Cell, Chapter

KEY_VERSION = 1


def normalise_source(source: str) -> str:
    """Code as it is hashed: LF line endings, no trailing spaces, no blank first/last lines."""
    lines = [line.rstrip() for line in source.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def cells_key(cells: Iterable[Cell]) -> str:
    """The key of a sequence of cells, order included."""
    payload = [
        {"name": c.name, "tags": sorted(c.tags), "code": normalise_source(c.source)} for c in cells
    ]
    blob = json.dumps({"v": KEY_VERSION, "cells": payload}, sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def source_key(chapter: Chapter) -> str:
    """The key of a whole chapter."""
    return cells_key(chapter.cells)
