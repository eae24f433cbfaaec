"""Generated notebooks as MkDocs files: one per chapter and language, rendered by mkdocs-jupyter.

mkdocs-static-i18n rebuilds the file list after mkdocs-jupyter has marked notebooks as
pages, and so publishes them as raw JSON (upstream static-i18n #198). We keep notebooks
away from i18n altogether: they are generated at notebooks/<language>/ (committed, for
Colab) and added, already wrapped in mkdocs-jupyter's own NotebookFile, by a hook that runs
after i18n has built the file list of the language being built. Each carries its
translation as an i18n alternate, so the language switch stays on the notebook.
"""

from __future__ import annotations

import hashlib
import html
import logging
import posixpath
from pathlib import Path
from types import SimpleNamespace

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from .. import __version__
from ..notebook_plan import (
    Site,
    Source,
    choose_sources,
    committed_path,
    context_for,
    install_lines,
    notebook_page_url,
    page_language,
    page_url,
    site_from_config,
)
from ..notebooks import build_notebook, notebook_text, write_if_changed
from ..project import Project
from ..render import labels
from ..store import store_path
from .lookup import Lookup

log = logging.getLogger("mkdocs.plugins.llmdocs")
NAV_LABELS = {
    "zh": {"chapter": "本章页面", "previous": "上一本笔记本", "next": "下一本笔记本",
           "download": "下载笔记本", "colab": "在 Colab 中打开", "view": "以笔记本查看"},
    "en": {"chapter": "Chapter page", "previous": "Previous notebook", "next": "Next notebook",
           "download": "Download notebook", "colab": "Open in Colab", "view": "View as notebook"},
}


class NotebookPage(File):
    """A generated .ipynb that MkDocs treats as a page (mkdocs-jupyter renders its content)."""

    chapter: str = ""
    language: str = ""
    page_uri: str = ""  # the docs page that feeds it

    def is_documentation_page(self) -> bool:
        return True


class NotebookPages:
    """Which page feeds which notebook, and the files that carry them into the site."""

    def __init__(self, project: Project, lookup: Lookup) -> None:
        self.project = project
        self.lookup = lookup
        self.site = Site()
        self.sources: list[Source] = []
        self.titles: dict[str, str] = {}  # page uri → its H1
        self.texts: dict[str, str] = {}  # every docs page's text, by its path

    def add_files(self, files: Files, config: MkDocsConfig) -> None:
        """Generate (when their inputs changed) the notebooks of the language being built."""
        self.site = site_from_config(config)
        pages = {}
        self.texts = {}
        for file in files.documentation_pages():
            if file.abs_src_path is not None and file.src_uri.endswith(".md"):
                text = Path(file.abs_src_path).read_text(encoding="utf-8")
                pages[file.src_uri] = self.texts[str(Path(file.abs_src_path))] = text
        self.titles = {uri: _title(markdown) for uri, markdown in pages.items()}
        building = getattr(config.plugins.get("i18n"), "current_language", None)
        install = install_lines(self.project, self.site)
        self.sources = []
        for source in choose_sources(pages):
            chapter = self.lookup.chapter(source.chapter)
            if chapter is None:
                continue  # the page's directive reports the unknown chapter
            self.sources.append(source)
            if building and source.language and source.language != building:
                continue  # static-i18n runs one build per language: only this one's
            target = self.project.root / committed_path(source.language, source.chapter)
            inputs = self._inputs_key(source, install)
            key = self.project.root / ".llmdocs-cache" / "notebook-keys" / (
                f"{source.language or 'default'}-{source.chapter}.key")
            if target.is_file() and key.is_file() and key.read_text() == inputs:
                continue  # most rebuilds: nothing to regenerate
            notebook = build_notebook(chapter, self.lookup.stored(source.chapter),
                                      context_for(source, self.site, install))
            write_if_changed(target, notebook_text(notebook))
            key.parent.mkdir(parents=True, exist_ok=True)
            key.write_text(inputs, encoding="utf-8")

    def _inputs_key(self, source: Source, install: list[str]) -> str:
        """Everything a generated notebook depends on, hashed."""
        digest = hashlib.sha256()
        stored = store_path(self.project.store_dir, source.chapter)
        # The page texts themselves: repr() would copy each one, checking every character.
        fields = (source.chapter, source.language, source.page, source.markdown,
                  "\0" if source.english is None else source.english,
                  "\0" if source.other is None else source.other)
        for part in (__version__, *fields, repr(self.site), repr(install),
                     self.project.chapter_path(source.chapter).read_text(encoding="utf-8")):
            digest.update(part.encode("utf-8") + b"\0")
        digest.update(stored.read_bytes() if stored.is_file() else b"")
        return digest.hexdigest()

    def add_notebook_pages(self, files: Files, config: MkDocsConfig) -> Files:
        """Add the notebooks of the language being built, as pages mkdocs-jupyter renders."""
        i18n = config.plugins.get("i18n")
        language = getattr(i18n, "current_language", "") or ""
        self._separate_jupyter_cache(config, language or "default")
        mine = [s for s in self.sources if s.language == language]
        if not mine:
            mine = [s for s in self.sources if not s.language]
        for source in mine:
            committed = self.project.root / committed_path(source.language, source.chapter)
            url = notebook_page_url(source.language, source.chapter, self.site)
            dest = url + "index.html" if config.use_directory_urls else url.rstrip("/") + ".html"
            file = NotebookPage(committed.name, str(committed.parent), config.site_dir,
                                config.use_directory_urls, dest_uri=dest)
            file.edit_uri = None  # generated: edit the page or the chapter instead
            file.chapter, file.language, file.page_uri = (
                source.chapter, source.language, source.page)
            # mkdocs-static-i18n's language selector and hreflang links read these.
            file.alternates = {  # type: ignore[attr-defined]
                other.language: SimpleNamespace(
                    url=notebook_page_url(other.language, other.chapter, self.site))
                for other in self.sources if other.chapter == source.chapter and other.language
            }
            file.locale_alternate_of = source.language  # type: ignore[attr-defined]
            file.locale = source.language  # type: ignore[attr-defined]
            files.append(file)
        return files

    def _separate_jupyter_cache(self, config: MkDocsConfig, language: str) -> None:
        """One mkdocs-jupyter cache folder per language.

        mkdocs-jupyter evicts, after each build, every cache entry that build did not use;
        static-i18n runs one build per language, so with a shared folder each language
        evicts the other's entries and no rebuild ever hits the cache.
        """
        jupyter = config.plugins.get("mkdocs-jupyter")
        if jupyter is None or not jupyter.config.get("cache"):
            return
        if not hasattr(jupyter, "llmdocs_cache_base"):  # the plugin outlives each language build
            jupyter.llmdocs_cache_base = str(jupyter.config["cache_dir"])
        jupyter.config["cache_dir"] = posixpath.join(jupyter.llmdocs_cache_base, language)

    def for_page(self, page_uri: str) -> list[Source]:
        return [s for s in self.sources if s.page == page_uri]

    def links_html(self, page: Page, language: str) -> str:
        """"View as notebook · Download · Open in Colab" for the top of a chapter page."""
        words = NAV_LABELS.get(language, NAV_LABELS["en"])
        blocks = []
        for source in self.for_page(page.file.src_uri):
            url = notebook_page_url(source.language, source.chapter, self.site)
            view = get_relative_url(url, page.url)
            download = get_relative_url(url + f"{source.chapter}.ipynb", page.url)
            links = [
                f'<a href="{html.escape(view)}">{words["view"]}</a>',
                f'<a href="{html.escape(download)}" download>{words["download"]}</a>',
            ]
            colab = self.site.colab_url(source.language, source.chapter)
            if colab:
                links.append(f'<a href="{html.escape(colab)}" rel="noopener">{words["colab"]}</a>')
            title = html.escape(labels(language)["notebook"])
            blocks.append(f'<p class="llmdocs-notebook-links" title="{title}" '
                          f'data-search-exclude>{" · ".join(links)}</p>')
        return "".join(blocks)

    def nav_html(self, file: NotebookPage, page_url_here: str) -> str:
        """Back to the chapter page, and the previous and next notebooks in nav order."""
        words = NAV_LABELS.get(file.language, NAV_LABELS["en"])
        mine = sorted((s for s in self.sources if s.language == file.language), key=self._order)
        index = next(i for i, s in enumerate(mine) if s.chapter == file.chapter)
        chapter_url = get_relative_url(page_url(file.page_uri, file.language, self.site),
                                       page_url_here)
        title = html.escape(self.titles.get(file.page_uri, file.chapter))
        items = [f'<a class="llmdocs-nb-chapter" href="{html.escape(chapter_url)}">'
                 f'← {words["chapter"]}: {title}</a>']
        for offset, rel in ((-1, "previous"), (1, "next")):
            if 0 <= index + offset < len(mine):
                other = mine[index + offset]
                url = get_relative_url(
                    notebook_page_url(other.language, other.chapter, self.site), page_url_here)
                name = html.escape(self.titles.get(other.page, other.chapter))
                items.append(f'<a class="llmdocs-nb-{rel}" rel="{rel[:4]}" '
                             f'href="{html.escape(url)}">{words[rel]}: {name}</a>')
        return f'<nav class="llmdocs-notebook-nav" data-search-exclude>{"".join(items)}</nav>'

    def _order(self, source: Source) -> tuple[int, str]:
        stem = page_language(source.page)
        plain = source.page.replace(f".{stem}.md", ".md") if stem else source.page
        nav = self.site.nav
        return (nav.index(plain) if plain in nav else len(nav), source.page)


def _title(markdown: str) -> str:
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].split("{", 1)[0].strip()
    return ""

