"""The engine against every worked case of cases.jsonl (spec §13), plus the engine's own contract.

gogen's unit tests push ``DOJRow`` structs with an empty SubjectID; ``Subject.PushRow`` then re-initialises
its maps on every push, so those rows are never de-duplicated and a conviction's "Prop 64 in cycle" flag is
set only by its own row or a later one. The harness below reproduces that for the unit cases (not the engine,
which de-duplicates): count orders are made unique without touching the cycle/case prefixes, and the facts
gogen's tests set directly (sentence end dates, deceased) are set on the built subject.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from streams.doj.record import Record
from streams.gocompat.dates import NANOS_PER_DAY, ZERO_TIME
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


def _date(text: str | None) -> datetime:
    return ZERO_TIME if text is None else datetime.strptime(text, "%Y-%m-%d")


def _record(
    item: dict[str, Any], position: int, dob: datetime, subject_id: str, unique_count_order: bool
) -> Record:
    disposition = _date(item["disposition_date"])
    if "sentence_part_duration_days" in item:
        part = item["sentence_part_duration_days"] * NANOS_PER_DAY
    else:  # a part that makes the derived end date the case's end date
        delta = _date(item["sentence_end_date"]) - disposition
        part = ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000
    count_order = item["count_order"]
    if unique_count_order:
        count_order = count_order[0:9] + f"{position:03d}"
    registration = item.get("is_pc290_registration", False)
    return Record(
        index=item["index"],
        subject_id=subject_id,
        dob=dob,
        was_convicted=item["was_convicted"],
        code_section=item["code_section"],
        disposition_date=disposition,
        is_felony=item["is_felony"],
        county=item["county"],
        type="REGISTRATION" if registration else "COURT ACTION",
        ofn="",
        count_order=count_order,
        sentence_part_nanos=part,
        is_pc290_registration=registration,
        offense_descr=item["code_section"],
        comment_text="",
    )


def unit_test_subject(case: dict[str, Any], *, pilot_code_sections: bool) -> Subject:
    """The subject gogen's unit test builds from rows with an empty SubjectID (see module docstring)."""
    items = case["convictions"]
    dob = _date(case["person"]["dob"])
    records = [_record(item, position, dob, "", True) for position, item in enumerate(items)]
    subject = build_subject("", records, pilot_code_sections=pilot_code_sections)
    item_of = {id(record): item for record, item in zip(records, items, strict=True)}
    position_of = {id(record): position for position, record in enumerate(records)}
    for conviction in subject.convictions:
        item = item_of[id(conviction.record)]
        conviction.sentence_end_date = _date(item["sentence_end_date"])
        later_rows = records[position_of[id(conviction.record)] :]
        conviction.has_prop64_charge_in_cycle = any(
            row.count_order[0:3] == conviction.count_order[0:3] and is_prop64(row.code_section)
            for row in later_rows
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
    infos = classify_subject(subject, flow, _date(case["compute_at"]))
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
    dob = _date(case["person"]["dob"])
    subject_id = case["person"]["subject_id"]
    records = [_record(item, position, dob, subject_id, False) for position, item in enumerate(items)]
    subject = build_subject(subject_id, records)
    expected = case["expected_subject"]
    positions = [records.index(conviction.record) for conviction in subject.convictions]
    assert positions == expected["conviction_indices"]
    merged = [p for p, item in enumerate(items) if item["was_convicted"] and p not in positions]
    assert merged == expected["merged_rows"]
    assert subject.convictions[positions.index(6)].sentence_end_date == _date(
        expected["conviction_6_sentence_end_date"]
    )
    flags = {
        str(p): c.has_prop64_charge_in_cycle for p, c in zip(positions, subject.convictions, strict=True)
    }
    assert flags == expected["has_prop64_charge_in_cycle"]
    assert subject.most_recent_conviction_date == _date(expected["most_recent_conviction_date"])
    assert list(subject.superstrike_code_sections) == expected["superstrike_code_sections"]
    assert list(subject.pc290_code_sections) == expected["pc290_code_sections"]
    assert subject.pc290_registration is expected["pc290_registration"]
    assert subject.id == subject_id and subject.dob == dob


def test_infos_come_in_conviction_order_keyed_by_row_index(record) -> None:
    rows = [
        record(7, "11360 HS", datetime(2001, 1, 1), county="X"),
        record(3, "11357 HS", datetime(2002, 1, 1), county="X"),
        record(5, "187 PC", datetime(2003, 1, 1), county="X"),
        record(1, "11359 HS", datetime(2004, 1, 1), county="Y"),
    ]
    infos = classify_subject(build_subject("S1", rows), dismiss_all_prop64("X"), datetime(2020, 7, 1))
    assert list(infos) == [7, 3]
    assert all(info.determination is Determination.DISMISSAL for info in infos.values())


def test_subject_wide_columns_span_every_county_and_code(record) -> None:
    rows = [
        record(0, "11357 HS", datetime(2001, 1, 1), county="X", ofn="CASE-1", type="COURT ACTION"),
        record(1, "187 PC", datetime(2003, 6, 1), county="Y"),
        record(2, "11359 HS", datetime(2002, 1, 1), county="Y"),
    ]
    info = classify_subject(build_subject("S1", rows), dismiss_all_prop64("X"), datetime(2020, 7, 1))[0]
    assert info.number_of_convictions_on_record == 3
    assert info.superstrike_code_sections == ("187 PC",)
    assert (info.prop64_convictions, info.hs_11357_convictions, info.hs_11359_convictions) == (2, 1, 1)
    assert info.case_number == "CASE-1"
    assert info.columns("")[9] == "17.1"  # years since 2003-06-01, the most recent conviction (county Y)


def test_compute_at_must_be_naive(record) -> None:
    from datetime import UTC

    subject = build_subject("S1", [record(0, "11357 HS", county="X")])
    with pytest.raises(ValueError, match="naive"):
        classify_subject(subject, dismiss_all_prop64("X"), datetime(2020, 7, 1, tzinfo=UTC))


def test_pilot_flows_see_pilot_code_sections(record) -> None:
    """A blank OFFENSE_DESCR defers to the comment in the final gogen, not in the 2019 pilots (§3.2 note)."""
    rows = [
        record(
            0,
            "11357 HS",
            datetime(2001, 1, 1),
            county="SACRAMENTO",
            offense_descr="",
            comment_text="11357 HS-X",
            is_felony=False,
        ),
    ]
    subject = build_subject("S1", rows)
    assert list(classify_subject(subject, dismiss_all_prop64("SACRAMENTO"), datetime(2020, 7, 1))) == [0]
    assert classify_subject(subject, make_flow("sacramento", "SACRAMENTO"), datetime(2020, 7, 1)) == {}
    exact = build_subject(
        "S1",
        [
            record(
                0,
                "11357 HS",
                datetime(2001, 1, 1),
                county="SACRAMENTO",
                offense_descr="SEE COMMENT FOR CHARGE",
                comment_text="11357 HS-X",
            )
        ],
    )
    assert list(classify_subject(exact, make_flow("sacramento", "SACRAMENTO"), datetime(2020, 7, 1))) == [0]
