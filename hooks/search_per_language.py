"""One search index per language.

mkdocs-static-i18n writes a single search/search_index.json holding every language's pages
(English ones under en/), so the English pages searched the Chinese pages too and ranked
them first. After it has written that index (priority -100), this hook splits it: the
default language keeps search/search_index.json, each other language gets
<lang>/search/search_index.json with locations relative to its own root. overrides/main.html
points the pages of those languages at their folder (Material fetches
`search/search_index.json` relative to the `base` in its #__config).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority


def _other_languages(config: Any) -> list[str]:
    i18n = config["plugins"].get("i18n")
    if i18n is None:
        return []
    return [lang.locale for lang in i18n.config.languages if not lang.default]


def _unique(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per location (a page or one of its sections), the last one given: a
    rebuilt page's entries come after the previous build's."""
    last = {entry["location"]: index for index, entry in enumerate(entries)}
    return [entry for index, entry in enumerate(entries) if last[entry["location"]] == index]


def _drop_repeated_entries(config: Any) -> None:
    """Under `mkdocs serve --dirty`, Material merges the previous build's entries into the
    index and static-i18n merges them once more, so each rebuild doubled the index (and its
    time: 1.4, 2.2, 3.5, 7.3, 13.7 s for five edits, measured), and an edited page kept its
    old entries too. The entries kept for the next build are one per location again. (A
    section whose heading was deleted keeps its entry until the server restarts.)"""
    search = config["plugins"].get("material/search") or config["plugins"].get("search")
    entries = getattr(getattr(search, "search_index", None), "entries", None)
    if isinstance(entries, list):
        entries[:] = _unique(entries)


@event_priority(-200)  # after mkdocs-static-i18n (-100), which merges the languages' entries
def on_post_build(config: Any, **kwargs: Any) -> None:
    _drop_repeated_entries(config)
    root = Path(config["site_dir"])
    path = root / "search" / "search_index.json"
    languages = _other_languages(config)
    if not path.exists() or not languages:
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    index["docs"] = _unique(index["docs"])
    prefixes = tuple(f"{lang}/" for lang in languages)
    if not any(doc["location"].startswith(prefixes) for doc in index["docs"]):
        return  # already split (or a build of the default language alone)
    for lang in languages:
        docs = [dict(doc, location=doc["location"][len(lang) + 1:])
                for doc in index["docs"] if doc["location"].startswith(f"{lang}/")]
        own = dict(index, docs=docs, config=dict(index["config"], lang=[lang]))
        _write(root / lang / "search" / "search_index.json", own)
    index["docs"] = [doc for doc in index["docs"] if not doc["location"].startswith(prefixes)]
    _write(path, index)


def _write(path: Path, index: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
