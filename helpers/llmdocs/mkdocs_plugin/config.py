"""Options of the llmdocs MkDocs plugin."""

from __future__ import annotations

from mkdocs.config import config_options as c
from mkdocs.config.base import Config, ValidationError

from ..environment import DEVICES
from ..profiles import PROFILES
from ..settings import DEFAULT_TIMEOUT_S, TIMEOUT_RANGE


class IntRange(c.Type[int]):
    """A whole number within [low, high]: a zero or negative timeout is a config error."""

    def __init__(self, low: int, high: int, default: int) -> None:
        super().__init__(int, default=default)
        self.low, self.high = low, high

    def run_validation(self, value: object) -> int:
        number = super().run_validation(value)
        if isinstance(number, bool) or not self.low <= number <= self.high:
            raise ValidationError(f"expected a whole number from {self.low} to {self.high}")
        return number


class LlmdocsConfig(Config):
    """`plugins: - llmdocs: {…}` in mkdocs.yml."""

    enabled = c.Type(bool, default=True)
    """Turn the plugin off entirely (every hook returns at once): the performance baseline."""

    execute = c.Type(bool, default=False)
    """Build-time capture: run stale chapters before rendering (LLMDOCS_EXECUTE=1 also does)."""

    profile = c.Choice(PROFILES, default="offline")
    """Models used when executing: offline (embedded) or reference (the source's Hub models)."""

    device = c.Choice(DEVICES, default="auto")
    """Device used when executing."""

    results = c.Type(str, default="benchmarks/results.json")
    """Measured numbers (written by `make bench`) that `<!-- benchmark-results SECTION -->`
    lines render as tables; relative to mkdocs.yml."""

    timeout = IntRange(*TIMEOUT_RANGE, default=DEFAULT_TIMEOUT_S)
    """Seconds a cell may run during build-time capture."""

    notebooks = c.Type(bool, default=True)
    """Generate one notebook per chapter and language (committed at notebooks/<language>/),
    rendered by mkdocs-jupyter."""

    keep_renders = c.Type(bool, default=True)
    """Keep the notebook pages' rendered HTML across builds, rendered again only when what
    their templates read changed (rendered_pages)."""
