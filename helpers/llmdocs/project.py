"""Where a project's parts live: snippets/, their stored outputs, docs/ and mkdocs.yml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .chapters import CHAPTER_NAME, Chapter, chapter_paths, load_chapter
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
        """Parse a chapter by name; ChapterError naming the file when it does not exist.

        Only plain names pass (a-z, 0-9, '-', '_'), so no name reaches a file outside
        snippets/ nor, through it, a stored file outside snippets/outputs/.
        """
        if not CHAPTER_NAME.match(name):
            raise ChapterError(
                f"{name!r} is not a chapter name (a-z, 0-9, '-' and '_'; chapters live in "
                "snippets/<chapter>.py)"
            )
        path = self.chapter_path(name)
        if not path.is_file():
            known = ", ".join(self.chapter_names()) or "none"
            raise ChapterError(
                f"{self.relative(path)}: unknown chapter {name!r} (known chapters: {known})"
            )
        return load_chapter(path, path.relative_to(self.root).as_posix())

    def relative(self, path: Path) -> str:
        """``path`` as messages show it: relative to the root (never absolute inside it)."""
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)


def chapter_name(argument: str, project: Project | None = None) -> str:
    """Accept 'tokens', 'tokens.py' or a path to snippets/tokens.py for the chapter 'tokens'.

    ChapterError for anything else: a path outside the project's snippets/ folder (or, with
    no project, any folder but snippets/), a file in a subfolder, an invalid name.
    """
    path = Path(argument)
    name = path.stem if argument.endswith(".py") else argument
    if len(path.parts) > 1 or argument.endswith(".py"):
        folder = path.parent
        if project is not None and folder != Path("."):
            inside = project.snippets_dir.resolve()
            candidates = {(Path.cwd() / folder).resolve(), (project.root / folder).resolve()}
            ok = inside in candidates
        else:
            ok = folder in (Path("."), Path("snippets"))
        if not ok or not argument.endswith(".py"):
            raise ChapterError(
                f"{argument}: not a chapter; name one as CHAPTER, CHAPTER.py or "
                "snippets/CHAPTER.py (chapters live directly in snippets/)"
            )
    if not CHAPTER_NAME.match(name):
        raise ChapterError(
            f"{argument}: {name!r} is not a chapter name (a-z, 0-9, '-' and '_')"
        )
    return name


def project_at(root: Path) -> Project:
    """The project rooted at ``root``; ChapterError unless it has a snippets/ folder."""
    root = Path(root).resolve()
    if not (root / "snippets").is_dir():
        raise ChapterError(
            f"{root}: no snippets/ folder; pass the project's root (the folder holding "
            "snippets/ and mkdocs.yml) as --root"
        )
    return Project(root)


def find_project(start: Path | None = None) -> Project:
    """The nearest folder at or above ``start`` holding a snippets/ folder."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "snippets").is_dir():
            return Project(folder)
    raise ChapterError(f"{here}: no snippets/ folder here or above; run llmdocs in the project")
