"""The tolerant comparator: float noise is equal, a different token, id or bar is not."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest

from llmdocs.compare import (
    Tolerance,
    Verdict,
    compare_chapters,
    compare_outputs,
    compare_png,
    compare_text,
    numbers_agree,
)
from llmdocs.store import StoredCell, StoredChapter


class TestNumbers:
    def test_last_digit_noise_is_equal(self) -> None:
        """-7.9444 and -7.9445 differ only in the last printed digit (seen across Intel CPUs)."""
        assert numbers_agree("-7.9445", "-7.9444")

    def test_rounding_across_the_last_digit_is_equal(self) -> None:
        """0.773 vs 0.774 is one unit of the last printed digit."""
        assert numbers_agree("0.773", "0.774")

    def test_a_real_change_in_a_decimal_differs(self) -> None:
        """0.773 vs 0.780 is seven units of the last digit and ~1% relative: different."""
        assert not numbers_agree("0.773", "0.780")

    def test_integers_are_exact(self) -> None:
        """Token ids, shapes and counts never drift: 7042 vs 7043 differs."""
        assert not numbers_agree("7042", "7043")

    def test_scientific_notation_uses_its_exponent(self) -> None:
        """1.2345e-04 vs 1.2346e-04 is one unit of the last digit (1e-8)."""
        assert numbers_agree("1.2345e-04", "1.2346e-04")
        assert not numbers_agree("1.2345e-04", "1.2445e-04")

    def test_relative_noise_on_long_numbers_is_equal(self) -> None:
        """Many printed digits: float32 noise of 1e-4 relative is within the default rtol."""
        assert numbers_agree("123.456789", "123.470000")
        assert not numbers_agree("123.456789", "124.456789")

    def test_negative_zero_is_zero(self) -> None:
        """Noise around zero flips the printed sign: -0.0000 equals 0.0000."""
        assert numbers_agree("-0.0000", "0.0000")

    def test_per_cell_override_loosens(self) -> None:
        """A cell's compare={"rtol": 0.05} accepts a 1% change the default refuses."""
        loose = Tolerance.from_metadata({"rtol": 0.05, "why": "sampling on GPU"})
        assert numbers_agree("0.773", "0.780", loose)

    def test_unknown_override_is_refused(self) -> None:
        """A misspelled option is an error, not silently the default."""
        with pytest.raises(ValueError, match="rtoll"):
            Tolerance.from_metadata({"rtoll": 0.05})


class TestText:
    def test_tensor_noise_with_changed_padding_is_within_tolerance(self) -> None:
        """torch pads columns: a sign change moves the padding; the numbers still agree."""
        stored = "tensor([ 0.0000, -7.9445,  3.1416])\n"
        now = "tensor([-0.0000, -7.9444,  3.1416])\n"
        assert compare_text(stored, now).verdict is Verdict.WITHIN

    def test_a_gpu_tensors_device_annotation_is_not_a_difference(self) -> None:
        """torch prints where a GPU tensor lives, on its own line for a long one."""
        stored = "tensor([ 0.6792, -3.5229, -4.4262,  ...,  0.2446, -0.1063, -1.2018])"
        now = ("tensor([ 0.6791, -3.5229, -4.4262,  ...,  0.2446, -0.1063, -1.2018],\n"
               "       device='cuda:0')")
        assert compare_text(stored, now).verdict is Verdict.WITHIN
        ids = "tensor([[1, 2]], dtype=torch.int32)"
        assert compare_text(ids, "tensor([[1, 2]], device='cuda:0', dtype=torch.int32)"
                            ).verdict is Verdict.WITHIN
        assert compare_text(ids, "tensor([[1, 3]], device='cuda:0', dtype=torch.int32)"
                            ).verdict is Verdict.DIFFERS

    def test_identical_text_is_exact(self) -> None:
        assert compare_text("' Paris' 0.773\n", "' Paris' 0.773\n").verdict is Verdict.EXACT

    def test_a_flipped_token_differs_and_names_the_line(self) -> None:
        """' Paris' vs ' Lyon' on line 2 is a material difference, shown stored vs now."""
        stored = " 1. ' the' 0.065\n 2. ' Paris' 0.773\n"
        now = " 1. ' the' 0.065\n 2. ' Lyon' 0.773\n"
        result = compare_text(stored, now)
        assert result.verdict is Verdict.DIFFERS
        assert result.reason == "line 2 differs"
        assert (result.stored, result.now) == (" 2. ' Paris' 0.773", " 2. ' Lyon' 0.773")

    def test_a_changed_shape_differs(self) -> None:
        """torch.Size([1, 5, 576]) vs [1, 6, 576]: shapes are integers, exact."""
        result = compare_text("torch.Size([1, 5, 576])", "torch.Size([1, 6, 576])")
        assert result.verdict is Verdict.DIFFERS

    def test_a_token_with_an_extra_space_differs(self) -> None:
        """Whitespace inside a token's quotes is text, not padding."""
        assert compare_text("'  Paris'", "' Paris'").verdict is Verdict.DIFFERS

    def test_ranks_are_integers(self) -> None:
        """' 1.' and ' 2.' are ranks, not decimals one unit apart."""
        assert compare_text(" 1. ' Paris'", " 2. ' Paris'").verdict is Verdict.DIFFERS

    def test_an_extra_line_differs(self) -> None:
        assert compare_text("a\n", "a\nb\n").verdict is Verdict.DIFFERS


def _png(draw: Any) -> str:
    """A 200×150 white PNG with a grey bar drawn by ``draw(pixels)``, base64-encoded."""
    import numpy as np
    from PIL import Image

    pixels = np.full((150, 200), 255, dtype=np.uint8)
    draw(pixels)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _bar(height: int) -> Any:
    def draw(pixels: Any) -> None:
        pixels[150 - height : 150, 80:120] = 60

    return draw


class TestFigures:
    def test_one_pixel_antialiasing_change_is_equal(self) -> None:
        """One edge pixel a little lighter (antialiasing on another CPU): within tolerance."""
        def nudged(pixels: Any) -> None:
            _bar(100)(pixels)
            pixels[50, 80] = 140

        result = compare_png(_png(_bar(100)), _png(nudged))
        assert result.verdict is Verdict.WITHIN

    def test_changed_bar_height_differs(self) -> None:
        """A bar 3 px taller is a different chart."""
        result = compare_png(_png(_bar(100)), _png(_bar(103)))
        assert result.verdict is Verdict.DIFFERS
        assert "pixels" in result.reason

    def test_other_size_differs(self) -> None:
        import numpy as np
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(np.full((10, 10), 255, dtype=np.uint8)).save(buffer, format="PNG")
        other = base64.b64encode(buffer.getvalue()).decode()
        assert compare_png(_png(_bar(10)), other).verdict is Verdict.DIFFERS

    def test_png_bytes_differ_pixels_equal_is_within(self) -> None:
        """The same pixels saved with another compression level are the same figure."""
        import numpy as np
        from PIL import Image

        pixels = np.full((20, 20), 200, dtype=np.uint8)
        encoded = []
        for level in (0, 9):
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(buffer, format="PNG", compress_level=level)
            encoded.append(base64.b64encode(buffer.getvalue()).decode())
        assert encoded[0] != encoded[1]
        assert compare_png(*encoded).verdict is Verdict.WITHIN


def _chapter(cells: dict[str, list[dict[str, Any]]]) -> StoredChapter:
    return StoredChapter(
        chapter="c", source_key="k", profile="offline", device="CPU", versions={}, models={},
        captured="2026-01-01", cells={name: StoredCell(out) for name, out in cells.items()},
    )


def _stdout(text: str) -> list[dict[str, Any]]:
    return [{"stream": "stdout", "text": [text]}]


class TestChapters:
    def test_first_differing_cell_is_named(self) -> None:
        stored = _chapter({"a": _stdout("x 1.0001\n"), "b": _stdout("id 5\n")})
        now = _chapter({"a": _stdout("x 1.0002\n"), "b": _stdout("id 6\n")})
        result = compare_chapters(stored, now)
        assert (result.verdict, result.cell) == (Verdict.DIFFERS, "b")
        assert "cell 'b'" in result.describe()

    def test_noise_only_is_within_tolerance(self) -> None:
        stored = _chapter({"a": _stdout("x 1.0001\n")})
        now = _chapter({"a": _stdout("x 1.0002\n")})
        assert compare_chapters(stored, now).verdict is Verdict.WITHIN

    def test_per_cell_tolerance_applies_to_its_cell_only(self) -> None:
        stored = _chapter({"a": _stdout("p 0.50\n"), "b": _stdout("p 0.50\n")})
        now = _chapter({"a": _stdout("p 0.55\n"), "b": _stdout("p 0.55\n")})
        loose = {"a": Tolerance(rtol=0.1)}
        result = compare_chapters(stored, now, loose)
        assert (result.verdict, result.cell) == (Verdict.DIFFERS, "b")

    def test_missing_output_kind_differs(self) -> None:
        """A cell that now prints to stderr as well has different outputs."""
        now = [*_stdout("a\n"), {"stream": "stderr", "text": ["warning\n"]}]
        assert compare_outputs(_stdout("a\n"), now).verdict is Verdict.DIFFERS


class TestAcrossDevices:
    """``devices: "kinds"`` for greedy text that really diverges between CPU and GPU."""

    def _pair(self, device: str) -> tuple[StoredChapter, StoredChapter]:
        stored = _chapter({"reply": _stdout("The cat sat.\n")})
        now = _chapter({"reply": _stdout("The dog ran.\n")})
        now.device = device
        return stored, now

    def test_text_may_differ_between_cpu_and_gpu(self) -> None:
        stored, now = self._pair("NVIDIA H100 80GB HBM3")
        loose = {"reply": Tolerance.from_metadata({"devices": "kinds", "why": "bf16 ties"})}
        assert compare_chapters(stored, now, loose).verdict is Verdict.WITHIN

    def test_same_device_class_still_compares_text(self) -> None:
        stored, now = self._pair("CPU")
        loose = {"reply": Tolerance.from_metadata({"devices": "kinds", "why": "bf16 ties"})}
        assert compare_chapters(stored, now, loose).verdict is Verdict.DIFFERS

    def test_without_the_setting_text_differs(self) -> None:
        stored, now = self._pair("NVIDIA H100 80GB HBM3")
        assert compare_chapters(stored, now).verdict is Verdict.DIFFERS

    def test_unknown_devices_value_is_refused(self) -> None:
        with pytest.raises(ValueError, match="devices"):
            Tolerance.from_metadata({"devices": "any"})
