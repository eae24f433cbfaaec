"""`llmdocs new CHAPTER`: a runnable chapter, its pages in both languages and nav entries."""

from __future__ import annotations

import re
from pathlib import Path

from .chapters import CHAPTER_NAME
from .errors import LlmdocsError
from .project import Project

SNIPPET = '''\
# %% [markdown]
# # {title}
#
# Each code cell has a name (after "# %%"); pages embed it as
# <!-- llmdocs {name}:hello -->

# %% hello
import os

# Pick models through the LLM_BASICS_* variables, e.g.
# model_id = os.environ.get("LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct")
print("Hello from the {name} chapter")
'''

PAGES = {
    "zh": "# {title}\n\n在这里用中文写本章的内容。\n\n<!-- llmdocs {name}:hello -->\n",
    "en": "# {title}\n\nWrite this chapter's prose here.\n\n<!-- llmdocs {name}:hello -->\n",
}
NAV_ITEM = re.compile(r"^(?P<indent>\s*)- (?:[^:]+:\s*)?(?P<page>[\w./-]+\.md)\s*$")


def new_chapter(project: Project, name: str, title: str | None = None) -> list[Path]:
    """Create the chapter's files; refuse to overwrite anything. Returns what was written."""
    if not CHAPTER_NAME.match(name):
        raise LlmdocsError(f"{name!r}: chapter names use a-z, 0-9, '-' and '_' only")
    title = title or name.replace("-", " ").replace("_", " ").capitalize()
    targets = {project.chapter_path(name): SNIPPET}
    for language, template in PAGES.items():
        targets[project.docs_dir / f"{name}.{language}.md"] = template
    existing = [project.relative(p) for p in targets if p.exists()]
    if existing:
        raise LlmdocsError(f"{', '.join(existing)} already exist(s); pick another chapter name")
    for path, template in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(name=name, title=title), encoding="utf-8")
    written = list(targets)
    config = project.root / "mkdocs.yml"
    if config.is_file() and add_nav_entry(config, f"{name}.md", project.docs_dir):
        written.append(config)
    return written


def add_nav_entry(config: Path, page: str, docs_dir: Path) -> bool:
    """Insert ``page`` after the last chapter page of the nav (a text edit keeps comments).

    A chapter page is one that embeds cells; without any, the page goes after the last
    page of the deepest list.
    """
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    try:
        start = next(i for i, line in enumerate(lines) if line.rstrip() == "nav:")
    except StopIteration:
        return False
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t", "-")) or not lines[end].strip()):
        end += 1
    items = [(i, NAV_ITEM.match(lines[i])) for i in range(start + 1, end)]
    pages = [(i, m) for i, m in items if m]
    if not pages:
        return False
    if any(m["page"] == page for _, m in pages):
        return False
    chapters = [(i, m) for i, m in pages if _embeds_cells(docs_dir, m["page"])]
    if chapters:
        index, match = chapters[-1]
    else:
        depth = max(len(m["indent"]) for _, m in pages)
        index, match = [(i, m) for i, m in pages if len(m["indent"]) == depth][-1]
    lines.insert(index + 1, f"{match['indent']}- {page}\n")
    config.write_text("".join(lines), encoding="utf-8")
    return True


def _embeds_cells(docs_dir: Path, page: str) -> bool:
    """Whether any language version of a nav page embeds a snippet cell."""
    stem = page[: -len(".md")]
    versions = [docs_dir / page, *docs_dir.glob(f"{stem}.*.md")]
    return any(p.is_file() and "<!-- llmdocs" in p.read_text(encoding="utf-8") for p in versions)
