"""Run stale chapters and store their outputs (`llmdocs run` and build-time capture)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from .chapters import Chapter
from .environment import DEVICES, device_label, resolve_device, versions
from .errors import CellFailure, LlmdocsError, chapter_failure
from .execute import Progress, execute_chapter
from .kernels import require_execution
from .keys import source_key
from .locks import chapter_lock
from .profiles import DEVICE_ENV, Role, model_identity, model_locations, roles_used
from .project import Project
from .settings import DEFAULT_TIMEOUT_S
from .status import chapter_status, expected_environment, needs_run
from .store import (
    StoredCell,
    StoredChapter,
    clean_stray_temp_files,
    store_path,
    write_store,
)

log = logging.getLogger("llmdocs")


@dataclass
class ChapterRun:
    chapter: str
    executed: bool
    changed: bool = False
    wall_s: float = 0.0
    kernel_start_s: float = 0.0
    cells: int = 0
    failure: LlmdocsError | None = None
    reason: str = ""


@dataclass
class RunSummary:
    runs: list[ChapterRun] = field(default_factory=list)

    @property
    def failures(self) -> list[ChapterRun]:
        return [r for r in self.runs if r.failure is not None]

    @property
    def cells_executed(self) -> int:
        return sum(r.cells for r in self.runs if r.executed)


def run_chapters(
    project: Project,
    names: Iterable[str] | None = None,
    *,
    force: bool = False,
    profile: str = "offline",
    device: str = "auto",
    timeout_s: int = DEFAULT_TIMEOUT_S,
    progress: Progress | None = None,
    on_chapter: Progress | None = None,
) -> RunSummary:
    """Execute the selected (default: all) chapters that need it; store what they print.

    A failing chapter keeps its previous stored file; the others still run.
    """
    if device not in DEVICES:
        raise LlmdocsError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    require_execution()
    selected = list(names) if names else project.chapter_names()
    expected = expected_environment(profile, device)
    summary = RunSummary()
    for position, name in enumerate(selected, start=1):
        status = chapter_status(project, name, expected)
        if not force and not needs_run(status.state, status.detail, profile):
            summary.runs.append(ChapterRun(name, executed=False, reason=status.state.value))
            continue
        if on_chapter:
            on_chapter(name, position, len(selected))
        summary.runs.append(_run_guarded(project, name, profile, device, timeout_s, progress))
    return summary


def _run_guarded(
    project: Project, name: str, profile: str, device: str, timeout_s: int,
    progress: Progress | None,
) -> ChapterRun:
    """`_run_one` holding the chapter's lock; any exception becomes this chapter's failure
    (file, what happened, what to do) so that the other chapters still run."""
    started = time.perf_counter()
    shown = project.relative(project.chapter_path(name))
    try:
        with chapter_lock(project.root, name, shown):
            clean_stray_temp_files(project.store_dir, name)
            run = _run_one(project, name, profile, device, timeout_s, progress)
    except Exception as exc:  # reported as this chapter's failure; the others still run
        log.debug("%s failed", shown, exc_info=exc)
        return ChapterRun(
            name, executed=True, failure=chapter_failure(shown, exc),
            wall_s=time.perf_counter() - started,
        )
    if run.failure is not None:  # every failure names its chapter file
        run.failure = chapter_failure(shown, run.failure)
    return run


def _run_one(
    project: Project, name: str, profile: str, device: str, timeout_s: int,
    progress: Progress | None,
) -> ChapterRun:
    started = time.perf_counter()
    try:
        chapter = project.chapter(name)
        roles = roles_used([cell.source for cell in chapter.cells])
        env = model_locations(profile, roles)
        env[DEVICE_ENV] = resolve_device(device)
        result = execute_chapter(
            chapter, env, cwd=project.root, timeout_s=timeout_s, progress=progress
        )
    except LlmdocsError as exc:
        return ChapterRun(name, executed=True, failure=exc, wall_s=time.perf_counter() - started)
    run = ChapterRun(
        name, executed=True, wall_s=time.perf_counter() - started,
        kernel_start_s=result.kernel_start_s, cells=len(result.cells),
    )
    if result.failure is not None:
        run.failure = result.failure
        return run
    stored = _stored(chapter, profile, device, roles, result.cells)
    run.changed = write_store(store_path(project.store_dir, name), stored)
    run.wall_s = time.perf_counter() - started
    return run


def _stored(
    chapter: Chapter, profile: str, device: str, roles: list[Role], cells: dict[str, StoredCell]
) -> StoredChapter:
    return StoredChapter(
        chapter=chapter.name,
        source_key=source_key(chapter),
        profile=profile,
        device=device_label(device),
        versions=versions(),
        models={role.name: model_identity(profile, role) for role in roles},
        captured=dt.date.today().isoformat(),
        cells=cells,
    )


def describe_failure(failure: LlmdocsError) -> str:
    """One line for the end-of-run summary, with the remedy."""
    if isinstance(failure, CellFailure):
        return f"{failure} — fix the cell, then `llmdocs run {failure.chapter_file}`"
    return str(failure)
