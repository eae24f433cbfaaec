"""The repo's real chapters on the offline profile, on CPU, run once per session in a temp
copy (the repo's own snippets/outputs are never written)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from llmdocs.compare import Verdict, compare_capture
from llmdocs.profiles import roles_used
from llmdocs.project import Project
from llmdocs.runner import RunSummary, run_chapters
from llmdocs.store import StoredChapter, read_store, store_path

pytestmark = pytest.mark.models

REPO = Project(Path(__file__).parent.parent)
CHAPTERS = ("run-llm", "tokenizer", "embeddings", "lm-head")  # checked for content below
ALL_CHAPTERS = sorted(set(REPO.chapter_names()) | set(CHAPTERS))
SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def require(chapter: str) -> None:
    """Skip, saying why, when the repo has no such chapter (chapters are still being added)."""
    if not REPO.chapter_path(chapter).is_file():
        pytest.skip(f"snippets/{chapter}.py does not exist in this checkout")


@pytest.fixture(scope="session")
def offline_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, RunSummary]:
    """Every chapter of the repo, copied to a temp project and run once on CPU, offline."""
    project = Project(tmp_path_factory.mktemp("offline-site"))
    project.snippets_dir.mkdir()
    for path in REPO.snippets_dir.glob("*.py"):
        shutil.copy(path, project.snippets_dir)
    summary = run_chapters(project, profile="offline", device="cpu")
    return project, summary


def stored(project: Project, chapter: str) -> StoredChapter:
    return read_store(store_path(project.store_dir, chapter))


def stdout(project: Project, chapter: str, cell: str) -> str:
    outputs: list[dict[str, Any]] = stored(project, chapter).cells[cell].outputs
    return "".join("".join(o["text"]) for o in outputs if o.get("stream") == "stdout")


class TestEveryChapter:
    @pytest.mark.parametrize("chapter", ALL_CHAPTERS)
    def test_chapter_runs_and_records_offline_models(
        self, offline_run: tuple[Project, RunSummary], chapter: str
    ) -> None:
        """The chapter runs without failure and its provenance names the offline model of each
        role its code uses."""
        require(chapter)
        project, summary = offline_run
        [run] = [r for r in summary.runs if r.chapter == chapter]
        assert run.failure is None, str(run.failure)
        record = stored(project, chapter)
        assert (record.profile, record.device) == ("offline", "CPU")
        assert list(record.cells) == project.chapter(chapter).cell_names
        used = roles_used([cell.source for cell in project.chapter(chapter).cells])
        assert set(record.models) == {role.name for role in used}
        for role, model in record.models.items():
            assert model["id"] == (MINILM if role == "bert" else SMOLLM2)
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", model["digest"]), model

    @pytest.mark.parametrize("chapter", ALL_CHAPTERS)
    def test_no_noise_in_stored_outputs(
        self, offline_run: tuple[Project, RunSummary], chapter: str
    ) -> None:
        """No stderr stream, progress bar or kernel warning reaches the stored file."""
        require(chapter)
        project, _ = offline_run
        body = json.loads(store_path(project.store_dir, chapter).read_text(encoding="utf-8"))
        for cell in body["cells"].values():
            for output in cell["outputs"]:
                assert output.get("stream") != "stderr", output
                output.get("data", {}).pop("image/png", None)
        text = json.dumps(body)
        for noise in ("Loading weights", "IProgress", "TCP", "it/s]", "UserWarning"):
            assert noise not in text, noise


class TestRunLlm:
    def test_prompt_ends_with_assistant_turn_and_reply_follows(
        self, offline_run: tuple[Project, RunSummary]
    ) -> None:
        """generate's decoded output holds the chat prompt's assistant marker and new text."""
        require("run-llm")
        project, _ = offline_run
        generated = stdout(project, "run-llm", "generate")
        assert "<|im_start|>assistant\n" in generated
        reply = generated.split("<|im_start|>assistant\n", 1)[1]
        assert reply.strip()

    def test_continuation_is_decoded(self, offline_run: tuple[Project, RunSummary]) -> None:
        """new-tokens lists token ids with their text, then a non-empty decoded continuation."""
        require("run-llm")
        project, _ = offline_run
        text = stdout(project, "run-llm", "new-tokens")
        ids, _, continuation = text.partition("---\n")
        assert continuation.strip()
        assert re.match(r"\s*\d+\s+'", ids)

    def test_model_loaded_on_cpu(self, offline_run: tuple[Project, RunSummary]) -> None:
        """The load cell reports the offline model's class and the CPU device."""
        require("run-llm")
        project, _ = offline_run
        text = stdout(project, "run-llm", "load")
        assert text.startswith("LlamaForCausalLM ")
        assert "parameters on cpu" in text


class TestLmHead:
    def test_paris_is_among_top_next_tokens(self, offline_run: tuple[Project, RunSummary]) -> None:
        """After 'The capital of France is', ' Paris' is printed among the top-k next tokens."""
        require("lm-head")
        project, _ = offline_run
        top_k = stdout(project, "lm-head", "top-k")
        assert "' Paris'" in top_k
        assert len(top_k.splitlines()) == 10
        assert "' Paris'" in stdout(project, "lm-head", "top-token")


class TestEmbeddings:
    @pytest.mark.parametrize(
        "tokens",
        [
            ["[CLS]", "i", "went", "to", "the", "bank", "to", "deposit", "money", ".", "[SEP]"],
            ["[CLS]", "the", "river", "bank", "was", "covered", "with", "lush", "vegetation",
             ".", "[SEP]"],
        ],
        ids=["money-bank", "river-bank"],
    )
    def test_bank_sentences_are_tokenized(
        self, offline_run: tuple[Project, RunSummary], tokens: list[str]
    ) -> None:
        """Each 'bank' sentence's WordPiece tokens are printed in full."""
        require("embeddings")
        project, _ = offline_run
        assert str(tokens) in stdout(project, "embeddings", "bank-contextual")

    def test_contextual_vectors_separate_the_senses(
        self, offline_run: tuple[Project, RunSummary]
    ) -> None:
        """Every same-sense 'bank' pair (money/money, river/river) is more similar than every
        cross-sense pair (money/river)."""
        require("embeddings")
        project, _ = offline_run
        text = stdout(project, "embeddings", "bank-similarity")
        same = [float(v) for v in re.findall(r"^same sense.*: (-?[\d.]+)$", text, re.M)]
        cross = [float(v) for v in re.findall(r"^cross sense.*: (-?[\d.]+)$", text, re.M)]
        assert len(same) == 2 and len(cross) == 4
        assert min(same) > max(cross)


class TestTokenizer:
    def test_vocabulary_size(self, offline_run: tuple[Project, RunSummary]) -> None:
        """The offline tokenizer reports SmolLM2's 49152 vocabulary entries."""
        require("tokenizer")
        project, _ = offline_run
        assert stdout(project, "tokenizer", "vocab-size") == "49152 entries\n"

    def test_tokens_round_trip_to_the_text(self, offline_run: tuple[Project, RunSummary]) -> None:
        """Converting the printed tokens back to a string gives the original sentence."""
        require("tokenizer")
        project, _ = offline_run
        lines = stdout(project, "tokenizer", "tokenize").splitlines()
        assert lines[-1] == "Write an email apologizing to Sarah for the tragic gardening mishap."


class TestCommittedOutputsReproduce:
    @pytest.mark.parametrize("chapter", ALL_CHAPTERS)
    def test_fresh_run_matches_committed_outputs_within_tolerance(
        self, offline_run: tuple[Project, RunSummary], chapter: str
    ) -> None:
        """What `llmdocs verify` checks: a fresh CPU run agrees with the committed outputs,
        wherever they were captured (another CPU, a GPU), number by number within each cell's
        tolerance; a different token, id or shape fails. Never skipped for provenance."""
        require(chapter)
        project, _ = offline_run
        committed = read_store(store_path(REPO.store_dir, chapter))
        result = compare_capture(committed, stored(project, chapter), REPO.chapter(chapter))
        assert result.verdict is not Verdict.DIFFERS, result.describe()
