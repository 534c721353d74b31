"""Stream a DOJ research file exactly as gogen reads it (spec §3): Go ``encoding/csv``, 95 fields a row.

gogen peeks at the file, drops the first line if it starts with ``RECORD_ID`` and hands the rest to a Go
``csv.Reader`` with ``FieldsPerRecord = 95`` (G:data/doj_information.go). What that means here:

* Lines end at ``\\n`` only; a ``\\r\\n`` ending counts as ``\\n`` (also inside quoted fields), a final
  ``\\r`` before the end of the file is dropped, any other ``\\r`` is data. Blank lines between records are
  skipped.
* RFC 4180 quoting without Go's ``LazyQuotes``: a quote inside an unquoted field ("bare quote") or text after
  a closing quote is a PARSING error, as is a quoted field still open at the end of the file.
* A row with another number of fields stops the file with ``record on line N: wrong number of fields``. Line
  numbers are physical lines (skipped blank lines and quoted line breaks count) after the discarded header,
  like Go's.
* Other parse errors use Go's messages, e.g. ``parse error on line 3, column 7: bare " in non-quoted-field``,
  with the 1-based byte column of Go 1.17 and later.
* Bytes that are not UTF-8 pass through unchanged (``surrogateescape``), as Go treats fields as bytes; a
  byte-order mark is not special (gogen would not see a header behind one either).

Two gogen accidents are deliberately not reproduced: ``Peek(128)`` made every file shorter than 128 bytes
fail with ``EOF`` (here a short or empty file is read normally; no rows is a valid answer), and
``bufio.ReadLine`` discarded only the first 4096 bytes of a longer header line (here the whole line goes).

Plain rows (no quotes, no ``\\r``) are split with ``str.split``; quoted single-line rows go through Python's
C csv parser, whose result equals Go's whenever no field ends up containing a quote (the only case in which
Python accepts what Go rejects); everything else goes to :func:`_parse_go_record`, a transcription of Go's
algorithm that is slow but exact. Nothing is kept between rows, so memory does not grow with the file.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain, compress, repeat
from operator import contains
from typing import Any, TextIO

from streams.doj.columns import NUM_COLUMNS
from streams.doj.record import Record, derive
from streams.errors import DojParseError, InputError

HEADER_PREFIX = "RECORD_ID"
ENCODING = "utf-8"
ENCODING_ERRORS = "surrogateescape"

ERR_FIELD_COUNT = "wrong number of fields"
ERR_BARE_QUOTE = 'bare " in non-quoted-field'
ERR_QUOTE = 'extraneous or missing " in quoted-field'

# Lines are parsed in chunks of about this many characters; a chunk stops growing past CHUNK_LIMIT while it
# waits for a quoted field to close.
CHUNK_BYTES = 1 << 16
CHUNK_LIMIT = 64 << 20

csv.field_size_limit(sys.maxsize)  # Go has no field size limit

ProgressCallback = Callable[[int], None]


def go_open_error(path: str, exc: OSError) -> str:
    """Go's ``os.Open`` error text, e.g. ``open x.csv: no such file or directory``."""
    reason = exc.strerror or str(exc)
    return f"open {path}: {reason[:1].lower()}{reason[1:]}"


def open_doj(path: str) -> TextIO:
    """Open a DOJ file for reading; failing is an :class:`InputError` with Go's message (gogen's OTHER)."""
    try:
        handle = open(path, encoding=ENCODING, errors=ENCODING_ERRORS, newline="\n")  # noqa: SIM115
    except IsADirectoryError as exc:  # Go's os.Open opens a directory; gogen's first read of it fails
        raise InputError(f"read {path}: is a directory") from exc
    except OSError as exc:
        raise InputError(go_open_error(path, exc)) from exc
    if os.path.isdir(path):
        handle.close()
        raise InputError(f"read {path}: is a directory")
    return handle


def _normalize(line: str) -> str:
    """Go's ``readLine``: ``\\r\\n`` → ``\\n``; a ``\\r`` ending the file (no ``\\n`` after it) is dropped."""
    if line.endswith("\r\n"):
        return line[:-2] + "\n"
    if line.endswith("\r"):
        return line[:-1]
    return line


def _byte_len(text: str) -> int:
    return len(text.encode(ENCODING, ENCODING_ERRORS))


def _parse_error(start: int, line: int, column: int, message: str) -> DojParseError:
    """Go's ``ParseError.Error()`` text."""
    if start != line:
        text = f"record on line {start}; parse error on line {line}, column {column}: {message}"
    else:
        text = f"parse error on line {line}, column {column}: {message}"
    return DojParseError(text, start)


class FieldCountError(DojParseError):
    """A row with another number of fields than 95. The message is Go's (``gogen.err`` keeps it);
    :meth:`guidance` adds the counts and the line an editor shows (the header line is not counted by Go)."""

    def __init__(self, line: int, got: int | None) -> None:
        super().__init__(f"record on line {line}: {ERR_FIELD_COUNT}", line)
        self.got = got
        self.header_lines = 0

    def guidance(self) -> str:
        got = "" if self.got is None else f", got {self.got}"
        return (
            f"{self}: expected {NUM_COLUMNS} fields{got}, on data line {self.line} "
            f"(file line {(self.line or 0) + self.header_lines})"
        )


def field_count_error(line: int, got: int | None = None) -> DojParseError:
    return FieldCountError(line, got)


def _parse_go_record(first: str, more: Iterator[str], line_no: int) -> tuple[list[str], int]:
    """Parse one record like Go's ``csv.Reader.readRecord`` (comma ``,``, strict quotes).

    ``first`` is the record's first (normalised, non-empty) line, ``line_no`` its physical line number;
    continuation lines come from ``more``. Returns the fields and the physical number of the record's last
    line. Raises :class:`DojParseError` with Go's text.
    """
    start = line_no
    pos_line = line_no
    line = first
    fields: list[str] = []
    col = 1  # 1-based byte column of the current position, like Go's ``pos.col``
    while True:
        if not line.startswith('"'):
            comma = line.find(",")
            field = line[:comma] if comma >= 0 else (line[:-1] if line.endswith("\n") else line)
            bare = field.find('"')
            if bare >= 0:
                raise _parse_error(start, line_no, col + _byte_len(field[:bare]), ERR_BARE_QUOTE)
            fields.append(field)
            if comma < 0:
                break
            col += _byte_len(line[:comma]) + 1
            line = line[comma + 1 :]
            continue
        parts: list[str] = []
        line = line[1:]
        col += 1
        closed = False
        while True:
            quote = line.find('"')
            if quote >= 0:
                parts.append(line[:quote])
                col += _byte_len(line[:quote]) + 1
                line = line[quote + 1 :]
                if line.startswith('"'):
                    parts.append('"')
                    line = line[1:]
                    col += 1
                elif line.startswith(","):
                    line = line[1:]
                    col += 1
                    fields.append("".join(parts))
                    break
                elif line in ("", "\n"):
                    fields.append("".join(parts))
                    closed = True
                    break
                else:
                    raise _parse_error(start, line_no, col - 1, ERR_QUOTE)
            elif line:
                parts.append(line)
                col += _byte_len(line)
                following = next(more, None)
                line_no += 1
                line = "" if following is None else _normalize(following)
                if line:
                    pos_line = line_no
                    col = 1
            else:
                raise _parse_error(start, pos_line, col, ERR_QUOTE)
        if closed:
            break
    return fields, line_no


class _Feed:
    """Hands exactly one line to a persistent ``csv.reader``, then reports the end of input.

    A malformed line can make Python's parser ask for a continuation; ending the input then makes it fail
    instead of reading the next row, and the row goes to the exact parser.
    """

    __slots__ = ("line",)

    def __init__(self) -> None:
        self.line: str | None = None

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        line = self.line
        if line is None:
            raise StopIteration
        self.line = None
        return line


def _skip_header(handle: TextIO, stats: ReadStats | None = None) -> str | None:
    """Read the first line; return it unless it is a header (which is dropped, with its line terminator)."""
    first = handle.readline()
    if first == "" or first.startswith(HEADER_PREFIX):
        if stats is not None and first:
            stats.header = True
        return None
    return first


@dataclass(slots=True)
class ReadStats:
    """Filled in by :func:`iter_rows` as it reads. ``one_line_records``: every physical line after the header
    held exactly one whole record (no blank line, no quoted line break, no ``\\r`` but in ``\\r\\n``), which
    lets a second pass split the file on line ends alone."""

    rows: int = 0
    one_line_records: bool = True
    header: bool = False  # the first line was a header (file line numbers are one more than Go's)


def iter_rows(
    path: str, progress: ProgressCallback | None = None, stats: ReadStats | None = None
) -> Iterator[list[str]]:
    """Fields of every data row, in file order; raises :class:`DojParseError` at the first malformed row.

    ``progress`` (optional) is called now and then with the number of bytes read so far; ``stats`` (optional)
    is updated as rows are read.
    """
    for rows in iter_row_chunks(path, progress, stats):
        yield from rows


def iter_row_chunks(
    path: str, progress: ProgressCallback | None = None, stats: ReadStats | None = None
) -> Iterator[list[list[str]]]:
    """The rows of :func:`iter_rows` in lists (a few thousand at a time; a single row where a chunk had to be
    read line by line), for callers that work on many rows per step."""
    with open_doj(path) as handle:
        yield from _row_chunks(handle, progress, stats=stats)


def iter_rows_and_texts(
    path: str,
    progress: ProgressCallback | None = None,
    stats: ReadStats | None = None,
    *,
    span: tuple[int, int] | None = None,
) -> Iterator[tuple[list[list[str]], list[str] | None]]:
    """The chunks of :func:`iter_row_chunks`, each with the text of every row (no terminator, ``\\r\\n`` read
    as ``\\n``) when the chunk held exactly one physical line per row, else ``None``; lets a single pass copy
    rows it need not encode again.

    ``span``: read only the bytes ``[start, end)``, which must begin and end at record boundaries (how a file is
    classified in parts, :mod:`streams.offline.parallel`); the header is looked for only at offset 0, and line
    numbers in errors count from ``start``. ``progress`` still reports offsets in the whole file.
    """
    handle = open_doj(path) if span is None else open_span(path, *span)
    header = span is None or span[0] == 0
    with handle:
        yield from _row_chunks_and_texts(handle, progress, NUM_COLUMNS, stats, texts=True, header=header)


class _Span(io.RawIOBase):
    """The bytes ``[start, end)`` of a file as a raw stream (``tell`` is the offset in the whole file)."""

    def __init__(self, fd: int, start: int, end: int) -> None:
        super().__init__()
        self._fd, self._position, self._end = fd, start, end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self._end - self._position)
        if count <= 0:
            return 0
        data = os.pread(self._fd, count, self._position)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def open_span(path: str, start: int, end: int) -> TextIO:
    """The bytes ``[start, end)`` of a DOJ file, opened for reading as :func:`open_doj` opens the whole file."""
    open_doj(path).close()  # the same errors, with Go's messages
    raw = _Span(os.open(path, os.O_RDONLY), start, end)
    return io.TextIOWrapper(io.BufferedReader(raw, CHUNK_BYTES), encoding=ENCODING, errors=ENCODING_ERRORS,
                            newline="\n")


def _chunks(
    handle: TextIO, stats: ReadStats | None = None, *, header: bool = True
) -> Iterator[tuple[list[str], str, bool]]:
    """Lines after the header in chunks of about :data:`CHUNK_BYTES` (with their joined text), each chunk
    ending outside quoted fields.

    A chunk is extended while its quote count is odd, so no record of a valid file straddles two chunks. The
    flag is false when a chunk had to stop growing at :data:`CHUNK_LIMIT` (a malformed quote, or one field
    of many megabytes); the caller then reads the rest of the file line by line.
    """
    first = _skip_header(handle, stats) if header else None
    pending = [first] if first is not None else []
    while True:
        lines = pending + handle.readlines(CHUNK_BYTES)
        pending = []
        if not lines:
            return
        text = "".join(lines)
        quotes = text.count('"')
        if quotes & 1:
            extra: list[str] = []
            size = 0
            while quotes & 1 and size < CHUNK_LIMIT:
                more = handle.readline()
                if not more:
                    break
                extra.append(more)
                quotes += more.count('"')
                size += len(more)
            lines += extra
            text += "".join(extra)
            if quotes & 1 and size >= CHUNK_LIMIT:
                yield lines, text, False
                return
        yield lines, text, True


def _rows(handle: TextIO, progress: ProgressCallback | None, width: int = NUM_COLUMNS) -> Iterator[list[str]]:
    """Rows of an open file (tests read strings through this)."""
    for rows in _row_chunks(handle, progress, width):
        yield from rows


def _row_chunks(
    handle: TextIO,
    progress: ProgressCallback | None,
    width: int = NUM_COLUMNS,
    stats: ReadStats | None = None,
) -> Iterator[list[list[str]]]:
    for rows, _ in _row_chunks_and_texts(handle, progress, width, stats, texts=False):
        yield rows


def _row_chunks_and_texts(
    handle: TextIO,
    progress: ProgressCallback | None,
    width: int,
    stats: ReadStats | None,
    *,
    texts: bool,
    header: bool = True,
) -> Iterator[tuple[list[list[str]], list[str] | None]]:
    """Chunks are parsed by the C csv module and checked as a whole: no ``\\r``, no field holding a quote
    (Python keeps a bare quote, Go rejects it), every row ``width`` wide. A chunk that fails any check is
    read again line by line with Go's rules, which yields its good rows and raises Go's error."""
    stats = ReadStats() if stats is None else stats
    try:
        yield from _parsed_chunks(handle, progress, width, stats, texts=texts, header=header)
    except FieldCountError as exc:
        exc.header_lines = 1 if stats.header else 0
        raise


def _parsed_chunks(
    handle: TextIO,
    progress: ProgressCallback | None,
    width: int,
    stats: ReadStats,
    *,
    texts: bool,
    header: bool = True,
) -> Iterator[tuple[list[list[str]], list[str] | None]]:
    line_no = 0
    position = handle.buffer.tell if progress is not None else None
    for lines, text, balanced in _chunks(handle, stats, header=header):
        if not balanced:
            stats.one_line_records = False
            for row in _line_rows(chain(lines, handle), line_no, width):
                stats.rows += 1
                yield [row], None
            return
        rows: list[list[str]] | None = None
        if "\r" in text and text.count("\r") == text.count("\r\n"):
            # every \r ends a line (a Windows file): Go's readLine turns each \r\n into \n, quoted or not
            lines = [line[:-2] + "\n" if line.endswith("\r\n") else line for line in lines]
            text = text.replace("\r\n", "\n")
        if "\r" not in text:
            try:
                rows = list(csv.reader(lines, strict=True))
            except csv.Error:
                rows = None
            if rows is not None:
                if not all(rows):
                    rows = [row for row in rows if row]  # blank lines
                if set(map(len, rows)) - {width} or ('"' in text and _field_holds_quote(lines, rows)):
                    rows = None
        if rows is None or len(rows) != len(lines):
            stats.one_line_records = False
        if rows is None:
            for row in _line_rows(iter(lines), line_no, width):
                stats.rows += 1
                yield [row], None
        else:
            stats.rows += len(rows)
            row_texts: list[str] | None = None
            if texts and len(rows) == len(lines):  # one line per row: rows are the chunk's lines
                row_texts = text.split("\n")
                if row_texts[-1] == "":
                    row_texts.pop()
                if len(row_texts) != len(rows):
                    row_texts = None
            yield rows, row_texts
        line_no += len(lines)
        if position is not None:
            progress(position())  # type: ignore[misc]


def _field_holds_quote(lines: list[str], rows: list[list[str]]) -> bool:
    """Whether a parsed field holds a quote; only rows of lines with a quote are looked at (when each line was a
    row: blank lines or quoted line breaks misalign them, and then every row is)."""
    if len(lines) == len(rows):
        rows = list(compress(rows, map(contains, lines, repeat('"'))))
    return '"' in "".join(map("".join, rows))


def _line_rows(lines: Iterator[str], line_no: int, width: int) -> Iterator[list[str]]:
    """Rows read one line at a time with Go's rules; ``line_no`` is the number of lines before ``lines``."""
    feed = _Feed()
    parse = csv.reader(feed, strict=True).__next__
    for line in lines:
        line_no += 1
        if "\r" in line:
            line = _normalize(line)
        if line == "\n" or line == "":
            continue
        if '"' not in line and "\r" not in line:
            fields = (line[:-1] if line[-1] == "\n" else line).split(",")
        else:
            fields = None
            if "\r" not in line and not line.count('"') & 1:
                feed.line = line
                try:
                    fields = parse()
                except csv.Error:
                    fields = None
                if fields is not None and '"' in "".join(fields):
                    fields = None
            if fields is None:
                start = line_no
                fields, line_no = _parse_go_record(line, lines, line_no)
                if len(fields) != width:
                    raise field_count_error(start, len(fields))
        if fields is None or len(fields) != width:
            raise field_count_error(line_no, None if fields is None else len(fields))
        yield fields


def iter_records(path: str, progress: ProgressCallback | None = None) -> Iterator[Record]:
    """Derived :class:`Record` of every data row (``index`` = position among data rows)."""
    for index, fields in enumerate(iter_rows(path, progress)):
        yield derive(fields, index)


def iter_row_texts(lines: Iterator[str], *, normalize: bool = True) -> Iterator[str]:
    """The text of every record of already-validated CSV lines (header handled by the caller), no terminator.

    Records are delimited with Go's rules for valid input: blank lines between records are skipped and a line
    ending inside a quoted field (an odd number of quotes so far) continues on the next line. ``normalize``
    applies Go's ``\\r\\n`` handling (wanted for input files, not for files this project wrote itself).
    """
    for line in lines:
        if normalize and "\r" in line:
            line = _normalize(line)
        if line == "\n" or line == "":
            continue
        if '"' in line and line.count('"') & 1:
            parts = [line]
            quotes = line.count('"')
            while quotes & 1:
                following = next(lines, None)
                if following is None:
                    break
                if normalize and "\r" in following:
                    following = _normalize(following)
                parts.append(following)
                quotes += following.count('"')
            line = "".join(parts)
        yield line[:-1] if line[-1] == "\n" else line


def iter_text_chunks(
    path: str, *, one_line_records: bool, progress: ProgressCallback | None = None
) -> Iterator[list[str]]:
    """Texts (no terminator) of the data rows of a file :func:`iter_rows` accepted, a list per chunk.

    With ``one_line_records`` (from :class:`ReadStats`) each chunk is split on ``\\n``; otherwise records are
    delimited as in :func:`iter_row_texts`.
    """
    with open_doj(path) as handle:
        position = handle.buffer.tell if progress is not None else None
        for lines, text, balanced in _chunks(handle):
            if not balanced:  # a quoted field of many megabytes: one record at a time from here on
                for record in iter_row_texts(chain(lines, handle)):
                    yield [record]
                return
            if one_line_records:
                text = text.replace("\r\n", "\n")  # one-line records hold no other \r (see ReadStats)
                texts = text.split("\n")
                if texts[-1] == "":
                    texts.pop()
            else:
                texts = list(iter_row_texts(iter(lines)))
            yield texts
            if position is not None:
                progress(position())  # type: ignore[misc]


def parse_row_text(text: str) -> list[str]:
    """Fields of one record text produced by :func:`iter_row_texts` (exact Go semantics)."""
    return _parse_go_record(text + "\n", iter(()), 1)[0]
