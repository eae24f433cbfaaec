"""The performance page's tables come from benchmarks/results.json, never typed numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from llmdocs.mkdocs_plugin.results import render_markers

ROOT = Path(__file__).resolve().parent.parent
RESULTS = {
    "machine": {"cpu": "Test CPU", "cores": 2, "memory_gib": 24, "gpu": "none",
                "python": "3.11.7", "versions": {"torch": "2.13.0"}, "chapters": 10,
                "commit": "abc1234"},
    "sections": {"refresh": {"measured": "2026-11-27T18:00:00+00:00", "load_average": [1.0, 2.0],
                             "rows": [{"id": "refresh_ratio", "label": {"en": "Ratio | x",
                                                                        "zh": "比值"},
                                       "value": 1.2345, "unit": "", "digits": 2,
                                       "target": "≤ 1.3"}]}},
}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A results file with one measured section, refresh."""
    written = tmp_path / "results.json"
    written.write_text(json.dumps(RESULTS), encoding="utf-8")
    return written


def test_marker_becomes_a_table_in_the_page_language(path: Path) -> None:
    """A marker line turns into a table with the value formatted and the machine named."""
    warnings: list[str] = []
    en = render_markers("x\n<!-- benchmark-results refresh -->\ny", path, "en", "p.md",
                        warnings.append)
    assert "| Ratio \\| x | 1.23 | ≤ 1.3 |" in en and "Test CPU" in en and "abc1234" in en
    zh = render_markers("<!-- benchmark-results refresh -->", path, "zh", "p.md", warnings.append)
    assert "| 指标 | 结果 | 目标 |" in zh and "| 比值 | 1.23 |" in zh
    assert warnings == []


def test_missing_section_is_a_note_naming_the_command(path: Path) -> None:
    """A section never measured renders a note with the command that measures it."""
    out = render_markers("<!-- benchmark-results rebuild -->", path, "en", "p.md", print)
    assert "Not measured yet" in out and "--sections rebuild" in out


def test_unreadable_results_file_warns(tmp_path: Path) -> None:
    """No results file: every marker is a note and the build log names the fix."""
    warnings: list[str] = []
    out = render_markers("<!-- benchmark-results page -->", tmp_path / "none.json", "zh",
                         "p.md", warnings.append)
    assert "尚未测量" in out and warnings and "make bench" in warnings[0]


def test_performance_pages_type_no_numbers() -> None:
    """Both performance pages hold markers and no measured number (digits with a unit)."""
    for language in ("en", "zh"):
        text = (ROOT / "docs" / f"performance.{language}.md").read_text(encoding="utf-8")
        assert "<!-- benchmark-results refresh -->" in text
        assert not re.findall(r"\d+(?:\.\d+)?\s*(?:s|秒|MiB|KiB|GB|×)\b", text)


def test_committed_results_name_machine_versions_and_date() -> None:
    """benchmarks/results.json records where, with what and when each section was measured."""
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    assert {"cpu", "cores", "versions", "python"} <= set(results["machine"])
    for section in results["sections"].values():
        assert section["measured"] and section["rows"]
