"""The tokenizer playground in Debian's chromium (issue 17): it tokenizes in the browser exactly
as Python does, loads lazily and only from the site, and works by keyboard, in dark mode, at
390 px, in both languages, and leaves the page as it was without JavaScript.

Set PLAYGROUND_SHOTS=/some/folder to keep screenshots (desktop, mobile, dark).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

import test_browser
from llmdocs.playground import TOKENIZERS, python_truth
from llmdocs.project import Project
from site_helpers import REPO, build, copy_real_site, serve

pytestmark = pytest.mark.browser

browser = test_browser.browser  # the same module-scoped chromium as the site's browser tests
PAGES = ["tokenizer/", "tokenizer-compare/", "en/tokenizer/", "en/tokenizer-compare/"]
WIDGET = ".llmdocs-playground"
FIRST_LOAD_LIMIT = 1_000_000
SHOTS = os.environ.get("PLAYGROUND_SHOTS", "")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real site, built into www/ and served on 127.0.0.1 (at the root: links are relative)."""
    root = tmp_path_factory.mktemp("playground")
    result = build(copy_real_site(root), site_dir=root / "www")
    assert result.returncode == 0, result.log[-4000:]
    warnings = [line for line in result.log.splitlines()
                if line.startswith("WARNING") and "llmdocs: playground" in line]
    assert warnings == []
    with serve(root / "www") as url:
        yield url


def new_page(browser: Browser, **options: object) -> tuple[BrowserContext, Page, list[str]]:
    """A page in a fresh context, and the list its requests are recorded into."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **options})
    context.set_default_timeout(15_000)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: m.type == "error" and requests.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: requests.append(f"error: {e}"))
    return context, page, requests


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context, page, _ = new_page(browser)
    yield page
    context.close()


def open_playground(page: Page) -> None:
    """Open the widget and wait until it shows a tokenization."""
    widget = page.locator(WIDGET)
    widget.locator("summary").click()
    page.wait_for_function(
        "document.querySelector('.llmdocs-playground').dataset.state === 'ready'")


def chips(page: Page) -> list[list[str]]:
    """Each chip's token, id and (byte-level BPE) bytes, as shown."""
    return page.eval_on_selector_all(
        f"{WIDGET} .llmdocs-playground__chips > li",
        "items => items.map(li => [...li.children].map(c => c.textContent))",
    )


def page_weight(page: Page) -> int:
    """Bytes of the document and every resource it loaded (uncompressed, as served here)."""
    return int(page.evaluate("""() => performance.getEntries()
        .filter(e => e.entryType === 'navigation' || e.entryType === 'resource')
        .reduce((sum, e) => sum + (e.encodedBodySize || 0), 0)"""))


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.locator(WIDGET).scroll_into_view_if_needed()
        page.locator(WIDGET).screenshot(path=str(Path(SHOTS) / f"{name}.png"))


class TestTruth:
    def test_browser_tokenizes_exactly_as_python(self, page: Page, base_url: str) -> None:
        """Every stored truth case gives the same tokens and ids in the browser as in Python,
        for both tokenizers."""
        truth = python_truth(Project(REPO))
        assert len(truth.cases) >= 15
        page.goto(base_url + "tokenizer-compare/")
        open_playground(page)
        texts = {key: case["text"] for key, case in truth.cases.items()}
        browser_side = page.evaluate("""async ([names, texts]) => {
            const root = document.querySelector('.llmdocs-playground');
            const out = {};
            for (const [key, text] of Object.entries(texts)) {
                out[key] = {};
                for (const name of names) out[key][name] = await root.llmdocsTokenize(name, text);
            }
            return out;
        }""", [list(TOKENIZERS), texts])
        differences = [
            (key, name) for key, case in truth.cases.items() for name in TOKENIZERS
            if browser_side[key][name] != {"ids": case[name]["ids"],
                                           "tokens": case[name]["tokens"]}
        ]
        assert differences == []

    def test_chips_show_ids_counts_and_bytes(self, page: Page, base_url: str) -> None:
        """爱 in byte-level BPE: three chips, each with its id and its UTF-8 byte; the counts."""
        case = python_truth(Project(REPO)).cases["love"]["chat"]
        page.goto(base_url + "tokenizer/")
        open_playground(page)
        page.locator(f"{WIDGET} textarea").fill("爱")
        page.wait_for_function("""() => document.querySelector(
            '.llmdocs-playground__stats').textContent.startsWith('3 ')""")
        assert chips(page) == [
            [token, str(token_id), byte]
            for token, token_id, byte in zip(case["tokens"], case["ids"], ["E7", "88", "B1"],
                                             strict=True)
        ]
        stats = page.locator(f"{WIDGET} .llmdocs-playground__stats").inner_text()
        assert stats == "3 个词元 · 3 字节 · 1 个字符"

    def test_presets_are_the_chapters_examples(self, page: Page, base_url: str) -> None:
        """A preset button puts its chapter example in the box; WordPiece chips carry no bytes."""
        truth = python_truth(Project(REPO)).cases["chinese"]
        page.goto(base_url + "tokenizer-compare/")
        open_playground(page)
        page.locator(f"{WIDGET} select").select_option("bert")
        page.locator(f"{WIDGET} button", has_text="中文").first.click()
        page.wait_for_function("""() => {
            const root = document.querySelector('.llmdocs-playground');
            return root.dataset.tokenizer === 'bert' && root.dataset.state === 'ready';
        }""")
        assert page.locator(f"{WIDGET} textarea").input_value() == truth["text"]
        assert chips(page) == [[t, str(i)] for t, i in
                               zip(truth["bert"]["tokens"], truth["bert"]["ids"], strict=True)]


class TestLoading:
    @pytest.mark.parametrize("path", PAGES)
    def test_first_load_is_light_and_lazy(self, browser: Browser, base_url: str,
                                          path: str) -> None:
        """The page ships the collapsed widget and its loader only; the bundle and the
        tokenizer file come on opening, from the site; the first load stays under 1 MB."""
        context, page, requests = new_page(browser)
        page.goto(base_url + path, wait_until="networkidle")
        widget = page.locator(WIDGET)
        assert widget.is_visible()
        assert widget.locator("details").get_attribute("open") is None
        assert not [u for u in requests if "playground.js" in u or "tokenizer.json" in u]
        first = page_weight(page)
        assert first < FIRST_LOAD_LIMIT, first
        open_playground(page)
        page.wait_for_load_state("networkidle")
        opened = page_weight(page)
        assert any(u.endswith("/assets/playground/playground.js") for u in requests)
        assert any(u.endswith("/assets/playground/chat.tokenizer.json") for u in requests)
        assert not any(u.endswith("bert.tokenizer.json") for u in requests)  # not chosen yet
        assert [u for u in requests if not u.startswith(base_url)] == []  # nor any error
        print(f"{path}: first load {first:,} bytes; after opening {opened:,} bytes")
        context.close()

    def test_without_javascript_the_chapter_is_unchanged(self, browser: Browser,
                                                         base_url: str) -> None:
        """Without JavaScript the widget stays hidden, a note says why, the outputs show."""
        context, page, requests = new_page(browser, java_script_enabled=False)
        page.goto(base_url + "tokenizer-compare/")
        assert not page.locator(WIDGET).is_visible()
        assert "需要 JavaScript" in page.locator(".llmdocs-playground__noscript").inner_text()
        assert page.locator("div.llmdocs-output").count() > 3
        assert page.locator("div.llmdocs-output").first.is_visible()
        assert not [u for u in requests if "playground" in u]
        context.close()


class TestUsable:
    def test_a_long_text_keeps_the_page_responsive(self, page: Page, base_url: str) -> None:
        """A pasted long text is counted in full; the chips stop at 2000 and say how many more."""
        page.goto(base_url + "en/tokenizer-compare/")
        open_playground(page)
        page.locator(f"{WIDGET} textarea").fill(" ".join(["hello"] * 5000))
        page.locator(".llmdocs-playground__more").wait_for()
        stats = page.locator(f"{WIDGET} .llmdocs-playground__stats").inner_text()
        assert stats == "5000 tokens · 29999 bytes · 29999 characters"
        assert page.locator(f"{WIDGET} .llmdocs-playground__chips > li").count() == 2001
        assert page.locator(".llmdocs-playground__more").inner_text() == "+3000"


    def test_keyboard_only(self, page: Page, base_url: str) -> None:
        """Tab reaches the summary, the text box, the presets and the tokenizer choice."""
        page.goto(base_url + "en/tokenizer/")
        page.locator(f"{WIDGET} summary").focus()
        page.keyboard.press("Enter")
        page.wait_for_function(
            "document.querySelector('.llmdocs-playground').dataset.state === 'ready'")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") == "TEXTAREA"
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.type("Hello world!")
        page.wait_for_function("""() => document.querySelector(
            '.llmdocs-playground__stats').textContent.startsWith('3 tokens')""")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.dataset.text") is not None
        page.keyboard.press("Enter")
        first_preset = page.evaluate("document.activeElement.dataset.text")
        assert page.locator(f"{WIDGET} textarea").input_value() == first_preset
        for _ in range(page.locator(f"{WIDGET} button[data-text]").count()):
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") == "SELECT"
        page.keyboard.press("ArrowDown")
        page.wait_for_function(
            "document.querySelector('.llmdocs-playground').dataset.tokenizer === 'bert'")

    @pytest.mark.parametrize(("path", "words"), [
        ("tokenizer/", ["动手试试", "文本", "分词器", "示例"]),
        ("en/tokenizer/", ["Try it", "Text", "Tokenizer", "Examples"]),
    ])
    def test_labels_in_the_page_language(self, page: Page, base_url: str, path: str,
                                         words: list[str]) -> None:
        """Summary, labels and the presets' group name are in the page's language."""
        page.goto(base_url + path)
        open_playground(page)
        text = page.locator(WIDGET).inner_text()
        label = page.locator(f"{WIDGET} [role=group]").get_attribute("aria-label") or ""
        for word in words:
            assert word in text or word == label

    def test_dark_mode_is_legible(self, browser: Browser, base_url: str) -> None:
        """In Material's dark scheme the text box, labels, presets and chips keep 4.5:1 contrast."""
        context, page, _ = new_page(browser, color_scheme="dark")
        page.goto(base_url + "tokenizer/")
        assert page.locator("body").get_attribute("data-md-color-scheme") == "slate"
        open_playground(page)
        shot(page, "dark")
        ratios = page.evaluate("""() => {
            const rgb = (s) => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
            const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255;
                return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
                .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
            const ratio = (a, b) => {
                const [x, y] = [lum(rgb(a)), lum(rgb(b))].sort((p, q) => q - p);
                return (x + 0.05) / (y + 0.05);
            };
            const page = getComputedStyle(document.querySelector('.md-main')).backgroundColor;
            const pageBg = page === 'rgba(0, 0, 0, 0)' ?
                getComputedStyle(document.body).backgroundColor : page;
            const box = getComputedStyle(document.querySelector('.llmdocs-playground textarea'));
            const chip = getComputedStyle(document.querySelector('.llmdocs-playground__chips li'));
            const label = getComputedStyle(document.querySelector('.llmdocs-playground label'));
            const button = getComputedStyle(
                document.querySelector('.llmdocs-playground__presets .md-button'));
            return [ratio(box.color, box.backgroundColor), ratio(chip.color, chip.backgroundColor),
                    ratio(label.color, pageBg), ratio(button.color, pageBg)];
        }""")
        assert min(ratios) >= 4.5, ratios
        context.close()

    def test_usable_at_390_px(self, browser: Browser, base_url: str) -> None:
        """At 390 px nothing overflows sideways and the controls fit the screen."""
        context, page, _ = new_page(browser, viewport={"width": 390, "height": 844})
        page.goto(base_url + "tokenizer-compare/")
        open_playground(page)
        page.locator(f"{WIDGET} button", has_text="代码").first.click()
        page.wait_for_timeout(200)
        shot(page, "mobile")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        for selector in ("textarea", "select", ".llmdocs-playground__chips"):
            box = page.locator(f"{WIDGET} {selector}").bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        context.close()

    def test_desktop_screenshot(self, page: Page, base_url: str) -> None:
        """The opened widget on a desktop page shows chips for the default example."""
        page.goto(base_url + "tokenizer/")
        open_playground(page)
        assert len(chips(page)) == len(
            python_truth(Project(REPO)).cases["email"]["chat"]["ids"])
        shot(page, "desktop")
        text = json.dumps(chips(page)[:2], ensure_ascii=False)
        assert "Write" in text
