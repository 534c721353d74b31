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

from streams.rules.gotext import GO_WHITE_SPACE

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


class ProjectionEncoder:
    """Encodes the fields at ``positions`` of each row, for rows whose first ``head`` projected fields usually
    repeat from one row to the next (a person's identity on consecutive rows of a DOJ file): the previous
    row's encoded head is reused.

    Exact for any input, because Go encodes each field on its own: a record is its encoded head, a comma and
    its encoded tail.
    """

    __slots__ = ("_encoded", "_head", "_last", "_tail", "_tail_width")

    def __init__(self, positions: Sequence[int], head: int) -> None:
        if not 0 < head < len(positions):
            raise ValueError("head must leave at least one field on each side")
        self._head = itemgetter(*positions[:head])
        tail = positions[head:]
        self._tail = itemgetter(*tail) if len(tail) > 1 else lambda row: (row[tail[0]],)
        self._tail_width = len(tail)
        self._last: object = None
        self._encoded = ""

    def __call__(self, row: Sequence[str]) -> str:
        head = self._head(row)
        if head != self._last:
            self._last = head
            self._encoded = encode_record(head if isinstance(head, tuple) else (head,))
        tail = self._tail(row)
        line = ",".join(tail)
        if (
            '"' not in line
            and "\n" not in line
            and "\r" not in line
            and line.count(",") == self._tail_width - 1
            and _ROW_LEADING.search(line) is None
            and _ROW_START.match(line) is None
        ):
            return self._encoded + "," + line
        return self._encoded + "," + encode_record(tail)


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
