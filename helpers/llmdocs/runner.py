"""Run stale chapters and store their outputs (`llmdocs run` and build-time capture)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .chapters import Chapter
from .compare import Comparison, Verdict, compare_capture
from .environment import DEVICES, device_label, resolve_device, versions
from .errors import CellFailure, LlmdocsError, StoreError, chapter_failure
from .execute import Progress, execute_chapter
from .forking import forks
from .kernels import require_execution, run_ahead
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
    read_store,
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
    verdict: Comparison | None = None
    """How the fresh outputs compare with the previous stored file (None: there was none)."""


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
    jobs: int = 1,
    prestart: bool = True,
) -> RunSummary:
    """Execute the selected (default: all) chapters that need it; store what they print.

    A failing chapter keeps its previous stored file; the others still run.
    """
    if device not in DEVICES:
        raise LlmdocsError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    require_execution()
    require_visible_device(device)
    selected = list(names) if names else project.chapter_names()
    expected = expected_environment(profile, device)
    summary = RunSummary()
    due: list[str] = []
    for name in selected:
        status = chapter_status(project, name, expected)
        if not needs_run(status, force=force):
            summary.runs.append(ChapterRun(name, executed=False, reason=status.state.value))
            continue
        due.append(name)
    # One new kernel per chapter, forked from a server that did the heavy imports once;
    # the next ones start while one runs.
    order = {name: position for position, name in enumerate(selected, start=1)}
    with kernel_forks(project, due, device):
        summary.runs += run_ahead(
            due, lambda name: _run_guarded(project, name, profile, device, timeout_s, progress),
            jobs=jobs, prestart=prestart,
            on_start=(lambda name, _: on_chapter(name, order[name], len(selected)))
            if on_chapter else None,
        )
    summary.runs.sort(key=lambda run: order[run.chapter])
    return summary


def kernel_forks(
    project: Project, names: list[str], device: str
) -> contextlib.AbstractContextManager[None]:
    """Kernels for these chapters forked from one server that imported what they import."""
    return forks(chapter_sources(project, names), on_gpu=resolve_device(device) == "cuda")


def chapter_sources(project: Project, names: list[str]) -> list[str]:
    """The code of the chapters about to run (one that cannot be read fails in its turn)."""
    sources = []
    for name in names:
        try:
            sources += [cell.source for cell in project.chapter(name).cells]
        except Exception:  # reported as that chapter's failure when it runs
            continue
    return sources


def require_visible_device(device: str) -> None:
    """Refuse --device cuda where no GPU is visible, before anything runs or is written:
    the provenance must name the device the code really ran on."""
    from .environment import gpu_name

    if device == "cuda" and gpu_name() is None:
        raise LlmdocsError(
            "--device cuda: no CUDA GPU is visible here (nvidia-smi lists none, or torch is a "
            "CPU build); run with --device cpu, or --device auto to use a GPU only where present"
        )


@dataclass
class Capture:
    """A chapter executed as `llmdocs run` executes it: what it stored, or why it failed."""

    chapter: Chapter | None
    stored: StoredChapter | None
    run: ChapterRun


def capture_chapter(
    project: Project, name: str, profile: str, device: str, timeout_s: int,
    progress: Progress | None = None,
) -> Capture:
    """Execute one chapter in a fresh kernel with the profile's models; write nothing.

    Any exception on the way (model cache not writable, package missing, …) becomes this
    chapter's failure, naming its file, for `run` and `verify` alike."""
    started = time.perf_counter()
    try:
        chapter = project.chapter(name)
        roles = roles_used([cell.source for cell in chapter.cells])
        env = model_locations(profile, roles)
        env[DEVICE_ENV] = resolve_device(device)
        result = execute_chapter(
            chapter, env, cwd=project.root, timeout_s=timeout_s, progress=progress
        )
    except Exception as exc:  # reported as this chapter's failure; the others still run
        log.debug("%s failed", name, exc_info=exc)
        failure = chapter_failure(project.relative(project.chapter_path(name)), exc)
        failed = ChapterRun(name, executed=True, failure=failure,
                            wall_s=time.perf_counter() - started)
        return Capture(None, None, failed)
    run = ChapterRun(
        name, executed=True, wall_s=time.perf_counter() - started,
        kernel_start_s=result.kernel_start_s, cells=len(result.cells),
    )
    if result.failure is not None:
        run.failure = result.failure
        return Capture(chapter, None, run)
    return Capture(chapter, _stored(chapter, profile, device, roles, result.cells), run)


def reproduces(previous: StoredChapter, fresh: StoredChapter, chapter: Chapter) -> Comparison:
    """Whether a fresh capture may keep the previous stored file: the same kind of
    environment (profile, CPU or GPU, weights), then what `llmdocs verify` would say."""
    if previous.environment_class() != fresh.environment_class():
        return Comparison(Verdict.DIFFERS, reason="another profile, device class or model")
    return compare_capture(previous, fresh, chapter)


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
    captured = capture_chapter(project, name, profile, device, timeout_s, progress)
    run = captured.run
    if captured.stored is None or captured.chapter is None:
        return run
    path = store_path(project.store_dir, name, profile)
    previous = _readable(path)
    if previous is not None:
        run.verdict = reproduces(previous, captured.stored, captured.chapter)
    if run.verdict is None or run.verdict.verdict is Verdict.DIFFERS:
        run.changed = write_store(path, captured.stored)
    run.wall_s = time.perf_counter() - started
    return run


def _readable(path: Path) -> StoredChapter | None:
    try:
        return read_store(path)
    except StoreError:
        return None


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
