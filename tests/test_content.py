"""Facts the pages teach, checked against the stored outputs and the pages themselves."""

from __future__ import annotations

import ast
import builtins
import re
import symtable
import sys
from pathlib import Path

import pytest

from llmdocs.capture import join_lines
from llmdocs.chapters import load_chapter
from llmdocs.directives import find_directives
from llmdocs.project import Project
from llmdocs.status import project_status
from llmdocs.store import read_store, store_path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = Project(ROOT)

# Every section of the source tutorial, as a heading in each language. Sections whose output
# comes from SmolLM2 are named after what they teach, not after the source's model
# ("Phi 模型的分词器" → "聊天模型的分词器", "GPT2" → "词嵌入").
SOURCE_SECTIONS = {
    "zh": ["transformers", "AutoModelForCausalLM", "AutoTokenizer", "下载和运行 LLM",
           "Microsoft Phi", "加载模型和分词器", "让模型输出", "分词器", "查看词表",
           "词嵌入", "词嵌入矩阵", "上下文嵌入", "LM Head", "top-k"],
    "en": ["transformers", "AutoModelForCausalLM", "AutoTokenizer",
           "Downloading and running an LLM", "Microsoft Phi", "Loading the model and tokenizer",
           "Generating output", "tokenizer", "Viewing the vocabulary", "Word embeddings",
           "word-embedding matrix", "Contextual Embeddings", "LM Head", "top-k"],
}
TAB_LABELS = {"zh": {"离线模型", "原文参考"}, "en": {"Offline model", "Source reference"}}
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$", re.M)
EXPLICIT_ID = re.compile(r"\s*\{\s*#([\w-]+)\s*\}$")


def stdout(chapter: str, cell: str) -> str:
    stored = read_store(store_path(PROJECT.store_dir, chapter))
    return "".join(join_lines(o["text"]) for o in stored.cells[cell].outputs if "stream" in o)


def numbers(text: str, label: str) -> list[float]:
    """Every number printed after ``label`` on a line of ``text``."""
    return [float(m) for m in re.findall(re.escape(label) + r"\s*(-?[\d.]+)", text)]


def page(name: str, language: str) -> str:
    return (PROJECT.docs_dir / f"{name}.{language}.md").read_text(encoding="utf-8")


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

    def test_same_sense_bank_vectors_are_closer_than_cross_sense(self) -> None:
        """Every same-sense "bank" pair is more similar than every money/river pair."""
        text = stdout("embeddings", "bank-similarity")
        same = [float(v) for v in re.findall(r"^same sense.*: (-?[\d.]+)$", text, re.M)]
        cross = [float(v) for v in re.findall(r"^cross sense.*: (-?[\d.]+)$", text, re.M)]
        assert len(same) == 2 and len(cross) == 4
        assert min(same) > max(cross)

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


class TestLessonsBeyondTheSource:
    """The lessons the source lacks, held to what their chapters printed."""

    def test_lm_head_is_the_embedding_matrix(self) -> None:
        """SmolLM2's LM head is its embedding matrix, and a logit is a dot product with it."""
        text = stdout("lm-head", "tied-weights")
        assert "the same tensor: True" in text
        dot = numbers(text, ":")  # the two last lines: hidden · row and the logit
        assert re.search(r"hidden · row (\d+)", text)[1] in stdout("lm-head", "top-token")  # type: ignore[index]
        assert dot[-2] == pytest.approx(dot[-1], abs=1e-2)

    def test_tokenizer_adds_no_special_tokens(self) -> None:
        """SmolLM2's tokenizer(text) adds neither bos nor eos, as the tokenizer page says."""
        text = stdout("tokenizer", "added-special")
        assert "starts with bos_token: False" in text and "ends with eos_token:   False" in text

    def test_greedy_loop_equals_generate(self) -> None:
        """The hand-written argmax loop produces generate()'s greedy tokens, id for id."""
        text = stdout("decoding", "greedy-loop")
        loop = ast.literal_eval(re.search(r"^loop:\s+(\[.*\])$", text, re.M)[1])  # type: ignore[index]
        generated = ast.literal_eval(re.search(r"^generate\(\):\s+(\[.*\])$", text, re.M)[1])  # type: ignore[index]
        assert len(loop) == 20 and loop == generated
        # The same text as the start of the greedy reply on the same page.
        reply = text.strip().splitlines()[-1]
        assert stdout("decoding", "greedy").startswith(reply)

    def test_generate_fills_in_top_k_50(self) -> None:
        """transformers' default top_k is 50, so the pure-temperature cells pass top_k=0."""
        text = stdout("decoding", "generation-config")
        defaults = ast.literal_eval(text.strip().splitlines()[-1])
        assert defaults["top_k"] == 50 and defaults["temperature"] == 1.0
        assert '"top_k"' not in text.split("{'do_sample'")[0]  # the checkpoint sets none
        chapter = load_chapter(PROJECT.snippets_dir / "decoding.py")
        for cell in ("temperature", "same-seed", "top-p"):
            assert "top_k=0" in chapter.cell(cell).source, cell

    def test_sampling_by_hand_matches_generate(self) -> None:
        """generate() never draws a token that by_hand() excludes, and its frequencies match."""
        text = stdout("next-token", "sampled")
        settings = re.findall(r"^(\S+): (\d+) of (\d+) draws outside", text, re.M)
        assert [name for name, _, _ in settings] == ["temperature=0.7", "top_k=5", "top_p=0.5"]
        assert all(outside == "0" for _, outside, _ in settings)
        rows = re.findall(r"by hand ([\d.]+)\s+generate\(\) ([\d.]+)", text)
        assert len(rows) == 15
        # 400 draws: a frequency is within ±0.08 of its probability (over 3 standard errors).
        assert all(abs(float(hand) - float(drawn)) < 0.08 for hand, drawn in rows)
        allowed = dict(re.findall(r"^(\S+)\s+(\d+) tokens can be drawn",
                                  stdout("next-token", "by-hand"), re.M))
        assert allowed["top_k=5"] == "5"
        assert int(allowed["top_p=0.5"]) < int(allowed["temperature=0.7"])

    def test_chinese_costs_more_bpe_tokens_than_english(self) -> None:
        """The same sentence takes more byte-level BPE tokens in Chinese than in English."""
        lines = stdout("tokenizer-compare", "cost").splitlines()
        header = lines[0].split()
        rows = {line.split()[0]: dict(zip(header, map(int, line.split()[1:]), strict=True))
                for line in lines[1:]}
        assert rows["Chinese"]["bytes"] == 3 * rows["Chinese"]["chars"]
        assert rows["Chinese"]["chat"] > rows["English"]["chat"]

    def test_chinese_character_is_three_bytes_and_merges_exist(self) -> None:
        """爱 is three UTF-8 bytes and three BPE tokens; 中文 is two merged tokens."""
        text = stdout("tokenizer-compare", "chinese-bytes")
        assert len(ast.literal_eval(re.search(r"ids:\s+(\[.*\])", text)[1])) == 3  # type: ignore[index]
        assert "b'\\xe7\\x88\\xb1'" in text
        why = stdout("tokenizer-compare", "cost-why")
        assert "'中文' -> ['ä¸Ń', 'æĸĩ']" in why


def embedded_cells(markdown: str, name: str) -> list[tuple[str, str]]:
    """(chapter, cell) of every directive in a page, in page order."""
    return [(d.chapter, d.cell) for d in find_directives(markdown, name)]


def undefined_names(sources: list[str]) -> list[str]:
    """Global names a cell reads that no earlier cell (or itself) defines, nor builtins."""
    defined = set(dir(builtins)) | {"__name__", "__file__", "display"}
    missing = []
    for source in sources:
        table = symtable.symtable(source, "<cell>", "exec")
        tables = [table]
        reads: set[str] = set()
        while tables:
            current = tables.pop()
            tables.extend(current.get_children())
            for symbol in current.get_symbols():
                if current is table and (symbol.is_assigned() or symbol.is_imported()):
                    defined.add(symbol.get_name())
                elif symbol.is_global() or (current is table and symbol.is_referenced()):
                    reads.add(symbol.get_name())
        missing += sorted(reads - defined)
        # Names assigned in this cell count for the next ones (and functions defined here).
        defined |= {s.get_name() for s in table.get_symbols() if s.is_assigned()}
    return missing


class TestReadingExperience:
    @pytest.mark.parametrize("language", ["zh", "en"])
    def test_every_page_runs_top_to_bottom(self, language: str) -> None:
        """The cells a page shows, run in page order, never read a name they did not define."""
        problems = {}
        for path in sorted(PROJECT.docs_dir.glob(f"*.{language}.md")):
            refs = embedded_cells(path.read_text(encoding="utf-8"), path.name)
            if not refs:
                continue
            chapters = {c: load_chapter(PROJECT.snippets_dir / f"{c}.py") for c, _ in refs}
            missing = undefined_names([chapters[c].cell(cell).source for c, cell in refs])
            if missing:
                problems[path.name] = missing
        assert problems == {}

    def test_undefined_name_check_can_fail(self) -> None:
        """The check above catches a cell that uses a model no earlier cell loaded."""
        assert undefined_names(["print(model(1))"]) == ["model"]
        assert undefined_names(["model = 1", "print(model)"]) == []

    @pytest.mark.parametrize("language", ["zh", "en"])
    def test_tab_labels_are_the_same_everywhere(self, language: str) -> None:
        """Two tab labels per language, so that one click switches every tab set on a page."""
        labels = set()
        for path in PROJECT.docs_dir.glob(f"*.{language}.md"):
            labels |= set(re.findall(r'^=== "(.+)"', path.read_text(encoding="utf-8"), re.M))
        assert labels == TAB_LABELS[language]

    @pytest.mark.parametrize("language", ["zh", "en"])
    def test_no_heading_names_the_source_model_above_offline_output(self, language: str) -> None:
        """A section whose heading names Phi or GPT-2 embeds no cell (its output is SmolLM2's)."""
        wrong = []
        for path in sorted(PROJECT.docs_dir.glob(f"*.{language}.md")):
            text = path.read_text(encoding="utf-8")
            found = list(re.finditer(r"^(#{2,6}) (.+)$", text, re.M))
            for i, heading in enumerate(found):
                # The section runs to the next heading of the same or a higher level.
                end = next((h.start() for h in found[i + 1:]
                            if len(h[1]) <= len(heading[1])), len(text))
                if re.search(r"Phi|GPT-?2", heading[2]) and "<!-- llmdocs" in text[
                        heading.end():end]:
                    wrong.append(f"{path.name}: {heading[2]}")
        assert wrong == []

    def test_chinese_headings_carry_the_english_ids(self) -> None:
        """Each Chinese heading (below the title) has the explicit id of its English twin."""
        for path in sorted(PROJECT.docs_dir.glob("*.en.md")):
            name = path.name.removesuffix(".en.md")
            en = [h for h in HEADING.findall(page(name, "en")) if len(h[0]) > 1]
            zh = [h for h in HEADING.findall(page(name, "zh")) if len(h[0]) > 1]
            en_ids = [m[1] if (m := EXPLICIT_ID.search(text)) else None for _, text in en]
            zh_ids = [m[1] if (m := EXPLICIT_ID.search(text)) else None for _, text in zh]
            if name == "performance":
                continue  # another engineer's page
            assert None not in zh_ids and zh_ids == en_ids, name

    def test_setup_installs_every_package_the_snippets_import(self) -> None:
        """The setup page's pip line names every third-party module a snippet imports."""
        modules = set()
        for path in PROJECT.snippets_dir.glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
        third_party = {m.lower() for m in modules - set(sys.stdlib_module_names)}
        assert {"torch", "transformers"} <= third_party
        for language in ("zh", "en"):
            line = re.search(r"^pip install torch .*$", page("setup", language), re.M)
            assert line is not None
            assert third_party <= set(line[0].lower().split()[2:]), language

    def test_setup_comes_first_and_gives_the_served_path(self) -> None:
        """Setup opens the first nav section, the home page links it, and the URL has its path."""
        nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
        assert nav.index("setup.md") < nav.index("transformers.md")
        for language in ("zh", "en"):
            assert "](setup.md)" in page("index", language).split("##")[1]  # the first section
            assert "http://127.0.0.1:8000/llm-basics/" in page("setup", language)
            assert "README" not in page("index", language)

    def test_glossary_covers_the_terms_the_pages_use(self) -> None:
        """The glossary pairs every term the lessons rely on, in both languages."""
        terms = ["byte-level BPE", "WordPiece", "SentencePiece", "byte fallback", "system message",
                 "role markers", "end-of-turn token", "repetition penalty", "softmax", "RoPE",
                 "RMSNorm", "KV cache", "feed-forward network", "top-k", "LM head"]
        for language in ("zh", "en"):
            text = page("glossary", language)
            assert [t for t in terms if t not in text] == [], language
        assert "hidden-out" not in page("glossary", "en")
        for path in PROJECT.docs_dir.glob("*.zh.md"):
            assert "（对数几率" not in path.read_text(encoding="utf-8"), path.name
