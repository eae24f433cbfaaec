"""Fresh kernels without paying the heavy imports again: kernels forked from a fork server.

A new kernel per chapter is what keeps chapters apart, yet each one used to spend seconds
importing torch and transformers before its first cell (a full refresh took about twice
the one-process time, measured). `KernelForks` starts one fork server (`forkserver`) per run, which
imports those modules once, and jupyter_client starts each chapter's kernel through
`ForkingProvisioner`: a fork of that server, a new process holding no other chapter's
state, driven exactly like a launched one (signals, shutdown, dead-kernel checks).

Linux only (fork after imports is unsafe on macOS), and off with LLMDOCS_FORK=0. A kernel
whose environment differs in what imports could read (PYTHONPATH, thread settings...) gets
a server of its own; one that is not a Python module kernel, or whose server cannot start,
is launched the usual way.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner

from .errors import LlmdocsError
from .kernels import heavy_imports
from .processes import MARKER

# What may differ between the fork server's environment and a kernel's: read by the
# chapters at run time (our own variables) or set per kernel. Anything else could have been
# read while the server imported (thread counts, PYTHONHASHSEED...), so it gets its own server.
PER_KERNEL = ("LLM_BASICS_", "JPY_", MARKER)
START_TIMEOUT_S = 300.0
log = logging.getLogger("llmdocs")
_active: KernelForks | None = None  # the run's fork servers (see `forks`)


def enabled() -> bool:
    return sys.platform == "linux" and os.environ.get("LLMDOCS_FORK", "1").lower() not in (
        "0", "false", "no", "off")


def preload_specs(sources: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """What the fork server imports: the heavy modules the chapters import (with the names
    they take from them) and the modeling module of each model they are given, which
    transformers would otherwise import on first use in every kernel."""
    specs = [f"{module}:{','.join(sorted(names))}"
             for module, names in sorted(heavy_imports(sources).items())]
    for value in sorted(set(env.values())):
        if not os.path.isabs(value):  # a Hub id (reference profile), not a folder
            continue
        try:
            config = (Path(value) / "config.json").read_text(encoding="utf-8")
            model_type = json.loads(config)["model_type"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        name = str(model_type).replace("-", "_")
        specs.append(f"transformers.models.{name}.modeling_{name}")
    return specs


def _server_key(env: Mapping[str, str], cwd: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    kept = tuple(sorted((k, v) for k, v in env.items() if not k.startswith(PER_KERNEL)))
    return cwd, kept


class ForkServer:
    """One fork server process and its reply stream."""

    MODULE = "llmdocs.forkserver"

    def __init__(self, env: Mapping[str, str], cwd: str, specs: Sequence[str], log: Path) -> None:
        own = {**env, MARKER: _server_marker(env.get(MARKER, ""))}
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.MODULE, *specs], cwd=cwd, env=own,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._requests: IO[bytes] = self.process.stdin
        self._replies: IO[bytes] = self.process.stdout
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._answers: dict[int, dict[str, Any]] = {}
        self._exits: dict[int, int] = {}
        self._next_id = 0
        self.gone = False
        threading.Thread(target=self._read, name="llmdocs-forkserver", daemon=True).start()

    def _read(self) -> None:
        for line in self._replies:
            message = json.loads(line)
            with self._changed:
                if "ready" in message:  # a failed preload is imported by the kernel itself
                    log.debug("fork server preload failed for: %s", message["failed"])
                elif "exit" in message:
                    self._exits[message["exit"]] = message["code"]
                else:
                    self._answers[message["id"]] = message
                self._changed.notify_all()
        with self._changed:
            self.gone = True
            self._changed.notify_all()

    def fork(self, module: str, args: Sequence[str], cwd: str, env: Mapping[str, str],
             log: str) -> int:
        """A new kernel process: the pid of the fork running ``python -m module args``."""
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            request = {"id": ident, "module": module, "args": list(args), "cwd": cwd,
                       "env": dict(env), "log": log}
            try:
                self._requests.write(json.dumps(request).encode() + b"\n")
                self._requests.flush()
            except OSError as exc:
                raise LlmdocsError(f"the kernel fork server has ended ({exc})") from None
        with self._changed:
            if not self._changed.wait_for(lambda: ident in self._answers or self.gone,
                                          START_TIMEOUT_S):
                raise LlmdocsError("the kernel fork server did not answer")
            if ident not in self._answers:
                raise LlmdocsError(
                    f"the kernel fork server has ended (exit {self.process.poll()}); "
                    "run with LLMDOCS_FORK=0 to start kernels without it")
            answer = self._answers.pop(ident)
        if "error" in answer:
            raise LlmdocsError(f"could not fork a kernel: {answer['error']}")
        return int(answer["pid"])

    def exit_code(self, pid: int, timeout: float | None = 0) -> int | None:
        with self._changed:
            self._changed.wait_for(lambda: pid in self._exits or self.gone, timeout)
            if pid in self._exits:
                return self._exits[pid]
        if self.gone and not _alive(pid):  # the server died before it could say
            return -9
        return None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._requests.close()  # end of input: the server exits
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def _server_marker(chapter_marker: str) -> str:
    """The server's own marker: the runner's prefix (so that a stopped run ends it too) and
    the length of a chapter's marker (so that each kernel can overwrite it in place)."""
    prefix, _, token = chapter_marker.partition("-")
    return f"{prefix}-{'forkserver'[:len(token)].ljust(len(token), '0')}"


_warned: set[str] = set()


def log_warning_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # the pid exists (now another user's)
        return True
    return True


class ForkedKernel:
    """A forked kernel seen as jupyter_client sees a launched one (a Popen's methods)."""

    stdin = stdout = stderr = None

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server, self.pid = server, pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.pid, timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it ended in between
                os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class KernelForks:
    """The fork servers of one run, one per kernel environment, started on first use."""

    def __init__(self, sources: Sequence[str]) -> None:
        self.sources = list(sources)
        # The servers' own output (an import's warning, a crash): read only when debugging.
        self.log_dir = Path(tempfile.mkdtemp(prefix="llmdocs-forks-"))
        self._servers: dict[Any, ForkServer] = {}
        self._lock = threading.Lock()

    def server(self, env: Mapping[str, str], cwd: str) -> ForkServer:
        key = _server_key(env, cwd)
        with self._lock:
            if key not in self._servers:
                log = self.log_dir / f"forkserver-{len(self._servers)}.log"
                specs = preload_specs(self.sources, env)
                self._servers[key] = ForkServer(env, cwd, specs, log)
            return self._servers[key]

    def close(self) -> None:
        with self._lock:
            for server in self._servers.values():
                server.close()
            self._servers.clear()
        shutil.rmtree(self.log_dir, ignore_errors=True)


@contextlib.contextmanager
def forks(sources: Sequence[str], *, on_gpu: bool = False) -> Iterator[None]:
    """Within this block, `execute` starts kernels as forks of a server that imported what
    ``sources`` (the chapters about to run) import. A module-level slot rather than a
    parameter: the chapters run in worker threads, several calls below the run.

    Not on a GPU: CUDA works in a fork only if the server never touched it, which imports
    may do (a device count); there the kernels start the usual way."""
    global _active
    if not enabled() or on_gpu or _active is not None:
        yield
        return
    _active = KernelForks(sources)
    try:
        yield
    finally:
        active, _active = _active, None
        active.close()


def provisioner_for(manager: Any) -> ForkingProvisioner | None:
    """A provisioner that forks this manager's kernel, inside `forks` (else None)."""
    if _active is None:
        return None
    return ForkingProvisioner(kernel_id=manager.kernel_id or "", kernel_spec=manager.kernel_spec,
                              parent=manager, forks=_active)


class ForkingProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, but the kernel process is a fork of the server."""

    def __init__(self, *, forks: KernelForks, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.forks = forks

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        env: dict[str, str] = kwargs.get("env") or dict(os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        if len(cmd) < 3 or cmd[0] != sys.executable or cmd[1] != "-m":
            return await super().launch_kernel(cmd, **kwargs)  # not a Python module kernel
        stream = kwargs.get("stderr")
        log = getattr(stream, "name", "")
        try:
            server = self.forks.server(env, cwd)
            pid = server.fork(cmd[2], cmd[3:], cwd, env, log if isinstance(log, str) else "")
        except (LlmdocsError, OSError) as exc:  # slower, but the chapter still runs
            log_warning_once(f"starting this kernel the usual way: {exc}")
            return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedKernel(server, pid)  # type: ignore[assignment]  # Popen's methods
        self.pid = self.pgid = pid  # the fork starts its own session
        self.cwd = cwd
        return self.connection_info
