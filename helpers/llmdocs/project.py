"""Where a project's parts live: snippets/, their stored outputs, docs/ and mkdocs.yml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .chapters import Chapter, chapter_paths, load_chapter
from .errors import ChapterError


@dataclass(frozen=True)
class Project:
    """A checkout of the site: everything is found relative to its root."""

    root: Path

    @property
    def snippets_dir(self) -> Path:
        return self.root / "snippets"

    @property
    def store_dir(self) -> Path:
        return self.snippets_dir / "outputs"

    @property
    def docs_dir(self) -> Path:
        return self.root / "docs"

    def chapter_names(self) -> list[str]:
        return [p.stem for p in chapter_paths(self.snippets_dir)]

    def chapter_path(self, name: str) -> Path:
        return self.snippets_dir / f"{name}.py"

    def chapter(self, name: str) -> Chapter:
        """Parse a chapter by name; ChapterError naming the file when it does not exist."""
        path = self.chapter_path(name)
        if not path.is_file():
            known = ", ".join(self.chapter_names()) or "none"
            raise ChapterError(
                f"{self.relative(path)}: unknown chapter {name!r} (known chapters: {known})"
            )
        return load_chapter(path)

    def relative(self, path: Path) -> str:
        try:
            return str(Path(path).resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)


def chapter_name(argument: str) -> str:
    """Accept 'tokens', 'tokens.py' or 'snippets/tokens.py' for the chapter 'tokens'."""
    return Path(argument).stem if argument.endswith(".py") else argument


def find_project(start: Path | None = None) -> Project:
    """The nearest folder at or above ``start`` holding a snippets/ folder."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "snippets").is_dir():
            return Project(folder)
    raise ChapterError(f"{here}: no snippets/ folder here or above; run llmdocs in the project")
