"""helpers/gpu: the wheel list, the parts and their checksums, the wheel choice on the GPU
machine, the CUDA version in the provenance. Fast, no network, no kernel."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from llmdocs import environment

ROOT = Path(__file__).resolve().parents[1]
GPU = ROOT / "helpers" / "gpu"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, GPU / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


payload = load("payload")
refresh = load("refresh")
MIB = payload.MIB


def make_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = (),
               padding: int = 0) -> Path:
    path = folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name.replace('-', '_')}-{version}.dist-info/METADATA", meta)
        if padding:
            archive.writestr("padding.bin", bytes(range(256)) * (padding // 256))
    return path


class TestWheelList:
    def test_derived_from_pyproject_and_models_txt(self) -> None:
        """Every run requirement is carried or left to the image; site-only ones are not;
        the models are requirements/models.txt's lines."""
        listing = payload.wheel_list(ROOT)
        names = {payload.requirement_name(r) for r in listing.carried}
        image = {payload.requirement_name(r) for r in listing.image}
        assert image <= payload.IMAGE_HAS and "torch" in image
        assert not names & payload.IMAGE_HAS
        assert "transformers" in names  # SAME_AS_HERE: carried, though the image has one
        assert {"nbclient", "ipykernel", "gguf", "jupytext", "click"} <= names
        assert not any(payload.site_only(n) for n in names)
        models_txt = (ROOT / "requirements" / "models.txt").read_text().splitlines()
        assert list(listing.models) == [m for m in models_txt if m and not m.startswith("#")]
        assert listing.needed == listing.image + listing.carried

    def test_a_new_run_dependency_is_carried_without_editing_the_script(
        self, tmp_path: Path
    ) -> None:
        """The list follows pyproject.toml: a new dependency needs no second entry."""
        (tmp_path / "requirements").mkdir()
        (tmp_path / "requirements" / "models.txt").write_text("# models\nsome-model==1.0\n")
        (tmp_path / "pyproject.toml").write_text(
            '[project]\nname = "x"\ndependencies = ["mkdocs-foo>=1", "jieba", "click>=8"]\n'
            '[project.optional-dependencies]\nrun = ["torch>=2", "newthing[fast]>=3"]\n'
        )
        listing = payload.wheel_list(tmp_path)
        assert listing.carried == ("click>=8", "newthing[fast]>=3")
        assert listing.image == ("torch>=2",)
        assert listing.models == ("some-model==1.0",)

    def test_same_as_here_is_pinned_to_the_given_version(self) -> None:
        """transformers travels at the version that captured the CPU outputs (pinned by
        prepare, recorded in the manifest, read there): the image's own cannot satisfy it."""
        listing = payload.wheel_list(ROOT, {"transformers": "5.24.0"})
        assert "transformers==5.24.0" in listing.carried
        unpinned = [r for r in payload.wheel_list(ROOT).carried
                    if payload.requirement_name(r) == "transformers"]
        assert len(unpinned) == 1 and "==" not in unpinned[0]  # pyproject.toml's range
        wheel = payload.Wheel(Path("transformers-5.24.0-py3-none-any.whl"), "transformers",
                              "5.24.0")
        image = {"transformers": "5.17.0"}
        choice = payload.choose([wheel], ["transformers==5.24.0"], image.get)
        assert [w.version for w in choice.install] == ["5.24.0"] and not choice.problems
        stale = payload.choose([], ["transformers==5.24.0"], image.get)
        assert "this machine has 5.17.0 and no wheel of it was carried" in stale.problems[0]

    def test_manylinux_tags_up_to_the_targets_glibc(self) -> None:
        """pip matches platform tags exactly: every tag the target's glibc runs is named."""
        tags = payload.manylinux_platforms((2, 17))
        assert "manylinux_2_17_x86_64" in tags and "manylinux2014_x86_64" in tags
        assert "manylinux_2_5_x86_64" in tags and "manylinux1_x86_64" in tags
        assert "manylinux_2_18_x86_64" not in tags
        assert "manylinux_2_39_x86_64" in payload.manylinux_platforms((2, 39))


class TestParts:
    def test_part_size_leaves_room_for_the_tree(self) -> None:
        """A part and the working tree fit one 64 MiB call; at most 60 MiB a part."""
        assert payload.part_size(0) == 60 * MIB
        assert payload.part_size(10 * MIB) == 52 * MIB
        assert payload.part_size(10 * MIB + 1) == 51 * MIB
        with pytest.raises(ValueError, match="working tree alone"):
            payload.part_size(60 * MIB)

    def test_split_and_join_round_trip(self, tmp_path: Path) -> None:
        """Parts land one per call folder, each with the manifest; joined, the bytes and the
        sha256 are the original's."""
        data = bytes(range(256)) * 1000 + b"tail"
        source = tmp_path / "payload.tar"
        source.write_bytes(data)
        folder = tmp_path / ".gpu"
        manifest = payload.split(source, folder, 100_000, dependencies=["a.whl"])
        assert [p["path"] for p in manifest["parts"]] == [
            f"call{k}/payload.tar.part{k}" for k in range(1, 4)]
        assert all(p["bytes"] <= 100_000 for p in manifest["parts"])
        for k in (1, 2, 3):
            assert json.loads((folder / f"call{k}" / "manifest.json").read_text()) == manifest
        assert payload.read_manifest(folder)["dependencies"] == ["a.whl"]
        joined = payload.join(folder, manifest, tmp_path / "joined.tar")
        assert joined.read_bytes() == data

    def test_each_call_holding_only_its_own_part_still_completes_the_set(
        self, tmp_path: Path
    ) -> None:
        """On the device a call keeps only the carried path it names (the first attempt found
        call1 gone in call 2): parts are stashed outside the checkout and joined from there.
        A stash of another prepare is dropped."""
        data = bytes(range(256)) * 1000
        source = tmp_path / "payload.tar"
        source.write_bytes(data)
        prepared = tmp_path / "prepared"
        manifest = payload.split(source, prepared, 100_000, dependencies=[])
        stash = tmp_path / "stash"
        (stash / "call9").mkdir(parents=True)  # left by another prepare
        (stash / "call9" / "manifest.json").write_text('{"sha256": "other"}')
        for k in (1, 2, 3):
            carried = tmp_path / f"device{k}" / ".gpu"
            carried.mkdir(parents=True)
            (carried / f"call{k}").symlink_to(prepared / f"call{k}")
            folder = refresh.stash_parts(carried, stash)
        assert not (stash / "call9").exists()
        assert payload.join(folder, manifest, tmp_path / "joined.tar").read_bytes() == data

    def test_missing_and_damaged_parts_are_named(self, tmp_path: Path) -> None:
        """Reassembly refuses a missing or altered part and says which."""
        source = tmp_path / "p.tar"
        source.write_bytes(b"x" * 250)
        folder = tmp_path / ".gpu"
        manifest = payload.split(source, folder, 100)
        (folder / "call3" / "p.tar.part3").unlink()
        damaged = folder / "call2" / "p.tar.part2"
        damaged.write_bytes(b"y" + damaged.read_bytes()[1:])
        good, problems = payload.check_parts(folder, manifest)
        assert good == ["call1/p.tar.part1"]
        assert problems == ["call2/p.tar.part2 is damaged (size or sha256 differs)",
                            "call3/p.tar.part3 is missing"]
        with pytest.raises(ValueError, match="cannot reassemble"):
            payload.join(folder, manifest, tmp_path / "out.tar")

    def test_whole_checksum_is_checked(self, tmp_path: Path) -> None:
        """Intact parts that do not make the prepared whole are refused."""
        source = tmp_path / "p.tar"
        source.write_bytes(b"abc" * 50)
        manifest = payload.split(source, tmp_path / ".gpu", 64)
        manifest["sha256"] = "0" * 64
        with pytest.raises(ValueError, match="sha256 is not the prepared one"):
            payload.join(tmp_path / ".gpu", manifest, tmp_path / "out.tar")

    def test_parts_of_two_prepares_are_refused(self, tmp_path: Path) -> None:
        """Call folders left from an older prepare do not mix with a new one."""
        folder = tmp_path / ".gpu"
        for k, content in ((1, b"a" * 10), (2, b"b" * 10)):
            source = tmp_path / f"p{k}.tar"
            source.write_bytes(content)
            payload.split(source, tmp_path / f"tmp{k}", 10)
            (folder / f"call{k}").mkdir(parents=True)
            (folder / f"call{k}" / "manifest.json").write_bytes(
                (tmp_path / f"tmp{k}" / "call1" / "manifest.json").read_bytes())
        with pytest.raises(ValueError, match="different prepares"):
            payload.read_manifest(folder)

    def test_first_parts_already_yield_the_whole_wheels(self, tmp_path: Path) -> None:
        """With only the first part carried, the wheels it holds in full are usable (the
        early install of the first call); a wheel cut by the part's end is not."""
        wheels = tmp_path / "w"
        wheels.mkdir()
        small = [make_wheel(wheels, f"dep{k}", "1.0") for k in range(3)]
        big = make_wheel(wheels, "model", "1.0", padding=200_000)
        tar_path = tmp_path / "payload.tar"
        with tarfile.open(tar_path, "w") as archive:
            for path in [*small, big]:
                archive.add(path, arcname=f"wheels/{path.name}")
        folder = tmp_path / ".gpu"
        manifest = payload.split(tar_path, folder, 100_000)
        for k in range(2, len(manifest["parts"]) + 1):
            (folder / f"call{k}" / f"payload.tar.part{k}").unlink()
        found = refresh.complete_wheels(folder, manifest, tmp_path / "early")
        assert sorted(p.name for p in found) == sorted(p.name for p in small)
        assert (tmp_path / "early" / small[0].name).read_bytes() == small[0].read_bytes()


class TestChoose:
    def choose(self, tmp_path: Path, wheels: list[tuple[str, str, tuple[str, ...]]],
               needed: list[str], installed: dict[str, str]) -> Any:
        found = [payload.read_wheel(make_wheel(tmp_path, n, v, r)) for n, v, r in wheels]
        return payload.choose(found, needed, installed.get)

    def test_the_machines_own_version_wins_where_it_satisfies(self, tmp_path: Path) -> None:
        """A package the image has in a fitting version is not installed a second time."""
        choice = self.choose(tmp_path, [("click", "8.3", ()), ("rich", "15.0", ())],
                             ["click>=8.1,<9", "rich>=13"], {"click": "8.1.7"})
        assert choice.image == {"click": "8.1.7"}
        assert [w.name for w in choice.install] == ["rich"]
        assert choice.problems == []

    def test_a_too_old_image_version_is_replaced_by_the_wheel(self, tmp_path: Path) -> None:
        """When a dependency asks for more than the image has, the carried wheel is used."""
        choice = self.choose(
            tmp_path,
            [("nbclient", "0.11", ("traitlets>=5.4",)), ("traitlets", "5.16", ())],
            ["nbclient>=0.10"], {"traitlets": "5.0"},
        )
        assert [w.name for w in choice.install] == ["nbclient", "traitlets"]

    def test_markers_and_extras_decide_which_dependencies_apply(self, tmp_path: Path) -> None:
        """Dependencies for another Python or an extra nobody asked for are skipped."""
        choice = self.choose(
            tmp_path,
            [("jupytext", "1.19", ('tomli; python_version < "3.0"',
                                   'pytest; extra == "test"', "mdurl[plugins]")),
             ("mdurl", "0.1", ('extra-thing; extra == "plugins"',)),
             ("extra-thing", "1.0", ())],
            ["jupytext"], {},
        )
        assert [w.name for w in choice.install] == ["extra-thing", "jupytext", "mdurl"]
        assert choice.problems == []

    def test_what_nobody_can_provide_is_a_problem(self, tmp_path: Path) -> None:
        """A requirement neither the image nor a wheel satisfies is named, with who wants it."""
        choice = self.choose(tmp_path, [("gguf", "0.19", ("numpy>=1.17",))],
                             ["gguf", "torch>=2.4"], {"numpy": "1.10"})
        assert choice.problems == [
            "torch>=2.4 is needed (by pyproject.toml): this machine has none and no wheel of "
            "it was carried",
            "numpy>=1.17 is needed (by gguf): this machine has 1.10 and no wheel of it was "
            "carried",
        ]

    def test_two_versions_of_one_wheel_are_refused(self, tmp_path: Path) -> None:
        """pip stops at two versions of one project: say so before installing."""
        choice = self.choose(tmp_path, [("rich", "14.0", ()), ("rich", "15.0", ())],
                             ["rich"], {})
        assert choice.problems and "two wheels of rich" in choice.problems[0]


class TestProvenance:
    def test_cuda_version_read_from_torch_version_file(self) -> None:
        """torch/version.py's cuda line, without importing torch."""
        text = "__version__ = '2.11.0+cu130'\ncuda: Optional[str] = '13.0'\n"
        found = environment.CUDA_LINE.search(text)
        assert found and found[1] == "13.0"
        assert environment.CUDA_LINE.search("cuda: Optional[str] = None\n") is None

    def test_cpu_captures_record_no_cuda_key(self) -> None:
        """On a machine without a GPU the recorded versions are exactly the three of old, so
        CPU-captured files never change because of the CUDA entry."""
        if environment.gpu_name() is not None:
            pytest.skip("a GPU is visible here")
        assert set(environment.versions()) == {"python", "torch", "transformers"}


def test_archive_holds_outputs_and_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pack() brings back every stored output and the call's logs in one archive."""
    monkeypatch.setattr(refresh, "ROOT", tmp_path)
    outputs = tmp_path / "snippets" / "outputs"
    outputs.mkdir(parents=True)
    (outputs / "a.json").write_text("{}")
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.log").write_text("ran")
    archive = refresh.pack(out)
    with tarfile.open(archive) as opened:
        assert sorted(opened.getnames()) == ["gpu/run.log", "snippets/outputs/a.json"]
        member = opened.extractfile("gpu/run.log")
        assert member is not None and io.TextIOWrapper(member).read() == "ran"


class TestCompare:
    CHAPTER = ('# %% numbers\nprint("p =", 0.7731)\n\n'
               '# %% loose compare={"rtol": 0.1, "why": "near ties on a GPU"}\nprint(2.0)\n\n'
               '# %% text\nprint("The capital of France is Paris")\n')

    def stored(self, project: Any, device: str, numbers: str, loose: str, text: str) -> str:
        from llmdocs.keys import source_key
        from llmdocs.store import StoredCell, StoredChapter, dumps

        def cell(line: str) -> Any:
            return StoredCell([{"stream": "stdout", "text": [line + "\n"]}], 0.5)

        return dumps(StoredChapter(
            chapter="ch", source_key=source_key(project.chapter("ch")), profile="offline",
            device=device, versions={"python": "3.12.3"}, models={}, captured="2026-11-27",
            cells={"numbers": cell(numbers), "loose": cell(loose), "text": cell(text)},
        ))

    def run(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any,
            numbers: str, loose: str, text: str) -> tuple[int, str]:
        from llmdocs.project import project_at

        (tmp_path / "snippets" / "outputs").mkdir(parents=True)
        (tmp_path / "snippets" / "ch.py").write_text(self.CHAPTER)
        project = project_at(tmp_path)
        (project.store_dir / "ch.json").write_text(
            self.stored(project, "CPU", "p = 0.7731", "2.0", "The capital of France is Paris"))
        gpu = tmp_path / "gpu.json"
        gpu.write_text(self.stored(project, "NVIDIA H100 80GB HBM3", numbers, loose, text))
        archive = tmp_path / "gpu-outputs.tar.gz"
        with tarfile.open(archive, "w:gz") as opened:
            opened.add(gpu, arcname="snippets/outputs/ch.json")
        monkeypatch.setattr(refresh, "ROOT", tmp_path)
        status = refresh.compare(refresh.argparse.Namespace(archive=str(archive)))
        return status, capsys.readouterr().out

    def test_float_noise_and_loosened_cells_agree(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
    ) -> None:
        """A last-digit wobble, and a larger one in a cell whose compare= allows it, pass."""
        status, out = self.run(tmp_path, monkeypatch, capsys, "p = 0.7732", "2.1",
                               "The capital of France is Paris")
        assert status == 0 and "every cell agrees" in out
        assert "ch: NVIDIA H100 80GB HBM3 vs CPU" in out

    def test_diverging_text_is_named_by_cell(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
    ) -> None:
        """Greedy text that went another way is reported with its cell, as the CPU check
        (tests/test_models.py) would find it once committed."""
        status, out = self.run(tmp_path, monkeypatch, capsys, "p = 0.7731", "2.0",
                               "The capital of France is Lyon")
        assert status == 1
        assert "text: differs" in out and "1 cell(s) differ" in out


def test_a_continuation_call_runs_only_the_chapters_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What this attempt captured is kept outside the tree (each call sends the tree again)
    and put back over the stored files the call brought; only the other chapters run.
    New parts start a new attempt."""
    monkeypatch.setattr(refresh, "ROOT", tmp_path)
    monkeypatch.setattr(refresh, "WORK", tmp_path / "work")
    (tmp_path / "work").mkdir()
    outputs = tmp_path / "snippets" / "outputs"
    outputs.mkdir(parents=True)
    for name in ("a", "b", "c"):
        (tmp_path / "snippets" / f"{name}.py").write_text("# %% x\n")
        (outputs / f"{name}.json").write_text('{"device": "CPU"}')
    kept = refresh.begin_attempt({"sha256": "one"})
    assert refresh.chapters_left(kept) == ["a", "b", "c"]
    (kept / "b.json").write_text('{"device": "NVIDIA H100 80GB HBM3"}')
    assert refresh.begin_attempt({"sha256": "one"}) == kept
    assert refresh.chapters_left(kept) == ["a", "c"]
    refresh.restore(kept)
    assert "H100" in (outputs / "b.json").read_text()
    assert "CPU" in (outputs / "a.json").read_text()
    refresh.begin_attempt({"sha256": "two"})
    assert refresh.chapters_left(kept) == ["a", "b", "c"]
