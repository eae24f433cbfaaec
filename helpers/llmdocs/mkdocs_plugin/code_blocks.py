"""Cell code highlighted once and kept across builds, placed where the page's fence renders.

Highlighting the cells' code was the largest part of what the plugin adds to a build: with
the code left out, a no-change build cost about 0.7 s less (median of 5, interleaved). The
HTML of a cell's code depends only on its source and on the Markdown configuration, so it is
rendered once, the way the page renders a fence, and kept in `.llmdocs-cache/code-html/`
under a hash of both (a new Pygments, pymdownx or mkdocs.yml setting renders it again).

The page still gets a fence where the code goes: a one-line text fence holding a key. It
renders in microseconds and takes the same place in the page's numbering of code blocks
(pymdownx.highlight names line anchors `__codelineno-<block>-<line>`), so every other block
keeps its ids; `place` swaps it for the cached HTML, renumbered to that block. The page's
HTML is the same as when the page highlighted the code itself (a test renders both ways).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from .. import build_cache
from ..environment import package_version
from ..render import code_markdown

# The packages whose output the cached HTML is.
RENDERERS = ("markdown", "pygments", "pymdown-extensions")
# Both render fences the way the placeholder needs; with plain `fenced_code` the page
# highlights the code itself.
NEEDED = ("pymdownx.superfences", "pymdownx.highlight")
# Cached blocks kept (the most recently used): many times a large site's cells, so that a
# build never renders again what the previous one used, while old edits are dropped.
KEEP = 2000


class CodeBlocks:
    """Placeholders for one page's cell code, and the cached HTML that replaces them."""

    def __init__(
        self, cache_dir: Path, extensions: Sequence[Any], configs: Mapping[str, Any]
    ) -> None:
        names = [e if isinstance(e, str) else _named(e) for e in extensions]
        self.enabled = all(name in names for name in NEEDED)
        self.folder = cache_dir / "code-html"
        self._extensions = list(extensions)
        self._configs = dict(configs)
        self._signature = _signature(names, self._configs)
        self._token = secrets.token_hex(4)
        self._markdown: Any = None
        self._placeholder: re.Pattern[str] | None = None
        self._anchors = ""
        self._rendered: dict[str, str] = {}  # by key: zh and en pages show the same code
        self._page: dict[str, str] = {}  # this page's keys and sources

    def fence(self, source: str) -> str:
        """The Markdown that stands where ``source``'s code block goes on the page."""
        if not self.enabled:
            return code_markdown(source)
        key = f"llmdocscode{self._token}x{len(self._page)}x"
        self._page[key] = source
        return f"```text\n{key}\n```"

    def place(self, html: str) -> tuple[str, int]:
        """The page's HTML with every placeholder block replaced by its cell's code, and how
        many could not be found (their code then shows unhighlighted in the placeholder)."""
        page, self._page = self._page, {}
        if not page:
            return html, 0
        out: list[str] = []
        start = 0
        for match in self._placeholder_pattern().finditer(html):
            source = page.pop(match["key"], None)
            if source is None:  # not this page's key: leave it alone
                continue
            block = match.groupdict().get("block")
            out += [html[start:match.start()], self._numbered(source, block)]
            start = match.end()
        html = "".join(out) + html[start:]
        for key, source in page.items():  # another plugin changed the fence's HTML
            html = html.replace(key, escape(source.rstrip(), quote=False))
        return html, len(page)

    def prune(self) -> None:
        """Drop the blocks no recent build used (each edit of a cell leaves one behind)."""
        build_cache.prune(self.folder, KEEP)

    def _numbered(self, source: str, block: str | None) -> str:
        code = self._html(source)
        if block is None or not self._anchors:
            return code
        return code.replace(f"{self._anchors}-0-", f"{self._anchors}-{block}-")

    def _html(self, source: str) -> str:
        return self._rendered_once(code_markdown(source))

    def _rendered_once(self, markdown: str) -> str:
        """``markdown`` rendered as a page's first code block, from the cache if it is there."""
        key = hashlib.sha256(f"{self._signature}\0{markdown}".encode()).hexdigest()
        if key in self._rendered:
            return self._rendered[key]
        path = self.folder / f"{key}.json"
        saved = build_cache.load(path)
        if isinstance(saved, dict) and isinstance(saved.get("html"), str):
            html = saved["html"]
        else:
            html = self._render(markdown)
            build_cache.save(path, {"html": html})
        self._rendered[key] = html
        return html

    def _render(self, markdown: str) -> str:
        """``markdown`` as the page would render it as its first code block."""
        if self._markdown is None:
            import markdown as md

            self._markdown = md.Markdown(
                extensions=self._extensions, extension_configs=self._configs
            )
        self._markdown.reset()  # block numbering starts again at 0
        return str(self._markdown.convert(markdown))

    def _placeholder_pattern(self) -> re.Pattern[str]:
        """What a placeholder fence renders to, with its key and block number captured."""
        if self._placeholder is None:
            sample = "llmdocscodeSAMPLEx0x"
            rendered = self._rendered_once(f"```text\n{sample}\n```")
            anchor = re.search(r'id="([^"]+)-0-1"', rendered)
            self._anchors = anchor[1] if anchor else ""
            text = re.escape(rendered).replace(sample, r"(?P<key>llmdocscode\w+?x\d+x)")
            if self._anchors:  # the first anchor captures the block, the others repeat it
                numbered = re.escape(f"{self._anchors}-0-")
                block = re.escape(f"{self._anchors}-")
                text = text.replace(numbered, f"{block}(?P<block>\\d+)-", 1)
                text = text.replace(numbered, f"{block}(?P=block)-")
            self._placeholder = re.compile(text)
        return self._placeholder


def _signature(extensions: list[str], configs: Mapping[str, Any]) -> str:
    versions = [package_version(name) for name in RENDERERS]
    return json.dumps([versions, extensions, configs], sort_keys=True, default=_named)


def _named(value: Any) -> str:
    """A setting or extension that JSON cannot hold, by name: their reprs change every run."""
    kind = value if callable(value) and not hasattr(value, "extendMarkdown") else type(value)
    return f"{getattr(kind, '__module__', '')}.{getattr(kind, '__qualname__', repr(value))}"

