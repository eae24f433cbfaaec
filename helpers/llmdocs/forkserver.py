"""The kernel fork server: heavy modules imported once, a fresh kernel process per chapter.

Run as ``python -m llmdocs.forkserver MODULE[:NAME,...] ...`` by `forking.KernelForks`
with exactly the environment the kernels get. It imports the listed modules (torch,
transformers, the model's modeling module...) and ipykernel, then waits. For each request
on stdin it forks a child that becomes one chapter's kernel: a new process in its own
session, holding nothing but those imports, never a cell of another chapter. Imports,
not state: nothing here runs a model, creates a thread pool, a ZMQ context or a CUDA
context, which a fork could not safely copy.

Protocol (one JSON object per line). Requests: {"id", "module", "args", "cwd", "env",
"log"}; the env carries the chapter's marker (processes.MARKER). Replies: {"ready": true,
"failed": [...]}, then {"id", "pid"} or {"id", "error"} per request, and {"exit": pid,
"code": n} when a kernel ends (code as subprocess gives it: negative for a signal).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import runpy
import select
import signal
import sys
import traceback
from typing import Any

from .processes import MARKER

ALWAYS = ("ipykernel.kernelapp",)


def preload(specs: list[str]) -> list[str]:
    """Import ``module[:name,name]`` specs (names resolve lazy attributes, as transformers'
    AutoModel classes are); the specs that failed, which the kernel then imports itself."""
    failed = []
    for spec in [*ALWAYS, *specs]:
        module, _, names = spec.partition(":")
        try:
            found = importlib.import_module(module)
            for name in filter(None, names.split(",")):
                getattr(found, name)
        except Exception:  # the chapter meets the same error in its own cell, and says so
            failed.append(spec)
    return failed


def retag(key: str, value: str) -> None:
    """Put this chapter's marker into the environment block the kernel was started with.

    /proc/PID/environ shows that block, and processes the kernel forks without exec copy
    it; `processes.end_processes` finds a chapter's processes by it. `os.environ` alone
    changes only what exec'd children get (the request's env sets it there). The marker has
    the length of the fork server's own, so it is overwritten in place."""
    libc = ctypes.CDLL(None)
    libc.getenv.restype = ctypes.c_void_p
    address = libc.getenv(key.encode())
    current = ctypes.string_at(address) if address else b""
    if address and len(current) == len(value.encode()):
        ctypes.memmove(address, value.encode(), len(current))


def become_kernel(request: dict[str, Any], private_fds: list[int]) -> None:
    """In the forked child: become the requested kernel; never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in private_fds:
            os.close(fd)
        os.setsid()  # its own process group, as jupyter_client starts kernels
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(request["log"] or os.devnull, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.chdir(request["cwd"])
        if MARKER in request["env"]:
            retag(MARKER, request["env"][MARKER])
        os.environ.clear()
        os.environ.update(request["env"])
        # A fresh process seeds numpy's global generator from the OS; so does each fork
        # (Python's own `random` reseeds itself after a fork).
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        # ipykernel read JPY_PARENT_PID when the fork server imported it: name the real
        # parent, so that the kernel ends if the fork server does.
        sys.argv = [request["module"], *request["args"],
                    f"--IPKernelApp.parent_handle={os.getppid()}"]
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def serve(requests: int, replies: int) -> None:
    def reply(message: dict[str, Any]) -> None:
        os.write(replies, (json.dumps(message) + "\n").encode())

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select through wake_r
    reply({"ready": True, "failed": preload(sys.argv[1:])})
    buffered = b""
    while True:
        readable, _, _ = select.select([requests, wake_r], [], [])
        if wake_r in readable:
            os.read(wake_r, 4096)
        while True:  # reap every kernel that ended
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            reply({"exit": pid, "code": os.waitstatus_to_exitcode(status)})
        if requests not in readable:
            continue
        chunk = os.read(requests, 65536)
        if not chunk:  # the runner has gone: so do we (kernels follow via their poller)
            return
        buffered += chunk
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            request = json.loads(line)
            try:
                pid = os.fork()
            except OSError as exc:
                reply({"id": request["id"], "error": str(exc)})
                continue
            if pid == 0:
                become_kernel(request, [requests, replies, wake_r, wake_w])
            reply({"id": request["id"], "pid": pid})


def main() -> None:
    # Requests and replies move to private descriptors, so that whatever an import prints
    # goes to the log (fd 2), never into the reply stream.
    requests, replies = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    serve(requests, replies)


if __name__ == "__main__":
    main()
