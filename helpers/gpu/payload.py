"""What travels to the GPU machine, and how: the wheel list, the parts, the wheel choice there.

Pure functions, no network, used by refresh.py on both sides and by tests/test_gpu_refresh.py.

- The wheels: derived from pyproject.toml (the base set and the ``run`` extra) and
  requirements/models.txt, never listed a second time. Two names are left out: what only
  builds the site (SITE_ONLY) and what the GPU image brings in its own CUDA builds
  (IMAGE_HAS, versions seen there in KINDS.md). SAME_AS_HERE is carried pinned to the
  version installed here, although the image has its own.
- The parts: one tar of the wheel folder, cut into parts that each fit one device call,
  each with its sha256, and the whole with its own; reassembly checks both.
- The choice there: a wheel is installed only where the machine's own Python lacks a
  version that satisfies every requirement naming it (the image has click, rich, pyyaml...
  and a second copy could shadow one that torch relies on).
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import re
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from packaging.requirements import Requirement

SITE_ONLY = frozenset({"jieba", "nh3"})
"""Base dependencies that only build the site (with every ``mkdocs*`` one, see site_only):
`llmdocs run` never imports them."""

IMAGE_HAS = frozenset({"torch", "accelerate", "safetensors", "matplotlib", "numpy"})
"""Brought by the GPU image (its CUDA torch above all): never carried, checked there."""

SAME_AS_HERE = frozenset({"transformers"})
"""Carried at the version installed here (the one the stored CPU outputs were captured
with), so that a GPU capture differs from them by the device alone. What transformers prints
is what the pages teach: the image's 5.17 converts SmolLM2's GGUF tokenizer with
``<|im_start|>`` as its end token, where the CPU's version has ``<|im_end|>`` (the H200
capture of 2026-11-27, helpers/gpu/captures/)."""

MIB = 1 << 20
DEVICE_TREE_LIMIT = 64 * MIB
"""What one device call may carry: the working tree plus the carried paths."""
MAX_PART = 60 * MIB
MANIFEST = "manifest.json"
Manifest = dict[str, Any]
"""The parts' sizes and sha256, the whole's, and what prepare added (JSON)."""


def canonical(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def site_only(name: str) -> bool:
    """Whether a base dependency only builds the site (MkDocs, its plugins, search)."""
    return name.startswith("mkdocs") or name in SITE_ONLY


def requirement_name(requirement: str) -> str:
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not found:
        raise ValueError(f"not a requirement: {requirement!r}")
    return canonical(found[1])


@dataclass(frozen=True)
class WheelList:
    """What `llmdocs run` needs, split by how it reaches the GPU machine."""

    carried: tuple[str, ...]
    """Requirements whose wheels (and their dependencies' wheels) are carried."""
    image: tuple[str, ...]
    """Requirements the image must satisfy itself (checked there, never carried)."""
    models: tuple[str, ...]
    """Pinned model packages, installed without their dependencies."""

    @property
    def needed(self) -> tuple[str, ...]:
        """Every top-level requirement the machine must satisfy, image's and carried."""
        return self.image + self.carried


def wheel_list(root: Path, pins: Mapping[str, str] | None = None) -> WheelList:
    """The wheel list from ``root``'s pyproject.toml and requirements/models.txt; each
    SAME_AS_HERE project pinned to its version in ``pins`` (prepare: what is installed here;
    there: what prepare recorded in the manifest)."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["run"]]
    carried: list[str] = []
    image: list[str] = []
    for requirement in wanted:
        name = requirement_name(requirement)
        if site_only(name):
            continue
        if name in SAME_AS_HERE and pins and name in pins:
            requirement = f"{name}=={pins[name]}"
        (image if name in IMAGE_HAS else carried).append(requirement)
    models = [
        line.split("#", 1)[0].strip()
        for line in (root / "requirements" / "models.txt").read_text(encoding="utf-8").splitlines()
    ]
    return WheelList(tuple(carried), tuple(image), tuple(m for m in models if m))


def manylinux_platforms(glibc: tuple[int, int]) -> list[str]:
    """Every manylinux tag a machine with this glibc runs (pip matches tags exactly)."""
    major, minor = glibc
    if major != 2:
        raise ValueError(f"unexpected glibc {major}.{minor}")
    tags = [f"manylinux_2_{n}_x86_64" for n in range(minor, 4, -1)]
    legacy = {17: "manylinux2014_x86_64", 12: "manylinux2010_x86_64", 5: "manylinux1_x86_64"}
    return tags + [tag for n, tag in legacy.items() if n <= minor]


# --- Parts ----------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


def part_size(tree_bytes: int, margin: int = 2 * MIB) -> int:
    """The largest part that still fits one call beside a working tree of ``tree_bytes``
    (whole MiB, at most MAX_PART)."""
    room = (DEVICE_TREE_LIMIT - tree_bytes - margin) // MIB * MIB
    if room < 8 * MIB:
        raise ValueError(
            f"the working tree alone is {tree_bytes / MIB:.1f} MiB: too little of the "
            f"{DEVICE_TREE_LIMIT // MIB} MiB a device call carries is left for a part; "
            "ignore or remove large untracked files first"
        )
    return min(room, MAX_PART)


def split(payload: Path, folder: Path, size: int, **extra: object) -> Manifest:
    """Cut ``payload`` into ``folder``/call<k>/<name>.part<k> of at most ``size`` bytes; the
    manifest (each part's size and sha256, the whole's, and ``extra``) goes into every call
    folder."""
    total = payload.stat().st_size
    parts: list[dict[str, Any]] = []
    with payload.open("rb") as source:
        for k in range(1, max(1, -(-total // size)) + 1):
            block = source.read(size)
            target = folder / f"call{k}" / f"{payload.name}.part{k}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(block)
            parts.append({"path": target.relative_to(folder).as_posix(), "bytes": len(block),
                          "sha256": hashlib.sha256(block).hexdigest()})
    manifest = {"name": payload.name, "bytes": total, "sha256": sha256_file(payload),
                "parts": parts, **extra}
    for k in range(1, len(parts) + 1):
        (folder / f"call{k}" / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def read_manifest(folder: Path) -> Manifest:
    found = sorted(folder.glob(f"call*/{MANIFEST}"))
    if not found:
        raise FileNotFoundError(f"no call*/{MANIFEST} under {folder}: nothing was carried")
    manifests = {f.read_text() for f in found}
    if len(manifests) > 1:
        raise ValueError(f"the call folders under {folder} come from different prepares; "
                         "prepare again and carry every part of one")
    manifest: Manifest = json.loads(manifests.pop())
    return manifest


def check_parts(folder: Path, manifest: Manifest) -> tuple[list[str], list[str]]:
    """(parts present and intact, problems: each missing or damaged part named)."""
    good, problems = [], []
    for part in manifest["parts"]:
        path = folder / part["path"]
        if not path.is_file():
            problems.append(f"{part['path']} is missing")
        elif path.stat().st_size != part["bytes"] or sha256_file(path) != part["sha256"]:
            problems.append(f"{part['path']} is damaged (size or sha256 differs)")
        else:
            good.append(part["path"])
    return good, problems


def join(folder: Path, manifest: Manifest, target: Path) -> Path:
    """Reassemble the payload from its parts into ``target``; ValueError naming what is
    missing or damaged, or when the whole's sha256 differs."""
    _, problems = check_parts(folder, manifest)
    if problems:
        raise ValueError("cannot reassemble: " + "; ".join(problems))
    with target.open("wb") as out:
        for part in manifest["parts"]:
            out.write((folder / part["path"]).read_bytes())
    if sha256_file(target) != manifest["sha256"]:
        raise ValueError(f"{target} reassembled, but its sha256 is not the prepared one")
    return target


# --- Choosing what to install there ---------------------------------------------------------


@dataclass
class Wheel:
    path: Path
    name: str
    version: str
    requires: list[str] = field(default_factory=list)


def read_wheel(path: Path) -> Wheel:
    """Name, version and Requires-Dist of a wheel, from its METADATA."""
    with zipfile.ZipFile(path) as archive:
        meta = next(n for n in archive.namelist()
                    if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        message = email.parser.Parser().parsestr(archive.read(meta).decode("utf-8"))
    return Wheel(path, canonical(message["Name"]), message["Version"],
                 list(message.get_all("Requires-Dist") or []))


@dataclass
class Choice:
    install: list[Wheel] = field(default_factory=list)
    image: dict[str, str] = field(default_factory=dict)
    """What the machine's own Python provides: name -> version."""
    problems: list[str] = field(default_factory=list)


def choose(
    wheels: Iterable[Wheel], needed: Iterable[str], installed: Callable[[str], str | None],
    installed_requires: Callable[[str], list[str]] = lambda name: [],
) -> Choice:
    """The wheels to install so that every requirement in ``needed`` and, recursively, in
    what gets installed holds; the machine's own version wins wherever it satisfies them."""
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    by_name: dict[str, Wheel] = {}
    choice = Choice()
    for wheel in wheels:
        if wheel.name in by_name:
            choice.problems.append(f"two wheels of {wheel.name}: "
                                   f"{by_name[wheel.name].path.name}, {wheel.path.name}")
        by_name[wheel.name] = wheel
    specs: dict[str, SpecifierSet] = {}
    extras: dict[str, set[str]] = {}
    picked: dict[str, str] = {}  # name -> "image" | "wheel"
    queue: list[tuple[Requirement, str | None]] = [(Requirement(r), None) for r in needed]
    while queue:
        requirement, wanted_by = queue.pop(0)
        name = canonical(requirement.name)
        specs[name] = specs.get(name, SpecifierSet()) & requirement.specifier
        new_extras = set(requirement.extras) - extras.get(name, set())
        extras.setdefault(name, set()).update(requirement.extras)
        have = installed(name)
        if picked.get(name) == "image" and have and specs[name].contains(have, prereleases=True):
            queue += _requirements(installed_requires(name), new_extras, name)
            continue
        if picked.get(name) == "wheel":
            if not specs[name].contains(by_name[name].version, prereleases=True):
                choice.problems.append(f"{by_name[name].path.name} does not satisfy "
                                       f"{name}{specs[name]} (wanted by {wanted_by})")
            queue += _requirements(by_name[name].requires, new_extras, name, only_extras=True)
            continue
        if have and specs[name].contains(have, prereleases=True):
            picked[name] = "image"
            queue += _requirements(installed_requires(name), extras[name], name, only_extras=True)
            continue
        found = by_name.get(name)
        if found is None:
            choice.problems.append(
                f"{name}{specs[name]} is needed (by {wanted_by or 'pyproject.toml'}): this "
                f"machine has {have or 'none'} and no wheel of it was carried")
            continue
        picked[name] = "wheel"
        queue += _requirements(found.requires, extras[name], name)
    choice.install = sorted((by_name[n] for n, how in picked.items() if how == "wheel"),
                            key=lambda w: w.name)
    choice.image = {n: installed(n) or "" for n, how in sorted(picked.items()) if how == "image"}
    return choice


def _requirements(lines: list[str], extras: set[str], wanted_by: str,
                  only_extras: bool = False) -> list[tuple[Requirement, str | None]]:
    """The requirements of ``lines`` that apply here: their markers evaluated for this
    Python, with ``extras`` (only those of an extra when ``only_extras``)."""
    from packaging.requirements import Requirement

    found: list[tuple[Requirement, str | None]] = []
    for line in lines:
        requirement = Requirement(line)
        marker = requirement.marker
        applies = [""] if not only_extras else []
        applies += sorted(extras)
        if marker is None:
            if only_extras:
                continue
            found.append((requirement, wanted_by))
        elif any(marker.evaluate({"extra": extra}) for extra in applies):
            if only_extras and marker.evaluate({"extra": ""}):
                continue
            found.append((requirement, wanted_by))
    return found
