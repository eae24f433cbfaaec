"""The `llmdocs` command: run, status, check, env, new, sync."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from .environment import DEVICES
from .errors import LlmdocsError
from .profiles import PROFILES
from .project import Project, chapter_name, find_project, project_at
from .settings import (
    DEFAULT_MAX_OUTPUT,
    DEFAULT_TIMEOUT_S,
    MAX_OUTPUT_ENV,
    MAX_OUTPUT_RANGE,
    TIMEOUT_RANGE,
)
from .status import State

if TYPE_CHECKING:
    from .execute import Progress as ProgressFn
    from .runner import ChapterRun

T = TypeVar("T")
console = Console(stderr=True, highlight=False)

STATE_STYLE = {
    State.FRESH: "green", State.STALE_ENV: "yellow", State.STALE_CODE: "red",
    State.MISSING: "red", State.BROKEN: "red",
}

profile_option = click.option(
    "--profile", type=click.Choice(PROFILES), default="offline", show_default=True,
    envvar="LLMDOCS_PROFILE", help="offline: embedded models; reference: the source's Hub models.",
)
device_option = click.option(
    "--device", type=click.Choice(DEVICES), default="auto", show_default=True,
    envvar="LLMDOCS_DEVICE", help="auto picks CUDA when a GPU is present.",
)


class LlmdocsGroup(click.Group):
    """Every fault ends as one clear message and a non-zero exit, never a bare traceback:
    our own errors (which name the file and the fix) as they are, anything else as an
    unexpected error naming its type; the traceback only with --debug."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except LlmdocsError as exc:
            if ctx.meta.get(DEBUG):
                raise
            raise click.ClickException(str(exc)) from None
        except Exception as exc:
            if ctx.meta.get(DEBUG):
                raise
            raise click.ClickException(
                f"unexpected {type(exc).__name__}: {exc} "
                "(rerun as `llmdocs --debug …` for the traceback)"
            ) from None


DEBUG = "llmdocs.debug"
TIMEOUT = click.IntRange(*TIMEOUT_RANGE)


@click.group(cls=LlmdocsGroup)
@click.option("--root", type=click.Path(file_okay=False), default=None,
              help="Project root: the folder holding snippets/ (default: the nearest one).")
@click.option("--max-output", type=click.IntRange(*MAX_OUTPUT_RANGE), default=None,
              envvar=MAX_OUTPUT_ENV, metavar="CHARS",
              help=f"Characters of output one cell may store before it is cut "
                   f"[default: {DEFAULT_MAX_OUTPUT:,}].")
@click.option("--debug", is_flag=True, help="Show tracebacks of failures.")
@click.pass_context
def main(ctx: click.Context, root: str | None, max_output: int | None, debug: bool) -> None:
    """Run LLM Basics snippet chapters and keep their stored outputs current."""
    import logging
    import os
    import signal
    import threading
    from pathlib import Path

    ctx.meta[DEBUG] = debug
    if debug:
        os.environ["LLMDOCS_DEBUG"] = "1"  # child processes (materialize) show tracebacks too
        logging.basicConfig(format="%(name)s: %(message)s")
        logging.getLogger("llmdocs").setLevel(logging.DEBUG)
    if max_output is not None:
        os.environ[MAX_OUTPUT_ENV] = str(max_output)  # read by execute, and by its kernels
    if threading.current_thread() is threading.main_thread():
        # A terminated run unwinds like an interrupted one: kernels and the processes their
        # cells started are ended, temp files removed.
        previous = signal.signal(signal.SIGTERM, _terminate)
        ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, previous))
    ctx.obj = project_at(Path(root)) if root else find_project()


def _terminate(number: int, frame: object) -> None:
    from .processes import end_all_started_here

    end_all_started_here()  # kernels end now, even those running in worker threads
    raise SystemExit(128 + number)


@main.command()
@click.argument("chapters", nargs=-1)
@click.option("--force", is_flag=True, help="Run even chapters whose outputs are fresh.")
@profile_option
@device_option
@click.option("--timeout", type=TIMEOUT, default=DEFAULT_TIMEOUT_S, show_default=True,
              envvar="LLMDOCS_TIMEOUT", help="Seconds one cell may run before it is stopped.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              envvar="LLMDOCS_JOBS", help="Chapters running their cells at once, each in its "
              "own new kernel.")
@click.option("--prestart/--no-prestart", default=True, show_default=True,
              envvar="LLMDOCS_PRESTART", help="Start the next chapter's kernel, its heavy "
              "imports done, while the current one runs.")
@click.pass_obj
def run(project: Project, chapters: tuple[str, ...], force: bool, profile: str, device: str,
        timeout: int, jobs: int, prestart: bool) -> None:
    """Execute stale chapters (or CHAPTERS) and update their stored outputs."""
    _require_execution()
    from .runner import describe_failure, run_chapters

    names = [chapter_name(c, project) for c in chapters]
    started = time.perf_counter()
    summary = _with_progress(run_chapters, project, names or None, force=force,
                             profile=profile, device=device, timeout_s=timeout, jobs=jobs,
                             prestart=prestart)
    for chapter_run in summary.runs:
        if not chapter_run.executed:
            console.print(f"  [dim]{chapter_run.chapter}: skipped ({chapter_run.reason})[/]")
        elif chapter_run.failure:
            console.print(
                f"  [red]{chapter_run.chapter}: FAILED[/] after {chapter_run.wall_s:.1f} s"
            )
        else:
            console.print(f"  [green]{chapter_run.chapter}[/]: {chapter_run.cells} cells, "
                          f"{chapter_run.wall_s:.1f} s (kernel start "
                          f"{chapter_run.kernel_start_s:.1f} s), {_outcome(chapter_run)}",
                          soft_wrap=True)
    executed = sum(1 for r in summary.runs if r.executed)
    console.print(f"{executed} chapter(s) executed, {summary.cells_executed} cells, "
                  f"{time.perf_counter() - started:.1f} s")
    if summary.failures:
        console.print(f"[red]{len(summary.failures)} chapter(s) failed; their previous "
                      "stored outputs are untouched:[/]")
        for failed in summary.failures:
            assert failed.failure is not None
            console.print(f"  - {describe_failure(failed.failure)}", soft_wrap=True)
        sys.exit(1)


def _require_execution() -> None:
    """Before importing the runner: the light install says exactly what to add."""
    from .kernels import require_execution

    try:
        require_execution()
    except LlmdocsError as exc:
        raise click.ClickException(str(exc)) from None


def _outcome(chapter_run: ChapterRun) -> str:
    """What happened to the stored file, in the comparator's words."""
    from .compare import Verdict

    verdict = chapter_run.verdict
    if verdict is None:
        return "stored output written"
    if verdict.verdict is Verdict.DIFFERS:
        what = "updated" if chapter_run.changed else "unchanged"
        return f"stored output {what} ({verdict.describe()})"
    return f"{verdict.verdict.label}, stored output kept byte-identical"


def _with_progress(work: Callable[..., T], *args: Any, **options: Any) -> T:
    """Call ``work`` (run_chapters or verify_chapters) under the progress line; its
    LlmdocsError (a refused device, say) becomes the command's one-line error."""
    try:
        with _progress_bar() as (on_chapter, on_cell):
            return work(*args, progress=on_cell, on_chapter=on_chapter, **options)
    except LlmdocsError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def _progress_bar() -> Iterator[tuple[ProgressFn, ProgressFn]]:
    """A transient spinner line: chapter, then cell, with elapsed time."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)
        state = {"chapter": ""}

        def on_chapter(name: str, index: int, total: int) -> None:
            state["chapter"] = name
            bar.update(task, description=f"[bold]{name}[/] ({index}/{total}) · starting kernel")

        def on_cell(cell: str, index: int, total: int) -> None:
            bar.update(task, description=f"[bold]{state['chapter']}[/] · {cell} ({index}/{total})")

        yield on_chapter, on_cell


@main.command()
@click.argument("chapters", nargs=-1)
@profile_option
@device_option
@click.option("--timeout", type=TIMEOUT, default=DEFAULT_TIMEOUT_S, show_default=True,
              envvar="LLMDOCS_TIMEOUT", help="Seconds one cell may run before it is stopped.")
@click.pass_obj
def verify(project: Project, chapters: tuple[str, ...], profile: str, device: str,
           timeout: int) -> None:
    """Re-run chapters (default: all) in fresh kernels and compare with the stored outputs.

    Writes nothing. Numbers may differ within tolerance (float noise across machines);
    any other difference, a failure or a missing file exits 1.
    """
    _require_execution()
    from .verify import verify_chapters

    names = [chapter_name(c, project) for c in chapters]
    started = time.perf_counter()
    checks = _with_progress(verify_chapters, project, names or None, profile=profile,
                            device=device, timeout_s=timeout)
    for check in checks:
        style = "green" if check.ok else "red"
        console.print(f"  [{style}]{check.chapter}[/]: {check.describe()}", soft_wrap=True,
                      markup=True)
    bad = [c.chapter for c in checks if not c.ok]
    console.print(f"{len(checks)} chapter(s) verified in {time.perf_counter() - started:.1f} s; "
                  f"{len(checks) - len(bad)} reproduced, {len(bad)} not")
    if bad:
        console.print(f"[red]not reproduced: {', '.join(bad)}[/] — if the change is intended, "
                      "`llmdocs run --force CHAPTER` and commit snippets/outputs/")
        sys.exit(1)


def _status_table(project: Project, profile: str, device: str) -> tuple[Table, bool]:
    from .status import expected_environment, project_status

    table = Table("chapter", "state", "detail")
    blocking = False
    for status in project_status(project, expected_environment(profile, device)):
        style = STATE_STYLE[status.state]
        table.add_row(status.chapter, f"[{style}]{status.state.value}[/]", status.detail)
        blocking |= status.state.blocking
    return table, blocking


@main.command()
@profile_option
@device_option
@click.pass_obj
def status(project: Project, profile: str, device: str) -> None:
    """List each chapter as fresh, stale (code or environment) or missing."""
    table, _ = _status_table(project, profile, device)
    Console().print(table)


@main.command()
@profile_option
@device_option
@click.pass_obj
def check(project: Project, profile: str, device: str) -> None:
    """Like status, without executing anything; exit 1 when a chapter is code-stale or missing."""
    if not project.chapter_names():  # a CI gate pointed at the wrong folder must not pass
        raise click.ClickException(
            f"{project.relative(project.snippets_dir)}/ holds no chapters (snippets/<chapter>.py); "
            "is --root the project's root?"
        )
    table, blocking = _status_table(project, profile, device)
    Console().print(table)
    if blocking:
        console.print("[red]stored outputs are out of date:[/] run `llmdocs run`, then commit "
                      "snippets/outputs/")
    from .notebook_plan import stale_notebooks

    notebooks = stale_notebooks(project)
    for problem in notebooks:
        console.print(f"  [red]{problem}[/]")
    if notebooks:
        console.print("[red]generated notebooks are out of date:[/] run `llmdocs notebooks` "
                      "(or `mkdocs build`), then commit notebooks/")
    if blocking or notebooks:
        sys.exit(1)


@main.command()
@click.pass_obj
def notebooks(project: Project) -> None:
    """Write notebooks/<language>/<chapter>.ipynb from the pages and stored outputs."""
    from .notebook_plan import write_notebooks

    for path in write_notebooks(project):
        console.print(f"  wrote {path}")


@main.command()
@profile_option
@device_option
@click.pass_obj
def env(project: Project, profile: str, device: str) -> None:
    """Print `export` lines that point the snippets at the profile's models.

    eval "$(llmdocs env)" && python snippets/<chapter>.py shows what the site shows.
    """
    from .environment import resolve_device
    from .profiles import DEVICE_ENV, ROLES, model_locations

    variables = model_locations(profile, list(ROLES))
    variables[DEVICE_ENV] = resolve_device(device)
    for key, value in variables.items():
        click.echo(f"export {key}='{value}'")


@main.command()
@click.argument("chapter")
@click.option("--title", default=None, help="Page title (default: from the chapter name).")
@click.pass_obj
def new(project: Project, chapter: str, title: str | None) -> None:
    """Scaffold snippets/CHAPTER.py, its pages in both languages and a nav entry."""
    from .scaffold import new_chapter

    try:
        written = new_chapter(project, chapter_name(chapter), title)
    except LlmdocsError as exc:
        raise click.ClickException(str(exc)) from None
    for path in written:
        console.print(f"  wrote {project.relative(path)}")
    console.print(f"next: `llmdocs run {chapter_name(chapter)}`, then `mkdocs build --strict`")


@main.command()
@click.pass_obj
def sync(project: Project) -> None:
    """Check that every page exists in zh and en with the same embedded cells and headings."""
    from .translations import check_translations

    problems = check_translations(project.docs_dir)
    for problem in problems:
        click.echo(f"{project.relative(project.docs_dir)}/{problem}")
    if problems:
        raise click.ClickException(f"{len(problems)} translation problem(s)")
    click.echo("every page has both languages, the same embedded cells and headings")


if __name__ == "__main__":
    main()
