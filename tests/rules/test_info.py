"""The 18 eligibility columns as gogen writes them (spec §6, §9) and "Possible Other P64 Charges" (§6.1)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from factories import numbered

from streams.gocompat.dates import ZERO_TIME
from streams.rules.engine import classify_subject
from streams.rules.flows.registry import make_flow
from streams.rules.flows.whatif import dismiss_all_prop64
from streams.rules.info import ELIGIBILITY_COLUMNS, empty_columns, possible_other_p64_charges
from streams.rules.subject import build_subject

COMPUTE_AT = datetime(2020, 7, 1)


def test_column_names_in_gogen_order() -> None:
    assert ELIGIBILITY_COLUMNS[0] == "Case Number" and ELIGIBILITY_COLUMNS[-1] == "Eligibility Reason"
    assert len(ELIGIBILITY_COLUMNS) == 18
    assert ELIGIBILITY_COLUMNS[3] == "Occurred after 11/9/2016"
    assert empty_columns("11357(A)") == [""] * 2 + ["11357(A)"] + [""] * 15


def test_columns_of_a_plain_conviction() -> None:
    rows = [
        numbered(0, "11358 HS", datetime(2012, 3, 4), county="X", ofn="CASE 1", count_order="101001001000"),
        numbered(1, "11358 HS", datetime(2012, 3, 4), county="X", ofn="CASE 2", convicted=False,
               count_order="101001002000"),
    ]  # fmt: skip
    info = classify_subject(build_subject("S", rows), dismiss_all_prop64("X"), COMPUTE_AT)[0]
    assert info.columns("note") == [
        "CASE 1; CASE 2", "1", "note", "N", "-", "-", "-", "03/04/2012", "8.3", "8.3",
        "1", "0", "1", "0", "0", "-", "Eligible for Dismissal", "Dismiss all Prop 64 charges",
    ]  # fmt: skip


def test_columns_with_every_flag_set_and_zero_dates() -> None:
    rows = [
        numbered(0, "11357 HS", ZERO_TIME, county="X"),
        numbered(1, "288 PC", ZERO_TIME, county="Y"),
        numbered(2, "187 PC", ZERO_TIME, county="Y"),
        numbered(3, "290 PC", datetime(2017, 1, 1), convicted=False, step="REGISTRATION"),
        numbered(4, "", convicted=False, step="DECEASED"),
    ]  # fmt: skip
    columns = classify_subject(build_subject("S", rows), dismiss_all_prop64("X"), COMPUTE_AT)[0].columns("")
    assert columns[3:10] == ["N", "288 PC;187 PC", "288 PC", "Yes", "01/01/0001", "-1.0", "-1.0"]
    assert columns[15] == "Deceased"


def test_columns_of_a_year_0000_date() -> None:
    """Quirk 15: Go parses ``00000105`` as 0000-01-05, not the zero date, so gogen
    prints it and its years since (saturated at Go's ~292-year Duration) instead of 01/01/0001 and -1.0; the
    most recent conviction stays the zero date (a year-0 date is not After it), so "Years Since Any" is -1.0."""
    subject = build_subject("S", [numbered(0, "11357 HS", "00000105", county="X")])
    info = classify_subject(subject, dismiss_all_prop64("X"), datetime(2019, 11, 11))[0]
    assert info.columns("")[7:10] == ["01/05/0000", "292.3", "-1.0"]
    assert info.facts()["date_of_conviction"] == "0000-01-05"


def test_occurred_after_flag_is_strictly_after_november_9_2016() -> None:
    def flag(day: datetime) -> str:
        subject = build_subject("S", [numbered(0, "11357 HS", day, county="X")])
        return classify_subject(subject, dismiss_all_prop64("X"), COMPUTE_AT)[0].columns("")[3]

    assert (flag(datetime(2016, 11, 9)), flag(datetime(2016, 11, 10))) == ("N", "Y")


def test_years_are_rounded_like_go_percent_1f() -> None:
    subject = build_subject("S", [numbered(0, "11357 HS", datetime(2020, 7, 2), county="X")])
    info = classify_subject(subject, dismiss_all_prop64("X"), COMPUTE_AT)[0]
    assert info.columns("")[8] == "-0.0"  # a future date: Go prints negative zero too


def test_empty_determination_renders_empty() -> None:
    flow = make_flow("configurable", "X", options={"baselineEligibility": {"dismiss": ["11357"]}})
    subject = build_subject("S", [numbered(0, "11359 HS", county="X")])
    assert classify_subject(subject, flow, COMPUTE_AT)[0].columns("")[16:] == ["", ""]


def test_facts_are_json_ready() -> None:
    rows = [numbered(0, "11357 HS", datetime(2001, 2, 3), county="X"), numbered(1, "187 PC", ZERO_TIME)]
    info = classify_subject(build_subject("S", rows), dismiss_all_prop64("X"), COMPUTE_AT)[0]
    facts = json.loads(json.dumps(info.facts()))
    assert facts["date_of_conviction"] == "2001-02-03"
    assert facts["superstrike_code_sections"] == ["187 PC"]
    assert facts["determination"] == "Eligible for Dismissal"
    assert facts["years_since_this_conviction"] == pytest.approx(19.4, abs=0.05)
    zero = classify_subject(build_subject("S", [numbered(0, "11357 HS", ZERO_TIME, county="X")]),
                            dismiss_all_prop64("X"), COMPUTE_AT)[0].facts()  # fmt: skip
    assert zero["date_of_conviction"] is None and zero["years_since_this_conviction"] is None


@pytest.mark.parametrize(
    ("offense", "comment", "expected"),
    [
        ("912", "11357(A)", "11357(A)"),
        ("11350", "11357(A)", "11357(A)"),
        ("11358", "11359", "11359"),
        ("11357(A)", "11357(C)", "11357(C)"),
        ("11357(D)", "11357(B)", "11357(B)"),
        ("11357(A)", "11357(B)", ""),
        ("11357(C)", "11357(D)", ""),
        ("11357", "11357(A)", "11357(A)"),
        ("11357(A)", "11357", ""),
        ("11358", "11358(A)", ""),
        ("", "11357(A)", ""),
        ("  ", "11357(A)", ""),
        ("SEE COMMENT FOR CHARGE", "11357(A)", ""),
        (" SEE COMMENT FOR CHARGE ", "11357(A)", ""),
        ("11357", "", ""),
        ("11357", "187 PC", ""),
    ],
)
def test_possible_other_p64_charges(offense: str, comment: str, expected: str) -> None:
    assert possible_other_p64_charges(offense, comment) == expected
