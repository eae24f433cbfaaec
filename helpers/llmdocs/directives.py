"""Find `<!-- llmdocs CHAPTER:CELL [show=code|output|both] [alt="…"] -->` lines in a page.

An HTML comment, so a page still reads (and builds) cleanly where the plugin is disabled.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from .errors import LlmdocsError

START = re.compile(r"^\s*<!--\s*llmdocs\b")
DIRECTIVE = re.compile(r"^\s*<!--\s*llmdocs\s+(?P<body>.*?)\s*-->\s*$")
REFERENCE = re.compile(r"^(?P<chapter>[a-z0-9][a-z0-9_-]*):(?P<cell>[a-z0-9][a-z0-9_-]*)$")
SHOW = ("both", "code", "output")
FENCE = re.compile(r"^\s*(?P<marker>`{3,}|~{3,})(?P<info>.*)$")
# Lines whose indented followers are their content: list items, admonitions and collapsible
# blocks, content tabs, footnote definitions.
CONTAINER = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|!!!|\?\?\?|===|\[\^[^\]]+\]:)")
COMMENT = re.compile(r"<!--\s*(?P<word>[\w-]+)(?P<rest>.*?)(?:-->|$)")
CODE_SPAN = re.compile(r"(`+).+?\1")
REFERENCE_LIKE = re.compile(r"^\s*[\w-]+:[\w-]+")
QUOTING = re.compile(r"[\"'\\]")
SHELL_SPACE = re.compile(r"[ \t\r\n]+")  # what shlex splits on (not every Unicode space)


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
    body = match.group("body")
    try:
        # shlex only where quotes or escapes need it (alt="…"): it reads a character at a time.
        words = shlex.split(body) if QUOTING.search(body) else SHELL_SPACE.split(body.strip())
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
    """(1-based number, text) of each line outside code blocks: fenced ones (fence lines
    excluded) and indented ones (4 spaces more than their container, after a blank line).

    Containers follow Python-Markdown: the content of a list item, an admonition (!!!,
    ???), a content tab (===) or a footnote is indented by 4, so its own indented code
    needs 8.
    """
    return iter(_unfenced_lines(markdown))


# A build reads each page's lines several times (its directives, near misses, its headings
# and its translation's): the pages of both languages, each read once.
@lru_cache(maxsize=256)
def _unfenced_lines(markdown: str) -> tuple[tuple[int, str], ...]:
    return tuple(_scan(markdown))


def _scan(markdown: str) -> Iterator[tuple[int, str]]:
    fence: str | None = None
    blank_before = True
    in_code = False
    containers: list[int] = []  # content indents of the open containers
    for number, text in enumerate(markdown.splitlines(), start=1):
        if fence is not None:
            found_fence = FENCE.match(text) if fence[0] in text else None
            if found_fence:
                marker = found_fence["marker"]
                # A closing fence: the same character, at least as long, no info string.
                if marker[0] == fence[0] and len(marker) >= len(fence):
                    fence = None if not found_fence["info"].strip() else fence
            continue
        if not text.strip():
            blank_before = True
            yield number, text
            continue
        expanded = text.expandtabs(4) if "\t" in text else text
        indent = len(expanded) - len(expanded.lstrip())
        while containers and blank_before and indent < containers[-1]:
            containers.pop()
        base = containers[-1] if containers else 0
        if indent >= base + 4 and (blank_before or in_code):
            in_code, blank_before = True, False
            continue
        in_code, blank_before = False, False
        found_fence = FENCE.match(text) if "`" in text or "~" in text else None
        if found_fence:
            fence = found_fence["marker"]
            continue
        if CONTAINER.match(text):
            containers.append(indent + 4)
        yield number, text


def near_misses(markdown: str, page: str) -> list[str]:
    """Warnings for lines that look like a directive but are not one, so never render:
    a misspelled or wrongly cased keyword (`<!-- LLMDOCS`, `<!-- llmdoc`) or a directive
    that does not start its line. Code blocks and inline code are skipped."""
    usage = "write it as <!-- llmdocs CHAPTER:CELL --> on a line of its own"
    found: list[str] = []
    for number, text in unfenced_lines(markdown):
        if "<!--" not in text or START.match(text):
            continue
        for comment in COMMENT.finditer(CODE_SPAN.sub("", text)):
            word, rest = comment["word"], comment["rest"]
            if word == "llmdocs":
                found.append(f"{page}:{number}: an llmdocs directive must start its line; {usage}")
            elif _looks_like_keyword(word) or (
                REFERENCE_LIKE.match(rest) and "llm" in word.lower()
            ):
                found.append(
                    f"{page}:{number}: {comment.group(0).strip()!r} looks like an llmdocs "
                    f"directive but is not one (keyword {word!r}); {usage}"
                )
    return found


def _looks_like_keyword(word: str) -> bool:
    """'LLMDOCS', 'llmdoc', 'llm-docs', 'lmdocs': close to the keyword, yet not it."""
    from difflib import SequenceMatcher

    folded = re.sub(r"[^a-z]", "", word.lower())
    return word != "llmdocs" and SequenceMatcher(None, folded, "llmdocs").ratio() >= 0.8


def find_directives(markdown: str, page: str) -> list[Directive]:
    """Every directive in a page, in order; lines inside fenced code blocks are skipped."""
    return list(_directives(markdown, page))


@lru_cache(maxsize=256)  # a build reads each page's directives for the page and its notebook
def _directives(markdown: str, page: str) -> tuple[Directive, ...]:
    return tuple(
        parse_line(text, page, number)
        for number, text in unfenced_lines(markdown)
        if "llmdocs" in text and START.match(text)
    )
