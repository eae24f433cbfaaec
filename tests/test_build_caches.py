"""What builds keep for the next build changes nothing in the site, only its speed.

The cell code's highlighted HTML (`mkdocs_plugin/code_blocks.py`), each page's search
entries (`hooks/search_cache.py`) and rendered pages (`mkdocs_plugin/rendered_pages.py`, with
tests of their own) are kept across builds. These tests render and build for
real: the HTML placed from the cache equals what the page renders itself, and the site built
from a warm cache equals one built without the cache.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import markdown
import pytest
from mkdocs.config import load_config

from llmdocs.mkdocs_plugin.code_blocks import CodeBlocks
from llmdocs.render import code_markdown
from site_helpers import REPO, build, copy_real_site, replace_in

CELLS = [
    'import os\n\nmodel_id = os.environ.get("MODEL", "gpt2")\nprint(model_id)',
    "print('```')  # a fence inside the code\nx = [i ** 2 for i in range(3)]",
]

BUILD_TIME = re.compile(r' title="[^"]*\d\d:\d\d:\d\d UTC"')
SHOWN = [CELLS[0], CELLS[1], CELLS[0]]  # a cell may be shown twice on a page


@pytest.fixture(scope="module")
def site_markdown() -> tuple[list, dict]:
    """The real site's Markdown extensions and their settings, as MkDocs loads them."""
    config = load_config(str(REPO / "mkdocs.yml"))
    return list(config.markdown_extensions), dict(config.mdx_configs)


def _page(code: list[str]) -> str:
    """A page with prose code blocks between the cells' blocks: their numbering must hold."""
    return "\n\n".join([
        "# A page", "```text\nprose block before\n```", code[0], "Some *prose*.",
        "```python\nprint('prose block between')\n```", code[1], code[2],
        "```bash\necho after\n```",
    ])


def _rendered(extensions: list, configs: dict, text: str) -> str:
    return str(markdown.Markdown(extensions=extensions, extension_configs=configs).convert(text))


def _placed(blocks: CodeBlocks, extensions: list) -> str:
    """The page with the cells' fences, rendered as the plugin makes MkDocs render it."""
    return _rendered(extensions, blocks.configs(), _page([blocks.fence(c) for c in SHOWN]))


def test_cached_code_is_the_html_the_page_would_render(
    tmp_path: Path, site_markdown: tuple[list, dict]
) -> None:
    extensions, configs = site_markdown
    expected = _rendered(extensions, configs, _page([code_markdown(c) for c in SHOWN]))
    assert 'id="__codelineno-5-1"' in expected  # six blocks, numbered 0 to 5
    cold = CodeBlocks(tmp_path, extensions, configs)
    assert cold.enabled
    assert "llmdocs-cell" in cold.fence(CELLS[0])  # the cells' own fence kind
    assert _placed(cold, extensions) == expected
    saved = sorted((tmp_path / "code-html").glob("*.json"))
    assert len(saved) == 3  # two cells and the sample that names the line anchors
    warm = CodeBlocks(tmp_path, extensions, configs)  # a new build: everything from disk
    assert _placed(warm, extensions) == expected
    assert warm._markdown is None  # nothing was rendered again


def test_a_damaged_cache_file_is_rendered_again(
    tmp_path: Path, site_markdown: tuple[list, dict]
) -> None:
    extensions, configs = site_markdown
    expected = _placed(CodeBlocks(tmp_path, extensions, configs), extensions)
    for path in (tmp_path / "code-html").glob("*.json"):
        path.write_text(path.read_text(encoding="utf-8")[:40], encoding="utf-8")  # truncated
    assert _placed(CodeBlocks(tmp_path, extensions, configs), extensions) == expected
    for path in (tmp_path / "code-html").glob("*.json"):
        assert json.loads(path.read_text(encoding="utf-8"))["html"]  # repaired


def test_other_highlight_settings_do_not_reuse_the_cache(
    tmp_path: Path, site_markdown: tuple[list, dict]
) -> None:
    extensions, configs = site_markdown
    _placed(CodeBlocks(tmp_path, extensions, configs), extensions)
    plain = {**configs, "pymdownx.highlight": {"anchor_linenums": False}}
    expected = _rendered(extensions, plain, _page([code_markdown(c) for c in SHOWN]))
    assert "__codelineno" not in expected
    assert _placed(CodeBlocks(tmp_path, extensions, plain), extensions) == expected


def test_the_users_own_custom_fences_are_kept(
    tmp_path: Path, site_markdown: tuple[list, dict]
) -> None:
    extensions, configs = site_markdown
    mermaid = {"name": "mermaid", "class": "mermaid"}
    theirs = {**configs, "pymdownx.superfences": {"custom_fences": [mermaid]}}
    added = CodeBlocks(tmp_path, extensions, theirs).configs()
    fences = added["pymdownx.superfences"]["custom_fences"]
    assert fences[0] == mermaid and fences[1]["name"] == "llmdocs-cell"
    assert theirs["pymdownx.superfences"]["custom_fences"] == [mermaid]  # not changed


def test_a_page_rendered_without_the_fence_kind_still_shows_the_code(
    tmp_path: Path, site_markdown: tuple[list, dict]
) -> None:
    extensions, configs = site_markdown  # another Markdown instance, without configs()
    fence = CodeBlocks(tmp_path, extensions, configs).fence("print('<b>')")
    assert "&lt;b&gt;" in _rendered(extensions, configs, fence)


def test_without_superfences_the_page_highlights_the_code(tmp_path: Path) -> None:
    blocks = CodeBlocks(tmp_path, ["fenced_code", "codehilite"], {})
    assert not blocks.enabled
    assert blocks.fence(CELLS[0]) == code_markdown(CELLS[0])


def _search_indexes(site: Path) -> dict[str, object]:
    return {str(p.relative_to(site)): json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(site.glob("**/search/search_index.json"))}


def _pages(site: Path) -> dict[str, str]:
    """Every page, without the build time (to the second) that a copy without git history
    shows as "last updated"."""
    return {str(p.relative_to(site)): BUILD_TIME.sub("", p.read_text(encoding="utf-8"))
            for p in sorted(site.glob("**/*.html"))}


def test_a_warm_build_is_the_same_site_as_one_without_caches(tmp_path: Path) -> None:
    project = copy_real_site(tmp_path)
    cold = build(project, site_dir=tmp_path / "cold")
    assert cold.returncode == 0, cold.log
    pages = len(list((project / "docs").glob("*.md")))  # each page in its language
    assert len(list((project / ".cache" / "search").glob("*.json"))) == pages  # notebooks: none
    assert list((project / ".llmdocs-cache" / "code-html").glob("*.json"))
    notebook_pages = project / ".llmdocs-cache" / "notebook-pages"
    assert len(list(notebook_pages.glob("*.json"))) == len(list(tmp_path.glob("cold/**/*.ipynb")))
    warm = build(project, site_dir=tmp_path / "warm")
    assert warm.returncode == 0, warm.log
    replace_in(project / "mkdocs.yml", "  - hooks/search_cache.py\n", "")
    plugin = "  - llmdocs:\n"
    replace_in(project / "mkdocs.yml", plugin, plugin + "      keep_renders: false\n")
    for folder in (project / ".cache" / "search", project / ".llmdocs-cache" / "code-html",
                   notebook_pages, project / ".llmdocs-cache" / "rendered-pages"):
        for path in folder.iterdir():
            path.unlink()
    uncached = build(project, site_dir=tmp_path / "uncached")
    assert uncached.returncode == 0, uncached.log
    assert not list((project / ".cache" / "search").glob("*.json"))  # the hook was off
    indexes = _search_indexes(tmp_path / "uncached")
    assert set(indexes) == {"search/search_index.json", "en/search/search_index.json"}
    assert _search_indexes(tmp_path / "warm") == indexes
    assert _search_indexes(tmp_path / "cold") == indexes
    assert _pages(tmp_path / "warm") == _pages(tmp_path / "uncached")
    assert _assets(tmp_path / "warm") == _assets(tmp_path / "uncached")


def _assets(site: Path) -> dict[str, bytes]:
    """The files the plugin adds (figures, the notebooks' shared stylesheet)."""
    return {str(p.relative_to(site)): p.read_bytes()
            for p in sorted((site / "assets" / "llmdocs").iterdir())}


def test_a_damaged_notebook_page_cache_renders_the_page_again(tmp_path: Path) -> None:
    project = copy_real_site(tmp_path)
    assert build(project, site_dir=tmp_path / "first").returncode == 0
    kept = project / ".llmdocs-cache" / "notebook-pages"
    for path in kept.glob("*.json"):
        path.write_text(path.read_text(encoding="utf-8")[:100], encoding="utf-8")  # truncated
    for path in kept.glob("*.css"):
        path.write_bytes(b"body{}")  # no longer the stylesheet its name is the hash of
    again = build(project, site_dir=tmp_path / "again")
    assert again.returncode == 0, again.log
    assert _pages(tmp_path / "again") == _pages(tmp_path / "first")
    assert _assets(tmp_path / "again") == _assets(tmp_path / "first")
    for path in kept.glob("*.css"):  # repaired
        assert path.read_bytes() != b"body{}"


def test_an_edited_page_is_indexed_and_rendered_again(tmp_path: Path) -> None:
    project = copy_real_site(tmp_path)
    assert build(project).returncode == 0
    replace_in(project / "docs" / "tokenizer.en.md", "\n\n", "\n\nQuokkaword appears here.\n\n")
    again = build(project)
    assert again.returncode == 0, again.log
    english = json.loads((project / "site" / "en" / "search" / "search_index.json").read_text())
    hits = [d["location"] for d in english["docs"] if "Quokkaword" in d["text"]]
    assert hits and all(location.startswith("tokenizer/") for location in hits)
    # Its notebook is generated again, and its notebook page is not the one kept.
    notebook = (project / "site" / "en" / "notebooks" / "tokenizer" / "index.html").read_text()
    assert "Quokkaword" in notebook


def test_prune_keeps_the_most_recently_used_files(tmp_path: Path) -> None:
    from llmdocs import build_cache

    for number in range(5):
        build_cache.save(tmp_path / f"{number}.json", number)
        os.utime(tmp_path / f"{number}.json", (number, number))  # 0 is the oldest
    assert build_cache.load(tmp_path / "0.json") == 0  # reading it makes it the newest
    build_cache.prune(tmp_path, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.json", "3.json", "4.json"]


def test_kept_text_comes_back_as_it_was_saved(tmp_path: Path) -> None:
    from llmdocs import build_cache

    text = "line\r\nwindows\rold mac\n中文 \u2028 end"
    build_cache.save_text(tmp_path / "kept.html", text)
    assert build_cache.load_text(tmp_path / "kept.html") == text  # no newline translation
    build_cache.save_text(tmp_path / "odd.html", "a lone surrogate \ud800")
    assert build_cache.load_text(tmp_path / "odd.html") is None  # not kept, no crash
