"""Source keys: what makes a chapter stale and what must not."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from llmdocs.chapters import Cell, load_chapter
from llmdocs.keys import cells_key, normalise_source, source_key

BASE = """\
# %% [markdown]
# Intro prose.

# %% load
x = 1
print(x)

# %% show tags=["raises-exception"]
raise ValueError(x)
"""

_counter = itertools.count()


def key_of(tmp_path: Path, text: str, *, newline: str = "\n") -> str:
    """Write ``text`` as a chapter file of its own (fresh path each time) and key it."""
    folder = tmp_path / f"v{next(_counter)}"
    folder.mkdir()
    path = folder / "chapter.py"
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return source_key(load_chapter(path))


class TestNormaliseSource:
    def test_line_endings_become_lf(self) -> None:
        """CRLF and lone CR line endings normalise to LF."""
        assert normalise_source("a = 1\r\nb = 2\rc = 3") == "a = 1\nb = 2\nc = 3"

    def test_trailing_whitespace_is_dropped(self) -> None:
        """Spaces and tabs at line ends are removed, indentation is kept."""
        assert normalise_source("if x:   \n    y = 1\t") == "if x:\n    y = 1"

    def test_blank_edge_lines_are_dropped_inner_ones_kept(self) -> None:
        """Blank lines before the first and after the last code line go; inner ones stay."""
        assert normalise_source("\n  \na = 1\n\nb = 2\n\n \n") == "a = 1\n\nb = 2"


class TestKeyIgnores:
    def test_identical_text_gives_identical_key(self, tmp_path: Path) -> None:
        """The same chapter text keyed twice, from two files, gives one key."""
        assert key_of(tmp_path, BASE) == key_of(tmp_path, BASE)

    def test_trailing_whitespace(self, tmp_path: Path) -> None:
        """Trailing spaces after code lines do not change the key."""
        edited = BASE.replace("x = 1\n", "x = 1   \n").replace("print(x)\n", "print(x)\t\n")
        assert edited != BASE
        assert key_of(tmp_path, edited) == key_of(tmp_path, BASE)

    def test_crlf_line_endings(self, tmp_path: Path) -> None:
        """A chapter saved with CRLF line endings keeps its key."""
        assert key_of(tmp_path, BASE, newline="\r\n") == key_of(tmp_path, BASE)

    def test_blank_edge_lines(self, tmp_path: Path) -> None:
        """Blank lines at the start and end of a cell do not change the key."""
        edited = BASE.replace("# %% load\n", "# %% load\n\n\n").replace(
            "print(x)\n", "print(x)\n\n\n\n"
        )
        assert key_of(tmp_path, edited) == key_of(tmp_path, BASE)

    def test_markdown_cell_edit(self, tmp_path: Path) -> None:
        """Rewriting prose in a markdown cell, or adding one, does not change the key."""
        edited = BASE.replace("# Intro prose.", "# Completely different prose.\n# Two lines.")
        edited += "\n# %% [markdown]\n# A closing remark.\n"
        chapter_text_changed = edited != BASE
        assert chapter_text_changed
        assert key_of(tmp_path, edited) == key_of(tmp_path, BASE)


class TestKeyChanges:
    @pytest.mark.parametrize(
        ("what", "old", "new"),
        [
            ("code", "x = 1\n", "x = 2\n"),
            ("indentation", "print(x)\n", "if x:\n    print(x)\n"),
            ("cell name", "# %% load\n", "# %% setup\n"),
            ("tags", '# %% show tags=["raises-exception"]\n', "# %% show\n"),
        ],
    )
    def test_edit_changes_key(self, tmp_path: Path, what: str, old: str, new: str) -> None:
        """Changing a cell's code, name or tags changes the chapter's key."""
        assert old in BASE, what
        assert key_of(tmp_path, BASE.replace(old, new)) != key_of(tmp_path, BASE)

    def test_reordering_cells_changes_key(self, tmp_path: Path) -> None:
        """Swapping two code cells changes the key, since later cells see earlier state."""
        load = "# %% load\nx = 1\nprint(x)\n\n"
        show = '# %% show tags=["raises-exception"]\nraise ValueError(x)\n'
        prose = "# %% [markdown]\n# Intro prose.\n\n"
        assert prose + load + show == BASE
        swapped = prose + show + "\n" + load
        assert key_of(tmp_path, swapped) != key_of(tmp_path, BASE)

    def test_cells_key_depends_on_order_and_has_prefix(self) -> None:
        """cells_key is a sha256 key that differs when the same cells come in another order."""
        first, second = Cell("a", "x = 1", 2), Cell("b", "y = 2", 5)
        forward, backward = cells_key([first, second]), cells_key([second, first])
        assert forward.startswith("sha256:") and len(forward) == len("sha256:") + 64
        assert forward != backward

    def test_tag_order_does_not_matter(self) -> None:
        """Tags are a set: listing the same tags in another order keeps the key."""
        one = Cell("a", "x = 1", 2, ("raises-exception", "hide-input"))
        other = Cell("a", "x = 1", 2, ("hide-input", "raises-exception"))
        assert cells_key([one]) == cells_key([other])
