"""Finish a notebook page's HTML (as mkdocs-jupyter rendered it) like a chapter page.

nbconvert derives heading ids from their text (empty for Chinese); our generated Markdown
carries each heading's shared id as an inline `<a id>` anchor, which becomes the heading's
own id here, and the table of contents is rebuilt from those. Links to the published site
become relative, so the page works wherever it is served.
"""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

from mkdocs.utils import get_relative_url

HEADING = re.compile(r"<h(?P<level>[1-6])(?P<attrs>[^>]*)>(?P<inner>.*?)</h(?P=level)>", re.S)
ANCHOR = re.compile(r'\s*<a id="(?P<id>[\w-]+)"></a>')
ID_ATTR = re.compile(r'\s+id="[^"]*"')
ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="#[^"]*">')
TAGS = re.compile(r"<[^>]+>")


def fix_headings(page_html: str) -> tuple[str, list[Any]]:
    """Headings with their anchor's id; MkDocs TOC tokens (nested, as markdown's toc gives)."""
    flat: list[dict[str, Any]] = []

    def replace(match: re.Match[str]) -> str:
        inner = match["inner"]
        anchor = ANCHOR.search(inner)
        if anchor is None:
            return match.group(0)
        heading_id = anchor["id"]
        inner = ANCHOR.sub("", inner, count=1)
        inner = ANCHOR_LINK.sub(f'<a class="anchor-link" href="#{heading_id}">', inner)
        attrs = ID_ATTR.sub("", match["attrs"])
        name = htmllib.unescape(TAGS.sub("", inner)).replace("¶", "").strip()
        flat.append({"level": int(match["level"]), "id": heading_id, "name": name,
                     "children": []})
        return f'<h{match["level"]} id="{heading_id}"{attrs}>{inner}</h{match["level"]}>'

    return HEADING.sub(replace, page_html), _nest(flat)


def _nest(flat: list[dict[str, Any]]) -> list[dict[str, Any]]:
    roots: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []
    for token in flat:
        while stack and stack[-1]["level"] >= token["level"]:
            stack.pop()
        (stack[-1]["children"] if stack else roots).append(token)
        stack.append(token)
    return roots


def localize_links(page_html: str, site_url: str, page_url: str) -> str:
    """`href="<site_url>path"` → a link relative to the page at ``page_url``."""
    if not site_url:
        return page_html
    prefix = re.escape(f'href="{site_url}')

    def relative(match: re.Match[str]) -> str:
        path, _, anchor = match["path"].partition("#")
        url = get_relative_url(path or ".", page_url)
        if path.endswith("/") or not path:
            url = url.rstrip("/") + "/"
        return f'href="{url}' + (f"#{anchor}" if anchor else "") + '"'

    return re.sub(prefix + r'(?P<path>[^"]*)"', relative, page_html)
