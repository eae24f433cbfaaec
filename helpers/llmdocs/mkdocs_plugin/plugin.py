"""Embed snippet cells and their stored outputs into MkDocs pages, in every language."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from ..anchors import heading_ids, with_heading_ids
from ..directives import Directive, DirectiveError, find_directives, near_misses
from ..errors import LlmdocsError
from ..notebook_plan import page_language, translations
from ..project import Project
from ..provenance import TAB_LABELS, model_notice_html
from ..render import device_note_html, notice_html, output_html, provenance_html
from ..status import needs_run
from .code_blocks import CodeBlocks
from .config import LlmdocsConfig
from .dependencies import mark_modified
from .lookup import Lookup
from .notebook_content import NotebookContent
from .notebook_files import NotebookPage, NotebookPages
from .playground import Playground
from .rendered_pages import RenderedPages
from .results import has_markers, render_markers
from .site_files import SiteFiles

log = logging.getLogger("mkdocs.plugins.llmdocs")
ASSET = "assets/llmdocs.css"
TRUE = ("1", "true", "yes", "on")
# A stashed fragment's key alone in its paragraph, then anywhere (any page's token: only this
# page's keys are in the stash, the others stay as they are). Each starts with a literal,
# which the regex engine finds as fast as `str.find`.
_KEY = r"(?P<key>llmdocs[0-9a-f]{8}x\d+x)"
STASH_KEYS = (re.compile(rf"<p>{_KEY}</p>"), re.compile(_KEY))


class LlmdocsPlugin(BasePlugin[LlmdocsConfig]):
    """Renders `<!-- llmdocs CHAPTER:CELL -->` directives from stored outputs."""

    supports_multiple_instances = False

    def __init__(self) -> None:
        self.project: Project | None = None
        # Chapters executed (or tried) in this build: static-i18n builds once per language
        # with this same instance, and a failing chapter must not run again for each one.
        # `mkdocs serve` loads a new instance for every rebuild.
        self.attempted: set[str] = set()
        self.lookup: Lookup | None = None
        self.notebooks: NotebookPages | None = None
        self.stash: dict[str, str] = {}
        self.provenance_shown = ""
        self.markdown_extensions: list[str] = []
        # Fragments' keys start with this; a page's own, from its text (so no text can
        # contain them), and the same in every build (so that page.markdown is: see
        # rendered_pages).
        self.token = ""
        self.site_files = SiteFiles()
        self.playground: Playground | None = None
        self.code_blocks: CodeBlocks | None = None
        self.notebook_content: NotebookContent | None = None
        self.rendered_pages: RenderedPages | None = None

    @property
    def executing(self) -> bool:
        return self.config.execute or os.environ.get("LLMDOCS_EXECUTE", "").lower() in TRUE

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return config
        extensions = config.markdown_extensions
        if "pymdownx.superfences" not in extensions and "fenced_code" not in extensions:
            raise PluginError(
                "The 'llmdocs' plugin requires the 'pymdownx.superfences' Markdown extension "
                "(or 'fenced_code'): add it under markdown_extensions in mkdocs.yml"
            )
        self.project = Project(Path(config.config_file_path).resolve().parent)
        self.markdown_extensions = [str(e) for e in config.markdown_extensions]
        self.code_blocks = CodeBlocks(
            self.project.root / ".llmdocs-cache", config.markdown_extensions, config.mdx_configs
        )
        config.mdx_configs.update(self.code_blocks.configs())  # the cells' fence kind
        if ASSET not in config.extra_css:
            config.extra_css.append(ASSET)
        if self.config.keep_renders:
            self.rendered_pages = RenderedPages(self.project.root / ".llmdocs-cache")
        return config

    def on_env(
        self, env: Environment, /, *, config: MkDocsConfig, files: Files
    ) -> Environment | None:
        if self.config.enabled and self.rendered_pages is not None:
            self.rendered_pages.add_template(env)
        return env

    def on_pre_build(self, config: MkDocsConfig) -> None:
        if not self.config.enabled:
            return
        assert self.project is not None
        # static-i18n builds each language with this same instance: one check, one lookup.
        if self.lookup is None:
            self.lookup = Lookup(self.project, self.config.profile, self.config.device)
        if self.playground is None:
            self.playground = Playground(self.project)
            for message in self.playground.problems():  # Python vs the browser's tokenizer
                log.warning("llmdocs: %s", message)
        if not self.executing:
            return
        statuses = [self.lookup.status(name) for name in self.project.chapter_names()]
        stale = [s.chapter for s in statuses if needs_run(s) and s.chapter not in self.attempted]
        tried = [s.chapter for s in statuses if needs_run(s) and s.chapter in self.attempted]
        if not stale:  # the common rebuild: no kernel machinery imported at all
            log.info("llmdocs: executed 0 cells in 0 chapter(s); %s", (
                f"not run again in this build: {', '.join(tried)} (failed earlier in it)"
                if tried else "every stored output is fresh"
            ))
            return
        self.attempted.update(stale)
        from ..kernels import require_execution

        try:
            require_execution()
        except LlmdocsError as exc:
            raise PluginError(f"llmdocs: {len(stale)} chapter(s) need a run; {exc}") from None
        from ..runner import describe_failure, run_chapters

        summary = run_chapters(
            self.project, stale, profile=self.config.profile, device=self.config.device,
            timeout_s=self.config.timeout,
        )
        ran = [r.chapter for r in summary.runs if r.executed]
        log.info(
            "llmdocs: executed %d cells in %d chapter(s)%s", summary.cells_executed, len(ran),
            f" ({', '.join(ran)})" if ran else "",
        )
        for failed in summary.failures:
            assert failed.failure is not None
            log.warning("llmdocs: %s", describe_failure(failed.failure))
        self.lookup = Lookup(self.project, self.config.profile, self.config.device)

    @event_priority(0)  # before mkdocs-static-i18n (-100) builds its per-language file sets
    def _add_files(self, files: Files, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return files
        files.append(File.generated(config, ASSET, abs_src_path=str(_asset_path())))
        if self.config.notebooks and "mkdocs-jupyter" in config.plugins:
            assert self.project is not None and self.lookup is not None
            self.notebooks = NotebookPages(self.project, self.lookup)
            self.notebooks.add_files(files, config)
            self.notebook_content = NotebookContent(
                self.project.root / ".llmdocs-cache", self.site_files, self.notebooks.site.url,
                dict(config.plugins["mkdocs-jupyter"].config),
            )
        return files

    @event_priority(-110)  # after mkdocs-static-i18n (-100): see notebook_files for why
    def _add_notebook_pages(self, files: Files, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return files
        assert self.project is not None
        # On the files of the language being built (i18n made them): see dependencies.
        mark_modified(files, self.project, self.project.root / self.config.results)
        if self.notebooks is None:
            return files
        return self.notebooks.add_notebook_pages(files, config)

    on_files = CombinedEvent(_add_files, _add_notebook_pages)

    @event_priority(100)  # before the other plugins read the notebook as if it were Markdown
    def _notebook_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.config.enabled or not isinstance(page.file, NotebookPage):
            return markdown
        # A notebook repeats its page, so it stays out of search: its Chinese headings
        # get no unique ids, and Material's search breaks on repeated locations.
        page.meta["search"] = {"exclude": True}
        # What MkDocs read is the notebook's JSON, which mkdocs-jupyter renders from the file
        # itself; other plugins would only scan it line by line (static-i18n: 14 ms a build).
        return ""

    def _page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.config.enabled or isinstance(page.file, NotebookPage):
            return markdown
        assert self.lookup is not None
        source = page.file.src_uri
        # MkDocs converts each page's Markdown and then its HTML before the next page, so the
        # stash only ever holds this page's fragments.
        self.stash = {}
        self.provenance_shown = ""
        self.token = hashlib.blake2b(markdown.encode("utf-8", "surrogatepass"),
                                     digest_size=4).hexdigest()
        # Read before the heading ids are added (they change no line's number): the text
        # notebook_files scanned already, so its scan is reused.
        try:
            directives = find_directives(markdown, source)
        except DirectiveError as exc:
            raise PluginError(str(exc)) from None
        for message in near_misses(markdown, source):  # a typo must not vanish silently
            log.warning("%s", message)
        markdown = self._with_shared_heading_ids(markdown, page)
        language = _language(page, config)
        lines = markdown.splitlines()
        for directive in directives:  # one line each: replacing keeps the numbering
            lines[directive.line - 1] = self._render(directive, source, language, page.url)
        if directives:  # before the first output: which models produced this page's outputs
            notice = self._models_notice(directives, language)
            if notice:
                first = directives[0].line - 1
                lines[first] = "\n\n" + self._stash(notice) + lines[first]
        if self.notebooks is not None:
            links = self.notebooks.links_html(page, language)
            if links:  # after the title: view, download, open in Colab
                title = next((i for i, line in enumerate(lines) if line.startswith("# ")), -1)
                lines.insert(title + 1, "\n" + self._stash(links) + "\n")
        text = "\n".join(lines)
        if has_markers(text):  # the performance page: tables from benchmarks/results.json
            text = self._results(text, source, language)
        return text

    on_page_markdown = CombinedEvent(_notebook_markdown, _page_markdown)

    def _with_shared_heading_ids(self, markdown: str, page: Page) -> str:
        """Give headings the ids their translation uses too (see anchors)."""
        source = page.file.abs_src_path
        if source is None or "attr_list" not in self.markdown_extensions:
            return markdown
        others = translations(Path(source), self.notebooks.texts if self.notebooks else None)
        english = markdown if page_language(page.file.src_uri) == "en" else others.get("en")
        other = next(iter(others.values()), None)
        return with_heading_ids(markdown, heading_ids(markdown, english, other))

    def _render(self, directive: Directive, page: str, language: str, page_url: str) -> str:
        assert self.lookup is not None
        found = self.lookup.find(directive, page, language)
        for message in found.warnings:
            log.warning("%s:%d: %s: %s", page, directive.line, directive.ref, message)
        for message in found.infos:
            log.info("%s:%d: %s: %s", page, directive.line, directive.ref, message)
        parts: list[str] = []
        if found.notice:
            parts.append(self._stash(notice_html(found.notice, language)))
        if found.source is not None and directive.show in ("both", "code"):
            assert self.code_blocks is not None
            parts.append(self.code_blocks.fence(found.source))
        if found.stored is not None and found.outputs is not None and directive.show != "code":
            html = output_html(
                found.outputs, directive.ref, language, directive.alt,
                self.site_files.image_src(page_url),
            )
            if html:
                html += device_note_html(found.compare, language)
                # The provenance line once per page, and again only where it differs.
                provenance = provenance_html(found.stored, language, found.models)
                if provenance != self.provenance_shown:
                    html += provenance
                    self.provenance_shown = provenance
                parts.append(self._with_reference(directive, html, language, page_url))
        return "\n\n" + "\n\n".join(parts) + "\n\n"

    def _with_reference(
        self, directive: Directive, offline_html: str, language: str, page_url: str
    ) -> str:
        """The offline output alone, or, where a reference capture of this cell exists, two
        tabs labelled as on every page: the offline output and the reference output, each
        with its own provenance."""
        assert self.lookup is not None
        reference = self.lookup.reference(directive)
        if reference is None:
            return self._stash(offline_html)
        stored, outputs, models = reference
        html = output_html(outputs, directive.ref, language, directive.alt,
                           self.site_files.image_src(page_url))
        html += provenance_html(stored, language, models)
        labels = TAB_LABELS.get(language, TAB_LABELS["en"])
        if "pymdownx.tabbed" not in self.markdown_extensions:  # no tabs: one after the other
            return self._stash("".join(
                f'<p class="llmdocs-profile-label"><strong>{escape(label)}</strong></p>{part}'
                for label, part in ((labels["offline"], offline_html),
                                    (labels["reference"], html))
            ))
        return (
            f'=== "{labels["offline"]}"\n\n    {self._stash(offline_html)}\n\n'
            f'=== "{labels["reference"]}"\n\n    {self._stash(html)}\n'
        )

    def _models_notice(self, directives: list[Directive], language: str) -> str:
        assert self.lookup is not None
        chapters = list(dict.fromkeys(d.chapter for d in directives))
        offline = [s for s in (self.lookup.stored(c) for c in chapters) if s is not None]
        reference = [r for r in (self.lookup.reference_chapter(c) for c in chapters) if r]
        return model_notice_html(offline, reference, language)

    def _results(self, markdown: str, page: str, language: str) -> str:
        assert self.project is not None
        results = self.project.root / self.config.results
        return render_markers(markdown, results, language, page, log.warning)

    def _stash(self, html: str) -> str:
        # Terminated so that key 1 is never a prefix of key 10.
        key = f"llmdocs{self.token}x{len(self.stash)}x"
        self.stash[key] = html
        return key

    def on_page_content(
        self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.config.enabled:
            return html
        if self.rendered_pages is not None:
            self.rendered_pages.keep(page)
        if isinstance(page.file, NotebookPage):
            return self._finish_notebook_page(html, page)
        if self.stash:  # two passes over the page, whatever the number of fragments
            for keys in STASH_KEYS:
                html = keys.sub(lambda m: self.stash.get(m["key"], m[0]), html)
        if self.playground is not None:
            html = self.playground.page_html(html, _language(page, config), page.url, log.warning)
        return html

    @event_priority(-1000)  # last: the key covers what every other plugin added
    def on_page_context(
        self, context: Any, /, *, page: Page, config: MkDocsConfig, nav: Navigation
    ) -> Any:
        if self.config.enabled and self.rendered_pages is not None:
            return self.rendered_pages.context(context, page)
        return context

    @event_priority(1000)  # first: keep the theme's render, before any plugin changes it
    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str | None:
        if self.config.enabled and self.rendered_pages is not None:
            self.rendered_pages.rendered(output, page)
        return output

    @event_priority(-10)  # after mkdocs-jupyter (0) has given the page its render
    def on_pre_page(self, page: Page, /, *, config: MkDocsConfig, files: Files) -> Page | None:
        if isinstance(page.file, NotebookPage) and self.notebook_content is not None:
            self.notebook_content.wrap(page)
        return page

    def _finish_notebook_page(self, html: str, page: Page) -> str:
        """The chapter and previous/next links above the finished notebook (notebook_content)."""
        assert isinstance(page.file, NotebookPage) and self.notebooks is not None
        return self.notebooks.nav_html(page.file, page.url) + html

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if not self.config.enabled:
            return
        self.site_files.write(config)
        if self.code_blocks is not None:
            self.code_blocks.prune()
        if self.notebook_content is not None:
            self.notebook_content.prune()
        if self.rendered_pages is not None:
            self.rendered_pages.prune()

    def on_serve(self, server: Any, /, *, config: MkDocsConfig, builder: Any) -> Any:
        if self.config.enabled and self.project is not None:
            # Editing a snippet rebuilds; with execute on, only its chapter is stale and runs.
            # Not recursive: snippets/outputs/ changes when a chapter runs, and must not
            # trigger yet another rebuild.
            server.watch(str(self.project.snippets_dir), recursive=False)
            results = self.project.root / self.config.results
            if results.exists():
                server.watch(str(results))
        return server


def _asset_path() -> Path:
    return Path(__file__).resolve().parent.parent / "assets" / "llmdocs.css"


def _language(page: Page, config: MkDocsConfig) -> str:
    locale = getattr(page.file, "locale", None)
    if locale:
        return str(locale)
    language = config.theme.get("language") if config.theme else None
    return str(language or "en")

