"""Reading DOJ files like gogen: header detection, Go CSV rules, 95 fields, Go's error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.doj import reader
from streams.doj.columns import COLUMNS, NUM_COLUMNS, SUBJECT_ID
from streams.doj.reader import (
    ReadStats,
    iter_records,
    iter_row_texts,
    iter_rows,
    iter_text_chunks,
    parse_row_text,
)
from streams.errors import DojParseError, InputError
from streams.gocompat.gocsv import encode_record

HEADER = ",".join(COLUMNS) + "\n"


def row(subject: str = "1", *, offense: str = "11357 HS-POSSESS", comment: str = "", name: str = "DOE,J") -> list[str]:
    fields = [""] * NUM_COLUMNS
    fields[SUBJECT_ID] = subject
    fields[12] = name
    fields[54] = offense
    fields[93] = comment
    return fields


def line(fields: list[str]) -> str:
    return encode_record(fields) + "\n"


def write(tmp_path: Path, text: str, name: str = "doj.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return str(path)


def read(tmp_path: Path, text: str) -> list[list[str]]:
    return list(iter_rows(write(tmp_path, text)))


def parse_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(DojParseError) as caught:
        read(tmp_path, text)
    return str(caught.value)


# -- header ---------------------------------------------------------------------------------------------------


def test_header_is_dropped(tmp_path: Path) -> None:
    assert read(tmp_path, HEADER + line(row("7"))) == [row("7")]


def test_file_without_header_keeps_its_first_row(tmp_path: Path) -> None:
    assert read(tmp_path, line(row("7")) + line(row("8"))) == [row("7"), row("8")]


def test_malformed_header_is_tolerated(tmp_path: Path) -> None:
    """gogen drops the header line before CSV parsing (fixture extra_comma.csv: a header with a trailing
    comma); a header with 94 names or bad quotes is never parsed either."""
    for header in (HEADER[:-1] + ",\n", "RECORD_ID,SUBJECT_ID\n", 'RECORD_ID,"broken\n'):
        assert read(tmp_path, header + line(row("7"))) == [row("7")]


def test_header_with_crlf_and_short_files(tmp_path: Path) -> None:
    assert read(tmp_path, HEADER.replace("\n", "\r\n") + line(row("7"))) == [row("7")]
    assert read(tmp_path, "RECORD_ID") == []  # header only, no line end
    assert read(tmp_path, "") == []  # gogen: "EOF" (Peek(128)); here simply no rows
    assert read(tmp_path, "," * 94 + "\n") == [[""] * 95]  # 95 bytes: shorter than gogen's peek


def test_header_prefix_must_start_the_file(tmp_path: Path) -> None:
    """A byte-order mark (or anything else) before RECORD_ID makes the header a data row, as in gogen."""
    header = "\ufeff" + HEADER
    assert read(tmp_path, header + line(row())) == [["\ufeff" + COLUMNS[0], *COLUMNS[1:]], row()]


# -- field counts and line numbers ----------------------------------------------------------------------------


def test_wrong_field_count_counts_lines_after_the_header(tmp_path: Path) -> None:
    short = line(row()[:-1])  # 94 fields, like gogen's bad.csv
    assert parse_error(tmp_path, HEADER + short) == "record on line 1: wrong number of fields"
    assert parse_error(tmp_path, HEADER + line(row()) + line(row()) + short) == (
        "record on line 3: wrong number of fields"
    )
    assert parse_error(tmp_path, line(row()) + short) == "record on line 2: wrong number of fields"


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    multi_line = line(row(comment="first\nsecond"))
    too_long = line([*row(), "extra"])
    text = HEADER + line(row()) + "\n\n" + multi_line + too_long
    assert parse_error(tmp_path, text) == "record on line 6: wrong number of fields"


def test_error_found_in_a_later_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "CHUNK_BYTES", 64)
    text = HEADER + line(row()) * 50 + line(row()[:-1]) + line(row())
    assert parse_error(tmp_path, text) == "record on line 51: wrong number of fields"


def test_rows_before_an_error_are_yielded(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + line(row("1")) + "x\n")
    rows = iter_rows(path)
    assert next(rows) == row("1")
    with pytest.raises(DojParseError, match="record on line 2: wrong number of fields") as caught:
        next(rows)
    assert caught.value.line == 2


# -- quoting ----------------------------------------------------------------------------------------------------


def test_bare_quote_is_a_parse_error(tmp_path: Path) -> None:
    bad = ",".join(["x", 'ab"c', *[""] * 93]) + "\n"
    assert parse_error(tmp_path, HEADER + line(row()) + bad) == (
        'parse error on line 2, column 5: bare " in non-quoted-field'
    )


def test_quote_after_leading_space_is_a_bare_quote(tmp_path: Path) -> None:
    bad = ",".join(["x", ' "ab"', *[""] * 93]) + "\n"
    assert parse_error(tmp_path, bad) == 'parse error on line 1, column 4: bare " in non-quoted-field'


def test_text_after_closing_quote_is_a_parse_error(tmp_path: Path) -> None:
    bad = ",".join(["x", '"ab"c', *[""] * 93]) + "\n"
    assert parse_error(tmp_path, bad) == "parse error on line 1, column 6: extraneous or missing \" in quoted-field"


def test_unterminated_quote_reports_where_the_file_ends(tmp_path: Path) -> None:
    bad = "x,\"open\nmore\nend"
    assert parse_error(tmp_path, bad) == (
        "record on line 1; parse error on line 3, column 4: extraneous or missing \" in quoted-field"
    )


def test_columns_count_bytes_like_go(tmp_path: Path) -> None:
    bad = 'é,a"b\n'
    assert parse_error(tmp_path, bad) == 'parse error on line 1, column 5: bare " in non-quoted-field'


def test_quoted_fields_and_escapes(tmp_path: Path) -> None:
    fields = row(name='LAST, "FIRST"', comment="multi\nline, with comma")
    assert read(tmp_path, HEADER + line(fields)) == [fields]


# -- line ends ----------------------------------------------------------------------------------------------------


def test_crlf_line_ends_are_line_ends(tmp_path: Path) -> None:
    text = (HEADER + line(row("1")) + line(row("2"))).replace("\n", "\r\n")
    assert read(tmp_path, text) == [row("1"), row("2")]


def test_crlf_inside_quotes_becomes_lf(tmp_path: Path) -> None:
    text = encode_record(row(comment="a\nb")).replace("\n", "\r\n") + "\r\n"
    assert read(tmp_path, text) == [row(comment="a\nb")]


def test_lone_cr_is_data_and_final_cr_is_dropped(tmp_path: Path) -> None:
    inner = encode_record(row(offense="a\rb")) + "\n"
    assert read(tmp_path, inner) == [row(offense="a\rb")]
    assert read(tmp_path, encode_record(row()) + "\r") == [row()]


def test_undecodable_bytes_pass_through(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(encode_record(row(name="PE\xd1A,J")).encode("latin-1") + b"\n")
    (fields,) = iter_rows(str(path))
    assert fields[12].encode("utf-8", "surrogateescape") == b"PE\xd1A,J"


# -- files that cannot be read ---------------------------------------------------------------------------------


def test_missing_file_has_gos_message(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.csv")
    with pytest.raises(InputError) as caught:
        list(iter_rows(missing))
    assert str(caught.value) == f"open {missing}: no such file or directory"
    assert not isinstance(caught.value, DojParseError)


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        list(iter_rows(str(tmp_path)))


# -- records, stats and the second pass ---------------------------------------------------------------------


def test_iter_records_numbers_rows_from_zero(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + line(row("a")) + "\n" + line(row("b")))
    assert [(record.index, record.subject_id) for record in iter_records(path)] == [(0, "a"), (1, "b")]


@pytest.mark.parametrize(
    ("text", "one_line"),
    [
        (HEADER + line(row("1")) + line(row("2")), True),
        (line(row("1")) + line(row("2")).rstrip("\n"), True),
        (HEADER + line(row("1")) + "\n" + line(row("2")), False),
        (HEADER + line(row("1", comment="x\ny")) + line(row("2")), False),
        ((HEADER + line(row("1")) + line(row("2"))).replace("\n", "\r\n"), True),
        (HEADER + line(row("1", offense="a\rb")) + line(row("2")), False),
        ((HEADER + line(row("1"))).replace("\n", "\r\n") + line(row("2")) + "\r", False),
    ],
)
def test_second_pass_texts_parse_to_the_first_pass_rows(tmp_path: Path, text: str, one_line: bool) -> None:
    path = write(tmp_path, text)
    stats = ReadStats()
    rows = list(iter_rows(path, stats=stats))
    assert (stats.rows, stats.one_line_records) == (len(rows), one_line)
    texts = [t for chunk in iter_text_chunks(path, one_line_records=stats.one_line_records) for t in chunk]
    assert [parse_row_text(t) for t in texts] == rows


def test_chunks_never_split_a_quoted_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "CHUNK_BYTES", 16)
    rows = [row(str(i), comment="line\n" * (i % 3)) for i in range(40)]
    path = write(tmp_path, HEADER + "".join(line(r) for r in rows))
    stats = ReadStats()
    assert list(iter_rows(path, stats=stats)) == rows
    texts = [t for chunk in iter_text_chunks(path, one_line_records=False) for t in chunk]
    assert [parse_row_text(t) for t in texts] == rows


def test_giant_quoted_field_falls_back_to_line_by_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "CHUNK_BYTES", 16)
    monkeypatch.setattr(reader, "CHUNK_LIMIT", 32)
    rows = [row("1"), row("2", comment="x\n" * 100), row("3")]
    path = write(tmp_path, "".join(line(r) for r in rows))
    assert list(iter_rows(path)) == rows
    texts = [t for chunk in iter_text_chunks(path, one_line_records=False) for t in chunk]
    assert [parse_row_text(t) for t in texts] == rows


def test_progress_reports_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "CHUNK_BYTES", 256)
    text = HEADER + line(row()) * 20
    seen: list[int] = []
    list(iter_rows(write(tmp_path, text), seen.append))
    assert seen and seen == sorted(seen) and seen[-1] == len(text.encode())


def test_iter_row_texts_joins_continuation_lines() -> None:
    lines = iter(['a,"b\n', 'c",d\n', "\n", "e,f\n"])
    assert list(iter_row_texts(lines)) == ['a,"b\nc",d', "e,f"]
