"""A notebook page's finished content, kept across builds.

mkdocs-jupyter keeps what nbconvert made of each notebook, but its cache holds the page with
JupyterLab's stylesheet inline: about 680 KB of JSON per notebook, 13.5 MB for the site's 20,
read and parsed on every build (90 ms here), only for `site_files.share_styles` to cut the
stylesheet out again. This keeps the page as the plugin finishes it instead: the content with
the stylesheet linked, its own heading ids and relative links, and its table of contents
(about 100 KB a page), in `.llmdocs-cache/notebook-pages/`. The stylesheet itself is kept
once, by its hash. The key is what the content depends on: the notebook's bytes, the
mkdocs-jupyter settings it renders with, the versions of mkdocs-jupyter, nbconvert and
Pygments, this finishing code, and the page's and the site's URLs. Any change renders the
page through mkdocs-jupyter again. The navigation line above it (`NotebookPages.nav_html`)
depends on other pages' titles and is made on every build.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc

from .. import build_cache
from ..environment import package_version
from .notebook_page import fix_headings, localize_links
from .site_files import SiteFiles

# What mkdocs-jupyter's own cache key covers, and the title setting it applies after it.
JUPYTER_SETTINGS = (
    "execute", "kernel_name", "theme", "allow_errors", "show_input", "no_input", "no_prompt",
    "remove_tag_config", "highlight_extra_classes", "include_requirejs", "custom_mathjax_url",
    "toc_depth", "ignore_h1_titles",
)
RENDERERS = ("mkdocs-jupyter", "nbconvert", "pygments")
# The code that finishes a page: a change to it renders every page again.
FINISHING_CODE = tuple(Path(__file__).resolve().parent / name for name in
                       ("notebook_content.py", "notebook_page.py", "site_files.py"))
# Pages kept (the most recently used): each language's notebooks, many edits over.
KEEP = 200


class NotebookContent:
    """Finishes notebook pages, from the cache where their inputs have not changed."""

    def __init__(self, cache_dir: Path, site_files: SiteFiles, site_url: str,
                 jupyter_config: dict[str, Any]) -> None:
        self.folder = cache_dir / "notebook-pages"
        self.site_files = site_files
        self.site_url = site_url
        self._settings = json.dumps(
            [{name: jupyter_config.get(name) for name in JUPYTER_SETTINGS},
             [package_version(name) for name in RENDERERS],
             build_cache.code_digest(*FINISHING_CODE), site_url],
            sort_keys=True, default=str,
        )

    def wrap(self, page: Page) -> None:
        """Make ``page.render`` (mkdocs-jupyter's) finish the page, or take it from the cache."""
        jupyter_render: Callable[..., None] = page.render
        path = self._path(page)

        def render(config: Any, files: Any) -> None:
            if path is not None and self._restore(page, path):
                return
            jupyter_render(config, files)
            toc = self._finish(page)
            if path is not None:
                self._save(page, path, toc)

        page.render = render  # type: ignore[method-assign]

    def _finish(self, page: Page) -> list[Any]:
        """Shared stylesheet, relative site links, shared heading ids and their TOC."""
        html = self.site_files.share_styles(page.content or "", page.url)
        html = localize_links(html, self.site_url, page.url)
        html, toc = fix_headings(html)
        page.content = html
        if toc:
            page.toc = get_toc(toc)
            page.title = toc[0]["name"] if toc[0]["level"] == 1 else page.title
        return toc

    def prune(self) -> None:
        build_cache.prune(self.folder, KEEP)

    def _path(self, page: Page) -> Path | None:
        source = page.file.abs_src_path
        try:
            data = Path(source).read_bytes() if source else None
        except OSError:
            data = None
        if data is None:
            return None
        digest = hashlib.sha256(f"{self._settings}\0{page.url}\0".encode() + data).hexdigest()
        return self.folder / f"{digest}.json"

    def _restore(self, page: Page, path: Path) -> bool:
        saved = build_cache.load(path)
        if not (isinstance(saved, dict) and isinstance(saved.get("content"), str)
                and isinstance(saved.get("toc"), list) and isinstance(saved.get("styles"), list)):
            return False
        for name in saved["styles"]:  # the shared stylesheets the content links to
            if not isinstance(name, str) or not self._restore_style(name):
                return False
        page.content = saved["content"]
        if saved["toc"]:
            page.toc = get_toc(saved["toc"])
        if isinstance(saved.get("title"), str):
            page.title = saved["title"]
        return True

    def _restore_style(self, name: str) -> bool:
        if name in self.site_files.files:
            return True
        kept = self.folder / Path(name).name
        try:
            payload = kept.read_bytes()
        except OSError:
            return False
        if self.site_files.restore(name, payload):
            return True
        kept.unlink(missing_ok=True)  # damaged: the next render keeps it again
        return False

    def _save(self, page: Page, path: Path, toc: list[Any]) -> None:
        styles = [name for name in self.site_files.files
                  if name.endswith(".css") and Path(name).name in (page.content or "")]
        for name in styles:  # only on a render, so reading the kept copy back is cheap enough
            kept, payload = self.folder / Path(name).name, self.site_files.files[name]
            try:
                if not kept.is_file() or kept.read_bytes() != payload:
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    kept.write_bytes(payload)
            except OSError:
                return
        build_cache.save(path, {
            "content": page.content, "toc": toc,
            "title": page.title if isinstance(page.title, str) else None, "styles": styles,
        })
