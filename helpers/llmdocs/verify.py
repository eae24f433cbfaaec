"""`llmdocs verify`: re-execute chapters exactly as `llmdocs run` would, write nothing, and
hold the live outputs against the stored ones with the tolerant comparison."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .compare import Comparison, Verdict, compare_capture
from .errors import LlmdocsError, StoreError
from .execute import Progress
from .project import Project
from .runner import ChapterRun, capture_chapter, kernel_forks, require_visible_device
from .settings import DEFAULT_TIMEOUT_S
from .store import StoredChapter, read_store, store_path


@dataclass
class ChapterCheck:
    """One chapter's verdict: a comparison, or the reason there is nothing to compare."""

    chapter: str
    comparison: Comparison | None = None
    failure: LlmdocsError | None = None
    run: ChapterRun | None = None
    stored: StoredChapter | None = None

    @property
    def ok(self) -> bool:
        return self.comparison is not None and self.comparison.verdict is not Verdict.DIFFERS

    def describe(self) -> str:
        if self.failure is not None:
            return f"not verified: {self.failure}"
        assert self.comparison is not None
        return self.comparison.describe()


def verify_chapters(
    project: Project,
    names: Iterable[str] | None = None,
    *,
    profile: str = "offline",
    device: str = "auto",
    timeout_s: int = DEFAULT_TIMEOUT_S,
    progress: Progress | None = None,
    on_chapter: Progress | None = None,
) -> list[ChapterCheck]:
    """Every selected chapter (default: all) run afresh and compared with its stored file."""
    require_visible_device(device)
    selected = list(names) if names else project.chapter_names()
    checks = []
    with kernel_forks(project, selected, device):
        for position, name in enumerate(selected, start=1):
            if on_chapter:
                on_chapter(name, position, len(selected))
            checks.append(_verify_one(project, name, profile, device, timeout_s, progress))
    return checks


def _verify_one(
    project: Project, name: str, profile: str, device: str, timeout_s: int,
    progress: Progress | None,
) -> ChapterCheck:
    try:
        stored = read_store(store_path(project.store_dir, name, profile))
    except StoreError as exc:
        return ChapterCheck(name, failure=exc)
    captured = capture_chapter(project, name, profile, device, timeout_s, progress)
    check = ChapterCheck(name, run=captured.run, stored=stored)
    if captured.run.failure is not None:
        check.failure = captured.run.failure
    elif captured.stored is not None and captured.chapter is not None:
        check.comparison = compare_capture(stored, captured.stored, captured.chapter)
    return check

