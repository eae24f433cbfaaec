"""Compare a cell's outputs by meaning, not bytes: two honest machines must agree.

Text must match exactly except numbers (and a GPU tensor's device annotation). Integers
(token ids, shapes, counts) must be equal; decimals may differ by a couple of units in their
last printed digit, or by a small relative error, which covers rounding at the last digit
and float noise across CPUs and GPUs. Whitespace that pads a number (torch aligns tensor
columns) may change width. Figures are compared as decoded pixels after a light blur, so
antialiasing noise is equal and a moved bar is not.

A chapter can loosen the comparison for a cell it knows to be sensitive, in the cell's own
marker line (jupytext cell metadata)::

    # %% top-k compare={"rtol": 0.01, "why": "near ties between the 9th and 10th token"}
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from .capture import join_lines
from .store import Output, StoredChapter

if TYPE_CHECKING:
    from .chapters import Chapter


@dataclass(frozen=True)
class Tolerance:
    """How far two outputs of the same cell may drift apart and still be the same output."""

    ulps: float = 2.0
    """Units in the last printed digit a decimal may move (0.7731 vs 0.7733 is 2)."""
    rtol: float = 1e-3
    """Relative difference a decimal may have, for numbers printed with many digits."""
    atol: float = 0.0
    """Absolute difference a decimal may always have (0 by default)."""
    pixel_level: float = 64.0
    """A pixel counts as changed when, after a 3×3 blur, its grey level moved this much (0-255)."""
    pixel_fraction: float = 2e-4
    """Figures differ when more than this fraction of their pixels changed (282 of a 614×460)."""
    kinds_across_devices: bool = False
    """``"devices": "kinds"``: between a CPU and a GPU capture, compare only which outputs a
    cell made, not their text (greedy text that really diverges between the two; say why)."""

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> Tolerance:
        """The default, overridden by a cell's ``compare={...}`` marker metadata."""
        default = cls()
        if not metadata:
            return default
        numbers = set(cls.__dataclass_fields__) - {"kinds_across_devices"}
        unknown = sorted(set(metadata) - numbers - {"why", "devices"})
        if unknown:
            raise ValueError(
                f"unknown compare option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(numbers))}, devices, why"
            )
        why = metadata.get("why", "")
        if not isinstance(why, str) and not (
            isinstance(why, Mapping) and set(why) <= {"en", "zh"}
            and all(isinstance(v, str) for v in why.values())
        ):
            raise ValueError('why is a reason: a string, or {"en": ..., "zh": ...}')
        devices = metadata.get("devices", "same")
        if devices not in ("same", "kinds"):
            raise ValueError('devices is "same" (default) or "kinds"')
        try:
            known = {k: float(v) for k, v in metadata.items() if k in numbers}
        except (TypeError, ValueError):
            raise ValueError("compare options are numbers (and 'why', a reason)") from None
        if any(v < 0 for v in known.values()):
            raise ValueError("compare options cannot be negative")
        return replace(default, **known, kinds_across_devices=devices == "kinds")


DEFAULT = Tolerance()


class Verdict(IntEnum):
    """How a live run relates to what is stored; higher is worse."""

    EXACT = 0
    WITHIN = 1
    DIFFERS = 2

    @property
    def label(self) -> str:
        return {
            Verdict.EXACT: "reproduced exactly",
            Verdict.WITHIN: "reproduced within tolerance",
            Verdict.DIFFERS: "differs",
        }[self]


@dataclass(frozen=True)
class Comparison:
    """The verdict for one cell or chapter, and where the first material difference is."""

    verdict: Verdict
    cell: str = ""
    stored: str = ""
    now: str = ""
    reason: str = ""

    def describe(self) -> str:
        if self.verdict is not Verdict.DIFFERS:
            return self.verdict.label
        where = f"cell '{self.cell}': " if self.cell else ""
        detail = f"{where}{self.reason}"
        if self.stored or self.now:
            detail += f"\n    stored: {self.stored!r}\n    now:    {self.now!r}"
        return f"differs: {detail}"


EXACT = Comparison(Verdict.EXACT)
WITHIN = Comparison(Verdict.WITHIN)

# A number as printed: optional sign, digits with an optional fraction, optional exponent.
# "1." (a rank, or torch's integral float) is the integer 1 and a full stop: exact.
NUMBER = re.compile(r"[-+]?(?:\d+\.\d+|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)\b")
TOKEN = re.compile(rf"(?P<number>{NUMBER.pattern})|(?P<space>[ \t]+)|(?P<other>[^\s\d.+-]+|.)",
                   re.DOTALL)


def _tokens(line: str) -> list[tuple[str, str]]:
    return [(match.lastgroup or "other", match.group()) for match in TOKEN.finditer(line)]


def _is_integer(text: str) -> bool:
    return re.fullmatch(r"[-+]?\d+", text) is not None


def _last_digit_unit(text: str) -> float:
    """The value of one unit in the last printed digit: 0.001 for '-7.944', 1e-5 for '1.2e-4'."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return float(10.0 ** (int(exponent or 0) - decimals))


def numbers_agree(stored: str, now: str, tolerance: Tolerance = DEFAULT) -> bool:
    """Two printed numbers are the same number as far as the printing and float noise go."""
    if stored == now:
        return True
    if _is_integer(stored) or _is_integer(now):
        return False  # ids, shapes and counts are exact
    a, b = float(stored), float(now)
    if a != a or b != b:  # nan
        return a != a and b != b
    allowed = max(
        tolerance.ulps * max(_last_digit_unit(stored), _last_digit_unit(now)),
        tolerance.rtol * max(abs(a), abs(b)),
        tolerance.atol,
    )
    return abs(a - b) <= allowed * (1 + 1e-9)


# Where a tensor lives is not what it holds: torch prints `device='cuda:0'` after a GPU
# tensor's values (on the same line, or on the next for a long tensor), never for a CPU one.
DEVICE_ANNOTATION = re.compile(r",\s*device='[a-z]+(?::\d+)?'(?=[,)])")


def compare_text(stored: str, now: str, tolerance: Tolerance = DEFAULT) -> Comparison:
    """Line by line: text exactly (tensors' device annotations aside), numbers within
    tolerance."""
    if stored == now:
        return EXACT
    stored, now = DEVICE_ANNOTATION.sub("", stored), DEVICE_ANNOTATION.sub("", now)
    stored_lines, now_lines = stored.split("\n"), now.split("\n")
    for index in range(max(len(stored_lines), len(now_lines))):
        old = stored_lines[index] if index < len(stored_lines) else "<no line>"
        new = now_lines[index] if index < len(now_lines) else "<no line>"
        if old != new and not _line_agrees(old, new, tolerance):
            return Comparison(Verdict.DIFFERS, stored=old, now=new,
                              reason=f"line {index + 1} differs")
    return WITHIN


def _line_agrees(stored: str, now: str, tolerance: Tolerance) -> bool:
    old, new = _without_padding(_tokens(stored)), _without_padding(_tokens(now))
    if len(old) != len(new):
        return False
    for (old_kind, old_text), (new_kind, new_text) in zip(old, new, strict=True):
        if old_kind != new_kind:
            return False
        if old_kind == "number":
            if not numbers_agree(old_text, new_text, tolerance):
                return False
        elif old_text != new_text:
            return False
    return True


def _without_padding(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop whitespace next to a number: torch pads tensor columns to the widest number, so a
    sign flipped by noise ('-0.0000' for ' 0.0000') shifts the padding. Other whitespace,
    such as inside a token's quotes, stays and must match."""
    kept = []
    for index, (kind, text) in enumerate(tokens):
        if kind == "space":
            before = tokens[index - 1][0] if index > 0 else ""
            after = tokens[index + 1][0] if index + 1 < len(tokens) else ""
            if "number" in (before, after):
                continue
        kept.append((kind, text))
    return kept


def compare_png(stored: str, now: str, tolerance: Tolerance = DEFAULT) -> Comparison:
    """Decoded pixels: equal when few pixels moved much after a 3×3 blur."""
    if stored == now:
        return EXACT
    old, new = _grey_pixels(stored), _grey_pixels(now)
    if old.shape != new.shape:
        return Comparison(Verdict.DIFFERS, stored=f"{old.shape[1]}×{old.shape[0]} px",
                          now=f"{new.shape[1]}×{new.shape[0]} px", reason="figure size differs")
    changed = int((abs(_blur(old) - _blur(new)) > tolerance.pixel_level).sum())
    allowed = tolerance.pixel_fraction * old.size
    if changed > allowed:
        return Comparison(Verdict.DIFFERS, reason=(
            f"figure differs in {changed} pixels (at most {allowed:.0f} may change)"
        ))
    return WITHIN


def _grey_pixels(encoded: str) -> Any:
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
        return np.asarray(image.convert("L"), dtype=np.float32)


def _blur(pixels: Any) -> Any:
    import numpy as np

    padded = np.pad(pixels, 1, mode="edge")
    height, width = pixels.shape
    total = sum(
        padded[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3)
    )
    return total / 9.0


def _describe_output(output: Output) -> str:
    if "stream" in output:
        return f"{output['stream']} text"
    if "error" in output:
        return f"error {output['error'].get('ename', '')}"
    return "display of " + ", ".join(sorted(output.get("data", {})))


def compare_outputs(
    stored: list[Output], now: list[Output], tolerance: Tolerance = DEFAULT
) -> Comparison:
    """One cell's outputs, in order: same kinds, same streams, same formats, same meaning."""
    kinds = _compare_kinds(stored, now)
    if kinds.verdict is not Verdict.WITHIN:
        return kinds  # identical, or other kinds of output
    worst = EXACT
    for old, new in zip(stored, now, strict=True):
        for result in _compare_output(old, new, tolerance):
            if result.verdict > worst.verdict:
                worst = result
            if worst.verdict is Verdict.DIFFERS:
                return worst
    return worst


def _compare_output(old: Output, new: Output, tolerance: Tolerance) -> list[Comparison]:
    if "stream" in old:
        return [compare_text(join_lines(old["text"]), join_lines(new["text"]), tolerance)]
    if "error" in old:
        old_error, new_error = old["error"], new["error"]
        return [compare_text(f"{old_error['ename']}: {old_error['evalue']}",
                             f"{new_error['ename']}: {new_error['evalue']}", tolerance)]
    results = []
    for mimetype, value in old.get("data", {}).items():
        other = new["data"][mimetype]
        if mimetype == "image/png":
            results.append(compare_png("".join(value), "".join(other), tolerance))
        else:
            results.append(compare_text(join_lines(value), join_lines(other), tolerance))
    return results


def tolerances(chapter: Chapter) -> dict[str, Tolerance]:
    """Each cell's tolerance, from its marker line (the default elsewhere)."""
    return {cell.name: Tolerance.from_metadata(cell.compare) for cell in chapter.cells}


def compare_cells(
    stored: StoredChapter, now: StoredChapter,
    tolerances: Mapping[str, Tolerance] | None = None,
) -> dict[str, Comparison]:
    """Each stored cell's verdict against the same cell now (a cell gone now differs).

    Between a CPU and a GPU capture, a cell marked ``"devices": "kinds"`` is compared only by
    the kinds of output it made."""
    tolerances = tolerances or {}
    across_devices = stored.device_class != now.device_class
    verdicts = {}
    for name, cell in stored.cells.items():
        tolerance = tolerances.get(name, DEFAULT)
        if name not in now.cells:
            result = Comparison(Verdict.DIFFERS, reason="the cell made no output now")
        elif across_devices and tolerance.kinds_across_devices:
            result = _compare_kinds(cell.outputs, now.cells[name].outputs)
        else:
            result = compare_outputs(cell.outputs, now.cells[name].outputs, tolerance)
        verdicts[name] = replace(result, cell=name) if result.verdict is Verdict.DIFFERS \
            else result
    return verdicts


def compare_chapters(
    stored: StoredChapter, now: StoredChapter,
    tolerances: Mapping[str, Tolerance] | None = None,
) -> Comparison:
    """Every cell of a chapter; the first material difference, or the overall verdict."""
    if list(stored.cells) != list(now.cells):
        return Comparison(Verdict.DIFFERS, reason="the chapter's cells differ",
                          stored=", ".join(stored.cells), now=", ".join(now.cells))
    worst = EXACT
    for result in compare_cells(stored, now, tolerances).values():
        if result.verdict is Verdict.DIFFERS:
            return result
        if result.verdict > worst.verdict:
            worst = result
    return worst


def compare_capture(stored: StoredChapter, fresh: StoredChapter, chapter: Chapter) -> Comparison:
    """The verdict of `llmdocs verify` on one chapter: its stored outputs against a fresh
    capture of the same code, each cell within its own tolerance (the tests use it too)."""
    if stored.source_key != fresh.source_key:
        return Comparison(Verdict.DIFFERS, reason=(
            f"the code changed since capture; run `llmdocs run {chapter.name}`"
        ))
    return compare_chapters(stored, fresh, tolerances(chapter))


def _compare_kinds(stored: list[Output], now: list[Output]) -> Comparison:
    """Only which outputs a cell made (streams, errors, formats), in order."""
    if stored == now:
        return EXACT
    old, new = [_describe_output(o) for o in stored], [_describe_output(o) for o in now]
    if old != new:
        return Comparison(Verdict.DIFFERS, reason="different outputs",
                          stored="; ".join(old), now="; ".join(new))
    return WITHIN
