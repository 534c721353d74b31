"""Subject building (spec §4 steps 1-7) and the subject-wide facts."""

from __future__ import annotations

from datetime import datetime

import pytest
from factories import fields, numbered

from streams.doj import columns as C
from streams.doj.generate import generate
from streams.gocompat.dates import ZERO_TIME
from streams.rules.subject import Subject, build_subject, pilot_code_section


def test_first_row_sets_id_and_dob_even_without_conviction() -> None:
    subject = Subject()
    for index, row in [
        numbered(0, "", subject="A", dob=datetime(1970, 5, 5), convicted=False, step="ARREST"),
        numbered(1, "11357 HS", subject="A", dob=datetime(1999, 1, 1)),
    ]:
        subject.push(row, index)
    assert (subject.id, subject.dob) == ("A", datetime(1970, 5, 5))
    assert Subject("given").id == "given"


def test_repeated_count_order_extends_the_last_appended_conviction() -> None:
    rows = [
        numbered(0, "11357 HS", datetime(2001, 1, 1), count_order="101001001000", sentence_days=10),
        numbered(1, "187 PC", datetime(2002, 1, 1), count_order="102001001000", sentence_days=10),
        numbered(2, "11357 HS", datetime(2001, 1, 1), count_order="101001001000", sentence_days=30),
    ]
    subject = build_subject("S", rows)
    assert [c.index for c in subject.convictions] == [0, 1]
    # gogen merges into the last appended conviction, not the one with that CNT_ORDER (quirk 9)
    assert subject.convictions[0].sentence_end_date == datetime(2001, 1, 11)
    assert subject.convictions[1].sentence_end_date == datetime(2002, 1, 11) + (
        datetime(2001, 1, 31) - datetime(2001, 1, 1)
    )


def test_unconvicted_rows_are_not_convictions_and_do_not_mark_count_orders_seen() -> None:
    rows = [
        numbered(0, "11357 HS", count_order="101001001000", convicted=False, step="ARREST/DETAINED/CITED"),
        numbered(1, "11357 HS", count_order="101001001000"),
    ]
    assert [c.index for c in build_subject("S", rows).convictions] == [1]


def test_deceased_registration_and_case_numbers() -> None:
    rows = [
        numbered(0, "11357 HS", count_order="101001001000", ofn="B-2"),
        numbered(1, "11358 HS", count_order="101001002000", ofn="A-1"),
        numbered(2, "11358 HS", count_order="101001003000", ofn="B-2"),
        numbered(3, "11358 HS", count_order="101001004000", ofn=""),
        numbered(4, "11359 HS", count_order="101002001000", ofn="X-9", step="ARREST/DETAINED/CITED"),
        numbered(5, "290 PC", count_order="105001001000", convicted=False, step="REGISTRATION"),
        numbered(6, "", count_order="106001001000", convicted=False, step="DECEASED"),
    ]  # fmt: skip
    subject = build_subject("S", rows)
    assert subject.is_deceased and subject.pc290_registration
    assert subject.case_number(subject.convictions[0]) == "B-2; A-1"
    assert subject.case_number(subject.convictions[4]) == ""  # only COURT ACTION rows give case numbers


def test_prop64_cycle_marks_earlier_and_later_convictions_of_the_cycle() -> None:
    rows = [
        numbered(0, "148 PC", count_order="101001001000"),
        numbered(1, "11357 HS", count_order="101001002000", convicted=False, step="ARREST/DETAINED/CITED"),
        numbered(2, "4149 BP", count_order="101002001000"),
        numbered(3, "602 PC", count_order="102001001000"),
    ]
    flags = [c.has_prop64_charge_in_cycle for c in build_subject("S", rows).convictions]
    assert flags == [True, True, False]


def test_subject_facts() -> None:
    rows = [
        numbered(0, "11357 HS", datetime(2001, 1, 1), felony=False, sentence_days=400),
        numbered(1, "187 PC", datetime(2005, 1, 1)),
        numbered(2, "266J PC", datetime(2003, 1, 1)),
        numbered(3, "286(D)(1) PC", datetime(2004, 1, 1)),
        numbered(4, "11360 HS", datetime(2002, 1, 1), sentence_days=10_000),
        numbered(5, "66411357 HS", datetime(2000, 1, 1)),
    ]
    subject = build_subject("S", rows)
    facts = subject.facts
    assert facts.most_recent_conviction_date == datetime(2005, 1, 1)
    assert facts.superstrike_code_sections == ("187 PC", "286(D)(1) PC")
    assert facts.pc290_code_sections == ("266J PC", "286(D)(1) PC")
    assert facts.prop64_counts == {"11357": 2, "11358": 0, "11359": 0, "11360": 1}
    assert facts.prop64_total == 3 and not subject.only_prop64
    assert facts.number_of_felonies == 5
    assert facts.earliest_superstrike_date == datetime(2004, 1, 1)
    assert facts.earliest_pc290_date == datetime(2003, 1, 1)
    assert not subject.all_sentences_completed(datetime(2020, 1, 1))
    assert subject.all_sentences_completed(datetime(2030, 1, 1))
    assert sum(1 for conviction in subject.convictions if conviction.county == "SACRAMENTO") == 6
    assert subject.number_of_convictions_in_last_7_years(datetime(2010, 1, 1)) == 2


def test_facts_are_recomputed_after_a_push() -> None:
    subject = build_subject("S", [numbered(0, "11357 HS", datetime(2001, 1, 1))])
    assert subject.only_prop64
    index, row = numbered(1, "187 PC", datetime(2002, 1, 1))
    subject.push(row, index)
    assert not subject.only_prop64
    assert subject.facts.most_recent_conviction_date == datetime(2002, 1, 1)


def test_subject_without_convictions() -> None:
    subject = build_subject("S", [numbered(0, "11357 HS", convicted=False, step="ARREST/DETAINED/CITED")])
    assert subject.facts.most_recent_conviction_date == ZERO_TIME
    assert subject.only_prop64  # gogen compares counts: 0 == 0


def test_older_than_uses_go_add_date() -> None:
    leap = build_subject("S", [numbered(0, dob=datetime(2000, 2, 29))])
    assert not leap.older_than(21, datetime(2021, 2, 28))
    assert leap.older_than(21, datetime(2021, 3, 1))  # Feb 29 + 21 years is Mar 1 in Go (quirk 6)
    assert leap.older_than(20, datetime(2020, 2, 29))
    unborn = build_subject("S", [numbered(0, dob=ZERO_TIME)])
    assert unborn.older_than(65, datetime(1900, 1, 1))  # a zero DOB is always old enough (quirk 4)


def test_los_angeles_gang_combinations_per_case() -> None:
    rows = [
        numbered(0, "136.1 PC", datetime(2001, 1, 1), count_order="101001001000"),
        numbered(1, "186.22(B)(4) PC", datetime(2001, 1, 1), count_order="101001002000"),
        numbered(2, "246 PC", datetime(2003, 1, 1), count_order="102001001000"),
        numbered(3, "187 PC", datetime(2004, 1, 1), count_order="103001001000"),
        numbered(4, "187 PC", datetime(2005, 1, 1), count_order="104001001000"),
    ]
    facts = build_subject("S", rows).facts
    assert facts.superstrike_code_sections == ("187 PC", "187 PC")
    assert facts.la_superstrike_code_sections == ("187 PC", "136.1 PC + 186.22(B)(4) PC")
    assert facts.earliest_superstrike_date == datetime(2004, 1, 1)
    only_combination = build_subject("S", rows[:2]).facts
    assert only_combination.la_superstrike_code_sections == ("136.1 PC + 186.22(B)(4) PC",)
    assert only_combination.earliest_superstrike_date == ZERO_TIME  # quirk 10


def test_pilot_code_section_rule() -> None:
    assert pilot_code_section("SEE COMMENT FOR CHARGE", "11357 HS-X") == "11357 HS"
    assert pilot_code_section("", "11357 HS-X") == ""
    assert pilot_code_section(" SEE COMMENT FOR CHARGE", "11357 HS-X") == " SEE COMMENT FOR CHARGE"
    blank = build_subject("S", [numbered(0, "11357 HS", offense="", comment="11357 HS-X")])
    assert blank.differs_under_pilot_rule()
    pilot = blank.rebuilt(pilot_code_sections=True)
    assert pilot.convictions[0].code_section == "" and pilot.pilot_code_sections
    plain = build_subject("S", [numbered(0, "11357 HS")])
    assert not plain.differs_under_pilot_rule()


def test_last_7_years_uses_compute_at() -> None:
    subject = build_subject("S", [numbered(0, date=datetime(2013, 7, 2))])
    conviction = subject.convictions[0]
    assert conviction.occurred_in_last_7_years(datetime(2020, 7, 1))
    assert not conviction.occurred_in_last_7_years(datetime(2020, 7, 2))  # strictly after compute-at - 7y


def test_a_subject_that_keeps_no_rows_cannot_be_rebuilt() -> None:
    subject = Subject("1")
    subject.push(fields(fill="", subject="1", offense="SEE COMMENT FOR CHARGE"), 0)
    with pytest.raises(ValueError, match="cannot be rebuilt"):
        subject.rebuilt(pilot_code_sections=True)
    with pytest.raises(ValueError, match="cannot be rebuilt"):
        subject.differs_under_pilot_rule()


def test_a_subject_rebuilt_from_its_kept_rows_is_the_subject_pushed() -> None:
    """Kept rows hold only the rule columns of a row: pushed again, they build the same subject."""
    by_subject: dict[str, list[tuple[int, list[str]]]] = {}
    for index, row in enumerate(generate(300, 7, None)):
        by_subject.setdefault(row[C.SUBJECT_ID], []).append((index, row))
    for subject_id, rows in by_subject.items():
        for pilot in (False, True):
            subject = build_subject(subject_id, rows, pilot_code_sections=pilot)
            again = subject.rebuilt(pilot_code_sections=pilot)
            assert [repr(c) for c in again.convictions] == [repr(c) for c in subject.convictions]
            assert (again.id, again.dob, again.is_deceased, again.pc290_registration, again.case_numbers) == (
                subject.id, subject.dob, subject.is_deceased, subject.pc290_registration, subject.case_numbers)
            assert again.facts == subject.facts


# -- messy rows: gogen's answers (issue #11; spec §10 quirks 16, 20) ------------------------------------------


def test_a_person_without_subject_id_starts_over_on_every_row() -> None:
    """Quirk 16: gogen's PushRow re-initialises while the id is "": two rows of one count are two convictions,
    the case numbers are the last row's, each row's DOB replaces the last."""
    rows = [
        numbered(0, "11357 HS", subject="", ofn="C1", count_order="001001001000", dob=datetime(1970, 1, 1)),
        numbered(1, "11357 HS", subject="", ofn="C2", count_order="001001001000", dob=datetime(1980, 1, 1),
                 sentence_days=30),
    ]
    subject = build_subject("", rows)
    assert [c.index for c in subject.convictions] == [0, 1]
    assert [subject.case_number(c) for c in subject.convictions] == ["C2", "C2"]
    assert subject.dob == datetime(1980, 1, 1)
    assert subject.convictions[0].sentence_end_date == datetime(2010, 1, 1)  # no sentence row was added to it
    named = build_subject("S", [(i, [*row[: C.SUBJECT_ID], "S", *row[C.SUBJECT_ID + 1 :]]) for i, row in rows])
    assert len(named.convictions) == 1 and named.case_number(named.convictions[0]) == "C1; C2"


def test_a_blank_id_cycle_flag_reaches_only_convictions_already_pushed() -> None:
    """Quirk 16: the cycle map starts over too, so a later conviction of the cycle does not see an earlier
    Prop 64 row; a later Prop 64 row still marks the earlier convictions (they are not reset)."""
    rows = [
        numbered(0, "11357 HS", subject="", count_order="001001001000"),
        numbered(1, "148 PC", subject="", count_order="001001002000"),
        numbered(2, "4060 BP", subject="", count_order="002001001000"),
        numbered(3, "11358 HS", subject="", count_order="002001002000"),
    ]
    flags = [c.has_prop64_charge_in_cycle for c in build_subject("", rows).convictions]
    assert flags == [True, False, True, True]


def test_count_order_keys_are_byte_slices() -> None:
    """Quirk 20: gogen slices CNT_ORDER's bytes: with a two-byte "é" first, [0:6] is "é" and four digits, so these
    two counts share a case (and [0:3] a cycle), which a character slice would not give."""
    rows = [
        numbered(0, "11357 HS", count_order="é00001001000", ofn="C1"),
        numbered(1, "459 PC", count_order="é00002001000", ofn="C2"),
    ]
    subject = build_subject("S", rows)
    assert [subject.case_number(c) for c in subject.convictions] == ["C1; C2", "C1; C2"]
    assert [c.has_prop64_charge_in_cycle for c in subject.convictions] == [True, True]
