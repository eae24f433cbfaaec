"""Is each chapter's stored output fresh? Decided from files alone, without executing or
importing torch, so `llmdocs check` answers in about a second."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import ChapterError, StoreError
from .keys import source_key
from .project import Project
from .store import StoredChapter, read_store, store_path


class State(StrEnum):
    FRESH = "fresh"
    STALE_CODE = "stale (code changed)"
    STALE_ENV = "stale (environment)"
    MISSING = "missing"
    BROKEN = "broken"

    @property
    def blocking(self) -> bool:
        """States that make `llmdocs check` and a strict build fail."""
        return self in (State.STALE_CODE, State.MISSING, State.BROKEN)


@dataclass
class ChapterStatus:
    chapter: str
    state: State
    detail: str = ""
    stored: StoredChapter | None = None


def expected_environment(profile: str, device: str) -> dict[str, object]:
    """What a run with these options would record (device resolved, versions installed)."""
    from .environment import device_label, versions
    from .kernels import execution_installed

    if not execution_installed():  # the light install could not run anything: code only
        return {"profile": profile}
    return {"profile": profile, "device": device_label(device), "versions": versions()}


def chapter_status(
    project: Project, name: str, expected: dict[str, object] | None = None
) -> ChapterStatus:
    """Compare a chapter's code and the environment with what its stored file records."""
    try:
        chapter = project.chapter(name)
    except ChapterError as exc:
        return ChapterStatus(name, State.BROKEN, str(exc))
    path = store_path(project.store_dir, name)
    if not path.exists():
        return ChapterStatus(name, State.MISSING, f"no {project.relative(path)}")
    try:
        stored = read_store(path)
    except StoreError as exc:
        return ChapterStatus(name, State.BROKEN, str(exc))
    if stored.source_key != source_key(chapter):
        return ChapterStatus(name, State.STALE_CODE, "code cells changed since capture", stored)
    if expected is not None:
        found = stored.environment()
        differs = [key for key in expected if found.get(key) != expected[key]]
        if differs:
            detail = "; ".join(f"{k}: {found.get(k)} → {expected[k]}" for k in differs)
            return ChapterStatus(name, State.STALE_ENV, detail, stored)
    return ChapterStatus(name, State.FRESH, "", stored)


def project_status(
    project: Project, expected: dict[str, object] | None = None
) -> list[ChapterStatus]:
    """Every chapter's status, plus stored files whose chapter no longer exists."""
    names = project.chapter_names()
    statuses = [chapter_status(project, name, expected) for name in names]
    for orphan in sorted(p for p in project.store_dir.glob("*.json") if p.stem not in names):
        chapter = project.relative(project.chapter_path(orphan.stem))
        statuses.append(ChapterStatus(orphan.stem, State.BROKEN, (
            f"{project.relative(orphan)} has no chapter {chapter}; "
            "delete the stored file or restore the chapter"
        )))
    return statuses


def needs_run(state: State, detail: str, profile: str) -> bool:
    """Missing, broken and code-stale chapters run; so does one captured with another profile.

    A device or version difference alone is reported by `llmdocs status` but does not
    re-run (a CPU rebuild must not silently replace outputs captured on a GPU): --force does.
    """
    if state in (State.MISSING, State.BROKEN, State.STALE_CODE):
        return True
    return state is State.STALE_ENV and "profile:" in detail
