"""Leave no process behind: end everything a chapter's kernel started, however detached.

A cell may start processes of its own (a server, a `subprocess.Popen` in a new session, a
daemon that double-forks). Killing the kernel's process group misses the ones that left it,
so the kernel starts with a marker variable in its environment, which every descendant
inherits, and after the chapter every process of this user carrying that marker is ended:
SIGTERM, then SIGKILL for those still there after a grace period. Linux (/proc) only;
elsewhere this does nothing. A process that replaced its whole environment escapes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from collections.abc import Callable
from pathlib import Path

MARKER = "LLMDOCS_KERNEL_RUN"
PROC = Path("/proc")


def new_marker() -> dict[str, str]:
    """The environment entry that tags one chapter's kernel and its descendants."""
    return {MARKER: f"{os.getpid()}-{secrets.token_hex(8)}"}


def tagged_processes(marker: dict[str, str]) -> list[int]:
    """Ids of this user's processes whose environment carries ``marker``."""
    [(key, value)] = marker.items()
    return _scan(lambda item: item == f"{key}={value}".encode())


def _scan(wanted: Callable[[bytes], bool]) -> list[int]:
    found: list[int] = []
    if not PROC.is_dir():
        return found
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone already, or another user's
            continue
        if any(wanted(item) for item in environ.split(b"\0")):
            found.append(int(entry.name))
    return found


def end_all_started_here() -> list[int]:
    """End the kernels (and their processes) of every chapter this process is running: a
    stopped `llmdocs run` must not wait for chapters running in other threads."""
    prefix = f"{MARKER}={os.getpid()}-".encode()
    pids = _scan(lambda item: item.startswith(prefix))
    for pid in pids:
        _signal(pid, signal.SIGKILL)
    return pids


def end_processes(marker: dict[str, str], grace_s: float = 2.0) -> list[int]:
    """End every process tagged with ``marker``; the ids that had to be ended."""
    ended = tagged_processes(marker)
    for pid in ended:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    remaining = ended
    while remaining and time.monotonic() < deadline:
        time.sleep(0.05)
        remaining = [pid for pid in remaining if _alive(pid)]
    for pid in remaining:
        _signal(pid, signal.SIGKILL)
    for pid in remaining:  # wait (briefly) until the kernel has taken them off the list
        for _ in range(40):
            if not _alive(pid):
                break
            time.sleep(0.05)
    return ended


def _signal(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, number)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, dead but not yet reaped by its parent, is not)."""
    try:
        status = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return status.rsplit(")", 1)[-1].split()[0] != "Z"
