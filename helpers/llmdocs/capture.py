"""Convert a kernel's raw outputs into the clean, stable form we store.

Noise is silenced at the source (see execute.KERNEL_ENV); here we only make text
deterministic and faithful to what a terminal shows: remove every terminal escape
sequence, apply carriage returns, make other control characters visible, merge adjacent
streams, keep the rich formats a page can show, cut a runaway cell's output at a size
limit, and split long payloads into diff-friendly lines.
"""

from __future__ import annotations

import re
from typing import Any

from .settings import DEFAULT_MAX_OUTPUT
from .store import Output

# Every ECMA-48 escape sequence a terminal would interpret instead of showing: CSI (colour,
# cursor moves, erase: ESC [ … or its 8-bit form), control strings ended by BEL or ST (OSC
# window titles and hyperlinks, DCS, SOS, PM, APC; an unterminated one ends with its line), and
# the short escapes (ESC c reset, ESC ( B character set, ESC 7 save cursor).
ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
)
# What is left: C0 controls but tab and newline, and DEL, become their visible Unicode
# "control pictures" (NUL → ␀, BEL → ␇, a stray ESC → ␛); C1 controls (U+0080–U+009F, which
# no UTF-8 terminal shows) are dropped.
VISIBLE: dict[int, int | None] = {
    code: 0x2400 + code for code in range(32) if chr(code) not in "\t\n"
}
VISIBLE[0x7F] = 0x2421
VISIBLE.update({code: None for code in range(0x80, 0xA0)})
KEPT_MIMETYPES = ("text/html", "image/svg+xml", "image/png", "text/plain")
BASE64_LINE = 76


def clean_text(text: str) -> str:
    """What a terminal would show of ``text``, as plain text.

    ``\\r\\n`` ends a line like ``\\n``; on a line overwritten with ``\\r`` (a progress
    bar) the last state written is kept; escape sequences are removed and the remaining
    control characters made visible (see VISIBLE).
    """
    text = ESCAPE.sub("", text.replace("\r\n", "\n"))
    if "\r" in text:
        text = "\n".join(_last_state(line) for line in text.split("\n"))
    return text.translate(VISIBLE)


def _last_state(line: str) -> str:
    """A line rewritten with carriage returns shows its last non-empty state."""
    if "\r" not in line:
        return line
    states = [state for state in line.split("\r") if state]
    return states[-1] if states else ""


def split_lines(text: str) -> list[str]:
    """Lines with their endings, the way nbformat stores multi-line strings."""
    return text.splitlines(keepends=True)


def join_lines(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def convert_outputs(raw_outputs: list[Any], max_output: int = DEFAULT_MAX_OUTPUT) -> list[Output]:
    """nbformat outputs of one cell → our stored outputs, at most ``max_output`` characters.

    Adjacent chunks of one stream are joined before cleaning, so a progress bar or an
    escape sequence split across chunks is cleaned as a whole.
    """
    converted: list[Output] = []
    pending: tuple[str, list[str]] | None = None  # a stream's raw chunks, not yet cleaned

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            text = clean_text("".join(pending[1]))
            if text:
                converted.append({"stream": pending[0], "text": split_lines(text)})
            pending = None

    for raw in raw_outputs:
        kind = raw.get("output_type")
        if kind == "stream":
            name = raw.get("name", "stdout")
            if pending is not None and pending[0] != name:
                flush()
            if pending is None:
                pending = (name, [])
            pending[1].append(join_lines(raw.get("text", "")))
            continue
        flush()
        if kind in ("display_data", "execute_result"):
            data = _convert_data(raw.get("data", {}))
            if data:
                converted.append({"data": data})
        elif kind == "error":
            traceback = clean_text("\n".join(raw.get("traceback", [])))
            converted.append({
                "error": {
                    "ename": raw.get("ename", ""),
                    "evalue": clean_text(raw.get("evalue", "")),
                    "traceback": split_lines(traceback),
                }
            })
    flush()
    return limit_size(converted, max_output)


def output_size(output: Output) -> int:
    """Characters of one stored output (text, base64 of images, traceback)."""
    if "stream" in output:
        return sum(map(len, output["text"]))
    if "data" in output:
        return sum(sum(map(len, value)) for value in output["data"].values())
    return sum(map(len, output.get("error", {}).get("traceback", [])))


def limit_size(outputs: list[Output], max_output: int) -> list[Output]:
    """Cut a cell's outputs after ``max_output`` characters and say so in a visible note.

    A stream is cut at the limit; rich data (an image, HTML) that does not fit whole is
    left out; errors are always kept (they explain a failure).
    """
    total = sum(output_size(output) for output in outputs)
    if total <= max_output:
        return outputs
    kept: list[Output] = []
    room = max_output
    for output in outputs:
        size = output_size(output)
        if "error" in output or size <= room:
            kept.append(output)
            room -= min(size, room)
        elif "stream" in output and room > 0:
            text = join_lines(output["text"])[:room]
            kept.append({"stream": output["stream"], "text": split_lines(text)})
            room = 0
    left_out = total - sum(output_size(output) for output in kept)
    note = (
        f"{'' if _ends_line(kept) else chr(10)}[llmdocs] output cut here: {left_out:,} more "
        f"characters not stored (limit {max_output:,} per cell; set LLMDOCS_MAX_OUTPUT "
        "to raise it)\n"
    )
    if kept and kept[-1].get("stream") == "stderr":
        kept[-1] = {"stream": "stderr", "text": split_lines(join_lines(kept[-1]["text"]) + note)}
    else:
        kept.append({"stream": "stderr", "text": split_lines(note.lstrip("\n"))})
    return kept


def _ends_line(outputs: list[Output]) -> bool:
    last = outputs[-1] if outputs else {}
    return last.get("stream") != "stderr" or join_lines(last["text"]).endswith("\n")


def _convert_data(data: dict[str, Any]) -> dict[str, list[str]]:
    kept: dict[str, list[str]] = {}
    for mimetype in KEPT_MIMETYPES:
        if mimetype not in data:
            continue
        value = join_lines(data[mimetype])
        if mimetype == "image/png":
            compact = "".join(value.split())
            kept[mimetype] = [
                compact[i : i + BASE64_LINE] for i in range(0, len(compact), BASE64_LINE)
            ]
        else:
            kept[mimetype] = split_lines(clean_text(value))
    return kept


def traceback_line(traceback: list[str], execution_count: int | None = None) -> int | None:
    """The line, within cell ``In[execution_count]`` (any cell if None), of its innermost frame.

    Pass the failing cell's count: a frame of a function defined in an earlier cell has
    that cell's count, and its line means nothing inside the failing one.
    """
    found = None
    for match in re.finditer(r"Cell In\[(\d+)\], line (\d+)", "".join(traceback)):
        if execution_count is None or int(match.group(1)) == execution_count:
            found = int(match.group(2))
    return found
