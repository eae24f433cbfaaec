"""The tokenizer playground without a browser (issue 17): the build-time check that holds the
site's tokenizer files and Tokenizers.js's results to the stored Python run, the widget's
HTML, and the committed files the light install serves."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from llmdocs.mkdocs_plugin.playground import MARKER, PRESETS, Playground
from llmdocs.playground import ASSETS, JS_CHECK, TOKENIZERS, problems, python_truth, tokenizer_file
from llmdocs.project import Project
from site_helpers import REPO, build, copy_real_site, replace_in

PAGES = ("tokenizer", "tokenizer-compare")
CASE_KINDS = ("english", "chinese", "code", "emoji", "numbers", "whitespace")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A copy of what the check reads: the stored chapter and docs/assets/playground/."""
    (tmp_path / "snippets" / "outputs").mkdir(parents=True)
    shutil.copy2(REPO / "snippets" / "outputs" / "playground.json",
                 tmp_path / "snippets" / "outputs" / "playground.json")
    shutil.copytree(REPO / ASSETS, tmp_path / ASSETS)
    return Project(tmp_path)


class TestCheck:
    def test_committed_files_agree(self) -> None:
        """The checkout's tokenizer files and js-check.json agree with the stored Python run."""
        assert problems(Project(REPO)) == []

    def test_truth_cases_cover_the_kinds_of_input(self) -> None:
        """The fixed inputs hold English, Chinese, code, emoji, numbers and whitespace runs,
        each tokenized by both tokenizers."""
        cases = python_truth(Project(REPO)).cases
        assert set(CASE_KINDS) <= set(cases)
        assert re.search(r"\s{3,}", cases["whitespace"]["text"])
        for case in cases.values():
            for name in TOKENIZERS:
                assert len(case[name]["ids"]) == len(case[name]["tokens"])

    def test_a_different_id_is_named(self, project: Project) -> None:
        """When Tokenizers.js gave another id, the check names the case, tokenizer and token."""
        path = project.root / ASSETS / JS_CHECK
        data = json.loads(path.read_text(encoding="utf-8"))
        chinese = next(case for case in data["cases"] if case["case"] == "chinese")
        chinese["chat"]["ids"][2] += 1
        path.write_text(json.dumps(data), encoding="utf-8")
        found = problems(project)
        assert len(found) == 1
        assert "'chinese', chat" in found[0] and "token 2" in found[0]

    def test_a_missing_case_is_named(self, project: Project) -> None:
        """A truth case without a Tokenizers.js result asks for `npm run check`."""
        path = project.root / ASSETS / JS_CHECK
        data = json.loads(path.read_text(encoding="utf-8"))
        data["cases"] = [c for c in data["cases"] if c["case"] != "emoji"]
        path.write_text(json.dumps(data), encoding="utf-8")
        assert problems(project) == [
            "playground: case 'emoji' has no Tokenizers.js result; run `npm run check` in "
            "playground/ (see playground/README.md)"
        ]

    def test_a_changed_tokenizer_file_is_named(self, project: Project) -> None:
        """A tokenizer file that is not the one the chapter ran is reported with the remedy."""
        path = project.root / ASSETS / tokenizer_file("bert")
        path.write_text(path.read_text(encoding="utf-8").replace('"[UNK]"', '"[unk]"', 1),
                        encoding="utf-8")
        found = problems(project)
        assert len(found) == 1
        assert "bert.tokenizer.json is not the tokenizer" in found[0]
        assert "python -m llmdocs.playground export" in found[0]

    def test_a_missing_chapter_output_is_reported(self, project: Project) -> None:
        """Without the stored chapter the check says how to produce it."""
        (project.store_dir / "playground.json").unlink()
        found = problems(project)
        assert len(found) == 1 and "llmdocs run" in found[0]

    def test_a_site_without_the_playground_is_fine(self, tmp_path: Path) -> None:
        """No docs/assets/playground/: nothing to check."""
        assert problems(Project(tmp_path)) == []


class TestWidget:
    @pytest.mark.parametrize(("language", "summary", "label"), [
        ("zh", "动手试试", "分词器"), ("en", "Try it", "Tokenizer"),
    ])
    def test_labels_and_presets(self, language: str, summary: str, label: str) -> None:
        """The widget is hidden until its loader runs, labelled in the page's language, with
        the chapters' examples as buttons; only the loader script comes with the page."""
        html = Playground(Project(REPO)).page_html(
            "<p>a</p>\n<!-- tokenizer-playground -->\n<p>b</p>", language, "en/tokenizer/",
            pytest.fail)
        assert '<div class="llmdocs-playground" hidden data-search-exclude' in html
        assert summary in html and label in html
        assert html.count('<button type="button"') == len(PRESETS)
        assert 'data-text="def add(a, b):\n    return a + b"' in html
        assert 'data-base="../../assets/playground/"' in html
        assert re.findall(r'<script src="([^"]+)"', html) == [
            "../../assets/playground/loader.js"]
        assert "<noscript>" in html

    def test_text_is_escaped(self, project: Project) -> None:
        """Preset texts with markup are attribute-escaped, never markup."""
        playground = Playground(project)
        playground.page_html("<!-- tokenizer-playground -->", "en", "x/", pytest.fail)
        assert playground._truth is not None
        playground._truth.cases["email"]["text"] = '"><script>alert(1)</script>'
        html = playground.widget("en", "../")
        assert "<script>alert" not in html
        assert "&quot;&gt;&lt;script&gt;" in html

    def test_without_a_marker_the_page_is_untouched(self) -> None:
        """A page without the marker comes back as it was."""
        html = "<p>tokenizer-playground</p>"
        assert Playground(Project(REPO)).page_html(html, "zh", "", pytest.fail) == html

    @pytest.mark.parametrize("page", [f"{p}.{lang}.md" for p in PAGES for lang in ("zh", "en")])
    def test_marker_in_the_tokenizer_pages(self, page: str) -> None:
        """The tokenizer and tokenizer-compare pages carry the marker, in both languages."""
        text = (REPO / "docs" / page).read_text(encoding="utf-8")
        assert len(MARKER.findall(text)) == 1


class TestCommittedAssets:
    def test_bundle_and_files_are_committed_and_lean(self) -> None:
        """The light install serves the playground from committed files: the bundle, the
        loader and compact tokenizer files (no pretty-printing)."""
        folder = REPO / ASSETS
        assert (folder / "loader.js").stat().st_size < 2_000
        assert (folder / "playground.js").stat().st_size < 100_000
        for name in TOKENIZERS:
            text = (folder / tokenizer_file(name)).read_text(encoding="utf-8")
            assert "\n" not in text[:10_000] and ': ' not in text[:200]
        assert "cdn" not in (folder / "playground.js").read_text(encoding="utf-8").lower()
        lock = json.loads((REPO / "playground" / "package-lock.json").read_text("utf-8"))
        assert "@huggingface/tokenizers" in lock["packages"][""]["dependencies"]


@pytest.mark.site
def test_build_says_when_python_and_browser_differ(tmp_path: Path) -> None:
    """A real build of the site warns, naming the case, when js-check.json disagrees with the
    stored Python tokenization (so `mkdocs build --strict` fails)."""
    project = copy_real_site(tmp_path)
    replace_in(project / ASSETS / JS_CHECK, '"case":"love"', '"case":"loved"')
    result = build(project, strict=True)
    assert result.returncode != 0
    assert re.search(r"WARNING.*llmdocs: playground: case 'love' has no Tokenizers\.js result",
                     result.log), result.log[-3000:]
