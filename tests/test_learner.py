"""A learner's view: a chapter run as a plain script prints what the site shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from llmdocs.capture import join_lines
from llmdocs.environment import versions
from llmdocs.store import read_store

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.models
@pytest.mark.parametrize("chapter", ["lm-head", "tokenizer"])
def test_script_prints_what_the_site_shows(chapter: str) -> None:
    """`eval "$(llmdocs env)"; python snippets/<chapter>.py` prints the stored stdout exactly."""
    stored = read_store(REPO / "snippets" / "outputs" / f"{chapter}.json")
    if stored.device != "CPU" or stored.versions != versions():
        pytest.skip(f"stored outputs come from {stored.device} / {stored.versions}")
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
    expected = "".join(
        join_lines(output["text"])
        for cell in stored.cells.values()
        for output in cell.outputs
        if output.get("stream") == "stdout"
    )
    assert done.stdout == expected
