"""Where a DOJ file may be cut so that its parts can be classified at the same time (``classify --jobs``).

A cut is a byte offset at the start of a record whose SUBJECT_ID differs from the previous record's: the first
such offset at or after an even share of the file. DOJ extracts list a person's rows together, so each part then
holds whole people. Only the records around a share's offset are read: the record the offset falls in is the last
line start before it whose text (with the lines a quoted field carries on over) reads as one whole record of 95
fields; the records after it are read until the SUBJECT_ID changes, at most up to the next share's offset.

Nothing here has to be right for the outputs to be: the parts are classified only if every part reads without
error and no SUBJECT_ID is in two parts (:mod:`streams.offline.parallel` checks both and otherwise classifies
the file in one process). A cut inside a quoted field makes the part before it end inside that field, which
is an error; so a cut of parts that read well is at a record boundary of the whole file and at a change of
person, which is all the concatenated outputs need to equal the one-process outputs.
"""

from __future__ import annotations

from itertools import pairwise
from typing import BinaryIO

from streams.doj import columns as C
from streams.doj.reader import ENCODING, ENCODING_ERRORS, parse_row_text
from streams.errors import DojParseError

BLOCK = 1 << 20  # how far back from a share's offset a record start is looked for
BLANK = (b"\n", b"\r\n")
LEADING = C.SUBJECT_ID + 1  # the fields up to SUBJECT_ID


def _fields(record: bytes) -> list[str] | None:
    """The fields of one record's bytes, ``None`` unless it reads as exactly one record of 95 fields."""
    if b'"' not in record and b"\r" not in record.removesuffix(b"\r\n"):
        plain = record.removesuffix(b"\n").removesuffix(b"\r").split(b",")
        if len(plain) != C.NUM_COLUMNS:
            return None
        return [value.decode(ENCODING, ENCODING_ERRORS) for value in plain]
    text = record.decode(ENCODING, ENCODING_ERRORS).replace("\r\n", "\n").removesuffix("\n")
    try:
        values = parse_row_text(text)
    except DojParseError:
        return None
    return values if len(values) == C.NUM_COLUMNS else None


def _subject_id(record: bytes) -> str | None:
    """The SUBJECT_ID of one record (read cheaply when no quote comes before it), ``None`` if it is no record."""
    leading = record.split(b",", LEADING)
    if len(leading) > LEADING and b'"' not in b"".join(leading[:LEADING]) and b"\r" not in leading[C.SUBJECT_ID]:
        return leading[C.SUBJECT_ID].decode(ENCODING, ENCODING_ERRORS)
    values = _fields(record)
    return None if values is None else values[C.SUBJECT_ID]


def _record_at(handle: BinaryIO, position: int) -> bytes:
    """The bytes of the record that starts at ``position``: its line and those its open quotes carry on to."""
    handle.seek(position)
    line = handle.readline()
    parts = [line]
    quotes = line.count(b'"')
    while quotes & 1:
        more = handle.readline()
        if not more:
            break
        quotes += more.count(b'"')
        parts.append(more)
    return b"".join(parts)


def _record_before(handle: BinaryIO, target: int) -> int | None:
    """The start of the last record that begins before ``target`` (blank lines passed over); ``None`` when none
    is found within :data:`BLOCK` bytes or it would be the file's first line (the header)."""
    low = max(0, target - BLOCK)
    handle.seek(low)
    window = handle.read(target - low)
    index = len(window) - 1  # the line holding the byte before the target
    while index >= 0:
        newline = window.rfind(b"\n", 0, index)
        if newline < 0:
            return None
        start = low + newline + 1
        record = _record_at(handle, start)
        if record not in BLANK and _fields(record) is not None:
            return start
        index = newline
    return None


class _Records:
    """Records read one after another from a record start, with the offset each begins at."""

    def __init__(self, handle: BinaryIO, position: int) -> None:
        self._handle, self.position = handle, position
        handle.seek(position)

    def next(self) -> tuple[int, bytes] | None:
        """The next record (blank lines skipped) and its offset, or ``None`` at the end of the file."""
        handle = self._handle
        while True:
            start = self.position
            line = handle.readline()
            if not line:
                return None
            self.position += len(line)
            if line not in BLANK:
                break
        quotes = line.count(b'"')
        parts = [line]
        while quotes & 1:  # a quoted field goes on over the next line
            more = handle.readline()
            if not more:
                break
            self.position += len(more)
            quotes += more.count(b'"')
            parts.append(more)
        return start, b"".join(parts)


def _cut_after(handle: BinaryIO, target: int, limit: int) -> int | None:
    """The first change of person at or after offset ``target``, looked for up to offset ``limit``."""
    start = _record_before(handle, target)
    if start is None:
        return None
    records = _Records(handle, start)
    first = records.next()
    person = None if first is None else _subject_id(first[1])
    if person is None:
        return None
    while (record := records.next()) is not None and record[0] < limit:
        offset, text = record
        other = _subject_id(text)
        if other is None:
            return None
        if other != person:
            return offset
    return None


def find_cuts(path: str, size: int, parts: int) -> list[int]:
    """Offsets (ascending, each in ``(0, size)``) that cut the file into at most ``parts`` parts of whole
    people; fewer when a person's rows span a whole share (no cut at all for one person's file)."""
    cuts: list[int] = []
    with open(path, "rb") as handle:
        for share in range(1, parts):
            target = max(size * share // parts, cuts[-1] + 1 if cuts else 1)
            if target >= size:
                break
            cut = _cut_after(handle, target, max(size * (share + 1) // parts, target + 1))
            if cut is not None:
                cuts.append(cut)
    return cuts


def spans(size: int, cuts: list[int]) -> list[tuple[int, int]]:
    """The byte ranges ``[start, end)`` between the cuts."""
    return list(pairwise([0, *cuts, size]))
