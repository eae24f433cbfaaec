"""One run of a chapter at a time: an advisory lock per chapter, naming who holds it.

Two `llmdocs run` (or a run and a build with `execute: true`) on one checkout must not run the
same chapter at once: both would load its models and race to write its stored file. The
lock is an flock on `.llmdocs-cache/locks/<chapter>.lock`; the holder writes its process id,
host, start time and command line into it, so a second run can say who holds it. The
kernel releases an flock when its holder dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import LlmdocsError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locking
    fcntl = None  # type: ignore[assignment]


class ChapterLocked(LlmdocsError):
    """Another process is running this chapter right now."""


def lock_dir(root: Path) -> Path:
    """`.llmdocs-cache/locks/` in the project, or a per-project temp folder if read-only."""
    folder = Path(root) / ".llmdocs-cache" / "locks"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    except OSError:
        digest = hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:12]
        folder = Path(tempfile.gettempdir()) / f"llmdocs-locks-{digest}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder


@contextmanager
def chapter_lock(root: Path, chapter: str, shown: str) -> Iterator[None]:
    """Hold the lock of ``chapter`` for the block; ChapterLocked naming the holder if taken."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    path = lock_dir(root) / f"{chapter}.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 4096, 0).decode("utf-8", "replace").strip()
            raise ChapterLocked(
                f"{shown}: another llmdocs run is running this chapter "
                f"({holder or 'holder unknown'}); wait for it to finish, or stop it"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, _holder().encode("utf-8"), 0)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _holder() -> str:
    started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:200] if sys.argv else "?"
    return f"pid {os.getpid()} on {socket.gethostname()}, since {started}: {command}"
