"""Find `<!-- llmdocs CHAPTER:CELL [show=code|output|both] [alt="…"] -->` lines in a page.

An HTML comment, so a page still reads (and builds) cleanly where the plugin is disabled.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import LlmdocsError

START = re.compile(r"^\s*<!--\s*llmdocs\b")
DIRECTIVE = re.compile(r"^\s*<!--\s*llmdocs\s+(?P<body>.*?)\s*-->\s*$")
REFERENCE = re.compile(r"^(?P<chapter>[a-z0-9][a-z0-9_-]*):(?P<cell>[a-z0-9][a-z0-9_-]*)$")
SHOW = ("both", "code", "output")
FENCE = re.compile(r"^\s*(?P<marker>`{3,}|~{3,})(?P<info>.*)$")


class DirectiveError(LlmdocsError):
    """A directive line that cannot be parsed."""


@dataclass(frozen=True)
class Directive:
    """One embed of a chapter's cell in a page."""

    chapter: str
    cell: str
    line: int
    show: str = "both"
    alt: str = ""

    @property
    def ref(self) -> str:
        return f"{self.chapter}:{self.cell}"


def parse_line(text: str, page: str, line: int) -> Directive:
    """Parse one directive line; DirectiveError naming page and line when it is malformed."""
    usage = 'expected <!-- llmdocs CHAPTER:CELL [show=code|output|both] [alt="…"] -->'
    malformed = f"{page}:{line}: malformed llmdocs directive"
    match = DIRECTIVE.match(text)
    if not match:
        raise DirectiveError(f"{malformed} {text.strip()!r}; {usage}")
    try:
        words = shlex.split(match.group("body"))
    except ValueError as exc:
        raise DirectiveError(f"{malformed} ({exc}); {usage}") from None
    reference = REFERENCE.match(words[0]) if words else None
    if reference is None:
        raise DirectiveError(f"{malformed} {text.strip()!r}; {usage}")
    options: dict[str, str] = {}
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if not sep or key not in ("show", "alt") or key in options:
            raise DirectiveError(f"{page}:{line}: unknown or repeated option {word!r}; {usage}")
        options[key] = value
    show = options.get("show", "both")
    if show not in SHOW:
        raise DirectiveError(f"{page}:{line}: show={show!r} is not one of {', '.join(SHOW)}")
    return Directive(reference["chapter"], reference["cell"], line, show, options.get("alt", ""))


def unfenced_lines(markdown: str) -> Iterator[tuple[int, str]]:
    """(1-based number, text) of each line outside fenced code blocks, fence lines excluded."""
    fence: str | None = None
    for number, text in enumerate(markdown.splitlines(), start=1):
        found_fence = FENCE.match(text)
        if found_fence:
            marker = found_fence["marker"]
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                # A closing fence: the same character, at least as long, no info string.
                fence = None if not found_fence["info"].strip() else fence
            continue
        if fence is None:
            yield number, text


def find_directives(markdown: str, page: str) -> list[Directive]:
    """Every directive in a page, in order; lines inside fenced code blocks are skipped."""
    return [
        parse_line(text, page, number)
        for number, text in unfenced_lines(markdown)
        if START.match(text)
    ]
