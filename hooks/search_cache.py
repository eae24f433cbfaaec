"""The search entries of an unchanged page, kept across builds.

Material's search parses every page's HTML with a pure-Python parser and segments its
Chinese text with jieba, on every build: the largest part of a no-change build that grows
with the pages' length (the highlighted code of the chapters is thousands of <span>s). A
page's entries depend only on what `add_entry_from_context` reads (its HTML, table of
contents, URL, title and meta) and on the search settings, so they are kept in
.cache/search/ under a hash of those; a page that changed in any of them is parsed again.
The entries, and so the search index, are the same as without this hook (a test compares).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import CombinedEvent, event_priority

from llmdocs import build_cache
from llmdocs.environment import package_version

WRAPPED = "_llm_basics_cached"
# What Material removes from every page's HTML (its own regex, without the leading space:
# starting with a literal, this one is a fast scan).
SEARCH_ATTRIBUTE = re.compile(r'data-search-\w+="[^"]+"')
# Pages' entries kept (the most recently used): many times this site's pages, so that a
# build never parses again what the previous one used, while old edits are dropped.
KEEP = 1000


@event_priority(50)  # before Material's search plugin (0) indexes the page
def _before_search(context: Any, page: Any, config: Any, nav: Any) -> Any:
    search = config["plugins"].get("material/search")
    index = getattr(search, "search_index", None)
    if index is not None and not getattr(index, WRAPPED, False):
        _wrap(index, _folder(config), _settings(search))
    if _search_ignores(page):
        # Material indexes nothing of an excluded page, then removes `data-search-*`
        # attributes from its HTML with a regex: 2 ms for a 100 KB notebook page, and a
        # no-op where there is none. It sees an empty page instead; the next event puts the
        # HTML back.
        page.llm_basics_content, page.content = page.content, ""
    return context


@event_priority(-50)  # after Material's search plugin (0)
def _after_search(context: Any, page: Any, config: Any, nav: Any) -> Any:
    if hasattr(page, "llm_basics_content"):
        page.content = page.llm_basics_content
        del page.llm_basics_content
    return context


on_page_context = CombinedEvent(_before_search, _after_search)


def _search_ignores(page: Any) -> bool:
    excluded = (page.meta.get("search") or {}).get("exclude")
    return bool(excluded) and not SEARCH_ATTRIBUTE.search(page.content or "")


def on_post_build(config: Any, **kwargs: Any) -> None:
    build_cache.prune(_folder(config), KEEP)


def _folder(config: Any) -> Path:
    return Path(config["config_file_path"]).resolve().parent / ".cache" / "search"


def _settings(search: Any) -> str:
    """What else the entries depend on: Material and jieba, the search options and the
    words jieba was given."""
    words = ""
    user_dict = search.config.get("jieba_dict_user")
    if user_dict:
        try:
            words = Path(user_dict).read_text(encoding="utf-8")
        except OSError:
            words = user_dict
    versions = [package_version(name) for name in ("mkdocs-material", "jieba")]
    return json.dumps([versions, dict(search.config), words], sort_keys=True, default=str)


def _wrap(index: Any, folder: Path, settings: str) -> None:
    add = index.add_entry_from_context

    def add_entry_from_context(page: Any) -> None:
        if (page.meta.get("search") or {}).get("exclude"):
            return add(page)  # indexes nothing: no key to compute over its HTML
        key = _key(page, settings)
        path = folder / f"{key}.json"
        entries = build_cache.load(path)
        if isinstance(entries, list):
            index.entries.extend(entries)
            return
        before = len(index.entries)  # not cached yet, or unreadable: index the page
        add(page)
        build_cache.save(path, index.entries[before:])

    index.add_entry_from_context = add_entry_from_context
    setattr(index, WRAPPED, True)


def _key(page: Any, settings: str) -> str:
    meta = {name: page.meta.get(name) for name in ("title", "tags", "search")}
    toc = [_toc_item(item) for item in page.toc]
    text = json.dumps([settings, page.url, str(page.title), meta, toc], sort_keys=True,
                      default=str)
    return hashlib.sha256(f"{text}\0{page.content}".encode()).hexdigest()


def _toc_item(item: Any) -> list[Any]:
    return [item.id, item.url, item.title, [_toc_item(child) for child in item.children]]

