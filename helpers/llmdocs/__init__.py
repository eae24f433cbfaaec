"""llmdocs: run snippet chapters, store their outputs with provenance, render them into pages."""

from __future__ import annotations

__version__ = "0.1.0"
