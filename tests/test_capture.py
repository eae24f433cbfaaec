"""Turning raw kernel outputs into the clean, stable form that is stored."""

from __future__ import annotations

from llmdocs.capture import clean_text, convert_outputs, traceback_line


class TestCleanText:
    def test_ansi_colours_are_removed(self) -> None:
        """ANSI escape sequences disappear, the text between them stays."""
        assert clean_text("\x1b[0;31mValueError\x1b[0m: bad") == "ValueError: bad"

    def test_carriage_returns_keep_the_last_rewrite(self) -> None:
        """A line rewritten with carriage returns keeps only what was written last."""
        assert clean_text("10%\r50%\r100%\ndone\n") == "100%\ndone\n"


class TestConvertOutputs:
    def test_adjacent_streams_merge_into_lines(self) -> None:
        """Consecutive chunks of one stream become one output stored as lines."""
        raw = [
            {"output_type": "stream", "name": "stdout", "text": "a"},
            {"output_type": "stream", "name": "stdout", "text": "b\nc\n"},
            {"output_type": "stream", "name": "stderr", "text": "warn\n"},
        ]
        assert convert_outputs(raw) == [
            {"stream": "stdout", "text": ["ab\n", "c\n"]},
            {"stream": "stderr", "text": ["warn\n"]},
        ]

    def test_rich_data_keeps_page_formats_and_wraps_png(self) -> None:
        """Only page-renderable types are kept, and PNG base64 is rewrapped in 76-char lines."""
        png = "A" * 100 + "\n" + "B" * 60
        raw = [{
            "output_type": "display_data",
            "data": {"image/png": png, "text/plain": "<Figure>", "application/json": {"a": 1}},
        }]
        [converted] = convert_outputs(raw)
        assert set(converted["data"]) == {"image/png", "text/plain"}
        lines = converted["data"]["image/png"]
        assert [len(line) for line in lines] == [76, 76, 8]
        assert "".join(lines) == "A" * 100 + "B" * 60

    def test_error_keeps_name_value_and_clean_traceback(self) -> None:
        """An error output keeps ename and evalue, and its traceback loses ANSI codes."""
        raw = [{
            "output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
            "traceback": ["\x1b[0;31mZeroDivisionError\x1b[0m", "Cell In[3], line 2"],
        }]
        [converted] = convert_outputs(raw)
        assert converted["error"]["ename"] == "ZeroDivisionError"
        assert converted["error"]["evalue"] == "division by zero"
        assert converted["error"]["traceback"] == ["ZeroDivisionError\n", "Cell In[3], line 2"]

    def test_empty_stream_is_dropped(self) -> None:
        """A stream chunk that is empty after cleaning stores nothing."""
        assert convert_outputs([{"output_type": "stream", "name": "stdout", "text": ""}]) == []


class TestTracebackLine:
    def test_innermost_frame_in_the_cell_wins(self) -> None:
        """With several 'Cell In[n], line k' frames, the last one's line is returned."""
        trace = ["Cell In[2], line 5\n", "  f()\n", "Cell In[2], line 2, in f\n"]
        assert traceback_line(trace) == 2

    def test_frames_of_other_cells_are_ignored_when_count_given(self) -> None:
        """Given the failing cell's count, a deeper frame from an earlier cell is skipped."""
        trace = ["Cell In[4], line 3\n", "----> 3 f()\n", "Cell In[2], line 7, in f()\n"]
        assert traceback_line(trace, 4) == 3
        assert traceback_line(trace, 9) is None

    def test_no_cell_frame_gives_none(self) -> None:
        """A traceback without a cell frame gives None."""
        assert traceback_line(["File lib.py, line 3\n"]) is None
