"""`llmdocs verify` and the re-run policy: live outputs held to stored ones by meaning.

A stored file is edited the way another machine would have written it (one float in its
last digit) or the way a real change would (another token), with a valid digest, and the
chapter is then verified or re-run through a real kernel.
"""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmdocs.cli import main
from llmdocs.compare import Verdict
from llmdocs.project import Project
from llmdocs.runner import run_chapters
from llmdocs.status import ChapterStatus, State, chapter_status, needs_run
from llmdocs.store import dumps, read_store, store_path
from llmdocs.verify import verify_chapters

CHAPTER = """\
# %% numbers
import math

print("pi is", round(math.pi, 4), "and the token is ' Paris'")

# %% ids
print([7042, 279, 49152])
"""


@pytest.fixture
def project(fixture_project: Project) -> Project:
    """The fixture site with one extra chapter ``numbers``, run once on CPU."""
    fixture_project.chapter_path("numbers").write_text(textwrap.dedent(CHAPTER), "utf-8")
    summary = run_chapters(fixture_project, ["numbers"], device="cpu")
    assert not summary.failures, summary.failures
    return fixture_project


def path_of(project: Project) -> Path:
    return store_path(project.store_dir, "numbers")


def rewrite(project: Project, old: str, new: str, **fields: object) -> bytes:
    """Replace ``old`` by ``new`` in the stored stdout (digest kept valid); the new bytes."""
    stored = copy.deepcopy(read_store(path_of(project)))
    for cell in stored.cells.values():
        for output in cell.outputs:
            if "text" in output:
                output["text"] = [line.replace(old, new) for line in output["text"]]
    for key, value in fields.items():
        setattr(stored, key, value)
    path_of(project).write_text(dumps(stored), encoding="utf-8")
    return path_of(project).read_bytes()


def verify(project: Project, *names: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--root", str(project.root), "verify", *names])
    return result.exit_code, result.output


class TestVerify:
    def test_fresh_outputs_reproduce_exactly(self, project: Project) -> None:
        """A chapter verified right after its run is 'reproduced exactly'; exit 0."""
        code, output = verify(project, "numbers")
        assert code == 0, output
        assert "numbers: reproduced exactly" in output

    def test_last_digit_noise_is_within_tolerance_and_writes_nothing(
        self, project: Project
    ) -> None:
        """Stored 3.1417 (another CPU's rounding) vs live 3.1416: within tolerance, exit 0,
        and the stored file is not touched."""
        before = rewrite(project, "3.1416", "3.1417")
        code, output = verify(project, "numbers")
        assert code == 0, output
        assert "numbers: reproduced within tolerance" in output
        assert path_of(project).read_bytes() == before

    def test_flipped_token_differs_naming_cell_and_line(self, project: Project) -> None:
        """Stored ' Lyon' vs live ' Paris': exit 1, the cell named, stored and live lines."""
        rewrite(project, "' Paris'", "' Lyon'")
        code, output = verify(project, "numbers")
        assert code == 1
        assert "differs: cell 'numbers'" in output
        assert "' Lyon'" in output and "' Paris'" in output

    def test_changed_id_differs(self, project: Project) -> None:
        """A token id is exact: 7043 stored vs 7042 live differs."""
        rewrite(project, "7042", "7043")
        checks = verify_chapters(project, ["numbers"], device="cpu")
        assert checks[0].comparison is not None
        assert (checks[0].comparison.verdict, checks[0].comparison.cell) == (
            Verdict.DIFFERS, "ids")

    def test_missing_stored_file_is_not_verified(self, project: Project) -> None:
        """A chapter with nothing stored cannot be verified: exit 1 with the remedy."""
        path_of(project).unlink()
        code, output = verify(project, "numbers")
        assert code == 1
        assert "llmdocs run numbers" in output

    def test_cuda_where_none_is_visible_is_refused(self, project: Project) -> None:
        """--device cuda on a machine without a visible GPU stops before anything runs."""
        result = CliRunner().invoke(
            main, ["--root", str(project.root), "verify", "--device", "cuda", "numbers"]
        )
        assert result.exit_code != 0
        assert "no CUDA GPU is visible" in result.output


class TestRunKeepsReproducedFiles:
    def test_noise_keeps_the_stored_file_byte_identical(self, project: Project) -> None:
        """run --force on outputs that agree within tolerance keeps date, durations and the
        stored float as they were, and says so."""
        before = rewrite(project, "3.1416", "3.1417", captured="2000-01-01")
        result = CliRunner().invoke(
            main, ["--root", str(project.root), "run", "--force", "numbers"]
        )
        assert result.exit_code == 0, result.output
        assert "reproduced within tolerance" in result.output
        assert path_of(project).read_bytes() == before

    def test_material_change_rewrites(self, project: Project) -> None:
        """run --force rewrites a file whose outputs really changed, with today's date."""
        rewrite(project, "' Paris'", "' Lyon'", captured="2000-01-01")
        summary = run_chapters(project, ["numbers"], force=True, device="cpu")
        [run] = summary.runs
        assert run.changed and run.verdict is not None
        assert run.verdict.verdict is Verdict.DIFFERS
        stored = read_store(path_of(project))
        assert stored.captured != "2000-01-01"
        assert "' Paris'" in "".join(stored.cells["numbers"].outputs[0]["text"])

    def test_another_device_class_rewrites(self, project: Project) -> None:
        """A forced CPU refresh of outputs recorded on a GPU moves them to the CPU: the
        provenance must describe the outputs in the file."""
        rewrite(project, "", "", device="NVIDIA H100 80GB HBM3")
        run_chapters(project, ["numbers"], force=True, device="cpu")
        assert read_store(path_of(project)).device == "CPU"

    def test_cuda_where_none_is_visible_writes_nothing(self, project: Project) -> None:
        before = path_of(project).read_bytes()
        result = CliRunner().invoke(
            main, ["--root", str(project.root), "run", "--force", "--device", "cuda", "numbers"]
        )
        assert result.exit_code != 0
        assert "no CUDA GPU is visible" in result.output
        assert path_of(project).read_bytes() == before


class TestStalenessPolicy:
    """One policy (needs_run) over states that carry their reason as data."""

    def _status(self, project: Project) -> ChapterStatus:
        from llmdocs.status import expected_environment

        return chapter_status(project, "numbers", expected_environment("offline", "cpu"))

    def test_fresh_does_not_run(self, project: Project) -> None:
        status = self._status(project)
        assert status.state is State.FRESH and not needs_run(status)
        assert needs_run(status, force=True)

    def test_missing_runs(self, project: Project) -> None:
        path_of(project).unlink()
        status = self._status(project)
        assert status.state is State.MISSING and needs_run(status)

    def test_broken_runs(self, project: Project) -> None:
        path_of(project).write_text("{", encoding="utf-8")
        status = self._status(project)
        assert status.state is State.BROKEN and needs_run(status)

    def test_code_change_runs(self, project: Project) -> None:
        chapter = project.chapter_path("numbers")
        chapter.write_text(chapter.read_text() + "print('more')\n", encoding="utf-8")
        status = self._status(project)
        assert status.state is State.STALE_CODE and needs_run(status)

    def test_other_environment_is_reported_but_not_run(self, project: Project) -> None:
        """Outputs from another torch version are 'stale (environment)', with the change as
        data, and `llmdocs run` without --force leaves them alone."""
        stored = read_store(path_of(project))
        versions = {**stored.versions, "torch": "0.0.1"}
        before = rewrite(project, "", "", versions=versions)
        status = self._status(project)
        assert status.state is State.STALE_ENV
        assert status.changes == {
            "versions": (versions, stored.versions)
        }
        assert not needs_run(status)
        [run] = run_chapters(project, ["numbers"], device="cpu").runs
        assert not run.executed
        assert path_of(project).read_bytes() == before

    def test_other_profile_runs(self, project: Project) -> None:
        rewrite(project, "", "", profile="reference")
        status = self._status(project)
        assert status.state is State.STALE_ENV and "profile" in status.changes
        assert needs_run(status)


class TestProfilesSideBySide:
    def test_each_profile_has_its_own_file(self, tmp_path: Path) -> None:
        """The reference capture lives beside the offline one, never in its place."""
        offline = store_path(tmp_path, "lm-head")
        reference = store_path(tmp_path, "lm-head", "reference")
        assert offline == tmp_path / "lm-head.json"
        assert reference == tmp_path / "reference" / "lm-head.json"


