"""Build one notebook per chapter and language: the page's prose, the code, the stored outputs.

The first markdown cell says which models, device and versions produced the outputs; the
first code cell installs what a learner needs outside the repository and selects the
offline models. Prose is rewritten for Jupyter (notebook_markdown), outputs pass through
render.published, the same sanitizing step as the pages. The bytes depend only on their
inputs (no timestamps, fixed ids), so an unchanged chapter produces an identical file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from .capture import join_lines
from .chapters import Chapter
from .directives import Directive, find_directives
from .notebook_markdown import LinkResolver, notebook_markdown
from .profiles import DEVICE_ENV, roles_used
from .provenance import model_notice_markdown, versions_text
from .render import labels, published
from .store import Output, StoredChapter

SETUP = {
    "zh": ("# 在本仓库之外运行时，先安装所需的库和离线小模型（只需一次）：",
           "# 选用离线模型（即 `llmdocs env` 打印的变量）；若要用原文的模型"
           "（{reference}，需从 Hub 下载），跳过下面几行。"),
    "en": ("# Outside this repository, install the libraries and the small offline models once:",
           "# Select the offline models (the variables `llmdocs env` prints); to use the source's "
           "models instead ({reference}, downloaded from the Hub), skip the lines below."),
}


@dataclass(frozen=True)
class NotebookContext:
    """What a notebook needs besides its chapter: the page, links, ids and install lines."""

    page: str
    language: str
    markdown: str  # the page, its headings with their `{#id}` (anchors.with_heading_ids)
    resolve: LinkResolver
    install: list[str]  # requirement lines for the setup cell


def to_nbformat_outputs(outputs: list[Output]) -> list[Any]:
    """Our stored outputs, sanitized by render.published, in nbformat's shape.

    Plain dicts: nbformat's constructors validate every output against the JSON schema
    (most of `llmdocs check`'s time); the whole notebook is validated once when written.
    """
    converted: list[dict[str, Any]] = []
    for output in published(outputs):
        if "stream" in output:
            converted.append({"output_type": "stream", "name": output["stream"],
                              "text": join_lines(output["text"])})
        elif "error" in output:
            error = output["error"]
            converted.append({"output_type": "error", "ename": error["ename"],
                              "evalue": error["evalue"],
                              "traceback": [line.rstrip("\n") for line in error["traceback"]]})
        elif "data" in output:
            data = {
                mime: "".join(value) if mime == "image/png" else join_lines(value)
                for mime, value in output["data"].items()
            }
            converted.append({"output_type": "display_data", "data": data, "metadata": {}})
    return [nbformat.from_dict(output) for output in converted]


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


def provenance_markdown(stored: StoredChapter | None, language: str) -> str:
    """One line: the models, device, versions and capture date of the stored outputs."""
    words = labels(language)
    if stored is None:
        return f"*{words['missing'].format(chapter='…')}*".replace("<code>", "`").replace(
            "</code>", "`")
    models = ", ".join(f"`{m.get('id', '?')}`" for m in stored.models.values()) or "—"
    return (f"**{words['from']}** {models} · {stored.device} · "
            f"{versions_text(stored.versions)} · "
            f"{words['captured']} {stored.captured}")


def setup_source(chapter: Chapter, language: str, install: list[str]) -> str:
    """The first code cell: install (outside the repository) and select the offline models."""
    roles = roles_used([chapter.cell(name).source for name in chapter.cell_names])
    before, switch = SETUP.get(language, SETUP["en"])
    lines = [before, "try:", "    import llmdocs  # inside the repository: already installed",
             "except ImportError:", "    %pip install -q " + " ".join(install[:1])]
    if install[1:]:
        lines.append("    %pip install -q --no-deps " + " ".join(install[1:]))
    lines += ["", "import os", ""]
    if roles:
        reference = ", ".join(role.reference_id for role in roles)
        envs = "".join(f"{role.env!r}, " for role in roles).rstrip(" ")
        lines += [
            switch.format(reference=reference),
            "from llmdocs.environment import resolve_device",
            "from llmdocs.profiles import ROLES, model_locations",
            "",
            f"roles = [role for role in ROLES if role.env in ({envs})]",
            'os.environ.update(model_locations("offline", roles))',
            f'os.environ.setdefault({DEVICE_ENV!r}, resolve_device("auto"))',
        ]
    else:
        lines.append(f'os.environ.setdefault({DEVICE_ENV!r}, "cpu")')
    return "\n".join(lines)


def build_notebook(
    chapter: Chapter, stored: StoredChapter | None, context: NotebookContext
) -> nbformat.NotebookNode:
    """Provenance, setup, then the chapter's cells in order, each after the prose before it.

    Cells the page does not embed still appear (the notebook must run top to bottom).
    """
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "llmdocs": {"chapter": chapter.name, "language": context.language, "page": context.page},
    }
    cells: list[Any] = []
    remaining = list(chapter.cell_names)
    for prose, directive in page_segments(context.markdown, context.page):
        text = _strip_directive_comments(prose)
        converted = notebook_markdown(text, context.resolve) if text else ""
        if not cells:
            cells += _opening(converted, chapter, stored, context)
        elif converted:
            cells.append(_markdown_cell(converted))
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


def _opening(
    prose: str, chapter: Chapter, stored: StoredChapter | None, context: NotebookContext
) -> list[Any]:
    """The title and provenance (first markdown cell), the setup cell, the rest of the prose."""
    title, _, rest = prose.partition("\n") if prose.startswith("# ") else ("", "", prose)
    notice = model_notice_markdown([stored] if stored else [], [], context.language)
    head = "\n\n".join(
        part for part in (title, provenance_markdown(stored, context.language), notice) if part
    )
    cells = [
        _markdown_cell(head),
        _code(setup_source(chapter, context.language, context.install), "setup", None),
    ]
    if rest.strip():
        cells.append(_markdown_cell(rest.strip()))
    return cells


def _code_cell(chapter: Chapter, stored: StoredChapter | None, name: str) -> Any:
    cell = _code(chapter.cell(name).source, name, chapter.cell_names.index(name) + 1)
    if stored is not None and name in stored.cells:
        cell.outputs = to_nbformat_outputs(stored.cells[name].outputs)
    return cell


def _code(source: str, name: str, count: int | None) -> Any:
    return nbformat.from_dict({"cell_type": "code", "execution_count": count,
                               "metadata": {"name": name}, "outputs": [], "source": source})


def _markdown_cell(source: str) -> Any:
    return nbformat.from_dict({"cell_type": "markdown", "metadata": {}, "source": source})


def _strip_directive_comments(prose: str) -> str:
    return "\n".join(line for line in prose.splitlines() if not line.lstrip().startswith("<!--"))


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """The exact bytes written for a notebook."""
    return str(nbformat.writes(notebook)) + "\n"


def write_if_changed(path: Path, text: str) -> bool:
    """Write the notebook text unless the file already holds exactly these bytes."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True
