"""Execution through a real Jupyter kernel: the fixture chapter (no model), failures, reruns,
and the `llmdocs` command on top of it."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from llmdocs.cli import main
from llmdocs.project import Project
from llmdocs.runner import ChapterRun, RunSummary, describe_failure, run_chapters
from llmdocs.status import State, chapter_status, project_status
from llmdocs.store import read_store, store_path

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def outputs(project: Project, chapter: str, cell: str) -> list[dict[str, Any]]:
    """What the stored file of ``chapter`` holds for ``cell``."""
    return read_store(store_path(project.store_dir, chapter)).cells[cell].outputs


def stream_text(cell_outputs: list[dict[str, Any]], stream: str = "stdout") -> str:
    return "".join("".join(o["text"]) for o in cell_outputs if o.get("stream") == stream)


def run_of(summary: RunSummary, chapter: str) -> ChapterRun:
    [found] = [r for r in summary.runs if r.chapter == chapter]
    return found


def add_chapter(project: Project, name: str, text: str) -> Path:
    path = project.chapter_path(name)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def line_of(path: Path, code: str) -> int:
    """1-based number of the only line of ``path`` equal to ``code``."""
    [number] = [n for n, line in enumerate(path.read_text().splitlines(), 1) if line == code]
    return number


class TestCapturedOutputs:
    """Read-only checks on the session's one run of tests/fixtures/site."""

    def test_run_executed_every_cell_without_failure(
        self, executed_fixture_project: tuple[Project, RunSummary]
    ) -> None:
        """One chapter ran, all five cells (the expected error included), and nothing failed."""
        project, summary = executed_fixture_project
        assert [(r.chapter, r.executed, r.cells, r.changed) for r in summary.runs] == [
            ("basics", True, 5, True)
        ]
        assert summary.failures == []
        stored = read_store(store_path(project.store_dir, "basics"))
        assert list(stored.cells) == ["hello", "shared-state", "figure", "html", "expected-error"]

    def test_stdout_is_stored_literally(
        self, executed_fixture_project: tuple[Project, RunSummary]
    ) -> None:
        """Printed token text such as <s> and <|im_start|> is stored exactly as printed."""
        project, _ = executed_fixture_project
        assert outputs(project, "basics", "hello") == [
            {"stream": "stdout", "text": ["hello <s> & </s> <|im_start|>\n"]}
        ]

    def test_state_is_shared_between_cells(
        self, executed_fixture_project: tuple[Project, RunSummary]
    ) -> None:
        """A variable set in one cell is visible in the next cell of the same chapter."""
        project, _ = executed_fixture_project
        assert stream_text(outputs(project, "basics", "shared-state")) == "value is 42\n"

    def test_figure_is_a_png(self, executed_fixture_project: tuple[Project, RunSummary]) -> None:
        """plt.show() stores an image/png whose base64 decodes to a PNG file."""
        project, _ = executed_fixture_project
        [figure] = [o for o in outputs(project, "basics", "figure") if "data" in o]
        lines = figure["data"]["image/png"]
        assert all(len(line) <= 76 for line in lines)
        png = base64.b64decode("".join(lines))
        assert png.startswith(PNG_MAGIC)
        assert len(png) > 1000

    def test_html_is_captured(self, executed_fixture_project: tuple[Project, RunSummary]) -> None:
        """An HTML display result is stored as text/html, unchanged (escaping is the page's job)."""
        project, _ = executed_fixture_project
        [result] = outputs(project, "basics", "html")
        html = "".join(result["data"]["text/html"])
        assert html == "<b>bold</b><script>alert(1)</script>"

    def test_tagged_error_is_stored(
        self, executed_fixture_project: tuple[Project, RunSummary]
    ) -> None:
        """A cell tagged raises-exception stores its error (name, value, clean traceback)."""
        project, _ = executed_fixture_project
        [error] = [o["error"] for o in outputs(project, "basics", "expected-error")]
        assert error["ename"] == "ValueError"
        assert error["evalue"] == "shown on the page, on purpose"
        traceback = "".join(error["traceback"])
        assert "raise ValueError" in traceback
        assert "\x1b[" not in traceback

    def test_no_noise_in_stored_file(
        self, executed_fixture_project: tuple[Project, RunSummary]
    ) -> None:
        """No stderr output and none of the known warnings reach the stored file."""
        project, _ = executed_fixture_project
        body = json.loads(store_path(project.store_dir, "basics").read_text(encoding="utf-8"))
        for cell in body["cells"].values():  # base64 PNG left out: it may spell anything
            for output in cell["outputs"]:
                output.get("data", {}).pop("image/png", None)
        text = json.dumps(body)
        assert "hello <s>" in text
        for noise in ("IProgress", "TCP", "Loading weights", "Warning", "kernel"):
            assert noise not in text, noise
        streams = [o.get("stream") for c in body["cells"].values() for o in c["outputs"]]
        assert "stderr" not in streams
        assert "stdout" in streams

    def test_provenance_is_recorded(
        self, executed_fixture_project: tuple[Project, RunSummary]
    ) -> None:
        """The stored file records profile, device, versions, no models and a capture date."""
        project, _ = executed_fixture_project
        stored = read_store(store_path(project.store_dir, "basics"))
        assert (stored.profile, stored.device, stored.models) == ("offline", "CPU", {})
        assert set(stored.versions) == {"python", "torch", "transformers"}
        assert stored.versions["python"] == ".".join(map(str, sys.version_info[:3]))
        assert len(stored.captured) == len("2026-01-31")

    def test_second_run_executes_nothing(
        self, executed_fixture_project: tuple[Project, RunSummary]
    ) -> None:
        """With nothing changed, run_chapters executes 0 chapters and reports them fresh."""
        project, _ = executed_fixture_project
        again = run_chapters(project, device="cpu")
        assert [(r.chapter, r.executed, r.reason) for r in again.runs] == [
            ("basics", False, "fresh")
        ]
        assert again.cells_executed == 0


class TestIsolation:
    def test_state_is_not_shared_across_chapters(self, fixture_project: Project) -> None:
        """A chapter using a variable of another chapter fails with NameError: own kernel each."""
        add_chapter(fixture_project, "uses-basics", """\
            # %% reuse
            print(value)
            """)
        summary = run_chapters(fixture_project, device="cpu")
        assert [r.chapter for r in summary.runs] == ["basics", "uses-basics"]
        assert run_of(summary, "basics").failure is None
        failure = run_of(summary, "uses-basics").failure
        assert failure is not None
        assert "NameError: name 'value' is not defined" in str(failure)
        assert "snippets/uses-basics.py:2" in str(failure)


class TestFailures:
    WORKING = """\
        # %% [markdown]
        # Divides.

        # %% setup
        numerator = 1
        print("setup done")

        # %% divide
        denominator = 1
        print(numerator / denominator)
        """

    def test_failing_cell_is_reported_and_old_outputs_kept(self, fixture_project: Project) -> None:
        """A cell raising on its 2nd line is reported at file:line with its name and exception;
        the chapter's stored file stays byte-identical and the other chapters still run."""
        path = add_chapter(fixture_project, "a-broken", self.WORKING)
        first = run_chapters(fixture_project, ["a-broken"], device="cpu")
        assert first.failures == []
        stored_path = store_path(fixture_project.store_dir, "a-broken")
        before = stored_path.read_bytes()
        assert stream_text(outputs(fixture_project, "a-broken", "divide")) == "1.0\n"

        path.write_text(path.read_text().replace("denominator = 1", "denominator = 0"))
        summary = run_chapters(fixture_project, device="cpu")

        [failed] = summary.failures
        assert failed.chapter == "a-broken"
        line = line_of(path, "print(numerator / denominator)")
        message = str(failed.failure)
        assert message.startswith(f"snippets/a-broken.py:{line}: ")
        assert "cell 'divide' failed" in message
        assert "ZeroDivisionError: division by zero" in message
        assert failed.failure is not None
        assert "`llmdocs run snippets/a-broken.py`" in describe_failure(failed.failure)
        assert failed.cells == 1  # 'setup' ran, 'divide' did not complete

        assert stored_path.read_bytes() == before
        basics = run_of(summary, "basics")
        assert basics.executed and basics.failure is None and basics.cells == 5
        assert store_path(fixture_project.store_dir, "basics").is_file()
        assert chapter_status(fixture_project, "a-broken").state is State.STALE_CODE

    def test_error_raised_in_function_from_earlier_cell(self, fixture_project: Project) -> None:
        """When the raising frame is in an earlier cell, the line points at the failing cell's
        own call, not at a line computed from the other cell's traceback."""
        path = add_chapter(fixture_project, "nested", """\
            # %% define
            def f():
                x = 1
                return x / 0

            # %% other
            y = 2

            # %% call
            print(y)
            f()
            """)
        summary = run_chapters(fixture_project, ["nested"], device="cpu")
        [failed] = summary.failures
        assert str(failed.failure).startswith(f"snippets/nested.py:{line_of(path, 'f()')}: ")
        assert "cell 'call' failed: ZeroDivisionError" in str(failed.failure)

    def test_timeout_stops_the_cell(self, fixture_project: Project) -> None:
        """A cell running past timeout_s fails with 'timed out' well before it would finish."""
        add_chapter(fixture_project, "sleepy", """\
            # %% nap
            import time
            time.sleep(30)
            """)
        started = time.perf_counter()
        summary = run_chapters(fixture_project, ["sleepy"], device="cpu", timeout_s=3)
        elapsed = time.perf_counter() - started
        [failed] = summary.failures
        assert "snippets/sleepy.py:2: cell 'nap' failed: timed out after 3 s" in str(failed.failure)
        assert elapsed < 20
        assert not store_path(fixture_project.store_dir, "sleepy").exists()

    def test_dead_kernel_is_reported(self, fixture_project: Project) -> None:
        """A cell that kills its kernel fails with 'kernel died' instead of hanging."""
        add_chapter(fixture_project, "dies", """\
            # %% exit
            import os
            os._exit(3)
            """)
        started = time.perf_counter()
        summary = run_chapters(fixture_project, ["dies"], device="cpu", timeout_s=60)
        [failed] = summary.failures
        assert "cell 'exit' failed: kernel died" in str(failed.failure)
        assert time.perf_counter() - started < 30

    def test_malformed_chapter_fails_without_stopping_others(
        self, fixture_project: Project
    ) -> None:
        """A chapter with a duplicate cell name is a failure naming file:line; others still run."""
        add_chapter(fixture_project, "a-dup", "# %% x\na = 1\n# %% x\nb = 2\n")
        summary = run_chapters(fixture_project, device="cpu")
        [failed] = summary.failures
        assert failed.chapter == "a-dup"
        assert "a-dup.py:3: duplicate cell name 'x'" in str(failed.failure)
        assert run_of(summary, "basics").cells == 5

    def test_kernels_do_not_outlive_their_chapter(self, fixture_project: Project) -> None:
        """After a run returns, no kernel started for it is still alive."""
        if not Path("/proc/self").is_dir():
            pytest.skip("needs /proc to look up the kernel's process")
        add_chapter(fixture_project, "pid", "# %% pid\nimport os\nprint(os.getpid())\n")
        run_chapters(fixture_project, ["pid"], device="cpu")
        pid = int(stream_text(outputs(fixture_project, "pid", "pid")))
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{pid}").exists()


class TestRerun:
    def test_forced_rerun_keeps_stored_file_byte_identical(self, fixture_project: Project) -> None:
        """Re-running an unchanged chapter with force reproduces the file byte for byte (git
        stays clean), even though dates and timings were measured again."""
        if shutil.which("git") is None:
            pytest.skip("git is not installed")
        root = fixture_project.root
        run_chapters(fixture_project, device="cpu")
        git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-q", "-m", "outputs"], check=True)
        before = store_path(fixture_project.store_dir, "basics").read_bytes()

        summary = run_chapters(fixture_project, force=True, device="cpu")

        [run] = summary.runs
        assert run.executed and run.failure is None and run.changed is False
        assert store_path(fixture_project.store_dir, "basics").read_bytes() == before
        status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True,
                                check=True).stdout
        assert status == ""

    def test_code_edit_makes_chapter_run_again(self, fixture_project: Project) -> None:
        """Editing a cell's code makes only that chapter stale, and the next run updates it."""
        run_chapters(fixture_project, device="cpu")
        path = fixture_project.chapter_path("basics")
        path.write_text(path.read_text().replace("value = 6 * 7", "value = 6 * 8"))
        assert chapter_status(fixture_project, "basics").state is State.STALE_CODE
        summary = run_chapters(fixture_project, device="cpu")
        assert run_of(summary, "basics").changed is True
        assert stream_text(outputs(fixture_project, "basics", "shared-state")) == "value is 48\n"
        assert chapter_status(fixture_project, "basics").state is State.FRESH

    def test_prose_edit_runs_nothing(self, fixture_project: Project) -> None:
        """Editing only markdown cells leaves the chapter fresh: the next run executes nothing."""
        run_chapters(fixture_project, device="cpu")
        path = fixture_project.chapter_path("basics")
        path.write_text(path.read_text().replace("A chapter with no model", "Rewritten prose"))
        summary = run_chapters(fixture_project, device="cpu")
        assert [(r.executed, r.reason) for r in summary.runs] == [(False, "fresh")]


class TestCli:
    def invoke(self, project: Project, *args: str) -> Any:
        runner = CliRunner(env={"COLUMNS": "200"})
        return runner.invoke(main, ["--root", str(project.root), *args])

    def test_check_fails_when_missing_and_passes_after_run(self, fixture_project: Project) -> None:
        """`llmdocs check` exits 1 while a chapter has no stored outputs, 0 once it is run."""
        missing = self.invoke(fixture_project, "check", "--device", "cpu")
        assert missing.exit_code == 1
        assert "missing" in missing.output
        assert "llmdocs run" in missing.output

        run_chapters(fixture_project, device="cpu")
        notebooks_missing = self.invoke(fixture_project, "check", "--device", "cpu")
        assert notebooks_missing.exit_code == 1
        assert "notebooks/zh/basics.ipynb: missing" in notebooks_missing.output
        assert self.invoke(fixture_project, "notebooks").exit_code == 0
        fresh = self.invoke(fixture_project, "check", "--device", "cpu")
        assert fresh.exit_code == 0, fresh.output
        assert "fresh" in fresh.output

    def test_status_and_check_after_editing_a_cell(self, fixture_project: Project) -> None:
        """After a code edit `llmdocs status` shows 'stale (code changed)' and check exits 1."""
        run_chapters(fixture_project, device="cpu")
        path = fixture_project.chapter_path("basics")
        path.write_text(path.read_text().replace('print("value is", value)', "print(value)"))
        status = self.invoke(fixture_project, "status", "--device", "cpu")
        assert status.exit_code == 0
        assert "stale (code changed)" in status.output
        assert self.invoke(fixture_project, "check", "--device", "cpu").exit_code == 1

    def test_run_reports_failures_and_exits_1(self, fixture_project: Project) -> None:
        """`llmdocs run` with a failing chapter exits 1 and names file:line, cell and remedy."""
        add_chapter(fixture_project, "bad", "# %% boom\nx = 1\n1 / 0\n")
        result = self.invoke(fixture_project, "run", "bad.py", "--device", "cpu")
        assert result.exit_code == 1
        assert "snippets/bad.py:3: cell 'boom' failed: ZeroDivisionError" in result.output
        assert "previous stored outputs are untouched" in result.output
        assert "basics" not in result.output  # only the chapter asked for ran

    def test_check_does_not_import_torch(
        self, executed_fixture_project: tuple[Project, RunSummary], tmp_path: Path
    ) -> None:
        """`llmdocs check` decides from files alone: torch and transformers are never imported."""
        executed, _ = executed_fixture_project
        project = Project(tmp_path / "copy")
        shutil.copytree(executed.root, project.root)
        assert self.invoke(project, "notebooks").exit_code == 0
        script = textwrap.dedent("""\
            import sys
            from llmdocs.cli import main
            code = 0
            try:
                main(["--root", sys.argv[1], "check", "--device", "cpu"], standalone_mode=False)
            except SystemExit as exc:
                code = exc.code
            print("exit", code)
            print("torch" in sys.modules, "transformers" in sys.modules)
            """)
        done = subprocess.run(
            [sys.executable, "-c", script, str(project.root)],
            capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"},
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert "basics" in done.stdout and "fresh" in done.stdout
        assert lines[-2:] == ["exit 0", "False False"]


class TestOrphanedOutputs:
    def test_stored_file_without_chapter_fails_check(
        self, executed_fixture_project: tuple[Project, RunSummary], tmp_path: Path
    ) -> None:
        """A stored output whose chapter was deleted is reported by name and fails `check`."""
        project = Project(tmp_path / "site")
        shutil.copytree(executed_fixture_project[0].root, project.root)
        (project.snippets_dir / "basics.py").rename(project.snippets_dir / "renamed.py")
        result = CliRunner().invoke(main, ["--root", str(project.root), "check"])
        assert result.exit_code == 1
        orphan = next(s for s in project_status(project) if s.chapter == "basics")
        assert orphan.state is State.BROKEN
        assert orphan.detail.startswith(
            "snippets/outputs/basics.json has no chapter snippets/basics.py"
        )
