"""Capture every chapter's outputs on the GPU machine: prepare here, run there, bring back.

    python helpers/gpu/refresh.py prepare               # here, with PyPI (see README.md)
    python3 helpers/gpu/refresh.py there --out "$OUT"   # there, in every device call
    python helpers/gpu/refresh.py bring-back ARCHIVE    # here: stored outputs into the tree

`prepare` collects the wheels the machine lacks (payload.wheel_list), tars them with the two
model packages, cuts the tar into parts that each fit one device call beside the working
tree (.gpu/call1, .gpu/call2, ...: ignored, never committed) and prints the calls to make.
`there` is the same command in every call: while parts are still to come it checks the
ones carried so far (after the first also installs the wheels and runs the setup chapter,
so that a broken install shows in the first call); once all are there it reassembles and
checks the payload, installs what the image lacks, runs `llmdocs run --force` on every
chapter and packs snippets/outputs/ into $OUT/gpu-outputs.tar.gz. Every step is timed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import payload

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / ".gpu"
WORK = Path(os.environ.get("LLMDOCS_GPU_WORK", "/tmp/llmdocs-gpu"))
ARCHIVE = "gpu-outputs.tar.gz"
ARCHIVE_LIMIT = 16 * payload.MIB
TIMES: dict[str, float] = {}


@contextmanager
def step(name: str) -> Iterator[None]:
    """Time a step; its duration goes into TIMES and onto stdout."""
    print(f"== {name}", flush=True)
    started = time.perf_counter()
    try:
        yield
    finally:
        TIMES[name] = round(time.perf_counter() - started, 1)
        print(f"== {name}: {TIMES[name]} s", flush=True)


def sh(*command: str, env: dict[str, str] | None = None, check: bool = True) -> int:
    print("$ " + " ".join(command), flush=True)
    return subprocess.run(command, env=env, check=check).returncode


# --- Here -----------------------------------------------------------------------------------


def tree_files(root: Path) -> dict[str, int]:
    """What every device call sends, path -> bytes: tracked and untracked-not-ignored files
    (a symbolic link travels as a link)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root, capture_output=True, check=True,
    ).stdout.split(b"\0")
    sizes = {}
    for raw in set(listed):
        path = root / os.fsdecode(raw)
        if raw and path.is_file() and not path.is_symlink():
            sizes[os.fsdecode(raw)] = path.stat().st_size
    return sizes


def tree_report(sizes: dict[str, int]) -> str:
    """The tree's size and its three largest top-level folders."""
    by_top: dict[str, int] = {}
    for name, size in sizes.items():
        by_top[name.split("/")[0]] = by_top.get(name.split("/")[0], 0) + size
    largest = sorted(by_top.items(), key=lambda item: -item[1])[:3]
    return (f"the working tree each call sends: {sum(sizes.values()) / payload.MIB:.1f} MiB "
            "(largest: " + ", ".join(f"{n} {s / payload.MIB:.1f} MiB" for n, s in largest) + ")")


def ensure_ignored(root: Path, folder: Path) -> None:
    """Keep the parts out of the working tree that travels (and out of git)."""
    rel = folder.relative_to(root).as_posix()
    ignored = subprocess.run(["git", "check-ignore", "-q", rel + "/x"], cwd=root).returncode == 0
    if not ignored:
        exclude = subprocess.run(["git", "rev-parse", "--git-path", "info/exclude"], cwd=root,
                                 capture_output=True, text=True, check=True).stdout.strip()
        path = root / exclude
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"/{rel}/\n")
        print(f"added /{rel}/ to {exclude}")


def here_pins() -> dict[str, str]:
    """The version installed here of each SAME_AS_HERE project (without a local +cpu tag)."""
    from importlib.metadata import version

    return {name: version(name).split("+")[0] for name in sorted(payload.SAME_AS_HERE)}


def download(wheels: Path, python: str, glibc: tuple[int, int], pins: dict[str, str]) -> None:
    """The cp<python> manylinux closure of the carried requirements, the model packages
    without dependencies; what the image brings is dropped; one version of each."""
    listing = payload.wheel_list(ROOT, pins)
    major, minor = python.split(".")
    target = ["--only-binary=:all:", "--python-version", python, "--implementation", "cp",
              "--abi", f"cp{major}{minor}", "--abi", "abi3", "--abi", "none"]
    for tag in payload.manylinux_platforms(glibc):
        target += ["--platform", tag]
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(wheels), *target]
    sh(*pip, *listing.carried)
    sh(*pip, "--no-deps", *listing.models)
    found = [payload.read_wheel(path) for path in sorted(wheels.glob("*.whl"))]
    for wheel in found:
        if wheel.name in payload.IMAGE_HAS:
            wheel.path.unlink()
    names = [w.name for w in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SystemExit(f"refresh.py: two versions of {', '.join(twice)} in {wheels}")


def prepare(args: argparse.Namespace) -> None:
    folder = Path(args.folder).resolve()
    folder.mkdir(exist_ok=True)
    ensure_ignored(ROOT, folder)
    glibc = tuple(int(x) for x in args.glibc.split("."))
    pins = here_pins()  # recorded in the manifest, so that `there` asks for the same
    with step("wheels"):
        fresh = folder / "wheels.new"
        shutil.rmtree(fresh, ignore_errors=True)
        download(fresh, args.python, (glibc[0], glibc[1]), pins)
        shutil.rmtree(folder / "wheels", ignore_errors=True)
        fresh.rename(folder / "wheels")
    wheels = sorted((folder / "wheels").glob("*.whl"))
    models = {payload.requirement_name(m) for m in payload.wheel_list(ROOT).models}
    with step("tar"):
        # Dependencies first, so that the first part already holds all of them.
        ordered = sorted(wheels, key=lambda p: (payload.read_wheel(p).name in models, p.name))
        tar_path = folder / "payload.tar"
        with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as archive:
            for path in ordered:
                info = archive.gettarinfo(str(path), arcname=f"wheels/{path.name}")
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                with path.open("rb") as handle:
                    archive.addfile(info, handle)
    with step("split"):
        for old in folder.glob("call*"):
            shutil.rmtree(old)
        files = tree_files(ROOT)
        print(tree_report(files))
        tree = sum(files.values()) if args.tree_bytes is None else args.tree_bytes
        size = payload.part_size(tree)
        dependencies = [p.name for p in ordered if payload.read_wheel(p).name not in models]
        manifest = payload.split(tar_path, folder, size, dependencies=dependencies,
                                 pins=pins)
        tar_path.unlink()
    deps = sum(p.stat().st_size for p in wheels if payload.read_wheel(p).name not in models)
    report = {"python": args.python, "glibc": args.glibc, "wheels": len(wheels),
              "dependency_wheels_bytes": deps,
              "model_wheels_bytes": sum(p.stat().st_size for p in wheels) - deps,
              "payload_bytes": manifest["bytes"], "tree_bytes": tree, "part_bytes": size,
              "parts": len(manifest["parts"]), "seconds": TIMES}
    (folder / "prepare.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    print_plan(folder, manifest)


def print_plan(folder: Path, manifest: payload.Manifest) -> None:
    rel = folder.relative_to(ROOT).as_posix()
    count = len(manifest["parts"])
    print("\nThe device calls, back to back (a machine idle for 30 s is given back with the "
          "parts it held), each with the same command "
          "python3 helpers/gpu/refresh.py there --out \"$OUT\":")
    for k in range(1, count + 1):
        timeout = 600 if k == count else 300 if k == 1 else 120
        print(f"  call {k}: carry [\"{rel}/call{k}\"], timeout_s {timeout}")
    print("then give_back; here: refresh.py compare ARCHIVE, then refresh.py bring-back ARCHIVE")


# --- There ----------------------------------------------------------------------------------


def installed_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def installed_requires(name: str) -> list[str]:
    from importlib import metadata

    try:
        return list(metadata.requires(name) or [])
    except metadata.PackageNotFoundError:
        return []


def complete_wheels(folder: Path, manifest: payload.Manifest, into: Path) -> list[Path]:
    """Extract the wheels the consecutive intact parts hold in full (all of them once every
    part is there)."""
    chunks = []
    good = set(payload.check_parts(folder, manifest)[0])
    for part in manifest["parts"]:
        if part["path"] not in good:
            break
        chunks.append((folder / part["path"]).read_bytes())
    into.mkdir(parents=True, exist_ok=True)
    found = []
    try:
        with tarfile.open(fileobj=io.BytesIO(b"".join(chunks)), mode="r|") as archive:
            for member in archive:
                name = Path(member.name).name
                if not member.isfile() or not name.endswith(".whl"):
                    continue
                extracted = archive.extractfile(member)
                assert extracted is not None
                data = extracted.read()
                if len(data) != member.size:
                    break
                (into / name).write_bytes(data)
                found.append(into / name)
    except (tarfile.ReadError, EOFError):
        pass  # the rest is in parts still to come
    return found


def install(wheels: list[Path], site: Path, device: str, pins: dict[str, str]) -> list[str]:
    """Install what this machine's Python lacks into ``site``; the problems, if any."""
    listing = payload.wheel_list(ROOT, pins)
    models = {payload.requirement_name(m) for m in listing.models}
    found = [payload.read_wheel(p) for p in wheels]
    choice = payload.choose([w for w in found if w.name not in models], listing.needed,
                            installed_version, installed_requires)
    print("from this machine: " + ", ".join(f"{n} {v}" for n, v in choice.image.items()))
    print("from wheels: " + ", ".join(f"{w.name} {w.version}" for w in choice.install))
    if choice.problems:
        return choice.problems
    chosen = [w.path for w in choice.install] + [w.path for w in found if w.name in models]
    marker = site / ".installed"
    wanted = "\n".join(sorted(p.name for p in chosen))
    if marker.is_file() and marker.read_text() == wanted:
        print(f"{site}: already installed")
        return []
    shutil.rmtree(site, ignore_errors=True)
    sh(sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
       "--no-compile", "--no-cache-dir", "--disable-pip-version-check", "--target",
       str(site), *map(str, chosen))
    marker.write_text(wanted)
    return []


def run_env(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT / "helpers")]),
            "LLMDOCS_CACHE_DIR": str(WORK / "cache"), "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1"}


def machine_facts(out: Path) -> None:
    lines = [f"python {platform.python_version()} at {sys.executable}"]
    torch_line = ("import torch; print(torch.__version__, 'CUDA', torch.version.cuda, "
                  "'available', torch.cuda.is_available())")
    for command in (["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                     "--format=csv,noheader"], ["nproc"], [sys.executable, "-c", torch_line]):
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=30)
            lines.append(f"{command[0]}: {done.stdout.strip() or done.stderr.strip()}")
        except (OSError, subprocess.SubprocessError) as exc:
            lines.append(f"{command[0]}: {exc}")
    text = "\n".join(lines)
    print(text)
    (out / "machine.txt").write_text(text + "\n")


def pack(out: Path) -> Path:
    """snippets/outputs/ (every file under it) and this call's logs in one archive."""
    archive_path = out / ARCHIVE
    with tarfile.open(archive_path, "w:gz") as archive:
        for path in sorted((ROOT / "snippets" / "outputs").rglob("*")):
            if path.is_file():
                archive.add(path, arcname=path.relative_to(ROOT).as_posix())
        for extra in ("machine.txt", "run.log", "times.json"):
            if (out / extra).is_file():
                archive.add(out / extra, arcname=f"gpu/{extra}")
    size = archive_path.stat().st_size
    print(f"{archive_path}: {size / payload.MIB:.2f} MiB")
    if size > ARCHIVE_LIMIT:
        raise SystemExit(f"refresh.py: {archive_path} is over {ARCHIVE_LIMIT // payload.MIB} "
                         "MiB and would not come back")
    return archive_path


def begin_attempt(manifest: payload.Manifest) -> Path:
    """The folder keeping what this attempt (these parts) captured on this machine, outside
    the tree: each call sends the tree again, stored outputs included, so a capture kept
    only in snippets/outputs/ would be overwritten by the next call's copy."""
    kept, marker = WORK / "captured", WORK / "attempt"
    if not marker.is_file() or marker.read_text() != manifest["sha256"]:
        shutil.rmtree(kept, ignore_errors=True)
        marker.write_text(manifest["sha256"])
    kept.mkdir(parents=True, exist_ok=True)
    return kept


def chapters_left(kept: Path) -> list[str]:
    """The chapters this attempt has not captured yet (a continuation call runs only those)."""
    return [path.stem for path in sorted((ROOT / "snippets").glob("*.py"))
            if not (kept / f"{path.stem}.json").is_file()]


def restore(kept: Path) -> None:
    """Put this attempt's captures back over the stored files the call's tree brought."""
    for path in sorted(kept.glob("*.json")):
        shutil.copyfile(path, ROOT / "snippets" / "outputs" / path.name)


def run_and_keep(site: Path, out: Path, device: str, names: list[str], kept: Path,
                 stop_at: float | None = None) -> int:
    """`llmdocs run --force` on ``names``; a chapter counts as captured when the run ended
    well, or when its stored file changed (the others, after a failure or the deadline)."""
    outputs = ROOT / "snippets" / "outputs"
    before = {n: (outputs / f"{n}.json").read_bytes() if (outputs / f"{n}.json").is_file()
              else None for n in names}
    status = llmdocs(site, out, "run", "--force", "--device", device, *names, stop_at=stop_at)
    for name in names:
        path = outputs / f"{name}.json"
        if path.is_file() and (status == 0 or path.read_bytes() != before[name]):
            shutil.copyfile(path, kept / path.name)
    return status


def stash_parts(carried: Path, stash: Path) -> Path:
    """Keep each carried part outside the checkout, where the next call finds it.

    Each device call replaces the working tree and removes the carried paths it does not
    name, so `.gpu/call1` is gone by call 2 (seen on the first attempt); /tmp stays while
    the machine is warm. Parts of another prepare are dropped first."""
    manifest = payload.read_manifest(carried)
    try:
        if payload.read_manifest(stash)["sha256"] != manifest["sha256"]:
            shutil.rmtree(stash)
    except (FileNotFoundError, ValueError):
        shutil.rmtree(stash, ignore_errors=True)
    for found in sorted(carried.glob("call*")):  # a part carried again replaces its copy
        shutil.copytree(found, stash / found.name, dirs_exist_ok=True)
    return stash


def there(args: argparse.Namespace) -> int:
    begun = time.monotonic()
    folder, out, site = Path(args.folder).resolve(), Path(args.out), WORK / "site"
    out.mkdir(parents=True, exist_ok=True)
    WORK.mkdir(parents=True, exist_ok=True)
    status = 0
    try:
        with step("parts"):
            folder = stash_parts(folder, WORK / "parts")
            manifest = payload.read_manifest(folder)
            good, problems = payload.check_parts(folder, manifest)
            print(f"{len(good)} of {len(manifest['parts'])} parts here and intact")
            kept = begin_attempt(manifest)
        missing = [p for p in problems if "missing" in p]
        damaged = [p for p in problems if "missing" not in p]
        if damaged:
            raise SystemExit("refresh.py: " + "; ".join(damaged))
        if missing:
            wheels = complete_wheels(folder, manifest, WORK / "early") if good else []
            early = {w.name for w in wheels} >= set(manifest.get("dependencies", [None]))
            if early and not (site / ".installed").is_file():
                machine_facts(out)
                with step("install"):
                    problems = install(wheels_without_models(wheels), site, args.device,
                                       manifest.get("pins", {}))
                if problems:
                    raise SystemExit("refresh.py: cannot install:\n  " + "\n  ".join(problems))
                with step("setup chapter"):
                    status = run_and_keep(site, out, args.device, ["setup"], kept)
            if status:
                print("STOP: the setup chapter failed here (run.log says why); sending the "
                      "other parts would only spend device time")
                return status
            print(f"waiting for: {', '.join(missing)}; next call: the same command carrying "
                  "the next part")
            return 0
        extracted = WORK / "wheels" / ".payload"
        if not extracted.is_file() or extracted.read_text() != manifest["sha256"]:
            with step("reassemble"):
                joined = payload.join(folder, manifest, WORK / str(manifest["name"]))
                shutil.rmtree(WORK / "wheels", ignore_errors=True)
                with tarfile.open(joined) as archive:
                    archive.extractall(WORK, filter="data")
                joined.unlink()
                extracted.write_text(manifest["sha256"])
        machine_facts(out)
        with step("install"):
            problems = install(sorted((WORK / "wheels").glob("*.whl")), site, args.device,
                               manifest.get("pins", {}))
        if problems:
            raise SystemExit("refresh.py: cannot install:\n  " + "\n  ".join(problems))
        restore(kept)
        left = chapters_left(kept)
        with step("run"):
            if left:
                status = run_and_keep(site, out, args.device, left, kept,
                                      stop_at=begun + args.deadline)
            left = chapters_left(kept)
            if status and left:
                print(f"UNFINISHED: not yet captured here: {', '.join(left)}; the same "
                      "command again, carrying nothing, runs only those")
        with step("status"):
            llmdocs(site, out, "status", "--device", args.device)
    finally:
        (out / "times.json").write_text(json.dumps(TIMES, indent=1) + "\n")
    with step("pack"):
        pack(out)
    return status


def wheels_without_models(wheels: list[Path]) -> list[Path]:
    """In the early install the model wheels may still be incomplete: leave them out."""
    models = {payload.requirement_name(m) for m in payload.wheel_list(ROOT).models}
    return [w for w in wheels if payload.read_wheel(w).name not in models]


def llmdocs(site: Path, out: Path, *arguments: str, stop_at: float | None = None) -> int:
    """`llmdocs ARGUMENTS` with the installed wheels and the tree's helpers; output teed
    to out/run.log. At ``stop_at`` (time.monotonic) it is stopped with SIGTERM, which
    ends a run cleanly: finished chapters keep their stored files, the archive still
    gets packed before the call's own limit."""
    command = [sys.executable, "-m", "llmdocs.cli", *arguments]
    print("$ llmdocs " + " ".join(arguments), flush=True)
    with (out / "run.log").open("a", encoding="utf-8") as log:
        process = subprocess.Popen(command, env=run_env(site), cwd=ROOT, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        timer = None
        if stop_at is not None:
            timer = threading.Timer(max(0.0, stop_at - time.monotonic()), _stop, [process])
            timer.start()
        assert process.stdout is not None
        for line in process.stdout:  # line by line: a call stopped at its limit keeps it
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
            log.flush()
        if timer is not None:
            timer.cancel()
        return process.wait()


def _stop(process: subprocess.Popen[str]) -> None:
    print("refresh.py: the deadline has come; stopping the run", flush=True)
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


# --- Here again -----------------------------------------------------------------------------


def bring_back(args: argparse.Namespace) -> None:
    """Put the stored outputs of an archive from `there` into snippets/outputs/."""
    outputs = ROOT / "snippets" / "outputs"
    with tarfile.open(args.archive) as archive:
        for member in archive.getmembers():
            path = Path(member.name)
            if path.parts[:2] == ("snippets", "outputs") and member.isfile():
                archive.extract(member, ROOT, filter="data")
                print(f"{path}")
            elif path.parts[:1] == ("gpu",) and member.isfile():
                extracted = archive.extractfile(member)
                assert extracted is not None
                print(f"--- {path}\n{extracted.read().decode('utf-8', 'replace')[-3000:]}")
    for stored in sorted(outputs.glob("*.json")):
        os.chmod(stored, 0o644)


def compare(args: argparse.Namespace) -> int:
    """Hold the outputs of an archive from `there` against the stored ones here, cell by cell,
    with `llmdocs verify`'s comparator and each cell's compare= setting: which cells would a
    CPU check (tests/test_models.py, `llmdocs verify --device cpu`) find different once the
    archive's outputs are committed? Exit status 1 when any."""
    sys.path.insert(0, str(ROOT / "helpers"))
    from dataclasses import replace

    from llmdocs.compare import Verdict, compare_cells, tolerances
    from llmdocs.project import project_at
    from llmdocs.store import read_store

    project = project_at(ROOT)
    differing = 0
    with tarfile.open(args.archive) as archive:
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            path = Path(member.name)
            if len(path.parts) != 3 or path.parts[:2] != ("snippets", "outputs") or \
                    path.suffix != ".json":
                continue  # the offline profile's files: the ones a GPU run captures
            if path.stem not in project.chapter_names() or \
                    not (project.store_dir / path.name).is_file():
                print(f"{path.stem}: no such chapter or stored file here")
                continue
            extracted = archive.extractfile(member)
            assert extracted is not None
            with tempfile.TemporaryDirectory() as folder:
                copy = Path(folder) / path.name
                copy.write_bytes(extracted.read())
                captured = read_store(copy)
            here = read_store(project.store_dir / path.name)
            chapter = project.chapter(path.stem)
            print(f"{path.stem}: {captured.device} vs {here.device}")
            missing = [c for c in chapter.cell_names if c not in here.cells]
            for name in missing:
                print(f"  {name}: not stored here")
            differing += len(missing)
            for name, result in compare_cells(here, captured, tolerances(chapter)).items():
                if result.verdict is Verdict.DIFFERS:
                    differing += 1
                    print(f"  {name}: {replace(result, cell='').describe()}")
    print(f"{differing} cell(s) differ" if differing else "every cell agrees within tolerance")
    return 1 if differing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    here = commands.add_parser("prepare", help="collect wheels and models, cut into parts")
    here.add_argument("--python", default="3.12", help="the target's Python (default 3.12)")
    here.add_argument("--glibc", default="2.39", help="the target's glibc (default 2.39)")
    here.add_argument("--tree-bytes", type=int, default=None,
                      help="size of the working tree each call sends (default: measured)")
    here.add_argument("--folder", default=str(FOLDER))
    far = commands.add_parser("there", help="on the device: check parts, install, run, pack")
    far.add_argument("--out", required=True, help="folder whose files come back ($OUT)")
    far.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    far.add_argument("--folder", default=str(FOLDER))
    far.add_argument("--deadline", type=float, default=540.0,
                     help="seconds after which a run is stopped so that what is done still "
                          "comes back inside the 600 s a device call may take (default 540)")
    back = commands.add_parser("bring-back", help="stored outputs from an archive into the tree")
    back.add_argument("archive")
    against = commands.add_parser("compare", help="an archive's outputs against the stored "
                                  "ones here, with the comparator of llmdocs verify")
    against.add_argument("archive")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args)
        return 0
    if args.command == "there":
        return there(args)
    if args.command == "compare":
        return compare(args)
    bring_back(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
