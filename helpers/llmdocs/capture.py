"""Convert a kernel's raw outputs into the clean, stable form we store.

Noise is silenced at the source (see execute.KERNEL_ENV); here we only make text
deterministic: strip ANSI colours, apply carriage returns, merge adjacent streams,
keep the rich formats a page can show and split long payloads into diff-friendly lines.
"""

from __future__ import annotations

import re
from typing import Any

from .store import Output

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
KEPT_MIMETYPES = ("text/html", "image/svg+xml", "image/png", "text/plain")
BASE64_LINE = 76


def clean_text(text: str) -> str:
    """Drop ANSI escapes and keep, on each line, what follows its last carriage return."""
    text = ANSI.sub("", text)
    lines = text.split("\n")
    return "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line else line for line in lines)


def split_lines(text: str) -> list[str]:
    """Lines with their endings, the way nbformat stores multi-line strings."""
    return text.splitlines(keepends=True)


def join_lines(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def convert_outputs(raw_outputs: list[Any]) -> list[Output]:
    """nbformat outputs of one cell → our stored outputs."""
    converted: list[Output] = []
    for raw in raw_outputs:
        kind = raw.get("output_type")
        if kind == "stream":
            text = clean_text(join_lines(raw.get("text", "")))
            if converted and converted[-1].get("stream") == raw.get("name"):
                text = join_lines(converted[-1]["text"]) + text
                converted.pop()
            if text:
                converted.append({"stream": raw.get("name", "stdout"), "text": split_lines(text)})
        elif kind in ("display_data", "execute_result"):
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
    return converted


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
