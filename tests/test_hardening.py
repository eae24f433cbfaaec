"""Issue 12: every fault is one chapter's clear error, never a traceback or a silent wrong result.

One class per fault class: inputs validated where they enter, text that reaches HTML escaped,
captured text faithful and bounded, stored files checked field by field, chapters parsed by
jupytext's own reader, processes and files cleaned up, locks, and the run that survives them.
The classes marked "kernel" start real Jupyter kernels.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from llmdocs.capture import clean_text, convert_outputs
from llmdocs.chapters import load_chapter
from llmdocs.cli import main
from llmdocs.directives import find_directives, near_misses, unfenced_lines
from llmdocs.errors import ChapterError, StoreError
from llmdocs.locks import ChapterLocked, chapter_lock
from llmdocs.mkdocs_plugin.lookup import Lookup
from llmdocs.project import Project, chapter_name
from llmdocs.render import Html, notice, notice_html
from llmdocs.settings import DEFAULT_MAX_OUTPUT, max_output
from llmdocs.status import State, chapter_status
from llmdocs.store import StoredCell, StoredChapter, _digest, read_store, store_path, write_store
from site_helpers import build, copy_fixture_site


def make_project(root: Path, chapters: dict[str, str | bytes]) -> Project:
    """A project at ``root`` with these chapter files (text is dedented, bytes written as is)."""
    (root / "snippets").mkdir(parents=True, exist_ok=True)
    for name, body in chapters.items():
        path = root / "snippets" / f"{name}.py"
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(textwrap.dedent(body), encoding="utf-8")
    return Project(root)


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    """`llmdocs ARGS` in this process; the variables --max-output and --debug set are restored."""
    keep = {name: os.environ.get(name) for name in ("LLMDOCS_MAX_OUTPUT", "LLMDOCS_DEBUG")}
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200", **keep, **(env or {})})


def sample(chapter: str = "tokens") -> StoredChapter:
    return StoredChapter(
        chapter=chapter, source_key="sha256:" + "ab" * 32, profile="offline", device="CPU",
        versions={"python": "3.11.7"}, models={"chat": {"id": "x/y", "digest": "sha256:00"}},
        captured="2026-01-02",
        cells={"hello": StoredCell([{"stream": "stdout", "text": ["hi\n"]}], 0.25)},
    )


def forge(path: Path, change: Any) -> None:
    """Rewrite a stored file with ``change(body)`` applied and a digest that matches again."""
    body = json.loads(path.read_text(encoding="utf-8"))
    change(body)
    body["digest"] = _digest(body)
    path.write_text(json.dumps(body), encoding="utf-8")


class TestChapterInputs:
    """Chapter arguments, roots and chapter files are validated where they enter."""

    @pytest.mark.parametrize("argument", ["ok", "ok.py", "snippets/ok.py"])
    def test_accepted_spellings(self, argument: str) -> None:
        """A name, a file name and snippets/<name>.py all mean the chapter 'ok'."""
        assert chapter_name(argument) == "ok"

    @pytest.mark.parametrize(
        "argument",
        ["../ok.py", "/etc/passwd", "docs/ok.py", "snippets/sub/ok.py", "..", "Bad Name",
         "snippets/ok", "../../outside"],
    )
    def test_paths_outside_snippets_are_refused(self, argument: str) -> None:
        """Anything that is not a chapter directly under snippets/ is a ChapterError."""
        with pytest.raises(ChapterError):
            chapter_name(argument)

    def test_absolute_path_to_this_projects_chapter(self, tmp_path: Path) -> None:
        """An absolute path into the project's own snippets/ is accepted; another one is not."""
        project = make_project(tmp_path / "p", {"ok": "# %% a\nx = 1\n"})
        assert chapter_name(str(project.chapter_path("ok")), project) == "ok"
        other = make_project(tmp_path / "q", {"ok": "# %% a\nx = 1\n"})
        with pytest.raises(ChapterError, match="not a chapter"):
            chapter_name(str(other.chapter_path("ok")), project)

    def test_project_never_reads_outside_snippets(self, tmp_path: Path) -> None:
        """Project.chapter refuses a name with a path in it, even if the file exists."""
        project = make_project(tmp_path / "p", {})
        (tmp_path / "outside.py").write_text("# %% a\nx = 1\n", encoding="utf-8")
        with pytest.raises(ChapterError, match="not a chapter name"):
            project.chapter("../../outside")

    def test_non_utf8_chapter_names_file_and_line(self, tmp_path: Path) -> None:
        """A Latin-1 chapter is a ChapterError naming the file, the line and the fix."""
        project = make_project(tmp_path, {"latin": b"# %% a\nx = 1\ns = '\xe9'\n"})
        with pytest.raises(ChapterError) as caught:
            project.chapter("latin")
        assert str(caught.value).startswith("snippets/latin.py:3: not UTF-8")
        assert "save the chapter as UTF-8" in str(caught.value)

    def test_unreadable_chapter_is_a_chapter_error(self, tmp_path: Path) -> None:
        """A chapter path that cannot be read (here: a folder named x.py) is a ChapterError."""
        project = make_project(tmp_path, {})
        (project.snippets_dir / "folder.py").mkdir()
        with pytest.raises(ChapterError, match=r"snippets/folder\.py"):
            load_chapter(project.snippets_dir / "folder.py", "snippets/folder.py")

    def test_status_and_check_survive_a_non_utf8_chapter(self, tmp_path: Path) -> None:
        """status lists the bad chapter as broken (others still listed); check exits 1."""
        make_project(tmp_path, {
            "good": "# %% a\nprint(1)\n", "latin": b"# %% a\nprint('\xe9')\n",
        })
        status = invoke("--root", str(tmp_path), "status", "--device", "cpu")
        assert status.exit_code == 0, status.output
        assert "Traceback" not in status.output and "UnicodeDecodeError" not in status.output
        assert "good" in status.output and "latin" in status.output
        assert "snippets/latin.py:2: not UTF-8" in status.output
        check = invoke("--root", str(tmp_path), "check", "--device", "cpu")
        assert check.exit_code == 1 and "Traceback" not in check.output

    def test_root_without_snippets_is_an_error(self, tmp_path: Path) -> None:
        """`--root` at a folder without snippets/ fails (exit 1) instead of an empty green table."""
        result = invoke("--root", str(tmp_path), "check")
        assert result.exit_code == 1
        assert "no snippets/ folder" in result.output and "--root" in result.output

    def test_debug_shows_the_traceback(self, tmp_path: Path) -> None:
        """Without --debug an error is one line; with it, the exception itself propagates."""
        plain = invoke("--root", str(tmp_path), "check")
        assert plain.exit_code == 1 and isinstance(plain.exception, SystemExit)
        debug = invoke("--debug", "--root", str(tmp_path), "check")
        assert isinstance(debug.exception, ChapterError)

    def test_check_with_no_chapters_fails(self, tmp_path: Path) -> None:
        """An empty snippets/ cannot pass a CI gate."""
        (tmp_path / "snippets").mkdir()
        result = invoke("--root", str(tmp_path), "check")
        assert result.exit_code == 1 and "holds no chapters" in result.output

    @pytest.mark.parametrize(
        ("args", "env"),
        [
            (["run", "--timeout", "0"], {}),
            (["run", "--timeout", "-5"], {}),
            (["run", "--timeout", "99999999"], {}),
            (["run"], {"LLMDOCS_TIMEOUT": "soon"}),
            (["--max-output", "5", "run"], {}),
            (["run"], {"LLMDOCS_MAX_OUTPUT": "-1"}),
        ],
    )
    def test_numbers_out_of_range_are_usage_errors(
        self, tmp_path: Path, args: list[str], env: dict[str, str]
    ) -> None:
        """A timeout or output limit out of range stops before anything runs (exit 2)."""
        make_project(tmp_path, {"ok": "# %% a\nprint(1)\n"})
        result = invoke("--root", str(tmp_path), *args, env=env)
        assert result.exit_code == 2, result.output
        assert not (tmp_path / "snippets" / "outputs").exists()

    @pytest.mark.parametrize("value", [0, -1, True, 10**9])
    def test_plugin_timeout_out_of_range_is_a_config_error(self, value: object) -> None:
        """`timeout:` in mkdocs.yml must be a whole number of seconds in range."""
        from llmdocs.mkdocs_plugin.config import LlmdocsConfig

        config = LlmdocsConfig()
        config.load_dict({"timeout": value})
        errors, _ = config.validate()
        assert [name for name, _ in errors] == ["timeout"]

    def test_max_output_variable_is_checked(self) -> None:
        """settings.max_output reads LLMDOCS_MAX_OUTPUT and refuses nonsense, naming it."""
        assert max_output({}) == DEFAULT_MAX_OUTPUT
        assert max_output({"LLMDOCS_MAX_OUTPUT": "5000"}) == 5000
        with pytest.raises(ValueError, match="LLMDOCS_MAX_OUTPUT"):
            max_output({"LLMDOCS_MAX_OUTPUT": "lots"})

    def test_run_refuses_a_chapter_outside_snippets(self, tmp_path: Path) -> None:
        """`llmdocs run ../x.py` fails with the rule, writes nothing, shows no traceback."""
        make_project(tmp_path / "p", {"ok": "# %% a\nprint(1)\n"})
        (tmp_path / "x.py").write_text("# %% a\nprint(1)\n", encoding="utf-8")
        result = invoke("--root", str(tmp_path / "p"), "run", str(tmp_path / "x.py"))
        assert result.exit_code == 1 and "not a chapter" in result.output
        assert "Traceback" not in result.output
        assert sorted(p.name for p in tmp_path.rglob("*.json")) == []


class TestDirectiveInputs:
    """Directive-like typos warn; directives in any code block stay literal."""

    @pytest.mark.parametrize(
        "line",
        ["<!-- LLMDOCS a:b -->", "<!-- llmdoc a:b -->", "<!-- llm-docs a:b -->",
         "<!--Llmdocs a:b-->", "<!-- lmdocs a:b -->", "See <!-- llmdocs a:b --> here"],
    )
    def test_near_misses_warn_with_line(self, line: str) -> None:
        """A misspelled, wrongly cased or inline directive is reported with page and line."""
        [warning] = near_misses(f"# Title\n\n{line}\n", "p.md")
        assert warning.startswith("p.md:3: ")
        assert "<!-- llmdocs CHAPTER:CELL -->" in warning

    @pytest.mark.parametrize(
        "text",
        ["<!-- llmdocs a:b -->", "<!-- TODO: fix -->", "<!-- more -->",
         "Write `<!-- llmdocs a:b -->` on its own line.", "```\n<!-- LLMDOCS a:b -->\n```"],
    )
    def test_real_directives_and_other_comments_are_quiet(self, text: str) -> None:
        """Directives, ordinary comments and directives quoted as code raise no warning."""
        assert near_misses(text + "\n", "p.md") == []

    def test_indented_code_block_stays_literal(self) -> None:
        """A directive in an indented code block (after a blank line) is not rendered."""
        markdown = "Example:\n\n    <!-- llmdocs a:b -->\n\n<!-- llmdocs c:d -->\n"
        assert [d.ref for d in find_directives(markdown, "p.md")] == ["c:d"]

    def test_directive_in_list_or_admonition_still_renders(self) -> None:
        """Content indented under a list item or an admonition is content, not code."""
        markdown = "- step\n\n    <!-- llmdocs a:b -->\n\n!!! note\n\n    <!-- llmdocs c:d -->\n"
        assert [d.ref for d in find_directives(markdown, "p.md")] == ["a:b", "c:d"]

    def test_code_indented_in_a_list_is_code(self) -> None:
        """Under a list item, 8 spaces make a code block: literal."""
        markdown = "- step\n\n        <!-- llmdocs a:b -->\n"
        assert find_directives(markdown, "p.md") == []

    def test_indented_continuation_line_is_not_code(self) -> None:
        """An indented line right after a paragraph line continues it (no blank line)."""
        lines = dict(unfenced_lines("para\n    more\n"))
        assert lines == {1: "para", 2: "    more"}


class TestEscaping:
    """Every string that reaches HTML is escaped; paths in messages are project-relative."""

    def test_notice_escapes_its_fields_not_its_markup(self) -> None:
        """A reason with markup is shown as text; the label's own <code> stays markup."""
        message = notice("en", "unknown", ref="a:b", reason="<img src=x onerror=alert(1)> & co")
        assert "<img" not in message and "&lt;img src=x onerror=alert(1)&gt; &amp; co" in message
        assert "<code>a:b</code>" in message
        assert isinstance(message, Html)

    def test_notice_html_escapes_plain_strings(self) -> None:
        """A message not built by notice() is escaped in the warning box."""
        box = notice_html("<script>alert(1)</script>", "zh")
        assert "<script>" not in box and "&lt;script&gt;" in box

    def test_store_errors_name_files_relative_to_the_project(self, tmp_path: Path) -> None:
        """A broken stored file's message starts at snippets/, never the absolute path."""
        project = make_project(tmp_path, {"ok": "# %% hello\nprint(1)\n"})
        path = store_path(project.store_dir, "ok")
        path.parent.mkdir(parents=True)
        path.write_text("{not json", encoding="utf-8")
        status = chapter_status(project, "ok")
        assert status.state is State.BROKEN
        assert status.detail.startswith("snippets/outputs/ok.json: ")
        assert str(tmp_path) not in status.detail

    def test_chapter_errors_name_files_relative_to_the_project(self, tmp_path: Path) -> None:
        """A malformed chapter's message starts at snippets/, never the absolute path."""
        project = make_project(tmp_path, {"bad": "# %% Bad<Name>\nx = 1\n"})
        with pytest.raises(ChapterError) as caught:
            project.chapter("bad")
        assert str(caught.value).startswith("snippets/bad.py:1: cell name")
        assert str(tmp_path) not in str(caught.value)

    def test_page_notice_for_a_broken_chapter_is_escaped(self, tmp_path: Path) -> None:
        """The warning box a page shows for a broken chapter escapes the reason, no abs path."""
        project = make_project(tmp_path, {"bad": "# %% Bad<Name>\nx = 1\n"})
        [directive] = find_directives("<!-- llmdocs bad:cell -->\n", "index.md")
        found = Lookup(project, "offline", "cpu").find(directive, "index.md", "en")
        box = notice_html(found.notice, "en")
        assert "Bad&lt;Name&gt;" in box and "<Name>" not in box
        assert str(tmp_path) not in box


class TestCleanText:
    """Captured text is what a terminal shows, as plain text."""

    @pytest.mark.parametrize(
        ("raw", "clean"),
        [
            ("one\r\ntwo\r\n", "one\ntwo\n"),  # CRLF keeps the line
            ("10%\r50%\r100%\ndone\n", "100%\ndone\n"),  # progress keeps the last state
            ("50%\r", "50%"),  # a last state followed by \r is still shown
            ("\x1b[1;31mred\x1b[0m plain\n", "red plain\n"),  # colour
            ("\x1b]0;window title\x07text", "text"),  # OSC title, BEL-terminated
            ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC hyperlink, ST-ended
            ("\x1bcafter reset", "after reset"),  # RIS (full reset)
            ("\x1b(Bcharset", "charset"),  # character set selection
            ("\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor"),  # private CSI
            ("\x9b31mC1 CSI", "C1 CSI"),  # 8-bit CSI
            ("\x1b[2K\rline", "line"),  # erase line then CR
            ("bell\x07 nul\x00 del\x7f", "bell␇ nul␀ del␡"),  # C0/DEL made visible
            ("form\x0cfeed", "form␌feed"),
            ("next\x85line", "nextline"),  # C1 control dropped
            ("tab\tstays\n", "tab\tstays\n"),
        ],
    )
    def test_clean(self, raw: str, clean: str) -> None:
        assert clean_text(raw) == clean

    def test_stream_chunks_are_cleaned_as_a_whole(self) -> None:
        """An escape sequence or progress bar split across chunks is cleaned as one text."""
        raw = [
            {"output_type": "stream", "name": "stdout", "text": "\x1b[3"},
            {"output_type": "stream", "name": "stdout", "text": "1mred\x1b[0m 10%\r"},
            {"output_type": "stream", "name": "stdout", "text": "red 100%\n"},
        ]
        assert convert_outputs(raw) == [{"stream": "stdout", "text": ["red 100%\n"]}]


class TestOutputLimit:
    """A cell's output beyond the limit is cut, with a visible note."""

    def test_runaway_stream_is_cut_with_note(self) -> None:
        """50 MB of print becomes the limit's worth of text and a note saying how much was cut."""
        line = "x" * 99 + "\n"
        raw = [{"output_type": "stream", "name": "stdout", "text": line * 500_000}]
        [kept, note] = convert_outputs(raw, max_output=10_000)
        assert sum(map(len, kept["text"])) == 10_000
        assert note["stream"] == "stderr"
        assert "49,990,000 more characters not stored" in "".join(note["text"])
        assert "LLMDOCS_MAX_OUTPUT" in "".join(note["text"])

    def test_image_over_the_limit_is_left_out_error_kept(self) -> None:
        """Rich data that does not fit whole is dropped; the error explaining a failure stays."""
        raw = [
            {"output_type": "stream", "name": "stdout", "text": "a" * 900},
            {"output_type": "display_data", "data": {"image/png": "A" * 4000}},
            {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["tb"]},
        ]
        kept = convert_outputs(raw, max_output=1_000)
        assert [next(iter(o)) for o in kept] == ["stream", "error", "stream"]
        assert "4,000 more characters" in "".join(kept[-1]["text"])

    def test_output_under_the_limit_is_untouched(self) -> None:
        raw = [{"output_type": "stream", "name": "stdout", "text": "small\n"}]
        assert convert_outputs(raw) == [{"stream": "stdout", "text": ["small\n"]}]


class TestStoredSchema:
    """A stored file whose digest matches but whose fields are wrong is broken, not fresh."""

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            (lambda b: b["cells"]["hello"]["outputs"][0].update(text=[1, 2]), "text[0]"),
            (lambda b: b["cells"]["hello"].update(outputs={"a": 1}), "outputs"),
            (lambda b: b["cells"]["hello"].update(duration_s="fast"), "duration_s"),
            (lambda b: b["cells"]["hello"].update(duration_s=True), "duration_s"),
            (lambda b: b["cells"]["hello"]["outputs"][0].update(stream="stdin"), "stream"),
            (lambda b: b["cells"]["hello"]["outputs"].append({"data": {"image/png": ["@@"]}}),
             "image/png"),
            (lambda b: b["cells"]["hello"]["outputs"].append({"data": {"app/x": ["1"]}}),
             "app/x"),
            (lambda b: b["cells"]["hello"]["outputs"].append({"error": {"ename": "E"}}),
             "evalue"),
            (lambda b: b["cells"]["hello"]["outputs"].append({"shell": "rm -rf"}), "outputs[1]"),
            (lambda b: b.update(cells=[]), "cells"),
            (lambda b: b.update(models={"chat": "x"}), "models"),
            (lambda b: b.update(versions={"python": 3.11}), "versions"),
            (lambda b: b.update(captured=None), "captured"),
            (lambda b: b.update(chapter="other"), "'other'"),
        ],
    )
    def test_forged_file_is_broken_with_remedy(
        self, tmp_path: Path, change: Any, field: str
    ) -> None:
        """read_store names the field and the remedy; the chapter's status is 'broken'."""
        project = make_project(tmp_path, {"tokens": "# %% hello\nprint('hi')\n"})
        path = store_path(project.store_dir, "tokens")
        write_store(path, sample())
        forge(path, change)
        with pytest.raises(StoreError) as caught:
            read_store(path)
        assert field in str(caught.value)
        assert "llmdocs run --force tokens" in str(caught.value)
        status = chapter_status(project, "tokens")
        assert status.state is State.BROKEN and status.state.blocking

    def test_forged_file_never_crashes_a_page(self, tmp_path: Path) -> None:
        """A page embedding a forged chapter shows the 'cannot read' notice instead."""
        project = make_project(tmp_path, {"tokens": "# %% hello\nprint('hi')\n"})
        path = store_path(project.store_dir, "tokens")
        write_store(path, sample())
        forge(path, lambda b: b["cells"]["hello"]["outputs"][0].update(text=None))
        [directive] = find_directives("<!-- llmdocs tokens:hello -->\n", "index.md")
        found = Lookup(project, "offline", "cpu").find(directive, "index.md", "en")
        assert found.outputs is None and "cannot be read" in found.notice

    def test_unknown_extra_top_level_field_is_allowed(self, tmp_path: Path) -> None:
        """A field a newer writer adds does not make the file broken."""
        path = store_path(tmp_path / "outputs", "tokens")
        write_store(path, sample())
        forge(path, lambda b: b.update(note="added later"))
        assert read_store(path).cells == sample().cells


class TestChapterParsing:
    """Cells come from jupytext's own percent reader: every marker it accepts counts."""

    def test_in_marker_gets_the_right_line(self, tmp_path: Path) -> None:
        """`# In[2]:` starts a cell for jupytext; ours says it has no name, on its line."""
        path = tmp_path / "c.py"
        path.write_text("# %% a\nx = 1\n\n\n# In[2]:\ny = 2\n", encoding="utf-8")
        with pytest.raises(ChapterError, match=r"c\.py:5: code cell has no name"):
            load_chapter(path)

    def test_codecell_marker_gets_the_right_line(self, tmp_path: Path) -> None:
        path = tmp_path / "c.py"
        path.write_text("# %% a\nx = 1\n# <codecell>\ny = 2\n", encoding="utf-8")
        with pytest.raises(ChapterError, match=r"c\.py:3: code cell has no name"):
            load_chapter(path)

    def test_lines_after_a_yaml_header_and_a_quoted_marker(self, tmp_path: Path) -> None:
        """A jupytext header and a '# %%' inside a string do not shift cell lines."""
        text = textwrap.dedent('''\
            # ---
            # jupyter:
            #   jupytext:
            #     text_representation:
            #       format_name: percent
            # ---

            # %% first
            s = """
            # %% not-a-cell
            """

            # %% second
            y = 2
            ''')
        path = tmp_path / "c.py"
        path.write_text(text, encoding="utf-8")
        chapter = load_chapter(path)
        assert [(c.name, c.line) for c in chapter.cells] == [("first", 9), ("second", 14)]
        assert text.splitlines()[13] == "y = 2"

    def test_no_second_marker_grammar(self) -> None:
        """chapters.py holds no regex of its own for cell markers."""
        source = (Path(__file__).parent.parent / "helpers/llmdocs/chapters.py").read_text()
        assert "%%" not in "".join(
            line for line in source.splitlines() if "re.compile" in line
        )


class TestFilesAndLocks:
    """Stored files are 0644; stray temp files are ignored; one run of a chapter at a time."""

    def test_stored_file_has_ordinary_permissions(self, tmp_path: Path) -> None:
        previous = os.umask(0o022)
        try:
            path = store_path(tmp_path / "outputs", "tokens")
            write_store(path, sample())
        finally:
            os.umask(previous)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644

    def test_stray_temp_file_is_ignored_by_status(self, tmp_path: Path) -> None:
        """A killed run's temp file is neither a chapter's output nor an orphan."""
        project = make_project(tmp_path, {"ok": "# %% a\nprint(1)\n"})
        project.store_dir.mkdir()
        (project.store_dir / ".ok.json.k1l2.tmp").write_text("{half", encoding="utf-8")
        result = invoke("--root", str(tmp_path), "status", "--device", "cpu")
        assert result.exit_code == 0
        assert "missing" in result.output and ".tmp" not in result.output

    def test_lock_names_its_holder(self, tmp_path: Path) -> None:
        """A second holder of a chapter's lock is refused with the first one's pid."""
        script = textwrap.dedent("""\
            import sys, time
            from pathlib import Path
            from llmdocs.locks import chapter_lock
            with chapter_lock(Path(sys.argv[1]), "ok", "snippets/ok.py"):
                print("held", flush=True)
                time.sleep(60)
            """)
        holder = subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "held\n"
            with (
                pytest.raises(ChapterLocked) as caught,
                chapter_lock(tmp_path, "ok", "snippets/ok.py"),
            ):
                pass
            assert f"pid {holder.pid}" in str(caught.value)
            assert str(caught.value).startswith("snippets/ok.py: another llmdocs run")
            with chapter_lock(tmp_path, "other", "snippets/other.py"):
                pass  # other chapters are free
        finally:
            holder.kill()
            holder.wait()
        with chapter_lock(tmp_path, "ok", "snippets/ok.py"):
            pass  # a dead holder leaves no stale lock


def _environ(entry: Path) -> bytes:
    try:
        return (entry / "environ").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


SPAWNS = """\
    # %% spawn
    import os, subprocess, sys
    child = subprocess.Popen(["sleep", "300"])
    session = subprocess.Popen(["sleep", "301"], start_new_session=True)
    daemon = subprocess.run(
        [sys.executable, "-c",
         "import subprocess as s; p = s.Popen(['sleep', '302'], start_new_session=True,"
         " stdout=s.DEVNULL, stderr=s.DEVNULL);"
         " print(p.pid)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    print(child.pid, session.pid, daemon)
    """

NOISY = """\
    # %% noisy
    import sys
    print("one\\r\\ntwo")
    print("\\x1b]0;title\\x07\\x1b[31mred\\x1b[0m", end="")
    for i in range(3):
        print(f"\\r{i * 50}%", end="")
    print()
    print("y" * 3_000_000)
    """


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Any, list[int]]:
    """One `llmdocs run` over a project with good and faulty chapters (kernel)."""
    root = tmp_path_factory.mktemp("faulty")
    project = make_project(root, {
        "a-latin": b"# %% a\nprint('\xe9')\n",
        "b-model": """\
            # %% load
            import os
            print(os.environ.get("LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct"))
            """,
        "c-noisy": NOISY,
        "d-spawns": SPAWNS,
    })
    project.store_dir.mkdir()
    (project.store_dir / ".c-noisy.json.abc123.tmp").write_text("{half", encoding="utf-8")
    blocker = root / "not-a-folder"
    blocker.write_text("a file where the model cache should be", encoding="utf-8")
    result = invoke(
        "--root", str(root), "--max-output", "100000", "run", "--device", "cpu",
        env={"LLMDOCS_CACHE_DIR": str(blocker / "cache")},
    )
    stored = read_store(store_path(project.store_dir, "d-spawns"))
    pids = [int(p) for p in "".join(stored.cells["spawn"].outputs[0]["text"]).split()]
    return project, result, pids


class TestFaultyRun:
    """kernel: faults in some chapters are theirs alone; the rest run and are clean."""

    def test_run_fails_with_a_summary_and_no_traceback(
        self, faulty_run: tuple[Project, Any, list[int]]
    ) -> None:
        """Exit 1; both faulty chapters are listed with file, what happened and the fix."""
        _, result, _ = faulty_run
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert "2 chapter(s) failed" in result.output
        assert "snippets/a-latin.py:2: not UTF-8" in result.output
        assert "  - snippets/b-model.py: " in result.output  # the model cache is not writable
        assert "LLMDOCS_CACHE_DIR" in result.output

    def test_other_chapters_still_ran(self, faulty_run: tuple[Project, Any, list[int]]) -> None:
        project, _, _ = faulty_run
        assert sorted(p.name for p in project.store_dir.glob("*.json")) == [
            "c-noisy.json", "d-spawns.json"
        ]

    def test_captured_text_is_clean_and_cut(
        self, faulty_run: tuple[Project, Any, list[int]]
    ) -> None:
        """CRLF, title, colour and progress cleaned in a real kernel; 3 MB cut at the limit."""
        project, _, _ = faulty_run
        outputs = read_store(store_path(project.store_dir, "c-noisy")).cells["noisy"].outputs
        stdout = "".join(outputs[0]["text"])
        assert stdout.startswith("one\ntwo\n100%\nyyy")  # "red" overwritten by \r
        assert len(stdout) == 100_000
        assert "more characters not stored" in "".join(outputs[1]["text"])

    def test_stray_temp_file_was_cleaned(
        self, faulty_run: tuple[Project, Any, list[int]]
    ) -> None:
        project, _, _ = faulty_run
        assert list(project.store_dir.glob(".*.tmp")) == []

    def test_processes_started_by_cells_are_gone(
        self, faulty_run: tuple[Project, Any, list[int]]
    ) -> None:
        """A child, a child in its own session and an orphaned daemon all ended with the chapter."""
        _, _, pids = faulty_run
        assert len(pids) == 3
        deadline = time.monotonic() + 5
        while any(map(_alive, pids)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in pids if _alive(pid)] == []


class TestBuildRunsAFailingChapterOnce:
    """kernel: with build-time capture, a failing chapter runs once per build, not per language."""

    def test_failing_chapter_runs_once(self, tmp_path: Path) -> None:


        root = copy_fixture_site(tmp_path)
        (root / "snippets" / "basics.py").write_text(
            "# %% hello\nraise RuntimeError('broken on purpose')\n", encoding="utf-8"
        )
        for page in ("index.en.md", "index.zh.md"):
            (root / "docs" / page).write_text("# Page\n\n<!-- llmdocs basics:hello -->\n",
                                              encoding="utf-8")
        result = build(root, execute=True)
        assert result.log.count("broken on purpose") == 1, result.log
        assert "not run again in this build: basics" in result.log

    def test_near_miss_fails_a_strict_build(self, tmp_path: Path) -> None:
        """`<!-- LLMDOCS …` on a page is a warning, so `mkdocs build --strict` fails."""


        root = copy_fixture_site(tmp_path)
        for page in ("index.en.md", "index.zh.md"):
            (root / "docs" / page).write_text("# Page\n\n<!-- LLMDOCS basics:hello -->\n",
                                              encoding="utf-8")
        result = build(root, strict=True)
        assert result.returncode != 0
        assert "index.en.md:3: '<!-- LLMDOCS basics:hello -->' looks like" in result.log


def test_sample_is_valid() -> None:
    """The helper's sample passes the schema (so the forgeries above test one change each)."""
    assert dataclasses.asdict(sample())["chapter"] == "tokens"


class TestKernelAndSignals:
    """kernel: a kernel that cannot start, and a run stopped with SIGTERM."""

    def test_kernel_that_dies_at_start_is_the_chapters_failure(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A kernel dying before it answers becomes a failure naming the chapter, not a crash."""
        from llmdocs.runner import run_chapters

        broken = tmp_path / "broken-kernel"
        broken.mkdir()
        (broken / "ipykernel_launcher.py").write_text("raise SystemExit(3)\n", encoding="utf-8")
        monkeypatch.setenv("PYTHONPATH", str(broken))  # the kernel inherits it, this process not
        project = make_project(tmp_path / "p", {"one": "# %% a\nprint(1)\n",
                                                "two": "# %% a\nprint(2)\n"})
        summary = run_chapters(project, device="cpu")
        assert [r.chapter for r in summary.failures] == ["one", "two"]
        for run in summary.failures:
            assert str(run.failure).startswith(f"snippets/{run.chapter}.py: ")
            assert "Kernel died" in str(run.failure) and "--debug" in str(run.failure)

    def test_terminated_run_leaves_no_processes_or_temp_files(self, tmp_path: Path) -> None:
        """SIGTERM to `llmdocs run` unwinds at once: exit 143, the running chapter's detached
        child and the kernel started ahead for the next chapter are ended."""
        sleepy = """\
            # %% sleep
            import os, pathlib, subprocess, time
            child = subprocess.Popen(["sleep", "303"], start_new_session=True)
            pathlib.Path(f"child-{os.getpid()}.pid").write_text(str(child.pid))
            time.sleep(120)
            """
        project = make_project(tmp_path, {"a-sleepy": sleepy, "b-sleepy": sleepy})
        run = subprocess.Popen(
            [sys.executable, "-m", "llmdocs.cli", "--root", str(project.root), "run",
             "--device", "cpu"],
            cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 60
        while not list(project.root.glob("child-*.pid")) and time.monotonic() < deadline:
            time.sleep(0.2)
        [pid_file] = project.root.glob("child-*.pid")
        time.sleep(0.2)
        child = int(pid_file.read_text())
        assert _alive(child)
        run.terminate()
        output, _ = run.communicate(timeout=30)  # the cell sleeps 120 s: it did not finish
        assert run.returncode == 143, output
        assert "Traceback" not in output
        assert not _alive(child)
        assert len(list(project.root.glob("child-*.pid"))) == 1  # b-sleepy never ran a cell
        leftovers = [
            entry.name for entry in Path("/proc").iterdir() if entry.name.isdigit()
            and f"LLMDOCS_KERNEL_RUN={run.pid}-".encode() in _environ(entry)
        ]
        assert leftovers == []  # neither kernel (the running one, the one started ahead)
        assert not list(project.root.rglob("*.tmp"))
