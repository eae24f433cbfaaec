"""Everything a page's template render reads, as one hash: or no hash at all.

A theme template sees the render context (the page, the navigation, the site's
configuration, what plugins added) and the Jinja environment (the templates and the
filters of the installed theme, plugins and hooks). `page_key` turns all of that into a
digest, and fails closed: a value of a type it does not know how to describe raises
`Unkeyable`, and the page is then rendered as usual. A key that missed an input would serve
a stale page; a key that cannot be made only costs the render.

What the key leaves out, and why:
- `build_date_utc` (the time of this build): MkDocs offers it to every template, but the
  pages' templates of Material and MkDocs do not read it (MkDocs's sitemap.xml does, and that
  is not a page). A custom_dir template that names it makes every page unkeyable.
- The theme's packaged templates, and the code of plugins and hooks that add filters: the
  `NAME-VERSION.dist-info` entries of the folders they are installed in (and the bytes of
  the hooks and of the custom_dir) stand for them.
- Changes made while pages are being built: the settings, navigation and page list are
  described once per language build, when its first page is rendered. static-i18n rewrites
  `extra` and the theme's settings for each page, so those two are described with every page;
  a plugin that changed other settings page by page would need the same.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import json
import os
import re
import sys
import types
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path, PurePath
from typing import Any

from markdown.extensions import Extension
from mkdocs.config.config_options import ExtraScriptValue
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File
from mkdocs.structure.nav import Link, Navigation, Section
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink, TableOfContents
from mkdocs.theme import Theme

# The render machinery outside the site's own files: its installed versions stand for its code.
RENDERING = ("mkdocs", "material", "jinja2", "markupsafe")
LEFT_OUT = frozenset({"build_date_utc"})
JSON_SCALARS = frozenset({str, int, float, bool})


class Unkeyable(Exception):
    """A render input that `page_key` cannot describe: the page is rendered, not kept."""


class SiteInputs:
    """The inputs shared by every page of one language build, described once."""

    def __init__(self, code: str) -> None:
        self.code = code  # the hash of the code that keeps rendered pages
        self._nav: Navigation | None = None
        self._digest = ""

    def digest(self, context: Mapping[str, Any]) -> str:
        """The configuration, navigation and page list: each language build has its own
        Navigation (static-i18n builds one per language), so it marks the build. Settings
        a plugin changes page by page are described with the page (page_key)."""
        nav = context.get("nav")
        if nav is None or nav is not self._nav:
            config = context["config"]
            parts = {
                "code": self.code,
                "installed": _installed(config),
                "theme": _theme(config["theme"]),
                "config": _plain({k: v for k, v in config.items() if k != "theme"}),
                "nav": _nav(nav) if nav is not None else None,
                "pages": [_reference(p) for p in context.get("pages") or []],
            }
            self._digest = _hash(parts)
            self._nav = nav
        return self._digest


def page_key(site: SiteInputs, context: Mapping[str, Any], template: str) -> str:
    """The hash of everything the render of this context reads (raises Unkeyable)."""
    page = context["page"]
    nav = context.get("nav")
    config = context["config"]
    parts = {
        "site": site.digest(context),
        # Described again for each page: static-i18n rewrites extra.alternate (the language
        # menu's links) for every page, and theme settings are what a plugin would change.
        "extra": _plain(config["extra"]),
        "theme": _plain(dict(config["theme"].items())),
        "template": template,
        # Which navigation entries are highlighted: the page and the sections around it.
        "active": [_reference(i) for i in _walk(nav.items) if i.active] if nav else [],
        "page": _current_page(page),
        "context": _plain({k: v for k, v in context.items()
                           if k not in ("config", "nav", "pages", "page") and k not in LEFT_OUT}),
    }
    # The page's HTML goes to the hash as it is: escaping it into JSON cost more.
    return _hash(parts, page.content or "")


def _hash(parts: Any, text: str = "") -> str:
    described = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    # BLAKE2: as fast as SHA-256 natively, and counted fairly by valgrind, which hides the
    # CPU's SHA instructions (the benchmark counts a build's instructions).
    digest = hashlib.blake2b(described.encode("utf-8", "surrogatepass") + b"\0", digest_size=32)
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _current_page(page: Page) -> Any:
    fields = {}
    for name, value in vars(page).items():
        if name == "content":
            continue  # hashed as it is (page_key)
        if isinstance(value, Page | Section | Link):
            fields[name] = _reference(value)
        elif name == "children" and value is not None:
            fields[name] = [_reference(child) for child in value]
        else:
            fields[name] = _plain(value)
    fields["title"] = _plain(page.title)
    return fields


def _walk(items: Iterable[Any]) -> Iterable[Any]:
    for item in items:
        yield item
        if isinstance(item, Section):
            yield from _walk(item.children)


def _nav(nav: Navigation) -> Any:
    return {"items": [_nav_item(item) for item in nav.items],
            "homepage": _reference(nav.homepage) if nav.homepage else None}


def _nav_item(item: Any) -> Any:
    if isinstance(item, Section):
        return {"section": _plain(item.title), "children": [_nav_item(c) for c in item.children]}
    if isinstance(item, Page):
        return {"page": item.url, "title": _plain(item.title), "meta": _plain(item.meta),
                "file": _file(item.file), "is_index": item.is_index,
                "canonical_url": item.canonical_url, "edit_url": item.edit_url}
    if isinstance(item, Link):
        return {"link": item.url, "title": _plain(item.title)}
    raise Unkeyable(f"navigation entry {type(item).__name__}")


def _reference(item: Any) -> Any:
    """Another page or section, named (its own inputs are in the navigation's)."""
    if isinstance(item, Page):
        return {"page": item.url, "title": _plain(item.title), "src": item.file.src_uri}
    if isinstance(item, Section | Link):
        return {type(item).__name__: _plain(item.title), "url": getattr(item, "url", None)}
    if isinstance(item, File):  # the `pages` a template gets are the documentation files
        return _file(item)
    raise Unkeyable(f"reference to {type(item).__name__}")


def _file(file: File) -> Any:
    alternates = getattr(file, "alternates", None) or {}
    return {"src_uri": file.src_uri, "dest_uri": file.dest_uri, "url": file.url,
            "edit_uri": file.edit_uri, "locale": _plain(getattr(file, "locale", None)),
            "alternates": {str(k): _plain(getattr(v, "url", v) if isinstance(v, File) else v)
                           for k, v in alternates.items()}}


def _plain(value: Any) -> Any:
    """A JSON value that describes ``value`` completely (raises Unkeyable)."""
    kind = type(value)  # the common kinds first, by type: isinstance on ABCs is slow
    if value is None or kind in JSON_SCALARS:
        return value
    if kind is dict:
        return _mapping(value)
    if kind is list or kind is tuple:
        return [_plain(v) for v in value]
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, re.Pattern):
        return value.pattern
    if isinstance(value, Mapping):
        return _mapping(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, types.SimpleNamespace):
        return _plain(vars(value))
    if isinstance(value, TableOfContents | AnchorLink):
        items = value.items if isinstance(value, TableOfContents) else [value]
        return [{"title": link.title, "id": link.id, "level": link.level,
                 "children": _plain(TableOfContents(link.children))} for link in items]
    if isinstance(value, File):
        return _file(value)
    if isinstance(value, ExtraScriptValue):
        return _plain(vars(value))
    if isinstance(value, BasePlugin):
        return {"plugin": _name(type(value)), "config": _plain(value.config)}
    if isinstance(value, types.ModuleType):  # a hook: its code
        return {"module": value.__name__, "code": _file_digest(getattr(value, "__file__", None))}
    if isinstance(value, types.FunctionType | types.BuiltinFunctionType | type):
        return _name(value)
    if isinstance(value, types.MethodType):
        return {"method": _name(value.__func__), "of": type(value.__self__).__name__}
    if isinstance(value, Extension):  # in markdown_extensions, which templates test by name
        return {"extension": _name(type(value))}
    if _name(type(value)) == "babel.core.Locale":  # a locale is its identifier
        return str(value)
    patterns = getattr(value, "patterns", None)  # pathspec's specs (exclude_docs, not_in_nav)
    if type(value).__module__.startswith("pathspec") and patterns is not None:
        return [getattr(p, "pattern", None) or repr(getattr(p, "regex", p)) for p in patterns]
    raise Unkeyable(f"{type(value).__module__}.{type(value).__qualname__}")


def _mapping(value: Mapping[Any, Any]) -> Any:
    described = {str(k): _plain(v) for k, v in value.items()}
    if len(described) < len(value):  # keys that print alike (1 and "1"): keep them apart
        return {"\0pairs": sorted([repr(k), _plain(v)] for k, v in value.items())}
    return described


def _name(value: Any) -> str:
    return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"


def _theme(theme: Theme) -> Any:
    custom = theme.custom_dir
    files = {}
    if custom:
        for folder, _, names in sorted(os.walk(custom)):
            for name in sorted(names):
                path = Path(folder, name)
                data = path.read_bytes()  # read once: hashed, and searched for what is left out
                if any(word.encode() in data for word in LEFT_OUT):
                    raise Unkeyable(f"{path} reads {', '.join(sorted(LEFT_OUT))}")
                files[path.relative_to(custom).as_posix()] = hashlib.sha256(data).hexdigest()
    # The theme's settings are described with each page (page_key): a plugin may change them.
    return {"name": theme.name, "dirs": list(theme.dirs), "custom_dir": files}


def _file_digest(path: str | None) -> str | None:
    if path is None:
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _installed(config: Any) -> list[str]:
    """The distributions installed where MkDocs, the theme, Jinja and the plugins come from:
    their folders' `NAME-VERSION.dist-info` entries (reading each one's metadata instead
    cost 20 ms a build)."""
    modules = [*RENDERING, *(type(p).__module__ for p in config["plugins"].values())]
    return _listing(tuple(sorted({m.split(".", 1)[0] for m in modules})))


@cache
def _listing(packages: tuple[str, ...]) -> list[str]:
    folders = set()
    for name in packages:
        module = sys.modules.get(name)
        source = getattr(module, "__file__", None)
        if source:
            folders.add(Path(source).resolve().parent.parent)
    return sorted(f"{folder.name}/{entry}" for folder in folders for entry in os.listdir(folder)
                  if entry.endswith((".dist-info", ".egg-info", ".pth")))
