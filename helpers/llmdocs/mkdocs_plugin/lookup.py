"""Find what a directive embeds: the cell's code, its stored outputs, and what to warn about."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..chapters import Chapter
from ..directives import Directive
from ..errors import ChapterError
from ..project import Project
from ..provenance import cell_models
from ..render import notice
from ..status import ChapterStatus, State, chapter_status, expected_environment
from ..store import Output, StoredChapter


@dataclass
class Found:
    """The pieces a directive renders, plus messages for the build log and the page."""

    source: str | None = None
    stored: StoredChapter | None = None
    outputs: list[Output] | None = None
    notice: str = ""
    models: dict[str, dict[str, str]] | None = None
    """The stored models this cell had loaded when it ran (see provenance.cell_models)."""
    compare: Mapping[str, Any] = field(default_factory=dict)
    """The cell's compare= setting (a note goes under an output that differs by device)."""
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)


class Lookup:
    """Per-build cache of chapter statuses (each chapter is parsed and read once a build)."""

    def __init__(self, project: Project, profile: str, device: str) -> None:
        self.project = project
        self.profile = profile
        self.device = device
        self._statuses: dict[str, ChapterStatus] = {}
        self._reference: dict[str, StoredChapter | None] = {}
        self._expected: dict[str, object] | None = None
        self._chapters: dict[str, Chapter | None] = {}

    def status(self, name: str) -> ChapterStatus:
        if name not in self._statuses:
            if self._expected is None:
                self._expected = expected_environment(self.profile, self.device)
            self._statuses[name] = chapter_status(self.project, name, self._expected)
        return self._statuses[name]

    def chapter(self, name: str) -> Chapter | None:
        if name not in self._chapters:
            try:
                self._chapters[name] = self.project.chapter(name)
            except ChapterError:
                self._chapters[name] = None
        return self._chapters[name]

    def stored(self, name: str) -> StoredChapter | None:
        return self.status(name).stored

    def find(self, directive: Directive, page: str, language: str) -> Found:
        status = self.status(directive.chapter)
        chapter = self.chapter(directive.chapter)
        found = Found()
        if chapter is None:
            found.warnings.append(status.detail or "unknown chapter")
            found.notice = notice(language, "unknown", ref=directive.ref, reason=status.detail)
            return found
        try:
            code = chapter.cell(directive.cell)
            found.source, found.compare = code.source, code.compare
        except KeyError:
            reason = (f"{self.project.relative(chapter.path)} has no cell {directive.cell!r} "
                      f"(cells: {', '.join(chapter.cell_names)})")
            found.warnings.append(reason)
            found.notice = notice(language, "unknown", ref=directive.ref, reason=reason)
            return found
        run = f"run `llmdocs run {directive.chapter}`"
        if status.state is State.MISSING:
            found.warnings.append(f"no stored output; {run}")
            found.notice = notice(language, "missing", chapter=directive.chapter)
            return found
        if status.state is State.BROKEN:
            found.warnings.append(status.detail)
            found.notice = notice(language, "broken", reason=status.detail)
            return found
        if status.state is State.STALE_CODE:
            found.warnings.append(f"stored output is stale (code changed); {run}")
            found.notice = notice(language, "stale_code", chapter=directive.chapter)
        elif status.state is State.STALE_ENV:
            found.infos.append(f"captured in another environment ({status.detail})")
        found.stored = status.stored
        cell = status.stored.cells.get(directive.cell) if status.stored else None
        if cell is None:
            found.warnings.append(f"no stored output for this cell; {run}")
            found.notice = found.notice or notice(language, "missing", chapter=directive.chapter)
        else:
            found.outputs = cell.outputs
            if status.stored is not None:
                found.models = cell_models(chapter, status.stored, directive.cell)
        return found

    def reference_chapter(self, name: str) -> StoredChapter | None:
        """The reference profile's capture of a chapter, when one is stored, current and
        this build shows the offline outputs (it is then offered beside them)."""
        if self.profile == "reference":
            return None
        if name not in self._reference:
            status = chapter_status(self.project, name, None, profile="reference")
            self._reference[name] = status.stored if status.state is State.FRESH else None
        return self._reference[name]

    def reference(
        self, directive: Directive
    ) -> tuple[StoredChapter, list[Output], dict[str, dict[str, str]]] | None:
        """A directive's reference output with its models, or None where none is stored."""
        stored = self.reference_chapter(directive.chapter)
        chapter = self.chapter(directive.chapter)
        if stored is None or chapter is None or directive.cell not in stored.cells:
            return None
        outputs = stored.cells[directive.cell].outputs
        return stored, outputs, cell_models(chapter, stored, directive.cell)
