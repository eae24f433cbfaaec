"""Read snippet chapters: percent-format scripts whose code cells each carry a stable name.

A chapter is ``snippets/<chapter>.py``. Cells start with ``# %% <name>``; jupytext parses
them (the name becomes the cell's ``title`` metadata), we only add the names' checks and
the line on which each cell starts, so errors and tracebacks can point into the file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from . import build_cache
from .errors import ChapterError

CELL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
CHAPTER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
KEEP_PARSED = 500  # parsed chapters kept in .llmdocs-cache/chapters/ (the most recently used)


@dataclass(frozen=True)
class Cell:
    """One named code cell of a chapter."""

    name: str
    source: str
    line: int  # 1-based line of the cell's first source line in the chapter file
    tags: tuple[str, ...] = ()
    compare: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """How loosely `llmdocs verify` may compare this cell: ``# %% name compare={...}``."""


@dataclass(frozen=True)
class Chapter:
    """A parsed chapter: its file, its named code cells and its markdown cells, in order."""

    name: str
    path: Path
    cells: tuple[Cell, ...]
    markdown: tuple[str, ...] = field(default=())

    def cell(self, name: str) -> Cell:
        """Return the cell called ``name``; KeyError when there is none."""
        for cell in self.cells:
            if cell.name == name:
                return cell
        raise KeyError(name)

    @property
    def cell_names(self) -> list[str]:
        return [cell.name for cell in self.cells]


def chapter_paths(snippets_dir: Path) -> list[Path]:
    """Every chapter file under ``snippets_dir``, sorted by name (files starting with _ skipped)."""
    return sorted(p for p in snippets_dir.glob("*.py") if not p.name.startswith("_"))


def load_chapter(path: Path, shown: str | None = None) -> Chapter:
    """Parse one chapter file; raise ChapterError naming the file and line of any problem.

    ``shown`` is how messages name the file (a project-relative path); default: ``path``.
    """
    path = Path(path)
    shown = shown or str(path)
    try:
        stat = path.stat()
    except OSError:
        stat = None
    if stat is None or not path.is_file():
        raise ChapterError(
            f"{shown}: no such chapter file (chapters live in snippets/<chapter>.py)"
        )
    return _load_cached(path.resolve(), stat.st_mtime_ns, stat.st_size, shown)


@cache
def _load_cached(path: Path, mtime_ns: int, size: int, shown: str) -> Chapter:
    name = path.stem
    if not CHAPTER_NAME.match(name):
        raise ChapterError(f"{shown}: chapter names use a-z, 0-9, '-' and '_' only")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ChapterError(
            f"{shown}: cannot read the chapter ({exc.strerror or exc}); check the file's "
            "permissions"
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ChapterError(
            f"{shown}:{line}: not UTF-8 (byte {data[exc.start]:#04x} at offset {exc.start}); "
            "save the chapter as UTF-8"
        ) from None
    saved = _saved_path(path, data)
    chapter = _from_saved(name, path, build_cache.load(saved))
    if chapter is not None:
        return chapter
    chapter = _parse(name, path, data, text, shown)
    build_cache.save(saved, _to_saved(chapter))
    build_cache.prune(saved.parent, KEEP_PARSED)
    return chapter


def _parse(name: str, path: Path, data: bytes, text: str, shown: str) -> Chapter:
    _check_python(data, shown)
    cells: list[Cell] = []
    markdown: list[str] = []
    seen: dict[str, int] = {}
    for start, nb_cell, explicit in _read_cells(text):
        if nb_cell.cell_type == "markdown":
            markdown.append(nb_cell.source)
            continue
        if nb_cell.cell_type != "code":
            continue
        if not explicit:
            if nb_cell.source.strip():
                raise ChapterError(
                    f"{shown}:{start}: code before the first '# %% <name>' marker; "
                    "start every code cell with a named marker"
                )
            continue
        title = str(nb_cell.metadata.get("title", "")).strip()
        if not title:
            raise ChapterError(
                f"{shown}:{start}: code cell has no name; write it as '# %% <name>'"
            )
        if not CELL_NAME.match(title):
            raise ChapterError(
                f"{shown}:{start}: cell name {title!r} is invalid; "
                "use lower-case letters, digits, '-' and '_'"
            )
        if title in seen:
            raise ChapterError(
                f"{shown}:{start}: duplicate cell name {title!r} "
                f"(first used on line {seen[title]})"
            )
        seen[title] = start
        tags = tuple(str(t) for t in nb_cell.metadata.get("tags", ()))
        compare = _compare_setting(nb_cell.metadata.get("compare"), f"{shown}:{start}")
        cells.append(Cell(title, nb_cell.source, start + 1, tags, compare))
    return Chapter(name, path, tuple(cells), tuple(markdown))


def _saved_path(path: Path, data: bytes) -> Path:
    """Where a parse of these bytes is kept: jupytext builds and validates an nbformat cell for
    every cell, about 10 ms a chapter, paid by every build and command that loads chapters.
    Keyed by the bytes, this parser's own code and jupytext's version, so any change to one of
    them parses again. Only chapters that parsed without error are kept."""
    digest = hashlib.sha256(_parser_version().encode() + b"\0" + data).hexdigest()
    return path.parent.parent / ".llmdocs-cache" / "chapters" / f"{digest}.json"


@cache
def _parser_version() -> str:
    from .environment import package_version

    return f"{build_cache.code_digest(Path(__file__))} jupytext {package_version('jupytext')}"


def _to_saved(chapter: Chapter) -> dict[str, Any]:
    return {"cells": [[c.name, c.source, c.line, list(c.tags), dict(c.compare)]
                      for c in chapter.cells], "markdown": list(chapter.markdown)}


def _from_saved(name: str, path: Path, saved: Any) -> Chapter | None:
    """The chapter kept by an earlier parse, or None when there is none or it is damaged."""
    try:
        cells = tuple(Cell(str(n), str(s), int(line), tuple(map(str, tags)), dict(compare))
                      for n, s, line, tags, compare in saved["cells"])
        markdown = tuple(str(m) for m in saved["markdown"])
    except (TypeError, KeyError, ValueError):
        return None
    return Chapter(name, path, cells, markdown)


def _compare_setting(value: Any, where: str) -> Mapping[str, Any]:
    """A cell's ``compare={...}``, checked now, so that a typo fails where it is written."""
    if value is None:
        return {}
    from .compare import Tolerance

    try:
        if not isinstance(value, dict):
            raise ValueError("write it as compare={\"option\": value, ...} (JSON)")
        Tolerance.from_metadata(value)
    except ValueError as exc:
        raise ChapterError(f"{where}: cell marker's compare= setting: {exc}") from None
    return dict(value)


def _read_cells(text: str) -> Iterator[tuple[int, Any, bool]]:
    """(1-based first line, cell, starts with a marker) for each cell, as jupytext reads them.

    The same loop as ``jupytext.reads(text, fmt="py:percent")``, driven here so that the
    position of each cell is known: every marker jupytext accepts (``# %% name``,
    ``# In[2]:``, ``# <codecell>``) is found by jupytext's own cell reader.
    """
    from jupytext.formats import _VALID_FORMAT_OPTIONS, get_format_implementation
    from jupytext.header import header_to_metadata_and_cell
    from jupytext.languages import default_language_from_metadata_and_ext

    implementation = get_format_implementation(".py", "percent")
    fmt: dict[str, Any] = {"extension": ".py", "format_name": "percent"}
    lines = text.splitlines()
    metadata, _, _, position = header_to_metadata_and_cell(
        lines, implementation.header_prefix, implementation.header_suffix,
        implementation.extension,
    )
    for option in _VALID_FORMAT_OPTIONS:
        if option in metadata.get("jupytext", {}):
            fmt.setdefault(option, metadata["jupytext"][option])
    language = default_language_from_metadata_and_ext(metadata, ".py")
    while position < len(lines):
        reader = implementation.cell_reader_class(fmt, language)
        first = lines[position]
        cell, length = reader.read(lines[position:])
        explicit = bool(reader.start_code_re.match(first)) or bool(
            reader.alternative_start_code_re.match(first)
        )
        yield position + 1, cell, explicit
        position += max(length, 1)


def _check_python(data: bytes, shown: str) -> None:
    """A chapter is a plain script (`python snippets/x.py` must work): no magics, valid syntax.

    Compiled from bytes so that Python's own encoding rules apply too: a header comment
    such as "# Decoding: from …" on line 1 or 2 reads as a PEP 263 declaration.
    """
    try:
        compile(data, shown, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ChapterError(
            f"{shown}:{exc.lineno or 1}: not valid Python ({exc.msg}); "
            "chapters must run as plain scripts"
        ) from None
