"""What machine and software produced an output, found without importing torch."""

from __future__ import annotations

import importlib.util
import platform
import re
import shutil
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

DEVICES = ("auto", "cpu", "cuda")
METADATA_VERSION = re.compile(r"^Version:[ \t]*(\S+)", re.MULTILINE)


@cache  # a process keeps the packages it imported
def package_version(name: str) -> str:
    """Installed version of a distribution, or 'absent'."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return "absent"
    # The Version line of its metadata: `metadata.version` parses the whole file as an email
    # message first (1 ms a package; a build asks for about ten).
    found = METADATA_VERSION.search(dist.read_text("METADATA") or dist.read_text("PKG-INFO") or "")
    return found[1] if found else str(dist.version)


@cache
def versions() -> dict[str, str]:
    """The versions recorded with every stored output; on a machine whose torch can use its
    GPU, also the CUDA version torch was built with (no such key on CPU machines, so their
    stored files never change because of it)."""
    found = {
        "python": platform.python_version(),
        "torch": package_version("torch"),
        "transformers": package_version("transformers"),
    }
    cuda = torch_cuda_version()
    if cuda is not None and gpu_name() is not None:
        found["cuda"] = cuda
    return found


CUDA_LINE = re.compile(r"""^cuda\s*(?::[^=]*)?=\s*['"]([^'"]+)['"]""", re.MULTILINE)


def torch_cuda_version() -> str | None:
    """The CUDA version of the installed torch build ('13.0'), read from torch/version.py
    without importing torch; None for a CPU build or when torch is absent."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return None
    version_file = Path(next(iter(spec.submodule_search_locations))) / "version.py"
    try:
        found = CUDA_LINE.search(version_file.read_text(encoding="utf-8"))
    except OSError:
        found = None
    if found:
        return found[1]
    local = re.search(r"\+cu(\d+)(\d)$", package_version("torch"))  # 2.11.0+cu130
    return f"{int(local[1])}.{local[2]}" if local else None


@cache
def gpu_name() -> str | None:
    """Name of the first NVIDIA GPU (as nvidia-smi reports it), or None.

    Asked of nvidia-smi rather than torch so that `llmdocs check` stays import-light.
    A CPU-only torch build cannot use a GPU even where one exists.
    """
    if "+cpu" in package_version("torch") or shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = [line.strip() for line in out.splitlines() if line.strip()]
    return names[0] if names else None


def resolve_device(device: str) -> str:
    """Map auto|cpu|cuda to the device the snippets will use: 'cuda' or 'cpu'."""
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    if device == "auto":
        return "cuda" if gpu_name() else "cpu"
    return device


def device_label(device: str) -> str:
    """What the provenance line shows: the GPU's name, or 'CPU'."""
    if resolve_device(device) == "cuda":
        return gpu_name() or "CUDA GPU"
    return "CPU"
