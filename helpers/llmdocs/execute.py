"""Execute one chapter in a fresh Jupyter kernel, cell by cell, and capture what it shows."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from .capture import convert_outputs, traceback_line
from .chapters import Chapter
from .errors import CellFailure
from .forking import provisioner_for
from .kernels import before_cells, warm_code
from .processes import end_processes, new_marker
from .settings import DEFAULT_TIMEOUT_S, max_output
from .store import StoredCell

# Silence at the source what would otherwise land in captured stderr.
KERNEL_ENV = {
    "TQDM_DISABLE": "1",  # transformers' "Loading weights" and any other tqdm bar
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYTHONHASHSEED": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # debugpy's frozen-modules note on startup
    "JUPYTER_PLATFORM_DIRS": "1",
}

# Run before the chapter's cells and never stored: stable figure output.
PRELUDE = """\
%config InlineBackend.figure_formats = ['png']
%config InlineBackend.rc = {'figure.dpi': 96, 'savefig.dpi': 96}
import warnings as _w
_w.filterwarnings("ignore", message=".*IProgress not found.*")
del _w
"""

Progress = Callable[[str, int, int], None]


@dataclass
class ChapterResult:
    """Cells captured so far, and the failure that stopped the chapter, if any."""

    cells: dict[str, StoredCell] = field(default_factory=dict)
    failure: CellFailure | None = None
    kernel_start_s: float = 0.0


def execute_chapter(
    chapter: Chapter,
    env: dict[str, str],
    *,
    cwd: Path,
    timeout_s: int = DEFAULT_TIMEOUT_S,
    progress: Progress | None = None,
    max_output_chars: int | None = None,
) -> ChapterResult:
    """Run every cell of ``chapter`` in order in one new kernel; stop at the first failure.

    Each cell stores at most ``max_output_chars`` (default: settings.max_output()). When the
    chapter ends, so has every process its cells started (see processes).
    """
    limit = max_output() if max_output_chars is None else max_output_chars
    notebook = nbformat.v4.new_notebook()
    warm = warm_code([cell.source for cell in chapter.cells])  # only when started ahead
    notebook.cells = [nbformat.v4.new_code_cell(PRELUDE + warm)] + [
        nbformat.v4.new_code_cell(cell.source, metadata={"tags": list(cell.tags)})
        for cell in chapter.cells
    ]
    # IPC sockets instead of TCP on loopback: nothing to eavesdrop on, and ipykernel's
    # "running over TCP without encryption" warning never appears. The manager must be the
    # async one: nbclient polls a blocking client inside its event loop, which then blocks
    # on the next output, so neither the cell timeout nor the dead-kernel check ever fires.
    socket_dir = tempfile.mkdtemp(prefix="llmdocs-kernel-")
    manager = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=f"{socket_dir}/kernel")
    manager.provisioner = provisioner_for(manager)  # a fork inside `forking.forks`, else None
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=timeout_s,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        interrupt_on_timeout=False,
    )
    marker = new_marker()
    kernel_env = {**os.environ, **KERNEL_ENV, **env, **marker}
    result = ChapterResult()
    shown = _shown_path(chapter.path, cwd)
    try:
        with open(f"{socket_dir}/kernel.log", "w+b") as kernel_log:
            _run_cells(
                client, notebook, chapter, result, shown, timeout_s, progress, kernel_env,
                kernel_log, limit,
            )
    finally:
        end_processes(marker)
        shutil.rmtree(socket_dir, ignore_errors=True)
    return result


def _run_cells(
    client: NotebookClient, notebook: nbformat.NotebookNode, chapter: Chapter,
    result: ChapterResult, shown: str, timeout_s: int, progress: Progress | None,
    kernel_env: dict[str, str], kernel_log: BinaryIO, limit: int,
) -> None:
    started = time.perf_counter()
    # The kernel process's own log (not cell output, which travels over ZMQ) goes to a file,
    # so shutdown chatter stays off the terminal yet a crash can still be explained.
    # cleanup_kc: nbclient only shuts down kernels whose manager it created itself; without
    # it every chapter's kernel (and the model it holds) lives until this process exits.
    with client.setup_kernel(
        cleanup_kc=True, env=kernel_env, stderr=kernel_log, stdout=kernel_log
    ):
        result.kernel_start_s = time.perf_counter() - started
        client.execute_cell(notebook.cells[0], 0)
        before_cells()  # started ahead of its turn: wait for it here, imports done
        for index, cell in enumerate(chapter.cells, start=1):
            if progress:
                progress(cell.name, index, len(chapter.cells))
            nb_cell = notebook.cells[index]
            begun = time.perf_counter()
            try:
                client.execute_cell(nb_cell, index)
            except CellTimeoutError:
                result.failure = CellFailure(
                    shown, cell.name, cell.line,
                    f"timed out after {timeout_s} s (raise it with --timeout)",
                )
                return
            except CellExecutionError as exc:
                outputs = convert_outputs(nb_cell.outputs, limit)
                trace: list[str] = next(
                    (o["error"]["traceback"] for o in outputs if "error" in o), []
                )
                in_cell = traceback_line(trace, nb_cell.get("execution_count"))
                line = cell.line + in_cell - 1 if in_cell else cell.line
                result.failure = CellFailure(shown, cell.name, line, f"{exc.ename}: {exc.evalue}")
                return
            except DeadKernelError as exc:
                kernel_log.seek(0)
                tail = kernel_log.read().decode("utf-8", "replace").strip()[-500:]
                result.failure = CellFailure(
                    shown, cell.name, cell.line, f"kernel died ({exc}) {tail}".strip()
                )
                return
            result.cells[cell.name] = StoredCell(
                convert_outputs(nb_cell.outputs, limit), time.perf_counter() - begun
            )


def _shown_path(path: Path, cwd: Path) -> str:
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)
