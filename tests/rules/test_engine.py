"""The engine against every worked case of cases.jsonl (spec §13), plus the engine's own contract.

gogen's unit tests push ``DOJRow`` structs with an empty SubjectID; ``Subject.PushRow`` then re-initialises
its maps on every push, so those rows are never de-duplicated and a conviction's "Prop 64 in cycle" flag is
set only by its own row or a later one. The engine does the same for rows without a SUBJECT_ID (spec §4), so
the harness below pushes the cases' rows as they are, with an empty id; only the facts gogen's tests set
directly (sentence end dates, deceased) are set on the built subject.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from factories import numbered, parse_date

from streams.rules.engine import classify_subject
from streams.rules.flows.registry import make_flow
from streams.rules.flows.whatif import dismiss_all_prop64
from streams.rules.matchers import is_prop64
from streams.rules.outcome import Determination
from streams.rules.subject import Subject, build_subject

CASES = [
    json.loads(line) for line in (Path(__file__).parents[1] / "data" / "cases.jsonl").read_text().splitlines()
]
FLOW_OF_CASE = {
    "gogen_configurable": "configurable",
    "la_pilot_final": "los_angeles",
    "sacramento_pilot": "sacramento",
    "san_joaquin_pilot": "san_joaquin",
    "contra_costa_pilot": "contra_costa",
}
FLOW_CASES = [case for case in CASES if case["flow"] in FLOW_OF_CASE]
SUBJECT_CASES = [case for case in CASES if case["flow"] == "subject_aggregation"]


def _row(item: dict[str, Any], dob: datetime, subject_id: str, count_order: str) -> tuple[int, list[str]]:
    """A case's conviction as a row; a sentence that makes the conviction's end date the case's end date (the
    unit cases' end dates are set on the built subject: a case without one gets no sentence)."""
    disposition = parse_date(item["disposition_date"])
    if "sentence_part_duration_days" in item:
        sentence = (str(item["sentence_part_duration_days"]), "D")
    elif item["sentence_end_date"] is not None:
        sentence = (str((parse_date(item["sentence_end_date"]) - disposition).days), "D")
    else:
        sentence = ("", "")
    registration = item.get("is_pc290_registration", False)
    return numbered(
        item["index"],
        subject=subject_id,
        dob=dob,
        convicted=item["was_convicted"],
        offense=item["code_section"],
        date=disposition,
        felony=item["is_felony"],
        county=item["county"],
        step="REGISTRATION" if registration else "COURT ACTION",
        count_order=count_order,
        sentence=sentence,
    )


def unit_test_subject(case: dict[str, Any], *, pilot_code_sections: bool) -> Subject:
    """The subject gogen's unit test builds from rows with an empty SubjectID (see module docstring)."""
    items = case["convictions"]
    dob = parse_date(case["person"]["dob"])
    rows = [_row(item, dob, "", item["count_order"]) for item in items]
    subject = build_subject("", rows, pilot_code_sections=pilot_code_sections)
    position_of = {item["index"]: position for position, item in enumerate(items)}
    assert len(subject.convictions) == sum(item["was_convicted"] for item in items)  # nothing de-duplicated
    for conviction in subject.convictions:
        position = position_of[conviction.index]
        conviction.sentence_end_date = parse_date(items[position]["sentence_end_date"])
        # the engine's own flag, as gogen's re-initialising PushRow leaves it
        assert conviction.has_prop64_charge_in_cycle == any(
            item["count_order"][0:3] == conviction.count_order[0:3] and is_prop64(item["code_section"])
            for item in items[position:]
        )
    subject.is_deceased = case["person"]["is_deceased"]
    # pc290_registration follows from the rows pushed (a REGISTRATION row sets it, as in gogen's PushRow); the
    # case's person flag only restates it where a test relies on it.
    if case["person"]["pc290_registration_flag"]:
        assert subject.pc290_registration
    return subject


def _flow(case: dict[str, Any]):
    name = FLOW_OF_CASE[case["flow"]]
    options = case["options"]
    return make_flow(name, case["county"], options=options if options else None)


@pytest.mark.parametrize("case", FLOW_CASES, ids=[case["id"] for case in FLOW_CASES])
def test_worked_case(case: dict[str, Any]) -> None:
    flow = _flow(case)
    subject = unit_test_subject(case, pilot_code_sections=flow.pilot_code_sections)
    infos = classify_subject(subject, flow, parse_date(case["compute_at"]))
    for expected in case["expected"]:
        info = infos[expected["index"]]
        assert (info.determination.value, info.reason) == (expected["determination"], expected["reason"])
        assert info.code_section == expected["code_section"]
    for index in case["convictions_without_eligibility_output"]:
        assert index not in infos
    if "expected_number_of_eligibility_infos" in case:
        assert len(infos) == case["expected_number_of_eligibility_infos"]


@pytest.mark.parametrize("case", SUBJECT_CASES, ids=[case["id"] for case in SUBJECT_CASES])
def test_subject_aggregation_case(case: dict[str, Any]) -> None:
    items = case["convictions"]
    dob = parse_date(case["person"]["dob"])
    subject_id = case["person"]["subject_id"]
    subject = build_subject(subject_id, [_row(item, dob, subject_id, item["count_order"]) for item in items])
    expected = case["expected_subject"]
    position_of = {item["index"]: position for position, item in enumerate(items)}
    positions = [position_of[conviction.index] for conviction in subject.convictions]
    assert positions == expected["conviction_indices"]
    merged = [p for p, item in enumerate(items) if item["was_convicted"] and p not in positions]
    assert merged == expected["merged_rows"]
    assert subject.convictions[positions.index(6)].sentence_end_date == parse_date(
        expected["conviction_6_sentence_end_date"]
    )
    flags = {
        str(p): c.has_prop64_charge_in_cycle for p, c in zip(positions, subject.convictions, strict=True)
    }
    assert flags == expected["has_prop64_charge_in_cycle"]
    assert subject.facts.most_recent_conviction_date == parse_date(expected["most_recent_conviction_date"])
    assert list(subject.facts.superstrike_code_sections) == expected["superstrike_code_sections"]
    assert list(subject.facts.pc290_code_sections) == expected["pc290_code_sections"]
    assert subject.pc290_registration is expected["pc290_registration"]
    assert subject.id == subject_id and subject.dob == dob


def test_infos_come_in_conviction_order_keyed_by_row_index() -> None:
    rows = [
        numbered(7, "11360 HS", datetime(2001, 1, 1), county="X"),
        numbered(3, "11357 HS", datetime(2002, 1, 1), county="X"),
        numbered(5, "187 PC", datetime(2003, 1, 1), county="X"),
        numbered(1, "11359 HS", datetime(2004, 1, 1), county="Y"),
    ]
    infos = classify_subject(build_subject("S1", rows), dismiss_all_prop64("X"), datetime(2020, 7, 1))
    assert list(infos) == [7, 3]
    assert all(info.determination is Determination.DISMISSAL for info in infos.values())


def test_subject_wide_columns_span_every_county_and_code() -> None:
    rows = [
        numbered(0, "11357 HS", datetime(2001, 1, 1), county="X", ofn="CASE-1", step="COURT ACTION"),
        numbered(1, "187 PC", datetime(2003, 6, 1), county="Y"),
        numbered(2, "11359 HS", datetime(2002, 1, 1), county="Y"),
    ]
    info = classify_subject(build_subject("S1", rows), dismiss_all_prop64("X"), datetime(2020, 7, 1))[0]
    assert info.number_of_convictions_on_record == 3
    assert info.superstrike_code_sections == ("187 PC",)
    assert (info.prop64_convictions, info.hs_11357_convictions, info.hs_11359_convictions) == (2, 1, 1)
    assert info.case_number == "CASE-1"
    assert info.columns("")[9] == "17.1"  # years since 2003-06-01, the most recent conviction (county Y)


def test_compute_at_must_be_naive() -> None:
    from datetime import UTC

    subject = build_subject("S1", [numbered(0, "11357 HS", county="X")])
    with pytest.raises(ValueError, match="naive"):
        classify_subject(subject, dismiss_all_prop64("X"), datetime(2020, 7, 1, tzinfo=UTC))


def test_pilot_flows_see_pilot_code_sections() -> None:
    """A blank OFFENSE_DESCR defers to the comment in the final gogen, not in the 2019 pilots (§3.2 note)."""
    rows = [
        numbered(
            0,
            "11357 HS",
            datetime(2001, 1, 1),
            county="SACRAMENTO",
            offense="",
            comment="11357 HS-X",
            felony=False,
        ),
    ]
    subject = build_subject("S1", rows)
    assert list(classify_subject(subject, dismiss_all_prop64("SACRAMENTO"), datetime(2020, 7, 1))) == [0]
    assert classify_subject(subject, make_flow("sacramento", "SACRAMENTO"), datetime(2020, 7, 1)) == {}
    exact = build_subject(
        "S1",
        [
            numbered(
                0,
                "11357 HS",
                datetime(2001, 1, 1),
                county="SACRAMENTO",
                offense="SEE COMMENT FOR CHARGE",
                comment="11357 HS-X",
            )
        ],
    )
    assert list(classify_subject(exact, make_flow("sacramento", "SACRAMENTO"), datetime(2020, 7, 1))) == [0]
