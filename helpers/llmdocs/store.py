"""Stored outputs: one JSON file per chapter, committed, readable in a diff.

Text is kept as a list of lines, images as base64 in short lines. A digest over the
content catches files that were hand-edited or damaged; writes are atomic (temp file in
the same folder, then rename), so an interrupted run never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import StoreError
from .schema import SchemaError, check_body

SCHEMA = 1
Output = dict[str, Any]


@dataclass
class StoredCell:
    """What one cell produced and how long it took."""

    outputs: list[Output]
    duration_s: float = 0.0


@dataclass
class StoredChapter:
    """A chapter's captured outputs and their provenance."""

    chapter: str
    source_key: str
    profile: str
    device: str
    versions: dict[str, str]
    models: dict[str, dict[str, str]]
    captured: str
    cells: dict[str, StoredCell] = field(default_factory=dict)

    def environment(self) -> dict[str, Any]:
        """The fields that make an output 'stale (environment)' when they differ."""
        return {"profile": self.profile, "device": self.device, "versions": self.versions}

    def environment_class(self) -> dict[str, Any]:
        """What must stay the same for a reproduced output to keep its stored file: the
        profile, the kind of device (CPU or GPU) and the models' weights. Library versions
        and the exact CPU may change; the outputs are then compared within tolerance."""
        return {"profile": self.profile, "device": self.device_class, "models": self.models}

    @property
    def device_class(self) -> str:
        """'CPU' or 'GPU': outputs from two GPUs (or two CPUs) are the same kind of capture."""
        return "CPU" if self.device == "CPU" else "GPU"

    def content(self) -> dict[str, Any]:
        """Everything but timings and the capture date: equal content means nothing changed."""
        return {
            "source_key": self.source_key,
            **self.environment(),
            "models": self.models,
            "cells": {name: cell.outputs for name, cell in self.cells.items()},
        }

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "schema": SCHEMA,
            "chapter": self.chapter,
            "source_key": self.source_key,
            "profile": self.profile,
            "device": self.device,
            "versions": self.versions,
            "models": self.models,
            "captured": self.captured,
            "cells": {
                name: {"duration_s": round(cell.duration_s, 2), "outputs": cell.outputs}
                for name, cell in self.cells.items()
            },
        }
        body["digest"] = _digest(body)
        return body


def store_dir_for(store_dir: Path, profile: str = "offline") -> Path:
    """Each profile keeps its own outputs, so a reference capture never overwrites the
    offline one: offline in snippets/outputs/, others in snippets/outputs/<profile>/."""
    return Path(store_dir) if profile == "offline" else Path(store_dir) / profile


def store_path(store_dir: Path, chapter: str, profile: str = "offline") -> Path:
    return store_dir_for(store_dir, profile) / f"{chapter}.json"


def _digest(body: dict[str, Any]) -> str:
    canonical = {k: v for k, v in body.items() if k != "digest"}
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def dumps(stored: StoredChapter) -> str:
    return json.dumps(stored.to_json(), indent=1, ensure_ascii=False) + "\n"


def read_store(path: Path) -> StoredChapter:
    """Load a stored chapter; StoreError with the remedy when it is corrupt or hand-edited.

    Parsed and verified once per file version: static-i18n builds the site once per language
    and `mkdocs serve` rebuilds often, and the files rarely change in between. Callers must
    not mutate the result. Messages name the file relative to the project (see shown_path).
    """
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise StoreError(
            f"{shown_path(path)}: no stored outputs; run `{_run_command(path)}`"
        ) from None
    return _read_verified(path, stat.st_mtime_ns, stat.st_size)


def shown_path(path: Path) -> str:
    """A stored file as messages name it: from snippets/ on (project-relative), never absolute."""
    parts = Path(path).parts
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] == "snippets" and parts[index + 1] == "outputs":
            return "/".join(parts[index:])
    return Path(path).name


def _run_command(path: Path, force: bool = False) -> str:
    """The `llmdocs run` that captures this stored file again (its profile from its folder)."""
    path = Path(path)
    profile = path.parent.name if path.parent.parent.name == "outputs" else "offline"
    options = (["--force"] if force else []) + (
        [f"--profile {profile}"] if profile != "offline" else []
    )
    return " ".join(["llmdocs run", *options, path.stem])


@lru_cache(maxsize=256)
def _read_verified(path: Path, mtime_ns: int, size: int) -> StoredChapter:
    shown = shown_path(path)
    remedy = f"run `{_run_command(path, force=True)}` to capture it again"
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(f"{shown}: no stored outputs; run `{_run_command(path)}`") from None
    except OSError as exc:
        raise StoreError(
            f"{shown}: cannot read stored outputs ({exc.strerror or exc}); check the file's "
            "permissions"
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"{shown}: stored outputs are not valid JSON ({exc}); {remedy}") from None
    if not isinstance(body, dict) or body.get("schema") != SCHEMA:
        raise StoreError(f"{shown}: unknown stored-output schema; {remedy}")
    if body.get("digest") != _digest(body):
        raise StoreError(
            f"{shown}: stored outputs were edited by hand or damaged (digest mismatch); "
            f"never edit them, {remedy}"
        )
    try:
        check_body(body)
    except SchemaError as exc:
        raise StoreError(f"{shown}: stored outputs are malformed ({exc}); {remedy}") from None
    if body["chapter"] != path.stem:
        raise StoreError(
            f"{shown}: holds the outputs of chapter {body['chapter']!r}, not {path.stem!r} "
            f"(copied or renamed); {remedy}"
        )
    cells = {
        name: StoredCell(list(cell["outputs"]), float(cell["duration_s"]))
        for name, cell in body["cells"].items()
    }
    return StoredChapter(
        chapter=body["chapter"], source_key=body["source_key"], profile=body["profile"],
        device=body["device"], versions=dict(body["versions"]), models=dict(body["models"]),
        captured=body["captured"], cells=cells,
    )


def clean_stray_temp_files(store_dir: Path, chapter: str) -> list[Path]:
    """Delete temp files a killed run left for ``chapter`` (in every profile's folder).

    Call it holding the chapter's lock (see locks): then no live run is writing them.
    Readers ignore them anyway (they do not end in .json).
    """
    store_dir = Path(store_dir)
    pattern = f".{chapter}.json.*.tmp"
    stray = [*store_dir.glob(pattern), *store_dir.glob(f"*/{pattern}")]
    for path in stray:
        path.unlink(missing_ok=True)
    return stray


def _ordinary_mode() -> int:
    """The mode a plain `open(…, "w")` would give a new file: 0666 less the umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_store(path: Path, stored: StoredChapter) -> bool:
    """Write atomically; keep the existing file byte-identical when its content is unchanged.

    Returns True when the file changed. A re-run that reproduces the same outputs in the
    same environment keeps the old date and timings, so git stays clean.
    """
    path = Path(path)
    try:
        previous = read_store(path)
    except StoreError:
        previous = None
    if previous is not None and previous.content() == stored.content():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, _ordinary_mode())  # mkstemp makes it 0600; a stored file is 0644
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(dumps(stored))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return True
