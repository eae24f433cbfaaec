"""Rebuild and refresh cost of LLM Basics against the tools users would pick.

Run from the repository root: `make bench` (or `.venv/bin/python benchmarks/rebuild.py`).
Everything happens in temporary copies of the site; the repository is not touched except
benchmarks/results.json, which the performance page renders its tables from.
`--sections rebuild,refresh` re-measures only those sections and keeps the others.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

import jupytext
import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.json"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"}
EXECUTED = re.compile(r"llmdocs: executed (\d+) cells in (\d+) chapter\(s\)(?: \(([^)]*)\))?")
SECTIONS = ("install", "rebuild", "writer", "refresh", "page", "alternatives")
rows: dict[str, list[dict[str, Any]]] = {}
section = "rebuild"


def record(
    key: str, en: str, zh: str, value: float | int | str, unit: str = "",
    target: str = "", digits: int = 2,
) -> None:
    """One measured row of the current section: labels in both languages, the value as data."""
    rows.setdefault(section, []).append({
        "id": key, "label": {"en": en, "zh": zh}, "value": value, "unit": unit,
        "digits": digits, "target": target,
    })
    shown = f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    print(f"  {en}: {shown} {unit} {('(target ' + target + ')') if target else ''}", flush=True)


def value_of(key: str) -> float:
    return float(next(r["value"] for rs in rows.values() for r in rs if r["id"] == key))


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env or ENV, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    return wall, done.stdout + done.stderr


def copy_site(into: Path) -> Path:
    """The checkout as it is (uncommitted edits included), without venvs and build output."""
    site = into / "site-copy"
    shutil.copytree(ROOT, site, ignore=shutil.ignore_patterns(
        ".git", ".venv", "site", ".llmdocs-cache", "__pycache__", "*.pyc", ".mypy_cache",
        ".ruff_cache", ".pytest_cache"))
    # A history of its own, as a checkout has: without one, every page's "last updated" is the
    # time of its build, and no build could reuse a page rendered by the one before.
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "benchmark copy"]):
        subprocess.run([*git, *command], cwd=site, check=True, capture_output=True)
    return site


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode("utf-8"))
    except OSError:
        return None


def wait_for(url: str, started: float, limit_s: float, contains: str = "") -> float:
    """Seconds from ``started`` until ``url`` answers (and holds ``contains``), polling 20/s."""
    while time.perf_counter() - started < limit_s:
        page = fetch(url)
        if page is not None and contains in page:
            return time.perf_counter() - started
        time.sleep(0.05)
    raise SystemExit(f"{url} did not answer{' with ' + contains if contains else ''} "
                     f"within {limit_s:.0f} s")


def stop(process: subprocess.Popen[Any]) -> None:
    """End a server this benchmark started, and the processes it started."""
    for child in psutil.Process(process.pid).children(recursive=True):
        child.terminate()
    process.terminate()
    process.wait(timeout=30)


def install_costs(tmp: Path) -> None:
    """The README's first command on a fresh clone: `make serve` until the first page."""
    clone = tmp / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    port = free_port()
    env = {k: v for k, v in ENV.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(BIN))
    )
    started = time.perf_counter()
    server = subprocess.Popen(["make", "serve", f"ADDR=127.0.0.1:{port}"], cwd=clone, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first = wait_for(f"http://127.0.0.1:{port}/llm-basics/", started, 600)
    finally:
        stop(server)
    size = int(subprocess.run(["du", "-s", "--block-size=1", str(clone / ".venv")],
                              capture_output=True, text=True, check=True).stdout.split()[0])
    heavy = [name for name in ("torch", "transformers") if list(
        (clone / ".venv").glob(f"lib/python*/site-packages/{name}"))]
    record("serve_first_page", "`make serve` on a fresh clone: first page served",
           "全新克隆上 `make serve`：首个页面可访问", first, "s", "≤ 90 s", 1)
    record("light_venv", "Size of the light .venv it installs (du)",
           "它安装的轻量 .venv 大小（du）", size / 1e9, "GB", digits=2)
    record("light_heavy", "torch / transformers in it", "其中的 torch / transformers",
           ", ".join(heavy) or "none", target="none")


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


def rebuild_costs(site: Path, repeats: int) -> None:
    execute = {**ENV, "LLMDOCS_EXECUTE": "1"}
    run([str(BIN / "mkdocs"), "build"], site, execute)  # warm caches (jieba, mkdocs-jupyter)
    original = (site / "mkdocs.yml").read_text(encoding="utf-8")
    variants = {
        "on": "mkdocs.yml",
        "no-notebooks": _variant(site, original, "notebooks: false"),
        "not-kept": _variant(site, original, "keep_renders: false"),
        "off": _variant(site, original, "enabled: false"),
    }
    # Interleaved, so that a slow spell of the machine hits every variant alike, and in the
    # reverse order every other round: the order moved the result (the median on / off ratio
    # of 20 pairs was 1.04 with plugin off built first in each pair, 1.08 with it second).
    times: dict[str, list[float]] = {name: [] for name in variants}
    log = ""
    for round_ in range(repeats):
        order = list(variants.items())
        for name, config in order if round_ % 2 == 0 else reversed(order):
            wall, out = run([str(BIN / "mkdocs"), "build", "-f", config], site, execute)
            times[name].append(wall)
            log = out if name == "on" else log
    with_plugin, no_notebooks, not_kept, without = (
        statistics.median(times[n]) for n in variants)
    cells, _ = cells_executed(log)
    record("build_on", f"No-change `mkdocs build`, plugin on (median of {repeats}, interleaved)",
           f"无改动的 `mkdocs build`，插件开启（交替运行 {repeats} 次的中位数）", with_plugin, "s")
    record("build_off", "The same site, plugin off (`enabled: false`)",
           "同一站点，插件关闭（`enabled: false`）", without, "s")
    record("build_ratio", "Ratio on / off", "开启 / 关闭之比", with_plugin / without, "",
           "≤ 1.05")
    record("build_no_notebooks", "Plugin on without the notebook pages (`notebooks: false`)",
           "插件开启但不生成笔记本页面（`notebooks: false`）", no_notebooks, "s")
    record("build_no_notebooks_ratio", "Its ratio to plugin off", "它与插件关闭之比",
           no_notebooks / without)
    record("build_not_kept", "Plugin on, every page rendered again (`keep_renders: false`)",
           "插件开启，但每个页面都重新渲染（`keep_renders: false`）", not_kept, "s")
    record("build_not_kept_ratio", "Its ratio to plugin off", "它与插件关闭之比",
           not_kept / without)
    # The machine is shared: the same build takes from 3.2 to 5.3 s within an hour, and the
    # median ratio of one run moved from 0.98 to 1.22 over four runs of the same code. The
    # fastest runs are the least disturbed, so their ratio is shown too, with the spread.
    record("build_ratio_fastest", "Ratio of the fastest on and off builds (the least disturbed)",
           "开启与关闭各自最快一次之比（受干扰最少）", min(times["on"]) / min(times["off"]))
    record("build_spread", "Plugin-off builds, fastest – slowest", "插件关闭的构建，最快 – 最慢",
           f"{min(times['off']):.2f} – {max(times['off']):.2f} s")
    instruction_counts(site, variants)
    record("cells_no_change", "Cells executed by a no-change rebuild",
           "无改动重建执行的单元数", cells, target="0")

    page = site / "docs" / "run-llm.en.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nOne more sentence of prose.\n")
    _, log = run([str(BIN / "mkdocs"), "build"], site, execute)
    record("cells_prose_edit", "Cells executed after a prose-only edit",
           "只改文字后执行的单元数", cells_executed(log)[0], target="0")

    snippet = site / "snippets" / "lm-head.py"
    text = snippet.read_text(encoding="utf-8")
    snippet.write_text(text.replace('prompt = "The capital of France is"',
                                    'prompt = "The capital of France is"  # edited'))
    _, log = run([str(BIN / "mkdocs"), "build"], site, execute)
    count, chapters = cells_executed(log)
    record("snippet_edit", "Chapters re-run after editing one lm-head cell (cells)",
           "修改 lm-head 的一个单元后重跑的章节（单元数）", f"{chapters} ({count})",
           target="lm-head")


def instruction_counts(site: Path, variants: dict[str, str]) -> None:
    """The same builds counted in instructions (valgrind's callgrind): the same code and
    inputs gave the same count to within 0.3 % over six runs, whatever else the machine did,
    where the wall time of one build ranged from 3.4 to 5.3 s. Two builds run at once, each about
    50 times slower than natively. Skipped where valgrind is not installed.

    Instructions are not time: a memory copy or a SHA-256 counts differently from the
    interpreter's work (valgrind hides the CPU's SHA instructions, so hashing counts about
    ten times what it costs natively), so this ratio is a check on the wall-time one, not a
    replacement for it."""
    if shutil.which("valgrind") is None:
        print("  instructions: not measured (valgrind is not installed)", flush=True)
        return
    env = {**ENV, "LLMDOCS_EXECUTE": "1", "PYTHONHASHSEED": "0"}
    for name in ("on", "off"):  # another site folder is another setting: a warm cache for it
        run([str(BIN / "mkdocs"), "build", "-q", "-f", variants[name], "-d", f"site-{name}"],
            site, env)
    runs = {
        name: subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
             str(BIN / "python"), "-m", "mkdocs", "build", "-q", "-f", variants[name],
             "-d", f"site-{name}"],
            cwd=site, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for name in ("on", "off")
    }
    counts = {name: _main_instructions(run.communicate()[1]) for name, run in runs.items()}
    record("instructions_on", "Instructions of a no-change build, plugin on (callgrind)",
           "无改动构建执行的指令数，插件开启（callgrind）", counts["on"] / 1e9, "× 10⁹")
    record("instructions_off", "The same, plugin off", "同上，插件关闭",
           counts["off"] / 1e9, "× 10⁹")
    record("instructions_ratio", "Their ratio on / off (deterministic)",
           "两者之比（开启 / 关闭，结果确定）", counts["on"] / counts["off"], "", "≤ 1.05", 3)


def _main_instructions(log: str) -> int:
    """The instruction count of the build's own process (forked workers report theirs too)."""
    main = re.search(r"^==(\d+)== Command:", log, re.MULTILINE)
    total = main and re.search(rf"^=={main[1]}== I\s+refs:\s+([\d,]+)", log, re.MULTILINE)
    if not total:
        raise SystemExit("valgrind did not report the build's instruction count:\n" + log[-2000:])
    return int(total[1].replace(",", ""))


def writer_loop(site: Path, edits: int) -> None:
    """Seconds from saving a prose edit until the served page shows it: under `make serve`
    (`mkdocs serve --dirty`), and under a plain `mkdocs serve` that rebuilds every page."""
    dirty = edit_latencies(site, edits, ["--dirty"])
    full = edit_latencies(site, edits, [])
    record("serve_edit", f"`make serve` (`mkdocs serve --dirty`): a prose edit shows in the "
           f"served page (median of {edits})",
           f"`make serve`（`mkdocs serve --dirty`）：文字修改出现在页面上（{edits} 次的中位数）",
           statistics.median(dirty), "s", "≤ 2 s", 1)
    record("serve_edit_max", "Slowest of those edits", "其中最慢的一次", max(dirty), "s",
           digits=1)
    record("serve_edit_full", f"Plain `mkdocs serve`, every page rebuilt (median of {edits})",
           f"普通 `mkdocs serve`，每次重建全部页面（{edits} 次的中位数）",
           statistics.median(full), "s", digits=1)


def edit_latencies(site: Path, edits: int, options: list[str]) -> list[float]:
    port = free_port()
    log = (site / "serve.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "mkdocs"), "serve", *options, "--dev-addr", f"127.0.0.1:{port}"],
        cwd=site, env=ENV, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/llm-basics/en/run-llm/"
    page = site / "docs" / "run-llm.en.md"
    latencies: list[float] = []
    try:
        wait_for(url, time.perf_counter(), 300)
        for edit in range(edits):
            marker = f"benchmark-edit-{edit}-{time.time_ns()}"
            time.sleep(1.0)  # the server settles after its last build
            saved = time.perf_counter()
            page.write_text(page.read_text(encoding="utf-8") + f"\n{marker}\n", "utf-8")
            latencies.append(wait_for(url, saved, 120, marker))
    except SystemExit:
        print((site / "serve.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        stop(server)
        log.close()
    return latencies


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


# The floor: every chapter script in one plain Python process, one after another, each in
# fresh globals (what markdown-exec does): torch and transformers are imported once.
ONE_PROCESS = """\
import runpy, sys, time
started = time.perf_counter()
for chapter in sys.argv[1:]:
    sys.argv = [chapter]
    runpy.run_path(chapter, run_name="__main__")
print(f"one-process {time.perf_counter() - started:.3f}", file=sys.stderr)
"""


def timed_refresh(site: Path, env: dict[str, str], extra: list[str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    process = subprocess.Popen([str(BIN / "llmdocs"), "run", "--force", *extra], cwd=site,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    memory = PeakMemory(process.pid)
    output, _ = process.communicate()
    wall = time.perf_counter() - started
    peak = memory.stop()
    if process.returncode != 0:
        raise SystemExit(f"llmdocs run --force {' '.join(extra)} failed:\n{output}")
    return wall, peak, output


def refresh_costs(site: Path, cache: Path) -> None:
    env = {**ENV, "LLMDOCS_CACHE_DIR": str(cache)}
    llmdocs = str(BIN / "llmdocs")
    wall, log = run([llmdocs, "run", "--force", "run-llm"], site, env)
    record("materialize", "First use of a new cache: convert the GGUF and run run-llm",
           "首次使用新缓存：转换 GGUF 并运行 run-llm", wall, "s", digits=1)

    _, exports = run([llmdocs, "env"], site, env)
    model_env = dict(re.findall(r"export (\w+)='([^']*)'", exports))
    floor_env = {**env, **model_env, "MPLBACKEND": "Agg", "TQDM_DISABLE": "1",
                 "TRANSFORMERS_VERBOSITY": "error", "PYTHONHASHSEED": "0"}
    chapters = [str(p) for p in sorted((site / "snippets").glob("*.py"))]
    # The floor before and after the four refreshes (launched kernels, forked one at a time,
    # started ahead, two chapters at once); its mean is the floor, so a slow spell hits both.
    floors: list[float] = []
    floors.append(run([sys.executable, "-c", ONE_PROCESS, *chapters], site, floor_env)[0])
    launched, _, out0 = timed_refresh(site, {**env, "LLMDOCS_FORK": "0"},
                                      ["-j", "1", "--no-prestart"])
    sequential, peak, out1 = timed_refresh(site, env, ["-j", "1", "--no-prestart"])
    pipelined, peak_pipelined, out2 = timed_refresh(site, env, [])
    parallel, peak_parallel, out3 = timed_refresh(site, env, ["-j", "2"])
    floors.append(run([sys.executable, "-c", ONE_PROCESS, *chapters], site, floor_env)[0])
    floor = statistics.mean(floors)
    record("one_process", "One process: every chapter script in turn (mean of 2, same run)",
           "单进程：依次运行每个章节脚本（同一次运行中 2 次的平均）", floor, "s", digits=1)

    def record_refresh(key: str, english: str, chinese: str, wall: float,
                       target: str = "") -> None:
        """A refresh's time, and its ratio to the one-process floor."""
        record(key, english, chinese, wall, "s", digits=1)
        record(f"{key}_ratio", "Its ratio to one process", "它与单进程之比", wall / floor,
               target=target)

    record_refresh("refresh_launched", "Kernels launched as new processes, one at a time "
                   "(`LLMDOCS_FORK=0 … -j 1 --no-prestart`: no fork server)",
                   "内核作为新进程启动，一次一个（`LLMDOCS_FORK=0 … -j 1 --no-prestart`："
                   "无 fork 服务器）", launched)
    record_refresh("refresh_sequential", "`llmdocs run --force -j 1 --no-prestart` (kernels "
                   "forked from the fork server, one at a time)",
                   "`llmdocs run --force -j 1 --no-prestart`（内核从 fork 服务器派生，一次一个）",
                   sequential)
    record_refresh("refresh", "`llmdocs run --force` (next kernels started ahead, default -j)",
                   "`llmdocs run --force`（提前启动后续内核，默认 -j）", pipelined,
                   target="≤ 1.3")
    record_refresh("refresh_parallel", "`llmdocs run --force -j 2` (two chapters at once, one "
                   "ahead)", "`llmdocs run --force -j 2`（同时运行两章，另提前启动一个）",
                   parallel)
    record("materializations", "Times the GGUF was converted",
           "GGUF 被转换的次数",
           (log + out0 + out1 + out2 + out3).count("materializing the offline chat model"),
           target="1")
    record("refresh_peak", "Peak memory, one kernel at a time (runner and kernels)",
           "内存峰值，一次一个内核（运行器与内核）", peak / 2**20, "MiB", digits=0)
    record("refresh_peak_pipelined", "Peak memory with kernels started ahead",
           "提前启动内核时的内存峰值", peak_pipelined / 2**20, "MiB", digits=0)
    record("refresh_peak_parallel", "Peak memory with -j 2", "-j 2 时的内存峰值",
           peak_parallel / 2**20, "MiB", digits=0)

    # The load itself, after the imports every chapter pays anyway (transformers and the
    # Llama modeling module, which transformers imports lazily on first use).
    probe = ("import time,sys; from transformers import AutoModelForCausalLM as M; "
             "from transformers.models.llama import modeling_llama; "
             "t=time.perf_counter(); M.from_pretrained(sys.argv[1]); "
             "print(f'{time.perf_counter()-t:.3f}')")
    checkpoint = model_env["LLM_BASICS_CHAT_MODEL"]
    _, out = run([sys.executable, "-c", probe, checkpoint], site, floor_env)
    record("model_load", "Chat model load from the cache (imports excluded)",
           "从缓存加载聊天模型（不含导入）", float(out.split()[-1]), "s", "≤ 1 s")


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
    record("page_kib", "Cold load of /run-llm/ in chromium", "在 chromium 中冷加载 /run-llm/",
           sum(sizes) / 1024, "KiB", "≤ 1024 KiB", 0)
    record("page_requests", "Requests it makes", "请求数", len(urls))
    record("page_local", "All of them to this site", "全部来自本站", str(local), target="True")


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
    record("jupyter_first", "mkdocs-jupyter, `execute: true`, first build",
           "mkdocs-jupyter，`execute: true`，首次构建", first, "s", digits=1)
    record("jupyter_again", "mkdocs-jupyter, `execute: true`, no-change rebuild (its cache on)",
           "mkdocs-jupyter，`execute: true`，无改动重建（开启其缓存）", again, "s", digits=1)
    config = nbsite / "mkdocs.yml"
    config.write_text(config.read_text().replace("execute: true", "execute: true, cache: false"))
    uncached, _ = run([str(BIN / "mkdocs"), "build"], nbsite, model_env)
    record("jupyter_uncached", "mkdocs-jupyter, `execute: true`, `cache: false`, every build",
           "mkdocs-jupyter，`execute: true`，`cache: false`，每次构建", uncached, "s", digits=1)

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
    record("markdown_exec", "markdown-exec, every build re-runs every block",
           "markdown-exec，每次构建都重跑所有代码块", exec_build, "s", digits=1)
    if "rebuild" in rows:
        ours = value_of("build_on")
        record("markdown_exec_ratio", "No-change rebuild: markdown-exec ÷ this site",
               "无改动重建：markdown-exec ÷ 本站", exec_build / ours, "×", digits=1)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    packages = ("torch", "transformers", "mkdocs", "mkdocs-material", "mkdocs-jupyter",
                "nbclient", "ipykernel", "llmdocs")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    return {
        "cpu": model, "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30),
        "gpu": "none" if shutil.which("nvidia-smi") is None else "present",
        "os": platform.platform(), "python": platform.python_version(),
        "versions": {name: _version(name) for name in packages},
        "chapters": len(list((ROOT / "snippets").glob("*.py"))),
        "commit": commit,
    }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def save(chosen: list[str], load: tuple[float, float]) -> None:
    """Merge the sections measured now into benchmarks/results.json."""
    results: dict[str, Any] = (json.loads(RESULTS.read_text(encoding="utf-8"))
                               if RESULTS.exists() else {"sections": {}})
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    results["machine"] = machine()
    for name in chosen:
        results["sections"][name] = {
            "measured": now, "load_average": [round(x, 2) for x in load],
            "rows": rows.get(name, []),
        }
    results["sections"] = {k: results["sections"][k] for k in SECTIONS
                           if k in results["sections"]}
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {', '.join(SECTIONS)}")
    parser.add_argument("--repeats", type=int, default=11, help="interleaved builds per variant")
    parser.add_argument("--edits", type=int, default=5, help="prose edits under mkdocs serve")
    args = parser.parse_args()
    chosen = [s for s in args.sections.split(",") if s in SECTIONS]  # in the order given
    global section
    with tempfile.TemporaryDirectory(prefix="llmdocs-bench-") as folder:
        tmp = Path(folder)
        cache = tmp / "cache"
        site = copy_site(tmp / "b")
        steps = {
            "install": lambda: install_costs(tmp),
            "rebuild": lambda: rebuild_costs(copy_site(tmp / "a"), args.repeats),
            "writer": lambda: writer_loop(copy_site(tmp / "w"), args.edits),
            "refresh": lambda: refresh_costs(site, cache),
            "page": lambda: page_weight(site),
            "alternatives": lambda: notebook_alternatives(site, tmp, cache),
        }
        for name in chosen:
            section = name
            print(name, flush=True)
            load_before = os.getloadavg()[0]
            try:
                steps[name]()
            except (SystemExit, Exception) as exc:  # keep the other sections' numbers
                print(f"section {name} failed, not saved: {exc}", file=sys.stderr, flush=True)
                rows.pop(name, None)
                continue
            save([name], (load_before, os.getloadavg()[0]))  # each section as soon as it ends


if __name__ == "__main__":
    main()
