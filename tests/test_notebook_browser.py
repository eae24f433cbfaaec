"""Notebook pages and chapter pages in Debian's chromium: captured output cannot run or fetch
anything (a hostile fixture chapter), and the real site's notebooks read like its pages —
Markdown converted, shared heading ids, language switch, provenance and setup, navigation,
and outputs that scroll instead of breaking, in both languages.

Set LLMDOCS_SHOTS=/some/folder to keep screenshots of a chapter page and its notebook page
(desktop 1280, mobile 390, dark).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import nbformat
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from hostile_outputs import FIXTURE, store_hostile_outputs
from llmdocs.project import Project
from site_helpers import REPO, build, copy_real_site, serve
from test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
MOBILE: ViewportSize = {"width": 390, "height": 844}
CHAPTER = "run-llm"  # has tensors, tabs and admonitions on its page
HOSTILE_PAGES = ["", "en/", "notebooks/hostile/", "en/notebooks/hostile/"]
SITE_URL = "https://llm-basics.github.io/llm-basics/"


@dataclass
class Served:
    site: Path
    url: str


@dataclass
class Watched:
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def watch(page: Page) -> Watched:
    watched = Watched()
    page.on("request", lambda r: watched.requests.append(r.url))
    page.on("pageerror", lambda e: watched.errors.append(str(e)))
    page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)

    def dialog(d: object) -> None:
        watched.dialogs.append(getattr(d, "message", ""))
        d.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", dialog)
    return watched


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as playwright:
        yield playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The hostile fixture chapter, its outputs stored, built --strict and served."""
    root = tmp_path_factory.mktemp("hostile")
    project = root / "hostile"
    shutil.copytree(FIXTURE, project)
    shutil.copytree(REPO / "overrides", project / "overrides")
    store_hostile_outputs(Project(project))
    result = build(project, strict=True, site_dir=root / "www" / "hostile")
    assert result.returncode == 0, result.log[-4000:]
    with serve(root / "www") as origin:
        yield Served(root / "www" / "hostile", origin + "hostile/")


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The real site, built into www/llm-basics/ (as GitHub Pages serves it) and served."""
    root = tmp_path_factory.mktemp("real-notebooks")
    site = root / "www" / "llm-basics"
    result = build(copy_real_site(root), site_dir=site)
    assert result.returncode == 0, result.log[-4000:]
    with serve(root / "www") as origin:
        yield Served(site, origin + "llm-basics/")


def article_ids(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "article h1, article h2, article h3, article h4, article h5, article h6",
        "hs => hs.map(h => h.id)")


def chapters() -> list[str]:
    return sorted(p.stem for p in (REPO / "notebooks" / "zh").glob("*.ipynb"))


class TestHostileOutput:
    @pytest.mark.parametrize("path", HOSTILE_PAGES)
    def test_nothing_runs_and_nothing_leaves(
        self, page: Page, hostile: Served, path: str
    ) -> None:
        """On the chapter page and the notebook page, in both languages, the captured script,
        handlers and javascript: links never run, and every request stays on 127.0.0.1."""
        watched = watch(page)
        page.goto(hostile.url + path, wait_until="networkidle")
        assert page.locator("text=kept bold").count() >= 1  # the output is there
        for locator in page.locator("article b, article a, article svg, article img").all():
            if locator.is_visible():
                locator.hover()
        for link in page.locator("article a:has-text('click me')").all():
            link.click()
        page.wait_for_timeout(300)
        assert page.evaluate("window.__pwned") is None
        assert watched.dialogs == []
        assert [u for u in watched.requests if not u.startswith("http://127.0.0.1:")] == []
        assert page.locator("article .mermaid, article [data-md-component]").count() == 0
        assert page.locator("article iframe, article object, article embed, article form")\
            .count() == 0
        # the printed <script> is shown as text, not run
        assert "<script>window.__pwned = 'stream'</script>" in page.locator("article").inner_text()

    def test_figure_opened_by_url_runs_nothing(self, page: Page, hostile: Served) -> None:
        """Each published figure, opened directly, runs no script and fetches nothing."""
        page.goto(hostile.url, wait_until="networkidle")
        sources = page.eval_on_selector_all("img.llmdocs-image", "is => is.map(i => i.src)")
        figures = sorted((hostile.site / "assets" / "llmdocs").glob("*.svg"))
        assert sources and figures
        for url in sources + [hostile.url + f"assets/llmdocs/{f.name}" for f in figures]:
            watched = watch(page)
            page.goto(url, wait_until="networkidle")
            page.mouse.click(10, 10)
            assert page.evaluate("window.__pwned") is None, url
            assert [u for u in watched.requests if not u.startswith("http://127.0.0.1:")] == []
            assert page.locator("#kept").count() == 1  # the drawing itself survives

    @pytest.mark.parametrize("path", ["notebooks/hostile/hostile.ipynb",
                                      "en/notebooks/hostile/hostile.ipynb"])
    def test_ipynb_outputs_sanitized(self, hostile: Served, path: str) -> None:
        """The downloadable .ipynb carries the same sanitized outputs as the pages."""
        notebook = nbformat.reads((hostile.site / path).read_text("utf-8"), as_version=4)
        data = [json.dumps(o.get("data", {})) for c in notebook.cells if c.cell_type == "code"
                for o in c.outputs]
        rich = " ".join(data)
        assert "kept bold" in rich and 'id=\\"kept\\"' in rich
        for bad in ("<script", "onload", "onerror", "onmouseover", "javascript:", "evil.example",
                    "mermaid", "foreignObject", "data-md-component"):
            assert bad not in rich, bad


class TestNotebookMarkdown:
    @pytest.mark.parametrize("language", ["zh", "en"])
    def test_no_raw_mkdocs_syntax(self, real: Served, language: str) -> None:
        """No notebook page shows tab or admonition markers; tabs become labelled sections and
        admonitions block quotes with their title, as on the chapter page."""
        prefix = "" if language == "zh" else "en/"
        for chapter in chapters():
            page = (real.site / f"{prefix}notebooks/{chapter}/index.html").read_text("utf-8")
            article = page.split("<article", 1)[1]
            text = re.sub(r"<[^>]+>", "", article)
            assert not re.search(r'^\s*(===|!!!|\?\?\?)[+!]?\s', text, re.M), chapter
            source = (REPO / "notebooks" / language / f"{chapter}.ipynb").read_text("utf-8")
            if '=== \\"' in (REPO / "docs" / f"{chapter}.{language}.md").read_text("utf-8"):
                assert "<strong>" in article
            if re.search(r"^!!! ", (REPO / "docs" / f"{chapter}.{language}.md").read_text(
                    "utf-8"), re.M):
                assert "<blockquote>" in article, chapter
            assert not re.search(r"\]\((?![a-z]+:|#)[^)]*\.md", source), chapter

    @pytest.mark.parametrize("language", ["zh", "en"])
    def test_every_link_on_notebook_pages_resolves(self, real: Served, language: str) -> None:
        """Every relative link of every notebook page leads to a file that exists."""
        prefix = "" if language == "zh" else "en/"
        checked = 0
        for chapter in chapters():
            page_dir = real.site / f"{prefix}notebooks/{chapter}"
            html = (page_dir / "index.html").read_text("utf-8")
            for href in re.findall(r'<a [^>]*href="([^"#]+)(?:#[^"]*)?"', html):
                if re.match(r"[a-z]+:|//", href):
                    continue
                target = (page_dir / href).resolve()
                assert target.exists() and (target.is_file() or (target / "index.html")
                                            .is_file()), f"{chapter}: {href}"
                checked += 1
        assert checked > 100

    def test_ipynb_links_point_at_the_published_site(self) -> None:
        """In the committed .ipynb files, links between pages are the published URLs."""
        links = []
        for path in (REPO / "notebooks").rglob("*.ipynb"):
            for cell in nbformat.read(path, as_version=4).cells:
                if cell.cell_type == "markdown":
                    links += re.findall(r"\]\(([^)\s]+)", cell.source)
        assert links and all(re.match(r"https?://|#", link) for link in links), links
        assert any(link.startswith(SITE_URL) for link in links)


class TestAnchors:
    @pytest.mark.parametrize("kind", ["chapter", "notebook"])
    def test_ids_readable_and_equal_in_both_languages(
        self, page: Page, real: Served, kind: str
    ) -> None:
        """Every heading of every chapter page and notebook page has an ASCII id, the same in
        zh and en, and every TOC link lands on one of them."""
        for chapter in chapters():
            path = f"{chapter}/" if kind == "chapter" else f"notebooks/{chapter}/"
            ids = {}
            for prefix in ("", "en/"):
                page.goto(real.url + prefix + path)
                ids[prefix] = article_ids(page)
                assert all(re.fullmatch(r"[a-z0-9][a-z0-9_-]*", i) for i in ids[prefix]), (
                    prefix + path, ids[prefix])
                toc = page.eval_on_selector_all(
                    ".md-sidebar--secondary a.md-nav__link", "as => as.map(a => a.hash)")
                assert toc, prefix + path
                assert {t.lstrip("#") for t in toc} <= set(ids[prefix]), prefix + path
            assert ids[""] == ids["en/"], path

    @pytest.mark.parametrize(("start", "language", "target"), [
        ("tokenizer/", "en", "en/tokenizer/"),
        ("en/tokenizer/", "zh", "tokenizer/"),
        ("notebooks/tokenizer/", "en", "en/notebooks/tokenizer/"),
        ("en/notebooks/tokenizer/", "zh", "notebooks/tokenizer/"),
    ])
    def test_language_switch_keeps_page_and_section(
        self, page: Page, real: Served, start: str, language: str, target: str
    ) -> None:
        """The language selector opens the same page (a notebook: the same notebook) in the
        other language, at the same section."""
        page.goto(real.url + start)
        section = article_ids(page)[3]
        page.goto(real.url + start + "#" + section)
        page.locator(".md-header__option .md-select").hover()
        page.locator(f'a.md-select__link[hreflang="{language}"]').click()
        page.wait_for_url(real.url + target + "#" + section)
        assert page.locator("html").get_attribute("lang") == language
        assert page.locator(f"article #{section}").count() == 1


class TestNotebookPage:
    @pytest.mark.parametrize("language", ["zh", "en"])
    def test_alternates_lead_to_the_same_notebook(self, real: Served, language: str) -> None:
        """hreflang links and the selector of every notebook page point at that notebook."""
        prefix = "" if language == "zh" else "en/"
        for chapter in chapters():
            page_dir = real.site / f"{prefix}notebooks/{chapter}"
            html = (page_dir / "index.html").read_text("utf-8")
            hrefs = re.findall(r'<(?:link rel="alternate"|a) href="([^"]+)" hreflang="(\w+)"', html)
            assert {lang for _, lang in hrefs} == {"zh", "en"}
            for href, lang in hrefs:
                url = urlsplit(urljoin(f"http://x/{prefix}notebooks/{chapter}/", href)).path
                wanted = f"/notebooks/{chapter}/" if lang == "zh" else f"/en/notebooks/{chapter}/"
                assert url == wanted, (chapter, href)

    @pytest.mark.parametrize("language", ["zh", "en"])
    def test_provenance_setup_and_counts(self, page: Page, real: Served, language: str) -> None:
        """The first markdown cell names model, device, versions and date; the first code cell
        installs and selects the offline models, saying how to use the source's instead;
        cells show execution counts."""
        prefix = "" if language == "zh" else "en/"
        page.goto(real.url + f"{prefix}notebooks/{CHAPTER}/")
        first = page.locator(".jp-MarkdownCell").first.inner_text()
        label = "输出来自" if language == "zh" else "Output from"
        assert label in first and "SmolLM2" in first and "torch" in first
        assert re.search(r"\d{4}-\d{2}-\d{2}", first)
        code = page.locator(".jp-CodeCell").first.inner_text()
        assert "%pip install" in code and 'model_locations("offline"' in code
        assert "Phi-3" in code and "llmdocs env" in code
        prompts = page.locator(".jp-InputPrompt").all_inner_texts()
        assert any(p.replace("\xa0", " ").strip() == "In [1]:" for p in prompts), prompts[:3]

    @pytest.mark.parametrize("language", ["zh", "en"])
    def test_copy_buttons_work(self, browser: Browser, real: Served, language: str) -> None:
        """Every copy button of every notebook page copies its cell's code, with no script
        error (empty heading ids made Material's scripts throw 'not a valid selector')."""
        prefix = "" if language == "zh" else "en/"
        context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = context.new_page()
        watched = watch(page)
        clicked = 0
        for chapter in chapters():
            page.goto(real.url + f"{prefix}notebooks/{chapter}/")
            buttons = page.locator("clipboard-copy")
            for index in range(buttons.count()):
                button = buttons.nth(index)
                button.scroll_into_view_if_needed()
                button.hover()
                button.click()
                clicked += 1
            copied = page.evaluate("navigator.clipboard.readText()")
            source = page.evaluate("""() => { const b = [...document.querySelectorAll(
                'clipboard-copy')].pop(); return document.getElementById(b.getAttribute('for'))
                .textContent; }""")
            assert copied.strip() and copied.strip() == source.strip(), chapter
        context.close()
        assert clicked > 40
        assert watched.errors == []


class TestNavigation:
    @pytest.mark.parametrize("language", ["zh", "en"])
    def test_chapter_page_offers_notebook_download_and_colab(
        self, real: Served, language: str
    ) -> None:
        """Under its title each chapter page links its notebook page, the .ipynb (which
        exists) and Colab, which opens the committed notebook from the repository."""
        prefix = "" if language == "zh" else "en/"
        for chapter in chapters():
            page_dir = real.site / f"{prefix}{chapter}"
            html = (page_dir / "index.html").read_text("utf-8")
            block = re.search(r'<p class="llmdocs-notebook-links".*?</p>', html, re.S)
            assert block, chapter
            assert html.index("<h1") < block.start() < html.find("<h2")
            hrefs = re.findall(r'href="([^"]+)"', block.group(0))
            view, download, colab = hrefs
            assert (page_dir / view / "index.html").resolve().is_file()
            assert (page_dir / download).resolve().is_file()
            path = f"notebooks/{language}/{chapter}.ipynb"
            assert colab == ("https://colab.research.google.com/github/llm-basics/llm-basics/"
                             f"blob/main/{path}")
            assert (REPO / path).is_file()

    @pytest.mark.parametrize("language", ["zh", "en"])
    def test_notebook_page_links_back_and_onwards(self, real: Served, language: str) -> None:
        """Each notebook page links its chapter page, and its neighbours in nav order."""
        prefix = "" if language == "zh" else "en/"
        with_previous = with_next = 0
        for chapter in chapters():
            page_dir = real.site / f"{prefix}notebooks/{chapter}"
            html = (page_dir / "index.html").read_text("utf-8")
            nav = re.search(r'<nav class="llmdocs-notebook-nav".*?</nav>', html, re.S)
            assert nav, chapter
            links = dict(re.findall(r'class="llmdocs-nb-(\w+)"[^>]*href="([^"]+)"', nav.group(0)))
            assert (page_dir / links["chapter"]).resolve() == (real.site / prefix / chapter)\
                .resolve()
            for rel in ("previous", "next"):
                if rel in links:
                    assert (page_dir / links[rel] / "index.html").resolve().is_file()
            with_previous += "previous" in links
            with_next += "next" in links
        assert with_previous == with_next == len(chapters()) - 1


def output_layout(page: Page) -> dict[str, Any]:
    return page.evaluate("""() => {
        const blocks = [...document.querySelectorAll(
            '.llmdocs-output pre > code, .jp-OutputArea-output pre')];
        const styles = blocks.map(b => getComputedStyle(b));
        const wraps = blocks.filter(b => {
            const lines = b.textContent.replace(/\\n$/, '').split('\\n').length;
            const lh = parseFloat(getComputedStyle(b).lineHeight);
            const pad = parseFloat(getComputedStyle(b).paddingTop) +
                        parseFloat(getComputedStyle(b).paddingBottom);
            return b.clientHeight - pad > lines * lh + lh / 2;  // a wrapped line
        }).map(b => b.textContent.slice(0, 40));
        const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
        const lum = c => { const [r, g, b] = c.map(v => { v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        const contrast = (a, b) => {
            const [x, y] = [lum(rgb(a)), lum(rgb(b))].sort((p, q) => q - p);
            return (x + 0.05) / (y + 0.05); };
        const code = document.querySelector('.highlight pre > code, .jp-InputArea pre');
        return {
            count: blocks.length,
            whiteSpace: [...new Set(styles.map(s => s.whiteSpace))],
            wordBreak: [...new Set(styles.map(s => s.wordBreak))],
            overflowWrap: [...new Set(styles.map(s => s.overflowWrap))],
            wraps,
            outputBg: styles.length ? styles[0].backgroundColor : '',
            codeBg: code ? getComputedStyle(code).backgroundColor : '',
            minContrast: Math.min(...styles.map(s => contrast(s.color, s.backgroundColor))),
        };
    }""")


class TestOutputLayout:
    @pytest.mark.parametrize("scheme", ["default", "slate"])
    @pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["390", "1280"])
    @pytest.mark.parametrize("path", [f"{CHAPTER}/", f"en/notebooks/{CHAPTER}/",
                                      f"notebooks/{CHAPTER}/"])
    def test_outputs_scroll_keep_columns_and_stand_out(
        self, browser: Browser, real: Served, path: str, viewport: ViewportSize, scheme: str
    ) -> None:
        """Outputs never break inside a word or number (long lines scroll), tensors keep their
        columns at 390 and 1280 px, and outputs are tinted apart from code, legibly, in the
        light and dark schemes."""
        context = browser.new_context(  # Material follows prefers-color-scheme (mkdocs.yml)
            viewport=viewport, color_scheme="dark" if scheme == "slate" else "light")
        page = context.new_page()
        page.goto(real.url + path, wait_until="networkidle")
        assert page.locator("body").get_attribute("data-md-color-scheme") == scheme
        layout = output_layout(page)
        context.close()
        assert layout["count"] > 3
        assert layout["whiteSpace"] == ["pre"]
        assert layout["wordBreak"] == ["normal"] and layout["overflowWrap"] == ["normal"]
        assert layout["wraps"] == []
        assert layout["outputBg"] != layout["codeBg"]
        assert layout["minContrast"] >= 4.5

    @pytest.mark.parametrize("prefix", ["", "en/"])
    def test_provenance_once_unless_it_differs(self, real: Served, prefix: str) -> None:
        """A chapter page shows its provenance line once, and again only where it differs."""
        for chapter in chapters():
            html = (real.site / prefix / chapter / "index.html").read_text("utf-8")
            lines = re.findall(r'<p class="llmdocs-provenance"[^>]*>(.*?)</p>', html)
            assert lines, chapter
            assert all(a != b for a, b in itertools.pairwise(lines)), chapter


class TestScreenshots:
    def test_chapter_and_notebook_pages(self, browser: Browser, real: Served) -> None:
        """Screenshots of a chapter page and its notebook page: desktop, mobile and dark."""
        folder = Path(os.environ.get("LLMDOCS_SHOTS", "") or REPO / ".cache" / "shots")
        folder.mkdir(parents=True, exist_ok=True)
        for path, name in ((f"{CHAPTER}/", "chapter"), (f"notebooks/{CHAPTER}/", "notebook")):
            for label, viewport, dark in (("desktop", DESKTOP, False), ("mobile", MOBILE, False),
                                          ("dark", DESKTOP, True)):
                context = browser.new_context(
                    viewport=viewport, color_scheme="dark" if dark else "light")
                page = context.new_page()
                page.goto(real.url + path, wait_until="networkidle")
                page.screenshot(path=str(folder / f"{name}-{label}-top.png"))
                page.locator(".llmdocs-output, .jp-OutputArea").nth(1).scroll_into_view_if_needed()
                page.evaluate("window.scrollBy(0, -200)")
                page.wait_for_timeout(500)
                shot = folder / f"{name}-{label}.png"
                page.screenshot(path=str(shot))
                context.close()
                assert shot.stat().st_size > 20_000
