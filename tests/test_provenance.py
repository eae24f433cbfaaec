"""Provenance that tells the truth: the weights loaded are the ones recorded, each output
names the models its cell had loaded, and every page says which models produced it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from llmdocs.chapters import load_chapter
from llmdocs.materialize import (
    MARKER,
    WEIGHTS,
    chat_checkpoint_dir,
    checkpoint_problem,
    ensure_chat_checkpoint,
    file_digest,
    gguf_path,
)
from llmdocs.project import Project
from llmdocs.provenance import TAB_LABELS, cell_models, model_notice_html
from llmdocs.store import StoredChapter

REPO = Path(__file__).resolve().parent.parent
SMOLLM2 = {"id": "HuggingFaceTB/SmolLM2-135M-Instruct", "digest": "sha256:1"}
MINILM = {"id": "sentence-transformers/all-MiniLM-L6-v2", "digest": "sha256:2"}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty llmdocs cache folder for this test only."""
    monkeypatch.setenv("LLMDOCS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def fake_checkpoint(weights: bytes) -> Path:
    """A checkpoint folder whose marker records the real GGUF and these weights."""
    target = chat_checkpoint_dir()
    target.mkdir(parents=True)
    (target / WEIGHTS).write_bytes(weights)
    info = {"id": SMOLLM2["id"], "digest": file_digest(gguf_path()),
            "weights": file_digest(target / WEIGHTS)}
    (target / MARKER).write_text(json.dumps(info), encoding="utf-8")
    return target


class TestCheckpointIntegrity:
    def test_intact_checkpoint_has_no_problem(self, cache: Path) -> None:
        fake_checkpoint(b"weights")
        assert checkpoint_problem(chat_checkpoint_dir()) is None

    def test_damaged_weights_are_detected(self, cache: Path) -> None:
        """One changed byte in model.safetensors: the marker's digest no longer matches."""
        target = fake_checkpoint(b"weights")
        (target / WEIGHTS).write_bytes(b"weightz")
        assert "damaged or replaced" in (checkpoint_problem(target) or "")

    def test_missing_weights_are_detected(self, cache: Path) -> None:
        target = fake_checkpoint(b"weights")
        (target / WEIGHTS).unlink()
        assert "missing" in (checkpoint_problem(target) or "")

    def test_marker_without_weights_digest_is_not_trusted(self, cache: Path) -> None:
        """A checkpoint from before weights were recorded cannot prove what it holds."""
        target = fake_checkpoint(b"weights")
        info = json.loads((target / MARKER).read_text(encoding="utf-8"))
        del info["weights"]
        (target / MARKER).write_text(json.dumps(info), encoding="utf-8")
        assert "no weights digest" in (checkpoint_problem(target) or "")

    @pytest.mark.models
    def test_damaged_checkpoint_is_materialized_again(
        self, cache: Path, capfd: pytest.CaptureFixture[str]
    ) -> None:
        """ensure_chat_checkpoint replaces a damaged checkpoint before any chapter uses it,
        saying why, and the result is intact."""
        target = fake_checkpoint(b"not the real weights")
        (target / WEIGHTS).write_bytes(b"damaged")
        assert ensure_chat_checkpoint() == target
        assert "damaged or replaced" in capfd.readouterr().err
        assert checkpoint_problem(target) is None
        assert (target / WEIGHTS).stat().st_size > 100_000_000


def stored_with(models: dict[str, dict[str, str]], device: str = "CPU") -> StoredChapter:
    return StoredChapter(chapter="c", source_key="k", profile="offline", device=device,
                         versions={}, models=models, captured="2026-11-27")


class TestCellModels:
    def test_cell_before_a_role_is_loaded_names_only_earlier_models(
        self, tmp_path: Path
    ) -> None:
        """A cell that runs before BERT is loaded names only the chat model; later cells
        name both."""
        path = tmp_path / "two-models.py"
        path.write_text(
            "# %% chat\nimport os\nchat = os.environ.get('LLM_BASICS_CHAT_MODEL', 'x')\n\n"
            "# %% tokens\nprint(chat)\n\n"
            "# %% bert\nbert = os.environ.get('LLM_BASICS_BERT_MODEL', 'y')\n",
            encoding="utf-8",
        )
        chapter = load_chapter(path)
        stored = stored_with({"chat": SMOLLM2, "bert": MINILM})
        assert set(cell_models(chapter, stored, "tokens")) == {"chat"}
        assert set(cell_models(chapter, stored, "bert")) == {"chat", "bert"}


class TestModelNotice:
    def test_names_models_device_and_what_changes(self) -> None:
        zh = model_notice_html([stored_with({"chat": SMOLLM2})], [], "zh")
        en = model_notice_html([stored_with({"chat": SMOLLM2})], [], "en")
        assert "SmolLM2-135M-Instruct" in zh and "CPU" in zh and "Phi-3-mini" in zh
        assert "38 亿" in zh and "32064" in zh
        assert "SmolLM2-135M-Instruct" in en and "3.8 billion" in en

    def test_gpu_capture_names_the_gpu(self) -> None:
        html = model_notice_html([stored_with({"chat": SMOLLM2}, "NVIDIA H100 80GB HBM3")], [],
                                 "en")
        assert "NVIDIA H100 80GB HBM3" in html

    def test_nothing_stored_means_no_notice(self) -> None:
        assert model_notice_html([], [], "zh") == ""

    def test_text_is_escaped(self) -> None:
        evil = {"id": "evil<img src=x onerror=alert(1)>", "digest": "x"}
        html = model_notice_html([stored_with({"chat": evil})], [], "en")
        assert "<img" not in html and "evil&lt;img" in html


class TestPages:
    def test_tab_labels_are_the_same_on_every_page(self) -> None:
        """Every content tab in docs/ uses one of the two labels of its language, so one click
        switches every tab set on a page."""
        for page in sorted((REPO / "docs").glob("*.md")):
            language = page.name.rsplit(".", 2)[-2]
            allowed = set(TAB_LABELS[language].values())
            for label in re.findall(r'^\s*===\+? "([^"]*)"', page.read_text(encoding="utf-8"),
                                    re.M):
                assert label in allowed, (page.name, label)

    def test_stored_chapters_name_their_models(self) -> None:
        """Every stored chapter that uses a model role records that model (the notice and
        the provenance lines are generated from it)."""
        project = Project(REPO)
        from llmdocs.profiles import roles_used
        from llmdocs.store import read_store, store_path

        for name in project.chapter_names():
            chapter = project.chapter(name)
            used = {r.name for r in roles_used([c.source for c in chapter.cells])}
            stored = read_store(store_path(project.store_dir, name))
            assert set(stored.models) == used, name
