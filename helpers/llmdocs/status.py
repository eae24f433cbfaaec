"""Is each chapter's stored output fresh? Decided from files alone, without executing or
importing torch, so `llmdocs check` answers in about a second.

A status is data: its state, and the reason as fields (the problem text of a broken file,
the environment fields that changed). `needs_run` is the one policy deciding what runs; the
runner and the MkDocs plugin both ask it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .errors import ChapterError, StoreError
from .keys import source_key
from .project import Project
from .store import StoredChapter, read_store, store_dir_for, store_path


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
    """One chapter's state and why: ``problem`` for missing/broken, ``changes`` for stale-env."""

    chapter: str
    state: State
    problem: str = ""
    changes: dict[str, tuple[object, object]] = field(default_factory=dict)
    """Environment field → (what the stored file records, what a run here would record)."""
    stored: StoredChapter | None = None

    @property
    def detail(self) -> str:
        """The reason in words, for tables and build logs."""
        if self.state is State.STALE_CODE:
            return "code cells changed since capture"
        if self.state is State.STALE_ENV:
            return "; ".join(f"{k}: {old} → {new}" for k, (old, new) in self.changes.items())
        return self.problem


def expected_environment(profile: str, device: str) -> dict[str, object]:
    """What a run with these options would record (device resolved, versions installed)."""
    from .environment import device_label, versions
    from .kernels import execution_installed

    if not execution_installed():  # the light install could not run anything: code only
        return {"profile": profile}
    return {"profile": profile, "device": device_label(device), "versions": versions()}


def chapter_status(
    project: Project, name: str, expected: dict[str, object] | None = None,
    profile: str = "offline",
) -> ChapterStatus:
    """Compare a chapter's code and the environment with what its stored file records."""
    if expected is not None:
        profile = str(expected.get("profile", profile))
    try:
        chapter = project.chapter(name)
    except ChapterError as exc:
        return ChapterStatus(name, State.BROKEN, str(exc))
    path = store_path(project.store_dir, name, profile)
    if not path.exists():
        return ChapterStatus(name, State.MISSING, f"no {project.relative(path)}")
    try:
        stored = read_store(path)
    except StoreError as exc:
        return ChapterStatus(name, State.BROKEN, str(exc))
    if stored.source_key != source_key(chapter):
        return ChapterStatus(name, State.STALE_CODE, stored=stored)
    if expected is not None:
        found = stored.environment()
        changes = {k: (found.get(k), v) for k, v in expected.items() if found.get(k) != v}
        if changes:
            return ChapterStatus(name, State.STALE_ENV, changes=changes, stored=stored)
    return ChapterStatus(name, State.FRESH, stored=stored)


def project_status(
    project: Project, expected: dict[str, object] | None = None, profile: str = "offline",
) -> list[ChapterStatus]:
    """Every chapter's status, plus stored files whose chapter no longer exists."""
    if expected is not None:
        profile = str(expected.get("profile", profile))
    names = project.chapter_names()
    statuses = [chapter_status(project, name, expected, profile) for name in names]
    folder = store_dir_for(project.store_dir, profile)
    for orphan in sorted(p for p in folder.glob("*.json") if p.stem not in names):
        chapter = project.relative(project.chapter_path(orphan.stem))
        statuses.append(ChapterStatus(orphan.stem, State.BROKEN, (
            f"{project.relative(orphan)} has no chapter {chapter}; "
            "delete the stored file or restore the chapter"
        )))
    return statuses


def needs_run(status: ChapterStatus, *, force: bool = False) -> bool:
    """Missing, broken and code-stale chapters run; so does one captured with another profile.

    A device or version difference alone is reported by `llmdocs status` but does not
    re-run (a CPU rebuild must not silently replace outputs captured on a GPU): --force does.
    """
    if force or status.state in (State.MISSING, State.BROKEN, State.STALE_CODE):
        return True
    return status.state is State.STALE_ENV and "profile" in status.changes
