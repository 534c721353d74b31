"""Rows written byte for byte like Go's ``encoding/csv`` Writer, which produced every gogen result file.

Go quotes a field iff it is non-empty and contains a comma, a quote, ``\\r`` or ``\\n``, or is exactly
``\\.``, or starts with a Go white-space rune (``unicode.IsSpace``). Inside quotes only ``"`` is doubled;
``\\r`` and ``\\n`` are written as they are, and every record ends with ``\\n`` (``UseCRLF`` is false).

Python's ``csv.writer`` (QUOTE_MINIMAL, ``lineterminator="\\n"``) quotes a strict subset of those fields: it
never quotes for a leading space, for ``\\.`` or for ``\\r``, and it escapes the fields it quotes the same
way. The writer hands a row to that C writer when none of the three cases occurs and encodes it field by
field otherwise; both paths give Go's bytes.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from operator import itemgetter
from typing import TextIO

from streams.gocompat.gotext import GO_WHITE_SPACE

_WS = re.escape(GO_WHITE_SPACE)
_WS_SET = frozenset(GO_WHITE_SPACE)
_FIELD_SPECIAL = re.compile(r'[,"\r\n]')
# On a comma-joined row without quotes or line breaks: a field starting with white space or a backslash (a
# "\." field is the case that matters). Commas inside fields only add false alarms, never hide a case.
_ROW_LEADING = re.compile(rf",(?:[{_WS}]|\\)")
_ROW_START = re.compile(rf"[{_WS}]|\\\.(?:,|\Z)")

# On a NUL-joined row: the cases where Python's csv.writer would not quote but Go does (besides "\r").
_GO_ONLY = re.compile(rf"\x00(?:[{_WS}]|\\\.(?=\x00|\Z))")
_GO_ONLY_START = re.compile(rf"[{_WS}]|\\\.(?:\x00|\Z)")


# On the text of a valid record: an unquoted field Go would quote (white space first, "\."), or a quoted field
# Go would not quote (nothing in it needs quotes). Quoted content can only add false alarms here.
_NOT_GO_FORM = re.compile(rf',(?:[{_WS}]|\\\.(?=,|\Z)|"(?![{_WS}]|\\\.")[^",\n\r]*"(?=,|\Z))')
_NOT_GO_FORM_START = re.compile(rf'(?:[{_WS}]|\\\.(?=,|\Z)|"(?![{_WS}]|\\\.")[^",\n\r]*"(?=,|\Z))')


def is_go_form(text: str) -> bool:
    """Whether the text of a valid CSV record (no line terminator) is exactly what Go's writer produces for
    the fields it holds, so it can be copied to an output instead of being parsed and encoded again."""
    return "\r" not in text and _NOT_GO_FORM.search(text) is None and _NOT_GO_FORM_START.match(text) is None


# Batches of ASCII records joined by "\n": Go's ASCII white space (and "\\", for "\\.") turned into spaces and
# record breaks into commas, so that one literal search finds every field starting with one of them (sre's
# literal search is about twice as fast as ``in`` on text full of spaces).
_ASCII_LEADING = str.maketrans({"\t": " ", "\x0b": " ", "\x0c": " ", "\\": " ", "\n": ","})
_COMMA_SPACE = re.compile(", ")
# A quoted field Go would not quote, found from its opening quote (quotes are rare, commas are not).
_NEEDLESS_QUOTES = re.compile(rf'"(?<![^,\n]")(?![{_WS}]|\\\.")[^",\n\r]*"(?![^,\n])')


def all_go_form(texts: Sequence[str]) -> bool:
    """Whether every text (valid one-line records, without terminators) is exactly Go's encoding of its fields;
    ``False`` may also mean "not sure" (then ask :func:`is_go_form` row by row)."""
    joined = "\n".join(texts)
    if "\r" in joined or not joined.isascii() or _NEEDLESS_QUOTES.search(joined) is not None:
        return False
    spaced = joined.translate(_ASCII_LEADING)
    return _COMMA_SPACE.search(spaced) is None and not spaced.startswith(" ")


def needs_quotes(field: str) -> bool:
    """Go's ``fieldNeedsQuotes``."""
    if field == "":
        return False
    if field == "\\." or _FIELD_SPECIAL.search(field) is not None:
        return True
    return field[0] in _WS_SET


def encode_field(field: str) -> str:
    """One field as Go writes it."""
    if needs_quotes(field):
        return '"' + field.replace('"', '""') + '"'
    return field


def encode_record(fields: Sequence[str]) -> str:
    """One record as Go writes it, without the line terminator."""
    line = ",".join(fields)
    if (
        '"' not in line
        and "\n" not in line
        and "\r" not in line
        and line.count(",") == len(fields) - 1
        and _ROW_LEADING.search(line) is None
        and _ROW_START.match(line) is None
    ):
        return line
    return ",".join([encode_field(field) for field in fields])


class _EncodedHeads(dict[tuple[str, ...], str]):
    """Encoded heads by value, filled on first use."""

    def __missing__(self, head: tuple[str, ...]) -> str:
        if len(self) >= 65536:  # a person's rows are consecutive: old heads are not needed again
            self.clear()
        encoded = self[head] = encode_record(head)
        return encoded


class ProjectionEncoder:
    """Encodes the fields at ``positions`` of rows whose first ``head`` projected fields repeat across rows
    (a person's identity on every row of that person in a DOJ file): encoded heads are remembered.

    Exact for any input, because Go encodes each field on its own: a record is its encoded head, a comma and
    its encoded tail. :meth:`encode_many` joins the tails of a whole batch in C when none needs quoting.
    """

    __slots__ = ("_head", "_heads", "_tail", "_tail_width")

    def __init__(self, positions: Sequence[int], head: int) -> None:
        if not 1 < head < len(positions):
            raise ValueError("head must hold at least two fields and leave at least one")
        self._head = itemgetter(*positions[:head])
        tail = positions[head:]
        self._tail = itemgetter(*tail) if len(tail) > 1 else lambda row: (row[tail[0]],)
        self._tail_width = len(tail)
        self._heads = _EncodedHeads()

    def __call__(self, row: Sequence[str]) -> str:
        return self._heads[self._head(row)] + "," + encode_record(self._tail(row))

    def encode_many(self, rows: Sequence[Sequence[str]]) -> list[str]:
        """The encodings of many rows, in order."""
        if not rows:
            return []
        tails = list(map(",".join, map(self._tail, rows)))
        joined = "\n".join(tails)
        if (
            '"' in joined
            or "\r" in joined
            or joined.count("\n") != len(tails) - 1
            or joined.count(",") != (self._tail_width - 1) * len(tails)
            or not joined.isascii()
        ):
            return [self(row) for row in rows]
        spaced = joined.translate(_ASCII_LEADING)
        if _COMMA_SPACE.search(spaced) is not None or spaced.startswith(" "):
            return [self(row) for row in rows]
        heads = map(self._heads.__getitem__, map(self._head, rows))
        return list(map(",".join, zip(heads, tails, strict=True)))


class _Sink:
    """File-like target whose ``write`` is ``list.append``: csv.writer output stays in memory until flush."""

    __slots__ = ("write",)

    def __init__(self, parts: list[str]) -> None:
        self.write = parts.append


class GoCsvWriter:
    """Buffered writer of Go-encoded records (each ended by ``\\n``) to a text stream (``newline=""``).

    Rows accumulate in memory and reach the stream in large writes; call :meth:`flush` (or use the writer as a
    context manager) before closing the stream.
    """

    __slots__ = ("_csv_row", "_flush_at", "_parts", "_stream")

    def __init__(self, stream: TextIO, *, flush_every: int = 8192) -> None:
        self._stream = stream
        self._parts: list[str] = []
        self._csv_row = csv.writer(_Sink(self._parts), lineterminator="\n").writerow
        self._flush_at = flush_every

    def writerow(self, fields: Sequence[str]) -> None:
        """Write one record of arbitrary fields."""
        joined = "\x00".join(fields)
        # An empty join is a lone empty field, which Python writes as "" and Go as an empty line.
        if (
            joined
            and "\r" not in joined
            and _GO_ONLY.search(joined) is None
            and _GO_ONLY_START.match(joined) is None
        ):
            self._csv_row(fields)
        else:
            self._parts.append(encode_record(fields) + "\n")
        if len(self._parts) >= self._flush_at:
            self.flush()

    def write_encoded(self, record: str) -> None:
        """Write a record that is already Go-encoded and ends with ``\\n``."""
        self._parts.append(record)
        if len(self._parts) >= self._flush_at:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            self._stream.write("".join(self._parts))
            self._parts.clear()

    def __enter__(self) -> GoCsvWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()
