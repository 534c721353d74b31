"""Go ``encoding/csv`` Writer compatibility: quoting rules, the two encoding paths, record-text reuse."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.doj.reader import parse_row_text
from streams.gocompat.gocsv import (
    GoCsvWriter,
    ProjectionEncoder,
    all_go_form,
    encode_field,
    encode_record,
    is_go_form,
    needs_quotes,
)

# Characters that exercise every rule: separators, quotes, line breaks, Go and non-Go white space, "\.".
ALPHABET = st.sampled_from(list('ab,"\r\n \t\\.é\x1c\x85\u00a0\u3000\u2028\x00'))
FIELDS = st.lists(st.text(ALPHABET, max_size=5), min_size=1, max_size=6)


@pytest.mark.parametrize(
    ("field", "quoted"),
    [
        ("", False),
        ("plain", False),
        ("trailing space ", False),
        ("a,b", True),
        ('say "hi"', True),
        ("line\nbreak", True),
        ("carriage\rreturn", True),
        (" leading space", True),
        ("\tleading tab", True),
        ("\u00a0no-break space", True),  # unicode.IsSpace
        ("\u3000ideographic space", True),
        ("\x85next line", True),
        ("\x1cfile separator", False),  # str.isspace() says yes, Go says no
        ("\\.", True),
        ("\\.x", False),
        ("x\\.", False),
    ],
)
def test_needs_quotes_follows_go(field: str, quoted: bool) -> None:
    assert needs_quotes(field) is quoted


def test_quoted_field_doubles_quotes_and_keeps_line_breaks() -> None:
    assert encode_field('a"b\r\nc') == '"a""b\r\nc"'


def test_encode_record_examples() -> None:
    assert encode_record(["a", "", "b c"]) == "a,,b c"
    assert encode_record(["SKYWALKER,LUKE S", "   ", "x"]) == '"SKYWALKER,LUKE S","   ",x'
    assert encode_record(["\\.", "y"]) == '"\\.",y'
    assert encode_record([""]) == ""
    assert encode_record(["x", " y"]) == 'x," y"'


def test_writer_matches_go_for_a_lone_empty_field() -> None:
    """Python's csv.writer writes ``""`` for a record of one empty field; Go writes an empty line."""
    out = io.StringIO()
    with GoCsvWriter(out) as writer:
        writer.writerow([""])
        writer.writerow(["", ""])
    assert out.getvalue() == "\n,\n"


def test_writer_uses_go_quoting_where_python_would_not() -> None:
    out = io.StringIO()
    with GoCsvWriter(out) as writer:
        writer.writerow([" lead", "x"])
        writer.writerow(["a\rb", "x"])
        writer.writerow(["\\.", "x"])
        writer.writerow(["a,b", 'c"d'])
    assert out.getvalue() == '" lead",x\n"a\rb",x\n"\\.",x\n"a,b","c""d"\n'


def test_writer_flushes_in_batches() -> None:
    out = io.StringIO()
    writer = GoCsvWriter(out, flush_every=2)
    writer.writerow(["1"])
    assert out.getvalue() == ""
    writer.writerow(["2"])
    assert out.getvalue() == "1\n2\n"
    writer.write_encoded("3\n")
    writer.flush()
    assert out.getvalue() == "1\n2\n3\n"


@given(FIELDS)
def test_writer_and_encode_record_agree(fields: list[str]) -> None:
    out = io.StringIO()
    with GoCsvWriter(out) as writer:
        writer.writerow(fields)
    assert out.getvalue() == encode_record(fields) + "\n"


@given(FIELDS)
def test_encoded_record_parses_back(fields: list[str]) -> None:
    text = encode_record(fields)
    if text == "":  # one empty field is an empty line, which readers skip (Go does too)
        assert fields == [""]
        return
    assert parse_row_text(text) == fields


@given(FIELDS)
def test_encoded_records_without_inner_commas_are_recognised(fields: list[str]) -> None:
    """The check may raise false alarms only for commas inside quoted fields (and never accepts "\r")."""
    text = encode_record(fields)
    if text and "\r" not in text and not any("," in field for field in fields):
        assert is_go_form(text)


@given(FIELDS, st.data())
def test_go_form_claim_is_never_wrong(fields: list[str], data: st.DataObject) -> None:
    """Quote any fields, even ones Go leaves bare: a text claimed to be in Go form must re-encode to itself."""
    parts = [
        '"' + field.replace('"', '""') + '"' if needs_quotes(field) or data.draw(st.booleans()) else field
        for field in fields
    ]
    text = ",".join(parts)
    if any("\n" in field for field in fields) or text == "":
        return
    assert parse_row_text(text) == fields
    if is_go_form(text):
        assert encode_record(fields) == text


@pytest.mark.parametrize(
    ("text", "go_form"),
    [
        ('x,"a,b",y', True),
        ('x,"   ",y', True),
        ('x,"abc",y', False),  # Go would not quote abc
        ('"abc",y', False),
        ('x,""', False),
        ("x, lead", False),  # Go would quote " lead"
        (" lead,x", False),
        ("x,\\.", False),
        ('x,"\\."', True),
        ("x,\\.y", True),
        ('x,"a\nb"', True),
        ("x,a\rb", False),
    ],
)
def test_is_go_form_examples(text: str, go_form: bool) -> None:
    assert is_go_form(text) is go_form


@given(st.lists(st.lists(st.text(ALPHABET, max_size=4), min_size=6, max_size=6), min_size=1, max_size=5))
def test_projection_encoder_equals_encoding_the_projection(rows: list[list[str]]) -> None:
    positions = (4, 0, 2, 5, 1)
    encoder = ProjectionEncoder(positions, head=2)
    batch = rows + rows[::-1]  # repeated heads exercise the memo
    expected = [encode_record([row[i] for i in positions]) for row in batch]
    assert [encoder(row) for row in batch] == expected
    assert encoder.encode_many(batch) == expected
    plain = [[f"{i}a", "b", "c d", "", "e", "f"] for i in range(3)]
    assert encoder.encode_many(plain) == [encode_record([row[i] for i in positions]) for row in plain]
    assert encoder.encode_many([]) == []


def test_projection_encoder_needs_a_head_and_a_tail() -> None:
    with pytest.raises(ValueError, match="head"):
        ProjectionEncoder((0, 1), head=2)
    with pytest.raises(ValueError, match="head"):
        ProjectionEncoder((0, 1, 2), head=1)


@given(st.lists(st.tuples(FIELDS, st.lists(st.booleans(), min_size=6, max_size=6)), min_size=1, max_size=4))
def test_batch_go_form_claim_is_never_wrong(rows: list[tuple[list[str], list[bool]]]) -> None:
    texts = []
    for fields, quote_anyway in rows:
        if any("\n" in field for field in fields):
            return
        texts.append(
            ",".join(
                '"' + field.replace('"', '""') + '"' if needs_quotes(field) or extra else field
                for field, extra in zip(fields, quote_anyway, strict=False)
            )
        )
    if "" in texts:  # a lone empty field is a blank line, never a record
        return
    if all_go_form(texts):
        assert all(encode_record(parse_row_text(text)) == text for text in texts)


def test_batch_go_form_examples() -> None:
    assert all_go_form(['a,"b,c",d', 'x,"   ",""""'])
    assert not all_go_form(['a,"b",d'])  # needless quotes
    assert not all_go_form(["a, b"])  # an unquoted leading space
    assert not all_go_form([" a,b"])
    assert not all_go_form(["a,\\."])
    assert not all_go_form(["a\rb"])
    assert not all_go_form(["é,b"])  # not ASCII: left to the exact row check
