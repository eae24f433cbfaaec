"""The notebook pages' rendered HTML, kept across builds while nothing it reads changed.

MkDocs renders every page through the theme's templates on every build: for the twenty
notebook pages this plugin adds, that was most of what they cost a no-change build (about
4 ms a page here, mostly Material's navigation, header and language menu). A notebook page
now names a small wrapper template (TEMPLATE) that prints the kept render when the context
carries one and includes the page's own template otherwise. The kept render is stored under
the hash of everything the render reads (template_inputs.page_key); a page whose inputs
cannot be described is rendered every time. Other plugins still see every page: the kept
HTML is what the theme made, taken before any `on_post_page` handler, which run as usual.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, DictLoader, Environment
from mkdocs.structure.pages import Page

from .. import build_cache
from .template_inputs import SiteInputs, Unkeyable, page_key

TEMPLATE = "llmdocs/kept-page.html"
WRAPPER = ("{%- if llmdocs_kept is defined -%}{{ llmdocs_kept }}"
           "{%- else -%}{% include llmdocs_template %}{%- endif -%}")
CODE = tuple(Path(__file__).resolve().parent / name
             for name in ("rendered_pages.py", "template_inputs.py"))
# Renders kept (the most recently used): both languages' notebooks, many edits over.
KEEP = 200


class RenderedPages:
    """Keeps the renders of the pages it is given (`keep`) and serves them back."""

    def __init__(self, cache_dir: Path) -> None:
        self.folder = cache_dir / "rendered-pages"
        self.site = SiteInputs(build_cache.code_digest(*CODE))
        self._pending: dict[str, Path] = {}  # page url → where its render is to be kept

    @staticmethod
    def add_template(env: Environment) -> Environment:
        env.loader = ChoiceLoader([DictLoader({TEMPLATE: WRAPPER}), *(
            [env.loader] if env.loader is not None else [])])
        return env

    @staticmethod
    def keep(page: Page) -> None:
        """Render ``page`` through the wrapper (set before MkDocs picks its template)."""
        page.meta["llmdocs_template"] = page.meta.get("template", "main.html")
        page.meta["template"] = TEMPLATE

    def context(self, context: dict[str, Any], page: Page) -> dict[str, Any]:
        """Hand the wrapper the kept render, or note where to keep this one."""
        if page.meta.get("template") != TEMPLATE:
            return context
        template = str(page.meta.get("llmdocs_template", "main.html"))
        context["llmdocs_template"] = template
        try:
            key = page_key(self.site, context, template)
        except Unkeyable:
            return context
        path = self.folder / f"{key}.html"
        kept = _intact(build_cache.load_text(path))
        if kept is not None:
            context["llmdocs_kept"] = kept
        else:
            self._pending[page.url] = path
        return context

    def rendered(self, output: str, page: Page) -> None:
        path = self._pending.pop(page.url, None)
        if path is not None:  # its length first: a damaged file reads as missing
            build_cache.save_text(path, f"{len(output)}\n{output}")

    def prune(self) -> None:
        build_cache.prune(self.folder, KEEP, ".html")


def _intact(saved: str | None) -> str | None:
    """The render saved in ``saved``, or None where it is not all there."""
    length, _, html = (saved or "").partition("\n")
    return html if length.isdigit() and int(length) == len(html) else None
