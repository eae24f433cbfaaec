"""Build one notebook per chapter and language: the page's prose, the code, the stored outputs.

The bytes depend only on their inputs (no timestamps, fixed ids), so an unchanged chapter
produces an identical file and mkdocs-jupyter's cache is hit on every rebuild.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat

from .capture import join_lines
from .chapters import Chapter
from .directives import Directive, find_directives
from .store import Output, StoredChapter


def to_nbformat_outputs(outputs: list[Output]) -> list[Any]:
    """Our stored outputs back in nbformat's shape."""
    converted = []
    for output in outputs:
        if "stream" in output:
            converted.append(nbformat.v4.new_output(
                "stream", name=output["stream"], text=join_lines(output["text"])))
        elif "error" in output:
            error = output["error"]
            converted.append(nbformat.v4.new_output(
                "error", ename=error["ename"], evalue=error["evalue"],
                traceback=[line.rstrip("\n") for line in error["traceback"]]))
        elif "data" in output:
            data = {
                mime: "".join(value) if mime == "image/png" else join_lines(value)
                for mime, value in output["data"].items()
            }
            converted.append(nbformat.v4.new_output("display_data", data=data))
    return converted


def page_segments(markdown: str, page: str) -> list[tuple[str, Directive | None]]:
    """Split a page into (prose before, directive) pairs; the last pair has no directive."""
    lines = markdown.splitlines()
    segments: list[tuple[str, Directive | None]] = []
    start = 0
    for directive in find_directives(markdown, page):
        segments.append(("\n".join(lines[start : directive.line - 1]).strip(), directive))
        start = directive.line
    segments.append(("\n".join(lines[start:]).strip(), None))
    return segments


def build_notebook(
    chapter: Chapter, stored: StoredChapter | None, markdown: str, page: str, language: str
) -> nbformat.NotebookNode:
    """The chapter's cells in order, each preceded by the prose that precedes it on the page.

    Cells the page does not embed still appear (the notebook must run top to bottom).
    """
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "llmdocs": {"chapter": chapter.name, "language": language, "page": page},
    }
    cells: list[Any] = []
    remaining = list(chapter.cell_names)
    for prose, directive in page_segments(markdown, page):
        if prose:
            cells.append(nbformat.v4.new_markdown_cell(_strip_directive_comments(prose)))
        embeds_here = directive is not None and directive.chapter == chapter.name
        if directive is None or not embeds_here or directive.cell not in remaining:
            continue
        upto = remaining.index(directive.cell)
        for name in remaining[: upto + 1]:
            cells.append(_code_cell(chapter, stored, name))
        del remaining[: upto + 1]
    cells.extend(_code_cell(chapter, stored, name) for name in remaining)
    for index, cell in enumerate(cells):
        cell["id"] = f"{chapter.name}-{index}"  # stable ids: byte-stable files
    notebook.cells = cells
    return notebook


def _code_cell(chapter: Chapter, stored: StoredChapter | None, name: str) -> Any:
    cell = nbformat.v4.new_code_cell(chapter.cell(name).source, metadata={"name": name})
    if stored is not None and name in stored.cells:
        cell.outputs = to_nbformat_outputs(stored.cells[name].outputs)
    return cell


def _strip_directive_comments(prose: str) -> str:
    return "\n".join(line for line in prose.splitlines() if not line.lstrip().startswith("<!--"))


def write_if_changed(path: Path, notebook: nbformat.NotebookNode) -> bool:
    """Write the notebook unless the file already holds exactly these bytes."""
    text = nbformat.writes(notebook) + "\n"
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True
