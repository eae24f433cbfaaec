"""Kernels forked from a server that imported the heavy modules once: still one new,
isolated kernel per chapter, whose processes end with it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from llmdocs import forking
from llmdocs.processes import MARKER
from llmdocs.project import Project
from llmdocs.runner import run_chapters

# torch: a heavy module the prelude does not import. The chapter names it, so the fork
# server imports it; the probe looks before the chapter's own import.
PROBE = '''\
# %% probe
import os, sys
print("torch" in sys.modules, os.getppid(), os.getpid())
import torch
'''
# A daemon the classic way, without exec: it keeps the kernel's original environment block
# and is neither the kernel's child (ipykernel ends those) nor in its process group.
FORKS_A_DAEMON = '''\
# %% daemon
import os, time
reader, writer = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(writer, str(os.getpid()).encode())
        time.sleep(300)
    os._exit(0)
open("daemon.pid", "w").write(os.read(reader, 20).decode())
'''


def _lines(project: Project, chapter: str) -> list[str]:
    stored = json.loads((project.store_dir / f"{chapter}.json").read_text(encoding="utf-8"))
    (cell,) = stored["cells"].values()  # one cell per test chapter
    return "".join(o["text"] if isinstance(o["text"], str) else "".join(o["text"])
                   for o in cell["outputs"] if o.get("stream") == "stdout").split()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


def _write(project: Project, chapters: dict[str, str]) -> None:
    for name, body in chapters.items():
        (project.snippets_dir / f"{name}.py").write_text(body, encoding="utf-8")


@pytest.mark.skipif(not forking.enabled(), reason="fork server is Linux only")
class TestForkedKernels:
    def test_kernels_are_new_forks_of_one_server_with_imports_done(
        self, fixture_project: Project
    ) -> None:
        """torch is in sys.modules before the cell's own import ran, and both chapters'
        kernels are distinct children of the same server (not of this process)."""
        project = fixture_project
        _write(project, {"a-probe": PROBE, "b-probe": PROBE})
        summary = run_chapters(project, ["a-probe", "b-probe"], device="cpu", prestart=False)
        assert not summary.failures
        ready_a, parent_a, pid_a = _lines(project, "a-probe")
        ready_b, parent_b, pid_b = _lines(project, "b-probe")
        assert (ready_a, ready_b) == ("True", "True")
        assert parent_a == parent_b != str(os.getpid())
        assert pid_a != pid_b
        assert not _alive(int(parent_a))  # the server ended with the run

    def test_switched_off_kernels_are_launched(
        self, fixture_project: Project, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LLMDOCS_FORK", "0")
        project = fixture_project
        _write(project, {"a-probe": PROBE})
        assert not run_chapters(project, ["a-probe"], device="cpu", prestart=False).failures
        ready, parent, _ = _lines(project, "a-probe")
        assert (ready, parent) == ("False", str(os.getpid()))

    def test_a_forked_process_without_exec_ends_with_its_chapter(
        self, fixture_project: Project
    ) -> None:
        """The kernel carries its chapter's marker in its own environment block, which a
        plain fork copies: the daemon is found and ended."""
        project = fixture_project
        _write(project, {"forks": FORKS_A_DAEMON})
        summary = run_chapters(project, ["forks"], device="cpu")
        assert not summary.failures
        daemon = int((project.root / "daemon.pid").read_text())
        deadline = time.monotonic() + 5
        while _alive(daemon) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(daemon)

    def test_a_dead_server_falls_back_to_launching(
        self, fixture_project: Project, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A server that cannot start (here: its module missing) costs speed, not the run."""
        monkeypatch.setattr(forking.ForkServer, "MODULE", "llmdocs.no_such_module")
        project = fixture_project
        _write(project, {"a-probe": PROBE})
        assert not run_chapters(project, ["a-probe"], device="cpu").failures
        _, parent, _ = _lines(project, "a-probe")
        assert parent == str(os.getpid())


def test_one_server_per_environment_that_imports_could_read() -> None:
    """Model paths, the device and the marker may differ per kernel; anything else (thread
    counts, PYTHONPATH) gets its own server."""
    base = {"PATH": "/bin", "LLM_BASICS_CHAT_MODEL": "/a", MARKER: "1-aaaa", "JPY_X": "1"}
    same = {**base, "LLM_BASICS_CHAT_MODEL": "/b", MARKER: "1-bbbb"}
    other = {**base, "OMP_NUM_THREADS": "1"}
    assert forking._server_key(base, "/p") == forking._server_key(same, "/p")
    assert forking._server_key(base, "/p") != forking._server_key(other, "/p")
    assert forking._server_key(base, "/p") != forking._server_key(base, "/q")


def test_server_marker_has_the_runs_prefix_and_a_chapters_length() -> None:
    chapter = "4242-0123456789abcdef"
    server = forking._server_marker(chapter)
    assert server.startswith("4242-") and len(server) == len(chapter) and server != chapter


def test_preload_names_heavy_imports_and_the_models_modeling_module(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "llama"}', encoding="utf-8")
    specs = forking.preload_specs(
        ["import torch\nfrom transformers import AutoTokenizer, AutoModel\nimport json"],
        {"LLM_BASICS_CHAT_MODEL": str(tmp_path), "HF_HUB_OFFLINE": "1"},
    )
    assert specs == ["torch:", "transformers:AutoModel,AutoTokenizer",
                     "transformers.models.llama.modeling_llama"]
