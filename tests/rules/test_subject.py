"""Subject building (spec §4 steps 1-7) and the subject-wide facts."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.doj.record import derive, fields_from_mapping
from streams.gocompat.dates import ZERO_TIME
from streams.rules.subject import Subject, build_subject, pilot_code_section


def test_first_row_sets_id_and_dob_even_without_conviction(record) -> None:
    subject = Subject()
    subject.push(record(0, "", subject_id="A", dob=datetime(1970, 5, 5), was_convicted=False, type="ARREST"))
    subject.push(record(1, "11357 HS", subject_id="A", dob=datetime(1999, 1, 1)))
    assert (subject.id, subject.dob) == ("A", datetime(1970, 5, 5))
    assert Subject("given").id == "given"


def test_repeated_count_order_extends_the_last_appended_conviction(record) -> None:
    rows = [
        record(0, "11357 HS", datetime(2001, 1, 1), count_order="101001001000", sentence_days=10),
        record(1, "187 PC", datetime(2002, 1, 1), count_order="102001001000", sentence_days=10),
        record(2, "11357 HS", datetime(2001, 1, 1), count_order="101001001000", sentence_days=30),
    ]
    subject = build_subject("S", rows)
    assert [c.index for c in subject.convictions] == [0, 1]
    # gogen merges into the last appended conviction, not the one with that CNT_ORDER (quirk 9)
    assert subject.convictions[0].sentence_end_date == datetime(2001, 1, 11)
    assert subject.convictions[1].sentence_end_date == datetime(2002, 1, 11) + (
        datetime(2001, 1, 31) - datetime(2001, 1, 1)
    )


def test_unconvicted_rows_are_not_convictions_and_do_not_mark_count_orders_seen(record) -> None:
    rows = [
        record(0, "11357 HS", count_order="101001001000", was_convicted=False, type="ARREST/DETAINED/CITED"),
        record(1, "11357 HS", count_order="101001001000"),
    ]
    assert [c.index for c in build_subject("S", rows).convictions] == [1]


def test_deceased_registration_and_case_numbers(record) -> None:
    rows = [
        record(0, "11357 HS", count_order="101001001000", ofn="B-2"),
        record(1, "11358 HS", count_order="101001002000", ofn="A-1"),
        record(2, "11358 HS", count_order="101001003000", ofn="B-2"),
        record(3, "11358 HS", count_order="101001004000", ofn=""),
        record(4, "11359 HS", count_order="101002001000", ofn="X-9", type="ARREST/DETAINED/CITED"),
        record(5, "290 PC", count_order="105001001000", was_convicted=False, type="REGISTRATION",
               is_pc290_registration=True),
        record(6, "", count_order="106001001000", was_convicted=False, type="DECEASED"),
    ]  # fmt: skip
    subject = build_subject("S", rows)
    assert subject.is_deceased and subject.pc290_registration
    assert subject.case_number(subject.convictions[0]) == "B-2; A-1"
    assert subject.case_number(subject.convictions[4]) == ""  # only COURT ACTION rows give case numbers


def test_prop64_cycle_marks_earlier_and_later_convictions_of_the_cycle(record) -> None:
    rows = [
        record(0, "148 PC", count_order="101001001000"),
        record(1, "11357 HS", count_order="101001002000", was_convicted=False, type="ARREST/DETAINED/CITED"),
        record(2, "4149 BP", count_order="101002001000"),
        record(3, "602 PC", count_order="102001001000"),
    ]
    flags = [c.has_prop64_charge_in_cycle for c in build_subject("S", rows).convictions]
    assert flags == [True, True, False]


def test_subject_facts(record) -> None:
    rows = [
        record(0, "11357 HS", datetime(2001, 1, 1), is_felony=False, sentence_days=400),
        record(1, "187 PC", datetime(2005, 1, 1)),
        record(2, "266J PC", datetime(2003, 1, 1)),
        record(3, "286(D)(1) PC", datetime(2004, 1, 1)),
        record(4, "11360 HS", datetime(2002, 1, 1), sentence_days=10_000),
        record(5, "66411357 HS", datetime(2000, 1, 1)),
    ]
    subject = build_subject("S", rows)
    facts = subject.facts
    assert facts.most_recent_conviction_date == datetime(2005, 1, 1)
    assert subject.superstrike_code_sections == ("187 PC", "286(D)(1) PC")
    assert subject.pc290_code_sections == ("266J PC", "286(D)(1) PC")
    assert subject.prop64_counts == {"11357": 2, "11358": 0, "11359": 0, "11360": 1}
    assert facts.prop64_total == 3 and not subject.only_prop64
    assert subject.number_of_felonies == 5
    assert facts.earliest_superstrike_date == datetime(2004, 1, 1)
    assert facts.earliest_pc290_date == datetime(2003, 1, 1)
    assert not subject.all_sentences_completed(datetime(2020, 1, 1))
    assert subject.all_sentences_completed(datetime(2030, 1, 1))
    assert subject.convictions_in_county("SACRAMENTO") == 6
    assert subject.number_of_convictions_in_last_7_years(datetime(2010, 1, 1)) == 2


def test_facts_are_recomputed_after_a_push(record) -> None:
    subject = build_subject("S", [record(0, "11357 HS", datetime(2001, 1, 1))])
    assert subject.only_prop64
    subject.push(record(1, "187 PC", datetime(2002, 1, 1)))
    assert not subject.only_prop64
    assert subject.most_recent_conviction_date == datetime(2002, 1, 1)


def test_subject_without_convictions(record) -> None:
    subject = build_subject("S", [record(0, "11357 HS", was_convicted=False, type="ARREST/DETAINED/CITED")])
    assert subject.most_recent_conviction_date == ZERO_TIME
    assert subject.only_prop64  # gogen compares counts: 0 == 0


def test_older_than_uses_go_add_date(record) -> None:
    leap = build_subject("S", [record(0, dob=datetime(2000, 2, 29))])
    assert not leap.older_than(21, datetime(2021, 2, 28))
    assert leap.older_than(21, datetime(2021, 3, 1))  # Feb 29 + 21 years is Mar 1 in Go (quirk 6)
    assert leap.older_than(20, datetime(2020, 2, 29))
    unborn = build_subject("S", [record(0, dob=ZERO_TIME)])
    assert unborn.older_than(65, datetime(1900, 1, 1))  # a zero DOB is always old enough (quirk 4)


def test_los_angeles_gang_combinations_per_case(record) -> None:
    rows = [
        record(0, "136.1 PC", datetime(2001, 1, 1), count_order="101001001000"),
        record(1, "186.22(B)(4) PC", datetime(2001, 1, 1), count_order="101001002000"),
        record(2, "246 PC", datetime(2003, 1, 1), count_order="102001001000"),
        record(3, "187 PC", datetime(2004, 1, 1), count_order="103001001000"),
        record(4, "187 PC", datetime(2005, 1, 1), count_order="104001001000"),
    ]
    facts = build_subject("S", rows).facts
    assert facts.superstrike_code_sections == ("187 PC", "187 PC")
    assert facts.la_superstrike_code_sections == ("187 PC", "136.1 PC + 186.22(B)(4) PC")
    assert facts.earliest_superstrike_date == datetime(2004, 1, 1)
    only_combination = build_subject("S", rows[:2]).facts
    assert only_combination.la_superstrike_code_sections == ("136.1 PC + 186.22(B)(4) PC",)
    assert only_combination.earliest_superstrike_date == ZERO_TIME  # quirk 10


def test_pilot_code_section_rule(record) -> None:
    assert pilot_code_section("SEE COMMENT FOR CHARGE", "11357 HS-X") == "11357 HS"
    assert pilot_code_section("", "11357 HS-X") == ""
    assert pilot_code_section(" SEE COMMENT FOR CHARGE", "11357 HS-X") == " SEE COMMENT FOR CHARGE"
    blank = build_subject("S", [record(0, "11357 HS", offense_descr="", comment_text="11357 HS-X")])
    assert blank.differs_under_pilot_rule()
    pilot = blank.rebuilt(pilot_code_sections=True)
    assert pilot.convictions[0].code_section == "" and pilot.pilot_code_sections
    plain = build_subject("S", [record(0, "11357 HS")])
    assert not plain.differs_under_pilot_rule()


def test_last_7_years_uses_compute_at(record) -> None:
    subject = build_subject("S", [record(0, disposition_date=datetime(2013, 7, 2))])
    conviction = subject.convictions[0]
    assert conviction.occurred_in_last_7_years(datetime(2020, 7, 1))
    assert not conviction.occurred_in_last_7_years(datetime(2020, 7, 2))  # strictly after compute-at - 7y


# -- push_fields: the offline classifier's path must build the same subject as push(derive()) -------------------

_ROW_TEXT = st.text(st.sampled_from(list("ab -190HSPC\t")), max_size=5)
_ROW = st.fixed_dictionaries(
    {
        "SUBJECT_ID": st.sampled_from(["1", ""]),
        "PRI_DOB": st.sampled_from(["19500101", "20000229", "1999", "", "19800230"]),
        "STP_TYPE_DESCR": st.sampled_from(["COURT ACTION", "ARREST/DETAINED/CITED", "DECEASED", "REGISTRATION"]),
        "STP_EVENT_DATE": st.sampled_from(["20150101", "20161109", "19790601", "", "x"]),
        "STP_ORI_CNTY_NAME": st.sampled_from(["SACRAMENTO", "LOS ANGELES", ""]),
        "CNT_ORDER": st.sampled_from(["001001001000", "001001002000", "002001001000", "001002001000", "", "1"]),
        "OFN": st.sampled_from(["", "NULL  ", "F123"]),
        "OFFENSE_DESCR": st.one_of(
            st.sampled_from(
                ["11357(A) HS-X", "664-11358 HS", " 11359HS", "SEE COMMENT FOR CHARGE", "", " ", "187 PC-M",
                 "290 PC-REG", "29 PC-X", "-X", "186.22 PC-GANG", "211 PC-ROB"]
            ),
            _ROW_TEXT,
        ),
        "OFFENSE_TOC": st.sampled_from(["F", "M", ""]),
        "DISP_DESCR": st.sampled_from(["CONVICTED-JAIL", "CONVICTED", "DISMISSED", ""]),
        "CONV_STAT_DESCR": st.sampled_from(["FELONY", "MISDEMEANOR", "", "INFRACTION"]),
        "SENT_LENGTH": st.sampled_from(["", "10", "-3", "99999999999", "x", "+2"]),
        "SENT_TIME_CODE": st.sampled_from(["D", "M", "Y", "", "W"]),
        "COMMENT_TEXT": st.one_of(st.sampled_from(["11357(C) HS", "11360 HS-T", "", "290 PC"]), _ROW_TEXT),
    }
)


def _state(subject: Subject) -> tuple[object, ...]:
    return (
        subject.id,
        subject.dob,
        subject.is_deceased,
        subject.pc290_registration,
        subject.case_numbers,
        [(repr(c), c.code, c.record) for c in subject.convictions],
        subject.facts,
    )


@settings(max_examples=300)
@given(st.lists(_ROW, max_size=10), st.booleans(), st.sampled_from(["", "given"]))
def test_push_fields_builds_what_push_of_derived_records_builds(
    rows: list[dict[str, str]], pilot: bool, subject_id: str
) -> None:
    laid_out = [fields_from_mapping(row) for row in rows]
    pushed = Subject(subject_id, pilot_code_sections=pilot)
    lean = Subject(subject_id, pilot_code_sections=pilot)
    for index, fields in enumerate(laid_out):
        pushed.push(derive(fields, index))
        lean.push_fields(fields, index)
        assert _state(lean) == _state(pushed)


def test_a_subject_built_with_push_fields_cannot_be_rebuilt() -> None:
    subject = Subject("1")
    subject.push_fields(fields_from_mapping({"SUBJECT_ID": "1", "OFFENSE_DESCR": "SEE COMMENT FOR CHARGE"}), 0)
    with pytest.raises(ValueError, match="cannot be rebuilt"):
        subject.rebuilt(pilot_code_sections=True)
    with pytest.raises(ValueError, match="cannot be rebuilt"):
        subject.differs_under_pilot_rule()
