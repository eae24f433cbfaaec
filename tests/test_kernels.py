"""Kernels started ahead and chapters run in parallel: still one new kernel per chapter."""

from __future__ import annotations

import json
import threading
import time

import pytest

from llmdocs.kernels import run_ahead, warm_code
from llmdocs.project import Project
from llmdocs.runner import run_chapters

SETS = '''\
# %% sets
import json
import os
LEAKED = 41
os.environ["LLMDOCS_LEAK"] = "1"
json.LEAK = 1
print(os.getpid())
'''
CHECKS = '''\
# %% checks
import json
import os
print("LEAKED" in globals(), os.environ.get("LLMDOCS_LEAK"), hasattr(json, "LEAK"))
print(os.getpid())
'''


def _stdout(project: Project, chapter: str) -> list[str]:
    stored = json.loads((project.store_dir / f"{chapter}.json").read_text(encoding="utf-8"))
    (cell,) = stored["cells"].values()
    return "".join(o["text"] if isinstance(o["text"], str) else "".join(o["text"])
                   for o in cell["outputs"] if o.get("stream") == "stdout").split()


class TestNoStateCrossesChapters:
    @pytest.mark.parametrize(("jobs", "prestart"), [(1, True), (2, True), (1, False)])
    def test_each_chapter_gets_its_own_new_kernel(
        self, fixture_project: Project, jobs: int, prestart: bool
    ) -> None:
        """Globals, environment and module state set by one chapter never reach the next,
        whether kernels start ahead, run in parallel or one after another."""
        project = fixture_project
        (project.snippets_dir / "a-sets.py").write_text(SETS, encoding="utf-8")
        (project.snippets_dir / "b-checks.py").write_text(CHECKS, encoding="utf-8")
        summary = run_chapters(project, ["a-sets", "b-checks"], device="cpu", jobs=jobs,
                               prestart=prestart)
        assert not summary.failures
        (setter_pid,) = _stdout(project, "a-sets")
        leaked, env, module, checker_pid = _stdout(project, "b-checks")
        assert (leaked, env, module) == ("False", "None", "False")
        assert setter_pid != checker_pid


class TestRunAhead:
    def test_items_start_in_order_and_at_most_jobs_at_once(self) -> None:
        """The gate lets items start their cells in order, never more than `jobs` at once."""
        from llmdocs import kernels

        started: list[str] = []
        running, peak, lock = [0], [0], threading.Lock()

        def one(item: str) -> str:
            time.sleep(0.01 * (5 - int(item)))  # later items are "warm" sooner
            kernels.before_cells()
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1
            return item * 2

        items = [str(i) for i in range(5)]
        out = run_ahead(items, one, jobs=2, prestart=True,
                        on_start=lambda item, _: started.append(item))
        assert out == [i * 2 for i in items]
        assert started == items
        assert peak[0] <= 2

    def test_a_failure_before_the_gate_does_not_block_the_rest(self) -> None:
        """An item that fails before its cells still hands the turn on."""
        from llmdocs import kernels

        def one(item: str) -> str:
            if item == "0":
                return "failed early"
            kernels.before_cells()
            return item

        assert run_ahead(["0", "1", "2"], one, jobs=1) == ["failed early", "1", "2"]

    def test_warm_code_only_inside_a_pipeline(self) -> None:
        """Outside a pipeline nothing is warmed; inside, only the heavy modules named."""
        from llmdocs import kernels

        source = ["import torch\nfrom transformers import AutoTokenizer, AutoModel\nimport os"]
        assert warm_code(source) == ""
        kernels._local.gate = lambda: None
        try:
            code = warm_code(source)
        finally:
            kernels._local.gate = None
        assert "('torch', [])" in code and "'AutoModel', 'AutoTokenizer'" in code
        assert "'os'" not in code
        namespace: dict[str, object] = {}
        exec(code, namespace)  # leaves no name behind
        assert set(namespace) == {"__builtins__"}
