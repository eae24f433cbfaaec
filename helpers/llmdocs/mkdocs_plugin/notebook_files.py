"""Generated notebooks as MkDocs files: one per chapter and language, rendered by mkdocs-jupyter.

mkdocs-static-i18n rebuilds the file list after mkdocs-jupyter has marked notebooks as
pages, and so publishes them as raw JSON (upstream static-i18n #198). We keep notebooks
away from i18n altogether: they are generated outside docs/ (one folder per language) and
added, already wrapped in mkdocs-jupyter's own NotebookFile, by a hook that runs after
i18n has built the file list of the language being built.
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
import re
from collections import defaultdict
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from .. import __version__
from ..directives import DirectiveError, find_directives
from ..errors import ChapterError
from ..notebooks import build_notebook, write_if_changed
from ..project import Project
from ..render import labels
from ..store import store_path
from .lookup import Lookup

log = logging.getLogger("mkdocs.plugins.llmdocs")
SUFFIX = re.compile(r"\.(?P<lang>[a-z]{2}(?:_[A-Z]{2})?)\.md$")
FOLDER = "notebooks"


def _unchanged(target: Path, inputs: str) -> bool:
    key = target.with_suffix(".key")
    return target.is_file() and key.is_file() and key.read_text(encoding="utf-8") == inputs


class NotebookPage(File):
    """A generated .ipynb that MkDocs treats as a page (mkdocs-jupyter renders its content)."""

    def is_documentation_page(self) -> bool:
        return True


class NotebookPages:
    """Which page feeds which notebook, and the files that carry them into the site."""

    def __init__(self, project: Project, lookup: Lookup, out_dir: Path) -> None:
        self.project = project
        self.lookup = lookup
        self.out_dir = out_dir
        self.links: dict[str, list[tuple[str, str]]] = defaultdict(list)  # page → (chapter, uri)
        self.by_language: dict[str, list[str]] = defaultdict(list)  # language → notebook uris

    def add_files(self, files: Files, config: MkDocsConfig) -> None:
        best: dict[tuple[str, str], tuple[int, str, str]] = {}
        # static-i18n runs one build per language: generate only this build's notebooks.
        building = getattr(config.plugins.get("i18n"), "current_language", None)
        for file in files.documentation_pages():
            if file.abs_src_path is None:
                continue
            markdown = Path(file.abs_src_path).read_text(encoding="utf-8")
            try:
                directives = find_directives(markdown, file.src_uri)
            except DirectiveError:
                continue  # reported with page and line when the page itself renders
            match = SUFFIX.search(file.src_uri)
            language = match["lang"] if match else ""
            if building and language and language != building:
                continue
            counts: dict[str, int] = defaultdict(int)
            for directive in directives:
                counts[directive.chapter] += 1
            for name, count in counts.items():
                key = (name, language)
                if key not in best or count > best[key][0]:
                    best[key] = (count, file.src_uri, markdown)
        for (chapter_name, language), (_, page_uri, markdown) in sorted(best.items()):
            try:
                chapter = self.project.chapter(chapter_name)
            except ChapterError:
                continue  # the page's directive reports the unknown chapter
            uri = f"{FOLDER}/{chapter_name}.ipynb"
            target = self.out_dir / (language or "default") / uri
            inputs = self._inputs_key(chapter_name, markdown, page_uri, language)
            if not _unchanged(target, inputs):  # most rebuilds: nothing to regenerate
                notebook = build_notebook(
                    chapter, self.lookup.stored(chapter_name), markdown, page_uri,
                    language or "en",
                )
                write_if_changed(target, notebook)
                target.with_suffix(".key").write_text(inputs, encoding="utf-8")
            self.by_language[language].append(uri)
            self.links[page_uri].append((chapter_name, uri))

    def _inputs_key(self, chapter: str, markdown: str, page_uri: str, language: str) -> str:
        """Everything a generated notebook depends on, hashed."""
        digest = hashlib.sha256()
        status = self.lookup.status(chapter)
        stored = store_path(self.project.store_dir, chapter)
        for part in (__version__, chapter, page_uri, language, markdown,
                     self.project.chapter_path(chapter).read_text(encoding="utf-8"),
                     status.state.value):
            digest.update(part.encode("utf-8") + b"\0")
        digest.update(stored.read_bytes() if stored.is_file() else b"")
        return digest.hexdigest()

    def add_notebook_pages(self, files: Files, config: MkDocsConfig) -> Files:
        """Add the notebooks of the language being built, as pages mkdocs-jupyter renders."""
        i18n = config.plugins.get("i18n")
        language = getattr(i18n, "current_language", "") or ""
        default = getattr(i18n, "default_language", "") or ""
        if language not in self.by_language:
            language = ""
        # static-i18n publishes a non-default language under /<language>/.
        prefix = f"{language}/" if language and language != default else ""
        src_dir = str(self.out_dir / (language or "default"))
        self._separate_jupyter_cache(config, language or "default")
        for uri in self.by_language.get(language, []):
            stem = posixpath.splitext(uri)[0]
            page = f"{stem}/index.html" if config.use_directory_urls else f"{stem}.html"
            dest = prefix + page
            files.append(
                NotebookPage(
                    uri, src_dir, config.site_dir, config.use_directory_urls, dest_uri=dest
                )
            )
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

    def link_markdown(self, page: Page, language: str) -> str:
        """A download line for the page's notebooks (relative links MkDocs resolves)."""
        words = labels(language)
        lines = []
        for _chapter, uri in self.links.get(page.file.src_uri, []):
            target = posixpath.relpath(uri, posixpath.dirname(page.file.src_uri) or ".")
            lines.append(f"[📓 {words['notebook']}]({target})")
        return "\n\n".join(lines)
