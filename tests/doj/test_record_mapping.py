"""Records from column mappings (the streaming path) derive exactly what the 95-field rows (the file path) do."""

from __future__ import annotations

from factories import laid_out
from hypothesis import given
from hypothesis import strategies as st

from streams.doj import columns as C
from streams.doj.generate import generate
from streams.doj.record import (
    RULE_COLUMNS,
    cached_code_section,
    code_section,
    code_section_of,
    derive,
    fields_from_rule_values,
    rule_values,
)
from streams.gocompat.dates import cached_date, parse_yyyymmdd


def test_rule_columns_are_every_column_derive_reads() -> None:
    rows = list(generate(300, 5, None))
    for index, fields in enumerate(rows):
        only_rules = [value if name in RULE_COLUMNS else "" for name, value in zip(C.COLUMNS, fields, strict=True)]
        assert derive(only_rules, index) == derive(fields, index)
        mapping = dict(zip(C.COLUMNS, fields, strict=True))
        assert derive(fields_from_rule_values(rule_values(mapping)), index) == derive(fields, index)
        assert fields_from_rule_values(rule_values(mapping)) == only_rules


@given(st.dictionaries(st.sampled_from((*C.COLUMNS, "UNKNOWN_KEY")),
                       st.one_of(st.text(max_size=12), st.integers(), st.none())))
def test_any_mapping_derives_like_its_fields(record: dict) -> None:
    assert derive(fields_from_rule_values(rule_values(record)), 0) == derive(laid_out(record), 0)


@given(st.dictionaries(st.sampled_from((*C.COLUMNS, "UNKNOWN_KEY")),
                       st.one_of(st.text(max_size=12), st.integers(), st.floats(allow_nan=False), st.none())))
def test_rule_values_lay_out_like_the_mapping_fields_of_the_rule_columns(record: dict) -> None:
    fields = laid_out(record)
    expected = [value if name in RULE_COLUMNS else "" for name, value in zip(C.COLUMNS, fields, strict=True)]
    assert fields_from_rule_values(rule_values(record)) == expected
    assert len(rule_values(record)) == len(RULE_COLUMNS)


# -- the caches the per-row paths read first ------------------------------------------------------------------------

_OFFENSES = st.one_of(
    st.sampled_from(["11357 HS-X", "SEE COMMENT FOR CHARGE", " SEE COMMENT FOR CHARGE ", "", " ", "\x1c", "-X"]),
    st.text(st.sampled_from(list("ab -1\t\x1c")), max_size=6),
)


@given(_OFFENSES, st.sampled_from(["", "11360 HS-T", "290 PC"]))
def test_cached_code_sections_are_code_section_of(offense: str, comment: str) -> None:
    expected = code_section_of(offense, comment)
    assert code_section(offense, comment) == expected
    assert cached_code_section(offense) in (None, expected)
    assert (cached_code_section(offense) or code_section(offense, comment)) == expected


@given(st.sampled_from(["20200229", "20190229", "00000101", "2020010", "x", ""]))
def test_cached_dates_are_parsed_dates(text: str) -> None:
    parsed = parse_yyyymmdd(text)
    assert cached_date(text) == parsed
