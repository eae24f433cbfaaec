"""Defaults shared by the command line, the runner and the MkDocs plugin (import-light)."""

from __future__ import annotations

DEFAULT_TIMEOUT_S = 600
"""Seconds one cell may run before it is stopped."""

DEFAULT_MAX_OUTPUT = 1_000_000
"""Characters of output one cell may store (text, base64 of images) before it is cut."""
MAX_OUTPUT_RANGE = (1_000, 100_000_000)
MAX_OUTPUT_ENV = "LLMDOCS_MAX_OUTPUT"
TIMEOUT_RANGE = (1, 7 * 24 * 3600)
"""A cell timeout, in seconds: at least one second, at most a week."""


def max_output(environ: dict[str, str] | None = None) -> int:
    """The per-cell output limit: LLMDOCS_MAX_OUTPUT when set, else the default.

    ValueError naming the variable when it is not a whole number within MAX_OUTPUT_RANGE.
    """
    import os

    raw = (os.environ if environ is None else environ).get(MAX_OUTPUT_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_OUTPUT
    low, high = MAX_OUTPUT_RANGE
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = -1
    if not low <= value <= high:
        raise ValueError(
            f"{MAX_OUTPUT_ENV}={raw!r} is not a number of characters from {low:,} to {high:,}"
        )
    return value
