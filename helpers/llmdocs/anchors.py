"""Heading ids shared by a page's translations: `## 词表 {#vocabulary}` and `## Vocabulary`
both get `vocabulary`, so links, the TOC and the language switch land on the same section.

A heading's id is, in order: its own explicit `{#id}`, the explicit id of the heading at the
same position in the other language, the slug of the English heading, its own slug, or
`section-N`. Pages whose translations have different heading counts keep their own slugs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markdown.extensions.toc import slugify

from .directives import unfenced_lines

HEADING = re.compile(
    r"^(?P<hashes>#{1,6})\s+(?P<text>.*?)\s*(?:\{(?P<attrs>[^{}]*)\})?\s*$"
)
EXPLICIT_ID = re.compile(r"(?:^|\s)#(?P<id>[\w-]+)")
INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True)
class Heading:
    """One Markdown heading outside fenced code."""

    line: int  # 1-based
    level: int
    text: str
    explicit_id: str


@lru_cache(maxsize=256)  # a page's headings are read for it and for its translation
def headings(markdown: str) -> tuple[Heading, ...]:
    """ATX headings outside fenced code blocks, in order."""
    found = []
    for number, line in unfenced_lines(markdown):
        match = HEADING.match(line) if line.startswith("#") else None
        if not match or not match["text"]:
            continue
        attrs = match["attrs"] or ""
        explicit = EXPLICIT_ID.search(attrs)
        text = match["text"].rstrip("#").rstrip() if match["attrs"] is None else match["text"]
        found.append(Heading(number, len(match["hashes"]), text,
                             explicit["id"] if explicit else ""))
    return tuple(found)


def plain(text: str) -> str:
    """Heading text without Markdown markup (what the reader sees)."""
    return re.sub(r"[`*_]", "", INLINE_LINK.sub(r"\1", text)).strip()


def heading_ids(markdown: str, english: str | None, other: str | None) -> list[str]:
    """Ids for the headings of ``markdown`` (see the module docstring)."""
    own = headings(markdown)
    theirs = headings(other) if other is not None else []
    in_english = headings(english) if english is not None else []
    paired = len(theirs) == len(own)
    used: set[str] = set()
    ids = []
    for index, heading in enumerate(own):
        candidates = [heading.explicit_id]
        if paired:
            candidates.append(theirs[index].explicit_id)
        if len(in_english) == len(own):
            candidates.append(slugify(plain(in_english[index].text), "-"))
        candidates += [slugify(plain(heading.text), "-"), f"section-{index + 1}"]
        chosen = next(c for c in candidates if c)
        ids.append(_unique(chosen, used))
    return ids


def _unique(candidate: str, used: set[str]) -> str:
    """Python-Markdown's rule for repeated ids: `id`, `id_1`, `id_2`…"""
    chosen, count = candidate, 0
    while chosen in used:
        count += 1
        chosen = f"{candidate}_{count}"
    used.add(chosen)
    return chosen


def with_heading_ids(markdown: str, ids: list[str]) -> str:
    """The page with `{#id}` added to each heading that has no explicit id."""
    lines = markdown.split("\n")
    for heading, chosen in zip(headings(markdown), ids, strict=False):
        if heading.explicit_id:
            continue
        line = lines[heading.line - 1].rstrip()
        match = HEADING.match(line)
        if match and match["attrs"] is not None:  # `{.class}` without an id: add one to it
            start, end = match.span("attrs")
            lines[heading.line - 1] = f"{line[:start]}#{chosen} {line[start:end]}{line[end:]}"
        else:
            lines[heading.line - 1] = f"{line} {{#{chosen}}}"
    return "\n".join(lines)
