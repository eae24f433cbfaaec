"""Reading chapters: named percent cells, their lines, and errors that point into the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmdocs.chapters import Chapter, chapter_paths, load_chapter
from llmdocs.errors import ChapterError
from llmdocs.project import Project, chapter_name, find_project


def write(tmp_path: Path, text: str, name: str = "chapter") -> Path:
    """Write ``text`` as snippets/<name>.py under ``tmp_path`` and return its path."""
    path = tmp_path / "snippets" / f"{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
# %% [markdown]
# # A title
# Some prose.

# %% load
import os

x = 1

# %% show tags=["raises-exception"]
raise ValueError(x)
"""


class TestParsing:
    def test_cells_names_lines_tags_and_markdown(self, tmp_path: Path) -> None:
        """Each named cell carries its code, the line its code starts on and its tags."""
        chapter = load_chapter(write(tmp_path, GOOD))
        assert chapter.name == "chapter"
        assert chapter.cell_names == ["load", "show"]
        load, show = chapter.cells
        assert (load.source, load.line, load.tags) == ("import os\n\nx = 1", 6, ())
        assert (show.source, show.line) == ("raise ValueError(x)", 11)
        assert show.tags == ("raises-exception",)
        assert chapter.markdown == ("# A title\nSome prose.",)

    def test_cell_lookup_by_name(self, tmp_path: Path) -> None:
        """chapter.cell(name) finds a cell, and raises KeyError for an unknown name."""
        chapter = load_chapter(write(tmp_path, GOOD))
        assert chapter.cell("show").source == "raise ValueError(x)"
        with pytest.raises(KeyError):
            chapter.cell("nope")

    def test_marker_without_space_counts_as_a_marker(self, tmp_path: Path) -> None:
        """'#%% name', which jupytext accepts, starts a cell and keeps later lines right."""
        text = "# %% one\nx = 1\n#%% two\ny = 2\n# %% three\nz = 3\n"
        chapter = load_chapter(write(tmp_path, text))
        assert [(c.name, c.line) for c in chapter.cells] == [("one", 2), ("two", 4), ("three", 6)]

    def test_marker_inside_a_string_is_code(self, tmp_path: Path) -> None:
        """A '# %%' line inside a triple-quoted string neither splits the cell nor shifts lines."""
        text = '# %% one\ns = """\n# %% not a cell\n"""\n\n# %% two\ny = 2\n'
        chapter = load_chapter(write(tmp_path, text))
        assert [(c.name, c.line) for c in chapter.cells] == [("one", 2), ("two", 7)]
        assert "# %% not a cell" in chapter.cell("one").source

    def test_chapter_paths_skip_private_files_and_sort(self, tmp_path: Path) -> None:
        """chapter_paths lists snippets/*.py by name, leaving out files that start with '_'."""
        for name in ("zeta", "alpha", "_helper"):
            write(tmp_path, "# %% a\nx = 1\n", name)
        assert [p.stem for p in chapter_paths(tmp_path / "snippets")] == ["alpha", "zeta"]

    def test_edited_file_is_parsed_again(self, tmp_path: Path) -> None:
        """Loading a chapter after its file changed returns the new code, not a cached parse."""
        path = write(tmp_path, "# %% a\nx = 1\n")
        assert load_chapter(path).cell("a").source == "x = 1"
        path.write_text("# %% a\nx = 2\n# %% b\ny = 3\n", encoding="utf-8")
        assert load_chapter(path).cell_names == ["a", "b"]
        assert load_chapter(path).cell("a").source == "x = 2"


class TestParsedChapterCache:
    """A parse is kept in .llmdocs-cache/chapters/ (jupytext costs ~10 ms a chapter)."""

    def _fresh(self, path: Path) -> Chapter:
        from llmdocs import chapters

        chapters._load_cached.cache_clear()  # this process's own memo, not the disk
        return load_chapter(path)

    def test_a_kept_parse_is_the_same_chapter(self, tmp_path: Path) -> None:
        path = write(tmp_path, GOOD.replace("# %% show", '# %% show compare={"atol": 0.1}'))
        parsed = self._fresh(path)
        kept = list((tmp_path / ".llmdocs-cache" / "chapters").glob("*.json"))
        assert len(kept) == 1
        assert self._fresh(path) == parsed  # from the file kept
        kept[0].write_text('{"cells": [["x"', encoding="utf-8")  # damaged: parsed again
        assert self._fresh(path) == parsed

    def test_an_edit_or_an_error_is_never_served_from_the_cache(self, tmp_path: Path) -> None:
        path = write(tmp_path, GOOD)
        self._fresh(path)
        path.write_text(GOOD.replace("x = 1", "x = 2"), encoding="utf-8")
        assert "x = 2" in self._fresh(path).cell("load").source
        path.write_text(GOOD + "\n# %% load\ny = 1\n", encoding="utf-8")
        with pytest.raises(ChapterError, match="duplicate cell name"):
            self._fresh(path)
        assert len(list((tmp_path / ".llmdocs-cache" / "chapters").glob("*.json"))) == 2


class TestCompareSetting:
    def test_the_markers_compare_setting_reaches_the_comparator(self, tmp_path: Path) -> None:
        """`# %% name compare={...}` is the cell's tolerance in `llmdocs verify` (it was
        parsed by jupytext but dropped, so every cell had the default)."""
        from llmdocs.compare import tolerances

        path = write(tmp_path, '# %% draw compare={"atol": 0.05, "devices": "kinds", '
                               '"why": "sampled"}\nx = 1\n\n# %% plain\ny = 2\n')
        chapter = load_chapter(path)
        assert chapter.cell("draw").compare == {"atol": 0.05, "devices": "kinds", "why": "sampled"}
        found = tolerances(chapter)
        assert found["draw"].atol == 0.05 and found["draw"].kinds_across_devices
        assert found["plain"].atol == 0.0 and not found["plain"].kinds_across_devices

    def test_the_chapters_own_settings_are_read(self) -> None:
        chapter = load_chapter(Path(__file__).parent.parent / "snippets" / "next-token.py")
        assert chapter.cell("sampled").compare["atol"] == 0.05

    @pytest.mark.parametrize("setting", ['{"atoll": 1}', '{"devices": "all"}', '[1, 2]'])
    def test_a_bad_setting_names_file_and_line(self, tmp_path: Path, setting: str) -> None:
        path = write(tmp_path, f"# %% load\nx = 1\n\n# %% draw compare={setting}\ny = 2\n")
        with pytest.raises(ChapterError, match=f"{path}:4: cell marker's compare= setting"):
            load_chapter(path)


class TestChapterErrors:
    def test_duplicate_name_names_file_and_line(self, tmp_path: Path) -> None:
        """A second cell with a used name is reported at its own marker line, with the first."""
        path = write(tmp_path, "# %% load\nx = 1\n\n# %% [markdown]\n# prose\n\n# %% load\ny = 2\n")
        with pytest.raises(ChapterError) as caught:
            load_chapter(path)
        message = str(caught.value)
        assert f"{path}:7:" in message
        assert "duplicate cell name 'load'" in message
        assert "first used on line 1" in message

    def test_missing_name_names_file_and_line(self, tmp_path: Path) -> None:
        """A bare '# %%' marker on a code cell is reported with its file and line."""
        path = write(tmp_path, "# %% [markdown]\n# prose\n\n# %% load\nx = 1\n\n# %%\ny = 2\n")
        with pytest.raises(ChapterError) as caught:
            load_chapter(path)
        assert f"{path}:7:" in str(caught.value)
        assert "no name" in str(caught.value)
        assert "# %% <name>" in str(caught.value)

    def test_code_before_first_marker(self, tmp_path: Path) -> None:
        """Code above the first marker is an error that says to start cells with a marker."""
        path = write(tmp_path, "import os\n\n# %% load\nx = 1\n")
        with pytest.raises(ChapterError, match="code before the first") as caught:
            load_chapter(path)
        assert f"{path}:1:" in str(caught.value)

    def test_blank_lines_before_first_marker_are_fine(self, tmp_path: Path) -> None:
        """Blank lines above the first marker are not code and raise nothing."""
        chapter = load_chapter(write(tmp_path, "\n\n# %% load\nx = 1\n"))
        assert [(c.name, c.line) for c in chapter.cells] == [("load", 4)]

    @pytest.mark.parametrize("bad", ["Load", "two words", "-dash-first", "ünïcode"])
    def test_invalid_cell_name(self, tmp_path: Path, bad: str) -> None:
        """A cell name outside a-z, 0-9, '-' and '_' is reported with file, line and the name."""
        path = write(tmp_path, f"# %% ok\nx = 1\n# %% {bad}\ny = 2\n")
        with pytest.raises(ChapterError) as caught:
            load_chapter(path)
        assert f"{path}:3:" in str(caught.value)
        assert f"cell name {bad!r} is invalid" in str(caught.value)

    def test_invalid_chapter_file_name(self, tmp_path: Path) -> None:
        """A chapter file whose name is not lower-case a-z/0-9/-/_ is refused, naming the file."""
        path = write(tmp_path, "# %% a\nx = 1\n", "Bad Name")
        with pytest.raises(ChapterError, match="chapter names use") as caught:
            load_chapter(path)
        assert str(path) in str(caught.value)

    def test_missing_file(self, tmp_path: Path) -> None:
        """Loading a file that does not exist raises ChapterError naming it."""
        missing = tmp_path / "snippets" / "gone.py"
        with pytest.raises(ChapterError, match="no such chapter file") as caught:
            load_chapter(missing)
        assert str(missing) in str(caught.value)


class TestProject:
    def test_unknown_chapter_lists_known_ones(self, tmp_path: Path) -> None:
        """Asking a project for an unknown chapter names the file and the chapters that exist."""
        write(tmp_path, "# %% a\nx = 1\n", "tokens")
        with pytest.raises(ChapterError) as caught:
            Project(tmp_path).chapter("tokenz")
        assert "snippets/tokenz.py" in str(caught.value)
        assert "known chapters: tokens" in str(caught.value)

    @pytest.mark.parametrize("argument", ["tokens", "tokens.py", "snippets/tokens.py"])
    def test_chapter_name_forms(self, argument: str) -> None:
        """'tokens', 'tokens.py' and 'snippets/tokens.py' all name the chapter 'tokens'."""
        assert chapter_name(argument) == "tokens"

    def test_find_project_walks_up(self, tmp_path: Path) -> None:
        """find_project finds the folder holding snippets/ from a folder below it."""
        write(tmp_path, "# %% a\nx = 1\n")
        below = tmp_path / "docs" / "deep"
        below.mkdir(parents=True)
        assert find_project(below).root == tmp_path.resolve()


class TestPlainPython:
    def test_syntax_error_names_file_and_line(self, tmp_path: Path) -> None:
        """A chapter that is not valid Python is rejected with its file and line."""
        path = tmp_path / "broken.py"
        path.write_text("# %% one\nx = 1\n\n# %% two\nprint(x\n", encoding="utf-8")
        with pytest.raises(ChapterError, match=r"broken\.py:5: not valid Python"):
            load_chapter(path)

    def test_header_read_as_encoding_declaration_is_rejected(self, tmp_path: Path) -> None:
        """A line-2 comment matching PEP 263 ("coding: from") is caught before any run."""
        path = tmp_path / "decoding.py"
        path.write_text("# %% [markdown]\n# # Decoding: from x to y\n\n# %% one\nx = 1\n",
                        encoding="utf-8")
        with pytest.raises(ChapterError, match="not valid Python"):
            load_chapter(path)
