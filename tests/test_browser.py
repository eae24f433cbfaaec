"""The real site in Debian's chromium: language switch, search in both languages (each its
own index), the copy button, visible outputs, a clean console and no request leaving
127.0.0.1; edit links, dates, license, the bilingual root 404, linked tabs, 390 px, axe-core.

The site is built once for the module, into www/<site_url path>/ (as GitHub Pages serves it,
so the home page's absolute /llm-basics/ links resolve), and served by `python -m http.server`.
Set LLMDOCS_SCREENSHOT=1 to refresh docs/assets/screenshot-zh.png (the README's picture).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import axe_playwright_python
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from llmdocs.project import Project
from site_helpers import REPO, build, copy_real_site, serve

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOT = REPO / "docs" / "assets" / "screenshot-zh.png"
# Material 9.8 puts copy buttons in a code nav; older releases used .md-clipboard.
COPY_BUTTON = '.md-code__button[data-md-type="copy"], .md-clipboard'
ZH_WORD = "邮件"  # mid-sentence in docs/run-llm.zh.md: "让它写一封邮件，"


def site_path() -> str:
    """The path part of mkdocs.yml's site_url ('/llm-basics/')."""
    text = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    match = re.search(r"^site_url:\s*(\S+)", text, re.M)
    assert match is not None
    return urlsplit(match.group(1)).path or "/"


@dataclass
class Watched:
    """What one browser page did: console errors, uncaught errors, requests, failed responses."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def watch(page: Page) -> Watched:
    watched = Watched()
    page.on("console", lambda m: m.type == "error" and watched.console_errors.append(
        f"{page.url}: {m.text}"))
    page.on("pageerror", lambda e: watched.page_errors.append(f"{page.url}: {e}"))
    page.on("request", lambda r: watched.requests.append(r.url))
    page.on("response", lambda r: r.status >= 400 and watched.failed.append(f"{r.status} {r.url}"))
    return watched


@dataclass
class Served:
    """The built site on disk and the URL it is served at ('http://127.0.0.1:PORT/llm-basics/')."""

    site: Path
    url: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The real site, built --strict into www/<site_url path>/ and served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("browser")
    prefix = site_path().strip("/")
    site = root / "www" / prefix
    result = build(copy_real_site(root), strict=True, site_dir=site)
    assert result.returncode == 0, result.log[-4000:]
    with serve(root / "www") as origin:
        yield Served(site, origin + (f"{prefix}/" if prefix else ""))


@pytest.fixture(scope="module")
def base_url(served: Served) -> str:
    return served.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (see `make browser-deps`)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport=VIEWPORT, locale="zh-CN", permissions=["clipboard-read", "clipboard-write"]
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def search(page: Page, query: str) -> list[str]:
    """Type a query into Material's search box; the result links once results show."""
    box = page.locator("input.md-search__input")
    box.click()
    box.fill(query)
    box.press("End")  # Material reads the query on keyup, as after a Chinese IME commits
    page.locator(".md-search-result__item").first.wait_for(timeout=10_000)
    return page.eval_on_selector_all(".md-search-result__item a", "as => as.map(a => a.href)")


def h1(markdown_page: Path) -> str:
    first = markdown_page.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ")
    return first[2:].strip()


class TestLanguageSwitch:
    @pytest.mark.parametrize(("start", "language", "target", "source"), [
        ("run-llm/", "en", "en/run-llm/", "run-llm.en.md"),
        ("en/run-llm/", "zh", "run-llm/", "run-llm.zh.md"),
        ("", "en", "en/", "index.en.md"),
        ("en/", "zh", "", "index.zh.md"),
    ])
    def test_selector_keeps_the_page(
        self, page: Page, base_url: str, start: str, language: str, target: str, source: str
    ) -> None:
        """Choosing the other language in Material's selector opens the same page translated."""
        page.goto(base_url + start)
        page.locator(".md-header__option .md-select").hover()
        page.locator(f'a.md-select__link[hreflang="{language}"]').click()
        page.wait_for_url(base_url + target)
        assert page.locator("html").get_attribute("lang") == language
        assert page.locator("article h1").first.inner_text().rstrip("¶").strip() == h1(
            REPO / "docs" / source)


class TestSearch:
    def test_chinese_word_from_mid_sentence(self, page: Page, base_url: str) -> None:
        """A Chinese word from the middle of a sentence finds the zh page it is in."""
        source = (REPO / "docs" / "run-llm.zh.md").read_text(encoding="utf-8")
        assert re.search(rf"[\u4e00-\u9fff]{ZH_WORD}[\u4e00-\u9fff，。]", source)
        page.goto(base_url)
        links = search(page, ZH_WORD)
        assert any(link.startswith(base_url + "run-llm/") for link in links), links
        assert ZH_WORD in page.locator(".md-search-result mark").first.inner_text()

    @pytest.mark.parametrize(("word", "target", "source"), [
        ("tokenizer", "en/tokenizer/", "tokenizer.en.md"),
        ("email", "en/run-llm/", "run-llm.en.md"),
    ])
    def test_english_word(
        self, page: Page, base_url: str, word: str, target: str, source: str
    ) -> None:
        """An English word typed on the en site finds the English page that contains it."""
        assert word in (REPO / "docs" / source).read_text(encoding="utf-8").lower()
        page.goto(base_url + "en/")
        links = search(page, word)
        assert any(link.startswith(base_url + target) for link in links), links


class TestCodeAndOutputs:
    def test_copy_button_copies_only_the_code(self, page: Page, base_url: str) -> None:
        """The copy button of an embedded cell copies exactly its code, never its output."""
        page.goto(base_url + "run-llm/")
        output = page.locator("div.llmdocs-output").first
        cell = output.get_attribute("data-cell")
        assert cell is not None
        chapter, name = cell.split(":")
        source = Project(REPO).chapter(chapter).cell(name).source.rstrip()
        code = output.locator("xpath=preceding-sibling::div[contains(@class,'highlight')][1]")
        code.hover()
        code.locator(COPY_BUTTON).click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == source
        printed = output.inner_text().strip().splitlines()[0]
        assert printed and printed not in copied
        assert page.locator(COPY_BUTTON).count() > 1
        assert output.locator(COPY_BUTTON).count() == 0
        assert page.locator("div.llmdocs-output").locator(COPY_BUTTON).count() == 0

    @pytest.mark.parametrize("path", ["run-llm/", "en/run-llm/", "tokenizer/"])
    def test_outputs_visible(self, page: Page, base_url: str, path: str) -> None:
        """Every output block and its provenance line are visible and hold text or a figure."""
        page.goto(base_url + path)
        outputs = page.locator("div.llmdocs-output")
        assert outputs.count() > 0
        for index in range(outputs.count()):
            block = outputs.nth(index)
            assert block.is_visible()
            assert block.inner_text().strip() or block.locator("img").count()
        provenance = page.locator("p.llmdocs-provenance").first
        assert provenance.is_visible()
        assert re.match(r"(输出来自|Output from) \S", provenance.inner_text())


@pytest.fixture(scope="module")
def crawl(browser: Browser, served: Served) -> Watched:
    """Every built page loaded once (and a search in each language), watched throughout."""
    paths = sorted(
        "" if page.parent == served.site else f"{page.parent.relative_to(served.site)}/"
        for page in served.site.rglob("index.html")
    )
    assert len(paths) > 10
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    watched = watch(page)
    for path in paths:
        page.goto(served.url + path, wait_until="networkidle")
    for start, word in (("", ZH_WORD), ("en/", "tokenizer")):
        page.goto(served.url + start, wait_until="networkidle")
        search(page, word)
        page.wait_for_load_state("networkidle")
    context.close()
    return watched


class TestCleanLoad:
    def test_no_console_errors(self, crawl: Watched) -> None:
        """No page logs a console error or throws, and nothing it asks for is missing."""
        assert crawl.console_errors == []
        assert crawl.page_errors == []
        assert crawl.failed == []

    def test_every_request_stays_local(self, crawl: Watched, base_url: str) -> None:
        """Every request of every page, search included, goes to 127.0.0.1."""
        assert len(crawl.requests) > 20
        assert [url for url in crawl.requests if not url.startswith("http://127.0.0.1:")] == []
        assert any("/search/search_index.json" in url for url in crawl.requests)


class TestScreenshot:
    def test_chinese_glyphs_render(self, page: Page, base_url: str, tmp_path: Path) -> None:
        """Chinese text renders with real glyphs (not tofu); the zh home and run-llm pages are
        captured side by side (into docs/assets/ when LLMDOCS_SCREENSHOT=1)."""
        from PIL import Image

        shots = []
        for path in ("", "run-llm/"):
            page.goto(base_url + path, wait_until="networkidle")
            page.evaluate("document.fonts.ready")
            distinct = page.evaluate("""() => {
                const font = getComputedStyle(document.body).fontFamily;
                const draw = (ch) => {
                    const c = document.createElement('canvas'); c.width = c.height = 40;
                    const g = c.getContext('2d'); g.font = `32px ${font}`;
                    g.fillText(ch, 2, 32); return c.toDataURL();
                };
                const tofu = draw('\\u0378');
                return [draw('邮') !== draw('件'), draw('邮') !== tofu, draw('件') !== tofu];
            }""")
            assert distinct == [True, True, True]
            if path:  # show an embedded cell: prose, code, output and provenance
                page.evaluate("""() => {
                    const code = document.querySelector('.llmdocs-output').previousElementSibling;
                    window.scrollTo(0, code.getBoundingClientRect().top + window.scrollY - 260);
                }""")
                page.wait_for_timeout(800)  # let the header's title transition finish
            shot = tmp_path / f"zh-{path.strip('/') or 'home'}.png"
            page.screenshot(path=str(shot))
            shots.append(Image.open(shot).convert("RGB"))
        combined = Image.new("RGB", (sum(s.width for s in shots) + 16, shots[0].height), "white")
        combined.paste(shots[0], (0, 0))
        combined.paste(shots[1], (shots[0].width + 16, 0))
        target = SCREENSHOT if os.environ.get("LLMDOCS_SCREENSHOT") == "1" else tmp_path / "zh.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        combined.save(target, optimize=True)
        assert target.stat().st_size > 50_000

# Reading experience (issue 14): search per language, edit links, last-updated dates, the
# license, the bilingual root 404, one click for every tab set, the header and tables at
# 390 px, and no serious or critical axe-core violation in light or dark.

AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
LANGUAGES = {"zh": "", "en": "en/"}


def page_names() -> list[str]:
    """Every page of the docs with both languages ('index', 'setup', …)."""
    return sorted(p.name.removesuffix(".en.md") for p in (REPO / "docs").glob("*.en.md"))


def page_path(name: str, language: str) -> str:
    return LANGUAGES[language] + ("" if name == "index" else f"{name}/")


def marks(page: Page) -> set[str]:
    return set(page.eval_on_selector_all(".md-search-result mark",
                                         "ms => ms.map(m => m.textContent)"))


class TestSearchPerLanguage:
    def test_english_pages_search_english_pages(self, page: Page, base_url: str) -> None:
        """On /en/, "logits" finds English pages only (it used to rank Chinese pages first)."""
        page.goto(base_url + "en/")
        links = search(page, "logits")
        assert links and all(link.startswith(base_url + "en/") for link in links), links

    def test_chinese_pages_search_chinese_pages(self, page: Page, base_url: str) -> None:
        """On the Chinese site, "logits" finds Chinese pages only."""
        page.goto(base_url)
        links = search(page, "logits")
        assert links and not any(link.startswith(base_url + "en/") for link in links), links

    def test_chinese_query_matches_the_word(self, page: Page, base_url: str) -> None:
        """词元 highlights the word 词元, not every word that starts with 词."""
        page.goto(base_url)
        links = search(page, "词元")
        assert marks(page) == {"词元"}
        assert parse_qs(urlsplit(links[0]).query)["h"] == ["词元"]


class TestPageChrome:
    @pytest.mark.parametrize("language", LANGUAGES)
    def test_edit_link_and_date_on_every_page(self, served: Served, language: str) -> None:
        """Each page links to its own Markdown source for editing and shows a last-updated date."""
        for name in page_names():
            html = (served.site / page_path(name, language) / "index.html").read_text("utf-8")
            edit = re.search(r'<a href="([^"]+)"[^>]*class="md-content__button', html)
            assert edit and edit[1].endswith(f"/edit/main/docs/{name}.{language}.md"), name
            assert 'class="md-source-file' in html and re.search(
                r"git-revision-date-localized-plugin-date[^>]*>[^<]*\d", html), name

    @pytest.mark.parametrize(("language", "word"), [("zh", "MIT 许可证"), ("en", "MIT License")])
    def test_license_in_the_footer(self, page: Page, base_url: str, language: str,
                                   word: str) -> None:
        page.goto(base_url + LANGUAGES[language])
        link = page.locator(".md-copyright a", has_text=word)
        assert link.get_attribute("href", timeout=5_000).endswith("/LICENSE")  # type: ignore[union-attr]
        assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")

    def test_root_404_speaks_both_languages(self, page: Page, base_url: str) -> None:
        """A host serves the root 404.html for a missing page in any language."""
        page.goto(base_url + "404.html")
        text = page.locator("article").inner_text()
        assert "页面不存在" in text and "Page not found" in text
        assert page.locator("article a[href$='/en/']").count() == 1

    def test_one_click_switches_every_tab_set(self, page: Page, base_url: str) -> None:
        """All tab sets share two labels, so choosing one switches them all (content.tabs.link)."""
        page.goto(base_url + "tokenizer/")
        sets = page.locator(".tabbed-set")
        assert sets.count() >= 3
        sets.first.locator("label", has_text="原文参考").click()
        for i in range(sets.count()):
            chosen = sets.nth(i).locator("input:checked").first.get_attribute("id")
            assert sets.nth(i).locator(f"label[for='{chosen}']").inner_text().strip() == "原文参考"


class TestNarrowScreen:
    @pytest.mark.parametrize("path", ["", "en/", "run-llm/"])
    def test_title_whole_and_tables_scroll_in_their_box(self, browser: Browser, base_url: str,
                                                        path: str) -> None:
        """At 390 px the header title is not cut off and no table widens the page."""
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.goto(base_url + path, wait_until="networkidle")
        title = page.locator(".md-header__topic .md-ellipsis").first
        width, visible = title.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert width <= visible
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        context.close()


class TestAccessibility:
    @pytest.mark.parametrize("scheme", ["light", "dark"])
    def test_no_serious_axe_violation_on_any_page(self, browser: Browser, base_url: str,
                                                  scheme: str) -> None:
        """axe-core (WCAG 2 A and AA) finds nothing serious or critical on any page, including
        text contrast of at least 4.5:1 for nav tabs, code and the footer."""
        context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme)  # type: ignore[arg-type]
        page = context.new_page()
        found = {}
        for language in LANGUAGES:
            for name in page_names():
                page.goto(base_url + page_path(name, language), wait_until="networkidle")
                page.evaluate(AXE)
                result = page.evaluate(
                    "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})")
                bad = [f"{v['id']}: {[n['target'] for n in v['nodes'][:3]]}"
                       for v in result["violations"] if v["impact"] in ("serious", "critical")]
                if bad:
                    found[page_path(name, language) or "/"] = bad
        context.close()
        assert found == {}
