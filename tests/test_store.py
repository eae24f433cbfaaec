"""Stored outputs: round trip, atomic and churn-free writes, refusal of hand edits."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from llmdocs.errors import StoreError
from llmdocs.store import StoredCell, StoredChapter, read_store, store_path, write_store


def sample(**changes: object) -> StoredChapter:
    """A small stored chapter with text, an image and an error; fields overridable."""
    stored = StoredChapter(
        chapter="tokens",
        source_key="sha256:" + "ab" * 32,
        profile="offline",
        device="CPU",
        versions={"python": "3.11.7", "torch": "2.13.0+cpu", "transformers": "5.24.0"},
        models={"chat": {"id": "HuggingFaceTB/SmolLM2-135M-Instruct", "digest": "sha256:00"}},
        captured="2026-01-02",
        cells={
            "hello": StoredCell([{"stream": "stdout", "text": ["<s> 你好\n", "second\n"]}], 0.25),
            "figure": StoredCell([{"data": {"image/png": ["iVBORw0KGgo=", "AAAA"]}}], 1.5),
            "oops": StoredCell(
                [{"error": {"ename": "ValueError", "evalue": "bad", "traceback": ["line\n"]}}], 0.0
            ),
        },
    )
    return dataclasses.replace(stored, **changes)  # type: ignore[arg-type]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return store_path(tmp_path / "outputs", "tokens")


class TestRoundTrip:
    def test_write_then_read_gives_back_the_same_chapter(self, path: Path) -> None:
        """A chapter written and read back is equal to the original, outputs and provenance."""
        stored = sample()
        assert write_store(path, stored) is True
        assert read_store(path) == stored

    def test_file_is_readable_json_with_line_lists(self, path: Path) -> None:
        """The file is indented UTF-8 JSON with text as line lists and a content digest."""
        write_store(path, sample())
        text = path.read_text(encoding="utf-8")
        assert "你好" in text  # not \\u-escaped: diffs stay readable
        assert text.endswith("}\n")
        body = json.loads(text)
        assert body["schema"] == 1
        assert body["cells"]["hello"]["outputs"][0]["text"] == ["<s> 你好\n", "second\n"]
        assert body["digest"].startswith("sha256:")

    def test_durations_are_rounded(self, path: Path) -> None:
        """Cell durations are stored to two decimals, so timing noise stays small in diffs."""
        write_store(path, sample(cells={"a": StoredCell([], 1.23456)}))
        assert read_store(path).cells["a"].duration_s == 1.23

    def test_store_path(self, tmp_path: Path) -> None:
        """A chapter's outputs live in <store_dir>/<chapter>.json."""
        assert store_path(tmp_path, "lm-head") == tmp_path / "lm-head.json"


class TestAtomicWrite:
    def test_no_temp_files_are_left(self, path: Path) -> None:
        """After writes, the folder holds the chapter's file and nothing else."""
        write_store(path, sample())
        write_store(path, sample(profile="reference"))
        assert sorted(p.name for p in path.parent.iterdir()) == ["tokens.json"]

    def test_failed_write_keeps_previous_file_and_leaves_no_temp(self, path: Path) -> None:
        """A write that fails midway keeps the old file byte-identical and removes its temp file."""
        write_store(path, sample())
        before = path.read_bytes()
        unserialisable = sample(cells={"a": StoredCell([{"data": {"x": {1, 2}}}], 0.1)})
        with pytest.raises(TypeError):
            write_store(path, unserialisable)
        assert path.read_bytes() == before
        assert sorted(p.name for p in path.parent.iterdir()) == ["tokens.json"]


class TestNoChurn:
    def test_same_content_other_date_and_durations_keeps_file(self, path: Path) -> None:
        """Rewriting identical outputs with a new date and timings leaves the bytes untouched."""
        write_store(path, sample())
        before = path.read_bytes()
        later = sample(
            captured="2030-12-31",
            cells={name: StoredCell(cell.outputs, cell.duration_s + 9.0)
                   for name, cell in sample().cells.items()},
        )
        assert write_store(path, later) is False
        assert path.read_bytes() == before

    @pytest.mark.parametrize(
        "changes",
        [
            {"cells": {"hello": StoredCell([{"stream": "stdout", "text": ["changed\n"]}], 0.25)}},
            {"device": "NVIDIA H100 80GB HBM3"},
            {"source_key": "sha256:" + "cd" * 32},
            {"models": {}},
        ],
        ids=["outputs", "device", "source-key", "models"],
    )
    def test_changed_content_rewrites(self, path: Path, changes: dict[str, object]) -> None:
        """New outputs, device, source key or models rewrite the file and return True."""
        write_store(path, sample())
        before = path.read_bytes()
        assert write_store(path, sample(**changes)) is True
        assert path.read_bytes() != before
        assert read_store(path) == sample(**changes)


class TestDamagedFiles:
    def test_hand_edited_output_is_refused_with_remedy(self, path: Path) -> None:
        """Changing one character of a stored output fails the digest and names the fix."""
        write_store(path, sample())
        text = path.read_text(encoding="utf-8")
        assert text.count('"second\\n"') == 1
        path.write_text(text.replace('"second\\n"', '"secund\\n"'), encoding="utf-8")
        with pytest.raises(StoreError) as caught:
            read_store(path)
        assert str(caught.value).startswith("tokens.json: ")  # named, never absolute
        assert str(path.parent) not in str(caught.value)
        assert "edited by hand" in str(caught.value)
        assert "llmdocs run --force tokens" in str(caught.value)

    def test_invalid_json_names_the_file(self, path: Path) -> None:
        """A file that is not JSON raises StoreError naming the file and the remedy."""
        path.parent.mkdir(parents=True)
        path.write_text('{"schema": 1, "cells": {', encoding="utf-8")
        with pytest.raises(StoreError) as caught:
            read_store(path)
        assert str(caught.value).startswith("tokens.json: ")  # named, never absolute
        assert str(path.parent) not in str(caught.value)
        assert "not valid JSON" in str(caught.value)
        assert "llmdocs run --force tokens" in str(caught.value)

    def test_missing_file_says_how_to_create_it(self, path: Path) -> None:
        """Reading outputs that were never stored says to run the chapter."""
        with pytest.raises(StoreError, match="no stored outputs; run `llmdocs run tokens`"):
            read_store(path)

    def test_unknown_schema_is_refused(self, path: Path) -> None:
        """A file with another schema number raises StoreError instead of being misread."""
        write_store(path, sample())
        body = json.loads(path.read_text(encoding="utf-8"))
        body["schema"] = 99
        path.write_text(json.dumps(body), encoding="utf-8")
        with pytest.raises(StoreError, match="unknown stored-output schema"):
            read_store(path)

    def test_damaged_file_is_replaced_by_next_write(self, path: Path) -> None:
        """Writing over a damaged file replaces it with a valid one even if content is equal."""
        path.parent.mkdir(parents=True)
        path.write_text("not json", encoding="utf-8")
        assert write_store(path, sample()) is True
        assert read_store(path) == sample()
