"""Defaults shared by the command line, the runner and the MkDocs plugin (import-light)."""

from __future__ import annotations

DEFAULT_TIMEOUT_S = 600
"""Seconds one cell may run before it is stopped."""
