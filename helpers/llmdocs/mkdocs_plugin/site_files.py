"""Files the plugin adds to the built site: figures, a shared notebook stylesheet, 404 pages."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.utils import get_relative_url

FOLDER = "assets/llmdocs"
STYLE_OPEN, STYLE_CLOSE = '<style type="text/css">', "</style>"
SHARED_STYLE_MIN = 20_000


class SiteFiles:
    """Content-addressed files (named by a hash of their bytes), written after each build."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}  # site path → bytes
        self.default_404: bytes | None = None
        # Every notebook page inlines the same stylesheet: hash and encode it once.
        self._shared_styles: dict[str, str] = {}  # stylesheet → its site path

    def add(self, payload: bytes, extension: str, page_url: str) -> str:
        """Register ``payload``; return its URL relative to the page at ``page_url``."""
        return get_relative_url(self._register(payload, extension), page_url)

    def restore(self, name: str, payload: bytes) -> bool:
        """Register a file kept from an earlier build under its site path, if its bytes are
        still the ones the path names."""
        if name != _named(payload, Path(name).suffix):
            return False
        self.files[name] = payload
        return True

    def _register(self, payload: bytes, extension: str) -> str:
        name = _named(payload, extension)
        self.files[name] = payload
        return name

    def image_src(self, page_url: str) -> Callable[[str, bytes], str]:
        """Figures as files linked from the page.

        Inline data: URIs would make every page heavier and every rebuild slower (the search
        plugin parses each page's whole HTML); a file is fetched only when seen, and cached.
        """

        def register(mimetype: str, payload: bytes) -> str:
            return self.add(payload, ".svg" if mimetype == "image/svg+xml" else ".png", page_url)

        return register

    def share_styles(self, html: str, page_url: str) -> str:
        """Move large inline stylesheets into shared, cacheable files.

        mkdocs-jupyter puts ~575 KB of JupyterLab CSS inline in every notebook page: heavy to
        load, and written again for each notebook on every build.
        """
        parts: list[str] = []
        position = 0
        while (start := html.find(STYLE_OPEN, position)) != -1:
            css_start = start + len(STYLE_OPEN)
            css, name = self._known_style(html, css_start)
            if not css:
                end = html.find(STYLE_CLOSE, css_start)
                if end == -1:
                    break
                css = html[css_start:end]
            end = css_start + len(css)
            parts.append(html[position:start])
            if len(css) < SHARED_STYLE_MIN:
                parts.append(html[start : end + len(STYLE_CLOSE)])
            else:
                if not name:
                    name = self._shared_styles[css] = self._register(css.encode("utf-8"), ".css")
                url = get_relative_url(name, page_url)
                parts.append(f'<link rel="stylesheet" href="{url}">')
            position = end + len(STYLE_CLOSE)
        parts.append(html[position:])
        return "".join(parts)

    def _known_style(self, html: str, at: int) -> tuple[str, str]:
        """A stylesheet already shared that ``html`` holds at ``at``, and its site path.

        Comparing in place is one pass over the stylesheet (575 KB); finding its end and
        hashing it would be three."""
        for css, name in self._shared_styles.items():
            if html.startswith(css, at) and html.startswith(STYLE_CLOSE, at + len(css)):
                return css, name
        return "", ""

    def write(self, config: MkDocsConfig) -> None:
        """Write the registered files (unchanged ones are left alone) and the 404 pages."""
        for name, payload in self.files.items():
            target = Path(config.site_dir) / name
            if not target.is_file() or target.stat().st_size != len(payload):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(payload)
        self._file_localized_404(config)

    def _file_localized_404(self, config: MkDocsConfig) -> None:
        """Keep one 404 page per language.

        mkdocs-static-i18n builds each language into the same site folder and every build
        writes the theme's 404.html to its root, so the last language would win. The default
        language's page stays at the root; each other language's moves under its own folder.
        """
        i18n = config.plugins.get("i18n")
        language = getattr(i18n, "current_language", None)
        root_404 = Path(config.site_dir) / "404.html"
        if not language or not root_404.is_file():
            return
        if language == getattr(i18n, "default_language", None):
            self.default_404 = root_404.read_bytes()
            return
        target = Path(config.site_dir) / language / "404.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(root_404.read_bytes())
        if self.default_404 is not None:
            root_404.write_bytes(self.default_404)


def _named(payload: bytes, extension: str) -> str:
    return f"{FOLDER}/{hashlib.sha256(payload).hexdigest()[:16]}{extension}"
