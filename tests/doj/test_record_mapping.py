"""Records from column mappings (the streaming path) derive exactly what the 95-field rows (the file path) do."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.doj import columns as C
from streams.doj.generate import generate
from streams.doj.record import (
    RULE_COLUMNS,
    derive,
    derive_mapping,
    fields_from_mapping,
    fields_from_rule_values,
    rule_values,
)


def test_rule_columns_are_every_column_derive_reads() -> None:
    rows = list(generate(300, 5, None))
    for index, fields in enumerate(rows):
        only_rules = [value if name in RULE_COLUMNS else "" for name, value in zip(C.COLUMNS, fields, strict=True)]
        assert derive(only_rules, index) == derive(fields, index)
        mapping = dict(zip(C.COLUMNS, fields, strict=True))
        assert derive_mapping(mapping, index) == derive(fields, index)
        assert derive(fields_from_rule_values(rule_values(mapping)), index) == derive(fields, index)
        assert fields_from_rule_values(rule_values(mapping)) == only_rules


@given(st.dictionaries(st.sampled_from((*C.COLUMNS, "UNKNOWN_KEY")),
                       st.one_of(st.text(max_size=12), st.integers(), st.none())))
def test_any_mapping_derives_like_its_fields(record: dict) -> None:
    assert derive_mapping(record, 0) == derive(fields_from_mapping(record), 0)


@given(st.dictionaries(st.sampled_from((*C.COLUMNS, "UNKNOWN_KEY")),
                       st.one_of(st.text(max_size=12), st.integers(), st.floats(allow_nan=False), st.none())))
def test_rule_values_lay_out_like_the_mapping_fields_of_the_rule_columns(record: dict) -> None:
    fields = fields_from_mapping(record)
    expected = [value if name in RULE_COLUMNS else "" for name, value in zip(C.COLUMNS, fields, strict=True)]
    assert fields_from_rule_values(rule_values(record)) == expected
    assert len(rule_values(record)) == len(RULE_COLUMNS)
