"""A page's MkDocs Markdown rewritten for a notebook's markdown cells.

Jupyter, Colab and nbconvert know none of the MkDocs extensions, so: content tabs become
plain labelled sections, admonitions become block quotes with their title, links between
pages point at the published pages, headings carry their id as an inline anchor, and fenced
code stays exactly as written.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable

from .anchors import EXPLICIT_ID, HEADING
from .directives import FENCE

BLOCK = re.compile(
    r"^(?P<kind>!!!|\?\?\?\+?|===[!+]?)\s*(?P<type>[\w-]*)?(?P<classes>(?:\s+[\w-]+)*)"
    r'\s*(?:"(?P<title>[^"]*)")?\s*$'
)
LINK = re.compile(r"(?P<head>\]\()(?P<target>[^)\s]+)(?P<tail>(?:\s+\"[^\"]*\")?\))")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
LinkResolver = Callable[[str], str]


def notebook_markdown(markdown: str, resolve: LinkResolver) -> str:
    """Convert page Markdown; a heading's `{#id}` becomes an inline `<a id>` anchor."""
    return "\n".join(_convert(markdown.split("\n"), resolve, top=True)).strip()


def _convert(lines: list[str], resolve: LinkResolver, top: bool) -> list[str]:
    out: list[str] = []
    fence: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        found_fence = FENCE.match(line)
        if fence is not None:
            out.append(line)
            if found_fence and _closes(found_fence, fence):
                fence = None
            continue
        if found_fence:
            fence = found_fence["marker"]
            out.append(line)
            continue
        block = BLOCK.match(line)
        if block and (block["title"] is not None or block["kind"][0] != "="):
            body, index = _indented(lines, index)
            inner = _convert(textwrap.dedent("\n".join(body)).split("\n"), resolve, False)
            out += _labelled(block, inner)
            continue
        heading = HEADING.match(line) if top else None
        if heading and heading["text"]:
            explicit = EXPLICIT_ID.search(heading["attrs"] or "")
            anchor = explicit["id"] if explicit else ""
            text = _links(heading["text"].rstrip("#").rstrip(), resolve)
            tag = f' <a id="{anchor}"></a>' if anchor else ""
            out.append(f"{heading['hashes']} {text}{tag}")
            continue
        out.append(_links(line, resolve))
    return out


def _closes(found: re.Match[str], fence: str) -> bool:
    """A closing fence: the same character, at least as long, no info string."""
    marker = found["marker"]
    return marker[0] == fence[0] and len(marker) >= len(fence) and not found["info"].strip()


def _indented(lines: list[str], index: int) -> tuple[list[str], int]:
    """The block indented under a tab or admonition line, and the index after it."""
    body: list[str] = []
    while index < len(lines) and (
        not lines[index].strip() or lines[index].startswith(("    ", "\t"))
    ):
        body.append(lines[index])
        index += 1
    while body and not body[-1].strip():
        body.pop()
        index -= 1
    return body, index


def _labelled(block: re.Match[str], inner: list[str]) -> list[str]:
    while inner and not inner[0].strip():
        inner = inner[1:]
    while inner and not inner[-1].strip():
        inner = inner[:-1]
    if block["kind"].startswith("==="):  # a content tab: a labelled section
        return [f"**{block['title']}**", "", *inner, ""]
    title = block["title"] if block["title"] is not None else (block["type"] or "Note").title()
    quoted = [f"> **{title}**"] if title else []
    if inner and quoted:
        quoted.append(">")
    quoted += [f"> {text}".rstrip() for text in inner]
    return [*quoted, ""]


def _links(line: str, resolve: LinkResolver) -> str:
    """Resolve link targets outside inline code spans."""
    parts = []
    position = 0
    for span in CODE_SPAN.finditer(line):
        parts.append(LINK.sub(lambda m: _resolved(m, resolve), line[position : span.start()]))
        parts.append(span.group(0))
        position = span.end()
    parts.append(LINK.sub(lambda m: _resolved(m, resolve), line[position:]))
    return "".join(parts)


def _resolved(match: re.Match[str], resolve: LinkResolver) -> str:
    return f"{match['head']}{resolve(match['target'])}{match['tail']}"
