"""Tables of measured numbers from benchmarks/results.json, for `<!-- benchmark-results … -->`.

The performance page types no number: `make bench` writes the results file (with the machine,
versions and date), and each marker line becomes a Markdown table in the page's language.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

MARKER = re.compile(r"^<!--\s*benchmark-results\s+(?P<section>[\w-]+)\s*-->[ \t]*$", re.MULTILINE)
HEADERS = {
    "en": ("Measure", "Result", "Target"),
    "zh": ("指标", "结果", "目标"),
}
MACHINE = {
    "en": "Measured {measured} (UTC) on {cpu}, {cores} cores, {memory_gib} GiB of memory, GPU: "
          "{gpu}; Python {python}, {packages}; {chapters} chapters; commit {commit}; load "
          "average {load} before and after.",
    "zh": "测量于 {measured}（UTC），机器：{cpu}，{cores} 核，{memory_gib} GiB 内存，GPU：{gpu}；"
          "Python {python}，{packages}；共 {chapters} 章；提交 {commit}；前后平均负载 {load}。",
}


NOT_MEASURED = {
    "en": "*Not measured yet: run `make bench` (`benchmarks/rebuild.py --sections {name}`).*",
    "zh": "*尚未测量：运行 `make bench`（`benchmarks/rebuild.py --sections {name}`）。*",
}


def has_markers(markdown: str) -> bool:
    return "benchmark-results" in markdown and MARKER.search(markdown) is not None


def render_markers(
    markdown: str, results_path: Path, language: str, page: str, warn: Callable[[str], None]
) -> str:
    """Replace each marker line with its section's table (and the machine line); a section
    never measured becomes a note naming the command; an unreadable file is also ``warn``ed."""
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        warn(f"{page}: cannot read {results_path.name} ({exc}); run `make bench`")
        results = {}
    lang = language if language in HEADERS else "en"

    def table(match: re.Match[str]) -> str:
        name = match["section"]
        found = results.get("sections", {}).get(name)
        if found is None:  # a partial run: the page says so, the build goes on
            return NOT_MEASURED[lang].format(name=name)
        return section_markdown(found, results.get("machine", {}), lang)

    return MARKER.sub(table, markdown)


def section_markdown(found: dict[str, Any], machine: dict[str, Any], lang: str) -> str:
    """One section as a Markdown table, followed by where and when it was measured."""
    measure, result, target = HEADERS[lang]
    lines = [f"| {measure} | {result} | {target} |", "|---|---|---|"]
    for row in found["rows"]:
        lines.append(f"| {_cell(row['label'][lang])} | {_cell(format_value(row))} "
                     f"| {_cell(row.get('target', ''))} |")
    versions = machine.get("versions", {})
    packages = ", ".join(f"{k} {v}" for k, v in versions.items() if k != "llmdocs")
    note = MACHINE[lang].format(
        measured=found.get("measured", "?").replace("T", " ").replace("+00:00", ""),
        packages=packages, load=" / ".join(str(x) for x in found.get("load_average", [])),
        **{k: machine.get(k, "?") for k in
           ("cpu", "cores", "memory_gib", "gpu", "python", "chapters", "commit")},
    )
    return "\n".join(lines) + "\n\n<small>" + _cell(note) + "</small>\n"


def format_value(row: dict[str, Any]) -> str:
    value = row["value"]
    text = f"{value:.{row.get('digits', 2)}f}" if isinstance(value, float) else str(value)
    unit = row.get("unit", "")
    return f"{text}{unit}" if unit in ("×", "") else f"{text} {unit}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
