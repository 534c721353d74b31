"""Factories for the rules tests: records built from a few readable facts instead of 95 CSV fields."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from streams.doj.record import Record
from streams.gocompat.dates import NANOS_PER_DAY, ZERO_TIME

RecordFactory = Callable[..., Record]


def make_record(
    index: int = 0,
    code_section: str = "11357 HS",
    disposition_date: datetime = datetime(2010, 1, 1),
    *,
    subject_id: str = "S1",
    dob: datetime = datetime(1980, 1, 1),
    was_convicted: bool = True,
    is_felony: bool = True,
    county: str = "SACRAMENTO",
    type: str = "COURT ACTION",
    ofn: str = "",
    count_order: str | None = None,
    sentence_days: int = 0,
    sentence_part_nanos: int | None = None,
    is_pc290_registration: bool = False,
    offense_descr: str | None = None,
    comment_text: str = "",
) -> Record:
    """A derived record; ``count_order`` defaults to a distinct cycle/count per index."""
    return Record(
        index=index,
        subject_id=subject_id,
        dob=dob,
        was_convicted=was_convicted,
        code_section=code_section,
        disposition_date=disposition_date,
        is_felony=is_felony,
        county=county,
        type=type,
        ofn=ofn,
        count_order=count_order if count_order is not None else f"{index + 1:03d}001{index + 1:03d}000",
        sentence_part_nanos=sentence_days * NANOS_PER_DAY
        if sentence_part_nanos is None
        else sentence_part_nanos,
        is_pc290_registration=is_pc290_registration,
        offense_descr=code_section + "-DESCRIPTION" if offense_descr is None else offense_descr,
        comment_text=comment_text,
    )


@pytest.fixture(scope="session")
def record() -> RecordFactory:
    """``record(index, code_section, disposition_date, **facts)`` → :class:`Record`."""
    return make_record


def parse_date(text: str | None) -> datetime:
    return ZERO_TIME if text is None else datetime.strptime(text, "%Y-%m-%d")


@pytest.fixture(scope="session")
def date() -> Callable[[str | None], datetime]:
    """``date("YYYY-MM-DD")`` → naive midnight; ``None`` → Go's zero time."""
    return parse_date
