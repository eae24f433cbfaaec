"""Kept page renders (mkdocs_plugin/rendered_pages.py): the same site, only faster.

Real builds of a copy of the site, with git history so that every page's "last updated" date
is stable: the warm build takes every page from the cache (a marker planted in a kept render
shows up), the site equals one built with `keep_renders: false`, and each kind of input a
template reads (the site's settings, a theme override, another page's title) renders every
page again.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from mkdocs.config import load_config
from mkdocs.structure.files import File
from mkdocs.structure.pages import Page

from llmdocs.mkdocs_plugin.template_inputs import SiteInputs, Unkeyable, page_key
from site_helpers import build, copy_real_site, replace_in

KEPT = Path(".llmdocs-cache") / "rendered-pages"
PLUGIN_SETTINGS = "  - llmdocs:\n"


def _committed_copy(tmp_path: Path) -> Path:
    project = copy_real_site(tmp_path)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "copy"]):
        subprocess.run([*git, *command], cwd=project, check=True, capture_output=True)
    return project


def _html(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): p.read_text(encoding="utf-8")
            for p in sorted(site.glob("**/*.html"))}


def _uncached(project: Path, site: Path) -> dict[str, str]:
    """The site as MkDocs renders every page itself (keep_renders: false)."""
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    replace_in(config, PLUGIN_SETTINGS, PLUGIN_SETTINGS + "      keep_renders: false\n")
    try:
        done = build(project, site_dir=site)
        assert done.returncode == 0, done.log
    finally:
        config.write_text(text, encoding="utf-8")
    return _html(site)


@pytest.fixture(scope="module")
def warm_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = _committed_copy(tmp_path_factory.mktemp("kept"))
    cold = build(project)
    assert cold.returncode == 0, cold.log
    return project


def test_a_warm_build_takes_every_page_from_the_cache(warm_project: Path) -> None:
    kept = sorted((warm_project / KEPT).glob("*.html"))
    pages = [p for p in _html(warm_project / "site") if not p.endswith("404.html")]
    assert len(kept) == len(pages)  # every page, notebooks included, both languages
    marker = "<!-- planted in the kept render -->"
    for path in kept:  # the length that heads the file grows with it
        length, html = path.read_text(encoding="utf-8").split("\n", 1)
        path.write_text(f"{int(length) + len(marker)}\n{html}{marker}", encoding="utf-8")
    warm = build(warm_project)
    assert warm.returncode == 0, warm.log
    assert sorted((warm_project / KEPT).glob("*.html")) == kept  # no render kept anew
    served = _html(warm_project / "site")
    assert all(served[page].endswith(marker) for page in pages)
    for path in kept:  # take the marker out again for the other tests
        length, html = path.read_text(encoding="utf-8").split("\n", 1)
        path.write_text(f"{int(length) - len(marker)}\n{html.removesuffix(marker)}",
                        encoding="utf-8")


def test_a_damaged_kept_render_is_rendered_again(warm_project: Path, tmp_path: Path) -> None:
    before = set((warm_project / KEPT).glob("*.html"))
    first = build(warm_project, site_dir=tmp_path / "first")  # another folder: other keys
    assert first.returncode == 0, first.log
    kept = sorted(set((warm_project / KEPT).glob("*.html")) - before)
    assert kept
    for path in kept:
        path.write_text(path.read_text(encoding="utf-8")[:-200], encoding="utf-8")  # truncated
    again = build(warm_project, site_dir=tmp_path / "first")
    assert again.returncode == 0, again.log
    assert _html(tmp_path / "first") == _uncached(warm_project, tmp_path / "uncached")
    assert all(p.read_text(encoding="utf-8").rstrip().endswith("</html>") for p in kept)


def test_the_kept_site_is_the_site_mkdocs_renders(warm_project: Path, tmp_path: Path) -> None:
    warm = build(warm_project, site_dir=tmp_path / "warm")
    assert warm.returncode == 0, warm.log
    again = build(warm_project, site_dir=tmp_path / "warm")  # now every page from the cache
    assert again.returncode == 0, again.log
    assert _html(tmp_path / "warm") == _uncached(warm_project, tmp_path / "uncached")


@pytest.mark.parametrize(("path", "old", "new", "shown"), [
    ("mkdocs.yml", "site_name: LLM 基础 · LLM Basics", "site_name: LLM 基础 · Quokka",
     "Quokka"),
    ("overrides/main.html", "{% block content %}", "{% block content %}<!-- quokka -->",
     "<!-- quokka -->"),
    ("docs/setup.zh.md", "# 环境配置与常见问题", "# 环境配置之袋鼠", "环境配置之袋鼠"),
])
def test_a_change_a_template_reads_renders_every_page_again(
    warm_project: Path, tmp_path: Path, path: str, old: str, new: str, shown: str
) -> None:
    source = warm_project / path
    text = source.read_text(encoding="utf-8")
    replace_in(source, old, new)
    try:
        changed = build(warm_project, site_dir=tmp_path / "changed")
        assert changed.returncode == 0, changed.log
        pages = _html(tmp_path / "changed")
        notebooks = [p for p in pages if p.startswith("notebooks/")]
        assert notebooks and all(shown in pages[p] for p in notebooks)  # in the nav, title…
        assert pages == _uncached(warm_project, tmp_path / "uncached")
    finally:
        source.write_text(text, encoding="utf-8")


def _context(project: Path) -> dict:
    config = load_config(str(project / "mkdocs.yml"))
    file = File("index.zh.md", config.docs_dir, config.site_dir, config.use_directory_urls)
    page = Page("A page", file, config)
    page.content = "<p>Hello</p>"
    return {"config": config, "page": page, "nav": None, "pages": [], "base_url": "."}


def test_the_key_names_the_page_and_its_content(tmp_path: Path) -> None:
    project = copy_real_site(tmp_path)
    context = _context(project)
    first = page_key(SiteInputs("code"), context, "main.html")
    assert page_key(SiteInputs("code"), context, "main.html") == first  # the same inputs
    assert page_key(SiteInputs("other code"), context, "main.html") != first
    context["page"].content = "<p>Hello!</p>"
    assert page_key(SiteInputs("code"), context, "main.html") != first


def test_an_input_it_cannot_describe_renders_the_page(tmp_path: Path) -> None:
    context = _context(copy_real_site(tmp_path))
    context["something_a_plugin_added"] = object()
    with pytest.raises(Unkeyable):
        page_key(SiteInputs("code"), context, "main.html")


def test_a_theme_override_reading_the_build_time_renders_every_time(tmp_path: Path) -> None:
    project = copy_real_site(tmp_path)
    (project / "overrides" / "partials" / "built.html").write_text("{{ build_date_utc }}")
    with pytest.raises(Unkeyable, match="build_date_utc"):
        page_key(SiteInputs("code"), _context(project), "main.html")
