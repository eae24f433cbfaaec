"""The tokenizer playground's files and the check that holds the browser to Python.

The playground (docs/assets/playground/) tokenizes in the reader's browser with Tokenizers.js
on tokenizer files exported here from the chapters' own offline models. The chapter
``snippets/playground.py`` stores what Python makes of a fixed set of inputs and the digests of
the serialised tokenizers; ``js-check.json`` (written by ``npm run check`` in playground/)
holds what Tokenizers.js makes of the same inputs. ``problems`` compares the three without
any model or Node, so every build can say when they drift apart.

Regenerate (see playground/README.md)::

    llmdocs run playground                    # Python's tokenization and digests
    python -m llmdocs.playground export       # the tokenizer files, from the same models
    (cd playground && npm ci && npm run build && npm run check)
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any

from .project import Project
from .store import read_store

CHAPTER = "playground"
ASSETS = Path("docs") / "assets" / "playground"
TOKENIZERS = ("chat", "bert")
JS_CHECK = "js-check.json"


def tokenizer_file(name: str) -> str:
    """The site file of one tokenizer, e.g. 'chat.tokenizer.json'."""
    return f"{name}.tokenizer.json"


@dataclass(frozen=True)
class Truth:
    """Python's side, from the stored chapter: file digests and each case's tokens and ids."""

    digests: dict[str, str]
    cases: dict[str, dict[str, Any]]


def python_truth(project: Project) -> Truth:
    """Read the stored chapter (StoreError when it is missing or corrupt)."""
    stored = read_store(project.store_dir / f"{CHAPTER}.json")
    cells = stored.to_json()["cells"]

    def stdout(cell: str) -> list[str]:
        outputs = cells.get(cell, {}).get("outputs", [])
        text = "".join("".join(o["text"]) for o in outputs if o.get("stream") == "stdout")
        return text.splitlines()

    digests = {}
    for line in stdout("files"):
        name, digest, _size = line.split()
        digests[name] = digest
    cases = {}
    for line in stdout("cases"):
        case = json.loads(line)
        cases[case["case"]] = case
    return Truth(digests, cases)


def problems(project: Project) -> list[str]:
    """What disagrees between the stored Python run, the tokenizer files and js-check.json."""
    folder = project.root / ASSETS
    if not folder.is_dir():
        return []  # a site without the playground
    try:
        truth = python_truth(project)
    except Exception as exc:  # a missing or unreadable store is the finding itself
        return [f"playground: {exc}"]
    found: list[str] = []
    for name in TOKENIZERS:
        path = folder / tokenizer_file(name)
        if not path.is_file():
            found.append(f"playground: {project.relative(path)} is missing; {_EXPORT}")
            continue
        digest = "sha256:" + sha256(path.read_bytes()).hexdigest()
        if digest != truth.digests.get(name):
            found.append(
                f"playground: {project.relative(path)} is not the tokenizer that "
                f"snippets/playground.py ran ({digest[:19]}… ≠ "
                f"{str(truth.digests.get(name))[:19]}…); {_EXPORT}"
            )
    js_path = folder / JS_CHECK
    try:
        js_cases = json.loads(js_path.read_text(encoding="utf-8"))["cases"]
    except (OSError, ValueError, KeyError) as exc:
        return [*found, f"playground: cannot read {project.relative(js_path)} ({exc}); {_CHECK}"]
    js = {case["case"]: case for case in js_cases}
    for key, case in truth.cases.items():
        other = js.get(key)
        if other is None or other.get("text") != case["text"]:
            found.append(f"playground: case {key!r} has no Tokenizers.js result; {_CHECK}")
            continue
        for name in TOKENIZERS:
            differs = _first_difference(case[name], other.get(name, {}))
            if differs:
                found.append(f"playground: case {key!r}, {name}: Python and Tokenizers.js "
                             f"differ: {differs}")
    return found


_EXPORT = "run `python -m llmdocs.playground export` (see playground/README.md)"
_CHECK = "run `npm run check` in playground/ (see playground/README.md)"


def _first_difference(python: dict[str, Any], js: dict[str, Any]) -> str:
    """'' when tokens and ids agree; else where they first part."""
    pairs = list(zip(python.get("tokens", []), python.get("ids", []), strict=False))
    others = list(zip(js.get("tokens", []), js.get("ids", []), strict=False))
    for index, (mine, theirs) in enumerate(zip(pairs, others, strict=False)):
        if mine != theirs:
            return f"token {index}: Python {mine!r}, Tokenizers.js {theirs!r}"
    if len(pairs) != len(others):
        return f"Python has {len(pairs)} tokens, Tokenizers.js {len(others)}"
    return ""


def export(project: Project) -> list[Path]:
    """Write each offline tokenizer's compact serialisation into docs/assets/playground/.

    The same bytes the chapter hashes (``backend_tokenizer.to_str()``), loaded the same way
    (the offline profile's model locations). Needs the `run` extra (transformers).
    """
    import os

    from transformers import AutoTokenizer

    from .profiles import ROLES, model_locations

    roles = [role for role in ROLES if role.name in TOKENIZERS]
    locations = model_locations("offline", roles)
    os.environ.update({k: v for k, v in locations.items() if k == "HF_HUB_OFFLINE"})
    folder = project.root / ASSETS
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for role in roles:
        tokenizer = AutoTokenizer.from_pretrained(locations[role.env])
        path = folder / tokenizer_file(role.name)
        path.write_text(tokenizer.backend_tokenizer.to_str(), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    """`python -m llmdocs.playground export|check`."""
    from .project import find_project

    project = find_project()
    if argv[:1] == ["export"]:
        for path in export(project):
            print(f"wrote {project.relative(path)} ({path.stat().st_size:,} bytes)")
        return 0
    if argv[:1] == ["check"]:
        found = problems(project)
        print("\n".join(found) or "playground: Python and Tokenizers.js agree on every case")
        return 1 if found else 0
    print("usage: python -m llmdocs.playground export|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
