"""The shape of a stored-output file, checked field by field when it is read.

A digest proves a file was not edited by hand, not that its writer was right: a forged or
damaged file whose digest matches must still be reported ("broken", with the remedy), never
reach the renderer and crash a build. Every field the readers use is checked for its type and
shape; fields this version does not know are left alone (a newer writer may add some).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any

STREAMS = ("stdout", "stderr")
MIMETYPES = ("text/html", "image/svg+xml", "image/png", "text/plain")
BASE64 = re.compile(r"^[A-Za-z0-9+/=]*$")
TEXT_FIELDS = ("chapter", "source_key", "profile", "device", "captured", "digest")


class SchemaError(ValueError):
    """A field has the wrong type or shape; the message names the field."""


def check_body(body: Any) -> None:
    """Raise SchemaError naming the first field of ``body`` that is not as written by us."""
    _expect(isinstance(body, dict), "the file", "an object")
    for name in TEXT_FIELDS:
        _text(body.get(name), name)
    _mapping(body.get("versions"), "versions", _text)
    _mapping(body.get("models"), "models", lambda value, where: _mapping(value, where, _text))
    _mapping(body.get("cells"), "cells", _cell)


def _expect(condition: bool, where: str, wanted: str) -> None:
    if not condition:
        raise SchemaError(f"{where} is not {wanted}")


def _text(value: Any, where: str) -> None:
    _expect(isinstance(value, str), where, "text")


def _lines(value: Any, where: str) -> None:
    _expect(isinstance(value, list), where, "a list of lines")
    for index, line in enumerate(value):
        _text(line, f"{where}[{index}]")


def _mapping(value: Any, where: str, check: Any) -> None:
    _expect(isinstance(value, dict), where, "an object")
    for key, item in value.items():
        check(item, f"{where}[{key!r}]")


def _cell(cell: Any, where: str) -> None:
    _expect(isinstance(cell, dict), where, "an object")
    duration = cell.get("duration_s")
    _expect(
        isinstance(duration, int | float) and not isinstance(duration, bool)
        and math.isfinite(duration) and duration >= 0,
        f"{where}.duration_s", "a number of seconds",
    )
    outputs = cell.get("outputs")
    _expect(isinstance(outputs, list), f"{where}.outputs", "a list")
    for index, output in enumerate(outputs):
        _output(output, f"{where}.outputs[{index}]")


def _output(output: Any, where: str) -> None:
    _expect(isinstance(output, dict), where, "an object")
    keys = set(output)
    if keys == {"stream", "text"}:
        _expect(output["stream"] in STREAMS, f"{where}.stream", " or ".join(STREAMS))
        _lines(output["text"], f"{where}.text")
    elif keys == {"data"}:
        data = output["data"]
        _expect(isinstance(data, dict) and bool(data), f"{where}.data", "an object")
        for mimetype, value in data.items():
            _expect(mimetype in MIMETYPES, f"{where}.data[{mimetype!r}]", "a kept mimetype")
            _lines(value, f"{where}.data[{mimetype!r}]")
            if mimetype == "image/png":
                try:
                    if not all(BASE64.match(line) for line in value):
                        raise ValueError
                    base64.b64decode("".join(value))  # as the renderer decodes it
                except (binascii.Error, ValueError):
                    raise SchemaError(f"{where}.data['image/png'] is not base64") from None
    elif keys == {"error"}:
        error = output["error"]
        _expect(isinstance(error, dict), f"{where}.error", "an object")
        _text(error.get("ename"), f"{where}.error.ename")
        _text(error.get("evalue"), f"{where}.error.evalue")
        _lines(error.get("traceback"), f"{where}.error.traceback")
    else:
        raise SchemaError(f"{where} is not a stream, data or error output")
