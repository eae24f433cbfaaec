"""Read snippet chapters: percent-format scripts whose code cells each carry a stable name.

A chapter is ``snippets/<chapter>.py``. Cells start with ``# %% <name>``; jupytext parses
them (the name becomes the cell's ``title`` metadata), we only add the names' checks and
the line on which each cell starts, so errors and tracebacks can point into the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from .errors import ChapterError

CELL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# What jupytext's percent format takes for a cell marker ("# %% x", "#%% x", "  # %%").
CELL_MARKER = re.compile(r"^\s*#\s*%%(%*\s.*)?$")
CHAPTER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Cell:
    """One named code cell of a chapter."""

    name: str
    source: str
    line: int  # 1-based line of the cell's first source line in the chapter file
    tags: tuple[str, ...] = ()


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


def load_chapter(path: Path) -> Chapter:
    """Parse one chapter file; raise ChapterError naming the file and line of any problem."""
    path = Path(path)
    if not path.is_file():
        raise ChapterError(f"{path}: no such chapter file (chapters live in snippets/<chapter>.py)")
    return _load_cached(path.resolve(), path.stat().st_mtime_ns, str(path))


@cache
def _load_cached(path: Path, mtime_ns: int, shown: str) -> Chapter:
    import jupytext  # imported here: the module is cheap to import without it

    text = path.read_text(encoding="utf-8")
    name = path.stem
    if not CHAPTER_NAME.match(name):
        raise ChapterError(f"{shown}: chapter names use a-z, 0-9, '-' and '_' only")
    _check_python(path, shown)
    notebook = jupytext.reads(text, fmt="py:percent")
    marker_lines = _marker_lines(text)
    cells: list[Cell] = []
    markdown: list[str] = []
    seen: dict[str, int] = {}
    # jupytext yields one cell per marker, plus a leading cell when code precedes the first one.
    offset = len(notebook.cells) - len(marker_lines)
    for index, nb_cell in enumerate(notebook.cells):
        marker = marker_lines[index - offset] if index >= offset else None
        if nb_cell.cell_type == "markdown":
            markdown.append(nb_cell.source)
            continue
        if nb_cell.cell_type != "code":
            continue
        if marker is None:
            if nb_cell.source.strip():
                raise ChapterError(
                    f"{shown}:1: code before the first '# %% <name>' marker; "
                    "start every code cell with a named marker"
                )
            continue
        title = str(nb_cell.metadata.get("title", "")).strip()
        if not title:
            raise ChapterError(
                f"{shown}:{marker}: code cell has no name; write it as '# %% <name>'"
            )
        if not CELL_NAME.match(title):
            raise ChapterError(
                f"{shown}:{marker}: cell name {title!r} is invalid; "
                "use lower-case letters, digits, '-' and '_'"
            )
        if title in seen:
            raise ChapterError(
                f"{shown}:{marker}: duplicate cell name {title!r} "
                f"(first used on line {seen[title]})"
            )
        seen[title] = marker
        tags = tuple(str(t) for t in nb_cell.metadata.get("tags", ()))
        cells.append(Cell(title, nb_cell.source, marker + 1, tags))
    return Chapter(name, path, tuple(cells), tuple(markdown))


def _marker_lines(text: str) -> list[int]:
    """Lines that jupytext splits cells on: markers, but not '# %%' inside a string."""
    from jupytext.stringparser import StringParser

    parser = StringParser("python")
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        quoted = parser.is_quoted()
        parser.read_line(line)
        if not quoted and CELL_MARKER.match(line):
            found.append(number)
    return found


def _check_python(path: Path, shown: str) -> None:
    """A chapter is a plain script (`python snippets/x.py` must work): no magics, valid syntax.

    Compiled from bytes so that Python's own encoding rules apply too: a header comment
    such as "# Decoding: from …" on line 1 or 2 reads as a PEP 263 declaration.
    """
    try:
        compile(path.read_bytes(), shown, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ChapterError(
            f"{shown}:{exc.lineno or 1}: not valid Python ({exc.msg}); "
            "chapters must run as plain scripts"
        ) from None
