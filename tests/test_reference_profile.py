"""The `reference` profile without the Hub: tiny random-weight models of the reference
architectures (Phi-3, GPT-2, BERT) stand in for the real ones in a fake Hub cache."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmdocs.profiles import ROLES, minilm_dir
from llmdocs.project import Project
from llmdocs.runner import RunSummary, run_chapters
from llmdocs.store import StoredChapter, read_store, store_path

pytestmark = pytest.mark.models

REPO_SNIPPETS = Path(__file__).parent.parent / "snippets"
# The chapters that reach into architecture-specific parts (input embeddings, model.model,
# lm_head, eager attention weights); the others only use generic generate() or tokenizers.
REAL_CHAPTERS = ("embeddings", "lm-head", "inside-model")

CHAPTER = """\
# %% [markdown]
# Loads each reference model the way the real chapters do.

# %% chat
import os

from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

chat_id = os.environ.get("LLM_BASICS_CHAT_MODEL", "microsoft/Phi-3-mini-4k-instruct")
chat = AutoModelForCausalLM.from_pretrained(chat_id, dtype="auto")
chat_tokenizer = AutoTokenizer.from_pretrained(chat_id)
print(chat_id, type(chat).__name__, chat.config.hidden_size)

# %% embed
embed_id = os.environ.get("LLM_BASICS_EMBED_MODEL", "gpt2")
embed = AutoModel.from_pretrained(embed_id)
print(embed_id, type(embed).__name__, embed.config.n_embd)

# %% bert
bert_id = os.environ.get("LLM_BASICS_BERT_MODEL", "bert-base-uncased")
bert = AutoModel.from_pretrained(bert_id)
bert_tokenizer = AutoTokenizer.from_pretrained(bert_id)
print(bert_id, type(bert).__name__, bert.config.hidden_size)
print(bert_tokenizer.tokenize("The river bank"))
"""


def fake_commit(repo_id: str) -> str:
    """A stable 40-hex 'commit' per repository."""
    return hashlib.sha1(repo_id.encode()).hexdigest()


def build_tiny_hub(hub: Path) -> dict[str, str]:
    """Save tiny random models of the reference architectures in Hub-cache layout under
    ``hub``; return each repository's fake commit."""
    import torch
    from transformers import (
        AutoTokenizer,
        BertConfig,
        BertModel,
        GPT2Config,
        GPT2Model,
        Phi3Config,
        Phi3ForCausalLM,
    )
    from transformers.utils import logging as hf_logging

    from llmdocs.materialize import ensure_chat_checkpoint

    hf_logging.disable_progress_bar()
    torch.manual_seed(0)
    chat_tokenizer = AutoTokenizer.from_pretrained(ensure_chat_checkpoint())
    bert_tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    chat_vocab, bert_vocab = len(chat_tokenizer), len(bert_tokenizer)
    special = {
        "bos_token_id": chat_tokenizer.bos_token_id, "eos_token_id": chat_tokenizer.eos_token_id,
        "pad_token_id": chat_tokenizer.pad_token_id or chat_tokenizer.eos_token_id,
    }
    models: dict[str, tuple[Any, Any]] = {
        "microsoft/Phi-3-mini-4k-instruct": (
            Phi3ForCausalLM(Phi3Config(
                vocab_size=chat_vocab, hidden_size=32, intermediate_size=64,
                num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                max_position_embeddings=512, **special,
            )),
            chat_tokenizer,
        ),
        "gpt2": (
            GPT2Model(GPT2Config(vocab_size=chat_vocab, n_embd=32, n_layer=2, n_head=4,
                                 n_positions=512, **special)),
            chat_tokenizer,
        ),
        "bert-base-uncased": (
            BertModel(BertConfig(vocab_size=bert_vocab, hidden_size=32, intermediate_size=64,
                                 num_hidden_layers=2, num_attention_heads=4,
                                 max_position_embeddings=512)),
            bert_tokenizer,
        ),
    }
    commits = {}
    for repo_id, (model, tokenizer) in models.items():
        commit = fake_commit(repo_id)
        repo = hub / ("models--" + repo_id.replace("/", "--"))
        (repo / "refs").mkdir(parents=True)
        (repo / "refs" / "main").write_text(commit)
        snapshot = repo / "snapshots" / commit
        model.save_pretrained(snapshot)
        tokenizer.save_pretrained(snapshot)
        commits[repo_id] = commit
    return commits


@pytest.fixture(scope="module")
def reference_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Project, RunSummary, dict[str, str]]]:
    """One run, on the reference profile, of a small chapter plus the repo's real chapters,
    against a fake offline Hub cache holding tiny models."""
    root = tmp_path_factory.mktemp("reference")
    hf_home = root / "hf"
    commits = build_tiny_hub(hf_home / "hub")
    project = Project(root / "site")
    project.snippets_dir.mkdir(parents=True)
    project.chapter_path("reference-models").write_text(CHAPTER, encoding="utf-8")
    for name in REAL_CHAPTERS:
        if (REPO_SNIPPETS / f"{name}.py").is_file():
            shutil.copy(REPO_SNIPPETS / f"{name}.py", project.snippets_dir)
    with pytest.MonkeyPatch.context() as patch:
        # The kernel inherits os.environ: it finds the fake cache and never goes online.
        patch.setenv("HF_HOME", str(hf_home))
        patch.delenv("HF_HUB_CACHE", raising=False)
        patch.setenv("HF_HUB_OFFLINE", "1")
        summary = run_chapters(project, profile="reference", device="cpu")
        yield project, summary, commits


def stored(project: Project, chapter: str) -> StoredChapter:
    return read_store(store_path(project.store_dir, chapter, "reference"))


def stdout(project: Project, chapter: str, cell: str) -> str:
    outputs = stored(project, chapter).cells[cell].outputs
    return "".join("".join(o["text"]) for o in outputs if o.get("stream") == "stdout")


class TestReferenceProfile:
    def test_small_chapter_ran(
        self, reference_run: tuple[Project, RunSummary, dict[str, str]]
    ) -> None:
        """The chapter using all three roles ran every cell on the reference profile."""
        project, summary, _ = reference_run
        [run] = [r for r in summary.runs if r.chapter == "reference-models"]
        assert run.failure is None, str(run.failure)
        assert run.cells == 3
        assert stored(project, "reference-models").profile == "reference"

    def test_models_resolve_to_the_reference_architectures(
        self, reference_run: tuple[Project, RunSummary, dict[str, str]]
    ) -> None:
        """Each role loads its Hub id, and that id resolves to the tiny model of its family."""
        project, _, _ = reference_run
        chapter = "reference-models"
        assert stdout(project, chapter, "chat") == (
            "microsoft/Phi-3-mini-4k-instruct Phi3ForCausalLM 32\n"
        )
        assert stdout(project, chapter, "embed") == "gpt2 GPT2Model 32\n"
        bert = stdout(project, chapter, "bert")
        assert bert.startswith("bert-base-uncased BertModel 32\n")
        assert "['the', 'river', 'bank']" in bert

    def test_provenance_records_hub_ids_and_commits(
        self, reference_run: tuple[Project, RunSummary, dict[str, str]]
    ) -> None:
        """The stored models name each Hub id with digest 'git:<commit>' of the cached snapshot."""
        project, _, commits = reference_run
        assert stored(project, "reference-models").models == {
            role.name: {"id": role.reference_id, "digest": f"git:{commits[role.reference_id]}"}
            for role in ROLES
        }

    def test_no_local_paths_in_stored_files(
        self, reference_run: tuple[Project, RunSummary, dict[str, str]]
    ) -> None:
        """Stored files never contain this machine's paths (the fake Hub cache's, here)."""
        project, _, _ = reference_run
        for path in project.store_dir.glob("**/*.json"):
            text = path.read_text(encoding="utf-8")
            assert str(project.root.parent) not in text, path.name
            assert "Loading weights" not in text and "IProgress" not in text, path.name

    @pytest.mark.parametrize("chapter", REAL_CHAPTERS)
    def test_real_chapter_runs_on_reference_architectures(
        self, reference_run: tuple[Project, RunSummary, dict[str, str]], chapter: str
    ) -> None:
        """The repo's chapter runs unchanged against Phi-3/GPT-2/BERT-architecture models."""
        if not (REPO_SNIPPETS / f"{chapter}.py").is_file():
            pytest.skip(f"snippets/{chapter}.py does not exist (yet)")
        project, summary, commits = reference_run
        [run] = [r for r in summary.runs if r.chapter == chapter]
        assert run.failure is None, str(run.failure)
        record = stored(project, chapter)
        assert record.models, "a real chapter uses at least one model role"
        for model in record.models.values():
            assert model["digest"] == f"git:{commits[model['id']]}"



class TestProfilesSideBySide:
    def test_reference_capture_lives_beside_the_offline_one(
        self, reference_run: tuple[Project, RunSummary, dict[str, str]]
    ) -> None:
        """The reference run wrote snippets/outputs/reference/, never the offline files."""
        project, _, _ = reference_run
        assert store_path(project.store_dir, "reference-models", "reference").is_file()
        assert not store_path(project.store_dir, "reference-models").exists()

    def test_page_shows_both_captures_in_linked_tabs(
        self, reference_run: tuple[Project, RunSummary, dict[str, str]], tmp_path: Path
    ) -> None:
        """With both captures stored, a page shows the offline output and, in the second tab,
        the reference output, each under its own provenance; the notice names both."""
        from site_helpers import FIXTURE_SITE, build

        project, _, _ = reference_run
        if not (REPO_SNIPPETS / "lm-head.py").is_file():
            pytest.skip("snippets/lm-head.py does not exist (yet)")
        site = tmp_path / "site"
        shutil.copytree(project.snippets_dir, site / "snippets")
        offline = run_chapters(Project(site), ["lm-head"], device="cpu")
        assert not offline.failures, offline.failures
        config = (FIXTURE_SITE / "mkdocs.yml").read_text(encoding="utf-8")
        config = config.replace("  - pymdownx.superfences\n", "  - pymdownx.superfences\n"
                                "  - pymdownx.tabbed:\n      alternate_style: true\n")
        (site / "mkdocs.yml").write_text(config, encoding="utf-8")
        (site / "docs").mkdir()
        for language in ("zh", "en"):
            (site / "docs" / f"index.{language}.md").write_text(
                "# Models\n\n<!-- llmdocs lm-head:top-token -->\n", encoding="utf-8"
            )
        done = build(site)
        assert done.returncode == 0, done.log
        for page, labels in (("index.html", ("离线模型", "原文参考")),
                             ("en/index.html", ("Offline model", "Source reference"))):
            html = done.page(page)
            assert html.count('class="tabbed-set') == 1, page
            for label in labels:
                assert f">{label}</label>" in html, (page, label)
            provenance = re.findall(r'class="llmdocs-provenance"[^>]*>(.*?)</p>', html)
            assert len(provenance) == 2, provenance
            assert "SmolLM2-135M-Instruct" in provenance[0]
            assert "Phi-3-mini-4k-instruct" in provenance[1]
            notice = re.search(r'llmdocs-models.*?</div>', html, re.S)
            assert notice and "Phi-3-mini-4k-instruct" in notice.group()
            assert "SmolLM2-135M-Instruct" in notice.group()
