"""JSON text as Go's ``encoding/json`` ``Marshal`` writes it, for gogen's summary and error files.

Differences from Python's ``json.dumps`` that matter here: no spaces; map keys sorted (struct fields keep
their order); ``<``, ``>``, ``&``, U+2028 and U+2029 escaped as ``\\u003c``-style sequences; non-ASCII text
written as UTF-8, except a byte that is not UTF-8 (a surrogate escape here), which Go writes as the six
characters ``\\ufffd`` (``encodeState.string`` in Go's encoding/json; quirk 23); floats in the shortest form without an
exponent between 1e-6 and 1e21; ``time.Time`` as an RFC 3339 string with trailing zeros of the fraction removed
(year 0000 included: :class:`~streams.gocompat.dates.BeforeYearOne` prints its own fields).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _char(char: str) -> str:
    escaped = _ESCAPES.get(char)
    if escaped is not None:
        return escaped
    code = ord(char)
    if code < 0x20:
        return f"\\u{code:04x}"
    if 0xD800 <= code <= 0xDFFF:  # an undecodable input byte (surrogateescape): Go writes the escape \ufffd
        return "\\ufffd"
    return char


def go_string(text: str) -> str:
    """A JSON string literal with Go's escaping."""
    return '"' + "".join(_char(char) for char in text) + '"'


def go_float(value: float) -> str:
    """``strconv.AppendFloat(f, 'f' or 'e', -1, 64)`` as encoding/json chooses it."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {value!r}")
    if value == 0:
        return "0"
    shortest = repr(value)
    magnitude = abs(value)
    if 1e-6 <= magnitude < 1e21:
        text = format(Decimal(shortest), "f")
        return text[:-2] if text.endswith(".0") else text
    mantissa, _, exponent = f"{Decimal(shortest):e}".partition("e")
    sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
    if sign == "+":  # strconv writes at least two exponent digits; encoding/json turns e-07 into e-7
        digits = digits.rjust(2, "0")
    return f"{mantissa}e{sign}{digits}"


def go_time(value: datetime) -> str:
    """``time.Time.MarshalJSON`` (RFC 3339 with nanoseconds, trailing zeros dropped); naive values are UTC."""
    text = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    offset = value.utcoffset()
    if offset is None or not offset:
        return go_string(text + "Z")
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return go_string(f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}")


def go_json(value: Any) -> str:
    """Marshal ``value``: dict keys in insertion order stand for a struct; a :class:`GoMap` sorts its keys."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_string(value)
    if isinstance(value, datetime):
        return go_time(value)
    if isinstance(value, GoMap):
        items = sorted(value.items(), key=lambda item: item[0].encode("utf-8", "surrogateescape"))
        return "{" + ",".join(f"{go_string(key)}:{go_json(item)}" for key, item in items) + "}"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{go_string(key)}:{go_json(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(item) for item in value) + "]"
    raise TypeError(f"cannot marshal {type(value).__name__}")


class GoMap(dict[str, Any]):
    """A Go ``map[string]T``: marshalled with its keys sorted by their bytes."""
