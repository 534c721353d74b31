"""Data-quality codes: each problem of a live feed that can silently change an answer has its code."""

from __future__ import annotations

import pytest
from factories import fields

from streams.doj import quality as Q


def test_every_code_is_listed_once_in_a_stable_order() -> None:
    assert len(set(Q.CODES)) == len(Q.CODES) == 6
    assert Q.flags_of((Q.SUBJECT_ID_MISMATCH, Q.DOB_MISSING), (Q.DATE_INVALID,)) == [
        Q.DOB_MISSING, Q.DATE_INVALID, Q.SUBJECT_ID_MISMATCH]


@pytest.mark.parametrize(("dob", "expected"), [
    ("19800101", ()), ("", (Q.DOB_MISSING,)), ("1980-01-01", (Q.DOB_INVALID,)), ("19801301", (Q.DOB_INVALID,)),
    ("19800230", (Q.DOB_INVALID,)), ("20000229", ()), ("19000229", (Q.DOB_INVALID,)), ("00000105", ()),
])  # fmt: skip
def test_the_dob_is_read_from_the_first_row(dob: str, expected: tuple[str, ...]) -> None:
    rows = [fields(dob=dob), fields(dob="19700101")]
    assert Q.subject_flags("S1", rows, ["001001001000"]) == expected


@pytest.mark.parametrize(("date", "expected"), [
    ("20100101", ()), ("", (Q.DATE_MISSING,)), ("2015-03-01", (Q.DATE_INVALID,)), ("2015031", (Q.DATE_INVALID,)),
])  # fmt: skip
def test_a_conviction_date_that_does_not_parse(date: str, expected: tuple[str, ...]) -> None:
    assert Q.conviction_flags(fields(date=date)) == expected


def test_rows_of_another_subject_and_sentences_without_a_conviction() -> None:
    rows = [fields(subject="S1"), fields(subject="S2", count_order="002001001000")]
    assert Q.subject_flags("S1", rows, ["001001001000"]) == (Q.SUBJECT_ID_MISMATCH,)
    sentence = fields(count_order="009001001000", SENT_LENGTH="3", SENT_TIME_CODE="M", disposition="DISMISSED")
    assert Q.subject_flags("S1", [fields(), sentence], ["001001001000"]) == (Q.SENTENCE_WITHOUT_CONVICTION,)
    assert Q.subject_flags("S1", [fields(), fields(SENT_LENGTH="3", SENT_TIME_CODE="M")], ["001001001000"]) == ()
