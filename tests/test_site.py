"""Real `mkdocs build` runs: the fixture site (executed at build time), its failure modes,
the plugin switched off, and the real site with its search index and its resources."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import nbformat
import pytest
from bs4 import BeautifulSoup

from site_helpers import (
    IGNORED,
    REPO,
    Build,
    append_line,
    build,
    copy_fixture_site,
    copy_real_site,
    replace_in,
)

pytestmark = pytest.mark.site

CELLS = 5  # code cells in tests/fixture/site/snippets/basics.py
ZH_PROSE = "打招呼的代码单元"
EN_PROSE = "A cell that says hello"
TOKENS = "hello <s> & </s> <|im_start|>"
NOTEBOOKS = ("notebooks/basics/basics.ipynb", "en/notebooks/basics/basics.ipynb")
# A word from the middle of a sentence of docs/run-llm.zh.md (the browser test searches it).
ZH_WORD = "邮件"


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def log_tail(result: Build) -> str:
    return f"\n--- mkdocs log ({result.project}) ---\n{result.log[-4000:]}"


@dataclass
class TwoBuilds:
    """The fixture site built twice with LLMDOCS_EXECUTE=1, and what each left behind."""

    first: Build
    second: Build
    notebooks_first: dict[str, bytes]
    notebooks_second: dict[str, bytes]
    cache_mtimes_first: dict[str, int]
    cache_mtimes_second: dict[str, int]


def _notebooks(result: Build) -> tuple[dict[str, bytes], dict[str, int]]:
    site = {path: (result.site / path).read_bytes() for path in NOTEBOOKS}
    cache = result.project / "notebooks"  # committed there, for Colab
    mtimes = {str(p.relative_to(cache)): p.stat().st_mtime_ns for p in cache.rglob("*.ipynb")}
    return site, mtimes


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> TwoBuilds:
    project = copy_fixture_site(tmp_path_factory.mktemp("two-builds"))
    first = build(project, execute=True)
    assert first.returncode == 0, log_tail(first)
    notebooks_first, mtimes_first = _notebooks(first)
    second = build(project, execute=True)
    assert second.returncode == 0, log_tail(second)
    notebooks_second, mtimes_second = _notebooks(second)
    return TwoBuilds(first, second, notebooks_first, notebooks_second, mtimes_first, mtimes_second)


@pytest.fixture
def executed_copy(two_builds: TwoBuilds, tmp_path: Path) -> Path:
    """A private copy of the fixture project with its stored outputs (no site, no caches)."""
    project = tmp_path / "project"
    shutil.copytree(two_builds.second.project, project, ignore=IGNORED)
    assert (project / "snippets" / "outputs" / "basics.json").is_file()
    return project


@pytest.fixture(scope="module")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Build:
    result = build(copy_real_site(tmp_path_factory.mktemp("real")), strict=True)
    assert result.returncode == 0, log_tail(result)
    return result


class TestBuildTimeExecution:
    def test_first_build_executes_the_chapter(self, two_builds: TwoBuilds) -> None:
        """The first build runs every cell of the stale chapter, once, and stores the outputs."""
        first = two_builds.first
        assert f"llmdocs: executed {CELLS} cells in 1 chapter(s) (basics)" in first.log
        assert sorted(first.executed_counts()) == [0, CELLS]  # zh runs it; en finds it fresh
        assert (first.project / "snippets" / "outputs" / "basics.json").is_file()

    def test_second_build_executes_nothing(self, two_builds: TwoBuilds) -> None:
        """The second build executes 0 cells and says that every stored output is fresh."""
        second = two_builds.second
        assert second.executed_counts() == [0, 0]
        fresh = "llmdocs: executed 0 cells in 0 chapter(s); every stored output is fresh"
        assert fresh in second.log

    def test_notebooks_byte_identical_between_builds(self, two_builds: TwoBuilds) -> None:
        """Rebuilding without changes yields the same notebook bytes and never rewrites them."""
        assert two_builds.notebooks_first == two_builds.notebooks_second
        assert len(two_builds.cache_mtimes_first) == 2
        assert two_builds.cache_mtimes_first == two_builds.cache_mtimes_second


class TestRenderedPages:
    def test_tokens_shown_literally(self, two_builds: TwoBuilds) -> None:
        """<s>, </s> and <|im_start|> printed by a cell are escaped in HTML and read as text."""
        html = two_builds.second.page("index.html")
        assert "hello &lt;s&gt; &amp; &lt;/s&gt; &lt;|im_start|&gt;" in html
        page = soup(html)
        output = page.select_one('div.llmdocs-output.no-copy[data-cell="basics:hello"]')
        assert output is not None
        assert TOKENS in output.get_text()
        assert page.find("s") is None  # never parsed into a strikethrough element

    def test_every_output_rendered_once_with_provenance(self, two_builds: TwoBuilds) -> None:
        """Each of the five directives yields one output block; the provenance line, the same
        for all of them, appears once (after the first)."""
        page = soup(two_builds.second.page("index.html"))
        cells = [div["data-cell"] for div in page.select("div.llmdocs-output")]
        assert cells == [f"basics:{name}" for name in
                         ("hello", "shared-state", "figure", "html", "expected-error")]
        provenance = page.select("p.llmdocs-provenance")
        assert len(provenance) == 1 and CELLS == 5
        output = provenance[0].find_previous_sibling("div", class_="llmdocs-output")
        assert output is not None and output["data-cell"] == "basics:hello"
        assert "value is 42" in page.select_one('[data-cell="basics:shared-state"]').get_text()
        error = page.select_one('[data-cell="basics:expected-error"] pre.llmdocs-error')
        assert error is not None and "shown on the page, on purpose" in error.get_text()

    def test_figure_alt_in_each_language(self, two_builds: TwoBuilds) -> None:
        """The figure is a PNG file next to the site whose alt text is the directive's."""
        expected = {"index.html": "两根柱子的柱状图", "en/index.html": "A bar chart with two bars"}
        for path, alt in expected.items():
            image = soup(two_builds.second.page(path)).select_one("img.llmdocs-image")
            assert image is not None, path
            assert image["alt"] == alt
            assert image["src"].endswith(".png") and "assets/llmdocs/" in image["src"]
            target = (two_builds.second.site / path).parent / str(image["src"])
            assert target.resolve().read_bytes().startswith(b"\x89PNG")

    def test_provenance_in_page_language(self, two_builds: TwoBuilds) -> None:
        """The provenance line reads in Chinese on the zh page and in English on the en page."""
        zh = [p.get_text() for p in soup(two_builds.second.page("index.html"))
              .select("p.llmdocs-provenance")]
        en = [p.get_text() for p in soup(two_builds.second.page("en/index.html"))
              .select("p.llmdocs-provenance")]
        assert zh and all(t.startswith("输出来自 ") and " · 捕获于 " in t for t in zh)
        assert en and all(t.startswith("Output from ") and " · captured " in t for t in en)

    def test_page_languages(self, two_builds: TwoBuilds) -> None:
        """The zh page is the site root in Chinese, the en page lives under /en/ in English."""
        zh = soup(two_builds.second.page("index.html"))
        en = soup(two_builds.second.page("en/index.html"))
        assert zh.html["lang"] == "zh" and en.html["lang"] == "en"
        assert ZH_PROSE in zh.get_text() and EN_PROSE not in zh.get_text()
        assert EN_PROSE in en.get_text() and ZH_PROSE not in en.get_text()
        assert en.select_one('[data-label="Output"]') is not None

    def test_html_output_sanitized_and_code_hidden(self, two_builds: TwoBuilds) -> None:
        """show=output hides the code; the cell's HTML keeps <b> and loses its <script>."""
        page = soup(two_builds.second.page("index.html"))
        html_output = page.select_one('[data-cell="basics:html"] .llmdocs-html')
        assert html_output is not None
        assert str(html_output) == '<div class="llmdocs-html"><b>bold</b></div>'
        assert page.find("script", string=re.compile("alert")) is None
        code = " ".join(block.get_text() for block in page.select("div.highlight code"))
        assert "value = 6 * 7" in code and "HTML(" not in code


class TestNotebooks:
    @pytest.mark.parametrize(("prefix", "mine", "other"),
                             [("", ZH_PROSE, EN_PROSE), ("en/", EN_PROSE, ZH_PROSE)])
    def test_rendered_html_with_page_prose(
        self, two_builds: TwoBuilds, prefix: str, mine: str, other: str
    ) -> None:
        """Each language's notebook is rendered HTML (not raw JSON) with that language's prose."""
        html = two_builds.second.page(f"{prefix}notebooks/basics/index.html")
        assert '"cell_type"' not in html and '"nbformat"' not in html
        page = soup(html)
        assert page.select(".jp-Cell") and page.select(".jp-OutputArea")
        text = page.get_text()
        assert mine in text and other not in text
        assert TOKENS in text

    @pytest.mark.parametrize("path", NOTEBOOKS)
    def test_ipynb_downloadable_next_to_page(self, two_builds: TwoBuilds, path: str) -> None:
        """The .ipynb sits next to the notebook page, with the chapter's cells and outputs."""
        notebook = nbformat.reads(
            (two_builds.second.site / path).read_text(encoding="utf-8"), as_version=4
        )
        nbformat.validate(notebook)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert [cell.metadata["name"] for cell in code] == [
            "setup", "hello", "shared-state", "figure", "html", "expected-error"]
        assert code[1].outputs[0]["text"] == TOKENS + "\n"
        language = "en" if path.startswith("en/") else "zh"
        assert notebook.metadata["llmdocs"]["language"] == language

    @pytest.mark.parametrize(("path", "label"), [
        ("index.html", "以 Jupyter 笔记本查看和下载本章"),
        ("en/index.html", "View and download this chapter as a Jupyter notebook"),
    ])
    def test_page_links_to_its_notebook(self, two_builds: TwoBuilds, path: str, label: str) -> None:
        """Under its title, the chapter page links, in its language, to the notebook page and
        to the .ipynb download, both of which exist."""
        page = soup(two_builds.second.page(path))
        links = page.select_one("p.llmdocs-notebook-links")
        assert links is not None and links["title"] == label
        assert links.find_previous_sibling("h1") is not None  # at the top, after the title
        view, download = links.select("a")[:2]
        target = urlsplit(urljoin(f"http://site/{path}", view["href"])).path.lstrip("/")
        assert (two_builds.second.site / target / "index.html").is_file()
        assert download.has_attr("download")
        target = urlsplit(urljoin(f"http://site/{path}", download["href"])).path.lstrip("/")
        assert target.endswith("basics.ipynb") and (two_builds.second.site / target).is_file()


class TestFailureModes:
    @pytest.mark.parametrize("case", ["missing", "code-stale", "unknown-chapter", "unknown-cell"])
    def test_strict_build_fails_naming_page_line_and_cell(
        self, case: str, executed_copy: Path, tmp_path: Path
    ) -> None:
        """--strict fails on a missing, code-stale, unknown-chapter or unknown-cell embed, and
        the log names the page, the line and CHAPTER:CELL."""
        project = executed_copy
        page = project / "docs" / "index.zh.md"
        if case == "missing":
            project = copy_fixture_site(tmp_path / "fresh")
            expected = ["index.zh.md:5: basics:hello: no stored output; run `llmdocs run basics`"]
        elif case == "code-stale":
            replace_in(project / "snippets" / "basics.py", "value = 6 * 7", "value = 6 * 8")
            expected = ["index.zh.md:5: basics:hello: stored output is stale (code changed)"]
        elif case == "unknown-chapter":
            line = append_line(page, "<!-- llmdocs nope:hello -->")
            expected = [f"index.zh.md:{line}: nope:hello: ", "unknown chapter 'nope'"]
        else:
            line = append_line(page, "<!-- llmdocs basics:nope -->")
            expected = [f"index.zh.md:{line}: basics:nope: ", "has no cell 'nope'"]
        result = build(project, strict=True)
        assert result.returncode != 0, log_tail(result)
        assert "Aborted with" in result.log
        for text in expected:
            assert text in result.log, log_tail(result)

    def test_stale_output_builds_with_notice(self, executed_copy: Path) -> None:
        """Without --strict a code-stale output still builds, under a visible Chinese notice."""
        replace_in(executed_copy / "snippets" / "basics.py", "value = 6 * 7", "value = 6 * 8")
        result = build(executed_copy)
        assert result.returncode == 0, log_tail(result)
        assert "WARNING" in result.log and "stored output is stale" in result.log
        page = soup(result.page("index.html"))
        notices = page.select("div.admonition.warning.llmdocs-stale")
        assert len(notices) == CELLS
        assert notices[0].select_one(".admonition-title").get_text() == "此输出可能已过期"
        assert "value = 6 * 8" in page.select_one("div.highlight code").get_text()
        assert TOKENS in page.select_one('[data-cell="basics:hello"]').get_text()
        en = soup(result.page("en/index.html")).select_one(".llmdocs-stale .admonition-title")
        assert en is not None and en.get_text() == "This output may be out of date"

    def test_malformed_directive_fails_even_without_strict(self, executed_copy: Path) -> None:
        """A malformed directive aborts the build with the page and line in the error."""
        line = append_line(executed_copy / "docs" / "index.en.md", "<!-- llmdocs basics -->")
        result = build(executed_copy)
        assert result.returncode != 0
        assert f"index.en.md:{line}: malformed llmdocs directive" in result.log, log_tail(result)


class TestPluginDisabled:
    def test_disabled_plugin_renders_and_runs_nothing(self, tmp_path: Path) -> None:
        """enabled: false builds the site with no outputs, no notebooks and no execution."""
        project = copy_fixture_site(tmp_path)
        replace_in(project / "mkdocs.yml", "  - llmdocs\n", "  - llmdocs:\n      enabled: false\n")
        result = build(project, execute=True, strict=True)
        assert result.returncode == 0, log_tail(result)
        assert "llmdocs: executed" not in result.log
        assert not (project / "snippets" / "outputs").exists()
        html = result.page("index.html")
        assert "<!-- llmdocs basics:hello -->" in html  # left as the comment it is
        for marker in ("llmdocs-output", "llmdocs-provenance", "llmdocs.css", "llmdocs-stale"):
            assert marker not in html
        assert not (result.site / "notebooks").exists()


class TestRealSite:
    def test_builds_strict(self, real_site: Build) -> None:
        """The repository's own site builds with --strict, every page in both languages."""
        for source in sorted((REPO / "docs").glob("*.zh.md")):
            stem = source.name.removesuffix(".zh.md")
            folder = "" if stem == "index" else f"{stem}/"
            assert (real_site.site / folder / "index.html").is_file(), source
            assert (real_site.site / "en" / folder / "index.html").is_file(), source

    def test_outputs_that_differ_by_device_say_why_next_to_them(self, real_site: Build) -> None:
        """Every cell whose compare= setting says "devices": "kinds" has, right under its
        output on each page that shows it, its reason in the page's language; no other
        output has one."""
        from llmdocs.project import Project

        project = Project(REPO)
        marked = {f"{name}:{cell.name}": cell.compare["why"]
                  for name in project.chapter_names() for cell in project.chapter(name).cells
                  if cell.compare.get("devices") == "kinds"}
        assert {"decoding:temperature", "next-token:sampled", "setup:device"} <= set(marked)
        seen = set()
        for language, prefix, opening in (("zh", "", "这段输出在 CPU 和 GPU 上并不相同："),
                                          ("en", "en/", "A CPU and a GPU print this")):
            for path in sorted((real_site.site / prefix).glob("*/index.html")):
                for output in soup(path.read_text(encoding="utf-8")).select("div.llmdocs-output"):
                    note = output.find_next_sibling()
                    has_note = note is not None and "llmdocs-device-note" in note.get("class", [])
                    assert has_note == (output["data-cell"] in marked), (path, output["data-cell"])
                    if has_note:
                        text = note.get_text()
                        assert text.startswith(opening) and marked[output["data-cell"]][
                            language].rstrip(".。") in text, (path, text)
                        seen.add(output["data-cell"])
        assert seen == set(marked)

    def test_a_404_page_in_each_language(self, real_site: Build) -> None:
        """/404.html speaks Chinese and /en/404.html English, each in its own language's shell."""
        zh = soup(real_site.page("404.html"))
        en = soup(real_site.page("en/404.html"))
        assert zh.select_one("html")["lang"] == "zh" and "页面不存在" in zh.h1.get_text()
        assert en.select_one("html")["lang"] == "en" and "Page not found" in en.h1.get_text()

    def test_notebook_pages_share_one_stylesheet(self, real_site: Build) -> None:
        """Notebook pages link the JupyterLab CSS as one shared file instead of inlining it."""
        pages = sorted(real_site.site.glob("notebooks/*/index.html"))
        assert pages
        hrefs = set()
        for page in pages:
            html = page.read_text(encoding="utf-8")
            assert len(html) < 300_000, page  # the inline CSS alone was ~575 KB
            links = soup(html).select('link[rel="stylesheet"][href*="assets/llmdocs/"]')
            hrefs |= {(page.parent / link["href"]).resolve() for link in links}
        assert len(hrefs) == 1 and next(iter(hrefs)).stat().st_size > 100_000

    def test_no_third_party_resources(self, real_site: Build) -> None:
        """No page loads a script, stylesheet, font, image or frame from another host."""
        offenders: list[str] = []
        pages = sorted(real_site.site.rglob("*.html"))
        assert len(pages) > 10
        not_loaded = {"canonical", "alternate", "prev", "next"}
        for path in pages:
            html = path.read_text(encoding="utf-8")
            if "fonts.googleapis.com" in html or "fonts.gstatic.com" in html:
                offenders.append(f"{path}: Google Fonts")
            for tag in soup(html).find_all(["script", "link", "img", "iframe", "source",
                                            "video", "audio", "embed", "object"]):
                if tag.name == "link" and not_loaded & set(tag.get("rel") or []):
                    continue
                for attribute in ("src", "href", "data", "srcset"):
                    value = (tag.get(attribute) or "").strip()
                    if re.match(r"(?i)(https?:)?//", value):
                        offenders.append(f"{path.relative_to(real_site.site)}: <{tag.name} "
                                         f"{attribute}={value!r}>")
        for css in real_site.site.rglob("*.css"):
            if re.search(r"fonts\.(googleapis|gstatic)\.com|@import\s+url\(\s*['\"]?https?:",
                         css.read_text(encoding="utf-8")):
                offenders.append(f"{css}: remote font or import")
        assert offenders == []

    def test_repository_link_fetches_nothing(self, real_site: Build) -> None:
        """The header's repository link is a plain link: no data-md-component that calls GitHub."""
        page = soup(real_site.page("index.html"))
        source = page.select_one("a.md-source")
        assert source is not None and source["href"].startswith("https://github.com/")
        assert page.select('[data-md-component="source"]') == []

    def test_notebook_pages_offer_the_ipynb(self, real_site: Build) -> None:
        """Every notebook page carries a download link to the .ipynb copied next to it."""
        pages = sorted(real_site.site.glob("notebooks/*/index.html"))
        pages += sorted(real_site.site.glob("en/notebooks/*/index.html"))
        assert len(pages) >= 2
        for page in pages:
            link = soup(page.read_text(encoding="utf-8")).select_one("a.llmdocs-download[download]")
            assert link is not None, page
            assert link["href"].endswith(".ipynb") and (page.parent / link["href"]).is_file()


class TestSearchIndex:
    @staticmethod
    def index(real_site: Build) -> dict:
        return json.loads((real_site.site / "search" / "search_index.json").read_text("utf-8"))

    def test_separator_splits_on_zero_width_space(self, real_site: Build) -> None:
        """mkdocs.yml's search separator, and so the built index's, splits on U+200B."""
        yml = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
        separator = re.search(r"^\s*separator:\s*'(.*)'\s*$", yml, re.M)
        assert separator is not None and r"\u200b" in separator.group(1)
        assert r"\u200b" in self.index(real_site)["config"]["separator"]

    def test_chinese_text_segmented_by_jieba(self, real_site: Build) -> None:
        """The zh pages' text is cut into jieba words with zero-width spaces; a mid-sentence
        word of docs/run-llm.zh.md is one of them."""
        source = (REPO / "docs" / "run-llm.zh.md").read_text(encoding="utf-8")
        assert re.search(rf"[\u4e00-\u9fff]{ZH_WORD}[\u4e00-\u9fff，。]", source), (
            f"{ZH_WORD!r} no longer sits mid-sentence in docs/run-llm.zh.md; pick another word")
        docs = [d for d in self.index(real_site)["docs"] if d["location"].startswith("run-llm/")]
        text = " ".join(d["text"] for d in docs)
        assert f"\u200b{ZH_WORD}\u200b" in text
        assert text.count("\u200b") > 100

    def test_locations_unique_and_no_notebooks(self, real_site: Build) -> None:
        """Each indexed section has its own location (Material's search throws on repeats);
        notebooks, which repeat their pages, are left out. Each language has its own index
        (hooks/search_per_language.py): /en/ pages search en/search/search_index.json."""
        english = json.loads(
            (real_site.site / "en" / "search" / "search_index.json").read_text("utf-8"))
        for index in (self.index(real_site), english):
            locations = [d["location"] for d in index["docs"]]
            assert len(locations) == len(set(locations))
            assert not [loc for loc in locations if "notebooks/" in loc]
            assert any(loc.startswith("run-llm/") for loc in locations)
            assert not [loc for loc in locations if loc.startswith("en/")]
        assert english["config"]["lang"] == ["en"]
        titles = {d["location"]: d["title"] for d in english["docs"]}
        assert titles["run-llm/"] == "Running an LLM"

    def test_no_stemmer(self, real_site: Build) -> None:
        """The index pipeline has no stemmer, whose stems wildcard queries never matched."""
        assert "stemmer" not in self.index(real_site)["config"]["pipeline"]
