"""What machine and software produced an output, found without importing torch."""

from __future__ import annotations

import platform
import shutil
import subprocess
from functools import cache
from importlib import metadata

DEVICES = ("auto", "cpu", "cuda")


def package_version(name: str) -> str:
    """Installed version of a distribution, or 'absent'."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


@cache
def versions() -> dict[str, str]:
    """The versions recorded with every stored output."""
    return {
        "python": platform.python_version(),
        "torch": package_version("torch"),
        "transformers": package_version("transformers"),
    }


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
