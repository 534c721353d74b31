"""Where a DOJ file may be cut so that its parts can be classified at the same time (``classify --jobs``).

A cut is a byte offset at the start of a record whose SUBJECT_ID differs from the previous record's: the first
such offset at or after an even share of the file. DOJ extracts list a person's rows together, so each part then
holds whole people. Finding one costs a count of the quotes before the share's offset (a line start is outside
every quoted field when the count is even) and a read of the records around it; the rest of the file is not
parsed here.

Nothing here has to be right for the outputs to be: the parts are classified only if every part reads without
error and no SUBJECT_ID is in two parts (:mod:`streams.offline.parallel` checks both and otherwise classifies
the file in one process). A cut is then at a record boundary of the whole file and at a change of person, which
is all the concatenated outputs need to equal the one-process outputs.
"""

from __future__ import annotations

from itertools import pairwise
from typing import BinaryIO

from streams.doj import columns as C
from streams.doj.reader import ENCODING, ENCODING_ERRORS, parse_row_text
from streams.errors import DojParseError

BLOCK = 1 << 20
BLANK = (b"\n", b"\r\n")


def _quotes_between(handle: BinaryIO, start: int, end: int) -> int:
    handle.seek(start)
    count = 0
    while start < end:
        block = handle.read(min(BLOCK, end - start))
        if not block:
            break
        count += block.count(b'"')
        start += len(block)
    return count


def _subject_id(record: bytes) -> str | None:
    """The SUBJECT_ID of one record's bytes (``None`` when it has too few fields or does not parse)."""
    if b'"' not in record:
        fields = record.split(b",", C.SUBJECT_ID + 1)
        if len(fields) <= C.SUBJECT_ID:
            return None
        return fields[C.SUBJECT_ID].decode(ENCODING, ENCODING_ERRORS)
    text = record.decode(ENCODING, ENCODING_ERRORS).replace("\r\n", "\n").removesuffix("\n")
    try:
        values = parse_row_text(text)
    except DojParseError:  # a malformed record: the classification reports it
        return None
    return values[C.SUBJECT_ID] if len(values) > C.SUBJECT_ID else None


class _Records:
    """Records read from a line start outside quoted fields, with the offset each begins at."""

    def __init__(self, handle: BinaryIO, position: int) -> None:
        self._handle, self.position = handle, position

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


def _record_before(handle: BinaryIO, target: int, quotes: int) -> tuple[int, int] | None:
    """The start of the last record that begins before ``target`` (blank lines passed over) and the quote count
    before it; ``None`` when it is the file's first line (the header) or not within :data:`BLOCK` bytes."""
    low = max(0, target - BLOCK)
    handle.seek(low)
    window = handle.read(target - low)
    index = len(window) - 1  # the line holding the byte before the target
    while index >= 0:
        newline = window.rfind(b"\n", 0, index)
        if newline < 0:
            return None
        start = newline + 1
        before = quotes - window.count(b'"', start)
        if not before & 1:  # a line start outside quoted fields: a record or a blank line
            handle.seek(low + start)
            if handle.readline() not in BLANK:
                return low + start, before
        index = newline
    return None


def _cut_after(handle: BinaryIO, position: int, quotes: int) -> int | None:
    """The first change of person at or after offset ``position`` (``quotes``: the quote count before it)."""
    found = _record_before(handle, position, quotes)
    if found is not None:  # from the record the target falls in, so that a change right at it is found
        position, quotes = found
    handle.seek(position)
    if position > 0:
        handle.seek(position - 1)
        if handle.read(1) != b"\n":  # inside a line: go to the next line start
            rest = handle.readline()
            position += len(rest)
            quotes += rest.count(b'"')
    while quotes & 1:  # inside a quoted field that spans lines
        line = handle.readline()
        if not line:
            return None
        position += len(line)
        quotes += line.count(b'"')
    records = _Records(handle, position)
    first = records.next()
    if first is None:
        return None
    person = _subject_id(first[1])
    if person is None:
        return None
    while (record := records.next()) is not None:
        start, text = record
        other = _subject_id(text)
        if other is None:
            return None
        if other != person:
            return start
    return None


def find_cuts(path: str, size: int, parts: int) -> list[int]:
    """Offsets (ascending, each in ``(0, size)``) that cut the file into at most ``parts`` parts of whole
    people; fewer when a person's rows span a share's end (no cut at all for one person's file)."""
    cuts: list[int] = []
    quotes = 0
    counted = 0  # quotes are counted in [0, counted)
    with open(path, "rb") as handle:
        for share in range(1, parts):
            target = max(size * share // parts, cuts[-1] + 1 if cuts else 1)
            if target >= size:
                break
            quotes += _quotes_between(handle, counted, target)
            counted = target
            cut = _cut_after(handle, target, quotes)
            if cut is None:
                break
            if not cuts or cut > cuts[-1]:
                cuts.append(cut)
    return cuts


def spans(size: int, cuts: list[int]) -> list[tuple[int, int]]:
    """The byte ranges ``[start, end)`` between the cuts."""
    edges = [0, *cuts, size]
    return list(pairwise(edges))
