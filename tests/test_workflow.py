"""Contributor workflow: translation sync and the `llmdocs new` scaffold."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from llmdocs.cli import main
from llmdocs.translations import check_translations
from site_helpers import REPO, build, copy_fixture_site, copy_real_site


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


class TestTranslationSync:
    def test_repository_pages_are_in_sync(self) -> None:
        """Every page of the real site exists in zh and en with the same cells and headings."""
        assert [str(p) for p in check_translations(REPO / "docs")] == []

    def test_missing_translation_is_named(self, tmp_path: Path) -> None:
        """A page with only a Chinese version is reported with the file to translate."""
        write(tmp_path / "intro.zh.md", "# 介绍\n")
        problems = [str(p) for p in check_translations(tmp_path)]
        assert problems == ["intro.en.md: missing (translate intro.zh.md)"]

    def test_different_cell_order_is_named(self, tmp_path: Path) -> None:
        """Pages embedding cells in another order report the first position that differs."""
        write(tmp_path / "a.zh.md", "# A\n\n<!-- llmdocs ch:one -->\n\n<!-- llmdocs ch:two -->\n")
        write(tmp_path / "a.en.md", "# A\n\n<!-- llmdocs ch:two -->\n\n<!-- llmdocs ch:one -->\n")
        problems = [str(p) for p in check_translations(tmp_path)]
        assert problems == ["a.en.md: embedded cell #1 is ch:two, but a.zh.md has ch:one there"]

    def test_missing_cell_and_heading_are_named(self, tmp_path: Path) -> None:
        """A translation that lacks a cell and a heading gets one problem for each."""
        write(tmp_path / "b.zh.md", "# B\n\n## 小节\n\n<!-- llmdocs ch:one -->\n")
        write(tmp_path / "b.en.md", "# B\n")
        problems = [str(p) for p in check_translations(tmp_path)]
        assert problems == [
            "b.en.md: embedded cell #1 is (nothing), but b.zh.md has ch:one there",
            "b.en.md: 1 headings, but b.zh.md has 2",
        ]

    def test_headings_inside_code_fences_do_not_count(self, tmp_path: Path) -> None:
        """A '#' comment inside a fenced code block is not a heading."""
        write(tmp_path / "c.zh.md", "# C\n\n```python\n# comment\n```\n")
        write(tmp_path / "c.en.md", "# C\n")
        assert check_translations(tmp_path) == []

    def test_cli_exits_non_zero_and_lists_problems(self, tmp_path: Path) -> None:
        """`llmdocs sync` prints each problem with its docs path and exits 1."""
        project = copy_fixture_site(tmp_path)
        (project / "docs" / "index.en.md").unlink()
        result = CliRunner().invoke(main, ["--root", str(project), "sync"])
        assert result.exit_code == 1
        assert "docs/index.en.md: missing (translate index.zh.md)" in result.output


class TestScaffold:
    def test_new_chapter_runs_and_builds_strict(self, tmp_path: Path) -> None:
        """`llmdocs new` writes a chapter, both pages and a nav entry that build with --strict."""
        project = copy_fixture_site(tmp_path)
        runner = CliRunner()
        created = runner.invoke(main, ["--root", str(project), "new", "attention"])
        assert created.exit_code == 0, created.output
        assert "- attention.md" in (project / "mkdocs.yml").read_text(encoding="utf-8")
        for path in ("snippets/attention.py", "docs/attention.zh.md", "docs/attention.en.md"):
            assert (project / path).is_file()
        assert check_translations(project / "docs") == []
        ran = runner.invoke(main, ["--root", str(project), "run"])
        assert ran.exit_code == 0, ran.output
        done = build(project, strict=True)
        assert done.returncode == 0, done.log
        page = (done.site / "attention" / "index.html").read_text(encoding="utf-8")
        assert "Hello from the attention chapter" in page

    def test_new_refuses_to_overwrite(self, tmp_path: Path) -> None:
        """Scaffolding an existing chapter fails and leaves its files untouched."""
        project = copy_fixture_site(tmp_path)
        before = (project / "snippets" / "basics.py").read_bytes()
        result = CliRunner().invoke(main, ["--root", str(project), "new", "basics"])
        assert result.exit_code == 1 and "already exist" in result.output
        assert (project / "snippets" / "basics.py").read_bytes() == before

    def test_nav_entry_goes_after_the_last_chapter(self, tmp_path: Path) -> None:
        """A new chapter joins the chapter pages, not a trailing reference section."""
        project = copy_real_site(tmp_path)

        def nav_items() -> list[str]:
            nav = (project / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:\n", 1)[1]
            return [line.strip() for line in nav.splitlines() if line.strip().startswith("- ")]

        chapters = [item for item in nav_items()
                    if (project / "snippets" / item[2:].replace(".md", ".py")).is_file()]
        result = CliRunner().invoke(main, ["--root", str(project), "new", "attention"])
        assert result.exit_code == 0, result.output
        items = nav_items()
        assert items.index("- attention.md") < items.index("- reference.md")
        assert items[items.index("- attention.md") - 1] == chapters[-1]
