"""The synthetic DOJ generator: deterministic bytes, realistic shapes, every code-section shape of spec §5."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

from streams.cli import main
from streams.doj import columns as C
from streams.doj.generate import DEFAULT_COUNTIES, generate, write_doj
from streams.doj.reader import iter_rows
from streams.doj.record import derive
from streams.gocompat.dates import ZERO_TIME, add_years
from streams.gocompat.gocsv import encode_record, is_go_form
from streams.rules.info import possible_other_p64_charges
from streams.rules.matchers import is_pc290, is_related, is_superstrike, prop64_section

PEOPLE = 3000


@pytest.fixture(scope="module")
def rows() -> list[list[str]]:
    return list(generate(PEOPLE, seed=7))


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    first, again, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    write_doj(str(first), 200, seed=1)
    write_doj(str(again), 200, seed=1)
    write_doj(str(other), 200, seed=2)
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_rows_are_95_fields_with_unique_record_ids(rows: list[list[str]]) -> None:
    assert all(len(row) == C.NUM_COLUMNS for row in rows)
    assert [row[0] for row in rows] == [str(i) for i in range(1, len(rows) + 1)]


def test_histories_have_1_to_40_rows_per_person(rows: list[list[str]]) -> None:
    per_person = Counter(row[C.SUBJECT_ID] for row in rows)
    assert len(per_person) == PEOPLE
    assert min(per_person.values()) >= 1 and max(per_person.values()) <= 40
    assert max(per_person.values()) > 20  # long histories occur too
    people_rows = [row[C.SUBJECT_ID] for row in rows]
    assert people_rows == sorted(people_rows, key=list(per_person).index)  # a person's rows are consecutive


def test_count_orders_and_sentence_rows(rows: list[list[str]]) -> None:
    assert all(len(row[C.CNT_ORDER]) == 12 and row[C.CNT_ORDER].endswith("000") for row in rows)
    assert all(row[C.CNT_ORDER].isdigit() for row in rows)
    shared = [
        (a, b)
        for a, b in pairwise(rows)
        if a[C.SUBJECT_ID] == b[C.SUBJECT_ID]
        and a[C.CNT_ORDER] == b[C.CNT_ORDER]
        and a[C.DISP_DESCR].startswith("CONVICTED")
        and b[C.DISP_DESCR].startswith("CONVICTED")
    ]
    assert len(shared) > 50  # extra sentence rows of the same count
    assert any(a[C.SENT_TIME_CODE] != b[C.SENT_TIME_CODE] for a, b in shared)


def test_every_code_section_shape_appears(rows: list[list[str]]) -> None:
    offenses = [row[C.OFFENSE_DESCR] for row in rows]
    codes = [derive(row, i).code_section for i, row in enumerate(rows)]
    assert any(prop64_section(code) == section for code in codes for section in ("11357",)) and all(
        any(prop64_section(code) == section for code in codes) for section in ("11358", "11359", "11360")
    )
    for attempt in ("664-11357", "664.11358", "664/11359", "66411360"):
        assert any(offense.startswith(attempt) for offense in offenses), attempt
    assert any(
        o == "SEE COMMENT FOR CHARGE" and prop64_section(row[C.COMMENT_TEXT])
        for o, row in zip(offenses, rows, strict=True)
    )
    assert any(o == "" and row[C.COMMENT_TEXT] for o, row in zip(offenses, rows, strict=True))
    assert any(possible_other_p64_charges(row[C.OFFENSE_DESCR], row[C.COMMENT_TEXT]) for row in rows)
    assert any(is_superstrike(code) for code in codes)
    assert any(is_pc290(code) for code in codes)
    assert any(is_related(code) for code in codes)
    assert any(code.endswith(" ") for code in codes)  # "4149 BP - ..." keeps its space


def test_felonies_known_only_from_the_type_of_charge(rows: list[list[str]]) -> None:
    assert any(
        row[C.DISP_DESCR].startswith("CONVICTED") and row[C.CONV_STAT_DESCR] == "" and row[C.OFFENSE_TOC] == "F"
        for row in rows
    )
    assert {row[C.CONV_STAT_DESCR] for row in rows} >= {"FELONY", "MISDEMEANOR", ""}


def test_event_types_counties_and_dates(rows: list[list[str]]) -> None:
    types = Counter(row[C.STP_TYPE_DESCR] for row in rows)
    assert set(types) == {"ARREST/DETAINED/CITED", "COURT ACTION", "REGISTRATION", "DECEASED"}
    assert {row[C.STP_ORI_CNTY_NAME] for row in rows} == set(DEFAULT_COUNTIES)
    records = [derive(row, i) for i, row in enumerate(rows)]
    dates = [r.disposition_date for r in records]
    assert ZERO_TIME not in dates
    assert min(dates).year < 1980 and max(dates).year >= 2020
    assert any(date > datetime(2016, 11, 9) for date in dates)
    registrations = [r for r in records if r.is_pc290_registration]
    assert registrations


def test_ages_at_conviction_and_at_compute_at(rows: list[list[str]]) -> None:
    compute_at = datetime(2020, 7, 1)
    convictions = [derive(row, i) for i, row in enumerate(rows) if row[C.DISP_DESCR].startswith("CONVICTED")]
    assert any(add_years(r.dob, 50) <= compute_at for r in convictions)
    assert any(add_years(r.dob, 21) > r.disposition_date for r in convictions)


def test_counties_can_be_chosen(tmp_path: Path) -> None:
    chosen = list(generate(50, seed=3, counties=["YOLO", "NAPA"]))
    assert {row[C.STP_ORI_CNTY_NAME] for row in chosen} == {"YOLO", "NAPA"}


def test_cli_writes_a_readable_file_in_go_form(tmp_path: Path) -> None:
    out = tmp_path / "gen.csv"
    assert main(["generate-doj", "--people", "300", "--seed", "5", "--output", str(out), "--counties", "YOLO"]) == 0
    text = out.read_text()
    lines = text.split("\n")
    assert lines[0] == encode_record(C.COLUMNS)
    assert all(is_go_form(line) for line in lines[1:-1] if '"' not in line or "\n" not in line)
    assert list(iter_rows(str(out))) == list(generate(300, seed=5, counties=["YOLO"]))
    bare = tmp_path / "bare.csv"
    assert main(["generate-doj", "--people", "3", "--output", str(bare), "--no-header"]) == 0
    assert not bare.read_text().startswith("RECORD_ID")
    assert main(["generate-doj", "--people", "-1", "--output", str(bare)]) == 2


# -- messy rows (--messy-rate) ---------------------------------------------------------------------------------


def test_messy_rows_are_off_by_default_and_leave_the_other_rows_alone(rows: list[list[str]]) -> None:
    assert list(generate(PEOPLE, seed=7, messy_rate=0.0)) == rows
    messy = list(generate(PEOPLE, seed=7, messy_rate=0.01))
    assert len(messy) == len(rows)
    changed = [i for i, (a, b) in enumerate(zip(rows, messy, strict=True)) if a != b]
    assert 0.005 * len(rows) < len(changed) < 0.02 * len(rows)
    # one field of each changed row (two for a sentence given a unit)
    assert all(sum(x != y for x, y in zip(rows[i], messy[i], strict=True)) <= 2 for i in changed)


def test_every_mess_occurs_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "messy.csv"
    count = write_doj(str(path), 2000, seed=3, messy_rate=0.05)
    back = list(iter_rows(str(path)))
    assert len(back) == count and all(len(row) == C.NUM_COLUMNS for row in back)
    assert any(row[C.STP_EVENT_DATE].startswith("0000") for row in back)
    assert any(row[C.PRI_DOB].startswith("0000") for row in back)
    assert any(len(row[C.STP_EVENT_DATE]) == 8 and row[C.STP_EVENT_DATE].endswith("00") for row in back)
    assert any(row[C.SUBJECT_ID] == "" for row in back)
    assert any(row[C.OFFENSE_DESCR].startswith("\udce9") for row in back)  # the byte 0xE9 in the file
    assert b"\xe9" in path.read_bytes()
    assert any(row[C.SENT_LENGTH] == "99999999999999999999" for row in back)
    assert any(row[C.CNT_ORDER].startswith("é") for row in back)


def test_messy_rate_is_a_share(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        list(generate(1, messy_rate=1.5))
    assert main(["generate-doj", "--people", "5", "--output", str(tmp_path / "x.csv"), "--messy-rate", "2"]) == 2
    assert main(["generate-doj", "--people", "5", "--output", str(tmp_path / "x.csv"), "--messy-rate", "1"]) == 0
