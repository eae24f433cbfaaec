"""Shared helpers for the site and browser tests: copy a site, build it for real, serve it.

Every build runs `python -m mkdocs build` in a subprocess on a copy in a temporary folder,
so the checkout (its .llmdocs-cache/ and .cache/) is never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE_SITE = REPO / "tests" / "fixtures" / "site"
# What the real site needs next to mkdocs.yml (helpers/ for the mkdocstrings reference page).
# requirements/ feeds the notebooks' setup cell; hooks/ holds mkdocs.yml's hooks.
REAL_SITE_PARTS = ("mkdocs.yml", "docs", "snippets", "overrides", "helpers", "requirements",
                   "hooks", "notebooks", "benchmarks")
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", ".llmdocs-cache", ".cache", "site")
BUILD_TIMEOUT_S = 300


@dataclass
class Build:
    """One finished `mkdocs build`: where it ran, its exit status and its whole log."""

    project: Path
    returncode: int
    log: str

    @property
    def site(self) -> Path:
        return self.project / "site"

    def page(self, path: str) -> str:
        """The HTML of a built file, e.g. 'index.html' or 'en/index.html'."""
        return (self.site / path).read_text(encoding="utf-8")

    def executed_counts(self) -> list[int]:
        """The N of every 'llmdocs: executed N cells' line (one per language build)."""
        return [int(n) for n in re.findall(r"llmdocs: executed (\d+) cells", self.log)]


def copy_fixture_site(destination: Path) -> Path:
    """A fresh copy of tests/fixtures/site (without any stored outputs)."""
    project = destination / "fixture-site"
    shutil.copytree(FIXTURE_SITE, project, ignore=IGNORED)
    shutil.rmtree(project / "snippets" / "outputs", ignore_errors=True)
    return project


def copy_real_site(destination: Path) -> Path:
    """A copy of the parts of the checkout that the real site is built from."""
    project = destination / "real-site"
    project.mkdir(parents=True)
    for name in REAL_SITE_PARTS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=IGNORED)
        elif source.is_file():
            shutil.copy2(source, project / name)
    return project


def build(
    project: Path,
    *,
    strict: bool = False,
    execute: bool = False,
    site_dir: Path | None = None,
    dirty: bool = False,
) -> Build:
    """Run a real `mkdocs build` in ``project``; LLMDOCS_EXECUTE is set only when asked."""
    env = {k: v for k, v in os.environ.items() if k != "LLMDOCS_EXECUTE"}
    env["NO_MKDOCS_2_WARNING"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if execute:
        env["LLMDOCS_EXECUTE"] = "1"
    command = [sys.executable, "-m", "mkdocs", "build"]
    if strict:
        command.append("--strict")
    if dirty:  # only pages whose source (or, with llmdocs, whose inputs) changed
        command.append("--dirty")
    if site_dir is not None:
        command += ["--site-dir", str(site_dir)]
    done = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S
    )
    return Build(project, done.returncode, done.stdout + done.stderr)


def replace_in(path: Path, old: str, new: str) -> None:
    """Edit a file in a copied project; fails loudly when ``old`` is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not found in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append_line(path: Path, line: str) -> int:
    """Append ``line`` after a blank line; return its 1-based line number."""
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
    path.write_text(text + line + "\n", encoding="utf-8")
    return text.count("\n") + 1


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` with `python -m http.server` on 127.0.0.1; yields the base URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", str(root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(base, timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"http.server did not start on port {port}") from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
