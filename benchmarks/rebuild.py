"""Rebuild and refresh cost of LLM Basics against the tools users would pick.

Run from the repository root: `make bench` (or `.venv/bin/python benchmarks/rebuild.py`).
Everything happens in temporary copies of the site; the repository is not touched.
Prints one table of measured numbers and the targets they are held to.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import jupytext
import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"}
EXECUTED = re.compile(r"llmdocs: executed (\d+) cells in (\d+) chapter\(s\)(?: \(([^)]*)\))?")
rows: list[tuple[str, str, str]] = []


def record(what: str, value: str, target: str = "") -> None:
    rows.append((what, value, target))
    print(f"  {what}: {value} {('(target ' + target + ')') if target else ''}", flush=True)


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env or ENV, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    return wall, done.stdout + done.stderr


def copy_site(into: Path) -> Path:
    site = into / "site-copy"
    site.mkdir(parents=True)
    for name in ("mkdocs.yml", "docs", "snippets", "overrides"):
        source = ROOT / name
        if not source.exists():
            continue
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, site / name)
    return site


def _variant(site: Path, original: str, option: str) -> str:
    """A copy of mkdocs.yml with one llmdocs option set; returns its file name."""
    name = f"mkdocs-{option.split(':')[0]}.yml"
    text = original.replace("  - llmdocs:\n", f"  - llmdocs:\n      {option}\n")
    (site / name).write_text(text, encoding="utf-8")
    return name


def cells_executed(log: str) -> tuple[int, str]:
    match = EXECUTED.search(log)
    if not match:
        raise SystemExit("the build log does not say how many cells llmdocs executed:\n" + log)
    return int(match[1]), match[3] or ""


def rebuild_costs(site: Path) -> None:
    execute = {**ENV, "LLMDOCS_EXECUTE": "1"}
    run([str(BIN / "mkdocs"), "build"], site, execute)  # warm caches (jieba, mkdocs-jupyter)
    original = (site / "mkdocs.yml").read_text(encoding="utf-8")
    variants = {
        "on": "mkdocs.yml",
        "no-notebooks": _variant(site, original, "notebooks: false"),
        "off": _variant(site, original, "enabled: false"),
    }
    # Interleaved, so that a slow spell of the machine hits every variant alike.
    times: dict[str, list[float]] = {name: [] for name in variants}
    log = ""
    for _ in range(5):
        for name, config in variants.items():
            wall, out = run([str(BIN / "mkdocs"), "build", "-f", config], site, execute)
            times[name].append(wall)
            log = out if name == "on" else log
    with_plugin, no_notebooks, without = (statistics.median(times[n]) for n in variants)
    cells, _ = cells_executed(log)
    record("no-change rebuild, plugin on (median of 5)", f"{with_plugin:.2f} s")
    record("no-change rebuild, plugin enabled: false", f"{without:.2f} s")
    record("rebuild ratio plugin on / off", f"{with_plugin / without:.2f}", "≤ 1.15")
    record("  the same without the per-chapter notebook pages (notebooks: false)",
           f"{no_notebooks:.2f} s, ratio {no_notebooks / without:.2f}")
    record("cells executed by a no-change rebuild", str(cells), "0")

    page = site / "docs" / "run-llm.en.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nOne more sentence of prose.\n")
    _, log = run([str(BIN / "mkdocs"), "build"], site, execute)
    record("cells executed after a prose-only edit", str(cells_executed(log)[0]), "0")

    snippet = site / "snippets" / "lm-head.py"
    text = snippet.read_text(encoding="utf-8")
    snippet.write_text(text.replace('prompt = "The capital of France is"',
                                    'prompt = "The capital of France is"  # edited'))
    _, log = run([str(BIN / "mkdocs"), "build"], site, execute)
    count, chapters = cells_executed(log)
    record("after editing one lm-head cell: chapters executed", f"{chapters} ({count} cells)",
           "lm-head only")


class PeakMemory:
    """Samples the summed RSS of a process and all its children (the kernels) every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                parent = psutil.Process(self.pid)
                procs = [parent, *parent.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def refresh_costs(site: Path, cache: Path) -> None:
    env = {**ENV, "LLMDOCS_CACHE_DIR": str(cache)}
    llmdocs = str(BIN / "llmdocs")
    wall, log = run([llmdocs, "run", "--force", "run-llm"], site, env)
    record("GGUF materialization (first run on a new cache)",
           f"{wall:.1f} s for the run-llm chapter, incl. materializing")
    started = time.perf_counter()
    process = subprocess.Popen([llmdocs, "run", "--force"], cwd=site, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    memory = PeakMemory(process.pid)
    output, _ = process.communicate()
    refresh = time.perf_counter() - started
    peak = memory.stop()
    materialized = (log + output).count("materializing the offline chat model")
    record("GGUF materializations over two runs", str(materialized), "1")
    record("full refresh, offline, CPU (llmdocs run --force)", f"{refresh:.1f} s")
    record("peak memory of a full refresh (runner + kernels)", f"{peak / 2**20:.0f} MiB")

    _, exports = run([llmdocs, "env"], site, env)
    model_env = dict(re.findall(r"export (\w+)='([^']*)'", exports))
    floor_env = {**env, **model_env, "MPLBACKEND": "Agg", "TQDM_DISABLE": "1",
                 "TRANSFORMERS_VERBOSITY": "error"}
    floor = 0.0
    for chapter in sorted((site / "snippets").glob("*.py")):
        floor += run([sys.executable, str(chapter)], site, floor_env)[0]
    record("in-process floor (each chapter as `python snippets/x.py`)", f"{floor:.1f} s")
    record("refresh overhead ratio", f"{refresh / floor:.2f}", "≤ 1.25")

    # The load itself, after the imports every chapter pays anyway (transformers and the
    # Llama modeling module, which transformers imports lazily on first use).
    probe = ("import time,sys; from transformers import AutoModelForCausalLM as M; "
             "from transformers.models.llama import modeling_llama; "
             "t=time.perf_counter(); M.from_pretrained(sys.argv[1]); "
             "print(f'{time.perf_counter()-t:.3f}')")
    checkpoint = model_env["LLM_BASICS_CHAT_MODEL"]
    _, out = run([sys.executable, "-c", probe, checkpoint], site, floor_env)
    load_s = float(out.split()[-1])
    record("chat model load from the materialized cache", f"{load_s:.2f} s", "≤ 1 s")


def page_weight(site: Path) -> None:
    from playwright.sync_api import sync_playwright

    run([str(BIN / "mkdocs"), "build"], site)
    server = subprocess.Popen([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1",
                               "--directory", str(site / "site")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = server.stdout.readline() if server.stdout else ""
        port = int(re.search(r"port (\d+)", line)[1])  # type: ignore[index]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = browser.new_page()
            sizes: list[int] = []
            urls: list[str] = []
            page.on("request", lambda r: urls.append(r.url))
            page.on("requestfinished", lambda r: sizes.append(r.sizes()["responseBodySize"]))
            page.goto(f"http://127.0.0.1:{port}/run-llm/", wait_until="networkidle")
            browser.close()
    finally:
        server.terminate()
    local = all(u.startswith(f"http://127.0.0.1:{port}/") or u.startswith("data:") for u in urls)
    record("cold load of /run-llm/ in chromium", f"{sum(sizes) / 1024:.0f} KiB in "
           f"{len(urls)} requests, all local: {local}", "≤ 1 MB, all local")


def notebook_alternatives(site: Path, tmp: Path, cache: Path) -> None:
    """The same chapters through mkdocs-jupyter (execute: true) and markdown-exec."""
    env = {**ENV, "LLMDOCS_CACHE_DIR": str(cache)}
    _, exports = run([str(BIN / "llmdocs"), "env"], site, env)
    model_env = {**env, **dict(re.findall(r"export (\w+)='([^']*)'", exports)),
                 "TQDM_DISABLE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    chapters = sorted((site / "snippets").glob("*.py"))

    nbsite = tmp / "mkdocs-jupyter"
    (nbsite / "docs").mkdir(parents=True)
    for chapter in chapters:
        jupytext.write(jupytext.read(chapter), nbsite / "docs" / f"{chapter.stem}.ipynb")
    (nbsite / "mkdocs.yml").write_text(
        "site_name: bench\ntheme: {name: material, font: false}\nplugins:\n"
        "  - mkdocs-jupyter: {execute: true, include: ['*.ipynb']}\n")
    first, _ = run([str(BIN / "mkdocs"), "build"], nbsite, model_env)
    again, _ = run([str(BIN / "mkdocs"), "build"], nbsite, model_env)
    record("mkdocs-jupyter execute: true, first build", f"{first:.1f} s")
    record("mkdocs-jupyter execute: true, no-change rebuild (its cache on)", f"{again:.1f} s")
    config = nbsite / "mkdocs.yml"
    config.write_text(config.read_text().replace("execute: true", "execute: true, cache: false"))
    uncached, _ = run([str(BIN / "mkdocs"), "build"], nbsite, model_env)
    record("mkdocs-jupyter execute: true, cache: false, every build", f"{uncached:.1f} s")

    mdsite = tmp / "markdown-exec"
    (mdsite / "docs").mkdir(parents=True)
    for chapter in chapters:
        notebook = jupytext.read(chapter)
        blocks = [f'```python exec="on" source="above" session="{chapter.stem}"\n'
                  f"{cell.source}\n```" for cell in notebook.cells if cell.cell_type == "code"]
        (mdsite / "docs" / f"{chapter.stem}.md").write_text(
            f"# {chapter.stem}\n\n" + "\n\n".join(blocks) + "\n")
    (mdsite / "mkdocs.yml").write_text(
        "site_name: bench\ntheme: {name: material, font: false}\nplugins: [markdown-exec]\n"
        "markdown_extensions: [pymdownx.superfences]\n")
    exec_build, _ = run([str(BIN / "mkdocs"), "build"], mdsite, model_env)
    record("markdown-exec, every build (re-runs all blocks)", f"{exec_build:.1f} s")
    ours = next(
        float(v.split()[0]) for w, v, _ in rows if w.startswith("no-change rebuild, plugin on")
    )
    record("no-change rebuild: mkdocs-jupyter / llmdocs", f"{again / ours:.1f}×")
    record("no-change rebuild: markdown-exec / llmdocs", f"{exec_build / ours:.1f}×")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="llmdocs-bench-") as folder:
        tmp = Path(folder)
        cache = tmp / "cache"
        print("1-2. rebuilds", flush=True)
        rebuild_costs(copy_site(tmp / "a"))
        print("3-4. refresh", flush=True)
        site = copy_site(tmp / "b")
        refresh_costs(site, cache)
        print("5. page weight", flush=True)
        page_weight(site)
        print("6. alternatives", flush=True)
        notebook_alternatives(site, tmp, cache)
    width = max(len(w) for w, _, _ in rows)
    print(f"\n{'measure':<{width}}  {'measured':<40}  target")
    for what, value, target in rows:
        print(f"{what:<{width}}  {value:<40}  {target}")


if __name__ == "__main__":
    main()
