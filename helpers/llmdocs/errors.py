"""Typed errors. Each message names the file at fault and says what to do about it."""

from __future__ import annotations


class LlmdocsError(Exception):
    """Base class for every error llmdocs raises on purpose."""


class ChapterError(LlmdocsError):
    """A snippet chapter is malformed: missing, duplicate or invalid cell names."""


class StoreError(LlmdocsError):
    """A stored output file is missing, corrupt or hand-edited."""


class CellFailure(LlmdocsError):
    """A cell raised, or ran past its timeout, while a chapter executed."""

    def __init__(self, chapter_file: str, cell: str, line: int | None, reason: str) -> None:
        self.chapter_file = chapter_file
        self.cell = cell
        self.line = line
        self.reason = reason
        where = f"{chapter_file}:{line}" if line else chapter_file
        super().__init__(f"{where}: cell '{cell}' failed: {reason}")
