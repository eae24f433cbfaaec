"""The writer's loop: `make serve` is `mkdocs serve --dirty`, which re-renders only the
pages that changed. A page that embeds a chapter changes when the chapter's code or stored
output does; the search index must not grow with each rebuild."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from site_helpers import (
    build,
    copy_fixture_site,
    copy_real_site,
    free_port,
    replace_in,
)

OTHER = "# Other page\n\nNo chapter here.\n"


def _mtime(path: Path) -> int:
    return path.stat().st_mtime_ns


@pytest.fixture(scope="module")
def built_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture site with a second page, executed and built in full once."""
    project = copy_fixture_site(tmp_path_factory.mktemp("writer"))
    for language in ("en", "zh"):
        (project / "docs" / f"other.{language}.md").write_text(OTHER, encoding="utf-8")
    first = build(project, execute=True)
    assert first.returncode == 0, first.log[-3000:]
    return project


@pytest.fixture
def project(built_once: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(built_once, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


class TestDirtyBuild:
    def test_untouched_pages_are_left_alone(self, project: Path) -> None:
        """The control: with nothing changed a dirty build re-renders no page."""
        pages = [project / "site" / p for p in ("index.html", "en/index.html", "other/index.html")]
        before = [_mtime(p) for p in pages]
        result = build(project, dirty=True)
        assert result.returncode == 0, result.log[-3000:]
        assert [_mtime(p) for p in pages] == before

    def test_a_chapter_edit_re_renders_the_pages_that_embed_it(self, project: Path) -> None:
        """Editing the snippet changes no page source, yet both pages showing the chapter
        are rebuilt (here with the stale-code notice); the page without it is not."""
        embedding = [project / "site" / "index.html", project / "site" / "en" / "index.html"]
        other = project / "site" / "other" / "index.html"
        before, other_before = [_mtime(p) for p in embedding], _mtime(other)
        time.sleep(0.01)
        replace_in(project / "snippets" / "basics.py", 'print("hello', 'print("hello again')
        result = build(project, dirty=True)
        assert result.returncode == 0, result.log[-3000:]
        assert all(_mtime(p) > b for p, b in zip(embedding, before, strict=True))
        assert "llmdocs run basics" in (project / "site" / "en" / "index.html").read_text()
        assert _mtime(other) == other_before

    def test_a_prose_edit_re_renders_the_page_and_its_translation(self, project: Path) -> None:
        """Headings share ids with the translation, so both languages' pages follow."""
        other_zh, other_en = (project / "site" / "other" / "index.html",
                              project / "site" / "en" / "other" / "index.html")
        index = project / "site" / "index.html"
        before = {p: _mtime(p) for p in (other_zh, other_en, index)}
        time.sleep(0.01)
        with (project / "docs" / "other.en.md").open("a", encoding="utf-8") as page:
            page.write("\nOne more sentence.\n")
        result = build(project, dirty=True)
        assert result.returncode == 0, result.log[-3000:]
        assert "One more sentence." in other_en.read_text(encoding="utf-8")
        assert _mtime(other_zh) > before[other_zh]
        assert _mtime(index) == before[index]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode("utf-8"))


def _wait_for(url: str, text: str, limit_s: float) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            if text in _get(url):
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def test_serve_dirty_shows_each_edit_and_keeps_the_search_index(tmp_path: Path) -> None:
    """The real site under `mkdocs serve --dirty` (what `make serve` runs): every prose
    edit is served, and the search index keeps its size. Before the fix in
    hooks/search_per_language.py it doubled with each rebuild."""
    project = copy_real_site(tmp_path)
    shutil.rmtree(project / "site", ignore_errors=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}/llm-basics/"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("LLMDOCS_EXECUTE", None)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--dirty", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        assert _wait_for(base + "en/run-llm/", "</html>", 240), (tmp_path / "serve.log").read_text()
        sizes = []
        for edit in range(3):
            marker = f"writer-edit-{edit}-{time.time_ns()}"
            time.sleep(1)
            with (project / "docs" / "run-llm.en.md").open("a", encoding="utf-8") as page:
                page.write(f"\n{marker}\n")
            assert _wait_for(base + "en/run-llm/", marker, 60), (
                (tmp_path / "serve.log").read_text()[-3000:])
            time.sleep(0.5)  # the search index is written after the pages
            sizes.append((len(json.loads(_get(base + "search/search_index.json"))["docs"]),
                          len(json.loads(_get(base + "en/search/search_index.json"))["docs"])))
        assert sizes[0] == sizes[1] == sizes[2], sizes
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_repeated_entries_collapse_to_the_last_per_location() -> None:
    """The dirty-serve merge repeats the same entry objects (each rebuild doubled them in
    memory, which the served file did not show): one per location is kept, the last."""
    spec = importlib.util.spec_from_file_location(
        "search_per_language", Path(__file__).parent.parent / "hooks" / "search_per_language.py")
    assert spec is not None and spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    page, section = {"location": "a/", "text": "old"}, {"location": "a/#s", "text": "s"}
    edited = {"location": "a/", "text": "new"}
    entries = [page, section, page, section, section, edited]
    assert hook._unique(entries) == [section, edited]
