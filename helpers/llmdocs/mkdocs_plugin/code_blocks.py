"""Cell code highlighted once and kept across builds, placed where the page's fence renders.

Highlighting the cells' code was the largest part of what the plugin adds to a build: with
the code left out, a no-change build cost about 0.7 s less (median of 5, interleaved). The
HTML of a cell's code depends only on its source and on the Markdown configuration, so it is
rendered once, the way the page renders a fence, and kept in `.llmdocs-cache/code-html/`
under a hash of both (a new Pygments, pymdownx or mkdocs.yml setting renders it again).

The page gets the cell's code in a fence of its own kind (`llmdocs-cell`), which superfences
hands to `CodeBlocks.format` instead of Pygments. The block still takes its place in
pymdownx's numbering of code blocks (line anchors are `__codelineno-<block>-<line>`): the
format counts it as superfences counts a block it highlights, and the cached HTML is
renumbered to it, so every other block keeps its ids and the page's HTML is the same as when
the page highlighted the code itself (a test renders both ways). An earlier version put a
one-line text fence in its place and swapped it afterwards: each still cost Pygments a
formatter (0.5 ms, about 0.08 s a build).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import build_cache
from ..environment import package_version
from ..render import code_markdown

# The packages whose output the cached HTML is.
RENDERERS = ("markdown", "pygments", "pymdown-extensions")
# Both are needed for the cells' own fence kind (a superfences custom fence, numbered as
# pymdownx.highlight numbers blocks); with plain `fenced_code` the page highlights the code.
NEEDED = ("pymdownx.superfences", "pymdownx.highlight")
# The fence kind whose blocks `CodeBlocks.format` renders.
FENCE = "llmdocs-cell"
# Cached blocks kept (the most recently used): many times a large site's cells, so that a
# build never renders again what the previous one used, while old edits are dropped.
KEEP = 2000


class CodeBlocks:
    """The fences of the cells' code, and the cached HTML superfences puts in their place."""

    def __init__(
        self, cache_dir: Path, extensions: Sequence[Any], configs: Mapping[str, Any]
    ) -> None:
        names = [e if isinstance(e, str) else _named(e) for e in extensions]
        self.enabled = all(name in names for name in NEEDED)
        self.folder = cache_dir / "code-html"
        self._extensions = list(extensions)
        self._configs = dict(configs)
        self._signature = _signature(names, self._configs)
        self._markdown: Any = None
        self._anchors: str | None = None
        self._rendered: dict[str, str] = {}  # by key: zh and en pages show the same code

    def configs(self) -> dict[str, Any]:
        """The extensions' settings with this fence kind added to superfences' own."""
        if not self.enabled:
            return dict(self._configs)
        fences = dict(self._configs.get("pymdownx.superfences") or {})
        mine = {"name": FENCE, "class": "highlight", "format": self.format}
        fences["custom_fences"] = [*fences.get("custom_fences", []), mine]
        return {**self._configs, "pymdownx.superfences": fences}

    def fence(self, source: str) -> str:
        """The Markdown that stands where ``source``'s code block goes on the page."""
        markdown = code_markdown(source)
        return markdown.replace("python\n", f"{FENCE}\n", 1) if self.enabled else markdown

    def format(
        self, source: str, language: str, class_name: str, options: dict[str, Any], md: Any,
        **kwargs: Any,
    ) -> str:
        """Superfences' formatter for this fence kind: the cell's code, numbered as the block
        superfences would have highlighted."""
        fenced = md.preprocessors["fenced_code_block"]
        counter: Any = getattr(fenced, "highlight_ext", None)
        if not hasattr(counter, "pygments_code_block"):  # another pymdownx: it highlights
            return str(fenced.highlight(src=source, language="python", options=options, md=md,
                                        **kwargs))
        counter.pygments_code_block += 1  # what superfences' own highlight does first
        return self._numbered(source, counter.pygments_code_block)

    def prune(self) -> None:
        """Drop the blocks no recent build used (each edit of a cell leaves one behind)."""
        build_cache.prune(self.folder, KEEP)

    def _numbered(self, source: str, block: int) -> str:
        code = self._html(source)
        if self._anchors is None:  # the line anchors' prefix, as this configuration names it
            anchor = re.search(r'id="([^"]+)-0-1"', self._html("pass"))
            self._anchors = anchor[1] if anchor else ""
        if not self._anchors:
            return code
        return code.replace(f"{self._anchors}-0-", f"{self._anchors}-{block}-")

    def _html(self, source: str) -> str:
        """``source`` as a page's first code block, from the cache if it is there."""
        markdown = code_markdown(source)
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


def _signature(extensions: list[str], configs: Mapping[str, Any]) -> str:
    versions = [package_version(name) for name in RENDERERS]
    return json.dumps([versions, extensions, configs], sort_keys=True, default=_named)


def _named(value: Any) -> str:
    """A setting or extension that JSON cannot hold, by name: their reprs change every run."""
    kind = value if callable(value) and not hasattr(value, "extendMarkdown") else type(value)
    return f"{getattr(kind, '__module__', '')}.{getattr(kind, '__qualname__', repr(value))}"

