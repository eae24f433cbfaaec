"""A learner's view: a chapter run as a plain script prints what the site shows.

Held to the stored outputs through the tolerant comparator, wherever they were captured:
another CPU prints some floats differently in the last digit, a GPU more so, and neither may
turn this test red or make it skip. A different token, id or shape still fails it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from llmdocs.capture import join_lines
from llmdocs.compare import DEVICE_ANNOTATION, Tolerance, Verdict, compare_text
from llmdocs.project import Project
from llmdocs.store import read_store

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.models
@pytest.mark.parametrize("chapter", ["lm-head", "tokenizer"])
def test_script_prints_what_the_site_shows(chapter: str) -> None:
    """`eval "$(llmdocs env)"; python snippets/<chapter>.py` prints the stored stdout, cell by
    cell, within each cell's tolerance."""
    project = Project(REPO)
    stored = read_store(REPO / "snippets" / "outputs" / f"{chapter}.json")
    exports = subprocess.run(
        [sys.executable, "-m", "llmdocs.cli", "--root", str(REPO), "env", "--device", "cpu"],
        capture_output=True, text=True, check=True,
    ).stdout
    env = {**os.environ, **dict(re.findall(r"export (\w+)='([^']*)'", exports)),
           "TQDM_DISABLE": "1", "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, f"snippets/{chapter}.py"], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    # The script's output has no cell boundaries: each cell takes as many lines as it stored.
    printed = done.stdout.splitlines(keepends=True)
    for cell in project.chapter(chapter).cells:
        expected = "".join(
            join_lines(output["text"])
            for output in stored.cells[cell.name].outputs
            if output.get("stream") == "stdout"
        )
        # A GPU capture prints `device='cuda:0'` after a tensor, on a line of its own for a
        # long one; this script runs on the CPU, which prints no such line.
        count = len(DEVICE_ANNOTATION.sub("", expected).splitlines())
        now, printed = "".join(printed[:count]), printed[count:]
        result = compare_text(expected, now, Tolerance.from_metadata(cell.compare))
        assert result.verdict is not Verdict.DIFFERS, f"cell {cell.name}: {result.describe()}"
    assert printed == [], f"the script printed more than the site shows: {printed!r}"
