"""Let a Chinese query match whole words: patch an off-by-one in Material's search worker.

Material splits a run of Chinese characters in the query into terms of the index
(`fe(t, e)` in search.*.min.js), but its loop stops one character short (`o<t.length`), so
the whole run is never looked up and its last character is dropped: 词元 became 词*, which
matched every word starting with 词. This hook fixes the two bounds in the built worker.
tests/test_browser.py checks that a search for 词元 highlights 词元.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority

log = logging.getLogger("mkdocs.hooks.search_chinese_query")

FIXES = (
    # Look up every slice t[s:o] up to and including the end of the run …
    ("for(let o=s+1;o<t.length;o++)t.slice(s,o)in e",
     "for(let o=s+1;o<=t.length;o++)t.slice(s,o)in e"),
    # … and keep going after a term that ends just before the run's last character.
    ("n[a]&&a<t.length-1&&(i[s++]=a)", "n[a]&&a<t.length&&(i[s++]=a)"),
)


@event_priority(-200)
def on_post_build(config: Any, **kwargs: Any) -> None:
    for worker in (Path(config["site_dir"]) / "assets" / "javascripts" / "workers").glob(
        "search.*.min.js"
    ):
        text = worker.read_text(encoding="utf-8")
        patched = text
        for old, new in FIXES:
            patched = patched.replace(old, new)
        if patched == text and not all(new in text for _, new in FIXES):
            log.info("%s: Material's Chinese query split changed; patch not applied", worker.name)
        elif patched != text:
            worker.write_text(patched, encoding="utf-8")
