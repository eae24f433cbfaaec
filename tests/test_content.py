"""Facts the pages teach, checked against the stored outputs and the pages themselves."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from llmdocs.capture import join_lines
from llmdocs.project import Project
from llmdocs.status import project_status
from llmdocs.store import read_store, store_path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = Project(ROOT)

# Every section of the source tutorial, as a heading in each language.
SOURCE_SECTIONS = {
    "zh": ["transformers", "AutoModelForCausalLM", "AutoTokenizer", "下载和运行 LLM",
           "Microsoft Phi", "加载模型和分词器", "让模型输出", "Phi 模型的分词器", "查看词表",
           "GPT2", "词嵌入矩阵", "上下文嵌入", "LM Head", "Top-K"],
    "en": ["transformers", "AutoModelForCausalLM", "AutoTokenizer",
           "Downloading and running an LLM", "Microsoft Phi", "Loading the model and tokenizer",
           "Generating output", "tokenizer", "Viewing the vocabulary", "GPT2",
           "word-embedding matrix", "Contextual Embeddings", "LM Head", "Top-K"],
}


def stdout(chapter: str, cell: str) -> str:
    stored = read_store(store_path(PROJECT.store_dir, chapter))
    return "".join(join_lines(o["text"]) for o in stored.cells[cell].outputs if "stream" in o)


def headings(language: str) -> list[str]:
    found = []
    for page in sorted(PROJECT.docs_dir.glob(f"*.{language}.md")):
        found += re.findall(r"^#{1,6}\s+(.+)$", page.read_text(encoding="utf-8"), re.M)
    return found


class TestStoredFacts:
    def test_every_chapter_is_fresh(self) -> None:
        """No stored output is missing, broken or older than its code."""
        blocking = [s for s in project_status(PROJECT) if s.state.blocking]
        assert blocking == [], [(s.chapter, s.state.value, s.detail) for s in blocking]

    def test_top_token_for_france_is_paris(self) -> None:
        """The decoded argmax of the LM head after "The capital of France is" is " Paris"."""
        assert stdout("lm-head", "top-token").split(maxsplit=1)[1].strip() == "' Paris'"

    def test_top_k_lists_ten_tokens_with_probabilities(self) -> None:
        """Top-k prints ten ranked tokens whose probabilities decrease."""
        lines = stdout("lm-head", "top-k").splitlines()
        probabilities = [float(re.search(r"p=([\d.]+)", line)[1]) for line in lines]  # type: ignore[index]
        assert len(lines) == 10 and "' Paris'" in lines[0]
        assert probabilities == sorted(probabilities, reverse=True)

    def test_second_token_is_rank_two(self) -> None:
        """The "second" token is the second line of the top-k list, not the tenth."""
        second = stdout("lm-head", "second-token").strip()
        assert second in stdout("lm-head", "top-k").splitlines()[1]

    def test_bank_token_lists(self) -> None:
        """BERT's WordPiece splits both "bank" sentences into the source's token lists."""
        text = stdout("embeddings", "bank-contextual")
        assert ("['[CLS]', 'i', 'went', 'to', 'the', 'bank', 'to', 'deposit', 'money', '.', "
                "'[SEP]']") in text
        assert ("['[CLS]', 'the', 'river', 'bank', 'was', 'covered', 'with', 'lush', "
                "'vegetation', '.', '[SEP]']") in text

    def test_contextual_vectors_differ_static_do_not(self) -> None:
        """The two contextual "bank" vectors are less similar than the identical static rows."""
        values = [float(v) for v in re.findall(r"similarity (-?[\d.]+)",
                                               stdout("embeddings", "bank-similarity"))]
        assert len(values) == 2 and values[0] < 0.99 and values[1] == pytest.approx(1.0)

    def test_embedding_shape_is_vocab_by_hidden(self) -> None:
        """The word-embedding matrix is (config.vocab_size, config.hidden_size)."""
        text = stdout("embeddings", "embedding-matrix")
        rows, cols = map(int, re.search(r"torch.Size\(\[(\d+), (\d+)\]\)", text).groups())  # type: ignore[union-attr]
        vocab = int(re.search(r"vocab_size: (\d+)", text)[1])  # type: ignore[index]
        hidden = int(re.search(r"hidden_size: (\d+)", text)[1])  # type: ignore[index]
        assert (rows, cols) == (vocab, hidden)

    def test_vocab_first_entries_are_sorted_by_id(self) -> None:
        """The first 100 vocabulary entries are printed in id order, starting at 0."""
        entries = ast.literal_eval(stdout("tokenizer", "vocab-first-100").strip())
        assert [token_id for _, token_id in entries] == list(range(100))

    def test_generation_follows_the_chat_template(self) -> None:
        """The reply comes after the template's assistant marker and is not empty."""
        text = stdout("run-llm", "generate")
        prompt_end = "<|im_start|>assistant\n"
        assert prompt_end in text and text.split(prompt_end, 1)[1].strip()

    def test_special_tokens_survive_capture(self) -> None:
        """Special tokens are stored literally, never stripped like HTML tags."""
        assert "<|im_start|>" in stdout("tokenizer", "special-tokens")


class TestPages:
    @pytest.mark.parametrize("language", ["zh", "en"])
    def test_every_source_section_has_a_heading(self, language: str) -> None:
        """Each section of the source tutorial appears as a heading in both languages."""
        found = headings(language)
        missing = [s for s in SOURCE_SECTIONS[language] if not any(s in h for h in found)]
        assert missing == []

    def test_phi3_sizes_are_corrected(self) -> None:
        """Phi-3 sizes read 38 亿 / 3.8 billion, never 3.8 亿 as a fact."""
        zh = (PROJECT.docs_dir / "run-llm.zh.md").read_text(encoding="utf-8")
        en = (PROJECT.docs_dir / "run-llm.en.md").read_text(encoding="utf-8")
        assert "38 亿" in zh and "140 亿" in zh and "3.8 billion" in en
        for line in zh.splitlines():
            if "3.8 亿" in line:
                assert "原文" in line, line  # only when quoting the source's mistake

    def test_corrections_aside_on_every_content_page(self) -> None:
        """Every page that embeds cells gathers its corrections to the source."""
        for page in sorted(PROJECT.docs_dir.glob("*.md")):
            text = page.read_text(encoding="utf-8")
            if "<!-- llmdocs" not in text or page.stem.split(".")[0] not in (
                    "transformers", "run-llm", "tokenizer", "embeddings", "lm-head"):
                continue
            zh = page.name.endswith(".zh.md")
            title = "关于原文的更正" if zh else "Corrections to the source"
            assert title in text, page.name

    def test_glossary_terms_in_both_languages(self) -> None:
        """The glossary pairs the core terms in both language versions."""
        for language in ("zh", "en"):
            text = (PROJECT.docs_dir / f"glossary.{language}.md").read_text(encoding="utf-8")
            for zh, en in (("词元", "token"), ("词表", "vocabulary"), ("嵌入", "embedding")):
                assert zh in text and en in text.lower()
