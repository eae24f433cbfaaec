"""What a page's HTML depends on besides its own Markdown, for `mkdocs serve --dirty`.

A dirty build (the writer's loop: `make serve`) re-renders only the pages whose
`File.is_modified` says so: by default, those whose source is newer than their HTML. A page
here also shows its chapters' code and stored outputs, heading ids shared with its
translation, and (the performance page) benchmarks/results.json; when any of those is newer
than the page's HTML, the page counts as modified too. Other builds render every page
anyway and never ask.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mkdocs.structure.files import File, Files

from ..directives import find_directives
from ..notebook_plan import SUFFIX
from ..project import Project
from ..store import store_path
from .results import has_markers


def page_inputs(project: Project, source: Path, markdown: str, results: Path) -> list[Path]:
    """The files besides ``source`` whose change changes the page's HTML."""
    inputs: list[Path] = []
    try:
        directives = find_directives(markdown, source.name)
    except Exception:  # the page's build reports it
        directives = []
    for chapter in dict.fromkeys(d.chapter for d in directives):
        inputs.append(project.snippets_dir / f"{chapter}.py")
        for profile in ("offline", "reference"):
            inputs.append(store_path(project.store_dir, chapter, profile))
    match = SUFFIX.match(source.name)
    if match:  # heading ids are shared with the translations
        inputs += [other for other in source.parent.glob(f"{match['stem']}.*.md")
                   if other != source]
    if has_markers(markdown):
        inputs.append(results)
    return inputs


def mark_modified(files: Files, project: Project, results: Path) -> None:
    """Each page also reports itself modified when one of its inputs is newer than its built
    HTML. Only a dirty build asks (`File.is_modified`), so other builds do no work for it."""
    for file in files.documentation_pages():
        if file.abs_src_path is not None and file.src_uri.endswith(".md"):
            file.is_modified = _with_inputs(file, project, results)  # type: ignore[method-assign]


def _with_inputs(file: File, project: Project, results: Path) -> Callable[[], bool]:
    own = file.is_modified  # the page's own source newer than its HTML, or no HTML yet

    def is_modified() -> bool:
        if own():
            return True
        built_at = Path(file.abs_dest_path).stat().st_mtime
        source = Path(str(file.abs_src_path))
        markdown = source.read_text(encoding="utf-8")
        return any(_mtime(path) > built_at
                   for path in page_inputs(project, source, markdown, results))

    return is_modified


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
