"""Translation sync: every page exists in both languages and embeds the same cells.

Compares each `<page>.zh.md` with its `<page>.en.md`: both must exist, embed the same
chapter:cell references in the same order, and have the same number of headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .directives import DirectiveError, find_directives, unfenced_lines

LANGUAGES = ("zh", "en")
PAGE = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2})\.md$")
HEADING = re.compile(r"^#{1,6}\s+\S")


@dataclass(frozen=True)
class Problem:
    page: str
    message: str

    def __str__(self) -> str:
        return f"{self.page}: {self.message}"


def headings(markdown: str) -> int:
    """Markdown headings outside fenced code blocks."""
    return sum(1 for _, line in unfenced_lines(markdown) if HEADING.match(line))


def check_translations(docs_dir: Path, languages: tuple[str, ...] = LANGUAGES) -> list[Problem]:
    """Every mismatch between the language versions of each page, in a stable order."""
    pages: dict[str, dict[str, Path]] = {}
    for path in sorted(docs_dir.rglob("*.md")):
        match = PAGE.match(path.relative_to(docs_dir).as_posix())
        if match and match["lang"] in languages:
            pages.setdefault(match["stem"], {})[match["lang"]] = path
    problems: list[Problem] = []
    for stem, versions in sorted(pages.items()):
        for language in languages:
            if language not in versions:
                have = next(iter(versions.values())).relative_to(docs_dir).as_posix()
                problems.append(Problem(f"{stem}.{language}.md", f"missing (translate {have})"))
        if len(versions) < len(languages):
            continue
        problems += _compare(docs_dir, [versions[lang] for lang in languages])
    return problems


def _compare(docs_dir: Path, paths: list[Path]) -> list[Problem]:
    names = [p.relative_to(docs_dir).as_posix() for p in paths]
    texts = [p.read_text(encoding="utf-8") for p in paths]
    problems: list[Problem] = []
    try:
        refs = [[d.ref for d in find_directives(t, n)] for t, n in zip(texts, names, strict=True)]
    except DirectiveError as exc:
        return [Problem(str(exc).split(":")[0], str(exc))]
    first, other = refs[0], refs[1]
    if first != other:
        for index in range(max(len(first), len(other))):
            a = first[index] if index < len(first) else "(nothing)"
            b = other[index] if index < len(other) else "(nothing)"
            if a != b:
                problems.append(Problem(
                    names[1],
                    f"embedded cell #{index + 1} is {b}, but {names[0]} has {a} there",
                ))
                break
    counts = [headings(t) for t in texts]
    if counts[0] != counts[1]:
        problems.append(Problem(
            names[1], f"{counts[1]} headings, but {names[0]} has {counts[0]}"
        ))
    return problems
